//! The standard normal distribution and the log of the expected-improvement kernel
//! `h(z) = φ(z) + zΦ(z)`, accurate far into the lower tail.
//!
//! `ln h(z)` follows BoTorch's `_log_ei_helper` (Ament et al. 2023, "Unexpected improvements to
//! expected improvement"): for `z > −1` it is computed directly; below, with
//! `h(z) = φ(z)·(1 − |z|Φ(z)/φ(z))` and `Φ(z)/φ(z) = √(π/2)·erfcx(−z/√2)`, as
//! `ln φ(z) + log1mexp(ln(|z|·√(π/2)·erfcx(−z/√2)))`. Below `z = −100` the bracket
//! `1 − |z|Φ/φ` comes from its asymptotic series `z⁻²(1 − 3z⁻² + 15z⁻⁴ − …)` instead, which also
//! keeps the derivative `Φ/h` accurate where BoTorch's difference of logarithms loses digits.

use std::f64::consts::{FRAC_1_SQRT_2, PI};

use les_numerics::special::erfcx;
pub use les_numerics::special::{
    log1mexp, normal_cdf as cdf, normal_log_cdf as log_cdf, normal_log_pdf as log_pdf, normal_pdf as pdf,
};

/// Below this `z`, `ln h` switches to its `erfcx` form.
const TAIL_Z: f64 = -1.0;

/// `h(z) = φ(z) + zΦ(z)`, the expected improvement of a unit normal over `−z`.
pub fn ei_kernel(z: f64) -> f64 {
    pdf(z) + z * cdf(z)
}

/// Below this `z`, `1 − |z|Φ(z)/φ(z)` is taken from its asymptotic series: computed directly it
/// loses about `ε·z²` of relative precision to cancellation (2e-12 here), while the four-term
/// series is off by at most `945/z⁸` relative (1e-14 here), and both shrink away from it.
const ASYMPTOTIC_Z: f64 = -100.0;

/// `(ln q, q·z²)` with `q = 1 − |z|Φ(z)/φ(z) = h(z)/φ(z)`, for `z ≤ −1`.
fn tail_ratio(z: f64) -> (f64, f64) {
    if z < ASYMPTOTIC_Z {
        // q = z⁻²·(1 − 3z⁻² + 15z⁻⁴ − 105z⁻⁶ + …)
        let u = 1.0 / (z * z);
        let series = 1.0 + u * (-3.0 + u * (15.0 - 105.0 * u));
        (-2.0 * (-z).ln() + series.ln(), series)
    } else {
        // w = ln(|z|·Φ(z)/φ(z)) < 0.
        let w = (erfcx(-z * FRAC_1_SQRT_2) * (-z) * (0.5 * PI).sqrt()).ln();
        let log_q = log1mexp(w);
        (log_q, log_q.exp() * z * z)
    }
}

/// `ln h(z)` with `h(z) = φ(z) + zΦ(z)`, accurate for every finite `z` (see the module docs).
pub fn log_ei_kernel(z: f64) -> f64 {
    if z > TAIL_Z { ei_kernel(z).ln() } else { log_pdf(z) + tail_ratio(z).0 }
}

/// `d ln h(z) / dz = Φ(z) / h(z)` (since `h'(z) = Φ(z)`), accurate in the tail.
pub fn dlog_ei_kernel(z: f64) -> f64 {
    if z > TAIL_Z {
        return cdf(z) / ei_kernel(z);
    }
    // Φ/h = (Φ/φ)/q = (1 − q)/(|z|·q) = |z|·(1 − q)/(q·z²); q·z² stays O(1) however small q is.
    let (log_q, qz2) = tail_ratio(z);
    -z * (1.0 - log_q.exp()) / qz2
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_numerics::fdcheck::FdCheck;

    /// Golden values computed with mpmath 1.3.0 at 60 significant digits:
    /// ```text
    /// import mpmath as mp; mp.mp.dps = 60
    /// phi = mp.exp(-z*z/2)/mp.sqrt(2*mp.pi); Phi = mp.ncdf(z); h = phi + z*Phi
    /// print(mp.log(h), Phi/h, mp.log(Phi))
    /// ```
    /// Columns: z, ln h(z), Φ(z)/h(z), ln Φ(z).
    #[allow(clippy::excessive_precision, clippy::approx_constant)] // the digits as mpmath printed them
    const GOLDEN: [(f64, f64, f64, f64); 7] = [
        (-1e9, -500000000000000042.37, 1000000000.000000002, -500000000000000021.64),
        (-1e5, -5000000023.9447894634, 100000.00001999999999, -5000000012.4318639983),
        (-40.0, -808.29856835661996024, 40.049906657648518193, -804.60844201375378817),
        (-10.0, -55.553122036122355927, 10.194383033412553306, -53.231285150512470578),
        (-1.0, -2.4851210257126413368, 1.9042712333296918229, -1.8410216450092635058),
        (0.0, -0.91893853320467274178, 1.2533141373155002512, -0.69314718055994530942),
        (3.0, 1.0987396653277077727, 0.33284096845179523558, -0.0013508099647481937988),
    ];

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    #[test]
    fn log_ei_kernel_matches_high_precision_values() {
        for (z, log_h, dlog_h, log_phi) in GOLDEN {
            assert!(close(log_ei_kernel(z), log_h, 1e-13), "ln h({z}) = {} vs {log_h}", log_ei_kernel(z));
            assert!(close(dlog_ei_kernel(z), dlog_h, 1e-11), "ln h'({z}) = {} vs {dlog_h}", dlog_ei_kernel(z));
            assert!(close(log_cdf(z), log_phi, 1e-13), "ln Φ({z}) = {} vs {log_phi}", log_cdf(z));
        }
    }

    #[test]
    fn log_ei_kernel_is_continuous_and_its_derivative_matches_differences() {
        for z in [-1.0 - 1e-12, -1.0 + 1e-12] {
            assert!(close(log_ei_kernel(z), GOLDEN[4].1, 1e-11));
        }
        for z in [-30.0, -5.0, -1.2, -0.8, 0.5, 4.0] {
            let check = FdCheck { step: 1e-6 * (1.0 + f64::abs(z)), rel_tol: 1e-7, abs_tol: 0.0 };
            check.check("ln h", |z| log_ei_kernel(z[0]), &[z], &[dlog_ei_kernel(z)]);
        }
    }
}

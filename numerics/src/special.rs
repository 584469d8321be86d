//! Scalar special functions, from one source: erfc and erfcx of `puruspe` (accurate in both
//! tails), and the standard normal functions built on them.

use std::f64::consts::{FRAC_1_SQRT_2, LN_2};

/// `ln √(2π)`.
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_7;

/// Below this `z`, [`normal_log_cdf`] switches to its `erfcx` form.
const TAIL_Z: f64 = -1.0;

/// Complementary error function `erfc(x) = 1 − erf(x)`, accurate in the upper tail.
pub fn erfc(x: f64) -> f64 {
    puruspe::erfc(x)
}

/// Scaled complementary error function `erfcx(x) = exp(x²)·erfc(x)`, finite far into the upper
/// tail where `erfc` underflows.
pub fn erfcx(x: f64) -> f64 {
    puruspe::erfcx(x)
}

/// Standard normal density `φ(z)`.
pub fn normal_pdf(z: f64) -> f64 {
    (-0.5 * z * z - LN_SQRT_2PI).exp()
}

/// Log density `ln φ(z)`.
pub fn normal_log_pdf(z: f64) -> f64 {
    -0.5 * z * z - LN_SQRT_2PI
}

/// Standard normal distribution function `Φ(z)`, accurate in both tails.
pub fn normal_cdf(z: f64) -> f64 {
    0.5 * erfc(-z * FRAC_1_SQRT_2)
}

/// `ln Φ(z)`, finite for every finite `z`.
pub fn normal_log_cdf(z: f64) -> f64 {
    if z < TAIL_Z {
        // Φ(z) = erfcx(−z/√2)·exp(−z²/2)/2.
        (0.5 * erfcx(-z * FRAC_1_SQRT_2)).ln() - 0.5 * z * z
    } else {
        // Φ(z) = 1 − Φ(−z): ln_1p keeps the digits of a value close to 1.
        (-0.5 * erfc(z * FRAC_1_SQRT_2)).ln_1p()
    }
}

/// `ln(1 − eᵃ)` for `a < 0`, accurate on both sides of `−ln 2` (Mächler 2012).
pub fn log1mexp(a: f64) -> f64 {
    if a > -LN_2 { (-a.exp_m1()).ln() } else { (-a.exp()).ln_1p() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference values from mpmath at 50 digits (`mp.erfc`, `mp.ncdf`, `mp.log(mp.ncdf(z))`).
    #[allow(clippy::excessive_precision)] // the digits as mpmath printed them
    #[test]
    fn match_high_precision_references() {
        let close = |a: f64, b: f64| (a - b).abs() <= 1e-14 * b.abs();
        assert!(close(erfc(0.5), 0.479_500_122_186_953_5));
        assert!(close(erfc(5.0), 1.537_459_794_428_034_8e-12));
        assert!(close(erfcx(30.0), 0.018_795_888_861_416_751));
        assert!(close(normal_cdf(-3.0), 1.349_898_031_630_094_5e-3));
        assert!(close(normal_log_cdf(-40.0), -804.608_442_013_753_8));
        assert!(close(normal_log_cdf(3.0), -1.350_809_964_748_193_8e-3));
        assert!(close(normal_pdf(1.0), 0.241_970_724_519_143_35));
        assert!(close(log1mexp(-1e-3), (1.0 - (-1e-3f64).exp()).ln()));
        assert!(close(log1mexp(-5.0), -6.760_749_449_488_558e-3));
    }
}

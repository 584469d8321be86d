//! `hartmann3` and `hartmann6` on [0, 1]^3 and [0, 1]^6: f(x) = −Σ_{i=1..4} α_i exp(−Σ_j A_ij (x_j − P_ij)²)
//! with the standard constants (Dixon & Szegő 1978; Surjanovic & Bingham's library).
//!
//! The minimizers and minima below were computed to 40 digits with mpmath (`findroot` on the
//! gradient, started from the usually quoted 6-digit minimizers) and rounded to f64; the usually
//! quoted values are −3.86278 at (0.114614, 0.555649, 0.852547) and −3.32237 at (0.20169,
//! 0.150011, 0.476874, 0.275332, 0.311652, 0.6573).

use les_core::Bounds;
use les_core::registry::ObjectiveEntry;

use super::analytic::{TestFunction, build_fixed_dim, fixed_dim_defaults};

/// Weights α of the four Gaussian wells (shared by both).
const ALPHA: [f64; 4] = [1.0, 1.2, 3.0, 3.2];

const A3: [[f64; 3]; 4] = [[3.0, 10.0, 30.0], [0.1, 10.0, 35.0], [3.0, 10.0, 30.0], [0.1, 10.0, 35.0]];
const P3: [[f64; 3]; 4] =
    [[0.3689, 0.1170, 0.2673], [0.4699, 0.4387, 0.7470], [0.1091, 0.8732, 0.5547], [0.0381, 0.5743, 0.8828]];

const A6: [[f64; 6]; 4] = [
    [10.0, 3.0, 17.0, 3.5, 1.7, 8.0],
    [0.05, 10.0, 17.0, 0.1, 8.0, 14.0],
    [3.0, 3.5, 1.7, 10.0, 17.0, 8.0],
    [17.0, 8.0, 0.05, 10.0, 0.1, 14.0],
];
const P6: [[f64; 6]; 4] = [
    [0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886],
    [0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991],
    [0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650],
    [0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381],
];

/// Global minimum of Hartmann-3.
pub const HARTMANN3_MINIMUM: f64 = -3.862_779_787_332_662_4;
/// Global minimizer of Hartmann-3.
pub const HARTMANN3_MINIMIZER: [f64; 3] = [0.114_588_876_655_068_96, 0.555_648_894_616_93, 0.852_546_984_686_677_4];
/// Global minimum of Hartmann-6.
pub const HARTMANN6_MINIMUM: f64 = -3.322_368_011_415_514_7;
/// Global minimizer of Hartmann-6.
pub const HARTMANN6_MINIMIZER: [f64; 6] = [
    0.201_689_511_006_705_43,
    0.150_010_691_823_457_97,
    0.476_873_974_221_897,
    0.275_332_430_494_056_1,
    0.311_651_616_600_113_26,
    0.657_300_534_065_620_3,
];

/// −Σ_i α_i exp(−Σ_j A_ij (x_j − P_ij)²).
fn value<const D: usize>(a: &[[f64; D]; 4], p: &[[f64; D]; 4], x: &[f64]) -> f64 {
    -(0..4).map(|i| ALPHA[i] * (-exponent(&a[i], &p[i], x)).exp()).sum::<f64>()
}

/// ∂f/∂x_k = Σ_i α_i exp(−Σ_j A_ij (x_j − P_ij)²) · 2 A_ik (x_k − P_ik).
fn gradient<const D: usize>(a: &[[f64; D]; 4], p: &[[f64; D]; 4], x: &[f64]) -> Vec<f64> {
    let mut g = vec![0.0; D];
    for i in 0..4 {
        let well = ALPHA[i] * (-exponent(&a[i], &p[i], x)).exp();
        for k in 0..D {
            g[k] += well * 2.0 * a[i][k] * (x[k] - p[i][k]);
        }
    }
    g
}

fn exponent<const D: usize>(a: &[f64; D], p: &[f64; D], x: &[f64]) -> f64 {
    (0..D).map(|j| a[j] * (x[j] - p[j]) * (x[j] - p[j])).sum()
}

/// Hartmann-3 on [0, 1]^3.
#[derive(Clone, Debug, Default)]
pub struct Hartmann3;

impl TestFunction for Hartmann3 {
    const NAME: &'static str = "hartmann3";

    fn new(_dim: usize) -> Self {
        Self
    }

    fn dim(&self) -> usize {
        3
    }

    fn bounds(&self) -> Bounds {
        Bounds::unit(3)
    }

    fn value(&self, x: &[f64]) -> f64 {
        value(&A3, &P3, x)
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        gradient(&A3, &P3, x)
    }

    fn known_minimum(&self) -> f64 {
        HARTMANN3_MINIMUM
    }

    fn known_minimizer(&self) -> Vec<f64> {
        HARTMANN3_MINIMIZER.to_vec()
    }
}

/// Hartmann-6 on [0, 1]^6.
#[derive(Clone, Debug, Default)]
pub struct Hartmann6;

impl TestFunction for Hartmann6 {
    const NAME: &'static str = "hartmann6";

    fn new(_dim: usize) -> Self {
        Self
    }

    fn dim(&self) -> usize {
        6
    }

    fn bounds(&self) -> Bounds {
        Bounds::unit(6)
    }

    fn value(&self, x: &[f64]) -> f64 {
        value(&A6, &P6, x)
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        gradient(&A6, &P6, x)
    }

    fn known_minimum(&self) -> f64 {
        HARTMANN6_MINIMUM
    }

    fn known_minimizer(&self) -> Vec<f64> {
        HARTMANN6_MINIMIZER.to_vec()
    }
}

inventory::submit! {
    ObjectiveEntry {
        name: Hartmann3::NAME,
        summary: "Hartmann-3 on [0,1]^3, minimum −3.86278",
        details: concat!(
            "hartmann3: f(x) = −Σ_{i=1..4} α_i·exp(−Σ_{j=1..3} A_ij (x_j − P_ij)²) with the standard constants \
α = (1, 1.2, 3, 3.2), A = [[3, 10, 30], [0.1, 10, 35], [3, 10, 30], [0.1, 10, 35]], \
P = 1e-4·[[3689, 1170, 2673], [4699, 4387, 7470], [1091, 8732, 5547], [381, 5743, 8828]]. Three-dimensional \
only. Native box [0, 1]^3 (the runner's unit-cube map is the identity). Global minimum −3.8627797873326625 \
at (0.11458887665506897, 0.55564889461693004, 0.85254698468667743). evaluate \
returns the noise-free value; analytic gradient.\n\n",
            include_str!("../../params/fixed_dim.md"),
        ),
        default_params: fixed_dim_defaults::<3>,
        build: build_fixed_dim::<Hartmann3, 3>,
    }
}

inventory::submit! {
    ObjectiveEntry {
        name: Hartmann6::NAME,
        summary: "Hartmann-6 on [0,1]^6, minimum −3.32237",
        details: concat!(
            "hartmann6: f(x) = −Σ_{i=1..4} α_i·exp(−Σ_{j=1..6} A_ij (x_j − P_ij)²) with the standard constants \
α = (1, 1.2, 3, 3.2), A = [[10, 3, 17, 3.5, 1.7, 8], [0.05, 10, 17, 0.1, 8, 14], [3, 3.5, 1.7, 10, 17, 8], \
[17, 8, 0.05, 10, 0.1, 14]], P = 1e-4·[[1312, 1696, 5569, 124, 8283, 5886], [2329, 4135, 8307, 3736, 1004, \
9991], [2348, 1451, 3522, 2883, 3047, 6650], [4047, 8828, 8732, 5743, 1091, 381]]. Six-dimensional only. \
Native box [0, 1]^6 (the runner's unit-cube map is the identity). Global minimum −3.322368011415515 at \
(0.20168951, 0.15001069, 0.47687397, 0.27533243, 0.31165162, 0.65730053). evaluate returns the noise-free value; analytic gradient.\n\n",
            include_str!("../../params/fixed_dim.md"),
        ),
        default_params: fixed_dim_defaults::<6>,
        build: build_fixed_dim::<Hartmann6, 6>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    // The minimizers are stationary to 40 digits, so rounding them to f64 changes f by
    // O(|∇²f|·ε²), far below rounding in f itself: a few ulp of 3.9 (≈ 4.4e-16 each).
    #[test]
    fn hartmann3_minimum() {
        assert_minimum(&Hartmann3, 4e-15);
        let g = Hartmann3.gradient(&HARTMANN3_MINIMIZER);
        assert!(g.iter().all(|gi| gi.abs() < 1e-13), "{g:?}");
    }

    #[test]
    fn hartmann6_minimum() {
        assert_minimum(&Hartmann6, 4e-15);
        let g = Hartmann6.gradient(&HARTMANN6_MINIMIZER);
        assert!(g.iter().all(|gi| gi.abs() < 1e-13), "{g:?}");
    }

    #[test]
    fn quoted_values_agree() {
        assert!((Hartmann3.value(&[0.114_614, 0.555_649, 0.852_547]) - -3.86278).abs() < 1e-5);
        assert!(
            (Hartmann6.value(&[0.20169, 0.150_011, 0.476_874, 0.275_332, 0.311_652, 0.6573]) - -3.32237).abs() < 1e-5
        );
    }
}

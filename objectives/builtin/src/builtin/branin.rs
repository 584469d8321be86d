//! `branin` (2-D) on [−5, 10] × [0, 15]:
//! f(x) = a(x_2 − b x_1² + c x_1 − r)² + s(1 − t)cos(x_1) + s with a = 1, b = 5.1/(4π²), c = 5/π,
//! r = 6, s = 10, t = 1/(8π). Global minimum 5/(4π) = 0.397887… at (−π, 12.275), (π, 2.275) and
//! (9.42478, 2.475).

use std::f64::consts::PI;

use les_core::Bounds;
use les_core::registry::ObjectiveEntry;

use super::analytic::{TestFunction, build_fixed_dim, fixed_dim_defaults};

/// Branin's `a`.
const A: f64 = 1.0;
/// Branin's `b` = 5.1/(4π²).
const B: f64 = 5.1 / (4.0 * PI * PI);
/// Branin's `c` = 5/π.
const C: f64 = 5.0 / PI;
/// Branin's `r`.
const R: f64 = 6.0;
/// Branin's `s`.
const S: f64 = 10.0;
/// Branin's `t` = 1/(8π).
const T: f64 = 1.0 / (8.0 * PI);

/// The global minimum of Branin: s·t = 10/(8π) = 5/(4π), reached where cos x_1 = −1 and the
/// quadratic term vanishes.
pub const BRANIN_MINIMUM: f64 = 5.0 / (4.0 * PI);

/// The Branin(-Hoo) function on [−5, 10] × [0, 15].
#[derive(Clone, Debug, Default)]
pub struct Branin;

impl TestFunction for Branin {
    const NAME: &'static str = "branin";

    fn new(_dim: usize) -> Self {
        Self
    }

    fn dim(&self) -> usize {
        2
    }

    fn bounds(&self) -> Bounds {
        Bounds { lower: vec![-5.0, 0.0], upper: vec![10.0, 15.0] }
    }

    fn value(&self, x: &[f64]) -> f64 {
        let q = x[1] - B * x[0] * x[0] + C * x[0] - R;
        A * q * q + S * (1.0 - T) * x[0].cos() + S
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let q = x[1] - B * x[0] * x[0] + C * x[0] - R;
        vec![2.0 * A * q * (C - 2.0 * B * x[0]) - S * (1.0 - T) * x[0].sin(), 2.0 * A * q]
    }

    fn known_minimum(&self) -> f64 {
        BRANIN_MINIMUM
    }

    /// (π, 2.275): the middle one of the three minimizers. At x_1 = π the quadratic term is
    /// x_2 − 5.1/4 + 5 − 6 = x_2 − 2.275.
    fn known_minimizer(&self) -> Vec<f64> {
        vec![PI, 2.275]
    }
}

inventory::submit! {
    ObjectiveEntry {
        name: Branin::NAME,
        summary: "Branin (2-D) on [−5, 10] × [0, 15], minimum 0.397887",
        details: concat!(
            "branin: f(x) = (x_2 − b·x_1² + c·x_1 − r)² + s·(1 − t)·cos(x_1) + s with b = 5.1/(4π²), c = 5/π, \
r = 6, s = 10, t = 1/(8π). Two-dimensional only. Native box [−5, 10] × [0, 15]; the runner maps the unit \
square to the native box. Global minimum 5/(4π) = 0.397887 at (−π, 12.275), (π, 2.275) and (3π, 2.475); \
known_minimizer reports (π, 2.275). evaluate returns the noise-free value; \
analytic gradient.\n\n",
            include_str!("../../params/fixed_dim.md"),
        ),
        default_params: fixed_dim_defaults::<2>,
        build: build_fixed_dim::<Branin, 2>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    #[test]
    fn all_three_minimizers_reach_the_minimum() {
        // b·π² = 1.275 and c·π = 5 up to rounding (a few ulp of O(10) numbers ≈ 1e-14 in q,
        // which enters squared), and s(1 − t)cos(π) + s = s·t up to ulp(10) ≈ 2e-15.
        assert_minimum(&Branin, 1e-14);
        for x in [[-PI, 12.275], [3.0 * PI, 2.475]] {
            assert!((Branin.value(&x) - BRANIN_MINIMUM).abs() < 1e-14, "{x:?}");
        }
        assert!((BRANIN_MINIMUM - 0.397_887_357_729_738_3).abs() < 1e-16);
    }
}

//! `rastrigin` on [−5.12, 5.12]^d: f(x) = 10d + Σ_i [x_i² − 10 cos(2πx_i)], minimum 0 at x = 0.

use std::f64::consts::PI;

use les_core::Bounds;
use les_core::registry::{ObjectiveEntry, defaults_of};

use super::analytic::{AnyDimParams, TestFunction, build_any_dim};

/// Half-width of Rastrigin's native box.
pub const RASTRIGIN_HALF_WIDTH: f64 = 5.12;

/// The Rastrigin function on [−5.12, 5.12]^d.
#[derive(Clone, Debug)]
pub struct Rastrigin {
    dim: usize,
}

impl TestFunction for Rastrigin {
    const NAME: &'static str = "rastrigin";

    fn new(dim: usize) -> Self {
        Self { dim }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn bounds(&self) -> Bounds {
        Bounds::uniform(self.dim, -RASTRIGIN_HALF_WIDTH, RASTRIGIN_HALF_WIDTH)
    }

    /// Evaluated as Σ_i [x_i² + 10(1 − cos 2πx_i)]: the same value, exactly 0 at the origin.
    fn value(&self, x: &[f64]) -> f64 {
        x.iter().map(|&xi| xi * xi + 10.0 * (1.0 - (2.0 * PI * xi).cos())).sum()
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|&xi| 2.0 * xi + 20.0 * PI * (2.0 * PI * xi).sin()).collect()
    }

    fn known_minimum(&self) -> f64 {
        0.0
    }

    fn known_minimizer(&self) -> Vec<f64> {
        vec![0.0; self.dim]
    }
}

inventory::submit! {
    ObjectiveEntry {
        name: Rastrigin::NAME,
        summary: "Rastrigin on [−5.12, 5.12]^d",
        details: concat!(
            "rastrigin: f(x) = 10·d + Σ_i [x_i² − 10·cos(2π x_i)]. Native box [−5.12, 5.12]^d; the runner maps \
the unit cube to the native box. Global minimum 0 at x = 0 (the centre of the box), surrounded by a regular \
lattice of local minima. evaluate returns the noise-free value; analytic gradient.\n\n",
            include_str!("../../params/any_dim.md"),
        ),
        default_params: defaults_of::<AnyDimParams>,
        build: build_any_dim::<Rastrigin>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    #[test]
    fn minimum_is_exact() {
        for d in [1, 5, 30] {
            assert_minimum(&Rastrigin::new(d), 0.0);
        }
        // At x = (1, 0.5): 1 + 0 + 0.25 + 20 = 21.25 (cos 2π = 1, cos π = −1).
        assert!((Rastrigin::new(2).value(&[1.0, 0.5]) - 21.25).abs() < 1e-13);
    }
}

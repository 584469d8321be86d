//! `square`: the shifted sphere on the unit cube (§16.3 of docs/les-algorithm.md).
//!
//! f(x) = Σ_i (x_i − 0.5)², x ∈ [0, 1]^d, minimum 0 at x = 0.5·1.

use les_core::Bounds;
use les_core::registry::{ObjectiveEntry, defaults_of};

use super::analytic::{AnyDimParams, TestFunction, build_any_dim};

/// f(x) = Σ_i (x_i − 0.5)² on [0, 1]^d.
#[derive(Clone, Debug)]
pub struct Square {
    dim: usize,
}

impl TestFunction for Square {
    const NAME: &'static str = "square";

    fn new(dim: usize) -> Self {
        Self { dim }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn bounds(&self) -> Bounds {
        Bounds::uniform(self.dim, 0.0, 1.0)
    }

    fn value(&self, x: &[f64]) -> f64 {
        x.iter().map(|&xi| (xi - 0.5) * (xi - 0.5)).sum()
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|&xi| 2.0 * (xi - 0.5)).collect()
    }

    fn known_minimum(&self) -> f64 {
        0.0
    }

    fn known_minimizer(&self) -> Vec<f64> {
        vec![0.5; self.dim]
    }
}

inventory::submit! {
    ObjectiveEntry {
        name: Square::NAME,
        summary: "Σ (x_i − 0.5)² on [0,1]^d (the paper's 'Square' benchmark)",
        details: concat!(
            "square: f(x) = Σ_i (x_i − 0.5)². Native box [0, 1]^d (the runner maps the unit cube to \
the native box, here the identity). Global minimum 0 at x = (0.5, …, 0.5). Paper §16.3 ('Square', \
d = 5 and 30). evaluate returns the noise-free value; analytic gradient.\n\n",
            include_str!("../../params/any_dim.md"),
        ),
        default_params: defaults_of::<AnyDimParams>,
        build: build_any_dim::<Square>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    #[test]
    fn minimum_is_exact() {
        for d in [1, 5, 30] {
            assert_minimum(&Square::new(d), 0.0);
        }
        assert_eq!(Square::new(2).value(&[0.0, 1.0]), 0.5);
    }
}

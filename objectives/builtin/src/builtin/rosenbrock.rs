//! `rosenbrock` on [−5, 10]^d: f(x) = Σ_{i=1..d−1} [100(x_{i+1} − x_i²)² + (1 − x_i)²],
//! minimum 0 at x = 1. Needs d ≥ 2 (in one dimension the sum is empty).

use les_core::Bounds;
use les_core::registry::{ObjectiveEntry, defaults_of};

use super::analytic::{AnyDimParams, TestFunction, build_any_dim};

/// Lower end of Rosenbrock's native interval.
pub const ROSENBROCK_LOWER: f64 = -5.0;
/// Upper end of Rosenbrock's native interval.
pub const ROSENBROCK_UPPER: f64 = 10.0;

/// The Rosenbrock function on [−5, 10]^d, d ≥ 2.
#[derive(Clone, Debug)]
pub struct Rosenbrock {
    dim: usize,
}

impl TestFunction for Rosenbrock {
    const NAME: &'static str = "rosenbrock";
    const MIN_DIM: usize = 2;

    fn new(dim: usize) -> Self {
        Self { dim }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn bounds(&self) -> Bounds {
        Bounds::uniform(self.dim, ROSENBROCK_LOWER, ROSENBROCK_UPPER)
    }

    fn value(&self, x: &[f64]) -> f64 {
        x.windows(2)
            .map(|w| {
                let a = w[1] - w[0] * w[0];
                let b = 1.0 - w[0];
                100.0 * a * a + b * b
            })
            .sum()
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let mut g = vec![0.0; self.dim];
        for k in 0..self.dim.saturating_sub(1) {
            let a = x[k + 1] - x[k] * x[k];
            g[k] += -400.0 * x[k] * a - 2.0 * (1.0 - x[k]);
            g[k + 1] += 200.0 * a;
        }
        g
    }

    fn known_minimum(&self) -> f64 {
        0.0
    }

    fn known_minimizer(&self) -> Vec<f64> {
        vec![1.0; self.dim]
    }
}

inventory::submit! {
    ObjectiveEntry {
        name: Rosenbrock::NAME,
        summary: "Rosenbrock's valley on [−5, 10]^d (d ≥ 2)",
        details: concat!(
            "rosenbrock: f(x) = Σ_{i=1..d−1} [100·(x_{i+1} − x_i²)² + (1 − x_i)²]. Native box [−5, 10]^d; \
the runner maps the unit cube to the native box. Global minimum 0 at x = (1, …, 1), at the end of a long, \
flat, curved valley. evaluate returns the noise-free value; analytic gradient.\n\n",
            include_str!("../../params/any_dim.md"),
        ),
        default_params: defaults_of::<AnyDimParams>,
        build: build_any_dim::<Rosenbrock>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    #[test]
    fn minimum_is_exact() {
        for d in [2, 5, 30] {
            assert_minimum(&Rosenbrock::new(d), 0.0);
        }
        // (0, 0): only (1 − 0)² contributes.
        assert_eq!(Rosenbrock::new(2).value(&[0.0, 0.0]), 1.0);
    }
}

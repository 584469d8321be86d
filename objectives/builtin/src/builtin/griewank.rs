//! `griewank` on [−600, 600]^d: f(x) = 1 + Σ_i x_i²/4000 − Π_i cos(x_i/√i), minimum 0 at x = 0.

use les_core::Bounds;
use les_core::registry::{ObjectiveEntry, defaults_of};

use super::analytic::{AnyDimParams, TestFunction, build_any_dim};

/// Half-width of Griewank's native box.
pub const GRIEWANK_HALF_WIDTH: f64 = 600.0;

/// The Griewank function on [−600, 600]^d.
#[derive(Clone, Debug)]
pub struct Griewank {
    dim: usize,
}

impl TestFunction for Griewank {
    const NAME: &'static str = "griewank";

    fn new(dim: usize) -> Self {
        Self { dim }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn bounds(&self) -> Bounds {
        Bounds::uniform(self.dim, -GRIEWANK_HALF_WIDTH, GRIEWANK_HALF_WIDTH)
    }

    fn value(&self, x: &[f64]) -> f64 {
        let sum: f64 = x.iter().map(|&xi| xi * xi).sum::<f64>() / 4000.0;
        let prod: f64 = x.iter().enumerate().map(|(k, &xi)| (xi / ((k + 1) as f64).sqrt()).cos()).product();
        1.0 + sum - prod
    }

    /// ∂f/∂x_i = x_i/2000 + sin(x_i/√i)/√i · Π_{j≠i} cos(x_j/√j). The products without factor i
    /// come from prefix and suffix products, so a cosine that is exactly 0 needs no division.
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let d = self.dim;
        let roots: Vec<f64> = (1..=d).map(|i| (i as f64).sqrt()).collect();
        let cosines: Vec<f64> = x.iter().zip(&roots).map(|(&xi, &r)| (xi / r).cos()).collect();
        let mut suffix = vec![1.0; d + 1];
        for k in (0..d).rev() {
            suffix[k] = suffix[k + 1] * cosines[k];
        }
        let mut prefix = 1.0;
        (0..d)
            .map(|k| {
                let others = prefix * suffix[k + 1];
                prefix *= cosines[k];
                x[k] / 2000.0 + (x[k] / roots[k]).sin() / roots[k] * others
            })
            .collect()
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
        name: Griewank::NAME,
        summary: "Griewank on [−600, 600]^d",
        details: concat!(
            "griewank: f(x) = 1 + Σ_i x_i²/4000 − Π_i cos(x_i/√i). Native box [−600, 600]^d; the runner maps \
the unit cube to the native box. Global minimum 0 at x = 0 (the centre of the box); a wide bowl covered with \
small ripples. evaluate returns the noise-free value; analytic gradient.\n\n",
            include_str!("../../params/any_dim.md"),
        ),
        default_params: defaults_of::<AnyDimParams>,
        build: build_any_dim::<Griewank>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    #[test]
    fn minimum_is_exact() {
        for d in [1, 5, 30] {
            assert_minimum(&Griewank::new(d), 0.0);
        }
        // x = (π, 0): 1 + π²/4000 − cos(π)·cos(0) = 2 + π²/4000.
        let pi = std::f64::consts::PI;
        assert!((Griewank::new(2).value(&[pi, 0.0]) - (2.0 + pi * pi / 4000.0)).abs() < 1e-15);
    }
}

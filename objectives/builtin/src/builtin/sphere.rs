//! `sphere`: f(x) = Σ_i x_i² on [−5.12, 5.12]^d, minimum 0 at the origin.

use les_core::Bounds;
use les_core::registry::{ObjectiveEntry, defaults_of};

use super::analytic::{AnyDimParams, TestFunction, build_any_dim};

/// Half-width of the sphere's native box.
pub const SPHERE_HALF_WIDTH: f64 = 5.12;

/// f(x) = Σ_i x_i² on [−5.12, 5.12]^d.
#[derive(Clone, Debug)]
pub struct Sphere {
    dim: usize,
}

impl TestFunction for Sphere {
    const NAME: &'static str = "sphere";

    fn new(dim: usize) -> Self {
        Self { dim }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn bounds(&self) -> Bounds {
        Bounds::uniform(self.dim, -SPHERE_HALF_WIDTH, SPHERE_HALF_WIDTH)
    }

    fn value(&self, x: &[f64]) -> f64 {
        x.iter().map(|&xi| xi * xi).sum()
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|&xi| 2.0 * xi).collect()
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
        name: Sphere::NAME,
        summary: "Σ x_i² on [−5.12, 5.12]^d",
        details: concat!(
            "sphere: f(x) = Σ_i x_i². Native box [−5.12, 5.12]^d; the runner maps the unit cube to the \
native box. Global minimum 0 at x = 0 (the centre of the box). evaluate returns \
the noise-free value; analytic gradient 2x.\n\n",
            include_str!("../../params/any_dim.md"),
        ),
        default_params: defaults_of::<AnyDimParams>,
        build: build_any_dim::<Sphere>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    #[test]
    fn minimum_is_exact() {
        for d in [1, 5, 30] {
            assert_minimum(&Sphere::new(d), 0.0);
        }
        assert_eq!(Sphere::new(3).value(&[1.0, -2.0, 0.5]), 5.25);
    }
}

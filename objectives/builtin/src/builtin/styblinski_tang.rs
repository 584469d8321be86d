//! `styblinski_tang` on [−5, 5]^d: f(x) = ½ Σ_i (x_i⁴ − 16x_i² + 5x_i), minimum −39.16616570…·d at
//! x_i = −2.9035340277711770…, the smallest root of 4x³ − 32x + 5.
//!
//! The minimum is often quoted as −39.16599·d (Surjanovic & Bingham); that is a rounding of the
//! value at x_i = −2.903534. The exact per-coordinate minimum, computed to 40 digits with mpmath
//! from the root of the cubic, is −39.166165703771415464.

use les_core::Bounds;
use les_core::registry::{ObjectiveEntry, defaults_of};

use super::analytic::{AnyDimParams, TestFunction, build_any_dim};

/// Half-width of Styblinski-Tang's native box.
pub const STYBLINSKI_TANG_HALF_WIDTH: f64 = 5.0;
/// The minimizing coordinate: the smallest root of 4x³ − 32x + 5 = 0.
pub const STYBLINSKI_TANG_ARGMIN: f64 = -2.903_534_027_771_177;
/// The minimum per coordinate, ½(x⁴ − 16x² + 5x) at the root.
pub const STYBLINSKI_TANG_MIN_PER_DIM: f64 = -39.166_165_703_771_41;

/// The Styblinski-Tang function on [−5, 5]^d.
#[derive(Clone, Debug)]
pub struct StyblinskiTang {
    dim: usize,
}

impl TestFunction for StyblinskiTang {
    const NAME: &'static str = "styblinski_tang";

    fn new(dim: usize) -> Self {
        Self { dim }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn bounds(&self) -> Bounds {
        Bounds::uniform(self.dim, -STYBLINSKI_TANG_HALF_WIDTH, STYBLINSKI_TANG_HALF_WIDTH)
    }

    fn value(&self, x: &[f64]) -> f64 {
        0.5 * x
            .iter()
            .map(|&xi| {
                let x2 = xi * xi;
                x2 * x2 - 16.0 * x2 + 5.0 * xi
            })
            .sum::<f64>()
    }

    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        x.iter().map(|&xi| 2.0 * xi * xi * xi - 16.0 * xi + 2.5).collect()
    }

    fn known_minimum(&self) -> f64 {
        STYBLINSKI_TANG_MIN_PER_DIM * self.dim as f64
    }

    fn known_minimizer(&self) -> Vec<f64> {
        vec![STYBLINSKI_TANG_ARGMIN; self.dim]
    }
}

inventory::submit! {
    ObjectiveEntry {
        name: StyblinskiTang::NAME,
        summary: "Styblinski-Tang on [−5, 5]^d, minimum −39.166166·d",
        details: concat!(
            "styblinski_tang: f(x) = ½ Σ_i (x_i⁴ − 16·x_i² + 5·x_i). Native box [−5, 5]^d; the runner maps the \
unit cube to the native box. Global minimum −39.16616570377142·d (often rounded to −39.16599·d) at \
x_i = −2.903534027771177 for every i. evaluate returns the noise-free value; analytic \
gradient.\n\n",
            include_str!("../../params/any_dim.md"),
        ),
        default_params: defaults_of::<AnyDimParams>,
        build: build_any_dim::<StyblinskiTang>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    #[test]
    fn minimum_matches_the_formula() {
        for d in [1, 5, 30] {
            // Each coordinate's term is O(40) and rounds to within a few ulp (≈ 7e-15 each).
            assert_minimum(&StyblinskiTang::new(d), d as f64 * 3e-14);
        }
    }

    #[test]
    fn argmin_is_a_stationary_point() {
        // 4x³ − 32x + 5 vanishes at the root up to rounding: |terms| ≤ 100, ulp(100) ≈ 1.4e-14.
        let x = STYBLINSKI_TANG_ARGMIN;
        assert!((4.0 * x * x * x - 32.0 * x + 5.0).abs() < 1e-13);
        // It is the global minimizer: the value at the other stationary points is larger.
        let f = StyblinskiTang::new(1);
        for other in [0.156_731, 2.746_803] {
            assert!(f.value(&[other]) > f.value(&[x]) + 1.0);
        }
    }
}

//! `ackley` (a = 20, b = 0.2, c = 2π) on [−32.768, 32.768]^d, §16.3 of docs/les-algorithm.md.
//!
//! f(x) = −a·exp(−b·√(mean_i x_i²)) − exp(mean_i cos(c·x_i)) + a + e, minimum 0 at x = 0.
//! Evaluated as a·(1 − exp(−b·r)) + (e − exp(m)), which is algebraically the same and exactly 0
//! at the origin (the textbook order leaves a rounding residue of a few 1e-16).

use std::f64::consts::{E, PI};

use les_core::Bounds;
use les_core::registry::{ObjectiveEntry, defaults_of};

use super::analytic::{AnyDimParams, TestFunction, build_any_dim};

/// Ackley's `a`.
pub const ACKLEY_A: f64 = 20.0;
/// Ackley's `b`.
pub const ACKLEY_B: f64 = 0.2;
/// Ackley's `c`.
pub const ACKLEY_C: f64 = 2.0 * PI;
/// Half-width of Ackley's native box.
pub const ACKLEY_HALF_WIDTH: f64 = 32.768;

/// The Ackley function on [−32.768, 32.768]^d.
#[derive(Clone, Debug)]
pub struct Ackley {
    dim: usize,
}

impl Ackley {
    /// r = √(mean x_i²) and m = mean cos(c·x_i).
    fn parts(&self, x: &[f64]) -> (f64, f64) {
        let d = self.dim as f64;
        let r = (x.iter().map(|&xi| xi * xi).sum::<f64>() / d).sqrt();
        let m = x.iter().map(|&xi| (ACKLEY_C * xi).cos()).sum::<f64>() / d;
        (r, m)
    }
}

impl TestFunction for Ackley {
    const NAME: &'static str = "ackley";

    fn new(dim: usize) -> Self {
        Self { dim }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn bounds(&self) -> Bounds {
        Bounds::uniform(self.dim, -ACKLEY_HALF_WIDTH, ACKLEY_HALF_WIDTH)
    }

    fn value(&self, x: &[f64]) -> f64 {
        let (r, m) = self.parts(x);
        ACKLEY_A * (1.0 - (-ACKLEY_B * r).exp()) + (E - m.exp())
    }

    /// ∂f/∂x_i = a·b·e^{−b r}·x_i/(d·r) + e^m·c·sin(c x_i)/d; the first term is taken as 0 at
    /// r = 0, where f has a kink (a valid subgradient).
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let d = self.dim as f64;
        let (r, m) = self.parts(x);
        let radial = if r > 0.0 { ACKLEY_A * ACKLEY_B * (-ACKLEY_B * r).exp() / (d * r) } else { 0.0 };
        let periodic = m.exp() * ACKLEY_C / d;
        x.iter().map(|&xi| radial * xi + periodic * (ACKLEY_C * xi).sin()).collect()
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
        name: Ackley::NAME,
        summary: "Ackley (a = 20, b = 0.2, c = 2π) on [−32.768, 32.768]^d",
        details: concat!(
            "ackley: f(x) = −a·exp(−b·√(mean_i x_i²)) − exp(mean_i cos(c·x_i)) + a + e with a = 20, \
b = 0.2, c = 2π. Native box [−32.768, 32.768]^d; the runner maps the unit cube to the native box, which \
reproduces the paper's u = −32.768 + 65.536·x (§16.3, d = 5 and 30). Global minimum 0 at x = 0 (the centre \
of the box). Many regularly spaced local minima. evaluate returns the noise-free value; \
analytic gradient (a subgradient at the kink x = 0).\n\n",
            include_str!("../../params/any_dim.md"),
        ),
        default_params: defaults_of::<AnyDimParams>,
        build: build_any_dim::<Ackley>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    #[test]
    fn zero_at_origin() {
        for d in [1, 5, 30] {
            assert_minimum(&Ackley::new(d), 0.0);
            assert_eq!(Ackley::new(d).gradient(&vec![0.0; d]), vec![0.0; d]);
        }
    }

    #[test]
    fn value_at_a_lattice_point() {
        // At x = (1, 0): r = 1/√2 and every cosine is 1, so f = a(1 − e^{−b/√2}).
        let expected = ACKLEY_A * (1.0 - (-ACKLEY_B / 2f64.sqrt()).exp());
        assert!((Ackley::new(2).value(&[1.0, 0.0]) - expected).abs() < 1e-14);
    }
}

//! `dixon_price` on [−10, 10]^d, §16.3 of docs/les-algorithm.md.
//!
//! f(x) = (x_1 − 1)² + Σ_{i=2..d} i·(2x_i² − x_{i−1})², minimum 0 at x_i = 2^{−(2^i−2)/2^i}.

use les_core::Bounds;
use les_core::registry::{ObjectiveEntry, defaults_of};

use super::analytic::{AnyDimParams, TestFunction, build_any_dim};

/// Half-width of Dixon-Price's native box.
pub const DIXON_PRICE_HALF_WIDTH: f64 = 10.0;

/// The Dixon-Price function on [−10, 10]^d.
#[derive(Clone, Debug)]
pub struct DixonPrice {
    dim: usize,
}

impl TestFunction for DixonPrice {
    const NAME: &'static str = "dixon_price";

    fn new(dim: usize) -> Self {
        Self { dim }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn bounds(&self) -> Bounds {
        Bounds::uniform(self.dim, -DIXON_PRICE_HALF_WIDTH, DIXON_PRICE_HALF_WIDTH)
    }

    fn value(&self, x: &[f64]) -> f64 {
        let head = (x[0] - 1.0) * (x[0] - 1.0);
        let tail: f64 = x
            .windows(2)
            .enumerate()
            .map(|(k, w)| {
                let t = 2.0 * w[1] * w[1] - w[0];
                (k + 2) as f64 * t * t
            })
            .sum();
        head + tail
    }

    /// ∂f/∂x_j = 𝟙(j = 1)·2(x_1 − 1) + 𝟙(j ≥ 2)·8j·x_j·t_j − 𝟙(j < d)·2(j+1)·t_{j+1}, with
    /// t_i = 2x_i² − x_{i−1} (indices from 1).
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let mut g = vec![0.0; self.dim];
        g[0] = 2.0 * (x[0] - 1.0);
        for k in 1..self.dim {
            let i = (k + 1) as f64;
            let t = 2.0 * x[k] * x[k] - x[k - 1];
            g[k] += 8.0 * i * x[k] * t;
            g[k - 1] -= 2.0 * i * t;
        }
        g
    }

    fn known_minimum(&self) -> f64 {
        0.0
    }

    /// x_i = 2^{−(2^i − 2)/2^i} = 2^{−(1 − 2^{1−i})}, written so that 2^i never overflows.
    fn known_minimizer(&self) -> Vec<f64> {
        (1..=self.dim).map(|i| 2f64.powf(-(1.0 - 2f64.powf(1.0 - i as f64)))).collect()
    }
}

inventory::submit! {
    ObjectiveEntry {
        name: DixonPrice::NAME,
        summary: "Dixon-Price on [−10, 10]^d",
        details: concat!(
            "dixon_price: f(x) = (x_1 − 1)² + Σ_{i=2..d} i·(2x_i² − x_{i−1})². Native box [−10, 10]^d; \
the runner maps the unit cube to the native box, which reproduces the paper's u = −10 + 20·x (§16.3, d = 5 \
and 30). Global minimum 0 at x_i = 2^{−(2^i−2)/2^i} (x_1 = 1, x_2 = 2^{−1/2}, …, tending to 1/2), a curved \
valley. evaluate returns the noise-free value; analytic gradient.\n\n",
            include_str!("../../params/any_dim.md"),
        ),
        default_params: defaults_of::<AnyDimParams>,
        build: build_any_dim::<DixonPrice>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    #[test]
    fn zero_at_minimizer() {
        for d in [1, 2, 5, 30, 1000] {
            let f = DixonPrice::new(d);
            // Each term i·(2x_i² − x_{i−1})² is a difference of two O(1) numbers that agree up to
            // a few ulp (ε = 2.2e-16), so the sum is at most Σ i·(4ε)² ≈ d²·4e-31.
            assert_minimum(&f, (d * d) as f64 * 4e-31);
        }
        let x = DixonPrice::new(3).known_minimizer();
        assert_eq!(x[0], 1.0);
        assert!((x[1] - 0.5f64.sqrt()).abs() < 1e-16);
        assert!((x[2] - 2f64.powf(-0.75)).abs() < 1e-16);
    }
}

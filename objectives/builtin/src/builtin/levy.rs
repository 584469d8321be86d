//! `levy` on [−10, 10]^d. With w_i = 1 + (x_i − 1)/4:
//! f(x) = sin²(πw_1) + Σ_{i=1..d−1} (w_i − 1)²[1 + 10 sin²(πw_i + 1)] + (w_d − 1)²[1 + sin²(2πw_d)],
//! minimum 0 at x = 1.

use std::f64::consts::PI;

use les_core::Bounds;
use les_core::registry::{ObjectiveEntry, defaults_of};

use super::analytic::{AnyDimParams, TestFunction, build_any_dim};

/// Half-width of Levy's native box.
pub const LEVY_HALF_WIDTH: f64 = 10.0;

/// The Levy function on [−10, 10]^d.
#[derive(Clone, Debug)]
pub struct Levy {
    dim: usize,
}

/// w = 1 + (x − 1)/4.
fn w_of(x: f64) -> f64 {
    1.0 + (x - 1.0) / 4.0
}

impl TestFunction for Levy {
    const NAME: &'static str = "levy";

    fn new(dim: usize) -> Self {
        Self { dim }
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn bounds(&self) -> Bounds {
        Bounds::uniform(self.dim, -LEVY_HALF_WIDTH, LEVY_HALF_WIDTH)
    }

    fn value(&self, x: &[f64]) -> f64 {
        let d = self.dim;
        let w1 = w_of(x[0]);
        let wd = w_of(x[d - 1]);
        let head = (PI * w1).sin().powi(2);
        let middle: f64 = x[..d - 1]
            .iter()
            .map(|&xi| {
                let w = w_of(xi);
                (w - 1.0).powi(2) * (1.0 + 10.0 * (PI * w + 1.0).sin().powi(2))
            })
            .sum();
        let tail = (wd - 1.0).powi(2) * (1.0 + (2.0 * PI * wd).sin().powi(2));
        head + middle + tail
    }

    /// Chain rule with dw/dx = 1/4; d/dw sin²(αw + β) = α·sin(2(αw + β)).
    fn gradient(&self, x: &[f64]) -> Vec<f64> {
        let d = self.dim;
        let mut g = vec![0.0; d];
        let w1 = w_of(x[0]);
        g[0] += PI * (2.0 * PI * w1).sin();
        for (k, &xk) in x[..d - 1].iter().enumerate() {
            let w = w_of(xk);
            let s = (PI * w + 1.0).sin();
            g[k] +=
                2.0 * (w - 1.0) * (1.0 + 10.0 * s * s) + (w - 1.0).powi(2) * 10.0 * PI * (2.0 * (PI * w + 1.0)).sin();
        }
        let wd = w_of(x[d - 1]);
        let s = (2.0 * PI * wd).sin();
        g[d - 1] += 2.0 * (wd - 1.0) * (1.0 + s * s) + (wd - 1.0).powi(2) * 2.0 * PI * (4.0 * PI * wd).sin();
        g.iter_mut().for_each(|gi| *gi /= 4.0);
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
        name: Levy::NAME,
        summary: "Levy on [−10, 10]^d",
        details: concat!(
            "levy: with w_i = 1 + (x_i − 1)/4, f(x) = sin²(π w_1) + Σ_{i=1..d−1} (w_i − 1)²·[1 + 10·sin²(π w_i + 1)] \
+ (w_d − 1)²·[1 + sin²(2π w_d)]. Native box [−10, 10]^d; the runner maps the unit cube to the native box. \
Global minimum 0 at x = (1, …, 1). evaluate returns the noise-free value; analytic \
gradient.\n\n",
            include_str!("../../params/any_dim.md"),
        ),
        default_params: defaults_of::<AnyDimParams>,
        build: build_any_dim::<Levy>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::builtin::analytic::testing::assert_minimum;

    #[test]
    fn minimum_is_zero() {
        for d in [1, 5, 30] {
            // At w = 1 every term is 0 except sin²(π·1), and the f64 value of sin(π) is
            // 1.22e-16 (π is rounded), so f(x*) = 1.5e-32.
            assert_minimum(&Levy::new(d), 2e-32);
        }
    }
}

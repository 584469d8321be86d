//! Example objective for `les`, written in Rust: the shifted sphere
//! `f(x) = Σᵢ (xᵢ − shift)²` on `[−bound, bound]^dim`, minimum 0 at `x = (shift, …, shift)`.
//!
//! Build it with `cargo build --release -p les-example-rust-sphere`; the library is
//! `target/release/libles_example_rust_sphere.so` (`.dylib` on macOS), and a run uses it as
//!
//! ```yaml
//! objective:
//!   library: target/release/libles_example_rust_sphere.so
//!   params: { dim: 3, shift: 0.5 }
//! ```

use serde::Deserialize;

/// The `params` block of the objective.
#[derive(Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SphereParams {
    /// Input dimension.
    pub dim: usize,
    /// Location of the minimum in every coordinate.
    pub shift: f64,
    /// Half-width of the box `[−bound, bound]^dim`.
    pub bound: f64,
    /// Panic inside `eval` (to show that panics are caught at the library boundary).
    pub panic: bool,
}

impl Default for SphereParams {
    fn default() -> Self {
        Self { dim: 2, shift: 0.0, bound: 5.12, panic: false }
    }
}

/// `f(x) = Σᵢ (xᵢ − shift)²`.
pub fn sphere(p: &SphereParams, x: &[f64]) -> f64 {
    if p.panic {
        panic!("sphere was asked to panic (params.panic = true)");
    }
    x.iter().map(|xi| (xi - p.shift).powi(2)).sum()
}

/// `∂f/∂xᵢ = 2 (xᵢ − shift)`.
pub fn sphere_gradient(p: &SphereParams, x: &[f64], g: &mut [f64]) {
    for (gi, xi) in g.iter_mut().zip(x) {
        *gi = 2.0 * (xi - p.shift);
    }
}

les_objective_abi::export_objective! {
    params: SphereParams,
    dim: |p: &SphereParams| p.dim,
    lower: |p: &SphereParams| -p.bound,
    upper: |p: &SphereParams| p.bound,
    eval: sphere,
    gradient: sphere_gradient,
}

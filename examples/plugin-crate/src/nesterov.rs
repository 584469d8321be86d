//! `nesterov`: projected gradient descent with Nesterov momentum on every sample path.
//!
//! With `g = ∇f^l(clip(z + μ v))` (the gradient at the look-ahead point), for `t = 1 … T`:
//!
//! ```text
//! v ← μ v − η g
//! z ← clip_[0,1](z + v)
//! ```
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `learning_rate` | 0.01 | step size η |
//! | `momentum` | 0.9 | momentum μ in `[0, 1)` |
//! | `steps` | 200 | number of updates `T` |
//!
//! Reference: Nesterov, *A method for solving the convex programming problem with convergence
//! rate O(1/k²)*, 1983; Sutskever et al., ICML 2013 (the momentum form used here).

use les_core::registry::{BuildContext, Built, InnerOptimizerEntry, PluginError, TestParams, defaults_of};
use les_core::{
    DescentSequences, InnerOptimizer, OptimizerError, ParamError, Params, PathBatch, PluginKind, PluginParams,
    StreamRng,
};
use serde::{Deserialize, Serialize};

/// Parameters of [`Nesterov`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct NesterovParams {
    /// Step size η.
    pub learning_rate: f64,
    /// Momentum μ.
    pub momentum: f64,
    /// Number of updates `T`.
    pub steps: usize,
}

impl Default for NesterovParams {
    fn default() -> Self {
        Self { learning_rate: 0.01, momentum: 0.9, steps: 200 }
    }
}

impl PluginParams for NesterovParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(self.learning_rate.is_finite() && self.learning_rate > 0.0) {
            return Err(ParamError::invalid("learning_rate", self.learning_rate, "a finite number > 0"));
        }
        if !(0.0..1.0).contains(&self.momentum) {
            return Err(ParamError::invalid("momentum", self.momentum, "a number in [0, 1)"));
        }
        if self.steps == 0 {
            return Err(ParamError::invalid("steps", self.steps, "at least 1"));
        }
        Ok(())
    }
}

/// Projected Nesterov momentum (see the module docs).
pub struct Nesterov {
    params: NesterovParams,
}

impl InnerOptimizer for Nesterov {
    fn descend(
        &self,
        paths: &dyn PathBatch,
        x0: &[f64],
        _rng: &mut StreamRng,
    ) -> Result<DescentSequences, OptimizerError> {
        let (n_paths, d) = (paths.n_paths(), paths.dim());
        if x0.len() != d {
            return Err(OptimizerError::new(format!(
                "nesterov: the start point has {} coordinates, the paths d = {d}",
                x0.len()
            )));
        }
        let NesterovParams { learning_rate, momentum, steps } = self.params;
        let mut z: Vec<f64> = x0.iter().copied().cycle().take(n_paths * d).collect();
        let mut v = vec![0.0; n_paths * d];
        let (mut values, mut grads) = (vec![0.0; n_paths], vec![0.0; n_paths * d]);
        let mut positions = Vec::with_capacity((steps + 1) * n_paths * d);
        positions.extend_from_slice(&z);
        for _ in 0..steps {
            let ahead: Vec<f64> = z.iter().zip(&v).map(|(zi, vi)| (zi + momentum * vi).clamp(0.0, 1.0)).collect();
            paths.value_and_grad(&ahead, &mut values, &mut grads);
            for ((zi, vi), gi) in z.iter_mut().zip(v.iter_mut()).zip(&grads) {
                // A non-finite gradient entry leaves the coordinate where it is.
                if gi.is_finite() {
                    *vi = momentum * *vi - learning_rate * gi;
                }
                *zi = (*zi + *vi).clamp(0.0, 1.0);
            }
            positions.extend_from_slice(&z);
        }
        // Gradients only: the values are read when needed (`DescentSequences::values_at`).
        Ok(DescentSequences { n_paths, dim: d, n_records: steps + 1, positions, values: Vec::new() })
    }
}

fn build(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn InnerOptimizer>, PluginError> {
    let p: NesterovParams = params.parse()?;
    Ok(Built::new(Box::new(Nesterov { params: p.clone() }), &p))
}

inventory::submit! {
    InnerOptimizerEntry {
        name: "nesterov",
        summary: "projected gradient descent with Nesterov momentum on every sample path (example plugin crate)",
        details: "v <- momentum v - learning_rate grad f(clip(z + momentum v)); z <- clip(z + v).\n\n\
Parameters:\n  learning_rate  0.01  step size\n  momentum       0.9   momentum in [0, 1)\n  \
steps          200   number of updates T",
        default_params: defaults_of::<NesterovParams>,
        build,
    }
}

inventory::submit! {
    TestParams { kind: PluginKind::InnerOptimizer, name: "nesterov", params: || serde_json::json!({ "steps": 20 }) }
}

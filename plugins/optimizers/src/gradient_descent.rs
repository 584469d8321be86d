//! Projected gradient descent on a batch of sample paths.
//!
//! Each path is minimized independently from the same start point `z_0`:
//! `z_t = clip_[0,1](z_{t−1} − η ∇f^l(z_{t−1}))` for `t = 1 … T` (the `lesGD_250_8` ablation
//! of Stenger et al., *Local Entropy Search over Descent Sequences for Bayesian Optimization*,
//! ICLR 2026; spec §8.2). The step depends on the scale of the gradient, unlike Adam's.
//!
#![doc = include_str!("../params/gradient_descent.md")]
//!
//! ```yaml
//! inner_optimizer: { name: gradient_descent, params: { learning_rate: 1.0e-4, steps: 500 } }
//! ```

use les_core::registry::{BuildContext, Built, InnerOptimizerEntry, PluginError};
use les_core::{
    DescentSequences, InnerOptimizer, OptimizerError, ParamError, Params, PathBatch, PluginParams, StreamRng,
};
use serde::{Deserialize, Serialize};

use crate::history::run_first_order;
use crate::{DEFAULT_STEPS, check_start, validate_common};

/// Default step size of gradient descent (the reference's `lesGD_250_8`).
pub const DEFAULT_GD_LEARNING_RATE: f64 = 1e-4;

/// Parameters of [`GradientDescent`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GradientDescentParams {
    /// Step size η.
    pub learning_rate: f64,
    /// Number of updates `T`.
    pub steps: usize,
    /// Early stop: end once no path moved farther than this in one step (off when absent).
    pub stop_tol: Option<f64>,
}

impl Default for GradientDescentParams {
    fn default() -> Self {
        Self { learning_rate: DEFAULT_GD_LEARNING_RATE, steps: DEFAULT_STEPS, stop_tol: None }
    }
}

impl PluginParams for GradientDescentParams {
    fn validate(&self) -> Result<(), ParamError> {
        validate_common(self.learning_rate, self.steps, self.stop_tol)
    }
}

/// Projected gradient descent (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct GradientDescent {
    params: GradientDescentParams,
}

impl GradientDescent {
    /// A gradient-descent optimizer with validated parameters.
    pub fn new(params: GradientDescentParams) -> Result<Self, ParamError> {
        params.validate()?;
        Ok(Self { params })
    }
}

impl InnerOptimizer for GradientDescent {
    fn descend(
        &self,
        paths: &dyn PathBatch,
        x0: &[f64],
        _rng: &mut StreamRng,
    ) -> Result<DescentSequences, OptimizerError> {
        check_start("gradient_descent", paths, x0)?;
        let lr = self.params.learning_rate;
        Ok(run_first_order(paths, x0, self.params.steps, self.params.stop_tol, 0, |_, z, g, _| {
            for (zi, &gi) in z.iter_mut().zip(g) {
                // A non-finite gradient entry leaves the coordinate where it is instead of
                // poisoning the whole history with NaN.
                if gi.is_finite() {
                    *zi -= lr * gi;
                }
            }
        }))
    }
}

fn build(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn InnerOptimizer>, PluginError> {
    let p: GradientDescentParams = params.parse()?;
    Ok(Built::new(Box::new(GradientDescent { params: p.clone() }), &p))
}

inventory::submit! {
    InnerOptimizerEntry {
        name: "gradient_descent",
        summary: "projected gradient descent on every sample path (LES ablation lesGD)",
        details: concat!(
            "Projected gradient descent run on all L sample paths at once from the same start point: \
z_t = clip_[0,1](z_{t-1} - learning_rate * grad f(z_{t-1})). The step scales with the gradient (on the \
surrogate's output scale), unlike Adam's.\n\n",
            include_str!("../params/gradient_descent.md"),
            "\nReference: Stenger, Lindicke, von Rohr, Trimpe, Local Entropy Search over Descent Sequences for \
Bayesian Optimization, ICLR 2026 (ablation lesGD_250_8)."
        ),
        default_params: les_core::registry::defaults_of::<GradientDescentParams>,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::QuadraticPaths;

    #[test]
    fn one_step_matches_hand_computation_and_clips() {
        // Path 0: centre 0.2, start 0.5 → gradient 0.3·a with a = 2 → z_1 = 0.5 − 0.1·0.6 = 0.44.
        // Path 1: centre 5 far above → gradient −4.5·a, a = 2 → z_1 = 0.5 + 0.9 = 1.4 → clipped to 1.
        let paths =
            QuadraticPaths { dim: 1, curvature: vec![2.0, 2.0], centre: vec![0.2, 5.0], offset: vec![0.0, 1.0] };
        let gd = GradientDescent::new(GradientDescentParams { learning_rate: 0.1, steps: 1, stop_tol: None })
            .expect("valid");
        let seq = gd.descend(&paths, &[0.5], &mut les_core::stream_rng(0, "test", 0)).expect("descends");
        assert_eq!(seq.n_records, 2);
        assert_eq!(seq.position(0, 0), &[0.5]);
        assert!((seq.position(1, 0)[0] - 0.44).abs() < 1e-15);
        assert_eq!(seq.position(1, 1), &[1.0]);
        // Values, read afterwards, belong to the recorded positions.
        assert!(!seq.has_values());
        let start = seq.values_at(&paths, &[0, 0]);
        let after = seq.values_at(&paths, &[1, 1]);
        assert!((start[0] - 0.5 * 2.0 * 0.09).abs() < 1e-15);
        assert!((after[0] - 0.5 * 2.0 * 0.24 * 0.24).abs() < 1e-15);
        assert!((after[1] - (1.0 + 0.5 * 2.0 * 16.0)).abs() < 1e-12);
    }

    #[test]
    fn reaches_minimum_of_convex_quadratic() {
        let centre = vec![0.3, 0.7, 0.9, 0.1, 0.5, 0.5, 1.4, -0.2];
        let paths = QuadraticPaths::with_centres(2, centre);
        let gd = GradientDescent::new(GradientDescentParams { learning_rate: 0.5, steps: 200, stop_tol: None })
            .expect("valid");
        let seq = gd.descend(&paths, &[0.5, 0.5], &mut les_core::stream_rng(0, "test", 0)).expect("descends");
        for l in 0..4 {
            let end = seq.final_position(l);
            for (a, b) in end.iter().zip(paths.minimizer(l)) {
                assert!((a - b).abs() < 1e-10, "path {l}: {end:?}");
            }
        }
    }

    #[test]
    fn stop_tol_shortens_history() {
        let paths = QuadraticPaths::with_centres(1, vec![0.3]);
        let gd = GradientDescent::new(GradientDescentParams { learning_rate: 0.5, steps: 500, stop_tol: Some(1e-6) })
            .expect("valid");
        let seq = gd.descend(&paths, &[0.9], &mut les_core::stream_rng(0, "test", 0)).expect("descends");
        assert!(seq.n_records < 501 && seq.n_records > 2, "{}", seq.n_records);
        assert_eq!(seq.positions.len(), seq.n_records);
        assert!(seq.values.is_empty());
        let last = seq.n_records - 1;
        assert!((seq.position(last, 0)[0] - seq.position(last - 1, 0)[0]).abs() < 1e-6);
    }

    #[test]
    fn invalid_parameters_are_rejected() {
        let e = Params::new(serde_json::json!({"learning_rate": -1.0}), "x").parse::<GradientDescentParams>();
        assert_eq!(e.unwrap_err().path, "x.learning_rate");
        let e = Params::new(serde_json::json!({"steps": 0}), "x").parse::<GradientDescentParams>();
        assert_eq!(e.unwrap_err().path, "x.steps");
    }
}

//! Projected Adam on a batch of sample paths (the inner optimizer of LES's main method).
//!
//! Each path is minimized independently from the same start point; the moment estimates are
//! per coordinate, so one Adam over the `L×d` positions equals `L` independent instances. With
//! `g = ∇f^l(z_{t−1})`, for `t = 1 … T` (Keras formulation, ε added after the bias-corrected
//! step size; spec §8.1):
//!
//! ```text
//! m ← β1 m + (1 − β1) g
//! v ← β2 v + (1 − β2) g²
//! a_t = η √(1 − β2^t) / (1 − β1^t)
//! z_t = clip_[0,1]( z_{t−1} − a_t m / (√v + ε) )
//! ```
//!
//! The clipping does not touch the moments. Reference: Stenger et al., *Local Entropy Search
//! over Descent Sequences for Bayesian Optimization*, ICLR 2026 (`les_250_8`; `β1 = 0.5` is the
//! `les_beta05_250_8` ablation); Kingma & Ba, *Adam*, ICLR 2015.
//!
#![doc = include_str!("../params/adam.md")]
//!
//! ```yaml
//! inner_optimizer: { name: adam, params: { learning_rate: 0.002, steps: 500, beta1: 0.9 } }
//! ```

use les_core::registry::{BuildContext, Built, InnerOptimizerEntry, PluginError};
use les_core::{
    DescentSequences, InnerOptimizer, OptimizerError, ParamError, Params, PathBatch, PluginParams, StreamRng,
};
use serde::{Deserialize, Serialize};

use crate::history::run_first_order;
use crate::{DEFAULT_STEPS, check_start, validate_common};

/// Default Adam step size (twice the Keras default, as in the reference).
pub const DEFAULT_ADAM_LEARNING_RATE: f64 = 0.002;
/// Default first-moment decay β1.
pub const DEFAULT_BETA1: f64 = 0.9;
/// Default second-moment decay β2.
pub const DEFAULT_BETA2: f64 = 0.999;
/// Default ε added to √v (the Keras default).
pub const DEFAULT_EPSILON: f64 = 1e-7;

/// Parameters of [`Adam`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdamParams {
    /// Step size η.
    pub learning_rate: f64,
    /// Number of updates `T`.
    pub steps: usize,
    /// First-moment decay β1 in `[0, 1)`.
    pub beta1: f64,
    /// Second-moment decay β2 in `[0, 1)`.
    pub beta2: f64,
    /// ε added to √v, ≥ 0.
    pub epsilon: f64,
    /// Early stop: end once no path moved farther than this in one step (off when absent).
    pub stop_tol: Option<f64>,
}

impl Default for AdamParams {
    fn default() -> Self {
        Self {
            learning_rate: DEFAULT_ADAM_LEARNING_RATE,
            steps: DEFAULT_STEPS,
            beta1: DEFAULT_BETA1,
            beta2: DEFAULT_BETA2,
            epsilon: DEFAULT_EPSILON,
            stop_tol: None,
        }
    }
}

impl PluginParams for AdamParams {
    fn validate(&self) -> Result<(), ParamError> {
        validate_common(self.learning_rate, self.steps, self.stop_tol)?;
        for (key, beta) in [("beta1", self.beta1), ("beta2", self.beta2)] {
            if !(0.0..1.0).contains(&beta) {
                return Err(ParamError::invalid(key, beta, "a decay rate in [0, 1)"));
            }
        }
        if !(self.epsilon.is_finite() && self.epsilon >= 0.0) {
            return Err(ParamError::invalid("epsilon", self.epsilon, "a finite number ≥ 0"));
        }
        if self.epsilon == 0.0 && self.beta2 == 0.0 {
            return Err(ParamError::invalid(
                "epsilon",
                self.epsilon,
                "> 0 when beta2 = 0 (else 0/0 at a zero gradient)",
            ));
        }
        Ok(())
    }
}

/// Projected Adam (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Adam {
    params: AdamParams,
}

impl Adam {
    /// An Adam optimizer with validated parameters.
    pub fn new(params: AdamParams) -> Result<Self, ParamError> {
        params.validate()?;
        Ok(Self { params })
    }
}

impl InnerOptimizer for Adam {
    fn descend(
        &self,
        paths: &dyn PathBatch,
        x0: &[f64],
        _rng: &mut StreamRng,
    ) -> Result<DescentSequences, OptimizerError> {
        check_start("adam", paths, x0)?;
        let AdamParams { learning_rate, steps, beta1, beta2, epsilon, stop_tol } = self.params;
        // State per coordinate: first moment m, then second moment v.
        Ok(run_first_order(paths, x0, steps, stop_tol, 2, |t, z, g, state| {
            let (m, v) = state.split_at_mut(z.len());
            let t = i32::try_from(t).unwrap_or(i32::MAX);
            let step = learning_rate * (1.0 - beta2.powi(t)).sqrt() / (1.0 - beta1.powi(t));
            for ((zi, &gi), (mi, vi)) in z.iter_mut().zip(g).zip(m.iter_mut().zip(v.iter_mut())) {
                // A non-finite gradient entry leaves the coordinate and its moments untouched
                // instead of poisoning the whole history with NaN.
                if !gi.is_finite() {
                    continue;
                }
                *mi = beta1 * *mi + (1.0 - beta1) * gi;
                *vi = beta2 * *vi + (1.0 - beta2) * gi * gi;
                *zi -= step * *mi / (vi.sqrt() + epsilon);
            }
        }))
    }
}

fn build(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn InnerOptimizer>, PluginError> {
    let p: AdamParams = params.parse()?;
    Ok(Built::new(Box::new(Adam { params: p.clone() }), &p))
}

inventory::submit! {
    InnerOptimizerEntry {
        name: "adam",
        summary: "projected Adam on every sample path (LES default inner optimizer)",
        details: concat!(
            "Projected Adam (Keras formulation) run on all L sample paths at once from the same start point; \
positions are clipped to [0,1]^d after every update, the moments are not. Per step: m = b1 m + (1-b1) g; \
v = b2 v + (1-b2) g^2; a_t = lr sqrt(1-b2^t)/(1-b1^t); z = clip(z - a_t m/(sqrt(v)+eps)).\n\n",
            include_str!("../params/adam.md"),
            "\nReference: Stenger, Lindicke, von Rohr, Trimpe, Local Entropy Search over Descent Sequences for \
Bayesian Optimization, ICLR 2026 (les_250_8); Kingma & Ba, Adam, ICLR 2015."
        ),
        default_params: les_core::registry::defaults_of::<AdamParams>,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::QuadraticPaths;

    #[test]
    fn one_step_matches_hand_computation_with_bias_correction_and_clipping() {
        // d = 2, one path, centre (0.2, 3.0), curvature (2, 1), start (0.5, 0.9999):
        // g = (2·0.3, 1·(0.9999 − 3)) = (0.6, −2.0001).
        let paths = QuadraticPaths { dim: 2, curvature: vec![2.0, 1.0], centre: vec![0.2, 3.0], offset: vec![0.0] };
        let p = AdamParams { learning_rate: 0.01, steps: 1, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, stop_tol: None };
        let seq = Adam::new(p)
            .expect("valid")
            .descend(&paths, &[0.5, 0.9999], &mut les_core::stream_rng(0, "test", 0))
            .expect("descends");
        // t = 1: m = 0.1 g, v = 0.001 g², a_1 = 0.01 √0.001 / 0.1.
        let a1 = 0.01 * 0.001_f64.sqrt() / 0.1;
        let g0 = 0.6_f64;
        let expected0 = 0.5 - a1 * (0.1 * g0) / ((0.001 * g0 * g0).sqrt() + 1e-7);
        assert!((seq.position(1, 0)[0] - expected0).abs() < 1e-15, "{} vs {expected0}", seq.position(1, 0)[0]);
        // The bias correction makes the first step ≈ η·sign(g): 0.5 − 0.01.
        assert!((expected0 - 0.49).abs() < 1e-6);
        // Second coordinate moves up by ≈ 0.01 and is clipped at the bound 1.
        assert_eq!(seq.position(1, 0)[1], 1.0);
    }

    #[test]
    fn moments_ignore_clipping() {
        // Start just below the bound with the centre just inside: step 1 overshoots and is
        // clipped to 1; at step 2 the gradient points down, but the momentum kept from the
        // unclipped history still points up, so z stays at 1 (it would move down if clipping
        // reset the moments). Compare with a scalar transcription of the formulas.
        let (c, z0, lr) = (0.9999, 0.999, 0.01);
        let paths = QuadraticPaths::with_centres(1, vec![c]);
        let p = AdamParams { steps: 6, learning_rate: lr, ..AdamParams::default() };
        let seq = Adam::new(p.clone())
            .expect("valid")
            .descend(&paths, &[z0], &mut les_core::stream_rng(0, "test", 0))
            .expect("descends");
        let (mut z, mut m, mut v) = (z0, 0.0, 0.0);
        for t in 1..=6 {
            let g = z - c;
            m = p.beta1 * m + (1.0 - p.beta1) * g;
            v = p.beta2 * v + (1.0 - p.beta2) * g * g;
            let a = lr * (1.0 - p.beta2.powi(t)).sqrt() / (1.0 - p.beta1.powi(t));
            z = (z - a * m / (v.sqrt() + p.epsilon)).clamp(0.0, 1.0);
            assert_eq!(seq.position(t as usize, 0)[0], z, "step {t}");
            assert_eq!(seq.values_at(&paths, &[t as usize])[0], 0.5 * (z - c) * (z - c));
        }
        assert_eq!(seq.position(1, 0)[0], 1.0);
        assert_eq!(seq.position(2, 0)[0], 1.0);
    }

    #[test]
    fn reaches_minimum_of_convex_quadratic() {
        let centre = vec![0.3, 0.7, 0.9, 0.1, 0.5, 0.5, 1.4, -0.2, 0.05, 0.95];
        let paths = QuadraticPaths::with_centres(2, centre);
        let p = AdamParams { learning_rate: 0.01, steps: 2000, ..AdamParams::default() };
        let seq = Adam::new(p)
            .expect("valid")
            .descend(&paths, &[0.5, 0.5], &mut les_core::stream_rng(0, "test", 0))
            .expect("descends");
        assert_eq!(seq.n_records, 2001);
        for l in 0..5 {
            let end = seq.final_position(l);
            for (a, b) in end.iter().zip(paths.minimizer(l)) {
                assert!((a - b).abs() < 1e-3, "path {l}: {end:?}");
            }
        }
    }

    #[test]
    fn defaults_are_the_reference_ones() {
        let p = AdamParams::default();
        assert_eq!((p.learning_rate, p.steps, p.beta1, p.beta2, p.epsilon), (0.002, 500, 0.9, 0.999, 1e-7));
        assert_eq!(p.stop_tol, None);
    }

    #[test]
    fn builds_through_registry_with_resolved_defaults() {
        let params = Params::new(serde_json::json!({"beta1": 0.5}), "strategy.params.inner_optimizer.params");
        let built = les_core::registry::build::<dyn InnerOptimizer>("adam", "n", &params, &BuildContext::default())
            .map_err(|e| e.to_string())
            .expect("builds");
        assert_eq!(built.resolved["beta1"], 0.5);
        assert_eq!(built.resolved["learning_rate"], 0.002);
        let bad = Params::new(serde_json::json!({"beta3": 0.5}), "s");
        assert!(les_core::registry::build::<dyn InnerOptimizer>("adam", "n", &bad, &BuildContext::default()).is_err());
    }
}

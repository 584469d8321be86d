//! Parameters of the LES strategy (the `strategy.params` block of a config).

use les_core::registry::PluginSpec;
use les_core::{ParamError, PluginParams};
use serde::{Deserialize, Serialize};

use crate::acquisition::{DEFAULT_MIN_VARIANCE, EntropyOf};
use crate::support::SupportMode;

/// Default number of sample paths `L`.
pub const DEFAULT_PATHS: usize = 250;
/// Default number of support points per path `P`.
pub const DEFAULT_SUPPORT_POINTS: usize = 8;
/// Default local-regret threshold ε (the reference's `eps_conv`).
pub const DEFAULT_REGRET_EPSILON: f64 = 0.02;
/// Default confidence of the stopping rule.
pub const DEFAULT_STOP_PROBABILITY: f64 = 0.95;

/// The optional probabilistic stopping rule (spec §12): stop when the fraction of paths whose
/// local regret `r_l` is below `epsilon` reaches `probability`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StopRule {
    /// Regret threshold ε, in the surrogate's output scale (standardized units by default).
    pub epsilon: f64,
    /// Required fraction of paths with `r_l < ε`, in `(0, 1]`.
    pub probability: f64,
}

impl Default for StopRule {
    fn default() -> Self {
        Self { epsilon: DEFAULT_REGRET_EPSILON, probability: DEFAULT_STOP_PROBABILITY }
    }
}

/// Parameters of [`crate::LocalEntropySearch`]; defaults reproduce the reference `les_250_8`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LesParams {
    /// Number of posterior sample paths `L`.
    pub paths: usize,
    /// Support points per descent sequence `P`.
    pub support_points: usize,
    /// How support points are picked from a sequence.
    pub support_mode: SupportMode,
    /// The inner optimizer run on every path (`adam`, `gradient_descent`, `cmaes`).
    pub inner_optimizer: PluginSpec,
    /// The surrogate; it must draw sample paths.
    pub surrogate: PluginSpec,
    /// Entropy of the latent value (reference) or of the noisy observation (paper, BoTorch).
    pub entropy_of: EntropyOf,
    /// Lower clamp of variances before the logarithm.
    pub min_variance: f64,
    /// Noise variance of the virtual observations; absent = the model's noise variance.
    pub virtual_noise: Option<f64>,
    /// Candidates within this Euclidean distance of an observed point are excluded; absent =
    /// no exclusion (the reference).
    pub exclude_observed_tol: Option<f64>,
    /// Threshold ε of the logged fraction of paths with local regret below ε.
    pub regret_epsilon: f64,
    /// Optional stopping rule; absent = run to the budget (the reference).
    pub stop: Option<StopRule>,
}

impl Default for LesParams {
    fn default() -> Self {
        Self {
            paths: DEFAULT_PATHS,
            support_points: DEFAULT_SUPPORT_POINTS,
            support_mode: SupportMode::Corrected,
            inner_optimizer: PluginSpec::named("adam"),
            surrogate: PluginSpec::named("gp"),
            entropy_of: EntropyOf::Latent,
            min_variance: DEFAULT_MIN_VARIANCE,
            virtual_noise: None,
            exclude_observed_tol: None,
            regret_epsilon: DEFAULT_REGRET_EPSILON,
            stop: None,
        }
    }
}

impl PluginParams for LesParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.paths == 0 {
            return Err(ParamError::invalid("paths", self.paths, "at least 1"));
        }
        if self.support_points == 0 {
            return Err(ParamError::invalid("support_points", self.support_points, "at least 1"));
        }
        if !(self.min_variance.is_finite() && self.min_variance > 0.0) {
            return Err(ParamError::invalid("min_variance", self.min_variance, "a finite number > 0"));
        }
        if let Some(v) = self.virtual_noise
            && !(v.is_finite() && v >= 0.0)
        {
            return Err(ParamError::invalid("virtual_noise", v, "a finite variance ≥ 0, or absent"));
        }
        if let Some(tol) = self.exclude_observed_tol
            && !(tol.is_finite() && tol >= 0.0)
        {
            return Err(ParamError::invalid("exclude_observed_tol", tol, "a finite distance ≥ 0, or absent"));
        }
        if !self.regret_epsilon.is_finite() {
            return Err(ParamError::invalid("regret_epsilon", self.regret_epsilon, "a finite number"));
        }
        if let Some(stop) = &self.stop {
            if !stop.epsilon.is_finite() {
                return Err(ParamError::invalid("stop.epsilon", stop.epsilon, "a finite number"));
            }
            if !(stop.probability > 0.0 && stop.probability <= 1.0) {
                return Err(ParamError::invalid("stop.probability", stop.probability, "a probability in (0, 1]"));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::Params;
    use serde_json::json;

    #[test]
    fn defaults_and_errors() {
        let p: LesParams = Params::new(json!({}), "strategy.params").parse().expect("defaults are valid");
        assert_eq!((p.paths, p.support_points, p.regret_epsilon), (250, 8, 0.02));
        assert_eq!(p.inner_optimizer.name, "adam");
        assert_eq!(p.surrogate.name, "gp");
        let e = Params::new(json!({"paths": 0}), "strategy.params").parse::<LesParams>().unwrap_err();
        assert_eq!(e.path, "strategy.params.paths");
        let e = Params::new(json!({"support_mode": "exact"}), "s").parse::<LesParams>().unwrap_err();
        assert_eq!(e.path, "s.support_mode");
        let e = Params::new(json!({"stop": {"probability": 1.5}}), "s").parse::<LesParams>().unwrap_err();
        assert_eq!(e.path, "s.stop.probability");
        let e = Params::new(json!({"entropy": "latent"}), "s").parse::<LesParams>().unwrap_err();
        assert_eq!(e.path, "s.entropy");
        let p: LesParams = Params::new(
            json!({"support_mode": "reference", "entropy_of": "observation", "stop": {"probability": 0.9}}),
            "s",
        )
        .parse()
        .expect("valid");
        assert_eq!(p.support_mode, SupportMode::Reference);
        assert_eq!(p.stop.expect("set").epsilon, 0.02);
    }
}

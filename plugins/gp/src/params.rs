//! Parameters of the `gp` surrogate as written in a config, with their documented defaults.

use les_core::{KernelKind, ParamError, PluginParams};
use serde::{Deserialize, Serialize};

use crate::paths::PathPrecision;
use crate::rff::DEFAULT_FEATURES;

/// Default observation-noise standard deviation σ_n (model scale), docs/les-algorithm.md §6.2.
pub const DEFAULT_NOISE_STD: f64 = 2e-3;
/// Lower bound of a fitted noise standard deviation (§6.2 noise constraint).
pub const NOISE_STD_MIN: f64 = 1.41e-3;
/// Upper bound of a fitted noise standard deviation (§6.2 noise constraint).
pub const NOISE_STD_MAX: f64 = 0.1;
/// Default number of MAP starting points: 1, the prior-based initial value, as the reference
/// fit does (more starts add prior draws; a failed fit is retried from prior draws anyway).
pub const DEFAULT_RESTARTS: usize = 1;
/// Default maximum number of L-BFGS iterations per start.
pub const DEFAULT_MAX_ITERATIONS: usize = 200;

/// How the kernel hyperparameters are obtained.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum HyperparameterMode {
    /// Maximum a posteriori: log marginal likelihood + log prior, maximized by box-bounded
    /// L-BFGS on log-parameters, multi-start.
    #[default]
    Map,
    /// The objective's true hyperparameters (`BuildContext.oracle`, e.g. from `gp_sample`).
    Oracle,
    /// Fixed values.
    Fixed {
        /// Length scales: `d` values, or one value used for every input.
        lengthscales: Vec<f64>,
        /// Signal variance σ_f².
        #[serde(default = "one")]
        signal_variance: f64,
    },
}

fn one() -> f64 {
    1.0
}

/// A bound of a box prior: a number or the string `sqrt_d` (√d, resolved at build time).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BoxBound {
    /// A plain number.
    Value(f64),
    /// The word `sqrt_d`.
    Named(NamedBound),
}

/// Named box bounds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NamedBound {
    /// √d.
    SqrtD,
}

impl BoxBound {
    /// The bound's value in dimension `d`.
    pub fn resolve(&self, d: usize) -> f64 {
        match self {
            BoxBound::Value(v) => *v,
            BoxBound::Named(NamedBound::SqrtD) => (d as f64).sqrt(),
        }
    }
}

/// Log-normal prior parameters: `log ℓ ~ 𝒩(mu, sigma²)`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogNormalSpec {
    /// Mean of `log ℓ`.
    pub mu: f64,
    /// Standard deviation of `log ℓ`.
    pub sigma: f64,
}

/// The length-scale prior ("complexity"), docs/les-algorithm.md §6.2.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum LengthscalePrior {
    /// logN(−2.5√2 + ln√d, √3/5).
    #[default]
    High,
    /// logN(−2√2 + ln√d, √3/4).
    Medium,
    /// logN(−√2 + ln√d, √3/2).
    Low,
    /// logN(√2 + ln√d, √3) (Hvarfner et al. 2024).
    ExtremelyLow,
    /// The same prior as `extremely_low` (the logEI-DSP name).
    DimensionScaled,
    /// Uniform(0.05, √d): shorthand for `{ box: [0.05, sqrt_d] }` (synthetic benchmarks).
    BoxSqrtD,
    /// Uniform(lo, hi), constraint [lo, hi], init `0.2·√d` clamped into [lo, hi].
    Box([BoxBound; 2]),
    /// logN(mu, sigma) as given (no √d scaling).
    LogNormal(LogNormalSpec),
}

/// Parameters of the `gp` surrogate (see the crate docs for the table).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GpParams {
    /// Kernel family: `se_ard` or `matern52`.
    pub kernel: KernelKind,
    /// `map`, `oracle` or `{ fixed: { lengthscales, signal_variance } }`.
    pub hyperparameters: HyperparameterMode,
    /// Length-scale prior for `map`.
    pub lengthscale_prior: LengthscalePrior,
    /// Observation-noise standard deviation σ_n (model scale); the initial value when
    /// `fit_noise`.
    pub noise_std: f64,
    /// Fit σ_n by MAP within [1.41e-3, 0.1].
    pub fit_noise: bool,
    /// Number of MAP starting points: the prior-based initial value, then prior draws.
    pub restarts: usize,
    /// Maximum L-BFGS iterations per start.
    pub max_iterations: usize,
    /// Also start from the previous fit's hyperparameters.
    pub warm_start: bool,
    /// Standardize outputs (population std).
    pub standardize: bool,
    /// Random Fourier features `B` of sample paths.
    pub features: usize,
    /// Arithmetic of the random-feature part of sample paths: `single` (fused `f32`, about
    /// five times faster in an inner optimizer's descent) or `double`.
    pub path_precision: PathPrecision,
}

impl Default for GpParams {
    fn default() -> Self {
        Self {
            kernel: KernelKind::SeArd,
            hyperparameters: HyperparameterMode::Map,
            lengthscale_prior: LengthscalePrior::High,
            noise_std: DEFAULT_NOISE_STD,
            fit_noise: false,
            restarts: DEFAULT_RESTARTS,
            max_iterations: DEFAULT_MAX_ITERATIONS,
            warm_start: false,
            standardize: true,
            features: DEFAULT_FEATURES,
            path_precision: PathPrecision::Single,
        }
    }
}

impl PluginParams for GpParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(self.noise_std.is_finite() && self.noise_std >= 0.0) {
            return Err(ParamError::invalid("noise_std", self.noise_std, "a finite number ≥ 0"));
        }
        if self.fit_noise && !(NOISE_STD_MIN..=NOISE_STD_MAX).contains(&self.noise_std) {
            return Err(ParamError::invalid(
                "noise_std",
                self.noise_std,
                format!("an initial value within the fitted-noise bounds [{NOISE_STD_MIN}, {NOISE_STD_MAX}]"),
            ));
        }
        if self.restarts == 0 {
            return Err(ParamError::invalid("restarts", 0, "at least 1 starting point"));
        }
        if self.max_iterations == 0 {
            return Err(ParamError::invalid("max_iterations", 0, "at least 1"));
        }
        if self.features == 0 {
            return Err(ParamError::invalid("features", 0, "at least 1 random feature"));
        }
        if let HyperparameterMode::Fixed { lengthscales, signal_variance } = &self.hyperparameters {
            if lengthscales.is_empty() || lengthscales.iter().any(|l| !(l.is_finite() && *l > 0.0)) {
                return Err(ParamError::invalid(
                    "hyperparameters.fixed.lengthscales",
                    format!("{lengthscales:?}"),
                    "a non-empty list of positive length scales",
                ));
            }
            if !(signal_variance.is_finite() && *signal_variance > 0.0) {
                return Err(ParamError::invalid(
                    "hyperparameters.fixed.signal_variance",
                    signal_variance,
                    "a positive number",
                ));
            }
        }
        match &self.lengthscale_prior {
            LengthscalePrior::Box([lo, hi]) => {
                // Checked again after √d is resolved, at build time.
                if let (BoxBound::Value(lo), BoxBound::Value(hi)) = (lo, hi)
                    && !(*lo > 0.0 && lo < hi && hi.is_finite())
                {
                    return Err(ParamError::invalid("lengthscale_prior.box", format!("[{lo}, {hi}]"), "0 < lo < hi"));
                }
            }
            LengthscalePrior::LogNormal(LogNormalSpec { mu, sigma })
                if !(mu.is_finite() && sigma.is_finite() && *sigma > 0.0) =>
            {
                return Err(ParamError::invalid(
                    "lengthscale_prior.log_normal",
                    format!("{{ mu: {mu}, sigma: {sigma} }}"),
                    "a finite mu and a positive sigma",
                ));
            }
            _ => {}
        }
        Ok(())
    }
}

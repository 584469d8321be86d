//! `gp_sample`: one draw from a zero-mean GP prior with a squared-exponential ARD kernel
//! (σ_f² = 1), the paper's within-model and out-of-model benchmark objective.
//!
//! # Algorithm (docs/les-algorithm.md §16.2, §6.2, §7.1)
//!
//! The draw is a random-Fourier-feature approximation with `B` features (default 1024):
//!
//! ```text
//! f(x) = sqrt(2/B) Σ_{b=1..B} w_b cos( Σ_i Ω_bi x_i / ℓ_i + τ_b ),   x ∈ [0, 1]^d
//! ```
//!
//! with w_b, Ω_bi ~ 𝒩(0, 1) and τ_b ~ U[0, 2π), so that Var f(x) = 1 at every x and the
//! covariance tends to exp(−½ Σ_i (x_i − x'_i)²/ℓ_i²) as `B` grows. The length scales are either
//! drawn iid from the complexity prior log ℓ_i ~ 𝒩(μ_c + ln √d, s_c²) or given explicitly:
//!
//! | complexity | μ_c | s_c (std of log ℓ) |
//! |---|---|---|
//! | `high` | −2.5√2 | √3/5 |
//! | `medium` | −2√2 | √3/4 |
//! | `low` | −√2 | √3/2 |
//! | `extremely_low` | √2 | √3 |
//!
//! The reference code builds the draw as a pathwise GP conditioned on one dummy point at
//! x = 10⁶·1, which has no effect on [0, 1]^d and is left out here.
//!
//! Everything is determined by the objective's own `seed` (not the run seed, so that one
//! objective can be optimized by several runs with different seeds). The stream
//! `stream_rng(seed, "gp_sample", 0)` gives two child streams: the first draws the length
//! scales, the second Ω (B×d, row-major), then τ, then w. So the same seed gives the same
//! features whether the length scales are drawn or given.
//!
//! # Configuration
//!
#![doc = include_str!("../../params/gp_sample.md")]
//!
//! # Example
//!
//! ```yaml
//! objective: { builtin: gp_sample, dim: 10, complexity: high, seed: 3 }
//! ```

use std::f64::consts::{PI, SQRT_2};

use les_core::registry::{Built, ObjectiveEntry};
use les_core::rng::child_rng;
use les_core::{
    Bounds, BuildContext, GpHyperparameters, KernelKind, Objective, ObjectiveError, ObjectiveInfo, ParamError, Params,
    PluginError, PluginParams, StreamRng, stream_rng,
};
use rand::RngExt;
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::analytic::{DEFAULT_DIM, check_dim, finite, validate_dim, validate_noise_std};

/// Number of random Fourier features of the paper's GP-sample objectives.
pub const DEFAULT_FEATURES: usize = 1024;
/// Largest number of features accepted (the draw stores B×d numbers).
pub const MAX_FEATURES: usize = 1 << 20;
/// The paper's observation noise on GP-sample objectives (std).
pub const DEFAULT_GP_NOISE_STD: f64 = 0.002;
/// Complexity used when neither `complexity` nor `lengthscales` is given.
pub const DEFAULT_COMPLEXITY: Complexity = Complexity::Medium;

/// √3, the scale of the complexity priors' standard deviations.
const SQRT_3: f64 = 1.732_050_807_568_877_2;

/// The paper's length-scale priors ("complexity" of the GP sample), §6.2.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Complexity {
    /// log ℓ ~ 𝒩(−2.5√2 + ln √d, (√3/5)²): short length scales, many local optima.
    High,
    /// log ℓ ~ 𝒩(−2√2 + ln √d, (√3/4)²).
    Medium,
    /// log ℓ ~ 𝒩(−√2 + ln √d, (√3/2)²).
    Low,
    /// log ℓ ~ 𝒩(√2 + ln √d, 3) (Hvarfner et al. 2024's dimension-scaled prior).
    ExtremelyLow,
}

impl Complexity {
    /// μ_c: mean of log ℓ before the ln √d shift.
    pub fn log_mean(self) -> f64 {
        match self {
            Complexity::High => -2.5 * SQRT_2,
            Complexity::Medium => -2.0 * SQRT_2,
            Complexity::Low => -SQRT_2,
            Complexity::ExtremelyLow => SQRT_2,
        }
    }

    /// s_c: standard deviation of log ℓ.
    pub fn log_std(self) -> f64 {
        match self {
            Complexity::High => SQRT_3 / 5.0,
            Complexity::Medium => SQRT_3 / 4.0,
            Complexity::Low => SQRT_3 / 2.0,
            Complexity::ExtremelyLow => SQRT_3,
        }
    }

    /// Mean of log ℓ in `dim` dimensions: μ_c + ln √d.
    pub fn log_mean_in(self, dim: usize) -> f64 {
        self.log_mean() + 0.5 * (dim as f64).ln()
    }

    /// Draws `dim` length scales iid from the prior.
    pub fn draw_lengthscales(self, dim: usize, rng: &mut StreamRng) -> Vec<f64> {
        let (mean, std) = (self.log_mean_in(dim), self.log_std());
        (0..dim)
            .map(|_| {
                let z: f64 = rng.sample(StandardNormal);
                (mean + std * z).exp()
            })
            .collect()
    }
}

/// Parameters of `gp_sample`; see the module docs for the table.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GpSampleParams {
    /// Input dimension d; absent = the number of `lengthscales`, else 2.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dim: Option<usize>,
    /// Length-scale prior; absent and no `lengthscales` = `medium`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub complexity: Option<Complexity>,
    /// Explicit length scales (d values > 0, unit-cube coordinates).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lengthscales: Option<Vec<f64>>,
    /// Number of random Fourier features B.
    pub features: usize,
    /// Seed of the draw.
    pub seed: u64,
    /// Observation-noise standard deviation.
    pub noise_std: f64,
}

/// Absent keys: `dim` and `complexity` are resolved later (they depend on `lengthscales`).
impl Default for GpSampleParams {
    fn default() -> Self {
        Self {
            dim: None,
            complexity: None,
            lengthscales: None,
            features: DEFAULT_FEATURES,
            seed: 0,
            noise_std: DEFAULT_GP_NOISE_STD,
        }
    }
}

impl GpSampleParams {
    /// Documented defaults, resolved: d = 2, medium complexity, 1024 features, seed 0,
    /// noise 0.002.
    pub fn documented_default() -> Self {
        Self::default().resolved()
    }

    /// The same parameters with `dim` and `complexity` filled in, as written to the resolved
    /// config.
    pub fn resolved(mut self) -> Self {
        self.dim = Some(self.dim());
        if self.lengthscales.is_none() && self.complexity.is_none() {
            self.complexity = Some(DEFAULT_COMPLEXITY);
        }
        self
    }

    /// The input dimension these parameters give.
    pub fn dim(&self) -> usize {
        self.dim.or(self.lengthscales.as_ref().map(Vec::len)).unwrap_or(DEFAULT_DIM)
    }
}

impl PluginParams for GpSampleParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.complexity.is_some() && self.lengthscales.is_some() {
            return Err(ParamError::new(
                "lengthscales",
                "cannot be combined with `complexity`: give either `complexity` (length scales drawn from its \
                 prior) or `lengthscales` (fixed), not both",
            ));
        }
        let dim = self.dim();
        validate_dim(dim, 1)?;
        if let Some(ls) = &self.lengthscales {
            if ls.len() != dim {
                return Err(ParamError::invalid(
                    "lengthscales",
                    format!("a list of {} values", ls.len()),
                    format!("{dim} values, one per input (dim is {dim})"),
                ));
            }
            if let Some((i, &l)) = ls.iter().enumerate().find(|&(_, &l)| !(l.is_finite() && l > 0.0)) {
                return Err(ParamError::invalid(format!("lengthscales[{i}]"), l, "a finite length scale > 0"));
            }
        }
        if self.features == 0 || self.features > MAX_FEATURES {
            return Err(ParamError::invalid(
                "features",
                self.features,
                format!("a whole number from 1 to {MAX_FEATURES} (the paper uses {DEFAULT_FEATURES})"),
            ));
        }
        validate_noise_std(self.noise_std)
    }
}

/// One GP prior draw as an objective on [0, 1]^d.
#[derive(Clone, Debug)]
pub struct GpSample {
    info: ObjectiveInfo,
    hyperparameters: GpHyperparameters,
    /// Ω_bi/ℓ_i, `B×d` row-major.
    frequencies: Vec<f64>,
    /// τ_b, `B` values.
    phases: Vec<f64>,
    /// sqrt(2/B)·w_b, `B` values.
    weights: Vec<f64>,
}

impl GpSample {
    /// Builds the draw from validated parameters.
    pub fn new(params: &GpSampleParams) -> Result<Self, ParamError> {
        params.validate()?;
        let dim = params.dim();
        let mut root = stream_rng(params.seed, "gp_sample", 0);
        let mut lengthscale_rng = child_rng(&mut root);
        let mut feature_rng = child_rng(&mut root);
        let lengthscales = match &params.lengthscales {
            Some(ls) => ls.clone(),
            None => params.complexity.unwrap_or(DEFAULT_COMPLEXITY).draw_lengthscales(dim, &mut lengthscale_rng),
        };
        Ok(Self::with_stream(lengthscales, params.features, params.noise_std, &mut feature_rng))
    }

    /// Draws `features` random Fourier features for the given length scales from `rng`.
    fn with_stream(lengthscales: Vec<f64>, features: usize, noise_std: f64, rng: &mut StreamRng) -> Self {
        let dim = lengthscales.len();
        let mut frequencies = Vec::with_capacity(features * dim);
        for _ in 0..features {
            for &l in &lengthscales {
                let omega: f64 = rng.sample(StandardNormal);
                frequencies.push(omega / l);
            }
        }
        let phases: Vec<f64> = (0..features).map(|_| 2.0 * PI * rng.random::<f64>()).collect();
        let scale = (2.0 / features as f64).sqrt();
        let weights: Vec<f64> = (0..features)
            .map(|_| {
                let w: f64 = rng.sample(StandardNormal);
                scale * w
            })
            .collect();
        let info = ObjectiveInfo {
            name: "gp_sample".to_owned(),
            bounds: Bounds::unit(dim),
            noise_std,
            exact: true,
            known_minimum: None,
            known_minimizer: None,
        };
        let hyperparameters =
            GpHyperparameters { kernel: KernelKind::SeArd, lengthscales, signal_variance: 1.0, noise_std };
        Self { info, hyperparameters, frequencies, phases, weights }
    }

    /// The length scales of the draw (`d` values, unit-cube coordinates).
    pub fn lengthscales(&self) -> &[f64] {
        &self.hyperparameters.lengthscales
    }

    /// Number of random Fourier features `B`.
    pub fn features(&self) -> usize {
        self.phases.len()
    }

    /// Input dimension `d`.
    pub fn dim(&self) -> usize {
        self.hyperparameters.lengthscales.len()
    }

    /// The phase arguments z_b = Σ_i Ω_bi x_i/ℓ_i + τ_b, one per feature, passed to `each`.
    fn for_each_feature(&self, x: &[f64], mut each: impl FnMut(usize, f64)) {
        let d = self.dim();
        for (b, (row, &tau)) in self.frequencies.chunks_exact(d).zip(&self.phases).enumerate() {
            let z = tau + row.iter().zip(x).map(|(&o, &xi)| o * xi).sum::<f64>();
            each(b, z);
        }
    }

    /// f(x) (no dimension check).
    pub fn value(&self, x: &[f64]) -> f64 {
        let mut sum = 0.0;
        self.for_each_feature(x, |b, z| sum += self.weights[b] * z.cos());
        sum
    }

    /// ∇f(x) = −sqrt(2/B) Σ_b w_b sin(z_b) · (Ω_b ⊘ ℓ) (no dimension check).
    pub fn gradient_at(&self, x: &[f64]) -> Vec<f64> {
        let d = self.dim();
        let mut g = vec![0.0; d];
        self.for_each_feature(x, |b, z| {
            let c = -self.weights[b] * z.sin();
            for (gi, &o) in g.iter_mut().zip(&self.frequencies[b * d..(b + 1) * d]) {
                *gi += c * o;
            }
        });
        g
    }
}

impl Objective for GpSample {
    fn info(&self) -> &ObjectiveInfo {
        &self.info
    }

    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        check_dim(x, self.dim())?;
        finite(self.value(x))
    }

    fn gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
        (x.len() == self.dim()).then(|| self.gradient_at(x))
    }

    fn true_hyperparameters(&self) -> Option<GpHyperparameters> {
        Some(self.hyperparameters.clone())
    }
}

fn default_params() -> Value {
    les_core::params::to_value(&GpSampleParams::documented_default())
}

fn build(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn Objective>, PluginError> {
    let p: GpSampleParams = params.parse()?;
    let sample = GpSample::new(&p).map_err(|e| e.prefixed(&params.path))?;
    Ok(Built::new(Box::new(sample), &p.resolved()))
}

inventory::submit! {
    ObjectiveEntry {
        name: "gp_sample",
        summary: "a draw from a GP prior (SE-ARD, σ_f² = 1, 1024 random Fourier features) on [0,1]^d",
        details: concat!(
            "gp_sample: f(x) = sqrt(2/B) Σ_b w_b cos(Σ_i Ω_bi x_i/ℓ_i + τ_b) with w, Ω ~ N(0,1), τ ~ U[0,2π), \
B = features: one draw from a zero-mean GP prior with a squared-exponential ARD kernel and signal variance 1 \
(docs/les-algorithm.md §16.2). Native box [0, 1]^d (the runner's unit-cube map is the identity). Minimum unknown. \
Length scales are drawn iid as log ℓ_i ~ N(μ_c + ln √d, s_c²) from the complexity prior (high: μ = −2.5√2, \
s = √3/5; medium: −2√2, √3/4; low: −√2, √3/2; extremely_low: √2, √3) or given as lengthscales (d values; \
exclusive with complexity). The true hyperparameters (SE-ARD, ℓ, σ_f² = 1, noise_std) are exposed for \
within-model runs (oracle). Analytic gradient.\n\n",
            include_str!("../../params/gp_sample.md"),
        ),
        default_params,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(json: Value) -> Result<GpSampleParams, ParamError> {
        Params::new(json, "objective").parse::<GpSampleParams>()
    }

    #[test]
    fn missing_keys_take_documented_defaults() {
        let p = params(serde_json::json!({})).unwrap();
        assert_eq!(p.features, DEFAULT_FEATURES);
        assert_eq!(p.noise_std, DEFAULT_GP_NOISE_STD);
        assert_eq!(p.clone().resolved(), GpSampleParams::documented_default());
        assert_eq!(p.resolved().complexity, Some(Complexity::Medium));
    }

    #[test]
    fn prior_constants() {
        assert!((Complexity::High.log_mean_in(5).exp() - 0.065).abs() < 5e-4, "§6.2 quotes median 0.065 at d = 5");
        assert!((Complexity::High.log_mean_in(50).exp() - 0.206).abs() < 5e-4);
        assert_eq!(Complexity::ExtremelyLow.log_std(), SQRT_3);
    }
}

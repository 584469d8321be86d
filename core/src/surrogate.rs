//! Probabilistic models of the objective and their posterior sample paths.

use std::ops::Range;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::{Dataset, StreamRng};

/// Kernel family of a Gaussian-process prior. A closed family that core owns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum KernelKind {
    /// Squared exponential with one length scale per input (ARD).
    #[default]
    SeArd,
    /// Matérn ν = 5/2 with one length scale per input (ARD).
    Matern52,
}

/// GP hyperparameters in unit-cube coordinates: what an objective drawn from a GP prior knows
/// about itself (`gp_sample`), so that a surrogate can be configured within-model (`oracle`),
/// and what a fitted GP surrogate reports ([`Surrogate::hyperparameters`]; then in the model's
/// output scale).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct GpHyperparameters {
    /// Kernel family.
    pub kernel: KernelKind,
    /// One length scale per input, `d` values, in unit-cube coordinates.
    pub lengthscales: Vec<f64>,
    /// Signal variance σ_f².
    pub signal_variance: f64,
    /// Observation-noise standard deviation σ_n.
    pub noise_std: f64,
}

/// How a fit obtained its hyperparameters.
#[derive(Clone, Debug, PartialEq)]
pub enum HyperparameterFit {
    /// Given, not optimized: fixed, the objective's own (oracle), or the initial values when
    /// there are no data yet.
    Given,
    /// Optimized (a MAP fit from several starting points).
    Optimized {
        /// The objective the optimizer maximized (log marginal likelihood + log prior).
        log_posterior: f64,
        /// Starting points used.
        starts: usize,
        /// Starting points whose optimizer converged.
        converged_starts: usize,
        /// Optimizer iterations, all starts together.
        iterations: usize,
        /// Evaluations of the objective's value (the starts and every line-search trial), all
        /// starts together.
        evaluations: usize,
        /// Evaluations of its gradient (the starts and every accepted step), all starts
        /// together.
        gradients: usize,
    },
}

/// What one [`Surrogate::fit`] did. Typed, so that a strategy reads what it needs from fields;
/// [`FitReport::to_json`] writes it to the journal under the keys journals have always had.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FitReport {
    /// The fitted hyperparameters, for a GP with a stationary kernel (model output scale).
    pub hyperparameters: Option<GpHyperparameters>,
    /// How they were obtained (`None` for a model without hyperparameters).
    pub hyperparameter_fit: Option<HyperparameterFit>,
    /// Log marginal likelihood of the data under the fitted model.
    pub log_marginal_likelihood: Option<f64>,
    /// Absolute jitter added to the kernel matrix's diagonal.
    pub jitter: Option<f64>,
    /// `(shift, scale)` of the outputs (see [`Surrogate::output_scale`]).
    pub output_scale: Option<(f64, f64)>,
    /// Wall-clock seconds of the fit.
    pub fit_seconds: Option<f64>,
    /// Model-specific diagnostics without a field of their own, written as they are.
    pub extra: Map<String, Value>,
}

impl FitReport {
    /// The journal's form: a JSON object with `lengthscales`, `signal_variance`, `noise_std`,
    /// `restarts_used` (and `log_posterior`, `converged_starts`, `lbfgs_iterations`,
    /// `lbfgs_evaluations`, `lbfgs_gradients` after an optimization), `log_marginal_likelihood`,
    /// `jitter`, `output_shift`, `output_scale`, `fit_seconds` — each when known — and the
    /// `extra` keys.
    pub fn to_json(&self) -> Value {
        let mut out = self.extra.clone();
        if let Some(h) = &self.hyperparameters {
            out.insert("lengthscales".into(), json!(h.lengthscales));
            out.insert("signal_variance".into(), json!(h.signal_variance));
            out.insert("noise_std".into(), json!(h.noise_std));
        }
        match &self.hyperparameter_fit {
            None => {}
            Some(HyperparameterFit::Given) => {
                out.insert("restarts_used".into(), json!(0));
            }
            Some(HyperparameterFit::Optimized {
                log_posterior,
                starts,
                converged_starts,
                iterations,
                evaluations,
                gradients,
            }) => {
                out.insert("log_posterior".into(), json!(log_posterior));
                out.insert("restarts_used".into(), json!(starts));
                out.insert("converged_starts".into(), json!(converged_starts));
                out.insert("lbfgs_iterations".into(), json!(iterations));
                out.insert("lbfgs_evaluations".into(), json!(evaluations));
                out.insert("lbfgs_gradients".into(), json!(gradients));
            }
        }
        let mut put = |key: &str, v: Option<f64>| {
            if let Some(v) = v {
                out.insert(key.into(), json!(v));
            }
        };
        put("log_marginal_likelihood", self.log_marginal_likelihood);
        put("jitter", self.jitter);
        put("output_shift", self.output_scale.map(|s| s.0));
        put("output_scale", self.output_scale.map(|s| s.1));
        put("fit_seconds", self.fit_seconds);
        Value::Object(out)
    }
}

/// Why a model could not be fitted or queried.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SurrogateError {
    /// A Cholesky factorization failed even after adding the largest jitter tried.
    #[error(
        "covariance matrix of size {size} is not positive definite even with jitter {max_jitter:e} on the diagonal"
    )]
    NotPositiveDefinite {
        /// Matrix size.
        size: usize,
        /// Largest absolute jitter tried (added to every diagonal entry).
        max_jitter: f64,
    },
    /// The model was queried before `fit`.
    #[error("the surrogate was queried before it was fitted")]
    NotFitted,
    /// The data cannot be modelled (empty, non-finite …).
    #[error("{0}")]
    InvalidData(String),
    /// Any other numerical failure, with a message that says what failed.
    #[error("{0}")]
    Numerical(String),
}

/// Posterior marginals at `m` points, in the model's output scale (see
/// [`Surrogate::output_scale`]).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Prediction {
    /// Posterior mean, `m`.
    pub mean: Vec<f64>,
    /// Latent (noise-free) posterior variance, `m`.
    pub variance: Vec<f64>,
}

/// A probabilistic model fitted to data in the unit cube.
///
/// Predictions are in the model's own output scale: `y_model = (y − shift) / scale` with
/// `(shift, scale)` from [`Surrogate::output_scale`] (identity when outputs are not
/// standardized).
pub trait Surrogate: Send + Sync {
    /// Input dimension `d`.
    fn dim(&self) -> usize;

    /// Fits the model (hyperparameters included, as configured) to `data` (`n` points).
    /// Returns what the fit did (fitted hyperparameters, fit time …).
    fn fit(&mut self, data: &Dataset, rng: &mut StreamRng) -> Result<FitReport, SurrogateError>;

    /// Posterior mean and latent variance at `m` points (`m×d`).
    fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError>;

    /// Latent posterior covariance between two point sets `a` (`m_a×d`) and `b` (`m_b×d`),
    /// row-major `m_a×m_b`.
    fn posterior_covariance(&self, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurrogateError>;

    /// `Σ(Z, Z)` of one point set `z` (`M×d`) prepared to be read in blocks, for a consumer
    /// that cannot hold all `M²` values (LES's acquisition at large `M`). The default reads
    /// every block with [`Surrogate::posterior_covariance`]; a model that can share work
    /// between blocks (an exact GP's whitened cross-covariances) overrides it.
    fn covariance_blocks<'a>(&'a self, z: &[f64]) -> Result<Box<dyn CovarianceBlocks + 'a>, SurrogateError> {
        Ok(Box::new(DirectCovarianceBlocks { model: self, z: z.to_vec() }))
    }

    /// Observation-noise variance σ_n² in the model's output scale.
    fn noise_variance(&self) -> f64;

    /// `(shift, scale)` with `y_model = (y − shift) / scale`.
    fn output_scale(&self) -> (f64, f64);

    /// The fitted kernel hyperparameters (model output scale, unit cube), for a model that is
    /// a GP with a stationary kernel: what a strategy scales its steps and trust regions by,
    /// and what an acquisition that needs covariances the trait does not offer (derivative
    /// observations) builds its own dense GP from. `None` before `fit` or for other models.
    fn hyperparameters(&self) -> Option<GpHyperparameters> {
        None
    }

    /// This model as one that can draw sample paths, if it can.
    fn as_pathwise(&self) -> Option<&dyn PathwiseSurrogate> {
        None
    }

    /// This model as one with posterior gradients, if it has them.
    fn as_differentiable(&self) -> Option<&dyn DifferentiableSurrogate> {
        None
    }

    /// This model as one with a posterior of the objective's gradient, if it has one.
    fn as_derivative(&self) -> Option<&dyn DerivativeSurrogate> {
        None
    }

    /// This model as one that conditions on more observations without refitting, if it can.
    fn as_conditionable(&self) -> Option<&dyn ConditionableSurrogate> {
        None
    }
}

/// The names of the capabilities, for the error a strategy gives when its surrogate lacks one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Capability {
    /// [`Surrogate::as_pathwise`].
    SamplePaths,
    /// [`Surrogate::as_differentiable`].
    PosteriorGradients,
    /// [`Surrogate::as_derivative`].
    GradientPosterior,
    /// [`Surrogate::as_conditionable`].
    Conditioning,
    /// [`Surrogate::hyperparameters`] after a fit.
    Hyperparameters,
}

impl Capability {
    /// What the capability is, as the error message names it.
    pub fn describe(self) -> &'static str {
        match self {
            Capability::SamplePaths => "posterior sample paths",
            Capability::PosteriorGradients => "posterior gradients",
            Capability::GradientPosterior => "a gradient posterior",
            Capability::Conditioning => "conditioning on more observations",
            Capability::Hyperparameters => "GP hyperparameters (length scales, signal variance)",
        }
    }

    /// Whether `surrogate` has it (for [`Capability::Hyperparameters`]: whether it reports them
    /// now, i.e. after a fit).
    pub fn offered_by(self, surrogate: &dyn Surrogate) -> bool {
        match self {
            Capability::SamplePaths => surrogate.as_pathwise().is_some(),
            Capability::PosteriorGradients => surrogate.as_differentiable().is_some(),
            Capability::GradientPosterior => surrogate.as_derivative().is_some(),
            Capability::Conditioning => surrogate.as_conditionable().is_some(),
            Capability::Hyperparameters => surrogate.hyperparameters().is_some(),
        }
    }

    /// The error of strategy `strategy` whose surrogate `surrogate` (its registry name) lacks
    /// this capability.
    pub fn missing(self, strategy: &str, surrogate: &str) -> String {
        format!("strategy `{strategy}` needs a surrogate with {}; surrogate `{surrogate}` has none", self.describe())
    }
}

/// Posterior mean, latent variance and their gradients at one point, model output scale.
#[derive(Clone, Debug, PartialEq)]
pub struct PointPosterior {
    /// Posterior mean μ(x).
    pub mean: f64,
    /// Latent posterior variance σ²(x).
    pub variance: f64,
    /// ∇μ(x), `d`.
    pub mean_grad: Vec<f64>,
    /// ∇σ²(x), `d`.
    pub variance_grad: Vec<f64>,
}

/// A surrogate whose posterior moments have gradients (what a gradient-based acquisition
/// optimizer needs).
pub trait DifferentiableSurrogate: Surrogate {
    /// μ, σ² and their gradients at `x` (`d`).
    fn point_posterior(&self, x: &[f64]) -> Result<PointPosterior, SurrogateError>;
}

/// A surrogate that gives the posterior of the objective's gradient `∇f` at a point (a
/// derivative GP: GIBO's model).
pub trait DerivativeSurrogate: Surrogate {
    /// The posterior of `∇f(θ)` at `theta` (`d`), with the fitted hyperparameters.
    fn gradient_posterior(&self, theta: &[f64]) -> Result<Box<dyn GradientPosterior>, SurrogateError>;
}

/// The posterior of `∇f(θ)` at one point `θ`, model output scale, and how more value
/// observations would shrink it. Owns what it needs (it outlives the next fit of its model).
pub trait GradientPosterior: Send + Sync {
    /// The point `θ` (`d`).
    fn point(&self) -> &[f64];

    /// The mean `μ∇(θ)`, `d`.
    fn mean(&self) -> &[f64];

    /// The covariance `Σ∇(θ)`, `d×d` row-major.
    fn covariance(&self) -> &[f64];

    /// `tr Σ∇(θ)`.
    fn trace(&self) -> f64 {
        let d = self.point().len();
        (0..d).map(|i| self.covariance()[i * d + i]).sum()
    }

    /// The posterior after also observing the `q` points `z` (`q×d`) at the posterior mean
    /// there (kriging believer): `Σ∇` is exact whatever values they will return, `μ∇` stays.
    fn conditioned_on(&self, z: &[f64]) -> Result<Box<dyn GradientPosterior>, SurrogateError>;

    /// How much one more noisy value observation at `z` (`d`) would lower `tr Σ∇(θ)`.
    fn trace_reduction(&self, z: &[f64]) -> f64;

    /// [`GradientPosterior::trace_reduction`] and its gradient with respect to `z` (`d`).
    fn trace_reduction_and_grad(&self, z: &[f64]) -> (f64, Vec<f64>);
}

/// A surrogate that conditions on more value observations with its fitted hyperparameters and
/// output scaling kept (a kriging believer's model).
pub trait ConditionableSurrogate: Surrogate {
    /// The model conditioned also on the points `x` (`q×d`) with values `y` (`q`, model
    /// output scale) and the model's noise; every capability of this model stays.
    fn conditioned_on(&self, x: &[f64], y: &[f64]) -> Result<Box<dyn Surrogate>, SurrogateError>;
}

/// Blocks of the latent posterior covariance `Σ(Z, Z)` of one point set (see
/// [`Surrogate::covariance_blocks`]). An entry must not depend on the block it is read in,
/// and `Σ(z_i, z_j)` must have the bits of `Σ(z_j, z_i)`.
pub trait CovarianceBlocks: Send + Sync {
    /// `Σ(Z_rows, Z_cols)`, row-major `|rows|×|cols|`.
    fn block(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Vec<f64>, SurrogateError>;

    /// The diagonal blocks `Σ(Z_b, Z_b)` of consecutive groups of `size` points (`M` a
    /// multiple of `size`): `M/size` row-major `size×size` blocks, one after the other.
    fn diagonal_blocks(&self, size: usize) -> Result<Vec<f64>, SurrogateError> {
        let m = self.len();
        let mut out = Vec::with_capacity(m * size);
        for start in (0..m).step_by(size.max(1)) {
            out.extend(self.block(start..start + size, start..start + size)?);
        }
        Ok(out)
    }

    /// Number of points `M`.
    fn len(&self) -> usize;

    /// Whether there are no points.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// [`CovarianceBlocks`] read through [`Surrogate::posterior_covariance`].
struct DirectCovarianceBlocks<'a, S: ?Sized> {
    model: &'a S,
    z: Vec<f64>,
}

impl<S: Surrogate + ?Sized> CovarianceBlocks for DirectCovarianceBlocks<'_, S> {
    fn block(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Vec<f64>, SurrogateError> {
        let d = self.model.dim();
        self.model.posterior_covariance(&self.z[rows.start * d..rows.end * d], &self.z[cols.start * d..cols.end * d])
    }

    fn len(&self) -> usize {
        self.z.len() / self.model.dim().max(1)
    }
}

/// A surrogate that draws whole posterior sample paths (functions, not marginals).
pub trait PathwiseSurrogate: Surrogate {
    /// Draws `L = n_paths` independent posterior sample paths.
    fn sample_paths(&self, n_paths: usize, rng: &mut StreamRng) -> Result<Box<dyn PathBatch>, SurrogateError>;
}

/// `L` posterior sample paths evaluated together, each at its own point.
///
/// Batched on purpose: the random-feature part of all paths is one matrix product, which
/// per-path calls would waste. Implementations must give results that do not depend on the
/// number of threads.
pub trait PathBatch: Send + Sync {
    /// Number of paths `L`.
    fn n_paths(&self) -> usize;

    /// Input dimension `d`.
    fn dim(&self) -> usize;

    /// Values and gradients of every path at its own point: `xs` is `L×d` (row `l` for path
    /// `l`); writes `values` (`L`) and `grads` (`L×d`).
    fn value_and_grad(&self, xs: &[f64], values: &mut [f64], grads: &mut [f64]);

    /// Values of every path at its own point (`xs` is `L×d`, `values` is `L`). The default
    /// discards the gradients of [`PathBatch::value_and_grad`].
    fn values(&self, xs: &[f64], values: &mut [f64]) {
        let mut grads = vec![0.0; xs.len()];
        self.value_and_grad(xs, values, &mut grads);
    }

    /// Size of the blocks of paths that [`PathBatch::gradients_block`] evaluates on their own
    /// (the default, `L`: only the whole batch). Inner optimizers run a block's whole descent
    /// on one thread, so the `T` steps need no synchronization between threads.
    fn block_size(&self) -> usize {
        self.n_paths()
    }

    /// Gradients of the paths `first .. first + grads.len() / d` at their own points (`xs`
    /// and `grads` are `L_b×d`), on the calling thread; `first` is a multiple of
    /// [`PathBatch::block_size`] and the range at most one block. What a first-order descent
    /// needs at each step: an implementation may skip the values and round differently from
    /// [`PathBatch::value_and_grad`], but a path's gradient must not depend on the block it
    /// is evaluated in. The default handles the one block of the default block size.
    fn gradients_block(&self, first: usize, xs: &[f64], grads: &mut [f64]) {
        assert!(
            first == 0 && grads.len() == self.n_paths() * self.dim(),
            "invariant: a PathBatch without its own block_size is evaluated as one block"
        );
        let mut values = vec![0.0; self.n_paths()];
        self.value_and_grad(xs, &mut values, grads);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(v: &Value) -> Vec<&str> {
        v.as_object().expect("an object").keys().map(String::as_str).collect()
    }

    /// The journal keys of a GP fit, as journals written before the typed report have them.
    #[test]
    fn fit_report_json_has_the_journal_keys() {
        let hyper = GpHyperparameters {
            kernel: KernelKind::SeArd,
            lengthscales: vec![0.3, 0.4],
            signal_variance: 1.5,
            noise_std: 0.01,
        };
        let mut report = FitReport {
            hyperparameters: Some(hyper),
            hyperparameter_fit: Some(HyperparameterFit::Given),
            log_marginal_likelihood: Some(-3.0),
            jitter: Some(0.0),
            output_scale: Some((2.0, 0.5)),
            fit_seconds: Some(0.1),
            extra: Map::new(),
        };
        let given = report.to_json();
        assert_eq!(
            keys(&given),
            [
                "fit_seconds",
                "jitter",
                "lengthscales",
                "log_marginal_likelihood",
                "noise_std",
                "output_scale",
                "output_shift",
                "restarts_used",
                "signal_variance"
            ]
        );
        assert_eq!((given["restarts_used"].clone(), given["output_shift"].clone()), (json!(0), json!(2.0)));
        report.hyperparameter_fit = Some(HyperparameterFit::Optimized {
            log_posterior: -2.5,
            starts: 3,
            converged_starts: 2,
            iterations: 17,
            evaluations: 21,
            gradients: 18,
        });
        let optimized = report.to_json();
        for (key, want) in [
            ("restarts_used", json!(3)),
            ("converged_starts", json!(2)),
            ("lbfgs_iterations", json!(17)),
            ("lbfgs_evaluations", json!(21)),
            ("lbfgs_gradients", json!(18)),
            ("log_posterior", json!(-2.5)),
        ] {
            assert_eq!(optimized[key], want, "{key}");
        }
        assert_eq!(keys(&optimized).len(), 14);
        assert_eq!(keys(&FitReport::default().to_json()).len(), 0);
    }
}

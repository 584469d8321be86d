//! The `gp` surrogate: an exact GP whose hyperparameters are MAP-fitted, fixed or taken from
//! the objective (oracle), with standardized or raw outputs.

use std::time::Instant;

use les_core::registry::BuildContext;
use les_core::{
    ConditionableSurrogate, Dataset, DerivativeSurrogate, DifferentiableSurrogate, FitReport, GpHyperparameters,
    GradientPosterior, HyperparameterFit, KernelKind, ParamError, Params, PathBatch, PathwiseSurrogate, PluginError,
    PointPosterior, Prediction, StreamRng, Surrogate, SurrogateError,
};

use crate::derivative::DerivativeGp;
use crate::kernel::Kernel;
use crate::map::{LengthscaleSetting, MapProblem};
use crate::params::{GpParams, HyperparameterMode};
use crate::paths::PathSet;
use crate::posterior::GpPosterior;

/// How hyperparameters are obtained, resolved for the dimension.
#[derive(Clone, Debug)]
enum Hyper {
    Map(LengthscaleSetting),
    Fixed(Kernel),
}

/// Exact GP surrogate (see the crate docs). Build it from params with [`ExactGp::from_params`]
/// to use the inherent API (gradients, Schur conditioning, derivative GP) on the concrete type.
#[derive(Clone, Debug)]
pub struct ExactGp {
    params: GpParams,
    dim: usize,
    hyper: Hyper,
    posterior: Option<GpPosterior>,
    warm_theta: Option<Vec<f64>>,
}

impl ExactGp {
    /// Builds the surrogate from parsed, validated parameters for dimension `ctx.dim`.
    /// Errors carry key paths relative to the parameter block.
    pub fn new(params: GpParams, ctx: &BuildContext) -> Result<Self, ParamError> {
        let d = ctx.dim;
        if d == 0 {
            return Err(ParamError::new("", "the gp surrogate needs an input dimension d ≥ 1"));
        }
        let hyper = match &params.hyperparameters {
            HyperparameterMode::Map => Hyper::Map(
                LengthscaleSetting::resolve(&params.lengthscale_prior, d)
                    .map_err(|m| ParamError::new("lengthscale_prior", m))?,
            ),
            HyperparameterMode::Fixed { lengthscales, signal_variance } => {
                let ls = match lengthscales.len() {
                    1 => vec![lengthscales[0]; d],
                    k if k == d => lengthscales.clone(),
                    k => {
                        return Err(ParamError::invalid(
                            "hyperparameters.fixed.lengthscales",
                            format!("a list of {k} length scales"),
                            format!("{d} values (one per input) or a single value"),
                        ));
                    }
                };
                Hyper::Fixed(Kernel::new(params.kernel, ls, *signal_variance))
            }
            HyperparameterMode::Oracle => {
                let Some(oracle) = &ctx.oracle else {
                    return Err(ParamError::new(
                        "hyperparameters",
                        "`oracle` needs the objective's true hyperparameters, but this objective has none \
                         (only GP-sample objectives such as `gp_sample` have them); use `map` or `{ fixed: … }`",
                    ));
                };
                if oracle.kernel != params.kernel {
                    return Err(ParamError::invalid(
                        "kernel",
                        kernel_name(params.kernel),
                        format!(
                            "`{}`, the objective's true kernel, with `hyperparameters: oracle`",
                            kernel_name(oracle.kernel)
                        ),
                    ));
                }
                if oracle.lengthscales.len() != d {
                    return Err(ParamError::new(
                        "hyperparameters",
                        format!("the oracle has {} length scales for dimension {d}", oracle.lengthscales.len()),
                    ));
                }
                Hyper::Fixed(Kernel::new(oracle.kernel, oracle.lengthscales.clone(), oracle.signal_variance))
            }
        };
        Ok(Self { params, dim: d, hyper, posterior: None, warm_theta: None })
    }

    /// Parses `params` (defaults filled in, unknown keys rejected) and builds the surrogate;
    /// also returns the resolved parameters. This is what the registry entry calls; strategies
    /// that need the concrete type call it on their nested `surrogate.params` block.
    pub fn from_params(params: &Params, ctx: &BuildContext) -> Result<(Self, GpParams), PluginError> {
        let p: GpParams = params.parse()?;
        let gp = Self::new(p.clone(), ctx).map_err(|e| e.prefixed(&params.path))?;
        Ok((gp, p))
    }

    /// The parameters.
    pub fn params(&self) -> &GpParams {
        &self.params
    }

    /// The fitted posterior, or [`SurrogateError::NotFitted`].
    pub fn posterior(&self) -> Result<&GpPosterior, SurrogateError> {
        self.posterior.as_ref().ok_or(SurrogateError::NotFitted)
    }

    /// Draws `n_paths` posterior sample paths with `B = params.features` random features.
    pub fn sample_path_set(&self, n_paths: usize, rng: &mut StreamRng) -> Result<PathSet, SurrogateError> {
        Ok(PathSet::posterior(self.posterior()?, self.params.features, n_paths, rng)?
            .with_precision(self.params.path_precision))
    }

    /// `(shift, scale)` of the outputs of `data` as configured (§5.3: population std; `n = 1`
    /// gives `(y_1 + 1, 1)`; a zero std gives scale 1).
    pub fn standardization(&self, y: &[f64]) -> (f64, f64) {
        if !self.params.standardize {
            return (0.0, 1.0);
        }
        match y.len() {
            0 => (0.0, 1.0),
            1 => (y[0] + 1.0, 1.0),
            n => {
                let mean = y.iter().sum::<f64>() / n as f64;
                let var = y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64;
                let std = var.sqrt();
                (mean, if std > 0.0 { std } else { 1.0 })
            }
        }
    }
}

fn kernel_name(kind: KernelKind) -> &'static str {
    match kind {
        KernelKind::SeArd => "se_ard",
        KernelKind::Matern52 => "matern52",
    }
}

impl Surrogate for ExactGp {
    fn dim(&self) -> usize {
        self.dim
    }

    fn fit(&mut self, data: &Dataset, rng: &mut StreamRng) -> Result<FitReport, SurrogateError> {
        let started = Instant::now();
        if data.dim() != self.dim {
            return Err(SurrogateError::InvalidData(format!(
                "the data have dimension {} but the surrogate was built for {}",
                data.dim(),
                self.dim
            )));
        }
        if data.y().iter().chain(data.x()).any(|v| !v.is_finite()) {
            return Err(SurrogateError::InvalidData("the data contain non-finite values".into()));
        }
        let (shift, scale) = self.standardization(data.y());
        let y: Vec<f64> = data.y().iter().map(|v| (v - shift) / scale).collect();
        let noise0 = self.params.noise_std * self.params.noise_std;
        let (kernel, noise_variance, hyperparameter_fit, factor) = match &self.hyper {
            Hyper::Fixed(k) => (k.clone(), noise0, HyperparameterFit::Given, None),
            Hyper::Map(setting) if data.is_empty() => (
                Kernel::new(self.params.kernel, vec![setting.init; self.dim], 1.0),
                noise0,
                HyperparameterFit::Given,
                None,
            ),
            Hyper::Map(setting) => {
                let problem = MapProblem {
                    kind: self.params.kernel,
                    setting: *setting,
                    noise_variance: noise0,
                    fit_noise: self.params.fit_noise,
                    x: data.x(),
                    y: &y,
                    dim: self.dim,
                };
                let warm = if self.params.warm_start { self.warm_theta.as_deref() } else { None };
                let fit = problem.fit(self.params.restarts, warm, self.params.max_iterations, rng)?;
                self.warm_theta = Some(fit.theta.clone());
                let how = HyperparameterFit::Optimized {
                    log_posterior: fit.log_posterior,
                    starts: fit.starts,
                    converged_starts: fit.converged_starts,
                    iterations: fit.iterations,
                    evaluations: fit.evaluations,
                    gradients: fit.gradients,
                };
                (fit.kernel, fit.noise_variance, how, fit.factor)
            }
        };
        // The MAP fit's last factorization is at its optimum (as a rule): no second one.
        let posterior = match factor {
            Some(f) => GpPosterior::from_factor(kernel, noise_variance, data.x().to_vec(), y, shift, scale, f)?,
            None => GpPosterior::new(kernel, noise_variance, data.x().to_vec(), y, shift, scale)?,
        };
        let report = FitReport {
            hyperparameters: Some(hyperparameters_of(&posterior)),
            hyperparameter_fit: Some(hyperparameter_fit),
            log_marginal_likelihood: Some(posterior.log_marginal_likelihood()),
            jitter: Some(posterior.jitter()),
            output_scale: Some((shift, scale)),
            fit_seconds: Some(started.elapsed().as_secs_f64()),
            extra: Default::default(),
        };
        self.posterior = Some(posterior);
        Ok(report)
    }

    fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError> {
        self.posterior()?.predict(xs)
    }

    fn posterior_covariance(&self, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        let c = self.posterior()?.covariance_matrix(a, b)?;
        if a == b {
            // Σ(A, A) is symmetric, so its column-major data already are the row-major matrix
            // (up to rounding in the last bits between the two triangles, either of which is
            // the covariance): skip the transpose, a strided copy of M² values (32 MB for LES's
            // 2000 support points).
            return Ok(c.data.into());
        }
        // nalgebra is column-major; the trait wants row-major.
        Ok(c.transpose().as_slice().to_vec())
    }

    fn covariance_blocks<'a>(&'a self, z: &[f64]) -> Result<Box<dyn les_core::CovarianceBlocks + 'a>, SurrogateError> {
        Ok(Box::new(self.posterior()?.covariance_blocks(z)?))
    }

    fn noise_variance(&self) -> f64 {
        match &self.posterior {
            Some(p) => p.noise_variance(),
            None => self.params.noise_std * self.params.noise_std,
        }
    }

    fn output_scale(&self) -> (f64, f64) {
        self.posterior.as_ref().map_or((0.0, 1.0), |p| p.output_scale())
    }

    fn hyperparameters(&self) -> Option<GpHyperparameters> {
        self.posterior.as_ref().map(hyperparameters_of)
    }

    fn as_pathwise(&self) -> Option<&dyn PathwiseSurrogate> {
        Some(self)
    }

    fn as_differentiable(&self) -> Option<&dyn DifferentiableSurrogate> {
        Some(self)
    }

    fn as_derivative(&self) -> Option<&dyn DerivativeSurrogate> {
        Some(self)
    }

    fn as_conditionable(&self) -> Option<&dyn ConditionableSurrogate> {
        Some(self)
    }
}

/// The hyperparameters a posterior was computed with (model output scale).
fn hyperparameters_of(posterior: &GpPosterior) -> GpHyperparameters {
    let k = posterior.kernel();
    GpHyperparameters {
        kernel: k.kind,
        lengthscales: k.lengthscales.clone(),
        signal_variance: k.signal_variance,
        noise_std: posterior.noise_variance().sqrt(),
    }
}

impl DifferentiableSurrogate for ExactGp {
    fn point_posterior(&self, x: &[f64]) -> Result<PointPosterior, SurrogateError> {
        let (mean, variance, mean_grad, variance_grad) = self.posterior()?.mean_variance_gradients(x);
        Ok(PointPosterior { mean, variance, mean_grad, variance_grad })
    }
}

impl DerivativeSurrogate for ExactGp {
    fn gradient_posterior(&self, theta: &[f64]) -> Result<Box<dyn GradientPosterior>, SurrogateError> {
        Ok(Box::new(DerivativeGp::from_posterior(self.posterior()?.clone()).at(theta)))
    }
}

impl ConditionableSurrogate for ExactGp {
    fn conditioned_on(&self, x: &[f64], y: &[f64]) -> Result<Box<dyn Surrogate>, SurrogateError> {
        let mut out = self.clone();
        out.posterior = Some(self.posterior()?.with_observations(x, y)?);
        Ok(Box::new(out))
    }
}

impl PathwiseSurrogate for ExactGp {
    fn sample_paths(&self, n_paths: usize, rng: &mut StreamRng) -> Result<Box<dyn PathBatch>, SurrogateError> {
        Ok(Box::new(self.sample_path_set(n_paths, rng)?))
    }
}

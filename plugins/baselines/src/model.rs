//! What the model-based baselines need from a fitted surrogate beyond
//! [`les_core::Surrogate`]: posterior mean and variance gradients at a point, the incumbent in
//! the model's output scale, and the fitted length scales.
//!
//! The `gp` surrogate is held as its concrete type and gives analytic gradients; any other
//! registered surrogate gets gradients by central differences of [`Surrogate::predict`] on one
//! batch of `2d + 1` points.

use les_core::{Dataset, Prediction, Surrogate, SurrogateError};
use serde_json::Value;

/// Step of the central differences, in unit-cube coordinates. The truncation error is
/// `O(h²·f‴)`, the rounding error `O(ε·|f|/h)`; both are ~1e-10 relative for GP posteriors with
/// length scales ≥ 0.01.
const FD_STEP: f64 = 1e-5;

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

/// Posterior mean and variance with their gradients at `x` (`d`), by central differences.
pub fn point_posterior(model: &dyn Surrogate, x: &[f64]) -> Result<PointPosterior, SurrogateError> {
    point_posterior_by_differences(|batch| model.predict(batch), x)
}

/// [`point_posterior`] for any batch prediction `predict` (`m×d` points to their marginals).
pub fn point_posterior_by_differences(
    predict: impl Fn(&[f64]) -> Result<Prediction, SurrogateError>,
    x: &[f64],
) -> Result<PointPosterior, SurrogateError> {
    let d = x.len();
    let mut batch = Vec::with_capacity((2 * d + 1) * d);
    batch.extend_from_slice(x);
    for j in 0..d {
        for sign in [1.0, -1.0] {
            let start = batch.len();
            batch.extend_from_slice(x);
            batch[start + j] += sign * FD_STEP;
        }
    }
    let p = predict(&batch)?;
    let mut mean_grad = vec![0.0; d];
    let mut variance_grad = vec![0.0; d];
    for j in 0..d {
        mean_grad[j] = (p.mean[1 + 2 * j] - p.mean[2 + 2 * j]) / (2.0 * FD_STEP);
        variance_grad[j] = (p.variance[1 + 2 * j] - p.variance[2 + 2 * j]) / (2.0 * FD_STEP);
    }
    Ok(PointPosterior { mean: p.mean[0], variance: p.variance[0], mean_grad, variance_grad })
}

/// The lowest observed value in the model's output scale, `(y_min − shift)/scale` (§5.4: the
/// incumbent is the best noisy observation; BoTorch's `best_f` is the same number negated).
pub fn best_observed(model: &dyn Surrogate, data: &Dataset) -> Option<f64> {
    let (shift, scale) = model.output_scale();
    data.best_index().map(|i| (data.y()[i] - shift) / scale)
}

/// The fitted length scales (`d`) from a fit's diagnostics: the first array of `d` positive
/// numbers under a key containing `lengthscale` (at the top level or one level down).
pub fn lengthscales_from(diagnostics: &Value, dim: usize) -> Option<Vec<f64>> {
    let from = |v: &Value| -> Option<Vec<f64>> {
        let arr = v.as_array()?;
        let ls: Vec<f64> = arr.iter().filter_map(Value::as_f64).collect();
        (ls.len() == arr.len() && (ls.len() == dim || ls.len() == 1) && ls.iter().all(|l| *l > 0.0))
            .then(|| if ls.len() == 1 { vec![ls[0]; dim] } else { ls })
    };
    let obj = diagnostics.as_object()?;
    for (k, v) in obj {
        if k.contains("lengthscale")
            && let Some(ls) = from(v)
        {
            return Some(ls);
        }
    }
    obj.values()
        .filter_map(Value::as_object)
        .flat_map(|o| o.iter())
        .find_map(|(k, v)| if k.contains("lengthscale") { from(v) } else { None })
}

/// `exp(mean(ln v))`.
pub fn geometric_mean(v: &[f64]) -> f64 {
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp()
}

/// The surrogate behind a [`Model`].
enum Inner {
    /// The `gp` plugin as its concrete type: analytic gradients and hyperparameters.
    Gp(Box<les_gp::ExactGp>),
    /// Any other registered surrogate: finite-difference gradients, hyperparameters from the
    /// fit diagnostics.
    Any(Box<dyn Surrogate>),
}

/// A strategy's surrogate with the extra access the baselines need. The `gp` plugin is built
/// as its concrete type ([`les_gp::ExactGp::from_params`], the same parsing as its registry
/// entry) for analytic gradients; any other surrogate goes through the registry.
pub struct Model {
    inner: Inner,
    diagnostics: Value,
}

impl Model {
    /// Wraps any surrogate (gradients by central differences).
    pub fn new(inner: Box<dyn Surrogate>) -> Self {
        Self { inner: Inner::Any(inner), diagnostics: Value::Null }
    }

    /// Wraps the `gp` surrogate.
    pub fn gp(gp: les_gp::ExactGp) -> Self {
        Self { inner: Inner::Gp(Box::new(gp)), diagnostics: Value::Null }
    }

    /// Builds the surrogate named by `spec` (key path `path`), replacing `spec.params` by the
    /// resolved parameters.
    pub fn build(
        spec: &mut les_core::registry::PluginSpec,
        path: &str,
        ctx: &les_core::BuildContext,
    ) -> Result<Self, les_core::PluginError> {
        if spec.name == "gp" {
            let params = les_core::Params::new(spec.params.clone(), les_core::params::join_path(path, "params"));
            let (gp, resolved) = les_gp::ExactGp::from_params(&params, ctx)?;
            spec.params = les_core::params::to_value(&resolved);
            return Ok(Self::gp(gp));
        }
        Ok(Self::new(spec.build::<dyn Surrogate>(path, ctx)?))
    }

    /// The `gp` surrogate as its concrete type, when it is the `gp`.
    pub fn exact_gp(&self) -> Option<&les_gp::ExactGp> {
        match &self.inner {
            Inner::Gp(gp) => Some(gp),
            Inner::Any(_) => None,
        }
    }

    /// The surrogate.
    pub fn surrogate(&self) -> &dyn Surrogate {
        match &self.inner {
            Inner::Gp(gp) => gp.as_ref(),
            Inner::Any(s) => s.as_ref(),
        }
    }

    /// Fits the surrogate and keeps its diagnostics.
    pub fn fit(&mut self, data: &Dataset, rng: &mut les_core::StreamRng) -> Result<Value, SurrogateError> {
        self.diagnostics = match &mut self.inner {
            Inner::Gp(gp) => gp.fit(data, rng)?,
            Inner::Any(s) => s.fit(data, rng)?,
        };
        Ok(self.diagnostics.clone())
    }

    /// Posterior moments and their gradients at `x` (analytic for the `gp`).
    pub fn point_posterior(&self, x: &[f64]) -> Result<PointPosterior, SurrogateError> {
        match &self.inner {
            Inner::Gp(gp) => {
                let (mean, variance, mean_grad, variance_grad) = gp.posterior()?.mean_variance_gradients(x);
                Ok(PointPosterior { mean, variance, mean_grad, variance_grad })
            }
            Inner::Any(s) => point_posterior(s.as_ref(), x),
        }
    }

    /// The fitted length scales (`d`), when the surrogate reports them.
    pub fn lengthscales(&self) -> Option<Vec<f64>> {
        match &self.inner {
            Inner::Gp(gp) => gp.posterior().ok().map(|p| p.kernel().lengthscales.clone()),
            Inner::Any(s) => lengthscales_from(&self.diagnostics, s.dim()),
        }
    }

    /// The fitted signal variance σ_f², when the surrogate reports it.
    pub fn signal_variance(&self) -> Option<f64> {
        match &self.inner {
            Inner::Gp(gp) => gp.posterior().ok().map(|p| p.kernel().signal_variance),
            Inner::Any(_) => self.diagnostics.get("signal_variance").and_then(Value::as_f64),
        }
    }
}

//! A strategy's surrogate, built through the registry, with the checks and small helpers the
//! model-based baselines share. Everything they need beyond predictions comes from the
//! surrogate's typed capabilities ([`les_core::Surrogate::as_differentiable`],
//! [`les_core::Surrogate::hyperparameters`], …): a strategy names the ones it needs, and a
//! surrogate without one is refused with an error that names both, never worked around.

use les_core::registry::PluginSpec;
use les_core::{
    BuildContext, Capability, Dataset, FitReport, GpHyperparameters, PluginError, PointPosterior, StreamRng, Surrogate,
    SurrogateError,
};

/// The lowest observed value in the model's output scale, `(y_min − shift)/scale` (§5.4: the
/// incumbent is the best noisy observation; BoTorch's `best_f` is the same number negated).
pub fn best_observed(model: &dyn Surrogate, data: &Dataset) -> Option<f64> {
    let (shift, scale) = model.output_scale();
    data.best_index().map(|i| (data.y()[i] - shift) / scale)
}

/// `exp(mean(ln v))`.
pub fn geometric_mean(v: &[f64]) -> f64 {
    (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp()
}

/// A strategy's surrogate and the registry name it was built from (for error messages).
pub struct Model {
    name: String,
    surrogate: Box<dyn Surrogate>,
}

impl Model {
    /// Wraps a surrogate; `name` is what errors call it (its registry name).
    pub fn new(name: &str, surrogate: Box<dyn Surrogate>) -> Self {
        Self { name: name.to_owned(), surrogate }
    }

    /// Builds the surrogate named by `spec` (key path `path`) through the registry, replacing
    /// `spec.params` by the resolved parameters, and checks that it has every capability in
    /// `needs` that strategy `strategy` uses.
    pub fn build(
        spec: &mut PluginSpec,
        path: &str,
        ctx: &BuildContext,
        strategy: &str,
        needs: &[Capability],
    ) -> Result<Self, PluginError> {
        let surrogate = spec.build::<dyn Surrogate>(path, ctx)?;
        let model = Self::new(&spec.name, surrogate);
        model
            .require(strategy, needs)
            .map_err(|message| PluginError::Build { path: les_core::params::join_path(path, "name"), message })?;
        Ok(model)
    }

    /// An error naming the first capability in `needs` the surrogate lacks. Only capabilities
    /// a surrogate has before it is fitted are checked here ([`Capability::Hyperparameters`]
    /// is checked after the fit, by [`Model::hyperparameters`]).
    pub fn require(&self, strategy: &str, needs: &[Capability]) -> Result<(), String> {
        match needs.iter().find(|c| **c != Capability::Hyperparameters && !c.offered_by(self.surrogate.as_ref())) {
            Some(c) => Err(c.missing(strategy, &self.name)),
            None => Ok(()),
        }
    }

    /// The registry name of the surrogate.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The surrogate.
    pub fn surrogate(&self) -> &dyn Surrogate {
        self.surrogate.as_ref()
    }

    /// Fits the surrogate.
    pub fn fit(&mut self, data: &Dataset, rng: &mut StreamRng) -> Result<FitReport, SurrogateError> {
        self.surrogate.fit(data, rng)
    }

    /// Posterior moments and their gradients at `x` (`d`).
    pub fn point_posterior(&self, x: &[f64]) -> Result<PointPosterior, SurrogateError> {
        point_posterior(self.surrogate(), &self.name, x)
    }

    /// The fitted hyperparameters, or the error of strategy `strategy` when the surrogate
    /// reports none.
    pub fn hyperparameters(&self, strategy: &str) -> Result<GpHyperparameters, String> {
        self.surrogate.hyperparameters().ok_or_else(|| Capability::Hyperparameters.missing(strategy, &self.name))
    }
}

/// [`les_core::DifferentiableSurrogate::point_posterior`] of `surrogate` (named `name` in the
/// error when it has no posterior gradients).
pub fn point_posterior(surrogate: &dyn Surrogate, name: &str, x: &[f64]) -> Result<PointPosterior, SurrogateError> {
    match surrogate.as_differentiable() {
        Some(s) => s.point_posterior(x),
        None => Err(SurrogateError::Numerical(format!(
            "surrogate `{name}` has no {}",
            Capability::PosteriorGradients.describe()
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::Prediction;

    /// A surrogate with predictions only: no capability at all.
    struct Plain;

    impl Surrogate for Plain {
        fn dim(&self) -> usize {
            2
        }
        fn fit(&mut self, _data: &Dataset, _rng: &mut StreamRng) -> Result<FitReport, SurrogateError> {
            Ok(FitReport::default())
        }
        fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError> {
            Ok(Prediction { mean: vec![0.0; xs.len() / 2], variance: vec![1.0; xs.len() / 2] })
        }
        fn posterior_covariance(&self, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurrogateError> {
            Ok(vec![0.0; a.len() / 2 * b.len() / 2])
        }
        fn noise_variance(&self) -> f64 {
            1e-6
        }
        fn output_scale(&self) -> (f64, f64) {
            (0.0, 1.0)
        }
    }

    #[test]
    fn a_missing_capability_is_an_error_naming_strategy_surrogate_and_capability() {
        let mut model = Model::new("plain", Box::new(Plain));
        assert!(model.require("random", &[]).is_ok());
        let err = model.require("gibo", &[Capability::GradientPosterior]).unwrap_err();
        assert_eq!(err, "strategy `gibo` needs a surrogate with a gradient posterior; surrogate `plain` has none");
        let err = model.require("logei", &[Capability::PosteriorGradients]).unwrap_err();
        assert_eq!(err, "strategy `logei` needs a surrogate with posterior gradients; surrogate `plain` has none");
        model.fit(&Dataset::new(2), &mut les_core::stream_rng(0, "t", 0)).unwrap();
        let err = model.hyperparameters("turbo").unwrap_err();
        assert!(err.starts_with("strategy `turbo` needs a surrogate with GP hyperparameters"), "{err}");
        assert!(
            model.point_posterior(&[0.5, 0.5]).unwrap_err().to_string().contains("`plain` has no posterior gradients")
        );
        let pending = crate::believer::Believer::new(&model, &[vec![0.5, 0.5]]).err().unwrap().to_string();
        assert!(pending.contains("conditioning") && pending.contains("`plain`"), "{pending}");
    }
}

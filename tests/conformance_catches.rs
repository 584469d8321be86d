//! The conformance harness can fail: plugins that break the contracts, registered in this test
//! binary only, are reported with the check they break, and the others are not.

use les::conformance::check_all;
use les_core::registry::{BuildContext, Built, InnerOptimizerEntry, PluginError, StrategyEntry, SurrogateEntry};
use les_core::{
    Ask, AskContext, Dataset, DescentSequences, DifferentiableSurrogate, FitReport, InnerOptimizer, OptimizerError,
    Params, PathBatch, PointPosterior, Prediction, Strategy, StrategyError, StreamRng, Surrogate, SurrogateError,
};
use rand::RngExt;

/// Steps past the cube: no projection.
struct Escapes;

impl InnerOptimizer for Escapes {
    fn descend(
        &self,
        paths: &dyn PathBatch,
        x0: &[f64],
        _: &mut StreamRng,
    ) -> Result<DescentSequences, OptimizerError> {
        let (l, d) = (paths.n_paths(), paths.dim());
        if x0.len() != d {
            return Err(OptimizerError::new("wrong start"));
        }
        let mut positions: Vec<f64> = x0.iter().copied().cycle().take(l * d).collect();
        positions.extend(x0.iter().map(|v| v + 2.0).cycle().take(l * d));
        Ok(DescentSequences { n_paths: l, dim: d, n_records: 2, positions, values: Vec::new() })
    }
}

/// Asks for more than the budget, from a stream of its own that survives between runs.
struct Greedy {
    calls: u64,
}

impl Strategy for Greedy {
    fn ask(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        self.calls += 1;
        let x: f64 = rng.random();
        Ok(Ask { points: vec![vec![x, 0.5]; ctx.remaining + 1], ..Ask::default() })
    }
}

fn build_escapes(_: &Params, _: &BuildContext) -> Result<Built<dyn InnerOptimizer>, PluginError> {
    Ok(Built::new(Box::new(Escapes), &serde_json::json!({})))
}

fn build_greedy(_: &Params, _: &BuildContext) -> Result<Built<dyn Strategy>, PluginError> {
    Ok(Built::new(Box::new(Greedy { calls: 0 }), &serde_json::json!({})))
}

inventory::submit! {
    InnerOptimizerEntry { name: "escapes", summary: "", details: "", default_params: || serde_json::json!({}), build: build_escapes }
}

inventory::submit! {
    StrategyEntry { name: "greedy", summary: "", details: "", default_params: || serde_json::json!({}), build: build_greedy }
}

/// The `gp` with the sign of its posterior mean gradient flipped.
struct FlippedGradients(Box<dyn Surrogate>);

impl Surrogate for FlippedGradients {
    fn dim(&self) -> usize {
        self.0.dim()
    }
    fn fit(&mut self, data: &Dataset, rng: &mut StreamRng) -> Result<FitReport, SurrogateError> {
        self.0.fit(data, rng)
    }
    fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError> {
        self.0.predict(xs)
    }
    fn posterior_covariance(&self, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        self.0.posterior_covariance(a, b)
    }
    fn noise_variance(&self) -> f64 {
        self.0.noise_variance()
    }
    fn output_scale(&self) -> (f64, f64) {
        self.0.output_scale()
    }
    fn as_differentiable(&self) -> Option<&dyn DifferentiableSurrogate> {
        Some(self)
    }
}

impl DifferentiableSurrogate for FlippedGradients {
    fn point_posterior(&self, x: &[f64]) -> Result<PointPosterior, SurrogateError> {
        let mut p = self.0.as_differentiable().expect("the gp has posterior gradients").point_posterior(x)?;
        p.mean_grad.iter_mut().for_each(|g| *g = -*g);
        Ok(p)
    }
}

fn build_flipped(params: &Params, ctx: &BuildContext) -> Result<Built<dyn Surrogate>, PluginError> {
    let gp = les_core::registry::build::<dyn Surrogate>("gp", "name", params, ctx)?;
    Ok(Built::new(Box::new(FlippedGradients(gp.component)), &serde_json::json!({})))
}

inventory::submit! {
    SurrogateEntry { name: "flipped_gradients", summary: "", details: "", default_params: || serde_json::json!({}), build: build_flipped }
}

#[test]
fn broken_plugins_are_reported_with_the_check_they_break() {
    let report = check_all();
    let broken: Vec<(String, &str)> = report.failures.iter().map(|f| (f.name.clone(), f.check)).collect();
    assert_eq!(
        broken,
        [
            ("greedy".to_owned(), "at most the remaining budget"),
            ("escapes".to_owned(), "projection onto the cube"),
            ("flipped_gradients".to_owned(), "mean gradient matches finite differences"),
        ],
        "{:#?}",
        report.failures
    );
}

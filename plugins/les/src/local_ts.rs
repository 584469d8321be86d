//! `local_ts`: local Thompson sampling, the paper's `localTS` ablation (§14). Each iteration
//! fits the surrogate, draws **one** posterior sample path, runs the inner optimizer on it from
//! the incumbent, and evaluates the path's final point `z_T` directly: no support points, no
//! acquisition. It isolates what LES's conditioning on whole sequences over many paths adds.
//!
#![doc = include_str!("../params/local_ts.md")]
//!
//! Phases: `fit`, `paths`, `descent`, `support` (the sampler's, with `L = P = 1`). Pending
//! points are not taken into account (a new path is a new Thompson sample either way).

use les_core::params::join_path;
use les_core::registry::{BuildContext, Built, PluginError, PluginKind, PluginSpec, StrategyEntry, TestParams};
use les_core::rng::child_rng;
use les_core::{
    Ask, AskContext, InnerOptimizer, IterationReport, Params, PluginParams, SequenceSampler, Strategy, StrategyError,
    StreamRng, Surrogate,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::sampler::DescentSampler;
use crate::support::SupportMode;

/// Parameters of [`LocalTsStrategy`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LocalTsParams {
    /// The surrogate; it must draw sample paths.
    pub surrogate: PluginSpec,
    /// The inner optimizer run on the path.
    pub inner_optimizer: PluginSpec,
}

impl Default for LocalTsParams {
    fn default() -> Self {
        Self { surrogate: PluginSpec::named("gp"), inner_optimizer: PluginSpec::named("adam") }
    }
}

impl PluginParams for LocalTsParams {}

/// Local Thompson sampling (see the module docs).
pub struct LocalTsStrategy {
    surrogate: Box<dyn Surrogate>,
    sampler: DescentSampler,
}

impl LocalTsStrategy {
    /// From a surrogate and the inner optimizer.
    pub fn new(surrogate: Box<dyn Surrogate>, optimizer: Box<dyn InnerOptimizer>) -> Self {
        Self { surrogate, sampler: DescentSampler::new(1, 1, SupportMode::Corrected, optimizer) }
    }
}

impl Strategy for LocalTsStrategy {
    fn ask(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        let data = ctx.data;
        let best = data.best_index().ok_or_else(|| {
            StrategyError::Other("local_ts needs at least one observation to start from; set initial_points ≥ 1".into())
        })?;
        let mut report = IterationReport::default();
        let (mut fit_rng, mut path_rng) = (child_rng(rng), child_rng(rng));
        let hyper = report.timed("fit", || self.surrogate.fit(data, &mut fit_rng))?;
        report.diagnostic("hyperparameters", hyper.to_json());
        let incumbent = data.point(best).to_vec();
        report.diagnostic("incumbent", json!({ "index": best, "x": incumbent, "y": data.y()[best] }));
        let pathwise = self
            .surrogate
            .as_pathwise()
            .ok_or_else(|| StrategyError::Other("local_ts needs a pathwise surrogate such as `gp`".to_owned()))?;
        let sampled = self.sampler.sample(pathwise, &incumbent, &mut path_rng, &mut report)?;
        report.diagnostic("local_regret", sampled.local_regret()[0]);
        Ok(Ask { points: vec![sampled.sequences.final_position(0).to_vec()], report, stop: None })
    }
}

fn build(params: &Params, ctx: &BuildContext) -> Result<Built<dyn Strategy>, PluginError> {
    let mut p: LocalTsParams = params.parse()?;
    let surrogate = crate::strategy::build_pathwise_surrogate(&mut p.surrogate, &params.path, ctx, "local_ts")?;
    let optimizer = p.inner_optimizer.build::<dyn InnerOptimizer>(&join_path(&params.path, "inner_optimizer"), ctx)?;
    Ok(Built::new(Box::new(LocalTsStrategy::new(surrogate, optimizer)), &p))
}

inventory::submit! {
    StrategyEntry {
        name: "local_ts",
        summary: "local Thompson sampling (LES ablation localTS): one path, descend from the incumbent, evaluate its end",
        details: concat!(
            "\
Each iteration fits the surrogate, draws one posterior sample path, runs the inner optimizer on it \
from the incumbent, and evaluates the path's final point. No support points, no acquisition: the \
paper's ablation that shows what conditioning on whole sequences over many paths adds.\n\n",
            include_str!("../params/local_ts.md"),
            "\nReference: Stenger et al., ICLR 2026, ablation localTS; docs/les-algorithm.md section 14."
        ),
        default_params: les_core::registry::defaults_of::<LocalTsParams>,
        build,
    }
}

inventory::submit! {
    TestParams {
        kind: PluginKind::Strategy,
        name: "local_ts",
        params: || json!({
            "surrogate": { "name": "gp", "params": { "features": 64, "restarts": 1, "max_iterations": 30 } },
            "inner_optimizer": { "name": "adam", "params": { "steps": 30 } },
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::{Dataset, stream_rng};
    use les_gp::testing::DenseGp;
    use les_optimizers::{Adam, AdamParams};

    /// On dense, nearly noise-free data the one path is the posterior mean up to a tiny spread,
    /// so its descent from the incumbent ends at the mean's minimizer, found independently here
    /// by a grid search over the dense GP's posterior mean.
    #[test]
    fn proposes_the_end_of_a_descent_on_the_sampled_path() {
        let n = 15;
        let x: Vec<f64> = (0..n).map(|i| i as f64 / (n - 1) as f64).collect();
        let y: Vec<f64> = x.iter().map(|v| 4.0 * (v - 0.62) * (v - 0.62)).collect();
        let data = Dataset::from_rows(1, x, y);
        let mut reference = DenseGp::new(vec![0.3], 1.0, 1e-8);
        reference.fit(&data, &mut stream_rng(0, "fit", 0)).expect("fits");
        let grid: Vec<f64> = (0..=10_000).map(|i| i as f64 / 10_000.0).collect();
        let mean = reference.predict(&grid).expect("predicts").mean;
        let argmin = (0..grid.len()).min_by(|&a, &b| mean[a].total_cmp(&mean[b])).expect("grid");

        let adam = Adam::new(AdamParams { learning_rate: 0.01, steps: 300, ..AdamParams::default() }).expect("valid");
        let mut ts = LocalTsStrategy::new(Box::new(DenseGp::new(vec![0.3], 1.0, 1e-8)), Box::new(adam));
        let ctx = AskContext { data: &data, pending: &[], iteration: 1, n_proposed: n, remaining: 5, budget: 20 };
        let ask = ts.ask(&ctx, &mut stream_rng(3, "ask", 1)).expect("asks");
        assert_eq!(ask.points.len(), 1);
        let got = ask.points[0][0];
        // The posterior sd is below 1e-3 everywhere on this data; Adam's steps are 0.01 at most.
        assert!((got - grid[argmin]).abs() < 0.02, "{got} vs the mean's minimizer {}", grid[argmin]);
        let phases: Vec<&str> = ask.report.phases.iter().map(|(p, _)| p.as_str()).collect();
        assert_eq!(phases, ["fit", "paths", "descent", "support"]);
        // Another stream, another path: another (nearby) point.
        let other = ts.ask(&ctx, &mut stream_rng(4, "ask", 1)).expect("asks");
        assert_ne!(other.points[0][0].to_bits(), got.to_bits());
    }
}

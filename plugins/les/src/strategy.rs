//! The LES strategy: one `ask` = fit → sample sequences (the sampler's phases: paths, descent,
//! support) → acquisition → argmax. LES holds a surrogate, a [`SequenceSampler`] and a
//! [`SequenceAcquisition`], each built from the registry, and calls only their traits.

use les_core::params::join_path;
use les_core::registry::{BuildContext, Built, PluginError, PluginKind, PluginSpec, StrategyEntry, TestParams};
use les_core::rng::child_rng;
use les_core::{
    AcquisitionContext, Ask, AskContext, Dataset, IterationReport, Params, SequenceAcquisition, SequenceSampler,
    Strategy, StrategyError, StreamRng, Surrogate,
};
use serde_json::json;

use crate::acquisition::argmax;
use crate::params::{LesParams, migrate_flat_params};
use crate::regret::{fraction_below, regret_stats};

/// Local Entropy Search (see the crate docs).
pub struct LesStrategy {
    params: LesParams,
    surrogate: Box<dyn Surrogate>,
    sampler: Box<dyn SequenceSampler>,
    acquisition: Box<dyn SequenceAcquisition>,
}

impl LesStrategy {
    /// LES from validated parameters and already-built components (the registry's build does
    /// this from a config; tests may pass their own). `params.surrogate`, `params.sampler` and
    /// `params.acquisition` are then only recorded, not used.
    pub fn new(
        params: LesParams,
        surrogate: Box<dyn Surrogate>,
        sampler: Box<dyn SequenceSampler>,
        acquisition: Box<dyn SequenceAcquisition>,
    ) -> Self {
        Self { params, surrogate, sampler, acquisition }
    }

    /// The parameters.
    pub fn params(&self) -> &LesParams {
        &self.params
    }
}

/// Sets `values[c] = −∞` for every candidate within `tol` of an observed point.
/// Returns how many were excluded.
fn exclude_observed(values: &mut [f64], candidates: &[f64], data: &Dataset, tol: f64) -> usize {
    let d = data.dim();
    let tol2 = tol * tol;
    let mut excluded = 0;
    for (v, c) in values.iter_mut().zip(candidates.chunks_exact(d)) {
        let near =
            data.x().chunks_exact(d).any(|x| x.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum::<f64>() <= tol2);
        if near {
            *v = f64::NEG_INFINITY;
            excluded += 1;
        }
    }
    excluded
}

impl Strategy for LesStrategy {
    /// Pending points are conditioned on by the acquisition (as observations without values,
    /// exact for LES's information measures); the paths need no change (`crate::pending`).
    fn handles_pending(&self) -> bool {
        true
    }

    fn ask(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        // On a rayon worker, the parallel loops inside (one per descent step, `T` of them)
        // split work by stealing; from a foreign thread each would be injected into the pool
        // and the caller put to sleep and woken again, ~10 % of a step at d = 5.
        rayon::scope(|_| self.ask_on_worker(ctx, rng))
    }
}

impl LesStrategy {
    fn ask_on_worker(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        let data = ctx.data;
        let Some(best) = data.best_index() else {
            return Err(StrategyError::Other(
                "LES needs at least one observation to start from; set initial_points ≥ 1".to_owned(),
            ));
        };
        let mut report = IterationReport::default();
        let mut fit_rng = child_rng(rng);
        let mut path_rng = child_rng(rng);

        let hyper = report.timed("fit", || self.surrogate.fit(data, &mut fit_rng))?;
        report.diagnostic("hyperparameters", hyper.to_json());
        let incumbent = data.point(best).to_vec();
        report.diagnostic("incumbent", json!({ "index": best, "x": incumbent, "y": data.y()[best] }));

        let surrogate: &dyn Surrogate = self.surrogate.as_ref();
        let pathwise = surrogate.as_pathwise().ok_or_else(|| {
            StrategyError::Other(
                "the surrogate cannot draw sample paths; LES needs a pathwise surrogate such as `gp`".to_owned(),
            )
        })?;
        let sampled = self.sampler.sample(pathwise, &incumbent, &mut path_rng, &mut report)?;

        let regrets = sampled.local_regret();
        let stats = regret_stats(&regrets, self.params.regret_epsilon);
        report.diagnostic("local_regret", serde_json::to_value(&stats).unwrap_or_default());
        if let Some(rule) = &self.params.stop {
            let fraction = fraction_below(&regrets, rule.epsilon);
            if fraction >= rule.probability {
                return Ok(Ask {
                    points: Vec::new(),
                    report,
                    stop: Some(format!(
                        "local-regret stopping rule: {:.3} of {} paths have local regret below {} (required {})",
                        fraction,
                        regrets.len(),
                        rule.epsilon,
                        rule.probability
                    )),
                });
            }
        }

        let tol = self.params.exclude_observed_tol;
        let acquisition = self.acquisition.as_ref();
        let actx = AcquisitionContext { surrogate, data, sequences: &sampled, pending: ctx.pending };
        let (candidates, values, excluded, path_of, diagnostics) =
            report.timed("acquisition", || -> Result<_, StrategyError> {
                let acq = acquisition.build(&actx)?;
                let mut values = acq.values_at_candidates()?;
                let candidates = acq.candidates().to_vec();
                if values.len() * data.dim() != candidates.len() {
                    return Err(StrategyError::Other(format!(
                        "the acquisition returned {} values for {} candidates",
                        values.len(),
                        candidates.len() / data.dim().max(1)
                    )));
                }
                let excluded = tol.map(|t| exclude_observed(&mut values, &candidates, data, t));
                let path_of: Vec<Option<usize>> = (0..values.len()).map(|c| acq.candidate_path(c)).collect();
                Ok((candidates, values, excluded, path_of, acq.diagnostics()))
            })?;
        for (key, value) in diagnostics {
            report.diagnostic(&format!("acquisition_{key}"), value);
        }
        report.diagnostic("n_candidates", values.len());
        if let Some(n) = excluded {
            report.diagnostic("excluded_candidates", n);
        }
        let chosen = argmax(&values).ok_or_else(|| {
            StrategyError::Other(format!(
                "no candidate has a finite acquisition value ({} candidates{}); if exclude_observed_tol is set, \
                 lower it",
                values.len(),
                excluded.map(|n| format!(", {n} excluded near observed points")).unwrap_or_default()
            ))
        })?;
        report.diagnostic("acquisition_max", values[chosen]);
        if let Some(path) = path_of[chosen] {
            report.diagnostic("chosen_path", path);
        }
        let d = data.dim();
        let point = candidates[chosen * d..(chosen + 1) * d].to_vec();
        Ok(Ask { points: vec![point], report, stop: None })
    }
}

/// Builds the `surrogate` of the strategy at `strategy_path` (resolving its params in `spec`),
/// which must draw sample paths
/// (`who` names the strategy in the error).
pub(crate) fn build_pathwise_surrogate(
    spec: &mut PluginSpec,
    strategy_path: &str,
    ctx: &BuildContext,
    who: &str,
) -> Result<Box<dyn Surrogate>, PluginError> {
    let surrogate_path = join_path(strategy_path, "surrogate");
    let surrogate = spec.build::<dyn Surrogate>(&surrogate_path, ctx)?;
    if surrogate.as_pathwise().is_none() {
        return Err(PluginError::Build {
            path: join_path(&surrogate_path, "name"),
            message: format!(
                "surrogate `{}` cannot draw sample paths; {who} needs a pathwise surrogate such as `gp`",
                spec.name
            ),
        });
    }
    Ok(surrogate)
}

fn build(params: &Params, ctx: &BuildContext) -> Result<Built<dyn Strategy>, PluginError> {
    let migrated = Params::new(migrate_flat_params(&params.value, &params.path)?, params.path.clone());
    let mut p: LesParams = migrated.parse()?;
    let surrogate = build_pathwise_surrogate(&mut p.surrogate, &params.path, ctx, "LES")?;
    let sampler = p.sampler.build::<dyn SequenceSampler>(&join_path(&params.path, "sampler"), ctx)?;
    let acquisition = p.acquisition.build::<dyn SequenceAcquisition>(&join_path(&params.path, "acquisition"), ctx)?;
    Ok(Built::new(Box::new(LesStrategy::new(p.clone(), surrogate, sampler, acquisition)), &p))
}

inventory::submit! {
    StrategyEntry {
        name: "les",
        summary: "Local Entropy Search: information about where an optimizer run on the GP would descend",
        details: crate::DETAILS,
        default_params: les_core::registry::defaults_of::<LesParams>,
        build,
    }
}

/// Small settings for the conformance harness: 8 paths of 30 Adam steps, few features.
fn test_params() -> serde_json::Value {
    json!({
        "surrogate": { "name": "gp", "params": { "features": 64, "restarts": 1, "max_iterations": 30 } },
        "sampler": { "name": "descent", "params": {
            "paths": 8, "support_points": 3, "inner_optimizer": { "name": "adam", "params": { "steps": 30 } } } },
    })
}

inventory::submit! {
    TestParams { kind: PluginKind::Strategy, name: "les", params: test_params }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acquisition::{AcquisitionSettings, MutualInformationAcquisition};
    use crate::params::StopRule;
    use crate::sampler::DescentSampler;
    use crate::support::SupportMode;
    use les_core::stream_rng;
    use les_gp::testing::DenseGp;
    use les_optimizers::{Adam, AdamParams};

    fn les(params: LesParams) -> LesStrategy {
        les_with(params, 16, 4)
    }

    fn les_with(params: LesParams, paths: usize, per_path: usize) -> LesStrategy {
        let gp = DenseGp::new(vec![0.25, 0.4], 1.0, 1e-4);
        let adam = Adam::new(AdamParams { learning_rate: 0.01, steps: 60, ..AdamParams::default() }).expect("valid");
        let sampler = DescentSampler::new(paths, per_path, SupportMode::Corrected, Box::new(adam));
        let acquisition = MutualInformationAcquisition { settings: AcquisitionSettings::default() };
        LesStrategy::new(params, Box::new(gp), Box::new(sampler), Box::new(acquisition))
    }

    fn data() -> Dataset {
        let x: Vec<f64> = vec![0.2, 0.3, 0.8, 0.6, 0.5, 0.9, 0.1, 0.7];
        let y = x.chunks(2).map(|p| (4.0 * p[0]).sin() * (3.0 * p[1]).cos()).collect();
        Dataset::from_rows(2, x, y)
    }

    fn ctx(data: &Dataset) -> AskContext<'_> {
        AskContext { pending: &[], data, iteration: 1, n_proposed: data.len(), remaining: 10, budget: 20 }
    }

    fn small() -> LesParams {
        LesParams::default()
    }

    #[test]
    fn ask_proposes_a_support_point_and_reports_every_phase() {
        let data = data();
        let ask = les(small()).ask(&ctx(&data), &mut stream_rng(1, "ask", 1)).expect("asks");
        assert_eq!(ask.points.len(), 1);
        assert!(ask.points[0].iter().all(|x| (0.0..=1.0).contains(x)));
        let phases: Vec<&str> = ask.report.phases.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(phases, ["fit", "paths", "descent", "support", "acquisition"]);
        for key in ["hyperparameters", "incumbent", "local_regret", "acquisition_max", "n_candidates"] {
            assert!(ask.report.diagnostics.contains_key(key), "missing {key}");
        }
        assert_eq!(ask.report.diagnostics["n_candidates"], 64);
        assert!(ask.report.diagnostics["acquisition_max"].as_f64().expect("number") > 0.0);
        assert_eq!(ask.report.diagnostics["incumbent"]["index"], data.best_index().expect("data"));
        let regret = &ask.report.diagnostics["local_regret"];
        assert!(regret["min"].as_f64() <= regret["median"].as_f64());
        assert!(ask.stop.is_none());
    }

    #[test]
    fn asking_with_the_chosen_point_pending_proposes_another_point() {
        let data = data();
        let mut strategy = les(small());
        assert!(strategy.handles_pending());
        let first = strategy.ask(&ctx(&data), &mut stream_rng(1, "ask", 1)).expect("asks");
        let x_p = first.points[0].clone();
        let pending = vec![x_p.clone()];
        let with = AskContext { pending: &pending, ..ctx(&data) };
        let second = strategy.ask(&with, &mut stream_rng(1, "ask", 1)).expect("asks");
        assert_eq!(second.report.diagnostics["acquisition_pending_conditioned"], 1);
        assert_ne!(second.points[0], x_p, "the same stream, but the point in flight is not asked again");
    }

    #[test]
    fn deterministic_across_thread_counts() {
        let data = data();
        let run = |threads| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool").install(|| {
                let mut ask = les(small()).ask(&ctx(&data), &mut stream_rng(5, "ask", 1)).expect("asks");
                ask.report.diagnostics.remove("acquisition_covariance_seconds"); // wall time
                (ask.points, ask.report.diagnostics)
            })
        };
        let one = run(1);
        assert_eq!(one, run(2));
    }

    #[test]
    fn stop_rule_fires_when_regret_is_below_epsilon_everywhere() {
        let data = data();
        let params = LesParams { stop: Some(StopRule { epsilon: 1e9, probability: 0.5 }), ..small() };
        let ask = les(params).ask(&ctx(&data), &mut stream_rng(1, "ask", 1)).expect("asks");
        assert!(ask.points.is_empty());
        assert!(ask.stop.expect("stops").contains("local-regret"));
        let params = LesParams { stop: Some(StopRule { epsilon: -1e9, probability: 0.5 }), ..small() };
        let ask = les(params).ask(&ctx(&data), &mut stream_rng(1, "ask", 1)).expect("asks");
        assert!(ask.stop.is_none());
    }

    #[test]
    fn excluding_everything_is_an_error_that_says_what_to_do() {
        let data = data();
        let params = LesParams { exclude_observed_tol: Some(10.0), ..small() };
        let err = les(params).ask(&ctx(&data), &mut stream_rng(1, "ask", 1)).unwrap_err();
        assert!(err.to_string().contains("exclude_observed_tol"), "{err}");
        let params = LesParams { exclude_observed_tol: Some(1e-9), ..small() };
        let ask = les(params).ask(&ctx(&data), &mut stream_rng(1, "ask", 1)).expect("asks");
        assert_eq!(ask.points.len(), 1);
    }
}

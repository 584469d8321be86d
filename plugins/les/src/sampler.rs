//! The sequence sampler of LES (`descent`): draw `L` posterior sample paths, run the inner
//! optimizer on all of them from the incumbent, and reduce each descent sequence to `P`
//! support points.
//!
#![doc = include_str!("../params/descent.md")]
//!
//! Phases in `iterations.jsonl`: `paths`, `descent`, `support`.

use les_core::params::join_path;
use les_core::registry::{BuildContext, Built, PluginError, PluginSpec, SequenceSamplerEntry, defaults_of};
use les_core::rng::child_rng;
use les_core::{
    DescentSequences, InnerOptimizer, IterationReport, ParamError, Params, PathBatch, PathwiseSurrogate, PluginParams,
    SampledSequences, SamplerError, SequenceSampler, StreamRng, SupportPoints, SurrogateError,
};
use serde::{Deserialize, Serialize};

use crate::support::{SupportMode, extract_support};

/// Default number of sample paths `L`.
pub const DEFAULT_PATHS: usize = 250;
/// Default number of support points per path `P`.
pub const DEFAULT_SUPPORT_POINTS: usize = 8;

/// Parameters of the `descent` sampler (`strategy.params.sampler.params`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DescentParams {
    /// Number of posterior sample paths `L`.
    pub paths: usize,
    /// Support points per descent sequence `P`.
    pub support_points: usize,
    /// How support points are picked from a sequence.
    pub support_mode: SupportMode,
    /// The inner optimizer run on every path (`adam`, `gradient_descent`, `cmaes`).
    pub inner_optimizer: PluginSpec,
}

impl Default for DescentParams {
    fn default() -> Self {
        Self {
            paths: DEFAULT_PATHS,
            support_points: DEFAULT_SUPPORT_POINTS,
            support_mode: SupportMode::Corrected,
            inner_optimizer: PluginSpec::named("adam"),
        }
    }
}

impl PluginParams for DescentParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.paths == 0 {
            return Err(ParamError::invalid("paths", self.paths, "at least 1"));
        }
        if self.support_points == 0 {
            return Err(ParamError::invalid("support_points", self.support_points, "at least 1"));
        }
        Ok(())
    }
}

/// Paths → descent sequences → arc-length support points. The stages are public so that a
/// test or a benchmark can run them one by one; [`SequenceSampler::sample`] runs all three,
/// each timed as a phase.
pub struct DescentSampler {
    /// Number of sample paths `L`.
    pub n_paths: usize,
    /// Support points per path `P`.
    pub per_path: usize,
    /// How support points are picked.
    pub mode: SupportMode,
    optimizer: Box<dyn InnerOptimizer>,
}

impl DescentSampler {
    /// A sampler running `optimizer` on `n_paths` paths and keeping `per_path` support points.
    pub fn new(n_paths: usize, per_path: usize, mode: SupportMode, optimizer: Box<dyn InnerOptimizer>) -> Self {
        Self { n_paths, per_path, mode, optimizer }
    }

    /// Draws `L` posterior sample paths.
    pub fn draw_paths(
        &self,
        surrogate: &dyn PathwiseSurrogate,
        rng: &mut StreamRng,
    ) -> Result<Box<dyn PathBatch>, SurrogateError> {
        let paths = surrogate.sample_paths(self.n_paths, rng)?;
        if paths.n_paths() != self.n_paths || paths.dim() != surrogate.dim() {
            return Err(SurrogateError::Numerical(format!(
                "the surrogate returned {} paths in {} dimensions; asked for {} in {}",
                paths.n_paths(),
                paths.dim(),
                self.n_paths,
                surrogate.dim()
            )));
        }
        Ok(paths)
    }

    /// Runs the inner optimizer on every path from `start` (`d` values in the cube), and checks
    /// that it returned one history per path inside the cube.
    pub fn descend(
        &self,
        paths: &dyn PathBatch,
        start: &[f64],
        rng: &mut StreamRng,
    ) -> Result<DescentSequences, SamplerError> {
        let seqs = self.optimizer.descend(paths, start, rng)?;
        let (l, d) = (paths.n_paths(), paths.dim());
        let shape_ok = seqs.n_paths == l
            && seqs.dim == d
            && seqs.n_records >= 1
            && seqs.positions.len() == seqs.n_records * l * d
            && (seqs.values.is_empty() || seqs.values.len() == seqs.n_records * l);
        if !shape_ok {
            return Err(les_core::OptimizerError::new(format!(
                "returned {} records of {} paths in d = {} ({} positions, {} values) for {l} paths in d = {d}",
                seqs.n_records,
                seqs.n_paths,
                seqs.dim,
                seqs.positions.len(),
                seqs.values.len()
            ))
            .into());
        }
        if let Some(bad) = seqs.positions.iter().find(|v| !(0.0..=1.0).contains(*v)) {
            return Err(les_core::OptimizerError::new(format!(
                "returned the position coordinate {bad}, outside the unit cube [0, 1]"
            ))
            .into());
        }
        Ok(seqs)
    }

    /// The `P` support points of every sequence run on `paths`.
    pub fn support(&self, sequences: &DescentSequences, paths: &dyn PathBatch) -> SupportPoints {
        extract_support(sequences, paths, self.per_path, self.mode)
    }
}

impl SequenceSampler for DescentSampler {
    fn sample(
        &self,
        surrogate: &dyn PathwiseSurrogate,
        start: &[f64],
        rng: &mut StreamRng,
        report: &mut IterationReport,
    ) -> Result<SampledSequences, SamplerError> {
        let paths = report.timed("paths", || self.draw_paths(surrogate, rng))?;
        // The optimizer's stream is a child taken after the paths were drawn: the paths are the
        // same whichever optimizer runs on them.
        let mut optimizer_rng = child_rng(rng);
        let sequences = report.timed("descent", || self.descend(paths.as_ref(), start, &mut optimizer_rng))?;
        let (support, start_values, final_values) = report.timed("support", || {
            let support = self.support(&sequences, paths.as_ref());
            let last = sequences.n_records - 1;
            let start_values = sequences.values_at(paths.as_ref(), &vec![0; sequences.n_paths]);
            let final_values = sequences.values_at(paths.as_ref(), &vec![last; sequences.n_paths]);
            (support, start_values, final_values)
        });
        report.diagnostic("descent_records", sequences.n_records);
        Ok(SampledSequences { sequences, support, start_values, final_values })
    }
}

fn build(params: &Params, ctx: &BuildContext) -> Result<Built<dyn SequenceSampler>, PluginError> {
    let mut p: DescentParams = params.parse()?;
    let optimizer = p.inner_optimizer.build::<dyn InnerOptimizer>(&join_path(&params.path, "inner_optimizer"), ctx)?;
    let sampler = DescentSampler::new(p.paths, p.support_points, p.support_mode, optimizer);
    Ok(Built::new(Box::new(sampler), &p))
}

inventory::submit! {
    SequenceSamplerEntry {
        name: "descent",
        summary: "LES's sampler: L posterior paths, the inner optimizer from the incumbent on each, P arc-length support points",
        details: concat!(
            "\
Draws L posterior sample paths of the surrogate, runs the inner optimizer on all of them from the \
incumbent (the best observed point), and reduces each descent sequence to P iterates equally spaced \
in arc length. Phases: paths, descent, support.\n\n",
            include_str!("../params/descent.md"),
            "\nReference: docs/les-algorithm.md sections 7-9."
        ),
        default_params: defaults_of::<DescentParams>,
        build,
    }
}

inventory::submit! {
    les_core::registry::TestParams {
        kind: les_core::PluginKind::SequenceSampler,
        name: "descent",
        params: || serde_json::json!({ "paths": 6, "support_points": 3, "inner_optimizer": { "name": "adam", "params": { "steps": 20 } } }),
    }
}

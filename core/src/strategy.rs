//! Strategies: what to evaluate next.

use serde_json::{Map, Value};

use crate::{Dataset, Observation, OptimizerError, SamplerError, StreamRng, SurrogateError};

/// What a strategy sees when asked for points.
#[derive(Clone, Copy, Debug)]
pub struct AskContext<'a> {
    /// Successful observations so far, in the unit cube.
    pub data: &'a Dataset,
    /// Points asked but not yet told (evaluations in flight), in the unit cube, in trial
    /// order. A strategy that takes them into account says so with
    /// [`Strategy::handles_pending`]; the others propose as if they were not there.
    pub pending: &'a [Vec<f64>],
    /// Strategy iteration, starting at 1 (iteration 0 is the runner's initial design).
    pub iteration: usize,
    /// Points proposed so far by the initial design and the strategy, failed and pending ones
    /// included (observations told without an ask are not counted).
    pub n_proposed: usize,
    /// Evaluations left in the budget that are not already in flight (≥ 1 when `ask` is
    /// called).
    pub remaining: usize,
    /// Total evaluation budget of the run.
    pub budget: usize,
}

/// Per-iteration diagnostics written to `iterations.jsonl`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct IterationReport {
    /// Wall time per phase (`fit`, `paths`, `descent` …), in seconds, in the order measured.
    pub phases: Vec<(String, f64)>,
    /// Anything else worth keeping: fitted hyperparameters, acquisition maximum, local regret …
    pub diagnostics: Map<String, Value>,
}

impl IterationReport {
    /// Records the wall time of one phase.
    pub fn phase(&mut self, name: &str, seconds: f64) {
        self.phases.push((name.to_owned(), seconds));
    }

    /// Records one diagnostic value.
    pub fn diagnostic(&mut self, key: &str, value: impl Into<Value>) {
        self.diagnostics.insert(key.to_owned(), value.into());
    }

    /// Runs `f`, records its wall time as phase `name`, and returns its result.
    pub fn timed<R>(&mut self, name: &str, f: impl FnOnce() -> R) -> R {
        let start = std::time::Instant::now();
        let out = f();
        self.phase(name, start.elapsed().as_secs_f64());
        out
    }
}

/// A strategy's answer to `ask`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Ask {
    /// Points to evaluate next, each `d` values in the unit cube; at most
    /// `AskContext::remaining` of them (extra ones are dropped). Empty only with `stop`.
    pub points: Vec<Vec<f64>>,
    /// Diagnostics for the journal.
    pub report: IterationReport,
    /// Set when the strategy's own stopping rule fires: the run ends with this reason.
    pub stop: Option<String>,
}

/// Why a strategy could not propose points. Ends the run (exit 1) with data kept.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum StrategyError {
    /// The model failed.
    #[error("surrogate: {0}")]
    Surrogate(#[from] SurrogateError),
    /// The inner optimizer run on the sample paths failed.
    #[error("inner optimizer: {0}")]
    Optimizer(#[from] OptimizerError),
    /// Anything else, with a message that says what went wrong.
    #[error("{0}")]
    Other(String),
}

impl From<SamplerError> for StrategyError {
    fn from(e: SamplerError) -> Self {
        match e {
            SamplerError::Surrogate(e) => StrategyError::Surrogate(e),
            SamplerError::Optimizer(e) => StrategyError::Optimizer(e),
        }
    }
}

/// Decides where to evaluate next. Never calls the objective itself: the runner owns the loop.
///
/// Contract (what makes every strategy resumable): `ask` depends only on the context, on the
/// random stream handed to it and on state changed by `tell`; `tell` is deterministic. On
/// resume the runner rebuilds the strategy and replays `tell` with the journaled observations,
/// then continues asking with the same per-iteration streams.
pub trait Strategy: Send {
    /// Whether the runner should evaluate `initial_points` uniform points before the first
    /// `ask` (true for model-based strategies; space-filling designs propose every point).
    fn uses_initial_design(&self) -> bool {
        true
    }

    /// Whether `ask` takes [`AskContext::pending`] into account, so that asking again while
    /// evaluations are in flight gives new, useful points. Strategies that do not are still
    /// asked, and the caller is told that their points ignore the pending ones.
    fn handles_pending(&self) -> bool {
        false
    }

    /// Proposes the next points. `rng` is this iteration's own stream.
    fn ask(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError>;

    /// Learns the outcome of evaluations (initial design included), in evaluation order.
    fn tell(&mut self, _observations: &[Observation]) -> Result<(), StrategyError> {
        Ok(())
    }
}

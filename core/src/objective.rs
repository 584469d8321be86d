//! The expensive black box being minimized.

use serde::{Deserialize, Serialize};

use crate::{Bounds, GpHyperparameters};

/// What a run needs to know about an objective before evaluating it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ObjectiveInfo {
    /// A short name for logs and reports (`ackley`, `gp_sample`, a library path …).
    pub name: String,
    /// The box the objective is defined on, in its own (native) coordinates.
    pub bounds: Bounds,
    /// Standard deviation of Gaussian noise the runner adds to each observation (0 = none).
    /// The noise stream is derived from the run seed and the evaluation index, so a run stays
    /// deterministic.
    pub noise_std: f64,
    /// Whether `evaluate` returns the noise-free function value. Then the journal also keeps
    /// that value (`f`) beside the observation, for reports of true performance.
    pub exact: bool,
    /// The global minimum value, when known.
    pub known_minimum: Option<f64>,
    /// A global minimizer in native coordinates, when known.
    pub known_minimizer: Option<Vec<f64>>,
}

impl ObjectiveInfo {
    /// Input dimension `d`.
    pub fn dim(&self) -> usize {
        self.bounds.dim()
    }
}

/// Which trial of which run an evaluation belongs to, and whether the run still wants it.
#[derive(Clone, Debug, Default)]
pub struct EvaluationContext {
    /// The trial id (as `les ask` and the journal name it).
    pub trial: usize,
    /// The run seed.
    pub seed: u64,
    /// The run directory, when the run has one.
    pub run_dir: Option<std::path::PathBuf>,
    /// Set when the run is interrupted: an objective that waits (for a process, a queue)
    /// checks it, ends what it started and returns [`ObjectiveError::Interrupted`].
    pub cancel: crate::cancel::Cancel,
}

/// Why one evaluation failed. Handled by the run's `on_error` policy, never fatal by itself.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum ObjectiveError {
    /// The objective reported a failure with this message.
    #[error("{0}")]
    Failed(String),
    /// The run was interrupted while this evaluation ran; the evaluation is not told (its
    /// trial stays pending and a resume evaluates it again).
    #[error("interrupted before the evaluation finished")]
    Interrupted,
    /// The objective returned NaN or ±inf.
    #[error("objective returned a non-finite value ({0})")]
    NonFinite(f64),
    /// The point has the wrong number of coordinates.
    #[error("point has {got} coordinates, objective expects {expected}")]
    Dimension {
        /// Coordinates given.
        got: usize,
        /// Coordinates expected (`d`).
        expected: usize,
    },
}

/// An expensive black-box function to minimize. Everything minimizes.
///
/// `evaluate` may be called from several threads at once (`Sync`); an objective that cannot
/// allow that must serialize internally.
pub trait Objective: Send + Sync {
    /// Name, box, noise and known optimum.
    fn info(&self) -> &ObjectiveInfo;

    /// The value at `x` (native coordinates, `d` values). An error or a non-finite value is a
    /// failed evaluation that the runner records and handles by its `on_error` policy.
    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError>;

    /// The value at `x` for one trial of a run: objectives that name output files after the
    /// trial (a simulation, a command) override this; the default calls [`Objective::evaluate`].
    fn evaluate_in(&self, x: &[f64], _ctx: &EvaluationContext) -> Result<f64, ObjectiveError> {
        self.evaluate(x)
    }

    /// The gradient at `x` in native coordinates, when the objective has a cheap analytic one.
    fn gradient(&self, _x: &[f64]) -> Option<Vec<f64>> {
        None
    }

    /// The true GP hyperparameters, for objectives drawn from a GP prior.
    fn true_hyperparameters(&self) -> Option<GpHyperparameters> {
        None
    }
}

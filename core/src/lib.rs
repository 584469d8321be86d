//! Core of `les`: the plugin seam (traits), the registry, the typed configuration, the runner
//! that owns the ask/tell loop, the study behind it (ask/tell from your own loop), and the
//! crash-safe run journal.
//!
//! Dimension vocabulary used in every doc comment of the workspace:
//! `d` input dimension, `n` observations, `L` sample paths, `T` inner-optimizer steps,
//! `P` support points per path, `M` candidates. Matrices are flat `Vec<f64>` in row-major
//! order; a doc comment such as "`L×d`" means `L` rows of `d` values.
//!
//! Every strategy works on the unit cube `[0, 1]^d`: the runner maps the objective's box to the
//! cube before data reach a strategy and maps asked points back before they are evaluated.

pub mod acquisition;
pub mod arithmetic;
pub mod bounds;
pub mod cancel;
pub mod config;
pub mod data;
pub mod initial_data;
pub mod journal;
pub mod lock;
pub mod objective;
pub mod optimizer;
pub mod param_docs;
pub mod params;
pub mod registry;
pub mod rng;
pub mod runner;
pub mod sequence;
pub mod strategy;
pub mod study;
pub mod surrogate;
pub mod yaml;

pub use acquisition::{Acquisition, AcquisitionContext, SequenceAcquisition};
pub use bounds::Bounds;
pub use data::{Dataset, Observation};
pub use objective::{EvaluationContext, Objective, ObjectiveError, ObjectiveInfo};
pub use optimizer::{DescentSequences, InnerOptimizer, OptimizerError};
pub use params::{ParamError, Params, PluginParams};
pub use registry::{BuildContext, Built, PluginEntry, PluginError, PluginKind};
pub use rng::{StreamRng, stream_rng};
pub use sequence::{SampledSequences, SamplerError, SequenceSampler, SupportPoints};
pub use strategy::{Ask, AskContext, IterationReport, Strategy, StrategyError};
pub use study::{Asked, Best, Evaluation, Outcome, Study, StudyError, StudyStatus, Trial, TrialId};
pub use surrogate::{
    Capability, ConditionableSurrogate, CovarianceBlocks, DerivativeSurrogate, DifferentiableSurrogate, FitReport,
    GpHyperparameters, GradientPosterior, HyperparameterFit, KernelKind, PathBatch, PathwiseSurrogate, PointPosterior,
    Prediction, Surrogate, SurrogateError,
};

/// The version of `les` that wrote a run, recorded in `summary.json`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

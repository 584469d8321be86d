//! Sequence samplers: from a fitted model and a start point to descent sequences and their
//! support points (the virtual observations LES conditions on).

use crate::{DescentSequences, IterationReport, OptimizerError, PathwiseSurrogate, StreamRng, SurrogateError};

/// `P` support points on each of `L` sequences.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SupportPoints {
    /// Number of paths `L`.
    pub n_paths: usize,
    /// Support points per path `P`.
    pub per_path: usize,
    /// Input dimension `d`.
    pub dim: usize,
    /// `L×P×d` points in the unit cube (path-major).
    pub points: Vec<f64>,
    /// `L×P` path values at the support points (used only for logging: a Gaussian
    /// conditional variance does not depend on observed values).
    pub values: Vec<f64>,
}

impl SupportPoints {
    /// The `P×d` support points of path `l`.
    pub fn of_path(&self, l: usize) -> &[f64] {
        let w = self.per_path * self.dim;
        &self.points[l * w..(l + 1) * w]
    }
}

/// Descent sequences together with their support points.
///
/// The paths themselves are not kept (at the paper's setting they hold `L·B` feature weights
/// and `L·n` update weights per path batch): what an acquisition or the local regret needs of
/// their values is recorded here.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampledSequences {
    /// The full histories.
    pub sequences: DescentSequences,
    /// The support points extracted from them.
    pub support: SupportPoints,
    /// `f^l(z_0)`, the value of each path at the start point, `L` values.
    pub start_values: Vec<f64>,
    /// `f^l(z_T)`, the value of each path at its final point, `L` values.
    pub final_values: Vec<f64>,
}

impl SampledSequences {
    /// Number of sequences `L`.
    pub fn n_paths(&self) -> usize {
        self.sequences.n_paths
    }

    /// The local regret `r_l = f^l(z_0) − f^l(z_T)` of every path, `L` values.
    pub fn local_regret(&self) -> Vec<f64> {
        self.start_values.iter().zip(&self.final_values).map(|(a, b)| a - b).collect()
    }
}

/// Why a sequence sampler could not sample.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum SamplerError {
    /// The model could not draw paths.
    #[error("surrogate: {0}")]
    Surrogate(#[from] SurrogateError),
    /// The inner optimizer failed on the paths.
    #[error("inner optimizer: {0}")]
    Optimizer(#[from] OptimizerError),
}

/// Turns a fitted pathwise model and a start point into sampled descent sequences: the first
/// half of LES (registered as kind `sequence_sampler`, chosen by `strategy.params.sampler`).
pub trait SequenceSampler: Send + Sync {
    /// Draws paths, descends on them from `start` (`d` values in the unit cube), and extracts
    /// support points. `rng` is this iteration's stream for the sampler; the stages are timed
    /// as phases of `report` (`paths`, `descent`, `support` for LES's `descent` sampler), and
    /// anything worth keeping goes to its diagnostics.
    fn sample(
        &self,
        surrogate: &dyn PathwiseSurrogate,
        start: &[f64],
        rng: &mut StreamRng,
        report: &mut IterationReport,
    ) -> Result<SampledSequences, SamplerError>;
}

//! Sequence samplers: from a fitted model and a start point to descent sequences and their
//! support points (the virtual observations LES conditions on).

use crate::{DescentSequences, PathwiseSurrogate, StreamRng, SurrogateError};

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
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SampledSequences {
    /// The full histories.
    pub sequences: DescentSequences,
    /// The support points extracted from them.
    pub support: SupportPoints,
}

/// Turns a fitted pathwise model and a start point into sampled descent sequences.
pub trait SequenceSampler: Send + Sync {
    /// Draws paths, descends on them from `start` (`d` values in the unit cube), and extracts
    /// support points.
    fn sample(
        &self,
        surrogate: &dyn PathwiseSurrogate,
        start: &[f64],
        rng: &mut StreamRng,
    ) -> Result<SampledSequences, SurrogateError>;
}

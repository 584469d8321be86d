//! The sequence sampler of LES: draw `L` posterior sample paths, run the inner optimizer on all
//! of them from the incumbent, and reduce each descent sequence to `P` support points.

use les_core::{
    DescentSequences, InnerOptimizer, PathBatch, PathwiseSurrogate, SampledSequences, SequenceSampler, StreamRng,
    SupportPoints, SurrogateError,
};

use crate::support::{SupportMode, extract_support};

/// Paths → descent sequences → arc-length support points. The stages are public so that the
/// strategy can time them separately; [`SequenceSampler::sample`] runs all three.
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

    /// Runs the inner optimizer on every path from `start` (`d` values in the cube).
    pub fn descend(&self, paths: &dyn PathBatch, start: &[f64]) -> DescentSequences {
        self.optimizer.descend(paths, start)
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
    ) -> Result<SampledSequences, SurrogateError> {
        let paths = self.draw_paths(surrogate, rng)?;
        let sequences = self.descend(paths.as_ref(), start);
        let support = self.support(&sequences, paths.as_ref());
        Ok(SampledSequences { sequences, support })
    }
}

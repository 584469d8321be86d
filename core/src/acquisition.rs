//! Acquisition functions evaluated on batches of candidates, and the acquisitions of LES built
//! each iteration from the sampled descent sequences.

use serde_json::{Map, Value};

use crate::{Dataset, SampledSequences, Surrogate, SurrogateError};

/// An acquisition function built once per iteration with its context (model, sequences,
/// incumbent …) and evaluated on a batch of `M` candidates. Larger is better.
pub trait Acquisition: Send + Sync {
    /// Values at `M` candidates (`candidates` is `M×d` in the unit cube), `M` values.
    fn values(&self, candidates: &[f64]) -> Result<Vec<f64>, SurrogateError>;

    /// The candidates it is maximized over by default, `M×d` in the unit cube (LES's
    /// acquisitions: support points or final points of the sequences); empty when it has
    /// none of its own.
    fn candidates(&self) -> &[f64] {
        &[]
    }

    /// Values at [`Acquisition::candidates`], `M` values; an implementation may take a faster
    /// path than [`Acquisition::values`] (LES's mutual information reuses `Σ(Z, Z)`).
    fn values_at_candidates(&self) -> Result<Vec<f64>, SurrogateError> {
        self.values(self.candidates())
    }

    /// The sample path that candidate `index` of [`Acquisition::candidates`] came from, if any
    /// (for the journal).
    fn candidate_path(&self, _index: usize) -> Option<usize> {
        None
    }

    /// Anything worth journaling about this iteration's acquisition (timings of its parts …).
    fn diagnostics(&self) -> Map<String, Value> {
        Map::new()
    }
}

/// What an acquisition over descent sequences is built from in one iteration.
#[derive(Clone, Copy)]
pub struct AcquisitionContext<'a> {
    /// The fitted model (unit cube, model output scale).
    pub surrogate: &'a dyn Surrogate,
    /// The observations it was fitted to.
    pub data: &'a Dataset,
    /// This iteration's sampled sequences and support points.
    pub sequences: &'a SampledSequences,
    /// Points in flight (asked, not yet told), `d` values each in the unit cube. An
    /// acquisition conditions on them as observations without values (with the model's
    /// noise): a Gaussian conditional variance depends on locations only, so this is exact
    /// for an information-based acquisition, not a heuristic.
    pub pending: &'a [Vec<f64>],
}

/// An acquisition over descent sequences (registered as kind `acquisition`, chosen by
/// `strategy.params.acquisition`): builds this iteration's [`Acquisition`] from the fitted
/// model, the sampled sequences and the pending points.
pub trait SequenceAcquisition: Send + Sync {
    /// Builds the acquisition for one iteration.
    fn build<'a>(&self, ctx: &AcquisitionContext<'a>) -> Result<Box<dyn Acquisition + 'a>, SurrogateError>;
}

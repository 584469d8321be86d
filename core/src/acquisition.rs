//! Acquisition functions evaluated on batches of candidates.

use crate::SurrogateError;

/// An acquisition function built once per iteration with its context (model, sequences,
/// incumbent …) and evaluated on a batch of `M` candidates. Larger is better.
pub trait Acquisition: Send + Sync {
    /// Values at `M` candidates (`candidates` is `M×d` in the unit cube), `M` values.
    fn values(&self, candidates: &[f64]) -> Result<Vec<f64>, SurrogateError>;
}

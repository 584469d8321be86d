//! Inner optimizers: iterative methods run on sample paths to simulate descent sequences.

use crate::{PathBatch, StreamRng};

/// The iterate history of `L` descent sequences of `T + 1` recorded points each (the start
/// point `z_0` included).
///
/// Step-major layout, because each step evaluates all paths at once: position of path `l` at
/// record `t` is `positions[(t·L + l)·d ..][..d]`, its path value is `values[t·L + l]`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DescentSequences {
    /// Number of paths `L`.
    pub n_paths: usize,
    /// Input dimension `d`.
    pub dim: usize,
    /// Number of recorded points per path, `T + 1`.
    pub n_records: usize,
    /// `(T+1)×L×d` positions in the unit cube.
    pub positions: Vec<f64>,
    /// `(T+1)×L` path values at those positions, or empty when the optimizer followed
    /// gradients only (gradient descent and Adam: with values every step's random-feature
    /// kernel costs half as much again, 1.0 against 0.65 µs per path at `d = 5`, and only a
    /// few values are ever read). Read them with [`DescentSequences::values_at`], which
    /// evaluates the paths when none were recorded.
    pub values: Vec<f64>,
}

impl DescentSequences {
    /// Position of path `l` at record `t`, `d` values.
    pub fn position(&self, t: usize, l: usize) -> &[f64] {
        let start = (t * self.n_paths + l) * self.dim;
        &self.positions[start..start + self.dim]
    }

    /// Whether the optimizer recorded the path values of every record.
    pub fn has_values(&self) -> bool {
        !self.values.is_empty() || self.n_paths == 0
    }

    /// Recorded path value of path `l` at record `t`.
    ///
    /// # Panics
    /// If no values were recorded ([`DescentSequences::has_values`]); use
    /// [`DescentSequences::values_at`] then.
    pub fn value(&self, t: usize, l: usize) -> f64 {
        assert!(self.has_values(), "invariant: the optimizer recorded no values; use values_at");
        self.values[t * self.n_paths + l]
    }

    /// `out[l] = f^l(z^l_{records[l]})`: the value of each path at one record of its own,
    /// recorded or, when the optimizer recorded none, evaluated on `paths` (the batch the
    /// sequences were run on).
    pub fn values_at(&self, paths: &dyn PathBatch, records: &[usize]) -> Vec<f64> {
        assert_eq!(records.len(), self.n_paths, "invariant: one record per path");
        if self.has_values() {
            return records.iter().enumerate().map(|(l, &t)| self.value(t, l)).collect();
        }
        assert!(
            paths.n_paths() == self.n_paths && paths.dim() == self.dim,
            "invariant: the paths the sequences were run on"
        );
        let mut xs = Vec::with_capacity(self.n_paths * self.dim);
        for (l, &t) in records.iter().enumerate() {
            xs.extend_from_slice(self.position(t, l));
        }
        let mut out = vec![0.0; self.n_paths];
        paths.values(&xs, &mut out);
        out
    }

    /// Final position of path `l`, `d` values.
    pub fn final_position(&self, l: usize) -> &[f64] {
        self.position(self.n_records - 1, l)
    }

    /// Final recorded value of path `l` (see [`DescentSequences::value`]).
    pub fn final_value(&self, l: usize) -> f64 {
        self.value(self.n_records - 1, l)
    }
}

/// Why an inner optimizer could not run: reaches the journal as a strategy failure
/// (`summary.json`'s stop reason), so the message says what failed and how to fix it.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct OptimizerError {
    /// What failed, with the offending value and what was expected.
    pub message: String,
}

impl OptimizerError {
    /// An error with a message that says what went wrong.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into() }
    }
}

/// An iterative optimizer run on a whole batch of paths at once, each path minimized
/// independently from the same start point, projected onto the unit cube after every update.
pub trait InnerOptimizer: Send + Sync {
    /// Runs from `x0` (`d` values in `[0, 1]^d`) on every path of `paths` and returns the whole
    /// iterate history of every path (`n_paths = L`, `dim = d`, every position in the cube).
    ///
    /// `rng` is a stream of this call alone, derived from the run's seed and the iteration: a
    /// stochastic method (CMA-ES) draws from it, in an order that does not depend on the
    /// number of threads, so that a call is reproducible and resumable; deterministic methods
    /// ignore it.
    fn descend(
        &self,
        paths: &dyn PathBatch,
        x0: &[f64],
        rng: &mut StreamRng,
    ) -> Result<DescentSequences, OptimizerError>;
}

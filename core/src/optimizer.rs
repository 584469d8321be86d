//! Inner optimizers: iterative methods run on sample paths to simulate descent sequences.

use crate::PathBatch;

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
    /// `(T+1)×L` path values at those positions.
    pub values: Vec<f64>,
}

impl DescentSequences {
    /// Position of path `l` at record `t`, `d` values.
    pub fn position(&self, t: usize, l: usize) -> &[f64] {
        let start = (t * self.n_paths + l) * self.dim;
        &self.positions[start..start + self.dim]
    }

    /// Path value of path `l` at record `t`.
    pub fn value(&self, t: usize, l: usize) -> f64 {
        self.values[t * self.n_paths + l]
    }

    /// Final position of path `l`, `d` values.
    pub fn final_position(&self, l: usize) -> &[f64] {
        self.position(self.n_records - 1, l)
    }

    /// Final value of path `l`.
    pub fn final_value(&self, l: usize) -> f64 {
        self.value(self.n_records - 1, l)
    }
}

/// An iterative optimizer run on a whole batch of paths at once, each path minimized
/// independently from the same start point, projected onto the unit cube after every update.
pub trait InnerOptimizer: Send + Sync {
    /// Runs from `x0` (`d` values in `[0, 1]^d`) on every path of `paths` and returns the whole
    /// iterate history of every path.
    fn descend(&self, paths: &dyn PathBatch, x0: &[f64]) -> DescentSequences;
}

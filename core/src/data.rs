//! Observed data as strategies see it: points in the unit cube and their observed values.

use serde::{Deserialize, Serialize};

/// The successful observations so far, `n` points in `[0, 1]^d` (row-major `n×d`) and their
/// observed (possibly noisy) values `y`, in evaluation order. Failed evaluations are not here.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Dataset {
    dim: usize,
    x: Vec<f64>,
    y: Vec<f64>,
}

impl Dataset {
    /// An empty data set of dimension `d`.
    pub fn new(dim: usize) -> Self {
        Self { dim, x: Vec::new(), y: Vec::new() }
    }

    /// A data set from row-major `n×d` points and `n` values.
    ///
    /// # Panics
    /// If the lengths disagree: this is a programming error, not an input error.
    pub fn from_rows(dim: usize, x: Vec<f64>, y: Vec<f64>) -> Self {
        assert_eq!(x.len(), dim * y.len(), "invariant: x holds n×d values");
        Self { dim, x, y }
    }

    /// Appends one observation.
    pub fn push(&mut self, x: &[f64], y: f64) {
        assert_eq!(x.len(), self.dim, "invariant: a point has d coordinates");
        self.x.extend_from_slice(x);
        self.y.push(y);
    }

    /// Input dimension `d`.
    pub fn dim(&self) -> usize {
        self.dim
    }

    /// Number of observations `n`.
    pub fn len(&self) -> usize {
        self.y.len()
    }

    /// Whether there is no observation.
    pub fn is_empty(&self) -> bool {
        self.y.is_empty()
    }

    /// All points, row-major `n×d`.
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// Point `i`, `d` values.
    pub fn point(&self, i: usize) -> &[f64] {
        &self.x[i * self.dim..(i + 1) * self.dim]
    }

    /// All observed values, `n`.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// Index of the lowest observed value (the incumbent), the first one on ties.
    pub fn best_index(&self) -> Option<usize> {
        let mut best: Option<usize> = None;
        for (i, &v) in self.y.iter().enumerate() {
            if best.is_none_or(|b| v < self.y[b]) {
                best = Some(i);
            }
        }
        best
    }
}

/// One finished evaluation as a strategy is told about it.
#[derive(Clone, Debug, PartialEq)]
pub struct Observation {
    /// The evaluated point in the unit cube, `d` values.
    pub x: Vec<f64>,
    /// The observed value, or the failure message when the evaluation failed.
    pub y: Result<f64, String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn best_index_takes_first_minimum() {
        let mut d = Dataset::new(1);
        assert_eq!(d.best_index(), None);
        d.push(&[0.1], 3.0);
        d.push(&[0.2], 1.0);
        d.push(&[0.3], 1.0);
        assert_eq!(d.best_index(), Some(1));
        assert_eq!(d.point(2), &[0.3]);
    }
}

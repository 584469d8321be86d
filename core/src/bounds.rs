//! Axis-aligned boxes and the affine map between an objective's box and the unit cube.

use serde::{Deserialize, Serialize};

/// A box `[lower, upper]` in `d` dimensions with `lower[i] < upper[i]`, all finite.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Bounds {
    /// Lower corner, `d` values.
    pub lower: Vec<f64>,
    /// Upper corner, `d` values.
    pub upper: Vec<f64>,
}

/// Why a pair of corners is not a valid box.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BoundsError {
    /// The corners have different lengths or are empty.
    #[error("lower has {lower} entries and upper has {upper}; both need the same number (≥ 1)")]
    Length {
        /// Entries in `lower`.
        lower: usize,
        /// Entries in `upper`.
        upper: usize,
    },
    /// A corner value is NaN or infinite.
    #[error("bound {index} is not finite (lower {lower}, upper {upper})")]
    NotFinite {
        /// Coordinate index.
        index: usize,
        /// Lower bound there.
        lower: f64,
        /// Upper bound there.
        upper: f64,
    },
    /// `lower[i] >= upper[i]`.
    #[error("lower bound {lower} is not below upper bound {upper} in coordinate {index}")]
    Empty {
        /// Coordinate index.
        index: usize,
        /// Lower bound there.
        lower: f64,
        /// Upper bound there.
        upper: f64,
    },
}

impl Bounds {
    /// A validated box.
    pub fn new(lower: Vec<f64>, upper: Vec<f64>) -> Result<Self, BoundsError> {
        if lower.len() != upper.len() || lower.is_empty() {
            return Err(BoundsError::Length { lower: lower.len(), upper: upper.len() });
        }
        for (index, (&lo, &hi)) in lower.iter().zip(&upper).enumerate() {
            if !lo.is_finite() || !hi.is_finite() {
                return Err(BoundsError::NotFinite { index, lower: lo, upper: hi });
            }
            if lo >= hi {
                return Err(BoundsError::Empty { index, lower: lo, upper: hi });
            }
        }
        Ok(Self { lower, upper })
    }

    /// The unit cube `[0, 1]^d`.
    pub fn unit(dim: usize) -> Self {
        Self { lower: vec![0.0; dim], upper: vec![1.0; dim] }
    }

    /// The same interval `[lower, upper]` in every one of `dim` coordinates.
    pub fn uniform(dim: usize, lower: f64, upper: f64) -> Self {
        Self { lower: vec![lower; dim], upper: vec![upper; dim] }
    }

    /// Input dimension `d`.
    pub fn dim(&self) -> usize {
        self.lower.len()
    }

    /// Maps a point of this box to the unit cube: `(x − lower) / (upper − lower)`.
    pub fn to_unit(&self, x: &[f64]) -> Vec<f64> {
        x.iter().zip(self.lower.iter().zip(&self.upper)).map(|(&xi, (&lo, &hi))| (xi - lo) / (hi - lo)).collect()
    }

    /// Maps a point of the unit cube into this box: `lower + u·(upper − lower)`.
    pub fn from_unit(&self, u: &[f64]) -> Vec<f64> {
        u.iter().zip(self.lower.iter().zip(&self.upper)).map(|(&ui, (&lo, &hi))| lo + ui * (hi - lo)).collect()
    }

    /// Whether `x` lies inside the box (bounds included).
    pub fn contains(&self, x: &[f64]) -> bool {
        x.len() == self.dim()
            && x.iter().zip(self.lower.iter().zip(&self.upper)).all(|(&xi, (&lo, &hi))| lo <= xi && xi <= hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unit_map_round_trips() {
        let b = Bounds::new(vec![-2.0, 1.0], vec![2.0, 3.0]).unwrap();
        let x = [0.5, 2.5];
        let u = b.to_unit(&x);
        assert_eq!(u, vec![0.625, 0.75]);
        assert_eq!(b.from_unit(&u), x.to_vec());
        assert!(b.contains(&x));
        assert!(!b.contains(&[3.0, 2.0]));
    }

    #[test]
    fn invalid_boxes_are_rejected() {
        assert!(matches!(Bounds::new(vec![1.0], vec![1.0]), Err(BoundsError::Empty { .. })));
        assert!(matches!(Bounds::new(vec![0.0, 0.0], vec![1.0]), Err(BoundsError::Length { .. })));
        assert!(matches!(Bounds::new(vec![f64::NAN], vec![1.0]), Err(BoundsError::NotFinite { .. })));
    }
}

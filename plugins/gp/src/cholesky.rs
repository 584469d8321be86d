//! Cholesky factorization with escalating diagonal jitter.
//!
//! The factorization is first tried as is. If it fails, a jitter `ε · mean(diag K)` is added to
//! the diagonal, with `ε` = 1e-10, 1e-9, 1e-8, 1e-7, 1e-6 in turn (relative to the mean
//! diagonal, so it means the same for standardized and raw outputs; an all-zero diagonal uses
//! an absolute jitter of `ε`). When even the largest fails, the error is
//! [`SurrogateError::NotPositiveDefinite`] with the largest absolute jitter tried: there is no
//! silent fallback. Any jitter actually used is reported with a `tracing` warning and in the
//! fit diagnostics.

use les_core::SurrogateError;
use nalgebra::{Cholesky, DMatrix, Dyn};

/// Relative jitters tried in turn after the plain factorization fails.
pub const JITTER_LADDER: [f64; 5] = [1e-10, 1e-9, 1e-8, 1e-7, 1e-6];

/// A lower Cholesky factor and the absolute jitter that was added to the diagonal (0 if none).
#[derive(Clone, Debug)]
pub struct JitteredCholesky {
    /// The factorization of `K + jitter·I`.
    pub factor: Cholesky<f64, Dyn>,
    /// Absolute jitter added to the diagonal.
    pub jitter: f64,
}

/// Factorizes the symmetric matrix `k` (only its lower triangle is read), escalating the jitter
/// as described in the module docs.
pub fn cholesky_with_jitter(k: DMatrix<f64>) -> Result<JitteredCholesky, SurrogateError> {
    let n = k.nrows();
    if k.iter().any(|v| !v.is_finite()) {
        return Err(SurrogateError::Numerical(format!(
            "the {n}×{n} covariance matrix has non-finite entries; check the data and hyperparameters"
        )));
    }
    if let Some(factor) = Cholesky::new(k.clone()) {
        return Ok(JitteredCholesky { factor, jitter: 0.0 });
    }
    let mean_diag = if n == 0 { 1.0 } else { k.diagonal().iter().sum::<f64>() / n as f64 };
    let scale = if mean_diag > 0.0 { mean_diag } else { 1.0 };
    let mut tried = 0.0;
    for rel in JITTER_LADDER {
        let jitter = rel * scale;
        tried = jitter;
        let mut kj = k.clone();
        for i in 0..n {
            kj[(i, i)] += jitter;
        }
        if let Some(factor) = Cholesky::new(kj) {
            tracing::warn!(size = n, jitter, "covariance matrix needed jitter to be positive definite");
            return Ok(JitteredCholesky { factor, jitter });
        }
    }
    Err(SurrogateError::NotPositiveDefinite { size: n, max_jitter: tried })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positive_definite_needs_no_jitter() {
        let k = DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 2.0]);
        let c = cholesky_with_jitter(k).expect("pd");
        assert_eq!(c.jitter, 0.0);
    }

    #[test]
    fn singular_matrix_gets_jitter() {
        // Rank one: two identical points without noise.
        let k = DMatrix::from_row_slice(2, 2, &[1.0, 1.0, 1.0, 1.0]);
        let c = cholesky_with_jitter(k).expect("jitter makes it pd");
        assert!(c.jitter > 0.0 && c.jitter <= 1e-6);
    }

    #[test]
    fn indefinite_matrix_is_a_typed_error() {
        let k = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 2.0, 1.0]);
        match cholesky_with_jitter(k) {
            Err(SurrogateError::NotPositiveDefinite { size, max_jitter }) => {
                assert_eq!(size, 2);
                assert!((max_jitter - 1e-6).abs() < 1e-18);
            }
            other => panic!("expected NotPositiveDefinite, got {other:?}"),
        }
    }
}

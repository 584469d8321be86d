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
use nalgebra::{Cholesky, DMatrix, DMatrixViewMut};
use rayon::prelude::*;

use crate::spd_inverse::lower_triangular_inverse;

/// Panel width of the blocked factorization.
const PANEL: usize = 64;
/// Smallest size factorized blockwise.
const BLOCKED_FROM: usize = 256;
/// Columns per parallel task in the trailing update.
const UPDATE_BLOCK: usize = 64;

/// Relative jitters tried in turn after the plain factorization fails.
pub const JITTER_LADDER: [f64; 5] = [1e-10, 1e-9, 1e-8, 1e-7, 1e-6];

/// A lower Cholesky factor and the absolute jitter that was added to the diagonal (0 if none).
#[derive(Clone, Debug)]
pub struct JitteredCholesky {
    /// Lower factor `L` of `K + jitter·I` (upper triangle zero).
    pub l: DMatrix<f64>,
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
    if let Some(l) = cholesky_blocked(k.clone()) {
        return Ok(JitteredCholesky { l, jitter: 0.0 });
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
        if let Some(l) = cholesky_blocked(kj) {
            tracing::warn!(size = n, jitter, "covariance matrix needed jitter to be positive definite");
            return Ok(JitteredCholesky { l, jitter });
        }
    }
    Err(SurrogateError::NotPositiveDefinite { size: n, max_jitter: tried })
}

/// Blocked right-looking Cholesky (lower): per panel of 64 columns, an unblocked
/// factorization of the diagonal block, a triangular solve for the panel below it, and a
/// GEMM update of the trailing lower triangle, parallel over fixed column blocks. `None` if
/// the matrix is not (numerically) positive definite.
pub fn cholesky_blocked(mut a: DMatrix<f64>) -> Option<DMatrix<f64>> {
    let n = a.nrows();
    if n < BLOCKED_FROM {
        // Measured: nalgebra's unblocked factorization wins below this size.
        return Cholesky::new(a).map(|c| c.l());
    }
    let mut k0 = 0;
    while k0 < n {
        let k1 = (k0 + PANEL).min(n);
        let nb = k1 - k0;
        let l11 = Cholesky::new(a.view((k0, k0), (nb, nb)).clone_owned())?.l();
        a.view_mut((k0, k0), (nb, nb)).copy_from(&l11);
        if k1 < n {
            let m = n - k1;
            // L21 = A21 L11⁻ᵀ, one GEMM with the explicit inverse of the small diagonal block
            // (a substitution here would be scalar work of the same order as the GEMM).
            let l11_inv_t = lower_triangular_inverse(&l11).transpose();
            let l21 = a.view((k1, k0), (m, nb)) * l11_inv_t;
            a.view_mut((k1, k0), (m, nb)).copy_from(&l21);
            let l21t = l21.transpose();
            // A22 −= L21 L21ᵀ on and below the diagonal, column block by column block.
            let (_, right) = a.as_mut_slice().split_at_mut(k1 * n);
            right.par_chunks_mut(n * UPDATE_BLOCK).enumerate().for_each(|(blk, chunk)| {
                let cols = chunk.len() / n;
                let c0 = blk * UPDATE_BLOCK; // column offset within A22
                let mut block = DMatrixViewMut::from_slice(chunk, n, cols);
                let mut target = block.view_mut((k1 + c0, 0), (m - c0, cols));
                target.gemm(-1.0, &l21.rows(c0, m - c0), &l21t.columns(c0, cols), 1.0);
            });
        }
        k0 = k1;
    }
    a.fill_upper_triangle(0.0, 1);
    Some(a)
}

#[cfg(test)]
mod tests {
    #[test]
    fn blocked_factor_matches_nalgebra() {
        let n = 300;
        let b = DMatrix::from_fn(n, n, |i, j| ((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.5);
        let a = &b * b.transpose() + DMatrix::identity(n, n) * 0.5;
        let mine = cholesky_blocked(a.clone()).expect("pd");
        let reference = Cholesky::new(a).expect("pd").l();
        assert!((mine - reference).abs().max() < 1e-10);
    }

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

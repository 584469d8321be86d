//! Cholesky factorization with the one jitter policy of les.
//!
//! **Policy.** The factorization is first tried as is. If it fails, a jitter `ε · mean(diag K)`
//! is added to the diagonal, with `ε` = 1e-10, 1e-9, 1e-8, 1e-7, 1e-6 in turn ([`JITTER_LADDER`]).
//! Relative to the mean diagonal, so it means the same for standardized and raw outputs; a
//! diagonal whose mean is not positive uses an absolute jitter of `ε`. When even the largest
//! fails, the error is [`CholeskyError::NotPositiveDefinite`] with the largest *absolute* jitter
//! tried: there is no silent fallback. A matrix with a non-finite entry is
//! [`CholeskyError::NonFinite`] without any attempt. The ceiling 1e-6 is the one of the GP
//! fit: a larger jitter changes the model noticeably, and the MAP search must see such
//! hyperparameters as infeasible rather than silently regularized.
//!
//! **Storage.** Two factorizations share the policy: [`cholesky_with_jitter`] on an nalgebra
//! matrix (blocked and parallel from 256 rows: the GP's `n×n` kernel matrix), and
//! [`cholesky_in_place_with_jitter`] on a small row-major `n×n` slice (the `P×P` and `q×q`
//! systems of the acquisitions and the pending points).

use les_core::SurrogateError;
use nalgebra::{Cholesky, DMatrix, DMatrixViewMut};
use rayon::prelude::*;

use crate::triangular::lower_triangular_inverse;

/// Relative jitters tried in turn after the plain factorization fails.
pub const JITTER_LADDER: [f64; 5] = [1e-10, 1e-9, 1e-8, 1e-7, 1e-6];

/// Panel width of the blocked factorization.
const PANEL: usize = 64;
/// Smallest size factorized blockwise.
const BLOCKED_FROM: usize = 256;
/// Columns per parallel task in the trailing update.
const UPDATE_BLOCK: usize = 64;

/// Why a jittered Cholesky factorization failed.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum CholeskyError {
    /// The matrix has a NaN or infinite entry.
    #[error("the {size}×{size} covariance matrix has non-finite entries; check the data and hyperparameters")]
    NonFinite {
        /// Rows of the matrix.
        size: usize,
    },
    /// Not positive definite even with the largest jitter of the ladder.
    #[error(
        "the {size}×{size} covariance matrix is not positive definite even with jitter {max_jitter:e} on the diagonal"
    )]
    NotPositiveDefinite {
        /// Rows of the matrix.
        size: usize,
        /// Largest absolute jitter added to the diagonal.
        max_jitter: f64,
    },
}

impl From<CholeskyError> for SurrogateError {
    fn from(e: CholeskyError) -> Self {
        match e {
            CholeskyError::NonFinite { .. } => SurrogateError::Numerical(e.to_string()),
            CholeskyError::NotPositiveDefinite { size, max_jitter } => {
                SurrogateError::NotPositiveDefinite { size, max_jitter }
            }
        }
    }
}

/// The jitter policy: calls `factor(jitter)` with 0 and then with the absolute jitters of the
/// ladder (scaled by `mean_diag`, see the module docs) until it succeeds. Returns the factor and
/// the absolute jitter it needed.
pub fn with_jitter<T>(
    size: usize,
    mean_diag: f64,
    mut factor: impl FnMut(f64) -> Option<T>,
) -> Result<(T, f64), CholeskyError> {
    if let Some(l) = factor(0.0) {
        return Ok((l, 0.0));
    }
    let scale = if mean_diag > 0.0 && mean_diag.is_finite() { mean_diag } else { 1.0 };
    let mut tried = 0.0;
    for rel in JITTER_LADDER {
        tried = rel * scale;
        if let Some(l) = factor(tried) {
            return Ok((l, tried));
        }
    }
    Err(CholeskyError::NotPositiveDefinite { size, max_jitter: tried })
}

/// A lower Cholesky factor and the absolute jitter that was added to the diagonal (0 if none).
#[derive(Clone, Debug)]
pub struct JitteredCholesky {
    /// Lower factor `L` of `K + jitter·I` (upper triangle zero).
    pub l: DMatrix<f64>,
    /// Absolute jitter added to the diagonal.
    pub jitter: f64,
}

/// Factorizes the symmetric matrix `k` (only its lower triangle is read) with the jitter policy
/// of the module docs. Any jitter used is reported with a `tracing` warning.
pub fn cholesky_with_jitter(k: DMatrix<f64>) -> Result<JitteredCholesky, CholeskyError> {
    let n = k.nrows();
    if k.iter().any(|v| !v.is_finite()) {
        return Err(CholeskyError::NonFinite { size: n });
    }
    let mean_diag = if n == 0 { 1.0 } else { k.diagonal().iter().sum::<f64>() / n as f64 };
    let (l, jitter) = with_jitter(n, mean_diag, |jitter| {
        if jitter == 0.0 {
            return cholesky_blocked(k.clone());
        }
        let mut kj = k.clone();
        for i in 0..n {
            kj[(i, i)] += jitter;
        }
        cholesky_blocked(kj)
    })?;
    if jitter > 0.0 {
        tracing::warn!(size = n, jitter, "covariance matrix needed jitter to be positive definite");
    }
    Ok(JitteredCholesky { l, jitter })
}

/// Blocked right-looking Cholesky (lower): per panel of 64 columns, an unblocked
/// factorization of the diagonal block, a triangular solve for the panel below it, and a
/// GEMM update of the trailing lower triangle, parallel over fixed column blocks (the result
/// does not depend on the thread count). `None` if the matrix is not (numerically) positive
/// definite.
pub fn cholesky_blocked(mut a: DMatrix<f64>) -> Option<DMatrix<f64>> {
    cholesky_blocked_in_place(&mut a).then_some(a)
}

/// [`cholesky_blocked`] in place: on success `a` holds `L` (upper triangle zeroed) and the
/// result is `true`; on failure `a` is left in an unspecified state (of the same size).
pub fn cholesky_blocked_in_place(a: &mut DMatrix<f64>) -> bool {
    let n = a.nrows();
    if n < BLOCKED_FROM {
        // Measured: nalgebra's unblocked factorization wins below this size.
        let owned = std::mem::replace(a, DMatrix::zeros(0, 0));
        return match Cholesky::new(owned) {
            Some(c) => {
                *a = c.unpack();
                true
            }
            None => {
                *a = DMatrix::zeros(n, n);
                false
            }
        };
    }
    let mut k0 = 0;
    while k0 < n {
        let k1 = (k0 + PANEL).min(n);
        let nb = k1 - k0;
        let Some(l11) = Cholesky::new(a.view((k0, k0), (nb, nb)).clone_owned()) else {
            return false;
        };
        let l11 = l11.unpack();
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
    true
}

/// Factorizes `k + diagonal·I` into `l` (reusing its allocation when the sizes match) with the
/// jitter policy of the module docs, and returns the absolute jitter it needed. Only the lower
/// triangle of `k` is read. Any jitter used is reported with a `tracing` warning.
pub fn cholesky_into_with_jitter(k: &DMatrix<f64>, diagonal: f64, l: &mut DMatrix<f64>) -> Result<f64, CholeskyError> {
    let n = k.nrows();
    if l.shape() != k.shape() {
        *l = DMatrix::zeros(n, n);
    }
    // The first copy also checks finiteness (one pass over `k` instead of two).
    let mut finite = diagonal.is_finite();
    for (dst, &src) in l.as_mut_slice().iter_mut().zip(k.as_slice()) {
        *dst = src;
        finite &= src.is_finite();
    }
    if !finite {
        return Err(CholeskyError::NonFinite { size: n });
    }
    // The same roundings as adding `diagonal` to `k` first and the jitter after.
    let mean_diag = if n == 0 { 1.0 } else { k.diagonal().iter().map(|v| v + diagonal).sum::<f64>() / n as f64 };
    let mut first = true;
    let ((), jitter) = with_jitter(n, mean_diag, |jitter| {
        if !std::mem::take(&mut first) {
            l.copy_from(k);
        }
        for i in 0..n {
            l[(i, i)] = (l[(i, i)] + diagonal) + jitter;
        }
        cholesky_blocked_in_place(l).then_some(())
    })?;
    if jitter > 0.0 {
        tracing::warn!(size = n, jitter, "covariance matrix needed jitter to be positive definite");
    }
    Ok(jitter)
}

/// Overwrites the lower triangle of the symmetric row-major `n×n` matrix `a` with its Cholesky
/// factor `L` (`a = L Lᵀ`) and zeroes the strict upper triangle. Returns `false` when a pivot is
/// not positive (or not finite): the matrix is not numerically positive definite.
pub fn cholesky_in_place(a: &mut [f64], n: usize) -> bool {
    debug_assert_eq!(a.len(), n * n);
    for j in 0..n {
        let mut diag = a[j * n + j];
        for k in 0..j {
            diag -= a[j * n + k] * a[j * n + k];
        }
        if !(diag > 0.0 && diag.is_finite()) {
            return false;
        }
        let ljj = diag.sqrt();
        a[j * n + j] = ljj;
        for i in j + 1..n {
            let mut s = a[i * n + j];
            for k in 0..j {
                s -= a[i * n + k] * a[j * n + k];
            }
            a[i * n + j] = s / ljj;
        }
        for k in j + 1..n {
            a[j * n + k] = 0.0;
        }
    }
    true
}

/// [`cholesky_in_place`] with the jitter policy of the module docs: on success `a` holds the
/// factor of `a + jitter·I` and the absolute jitter is returned; on failure `a` is unchanged.
pub fn cholesky_in_place_with_jitter(a: &mut [f64], n: usize) -> Result<f64, CholeskyError> {
    if a.iter().any(|v| !v.is_finite()) {
        return Err(CholeskyError::NonFinite { size: n });
    }
    let mean_diag = (0..n).map(|i| a[i * n + i]).sum::<f64>() / n.max(1) as f64;
    let original = a.to_vec();
    let ((), jitter) = with_jitter(n, mean_diag, |jitter| {
        a.copy_from_slice(&original);
        for i in 0..n {
            a[i * n + i] += jitter;
        }
        cholesky_in_place(a, n).then_some(())
    })
    .inspect_err(|_| a.copy_from_slice(&original))?;
    Ok(jitter)
}

/// The lower factor (row-major `n×n`) of the symmetric row-major `a` with the jitter policy,
/// and the absolute jitter added.
pub fn cholesky_rows_with_jitter(a: &[f64], n: usize) -> Result<(Vec<f64>, f64), CholeskyError> {
    let mut l = a.to_vec();
    let jitter = cholesky_in_place_with_jitter(&mut l, n)?;
    Ok((l, jitter))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocked_factor_matches_nalgebra() {
        let n = 300;
        let b = DMatrix::from_fn(n, n, |i, j| ((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.5);
        let a = &b * b.transpose() + DMatrix::identity(n, n) * 0.5;
        let mine = cholesky_blocked(a.clone()).expect("pd");
        let reference = Cholesky::new(a).expect("pd").l();
        assert!((mine - reference).abs().max() < 1e-10);
    }

    #[test]
    fn positive_definite_needs_no_jitter() {
        let k = DMatrix::from_row_slice(2, 2, &[2.0, 1.0, 1.0, 2.0]);
        let c = cholesky_with_jitter(k).expect("pd");
        assert_eq!(c.jitter, 0.0);
    }

    #[test]
    fn singular_matrix_gets_the_first_jitter_that_works() {
        // Rank one: two identical points without noise; 1e-10 of the mean diagonal 4 suffices.
        let k = DMatrix::from_row_slice(2, 2, &[4.0, 4.0, 4.0, 4.0]);
        let c = cholesky_with_jitter(k).expect("jitter makes it pd");
        assert_eq!(c.jitter, 4e-10);
        let (l, jitter) = cholesky_rows_with_jitter(&[4.0, 4.0, 4.0, 4.0], 2).expect("pd");
        assert_eq!(jitter, 4e-10);
        assert_eq!(l[1], 0.0, "upper triangle zeroed");
        assert!((l[2] * l[2] + l[3] * l[3] - 4.0 - 4e-10).abs() < 1e-14);
    }

    #[test]
    fn indefinite_matrix_reports_the_absolute_jitter() {
        // Mean diagonal 3: the largest jitter tried is 3e-6, not the relative 1e-6.
        let k = DMatrix::from_row_slice(2, 2, &[3.0, 6.0, 6.0, 3.0]);
        let want = CholeskyError::NotPositiveDefinite { size: 2, max_jitter: 3e-6 };
        assert_eq!(cholesky_with_jitter(k).unwrap_err(), want);
        let mut rows = [3.0, 6.0, 6.0, 3.0];
        assert_eq!(cholesky_in_place_with_jitter(&mut rows, 2).unwrap_err(), want);
        assert_eq!(rows, [3.0, 6.0, 6.0, 3.0], "left as it was");
        match SurrogateError::from(want) {
            SurrogateError::NotPositiveDefinite { size: 2, max_jitter } => assert_eq!(max_jitter, 3e-6),
            other => panic!("expected NotPositiveDefinite, got {other:?}"),
        }
    }

    #[test]
    fn factor_into_a_reused_buffer_follows_the_same_policy() {
        // Rank one plus a diagonal of 0: needs the first jitter, 1e-10 of the mean diagonal 4.
        let k = DMatrix::from_row_slice(2, 2, &[4.0, 4.0, 4.0, 4.0]);
        let mut l = DMatrix::from_element(3, 3, f64::NAN); // wrong size: replaced
        assert_eq!(cholesky_into_with_jitter(&k, 0.0, &mut l), Ok(4e-10));
        assert_eq!(l[(0, 1)], 0.0, "upper triangle zeroed");
        assert!((l[(1, 0)] * l[(1, 0)] + l[(1, 1)] * l[(1, 1)] - 4.0 - 4e-10).abs() < 1e-14);
        // A diagonal added first: positive definite without jitter, and the buffer is reused.
        assert_eq!(cholesky_into_with_jitter(&k, 1.0, &mut l), Ok(0.0));
        let want = cholesky_with_jitter(DMatrix::from_row_slice(2, 2, &[5.0, 4.0, 4.0, 5.0])).expect("pd").l;
        assert_eq!(l, want);
        let bad = DMatrix::from_row_slice(2, 2, &[1.0, f64::NAN, f64::NAN, 1.0]);
        assert_eq!(cholesky_into_with_jitter(&bad, 0.0, &mut l), Err(CholeskyError::NonFinite { size: 2 }));
        assert_eq!(cholesky_into_with_jitter(&k, f64::INFINITY, &mut l), Err(CholeskyError::NonFinite { size: 2 }));
    }

    #[test]
    fn non_finite_entries_are_refused() {
        let k = DMatrix::from_row_slice(2, 2, &[1.0, f64::NAN, f64::NAN, 1.0]);
        assert_eq!(cholesky_with_jitter(k).unwrap_err(), CholeskyError::NonFinite { size: 2 });
        let mut rows = [1.0, 0.0, 0.0, f64::INFINITY];
        assert_eq!(cholesky_in_place_with_jitter(&mut rows, 2).unwrap_err(), CholeskyError::NonFinite { size: 2 });
    }

    #[test]
    fn row_major_factor_reconstructs() {
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let mut l = a;
        assert!(cholesky_in_place(&mut l, 3));
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((s - a[i * 3 + j]).abs() < 1e-14);
            }
        }
        assert!(!cholesky_in_place(&mut [1.0, 2.0, 2.0, 1.0], 2));
    }
}

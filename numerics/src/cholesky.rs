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
//! matrix (blocked, parallel over fixed row chunks: the GP's `n×n` kernel matrix), and
//! [`cholesky_in_place_with_jitter`] on a small row-major `n×n` slice (the `P×P` and `q×q`
//! systems of the acquisitions and the pending points).

use les_core::SurrogateError;
use nalgebra::DMatrix;

use crate::gemm::{Strided, dgemm, dgemm_par_rows};

/// Relative jitters tried in turn after the plain factorization fails.
pub const JITTER_LADDER: [f64; 5] = [1e-10, 1e-9, 1e-8, 1e-7, 1e-6];

/// Panel width of the blocked factorization.
const PANEL: usize = 64;

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

/// Blocked left-looking Cholesky (lower) of `a` (only its lower triangle is read). `None` if
/// the matrix is not (numerically) positive definite.
///
/// Per panel of [`PANEL`] columns: first all the updates from the columns left of it, as GEMMs
/// whose inner dimension is everything factorized so far (long products, which the GEMM kernel
/// runs near its peak): one for the rows below the panel's diagonal block, parallel over fixed
/// chunks of rows (the result does not depend on the thread count), and one per strip of
/// [`STRIP`] columns for the block's lower triangle. Then the tall panel is factorized recursively
/// ([`factor_panel`]): halves updated by one GEMM each, down to [`BASE`] columns done column
/// by column. No triangular inverse, substitution or allocation: nearly all the work is GEMM.
///
/// Measured (one thread, `n` = 100, 400, 800, best of 9 rounds in several windows): 0.03–0.04,
/// 1.0–1.2 and 7.2–8.4 ms, against 0.06–0.11, 2.3–3.4 and 12–15.5 ms for the right-looking
/// factorization with explicit diagonal-block inverses it replaces (nalgebra's unblocked one
/// below 256 rows).
pub fn cholesky_blocked(mut a: DMatrix<f64>) -> Option<DMatrix<f64>> {
    cholesky_blocked_in_place(&mut a).then_some(a)
}

/// [`cholesky_blocked`] in place: on success `a` holds `L` (upper triangle zeroed) and the
/// result is `true`; on failure `a` is left in an unspecified state (of the same size).
pub fn cholesky_blocked_in_place(a: &mut DMatrix<f64>) -> bool {
    let n = a.nrows();
    if !factor_in_place(a.as_mut_slice(), n) {
        return false;
    }
    a.fill_upper_triangle(0.0, 1);
    true
}

/// Panels at most this wide are factorized column by column.
const BASE: usize = 16;
/// Column strips of a panel's diagonal block in its update from the left.
const STRIP: usize = 16;

/// [`cholesky_blocked_in_place`] on the column-major `n×n` `a`, leaving the upper triangle as
/// garbage.
fn factor_in_place(a: &mut [f64], n: usize) -> bool {
    debug_assert_eq!(a.len(), n * n);
    for j0 in (0..n).step_by(PANEL) {
        let j1 = (j0 + PANEL).min(n);
        if j0 > 0 {
            let (left, right) = a.split_at_mut(j0 * n);
            // A[j0.., J] −= L[j0.., 0..j0] · L[J, 0..j0]ᵀ: below the diagonal block one GEMM,
            let panel_rows_t = Strided { data: &left[j0..], rows: n, cols: 1 };
            if j1 < n {
                let below = Strided { data: &left[j1..], rows: 1, cols: n };
                dgemm_par_rows(n - j1, j0, j1 - j0, -1.0, below, panel_rows_t, 1.0, &mut right[j1..], n);
            }
            // and the diagonal block's lower triangle by strips whose rows start at their own
            // diagonal (a single GEMM over the whole block computed its upper half in vain:
            // 5.5 of 27 Mflop at n = 400).
            for s0 in (j0..j1).step_by(STRIP) {
                let s1 = (s0 + STRIP).min(j1);
                let rows = Strided { data: &left[s0..], rows: 1, cols: n };
                let strip_rows_t = Strided { data: &left[s0..], rows: n, cols: 1 };
                dgemm(j1 - s0, j0, s1 - s0, -1.0, rows, strip_rows_t, 1.0, &mut right[(s0 - j0) * n + s0..], n);
            }
        }
        if !factor_panel(a, n, j0, j1) {
            return false;
        }
    }
    true
}

/// Factorizes the tall panel of columns `c0..c1` (rows `c0..n`) whose updates from the columns
/// left of `c0` are done: its left half, then the left half's update of the right half (one
/// GEMM), then the right half, down to [`BASE`] columns ([`factor_columns`]).
fn factor_panel(a: &mut [f64], n: usize, c0: usize, c1: usize) -> bool {
    let w = c1 - c0;
    if w <= BASE {
        return factor_columns(a, n, c0, c1);
    }
    let mid = c0 + (w / 2).next_multiple_of(BASE);
    if !factor_panel(a, n, c0, mid) {
        return false;
    }
    let (left, right) = a.split_at_mut(mid * n);
    // A[mid.., mid..c1] −= L[mid.., c0..mid] · L[mid..c1, c0..mid]ᵀ.
    let below = Strided { data: &left[c0 * n + mid..], rows: 1, cols: n };
    let below_t = Strided { data: &left[c0 * n + mid..], rows: n, cols: 1 };
    dgemm(n - mid, mid - c0, c1 - mid, -1.0, below, below_t, 1.0, &mut right[mid..], n);
    factor_panel(a, n, mid, c1)
}

/// The unblocked left-looking factorization of the narrow panel `c0..c1` (rows `c0..n`), compiled
/// for baseline x86-64 and with AVX2 (chosen at run time) from the same source: no multiply-add
/// is fused, so both give the same bits.
fn factor_columns(a: &mut [f64], n: usize, c0: usize, c1: usize) -> bool {
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: run-time detection found AVX2 on this CPU.
        return unsafe { factor_columns_avx2(a, n, c0, c1) };
    }
    factor_columns_body(a, n, c0, c1)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn factor_columns_avx2(a: &mut [f64], n: usize, c0: usize, c1: usize) -> bool {
    factor_columns_body(a, n, c0, c1)
}

#[inline(always)]
fn factor_columns_body(a: &mut [f64], n: usize, c0: usize, c1: usize) -> bool {
    for j in c0..c1 {
        let (done, rest) = a.split_at_mut(j * n);
        let col = &mut rest[j..n];
        for k in c0..j {
            let lk = &done[k * n + j..(k + 1) * n];
            let ljk = lk[0];
            for (v, l) in col.iter_mut().zip(lk) {
                *v -= ljk * l;
            }
        }
        let pivot = col[0];
        if !(pivot > 0.0 && pivot.is_finite()) {
            return false;
        }
        let ljj = pivot.sqrt();
        col[0] = ljj;
        for v in &mut col[1..] {
            *v /= ljj;
        }
    }
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
    // Only the lower triangle is copied (the factorization reads nothing else), and the copy
    // also checks finiteness (one pass over half of `k` instead of two over all of it).
    let copy_lower = |l: &mut DMatrix<f64>| {
        let mut finite = true;
        for (c, (dst, src)) in l.as_mut_slice().chunks_mut(n).zip(k.as_slice().chunks(n)).enumerate() {
            for (d, &v) in dst[c..].iter_mut().zip(&src[c..]) {
                *d = v;
                finite &= v.is_finite();
            }
        }
        finite
    };
    if !(copy_lower(l) && diagonal.is_finite()) {
        return Err(CholeskyError::NonFinite { size: n });
    }
    // The same roundings as adding `diagonal` to `k` first and the jitter after.
    let mean_diag = if n == 0 { 1.0 } else { k.diagonal().iter().map(|v| v + diagonal).sum::<f64>() / n as f64 };
    let mut first = true;
    let ((), jitter) = with_jitter(n, mean_diag, |jitter| {
        if !std::mem::take(&mut first) {
            copy_lower(l);
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

    fn spd(n: usize, seed: usize) -> DMatrix<f64> {
        let b = DMatrix::from_fn(n, n, |i, j| ((i * 31 + j * 17 + seed * 5) % 23) as f64 / 23.0 - 0.5);
        &b * b.transpose() + DMatrix::identity(n, n) * 0.5
    }

    #[test]
    fn blocked_factor_matches_nalgebra() {
        // Sizes at and across the base width (16), the panel width (64) and the row chunks of
        // the parallel update (128), with partial last panels.
        for (n, seed) in [(1, 0), (5, 1), (16, 2), (17, 3), (63, 4), (64, 5), (65, 6), (129, 7), (300, 8)] {
            let a = spd(n, seed);
            let mine = cholesky_blocked(a.clone()).expect("pd");
            let reference = nalgebra::Cholesky::new(a).expect("pd").l();
            let scale = reference.abs().max();
            assert!((&mine - reference).abs().max() < 1e-13 * scale, "n = {n}");
            assert!((0..n).all(|j| (0..j).all(|i| mine[(i, j)] == 0.0)), "n = {n}: upper triangle zeroed");
        }
    }

    #[test]
    fn blocked_factor_ignores_the_upper_triangle_and_the_thread_count() {
        let n = 300;
        let a = spd(n, 9);
        let mut garbage = a.clone();
        garbage.fill_upper_triangle(f64::NAN, 1);
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
        let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().expect("pool");
        let l1 = one.install(|| cholesky_blocked(a.clone())).expect("pd");
        let l3 = three.install(|| cholesky_blocked(garbage)).expect("pd");
        assert_eq!(l1, l3);
    }

    #[test]
    fn blocked_factor_refuses_an_indefinite_matrix_in_any_panel() {
        // A negative direction confined to the last rows: the first panels factor fine, the
        // pivot fails late (in the base columns of a later panel, or in the first one for n = 3).
        for (n, bad) in [(3, 0), (100, 70), (200, 199)] {
            let mut a = spd(n, 1);
            a[(bad, bad)] = -1e3;
            assert!(cholesky_blocked(a).is_none(), "n = {n}, bad row {bad}");
        }
        let mut nan = spd(150, 2);
        nan[(140, 130)] = f64::NAN;
        assert!(cholesky_blocked(nan).is_none());
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

//! Triangular solves, products and inverses.
//!
//! Two layouts: nalgebra matrices with many right-hand sides (the GP's `n×n` factor), where
//! forward substitution is reordered so that most of the work is GEMM, parallel over
//! fixed-width column blocks (the result does not depend on the thread count); and small
//! row-major `n×n` slices with one right-hand side (the `P×P` and `q×q` systems).

use nalgebra::{DMatrix, DMatrixViewMut};
use rayon::prelude::*;

/// Rows of the triangular factor handled per substitution block.
const TRI_BLOCK: usize = 64;
/// Right-hand-side columns per parallel task.
const RHS_BLOCK: usize = 64;

/// Solves `L X = B` in place (`B` becomes `X`); `l` is lower triangular `n×n` (its upper
/// triangle is not read), `b` is `n×m`.
pub fn solve_lower_in_place(l: &DMatrix<f64>, b: &mut DMatrix<f64>) {
    let n = l.nrows();
    if n == 0 || b.ncols() == 0 {
        return;
    }
    b.as_mut_slice().par_chunks_mut(n * RHS_BLOCK).for_each(|chunk| forward(l, chunk, n));
}

/// Solves `Lᵀ X = B` in place; `l` is lower triangular `n×n`, `b` is `n×m`.
pub fn solve_lower_transpose_in_place(l: &DMatrix<f64>, b: &mut DMatrix<f64>) {
    let n = l.nrows();
    if n == 0 || b.ncols() == 0 {
        return;
    }
    // The off-diagonal updates read Lᵀ blocks: one contiguous transpose serves them all.
    let lt = l.transpose();
    b.as_mut_slice().par_chunks_mut(n * RHS_BLOCK).for_each(|chunk| backward(&lt, chunk, n));
}

/// Solves `(L Lᵀ) X = B` in place.
pub fn cholesky_solve_in_place(l: &DMatrix<f64>, b: &mut DMatrix<f64>) {
    solve_lower_in_place(l, b);
    solve_lower_transpose_in_place(l, b);
}

/// Forward substitution on the column-major `n×cols` right-hand sides in `chunk`: GEMM for
/// the off-diagonal blocks, then contiguous column axpys inside each diagonal block.
fn forward(l: &DMatrix<f64>, chunk: &mut [f64], n: usize) {
    let cols = chunk.len() / n;
    let ls = l.as_slice();
    let mut i0 = 0;
    while i0 < n {
        let i1 = (i0 + TRI_BLOCK).min(n);
        if i0 > 0 {
            let mut x = DMatrixViewMut::from_slice(chunk, n, cols);
            let (top, mut cur) = x.rows_range_pair_mut(0..i0, i0..i1);
            cur.gemm(-1.0, &l.view((i0, 0), (i1 - i0, i0)), &top, 1.0);
        }
        for c in 0..cols {
            let col = &mut chunk[c * n + i0..c * n + i1];
            for j in 0..(i1 - i0) {
                let base = (i0 + j) * n;
                let xj = col[j] / ls[base + i0 + j];
                col[j] = xj;
                let lcol = &ls[base + i0 + j + 1..base + i1];
                for (v, lv) in col[j + 1..].iter_mut().zip(lcol) {
                    *v -= xj * lv;
                }
            }
        }
        i0 = i1;
    }
}

/// Backward substitution with `Lᵀ` (given as the contiguous `lt`), same layout as [`forward`].
fn backward(lt: &DMatrix<f64>, chunk: &mut [f64], n: usize) {
    let cols = chunk.len() / n;
    let ts = lt.as_slice();
    let mut i1 = n;
    while i1 > 0 {
        let i0 = i1.saturating_sub(TRI_BLOCK);
        if i1 < n {
            let mut x = DMatrixViewMut::from_slice(chunk, n, cols);
            let (mut cur, below) = x.rows_range_pair_mut(i0..i1, i1..n);
            cur.gemm(-1.0, &lt.view((i0, i1), (i1 - i0, n - i1)), &below, 1.0);
        }
        for c in 0..cols {
            let col = &mut chunk[c * n + i0..c * n + i1];
            for i in (0..(i1 - i0)).rev() {
                // Column i0+i of Lᵀ holds row i0+i of L.
                let base = (i0 + i) * n;
                let xi = col[i] / ts[base + i0 + i];
                col[i] = xi;
                let lcol = &ts[base + i0..base + i0 + i];
                for (v, lv) in col[..i].iter_mut().zip(lcol) {
                    *v -= xi * lv;
                }
            }
        }
        i1 = i0;
    }
}

/// `L⁻¹`, row-major, into `x` (`m×m`, overwritten) for the small `m×m` lower-triangular `L`
/// stored column-major in `l` with leading dimension `ld` (its upper triangle is not read): the
/// blocked algorithms invert the diagonal blocks of a larger factor where they lie, without copies.
///
/// Row `i` of `X = L⁻¹` is `(eᵢ − Σ_{k<i} L_ik X_k·) / L_ii`: axpys of contiguous rows of `X`
/// with scalar multipliers, one division per entry and no chain of dependent divisions (the
/// column-by-column substitution was 5× slower at the 64-row blocks of the MAP fit). The loops
/// are compiled twice, for baseline x86-64 and with AVX2 (chosen at run time), from the same
/// source: no multiply-add is fused, so both give the same bits; the AVX2 one is only wider.
pub fn lower_triangular_inverse_rows(l: &[f64], ld: usize, m: usize, x: &mut [f64]) {
    assert!(
        ld >= m && (m == 0 || l.len() > (m - 1) * ld + m - 1) && x.len() == m * m,
        "lower_triangular_inverse_rows: sizes"
    );
    x.fill(0.0);
    #[cfg(target_arch = "x86_64")]
    if std::arch::is_x86_feature_detected!("avx2") {
        // SAFETY: run-time detection found AVX2 on this CPU.
        unsafe { invert_rows_avx2(l, ld, m, x) };
        return;
    }
    invert_rows(l, ld, m, x);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
fn invert_rows_avx2(l: &[f64], ld: usize, m: usize, x: &mut [f64]) {
    invert_rows(l, ld, m, x);
}

/// Rows of `L⁻¹` (row-major `m×m`, zero-initialized) for the column-major lower triangular `l`
/// (leading dimension `ld`): row `i` is zero right of column `i`.
#[inline(always)]
fn invert_rows(l: &[f64], ld: usize, m: usize, x: &mut [f64]) {
    for i in 0..m {
        let (done, rest) = x.split_at_mut(i * m);
        let row = &mut rest[..=i];
        row[i] = 1.0;
        for k in 0..i {
            let lik = l[k * ld + i];
            for (v, xk) in row[..=k].iter_mut().zip(&done[k * m..=k * m + k]) {
                *v -= lik * xk;
            }
        }
        let lii = l[i * ld + i];
        for v in row.iter_mut() {
            *v /= lii;
        }
    }
}

/// Solves `L y = b` in place (`L` lower triangular row-major `n×n`, `b` has `n` values).
#[inline]
pub fn forward_solve(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let row = &l[i * n..i * n + i];
        let mut s = b[i];
        for (lk, bk) in row.iter().zip(&b[..i]) {
            s -= lk * bk;
        }
        b[i] = s / l[i * n + i];
    }
}

/// Solves `Lᵀ x = b` in place (`L` lower triangular row-major `n×n`).
pub fn backward_solve_transposed(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// `L z` for lower-triangular row-major `L` (`n×n`).
pub fn lower_times(l: &[f64], n: usize, z: &[f64]) -> Vec<f64> {
    (0..n).map(|i| (0..=i).map(|k| l[i * n + k] * z[k]).sum()).collect()
}

/// Replaces the lower-triangular row-major `n×n` matrix `l` (nonzero diagonal) by its inverse.
pub fn invert_lower_in_place(l: &mut [f64], n: usize) {
    let mut inv = vec![0.0; n * n];
    for j in 0..n {
        inv[j * n + j] = 1.0 / l[j * n + j];
        for i in j + 1..n {
            let s: f64 = (j..i).map(|k| l[i * n + k] * inv[k * n + j]).sum();
            inv[i * n + j] = -s / l[i * n + i];
        }
    }
    l.copy_from_slice(&inv);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lower(n: usize) -> DMatrix<f64> {
        DMatrix::from_fn(n, n, |i, j| {
            if j > i {
                0.0
            } else if i == j {
                2.0 + i as f64 * 0.01
            } else {
                ((i * 7 + j * 3) % 11) as f64 * 0.05 - 0.2
            }
        })
    }

    #[test]
    fn triangular_inverse_variants_agree_bit_for_bit() {
        let m = 67;
        let l = DMatrix::from_fn(m, m, |i, j| {
            if i == j { 1.0 + (i % 5) as f64 * 0.3 } else { ((i * 7 + j * 13) % 17) as f64 / 17.0 - 0.5 }
        });
        let lower = DMatrix::from_fn(m, m, |i, j| if i >= j { l[(i, j)] } else { 0.0 });
        let mut baseline = vec![0.0; m * m];
        invert_rows(l.as_slice(), m, m, &mut baseline);
        let baseline = DMatrix::from_row_slice(m, m, &baseline);
        let err = (&lower * &baseline - DMatrix::identity(m, m)).abs().max();
        assert!(err < 1e-9, "max |L L⁻¹ − I| = {err:e}");
        assert!((0..m).all(|j| (0..j).all(|i| baseline[(i, j)] == 0.0)), "L⁻¹ is lower triangular");
        // A diagonal block of a larger matrix, in place (leading dimension 80), into a buffer
        // holding garbage.
        let big =
            DMatrix::from_fn(
                80,
                80,
                |i, j| if i >= 5 && j >= 5 && i < 5 + m && j < 5 + m { l[(i - 5, j - 5)] } else { 9.0 },
            );
        let mut rows = vec![f64::NAN; m * m];
        lower_triangular_inverse_rows(&big.as_slice()[5 * 80 + 5..], 80, m, &mut rows);
        assert_eq!(DMatrix::from_row_slice(m, m, &rows), baseline);
        // What the public function runs (the AVX2 variant where the CPU has AVX2), on a matrix
        // of its own size.
        let mut own = vec![0.0; m * m];
        lower_triangular_inverse_rows(l.as_slice(), m, m, &mut own);
        assert_eq!(DMatrix::from_row_slice(m, m, &own), baseline);
        #[cfg(target_arch = "x86_64")]
        if !std::arch::is_x86_feature_detected!("avx2") {
            use std::io::Write;
            let _ = writeln!(std::io::stderr(), "SKIPPED the AVX2 comparison: this CPU lacks AVX2");
        }
    }

    #[test]
    fn blocked_solves_match_nalgebra() {
        let n = 150;
        let l = lower(n);
        let b = DMatrix::from_fn(n, 70, |i, j| ((i * 13 + j * 5) % 17) as f64 / 17.0 - 0.5);
        let mut x = b.clone();
        solve_lower_in_place(&l, &mut x);
        let reference = l.solve_lower_triangular(&b).expect("nonsingular");
        assert!((&x - &reference).abs().max() < 1e-12);
        let mut y = b.clone();
        solve_lower_transpose_in_place(&l, &mut y);
        let reference = l.transpose().solve_upper_triangular(&b).expect("nonsingular");
        assert!((&y - &reference).abs().max() < 1e-12);
    }

    #[test]
    fn row_major_solves_products_and_inverse() {
        let l = [2.0, 0.0, 0.0, 1.0, 3.0, 0.0, -1.0, 0.5, 4.0];
        let b = [1.0, -2.0, 0.5];
        let mut y = b;
        forward_solve(&l, 3, &mut y);
        assert_eq!(lower_times(&l, 3, &y), b.to_vec());
        let mut x = b;
        backward_solve_transposed(&l, 3, &mut x);
        for i in 0..3 {
            let s: f64 = (0..3).map(|k| l[k * 3 + i] * x[k]).sum();
            assert!((s - b[i]).abs() < 1e-15, "Lᵀx row {i}: {s}");
        }
        let mut inv = l;
        invert_lower_in_place(&mut inv, 3);
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| l[i * 3 + k] * inv[k * 3 + j]).sum();
                assert!((s - if i == j { 1.0 } else { 0.0 }).abs() < 1e-15);
            }
        }
    }
}

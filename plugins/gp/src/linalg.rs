//! Parallel dense kernels of the GP (products `AᵀB`, `AᵀA`, mirrored symmetric assembly),
//! parallel over fixed-width column blocks (the result does not depend on the thread count).
//! The triangular solves are in [`les_numerics::triangular`].

use nalgebra::{DMatrix, DMatrixViewMut};
use rayon::prelude::*;

/// Right-hand-side columns per parallel task.
const RHS_BLOCK: usize = 64;

/// `c ← alpha·aᵀ·b + beta·c` through `gemm` on an explicit transpose: nalgebra's `gemm_tr`
/// never uses `matrixmultiply` (it runs plain dot products), and copying `aᵀ` costs `O(size)`
/// against the product's `O(size · ncols(b))`.
pub fn gemm_tn<SC, SB>(
    c: &mut nalgebra::Matrix<f64, nalgebra::Dyn, nalgebra::Dyn, SC>,
    alpha: f64,
    a: &DMatrix<f64>,
    b: &nalgebra::Matrix<f64, nalgebra::Dyn, nalgebra::Dyn, SB>,
    beta: f64,
) where
    SC: nalgebra::StorageMut<f64, nalgebra::Dyn, nalgebra::Dyn>,
    SB: nalgebra::Storage<f64, nalgebra::Dyn, nalgebra::Dyn>,
{
    c.gemm(alpha, &a.transpose(), b, beta);
}

/// [`gemm_tn`] for owned matrices, parallel over fixed blocks of 64 columns of `c`
/// and `b` (deterministic whatever the thread count).
pub fn gemm_tn_par(c: &mut DMatrix<f64>, alpha: f64, a: &DMatrix<f64>, b: &DMatrix<f64>, beta: f64) {
    let (m, k) = (c.nrows(), b.nrows());
    if m == 0 || c.ncols() == 0 {
        return;
    }
    let a_t = a.transpose();
    c.as_mut_slice().par_chunks_mut(m * RHS_BLOCK).zip(b.as_slice().par_chunks(k.max(1) * RHS_BLOCK)).for_each(
        |(cc, bc)| {
            let cols = cc.len() / m;
            let mut cv = DMatrixViewMut::from_slice(cc, m, cols);
            cv.gemm(alpha, &a_t, &nalgebra::DMatrixView::from_slice(bc, k, cols), beta);
        },
    );
}

/// The upper triangle of `c ← alpha·aᵀ·a + beta·c` (`c` square, `a` `k×m`): per block of 64
/// columns only the rows down to the block's last column (the diagonal block in full), about
/// half the flops of [`gemm_tn_par`]. Parallel over the column blocks; entries below the
/// diagonal blocks are left as they were.
pub fn syrk_tn_upper_par(c: &mut DMatrix<f64>, alpha: f64, a: &DMatrix<f64>, beta: f64) {
    let (m, k) = (c.nrows(), a.nrows());
    if m == 0 || k == 0 {
        return;
    }
    let a_t = a.transpose();
    c.as_mut_slice().par_chunks_mut(m * RHS_BLOCK).enumerate().for_each(|(blk, cc)| {
        let cols = cc.len() / m;
        let rows = (blk * RHS_BLOCK + cols).min(m);
        let mut full = DMatrixViewMut::from_slice(cc, m, cols);
        let mut cv = full.rows_mut(0, rows);
        cv.gemm(alpha, &a_t.rows(0, rows), &a.columns(blk * RHS_BLOCK, cols), beta);
    });
}

/// Copies the upper triangle of the square `c` onto its lower triangle (see
/// [`mirror_upper_in_place`]).
pub fn mirror_upper(c: &mut DMatrix<f64>) {
    let m = c.nrows();
    mirror_upper_in_place(c.as_mut_slice(), m);
}

/// Copies the upper triangle of the column-major `m×m` matrix `data` onto its lower triangle,
/// parallel over blocks of `RHS_BLOCK` (64) columns. Each column is split into its upper part
/// (read) and its strictly lower part (written), so every block can read every column while
/// writing only its own; tiles of 64 rows keep the strided reads in cache.
pub fn mirror_upper_in_place(data: &mut [f64], m: usize) {
    if m == 0 {
        return;
    }
    let (uppers, mut lowers): (Vec<&[f64]>, Vec<&mut [f64]>) = data
        .chunks_mut(m)
        .enumerate()
        .map(|(j, column)| {
            let (upper, lower) = column.split_at_mut(j + 1);
            (&*upper, lower)
        })
        .unzip();
    lowers.par_chunks_mut(RHS_BLOCK).enumerate().for_each(|(blk, lowers)| {
        let j0 = blk * RHS_BLOCK;
        for i0 in (j0..m).step_by(RHS_BLOCK) {
            let i1 = (i0 + RHS_BLOCK).min(m);
            for (c, lower) in lowers.iter_mut().enumerate() {
                let j = j0 + c;
                // Entry (i, j) of the lower triangle is `lower[i − j − 1]`.
                let start = i0.max(j + 1);
                for (v, upper) in lower[start - j - 1..i1 - j - 1].iter_mut().zip(&uppers[start..i1]) {
                    *v = upper[j];
                }
            }
        }
    });
}

/// `aᵀ`, parallel over its columns (the rows of `a`): a strided gather of `k·m` values, which
/// nalgebra's `transpose` does serially.
pub fn transpose_par(a: &DMatrix<f64>) -> DMatrix<f64> {
    let (k, m) = a.shape();
    let mut out = vec![0.0; m * k];
    if m > 0 {
        out.par_chunks_mut(m).enumerate().for_each(|(row, column)| {
            for (v, a_column) in column.iter_mut().zip(a.as_slice().chunks_exact(k)) {
                *v = a_column[row];
            }
        });
    }
    DMatrix::from_vec(m, k, out)
}

/// Rows of the kernel tile filled and updated at a time in [`symmetric_minus_crossprod_par`]:
/// with 64 columns a 128 KB tile stays in cache between the kernel fill and the GEMM.
const SYMMETRIC_ROW_TILE: usize = 256;

/// The symmetric `m×m` matrix `K − AᵀA`, with `A` (`k×m`) optional and `K` symmetric, given
/// column-wise by `fill_column(j, rows, out)` writing `K[rows, j]` to `out`.
///
/// One pass per phase over the `m²` result instead of separate fill, update and mirror passes:
/// per block of `RHS_BLOCK` (64) columns (in parallel), its upper part (rows down to the block's
/// last column) is built in tiles of `SYMMETRIC_ROW_TILE` (256) rows, each filled and then updated
/// by the GEMM while in cache; then the upper triangle is mirrored in parallel.
///
/// Same bits as filling the upper triangle of `K`, [`syrk_tn_upper_par`] and [`mirror_upper`],
/// whatever the thread count: an entry of a `matrixmultiply` product is the same
/// fused-multiply-add chain wherever it sits in the product, and the GEMM column blocks are the
/// same 64 columns, so nalgebra picks the same product (matrixmultiply, or its own loop for a
/// block of at most 5 columns or `k ≤ 5`) for every entry.
pub fn symmetric_minus_crossprod_par<F>(m: usize, a: Option<&DMatrix<f64>>, fill_column: F) -> DMatrix<f64>
where
    F: Fn(usize, std::ops::Range<usize>, &mut [f64]) + Sync,
{
    let mut out = vec![0.0; m * m];
    if m == 0 {
        return DMatrix::from_vec(0, 0, out);
    }
    let a = a.filter(|a| a.nrows() > 0);
    let a_t = a.map(transpose_par);
    out.par_chunks_mut(m * RHS_BLOCK).enumerate().for_each(|(blk, chunk)| {
        let (j0, cols) = (blk * RHS_BLOCK, chunk.len() / m);
        let rows = j0 + cols;
        for r0 in (0..rows).step_by(SYMMETRIC_ROW_TILE) {
            let r1 = (r0 + SYMMETRIC_ROW_TILE).min(rows);
            for (c, column) in chunk.chunks_mut(m).enumerate() {
                fill_column(j0 + c, r0..r1, &mut column[r0..r1]);
            }
            if let (Some(a), Some(a_t)) = (a, &a_t) {
                let mut block = DMatrixViewMut::from_slice(chunk, m, cols);
                let mut tile = block.rows_mut(r0, r1 - r0);
                tile.gemm(-1.0, &a_t.rows(r0, r1 - r0), &a.columns(j0, cols), 1.0);
            }
        }
    });
    mirror_upper_in_place(&mut out, m);
    DMatrix::from_vec(m, m, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mirror_copies_the_upper_triangle_and_keeps_it() {
        // Sizes below, at and across the block width (64).
        for m in [1, 2, 15, 16, 17, 64, 65, 130] {
            let original = DMatrix::from_fn(m, m, |i, j| (i * 1000 + j) as f64);
            let mut c = original.clone();
            mirror_upper(&mut c);
            for j in 0..m {
                for i in 0..m {
                    let want = if i <= j { original[(i, j)] } else { original[(j, i)] };
                    assert_eq!(c[(i, j)], want, "m = {m}, entry ({i}, {j})");
                }
            }
        }
    }

    #[test]
    fn symmetric_assembly_gives_the_bits_of_upper_syrk_and_mirror() {
        // Sizes with a partial last block of 16, 3 (≤ 5: nalgebra's own product) and 0
        // columns, and k = 3 (≤ 5), 40 and 300 (two matrixmultiply depth blocks of 256).
        for (k, m) in [(40, 300), (3, 300), (40, 259), (300, 256), (40, 517)] {
            let a = DMatrix::from_fn(k, m, |i, j| ((i * 7 + j * 13) % 19) as f64 / 19.0 - 0.4 + 1e-3 * j as f64);
            let kernel = |i: usize, j: usize| (-((i as f64 - j as f64) / 50.0).powi(2)).exp();
            let fill = |j: usize, rows: std::ops::Range<usize>, out: &mut [f64]| {
                for (v, i) in out.iter_mut().zip(rows) {
                    *v = kernel(i, j);
                }
            };
            let mut reference = DMatrix::from_fn(m, m, kernel);
            syrk_tn_upper_par(&mut reference, -1.0, &a, 1.0);
            mirror_upper(&mut reference);
            for threads in [1, 2, 3] {
                let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
                let got = pool.install(|| symmetric_minus_crossprod_par(m, Some(&a), fill));
                assert!(
                    got.iter().zip(reference.iter()).all(|(x, y)| x.to_bits() == y.to_bits()),
                    "k = {k}, m = {m}, {threads} threads"
                );
            }
            let kernel_only = symmetric_minus_crossprod_par(m, None, fill);
            assert_eq!(kernel_only, DMatrix::from_fn(m, m, |i, j| kernel(i.min(j), i.max(j))), "k = {k}, m = {m}");
        }
    }

    #[test]
    fn upper_syrk_and_mirror_match_the_full_product() {
        // 150 columns: two whole blocks of 64 and a partial one.
        let (k, m) = (30, 150);
        let a = DMatrix::from_fn(k, m, |i, j| ((i * 7 + j * 13) % 19) as f64 / 19.0 - 0.4);
        let c0 = DMatrix::from_fn(m, m, |i, j| 1.0 + ((i + j) % 5) as f64 * 0.1);
        let mut full = c0.clone();
        gemm_tn_par(&mut full, -1.0, &a, &a, 1.0);
        let mut upper = c0.clone();
        syrk_tn_upper_par(&mut upper, -1.0, &a, 1.0);
        mirror_upper(&mut upper);
        assert!((&upper - &full).abs().max() < 1e-13);
        assert_eq!(upper, upper.transpose(), "exactly symmetric");
    }
}

//! The inverse of a symmetric positive-definite matrix from its Cholesky factor, the way LAPACK's
//! `potri` does it (`trtri` then `lauum`), in blocks of 64 rows (`BLOCK`) so that nearly all the work is
//! GEMM.
//!
//! The MAP fit needs all of `K⁻¹` (its gradient is `½ Σ_jk (ααᵀ − K⁻¹)_jk ∂K_jk`), once per
//! evaluation of the log posterior. Solving `L Lᵀ X = I` costs `2n³` flops; this costs `⅔n³`:
//! 1. `L⁻¹`, column block by column block: column block `J` of `L⁻¹` is zero above row block
//!    `J`, so its forward substitution starts there, and each diagonal block is applied as the
//!    explicit inverse of `L`'s diagonal block (a GEMM instead of a scalar substitution).
//!    About `n³/3` flops.
//! 2. The upper triangle of `K⁻¹ = L⁻ᵀ L⁻¹`: entry `(i, j)`, `i ≤ j`, sums `L⁻¹_ki L⁻¹_kj`
//!    over `k ≥ j` only, so a strip of [`STRIP`] (16) columns is one GEMM over the rows from the
//!    strip down. About `n³/3` flops. The lower triangle is then mirrored, so the result is
//!    exactly symmetric.
//!
//! Both steps are parallel over fixed column blocks or strips, each written by one task: the
//! result does not depend on the number of threads.

use nalgebra::DMatrix;
use rayon::prelude::*;

use les_numerics::gemm::{Strided, dgemm};
use les_numerics::triangular::lower_triangular_inverse_rows;

use crate::linalg::mirror_upper_in_place;

/// Width of the column and row blocks of step 1.
const BLOCK: usize = 64;
/// Width of the column strips of step 2: each strip's product also computes the part of its
/// square diagonal block below the diagonal, in vain, so narrower strips waste less (at
/// `n` = 400, 24 Mflop in strips of 16 against 32 in blocks of 64 for the 21 that count).
const STRIP: usize = 16;

/// Buffers of [`spd_inverse_into`], reused by successive inverses (of any size).
#[derive(Clone, Debug, Default)]
pub struct SpdInverseScratch {
    /// `L⁻¹`, column-major.
    linv: Vec<f64>,
}

impl SpdInverseScratch {
    /// Gives the scratch a buffer of at least `len` entries from `take` unless it has one.
    pub fn reserve_from(&mut self, len: usize, take: impl FnOnce(usize) -> Vec<f64>) {
        if self.linv.capacity() < len {
            self.linv = take(len);
        }
    }

    /// The scratch's buffer (leaving it empty), for reuse elsewhere.
    pub fn take_buffer(&mut self) -> Vec<f64> {
        std::mem::take(&mut self.linv)
    }
}

/// `K⁻¹` for `K = L Lᵀ`, with `l` the lower Cholesky factor (its upper triangle is not read).
pub fn spd_inverse_from_cholesky(l: &DMatrix<f64>) -> DMatrix<f64> {
    let mut out = DMatrix::zeros(l.nrows(), l.nrows());
    spd_inverse_into(l, &mut SpdInverseScratch::default(), &mut out);
    out
}

/// [`spd_inverse_from_cholesky`] into `out` (resized if needed), with the buffers of `scratch`:
/// the MAP fit inverts a matrix of the same size at every evaluation, and fresh `n×n`
/// allocations there cost page faults of the same order as the arithmetic.
pub fn spd_inverse_into(l: &DMatrix<f64>, scratch: &mut SpdInverseScratch, out: &mut DMatrix<f64>) {
    let n = l.nrows();
    if out.shape() != (n, n) {
        *out = DMatrix::zeros(n, n);
    }
    if n == 0 {
        return;
    }
    let blocks: Vec<(usize, usize)> = (0..n).step_by(BLOCK).map(|b0| (b0, (b0 + BLOCK).min(n))).collect();
    let ls = l.as_slice();
    // Inverses of L's diagonal blocks (lower triangular, at most BLOCK × BLOCK), row-major,
    // inverted where they lie in L.
    let diag_inv: Vec<Vec<f64>> = blocks
        .par_iter()
        .map(|&(b0, b1)| {
            let mut rows = vec![0.0; (b1 - b0) * (b1 - b0)];
            lower_triangular_inverse_rows(&ls[b0 * n + b0..], n, b1 - b0, &mut rows);
            rows
        })
        .collect();

    // Step 1: L⁻¹, column-major, one task per column block. Column block J is written from
    // row block J down (its diagonal block with the zeros above the diagonal); step 2 reads
    // nothing above it, so the buffer needs no clearing between calls.
    scratch.linv.resize(n * n, 0.0);
    scratch.linv.par_chunks_mut(n * BLOCK).enumerate().for_each(|(jb, chunk)| {
        let (j0, j1) = blocks[jb];
        let w = j1 - j0;
        for (c, column) in chunk.chunks_mut(n).enumerate() {
            for (r, v) in column[j0..j1].iter_mut().enumerate() {
                *v = diag_inv[jb][r * w + c];
            }
        }
        let mut t = vec![0.0; BLOCK * w];
        for (ib, &(i0, i1)) in blocks.iter().enumerate().skip(jb + 1) {
            // L_II X_I = −L_I,[j0..i0] X_[j0..i0]  ⇒  X_I = −L_II⁻¹ (L_I,[j0..i0] X_[j0..i0]).
            let h = i1 - i0;
            let below = Strided { data: &ls[j0 * n + i0..], rows: 1, cols: n };
            let done = Strided { data: &chunk[j0..], rows: 1, cols: n };
            dgemm(h, i0 - j0, w, 1.0, below, done, 0.0, &mut t, h);
            lower_times_into(&diag_inv[ib], h, h, w, &t, &mut chunk[i0..], n);
        }
    });

    // Step 2: the upper triangle of L⁻ᵀ L⁻¹, by strips of STRIP columns. Rows of L⁻ᵀ are the
    // columns of L⁻¹, read with swapped strides (the GEMM packs its operands anyway, so no
    // transposed copy is made).
    let linv = &scratch.linv;
    out.as_mut_slice().par_chunks_mut(n * STRIP).enumerate().for_each(|(sb, chunk)| {
        let s0 = sb * STRIP;
        let w = chunk.len() / n;
        // C[0..s1, S] = Σ_{k ≥ s0} L⁻¹[k, 0..s1]ᵀ L⁻¹[k, S]; the rows k < s0 of L⁻¹[·, S] are 0.
        let a = Strided { data: &linv[s0..], rows: n, cols: 1 };
        let b = Strided { data: &linv[s0 * n + s0..], rows: 1, cols: n };
        dgemm(s0 + w, n - s0, w, 1.0, a, b, 0.0, chunk, n);
    });
    mirror_upper_in_place(out.as_mut_slice(), n);
}

/// `out ← −D T` for the leading `h×h` block of the lower-triangular `D` (row-major) and the
/// leading `h` rows of `T` (`w` columns, column-major), both with leading dimension `ld`, into
/// the column-major `out` (leading dimension `ldc`). The rows below the middle are one GEMM over
/// all of the block's columns; the rows above it recurse, as the block's upper-left part is
/// lower triangular again. At `h` = 64 that is 0.36 Mflop per product instead of the 0.52 of a
/// plain GEMM, in which half of `D` is zeros.
fn lower_times_into(d: &[f64], ld: usize, h: usize, w: usize, t: &[f64], out: &mut [f64], ldc: usize) {
    let t_op = Strided { data: t, rows: 1, cols: ld };
    if h <= 16 {
        dgemm(h, h, w, -1.0, Strided { data: d, rows: ld, cols: 1 }, t_op, 0.0, out, ldc);
        return;
    }
    let h1 = (h / 2).next_multiple_of(8);
    let bottom = Strided { data: &d[h1 * ld..], rows: ld, cols: 1 };
    dgemm(h - h1, h, w, -1.0, bottom, t_op, 0.0, &mut out[h1..], ldc);
    lower_times_into(d, ld, h1, w, t, out, ldc);
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_numerics::cholesky::cholesky_with_jitter;

    fn spd(n: usize, seed: usize) -> DMatrix<f64> {
        // A well-spread deterministic matrix B; K = B Bᵀ / n + 0.1 I.
        let b = DMatrix::from_fn(n, n, |i, j| ((i * 37 + j * 11 + seed * 7) % 29) as f64 / 29.0 - 0.5);
        &b * b.transpose() / n as f64 + DMatrix::identity(n, n) * 0.1
    }

    #[test]
    fn inverse_times_matrix_is_the_identity() {
        // Sizes below, at and across the block width, and with a partial last block.
        for (n, seed) in [(1, 0), (5, 1), (63, 2), (64, 3), (65, 4), (130, 5), (300, 6)] {
            let k = spd(n, seed);
            let l = cholesky_with_jitter(k.clone()).expect("spd").l;
            let inv = spd_inverse_from_cholesky(&l);
            let err = (&k * &inv - DMatrix::identity(n, n)).abs().max();
            assert!(err < 1e-10, "n = {n}: max |K K⁻¹ − I| = {err:e}");
            // Exactly symmetric (mirrored), as the gradient's element-wise products assume.
            assert_eq!(inv, inv.transpose(), "n = {n}");
        }
    }

    #[test]
    fn matches_solving_against_the_identity() {
        let n = 200;
        let k = spd(n, 9);
        let l = cholesky_with_jitter(k).expect("spd").l;
        let mut reference = DMatrix::identity(n, n);
        les_numerics::triangular::cholesky_solve_in_place(&l, &mut reference);
        let inv = spd_inverse_from_cholesky(&l);
        let scale = reference.abs().max();
        assert!((inv - reference).abs().max() < 1e-12 * scale.max(1.0));
    }

    #[test]
    fn reused_scratch_gives_the_bits_of_a_fresh_one() {
        // Sizes that shrink and grow again: stale entries of a larger earlier call must not leak.
        let mut scratch = SpdInverseScratch::default();
        let mut out = DMatrix::zeros(0, 0);
        for (n, seed) in [(300, 1), (130, 2), (300, 3), (64, 4)] {
            let l = cholesky_with_jitter(spd(n, seed)).expect("spd").l;
            spd_inverse_into(&l, &mut scratch, &mut out);
            assert_eq!(out, spd_inverse_from_cholesky(&l), "n = {n}");
        }
    }

    #[test]
    fn same_bits_for_any_thread_count() {
        let k = spd(257, 3);
        let l = cholesky_with_jitter(k).expect("spd").l;
        let one = rayon::ThreadPoolBuilder::new().num_threads(1).build().expect("pool");
        let three = rayon::ThreadPoolBuilder::new().num_threads(3).build().expect("pool");
        let a = one.install(|| spd_inverse_from_cholesky(&l));
        let b = three.install(|| spd_inverse_from_cholesky(&l));
        assert_eq!(a, b);
    }
}

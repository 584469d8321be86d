//! The one entry point to GEMM for strided operands: [`dgemm`] calls `matrixmultiply` directly
//! (the kernel nalgebra's `gemm` uses for large products), so the blocked factorizations here
//! and in the GP can hand it sub-blocks of one buffer, transposed or not, without copies.

use rayon::prelude::*;

/// An operand of [`dgemm`]: its entries and the strides between rows and between columns.
#[derive(Clone, Copy)]
pub struct Strided<'a> {
    /// The entries; `(r, c)` is `data[r·rows + c·cols]`.
    pub data: &'a [f64],
    /// Stride between rows.
    pub rows: usize,
    /// Stride between columns.
    pub cols: usize,
}

/// `c ← alpha·a·b + beta·c` for an `m×k` `a`, a `k×n` `b` and an `m×n` `c` (column-major with
/// leading dimension `ldc ≥ m`), always through `matrixmultiply`. Two cases nalgebra's `gemm`
/// handles badly: a transposed operand (a view with swapped strides goes through nalgebra's
/// axpy fallback, which mis-sizes such views when a dimension is at most 5), and a dimension
/// of at most 5 (axpys instead of the GEMM kernel). `beta = 0` ignores what `c` held. Panics
/// when an operand's strides reach past its slice.
#[allow(clippy::too_many_arguments)]
pub fn dgemm(
    m: usize,
    k: usize,
    n: usize,
    alpha: f64,
    a: Strided<'_>,
    b: Strided<'_>,
    beta: f64,
    c: &mut [f64],
    ldc: usize,
) {
    check_bounds(m, k, n, &a, &b, c.len(), ldc);
    // SAFETY: every entry the product reads or writes lies within its slice (checked above).
    unsafe { dgemm_unchecked(m, k, n, alpha, &a, &b, beta, c.as_mut_ptr(), ldc) }
}

/// Rows of `a` and `c` per task of [`dgemm_par_rows`] (a multiple of the GEMM kernel's 8 rows).
const ROW_CHUNK: usize = 128;

/// [`dgemm`], parallel over fixed chunks of [`ROW_CHUNK`] rows of `a` and `c`: for products with
/// a long inner dimension and few columns, which a split by columns would leave to one task.
/// The chunks do not depend on the thread count, so neither does the result (one thread runs
/// the same chunks in turn).
#[allow(clippy::too_many_arguments)]
pub fn dgemm_par_rows(
    m: usize,
    k: usize,
    n: usize,
    alpha: f64,
    a: Strided<'_>,
    b: Strided<'_>,
    beta: f64,
    c: &mut [f64],
    ldc: usize,
) {
    check_bounds(m, k, n, &a, &b, c.len(), ldc);
    if m <= ROW_CHUNK {
        // SAFETY: as in `dgemm`.
        return unsafe { dgemm_unchecked(m, k, n, alpha, &a, &b, beta, c.as_mut_ptr(), ldc) };
    }
    /// `c`'s storage, shared by tasks that write disjoint rows of it.
    struct Rows(*mut f64);
    // SAFETY: the tasks below write disjoint entries (rows r0..r1 of each column).
    unsafe impl Sync for Rows {}
    impl Rows {
        fn at(&self, r0: usize) -> *mut f64 {
            self.0.wrapping_add(r0)
        }
    }
    let out = Rows(c.as_mut_ptr());
    (0..m.div_ceil(ROW_CHUNK)).into_par_iter().for_each(|chunk| {
        let (r0, r1) = (chunk * ROW_CHUNK, ((chunk + 1) * ROW_CHUNK).min(m));
        let a_rows = Strided { data: &a.data[if k == 0 { 0 } else { r0 * a.rows }..], ..a };
        // SAFETY: rows r0..r1 of a are within its slice, and rows r0..r1 of c within c (both
        // checked for all m rows above); no other task touches these rows of c.
        unsafe { dgemm_unchecked(r1 - r0, k, n, alpha, &a_rows, &b, beta, out.at(r0), ldc) }
    });
}

/// Panics unless `a` (`m×k`), `b` (`k×n`) and `c` (`m×n`, leading dimension `ldc`, `c_len`
/// entries) hold every entry the product reads or writes.
fn check_bounds(m: usize, k: usize, n: usize, a: &Strided<'_>, b: &Strided<'_>, c_len: usize, ldc: usize) {
    if m == 0 || n == 0 {
        return;
    }
    let last = |rows: usize, cols: usize, s: &Strided<'_>| (rows - 1) * s.rows + (cols - 1) * s.cols;
    assert!(ldc >= m && c_len > (n - 1) * ldc + m - 1, "dgemm: c has {c_len} entries for {m}×{n} (ldc {ldc})");
    assert!(k == 0 || (last(m, k, a) < a.data.len() && last(k, n, b) < b.data.len()), "dgemm: operand out of bounds");
}

/// `matrixmultiply::dgemm` with `c` column-major at `c` (leading dimension `ldc`).
///
/// # Safety
/// Every entry the product reads (`a`: `r·rows + c·cols` for `r < m`, `c < k`; `b` likewise for
/// `k×n`) must lie within its slice, and `c + r + col·ldc` for `r < m`, `col < n` must be valid
/// for writes and not aliased by anything else during the call.
#[allow(clippy::too_many_arguments)]
unsafe fn dgemm_unchecked(
    m: usize,
    k: usize,
    n: usize,
    alpha: f64,
    a: &Strided<'_>,
    b: &Strided<'_>,
    beta: f64,
    c: *mut f64,
    ldc: usize,
) {
    if m == 0 || n == 0 {
        return;
    }
    // SAFETY: the caller's contract.
    unsafe {
        matrixmultiply::dgemm(
            m,
            k,
            n,
            alpha,
            a.data.as_ptr(),
            a.rows as isize,
            a.cols as isize,
            b.data.as_ptr(),
            b.rows as isize,
            b.cols as isize,
            beta,
            c,
            1,
            ldc as isize,
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use nalgebra::DMatrix;

    #[test]
    fn dgemm_matches_nalgebra_for_small_and_transposed_operands() {
        fn col(x: &DMatrix<f64>, ld: usize) -> Strided<'_> {
            Strided { data: x.as_slice(), rows: 1, cols: ld }
        }
        for (m, k, n) in [(7, 5, 3), (40, 3, 9), (1, 1, 1), (6, 0, 4), (70, 65, 66)] {
            let a = DMatrix::from_fn(m, k, |i, j| ((i * 7 + j * 3) % 5) as f64 - 2.0);
            let b = DMatrix::from_fn(k, n, |i, j| ((i * 5 + j * 2) % 7) as f64 * 0.5);
            let mut c = DMatrix::from_element(m, n, 1.0);
            let want = &a * &b * 2.0 + DMatrix::from_element(m, n, 0.5);
            dgemm(m, k, n, 2.0, col(&a, m), col(&b, k), 0.5, c.as_mut_slice(), m);
            assert!((c - &want).abs().max() < 1e-12, "{m}×{k}×{n}");
            // `a` read through the storage of its transpose (row stride k, column stride 1),
            // into the top rows of a taller `c` (leading dimension m + 2).
            let at = a.transpose();
            let mut tall = DMatrix::from_element(m + 2, n, 7.0);
            let at_view = Strided { data: at.as_slice(), rows: k.max(1), cols: 1 };
            dgemm(m, k, n, 1.0, at_view, col(&b, k), 0.0, tall.as_mut_slice(), m + 2);
            assert!((tall.rows(0, m) - &a * &b).abs().max() < 1e-12, "transposed {m}×{k}×{n}");
            assert!(tall.rows(m, 2).iter().all(|v| *v == 7.0), "rows beyond m untouched");
        }
    }
}

//! Small dense kernels for the `P×P` systems of the acquisition (and the test doubles):
//! Cholesky factorization in place and triangular solves, row-major.

/// Overwrites the lower triangle of the `n×n` symmetric matrix `a` with its Cholesky factor
/// `L` (`a = L Lᵀ`) and zeroes the strict upper triangle. Returns `false` when a pivot is not
/// positive (or not finite): the matrix is not numerically positive definite.
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

/// Solves `L y = b` in place (`L` lower triangular `n×n`, `b` has `n` values).
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

/// Solves `Lᵀ x = b` in place (`L` lower triangular `n×n`).
pub fn backward_solve_transposed(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_reconstructs_and_solves() {
        let a = [4.0, 2.0, 0.4, 2.0, 5.0, 1.0, 0.4, 1.0, 3.0];
        let mut l = a;
        assert!(cholesky_in_place(&mut l, 3));
        for i in 0..3 {
            for j in 0..3 {
                let s: f64 = (0..3).map(|k| l[i * 3 + k] * l[j * 3 + k]).sum();
                assert!((s - a[i * 3 + j]).abs() < 1e-14);
            }
        }
        let b = [1.0, -2.0, 0.5];
        let mut x = b;
        forward_solve(&l, 3, &mut x);
        backward_solve_transposed(&l, 3, &mut x);
        for i in 0..3 {
            let s: f64 = (0..3).map(|k| a[i * 3 + k] * x[k]).sum();
            assert!((s - b[i]).abs() < 1e-14);
        }
        let mut bad = [1.0, 2.0, 2.0, 1.0];
        assert!(!cholesky_in_place(&mut bad, 2));
    }
}

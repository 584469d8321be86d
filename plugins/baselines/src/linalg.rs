//! The little dense linear algebra the baselines need themselves (small matrices: MES's
//! max-value sampling fallback, TuRBO's joint sampling fallback, GIBO's gradient posterior).
//! Row-major `n×n` `Vec<f64>`.

/// Jitters tried, in order, when a covariance matrix is not numerically positive definite
/// (relative to the mean diagonal).
const JITTERS: [f64; 6] = [0.0, 1e-10, 1e-8, 1e-6, 1e-4, 1e-2];

/// Lower Cholesky factor of the symmetric `n×n` matrix `a` (row-major), adding the smallest
/// jitter of 0, 1e-10, 1e-8, …, 1e-2 (scaled by the mean diagonal) that makes it succeed. `None` when even
/// the largest fails.
pub fn cholesky_jittered(a: &[f64], n: usize) -> Option<Vec<f64>> {
    let scale = (0..n).map(|i| a[i * n + i]).sum::<f64>().abs() / n.max(1) as f64;
    let scale = if scale > 0.0 { scale } else { 1.0 };
    JITTERS.iter().find_map(|&j| cholesky(a, n, j * scale))
}

/// Lower Cholesky factor of `a + jitter·I`, or `None` when a pivot is not positive.
pub fn cholesky(a: &[f64], n: usize, jitter: f64) -> Option<Vec<f64>> {
    let mut l = vec![0.0; n * n];
    for i in 0..n {
        for j in 0..=i {
            let mut s = a[i * n + j];
            if i == j {
                s += jitter;
            }
            for k in 0..j {
                s -= l[i * n + k] * l[j * n + k];
            }
            if i == j {
                if !(s > 0.0 && s.is_finite()) {
                    return None;
                }
                l[i * n + i] = s.sqrt();
            } else {
                l[i * n + j] = s / l[j * n + j];
            }
        }
    }
    Some(l)
}

/// Solves `L x = b` in place for lower-triangular `L` (`n×n`).
pub fn solve_lower(l: &[f64], n: usize, b: &mut [f64]) {
    for i in 0..n {
        let mut s = b[i];
        for k in 0..i {
            s -= l[i * n + k] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// Solves `Lᵀ x = b` in place for lower-triangular `L` (`n×n`).
pub fn solve_lower_transposed(l: &[f64], n: usize, b: &mut [f64]) {
    for i in (0..n).rev() {
        let mut s = b[i];
        for k in i + 1..n {
            s -= l[k * n + i] * b[k];
        }
        b[i] = s / l[i * n + i];
    }
}

/// `L z` for lower-triangular `L` (`n×n`).
pub fn lower_times(l: &[f64], n: usize, z: &[f64]) -> Vec<f64> {
    (0..n).map(|i| (0..=i).map(|k| l[i * n + k] * z[k]).sum()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cholesky_solves() {
        let a = [4.0, 2.0, 0.4, 2.0, 3.0, 0.5, 0.4, 0.5, 2.0];
        let l = cholesky_jittered(&a, 3).unwrap();
        let mut x = [1.0, -2.0, 0.5];
        solve_lower(&l, 3, &mut x);
        solve_lower_transposed(&l, 3, &mut x);
        for i in 0..3 {
            let ax: f64 = (0..3).map(|j| a[i * 3 + j] * x[j]).sum();
            assert!((ax - [1.0, -2.0, 0.5][i]).abs() < 1e-12);
        }
        assert!(cholesky(&[1.0, 2.0, 2.0, 1.0], 2, 0.0).is_none());
    }
}

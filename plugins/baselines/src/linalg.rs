//! The little dense linear algebra the baselines need (small row-major `n×n` matrices: MES's
//! max-value sampling fallback, TuRBO's joint sampling fallback, GIBO's gradient posterior),
//! from [`les_numerics`] under the names the baselines use.

pub use les_numerics::cholesky::cholesky_rows_with_jitter;
pub use les_numerics::triangular::{
    backward_solve_transposed as solve_lower_transposed, forward_solve as solve_lower, lower_times,
};

/// Lower Cholesky factor of the symmetric `n×n` matrix `a` (row-major) with the jitter policy
/// of [`les_numerics::cholesky`]; `None` when even the largest jitter fails (for callers that
/// fall back: [`cholesky_rows_with_jitter`] gives the typed error).
pub fn cholesky_jittered(a: &[f64], n: usize) -> Option<Vec<f64>> {
    cholesky_rows_with_jitter(a, n).ok().map(|(l, _)| l)
}

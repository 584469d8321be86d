//! The exact GP posterior given fixed hyperparameters: one Cholesky factor of
//! `K_XX + σ_n² I`, the weights `α = K⁻¹ y`, and everything computed from them (marginals,
//! covariances, gradients of mean and variance, the marginal likelihood).
//!
//! All values are in the model's output scale (standardized outputs when the surrogate
//! standardizes); `shift`/`scale` map back: `y = shift + scale · y_model`.

use les_core::{Prediction, SurrogateError};
use nalgebra::{DMatrix, DVector};

use les_numerics::cholesky::{JitteredCholesky, cholesky_with_jitter};
use les_numerics::triangular::{cholesky_solve_in_place, solve_lower_in_place, solve_lower_transpose_in_place};

use crate::kernel::{Kernel, ScaledPoints};
use crate::linalg::{gemm_tn_par, symmetric_minus_crossprod_par, transpose_par};
use crate::schur::CandidateConditioning;

/// A Cholesky factorization for [`GpPosterior::from_factor`].
#[derive(Clone, Debug)]
pub struct PosteriorFactor {
    /// Lower factor of `K_XX + (σ_n² + jitter) I`, upper triangle zero.
    pub l: DMatrix<f64>,
    /// Absolute jitter added to the diagonal.
    pub jitter: f64,
    /// `α = (K_XX + (σ_n² + jitter) I)⁻¹ y`.
    pub alpha: DVector<f64>,
}

/// An exact GP posterior with zero prior mean (see the module docs).
#[derive(Clone, Debug)]
pub struct GpPosterior {
    kernel: Kernel,
    noise_variance: f64,
    x: Vec<f64>,
    y: Vec<f64>,
    shift: f64,
    scale: f64,
    /// Lower Cholesky factor of `K_XX + (σ_n² + jitter) I`, upper triangle zero.
    l: DMatrix<f64>,
    jitter: f64,
    alpha: DVector<f64>,
}

impl GpPosterior {
    /// Conditions a zero-mean GP with `kernel` and Gaussian noise variance `noise_variance` on
    /// points `x` (`n×d`, row-major) with values `y` (`n`, model scale). `shift`/`scale` record
    /// how `y` was standardized (`(0, 1)` if not).
    pub fn new(
        kernel: Kernel,
        noise_variance: f64,
        x: Vec<f64>,
        y: Vec<f64>,
        shift: f64,
        scale: f64,
    ) -> Result<Self, SurrogateError> {
        Self::check_data(&kernel, &x, &y)?;
        let mut k = kernel.gram(&x);
        for i in 0..y.len() {
            k[(i, i)] += noise_variance;
        }
        let JitteredCholesky { l, jitter } = cholesky_with_jitter(k)?;
        let mut a = DMatrix::from_column_slice(y.len(), 1, &y);
        cholesky_solve_in_place(&l, &mut a);
        let alpha = DVector::from_column_slice(a.as_slice());
        Ok(Self { kernel, noise_variance, x, y, shift, scale, l, jitter, alpha })
    }

    /// [`GpPosterior::new`] from a factorization already made with these hyperparameters (the
    /// MAP fit's last one, at its optimum): `factor` holds the lower factor of
    /// `K_XX + (σ_n² + jitter) I` and `α = K⁻¹ y`, so nothing `O(n³)` is repeated.
    pub fn from_factor(
        kernel: Kernel,
        noise_variance: f64,
        x: Vec<f64>,
        y: Vec<f64>,
        shift: f64,
        scale: f64,
        factor: PosteriorFactor,
    ) -> Result<Self, SurrogateError> {
        Self::check_data(&kernel, &x, &y)?;
        let PosteriorFactor { l, jitter, alpha } = factor;
        if l.shape() != (y.len(), y.len()) || alpha.len() != y.len() {
            return Err(SurrogateError::InvalidData(format!(
                "a {}×{} factor and {} weights for {} values",
                l.nrows(),
                l.ncols(),
                alpha.len(),
                y.len()
            )));
        }
        Ok(Self { kernel, noise_variance, x, y, shift, scale, l, jitter, alpha })
    }

    fn check_data(kernel: &Kernel, x: &[f64], y: &[f64]) -> Result<(), SurrogateError> {
        let d = kernel.dim();
        if x.len() != y.len() * d {
            return Err(SurrogateError::InvalidData(format!(
                "{} coordinates for {} values in dimension {d}",
                x.len(),
                y.len()
            )));
        }
        if x.iter().chain(y).any(|v| !v.is_finite()) {
            return Err(SurrogateError::InvalidData("the data contain non-finite values".into()));
        }
        Ok(())
    }

    /// The posterior with the same kernel, noise and output scaling conditioned also on the
    /// points `x` (`q×d`) with model-scale values `y` (`q`): refactored, not refitted.
    pub fn with_observations(&self, x: &[f64], y: &[f64]) -> Result<Self, SurrogateError> {
        let mut all_x = self.x.clone();
        all_x.extend_from_slice(x);
        let mut all_y = self.y.clone();
        all_y.extend_from_slice(y);
        Self::new(self.kernel.clone(), self.noise_variance, all_x, all_y, self.shift, self.scale)
    }

    /// Input dimension `d`.
    pub fn dim(&self) -> usize {
        self.kernel.dim()
    }

    /// Number of observations `n`.
    pub fn n(&self) -> usize {
        self.y.len()
    }

    /// The kernel (hyperparameters included).
    pub fn kernel(&self) -> &Kernel {
        &self.kernel
    }

    /// Observation-noise variance σ_n² (model scale).
    pub fn noise_variance(&self) -> f64 {
        self.noise_variance
    }

    /// Absolute jitter that had to be added to the diagonal (0 if none).
    pub fn jitter(&self) -> f64 {
        self.jitter
    }

    /// Training points, `n×d` row-major.
    pub fn x(&self) -> &[f64] {
        &self.x
    }

    /// Training values in model scale, `n`.
    pub fn y(&self) -> &[f64] {
        &self.y
    }

    /// `(shift, scale)` with `y_model = (y − shift)/scale`.
    pub fn output_scale(&self) -> (f64, f64) {
        (self.shift, self.scale)
    }

    /// Lower Cholesky factor `Lc` of `K_XX + σ_n² I` (`n×n`, upper triangle zero).
    pub fn cholesky_factor(&self) -> &DMatrix<f64> {
        &self.l
    }

    /// Weights `α = (K_XX + σ_n² I)⁻¹ y` (`n`).
    pub fn alpha(&self) -> &DVector<f64> {
        &self.alpha
    }

    /// Log marginal likelihood `−½ yᵀα − Σ log Lc_ii − (n/2) log 2π` (model scale).
    pub fn log_marginal_likelihood(&self) -> f64 {
        let n = self.n() as f64;
        let fit: f64 = self.y.iter().zip(self.alpha.iter()).map(|(a, b)| a * b).sum();
        let logdet: f64 = self.l.diagonal().iter().map(|v| v.ln()).sum();
        -0.5 * fit - logdet - 0.5 * n * (2.0 * std::f64::consts::PI).ln()
    }

    /// `K(X, Z)`, `n×m`, for row-major points `z` (`m×d`).
    pub fn cross_kernel(&self, z: &[f64]) -> DMatrix<f64> {
        self.kernel.matrix(&self.x, z)
    }

    /// `Lc⁻¹ K(X, Z)`, `n×m`: the whitened cross-covariance from which posterior covariances
    /// are `K_ZZ' − AᵀA'`.
    pub fn whitened_cross(&self, z: &[f64]) -> DMatrix<f64> {
        let mut a = self.cross_kernel(z);
        solve_lower_in_place(&self.l, &mut a);
        a
    }

    fn check_points(&self, xs: &[f64]) -> Result<usize, SurrogateError> {
        let d = self.dim();
        if d == 0 || !xs.len().is_multiple_of(d) {
            return Err(SurrogateError::InvalidData(format!(
                "{} coordinates are not a whole number of points of dimension {d}",
                xs.len()
            )));
        }
        Ok(xs.len() / d)
    }

    /// Posterior mean and latent variance at `m` points (`m×d`).
    pub fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError> {
        let m = self.check_points(xs)?;
        if self.n() == 0 {
            return Ok(Prediction { mean: vec![0.0; m], variance: vec![self.kernel.prior_variance(); m] });
        }
        let kxz = self.cross_kernel(xs);
        let mean = kxz.tr_mul(&self.alpha).as_slice().to_vec();
        let mut a = kxz;
        solve_lower_in_place(&self.l, &mut a);
        let s2 = self.kernel.prior_variance();
        let variance = a.column_iter().map(|c| (s2 - c.norm_squared()).max(0.0)).collect();
        Ok(Prediction { mean, variance })
    }

    /// Latent posterior covariance between `a` (`m_a×d`) and `b` (`m_b×d`), `m_a×m_b`.
    pub fn covariance_matrix(&self, a: &[f64], b: &[f64]) -> Result<DMatrix<f64>, SurrogateError> {
        self.check_points(a)?;
        self.check_points(b)?;
        // The common case Σ(Z, Z) (LES's support points) computes the kernel and the whitened
        // cross-covariance once, and only the upper triangle (mirrored: exactly symmetric).
        if a == b {
            let points = self.kernel.scale_points(a);
            let whitened = (self.n() > 0).then(|| self.whitened_cross(a));
            return Ok(symmetric_minus_crossprod_par(points.len(), whitened.as_ref(), |j, rows, out| {
                self.kernel.fill_gram_column(&points, j, rows, out)
            }));
        }
        let mut k = self.kernel.matrix(a, b);
        if self.n() > 0 {
            let (wa, wb) = (self.whitened_cross(a), self.whitened_cross(b));
            gemm_tn_par(&mut k, -1.0, &wa, &wb, 1.0);
        }
        Ok(k)
    }

    /// `Σ(Z, Z)` of the points `z` (`M×d`) in blocks: the kernel and the whitened
    /// cross-covariance `A = Lc⁻¹ K(X, Z)` are prepared once (`O(n·M)` memory), and a block
    /// `Σ(Z_r, Z_c) = K(Z_r, Z_c) − A_rᵀ A_c` is one kernel fill and one GEMM. An entry has the
    /// bits it has in [`GpPosterior::covariance_matrix`]`(z, z)` (the same fill and the same
    /// fused-multiply-add chain of the GEMM, see [`symmetric_minus_crossprod_par`]).
    pub fn covariance_blocks(&self, z: &[f64]) -> Result<GpCovarianceBlocks<'_>, SurrogateError> {
        self.check_points(z)?;
        let points = self.kernel.scale_points(z);
        let whitened = (self.n() > 0).then(|| {
            let a = self.whitened_cross(z);
            let a_t = transpose_par(&a);
            (a, a_t)
        });
        Ok(GpCovarianceBlocks { kernel: &self.kernel, points, whitened })
    }

    /// Posterior mean, latent variance and their gradients at one point `x` (`d`):
    /// returns `(μ, σ², ∇μ, ∇σ²)`.
    ///
    /// `∇μ = Σ_j α_j ∇k(x, x_j)` and `∇σ² = −2 Σ_j w_j ∇k(x, x_j)` with `w = K⁻¹ k_X(x)`.
    pub fn mean_variance_gradients(&self, x: &[f64]) -> (f64, f64, Vec<f64>, Vec<f64>) {
        let d = self.dim();
        let n = self.n();
        let mut kx = DMatrix::zeros(n, 1);
        for j in 0..n {
            kx[(j, 0)] = self.kernel.eval(x, &self.x[j * d..(j + 1) * d]);
        }
        let mean = kx.column(0).dot(&self.alpha);
        let mut w = kx.clone();
        solve_lower_in_place(&self.l, &mut w);
        let var = (self.kernel.prior_variance() - w.norm_squared()).max(0.0);
        solve_lower_transpose_in_place(&self.l, &mut w);
        let mut gmean = vec![0.0; d];
        let mut gvar = vec![0.0; d];
        let mut gk = vec![0.0; d];
        for j in 0..n {
            self.kernel.grad_first(x, &self.x[j * d..(j + 1) * d], &mut gk);
            let (aj, wj) = (self.alpha[j], w[(j, 0)]);
            for i in 0..d {
                gmean[i] += aj * gk[i];
                gvar[i] -= 2.0 * wj * gk[i];
            }
        }
        (mean, var, gmean, gvar)
    }

    /// Gradient of the posterior mean at `x` (`d`).
    pub fn mean_gradient(&self, x: &[f64]) -> Vec<f64> {
        self.mean_variance_gradients(x).2
    }

    /// Gradient of the latent posterior variance at `x` (`d`).
    pub fn variance_gradient(&self, x: &[f64]) -> Vec<f64> {
        self.mean_variance_gradients(x).3
    }

    /// Prepares Schur-complement conditioning on virtual observations at `M` candidates
    /// (`M×d`): see [`CandidateConditioning`].
    pub fn condition_candidates(&self, candidates: &[f64]) -> Result<CandidateConditioning, SurrogateError> {
        self.check_points(candidates)?;
        Ok(CandidateConditioning::new(self, candidates))
    }
}

/// Blocks of `Σ(Z, Z)` of an exact GP (see [`GpPosterior::covariance_blocks`]).
pub struct GpCovarianceBlocks<'a> {
    kernel: &'a Kernel,
    points: ScaledPoints,
    /// `A` (`n×M`) and `Aᵀ` (`M×n`); `None` without data.
    whitened: Option<(DMatrix<f64>, DMatrix<f64>)>,
}

/// Smallest GEMM dimension that nalgebra hands to `matrixmultiply` (every dimension must be
/// above 5; below, its own loop, which rounds differently): narrower blocks are computed as a
/// block this wide and cut. (With at most 5 data points every product takes nalgebra's loop,
/// here and in [`GpPosterior::covariance_matrix`]; bits are then not checked to agree.)
const MIN_GEMM_DIM: usize = 6;

impl GpCovarianceBlocks<'_> {
    /// `Σ(Z_cols, Z_rows)` column-major (`|cols|×|rows|`), i.e. `Σ(Z_rows, Z_cols)` row-major.
    fn compute(&self, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) -> Vec<f64> {
        let p = cols.len();
        let mut out = vec![0.0; p * rows.len()];
        if p == 0 {
            return out;
        }
        for (column, j) in out.chunks_exact_mut(p).zip(rows.clone()) {
            self.kernel.fill_gram_column(&self.points, j, cols.clone(), column);
        }
        if let Some((a, a_t)) = &self.whitened {
            let mut c = nalgebra::DMatrixViewMut::from_slice(&mut out, p, rows.len());
            c.gemm(-1.0, &a_t.rows(cols.start, p), &a.columns(rows.start, rows.len()), 1.0);
        }
        out
    }
}

impl les_core::CovarianceBlocks for GpCovarianceBlocks<'_> {
    fn block(&self, rows: std::ops::Range<usize>, cols: std::ops::Range<usize>) -> Result<Vec<f64>, SurrogateError> {
        let m = self.points.len();
        if rows.end > m || cols.end > m || rows.start > rows.end || cols.start > cols.end {
            return Err(SurrogateError::InvalidData(format!("covariance block {rows:?}×{cols:?} of {m} points")));
        }
        // A block narrower than MIN_GEMM_DIM is cut from a wider one so that every entry
        // comes out of the same GEMM kernel (and has the same bits) whatever the block.
        let widen = |r: &std::ops::Range<usize>| {
            if r.len() >= MIN_GEMM_DIM || m < MIN_GEMM_DIM {
                r.clone()
            } else {
                let start = r.start.min(m - MIN_GEMM_DIM);
                start..start + MIN_GEMM_DIM
            }
        };
        let (wide_rows, wide_cols) = (widen(&rows), widen(&cols));
        let wide = self.compute(wide_rows.clone(), wide_cols.clone());
        if wide_rows == rows && wide_cols == cols {
            return Ok(wide);
        }
        let width = wide_cols.len();
        let mut out = Vec::with_capacity(rows.len() * cols.len());
        for r in rows {
            let row = &wide[(r - wide_rows.start) * width..][..width];
            out.extend_from_slice(&row[cols.start - wide_cols.start..cols.end - wide_cols.start]);
        }
        Ok(out)
    }

    fn len(&self) -> usize {
        self.points.len()
    }
}

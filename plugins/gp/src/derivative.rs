//! Derivative GP: the posterior of the gradient `∇f(x)` of a GP conditioned on value
//! observations (docs/les-algorithm.md §6.4; GIBO, Müller et al. 2021), and how it shrinks after
//! hypothetical value observations (GIBO's acquisition).
//!
//! With `Lc` the Cholesky factor of `K_XX + σ_n² I`, `J(x)` the `d×n` matrix of
//! `∂k(x, x_j)/∂x_i = −g (x_i − x_ji)/ℓ_i²` and `B = Lc⁻¹ J(x)ᵀ`:
//! - mean `μ_∇(x) = J(x) α`;
//! - covariance `Σ_∇(x) = ∂²k(x, x') |_{x'=x} − Bᵀ B`, with the prior block
//!   `Cov(∂_i f(x), ∂_j f(x')) = g δ_ij/ℓ_j² − h r_i r_j/(ℓ_i² ℓ_j²)` (SE:
//!   `k [δ_ij/ℓ_i² − r_i r_j/(ℓ_i² ℓ_j²)]`, §6.4; Matérn-5/2 in [`crate::kernel`]), which is
//!   `g(0)/ℓ_i² δ_ij` at `x' = x`;
//! - after hypothetical value observations at `Z` (`m×d`, noise `σ²`):
//!   `Σ_∇(x | D ∪ Z) = Σ_∇(x) − C (Σ_ZZ + σ² I)⁻¹ Cᵀ` with the posterior cross-covariance
//!   `C = ∂_x K(x, Z) − Bᵀ A_Z` (`d×m`), `A_Z = Lc⁻¹ K_{X,Z}`, `Σ_ZZ = K_ZZ − A_Zᵀ A_Z`.

use les_core::SurrogateError;
use nalgebra::DMatrix;

use crate::cholesky::cholesky_with_jitter;
use crate::kernel::Kernel;
use crate::linalg::{gemm_tn, solve_lower_in_place};
use crate::posterior::GpPosterior;

/// Posterior of the gradient at one point.
#[derive(Clone, Debug, PartialEq)]
pub struct GradientPosterior {
    /// Mean, `d`.
    pub mean: Vec<f64>,
    /// Covariance, `d×d` row-major (symmetric).
    pub covariance: Vec<f64>,
}

/// A GP conditioned on value observations that predicts gradients (see the module docs).
#[derive(Clone, Debug)]
pub struct DerivativeGp {
    posterior: GpPosterior,
}

impl DerivativeGp {
    /// Conditions a zero-mean GP with `kernel` and noise variance `noise_variance` on points `x`
    /// (`n×d`) with values `y` (`n`, already in the scale the caller wants).
    pub fn new(kernel: Kernel, noise_variance: f64, x: Vec<f64>, y: Vec<f64>) -> Result<Self, SurrogateError> {
        Ok(Self { posterior: GpPosterior::new(kernel, noise_variance, x, y, 0.0, 1.0)? })
    }

    /// The derivative view of an existing posterior (same data, kernel and noise).
    pub fn from_posterior(posterior: GpPosterior) -> Self {
        Self { posterior }
    }

    /// The value posterior.
    pub fn posterior(&self) -> &GpPosterior {
        &self.posterior
    }

    /// `J(x)ᵀ`: `n×d`, row `j` is `∇_x k(x, x_j)`.
    fn jacobian_t(&self, x: &[f64], pts: &[f64]) -> DMatrix<f64> {
        let k = self.posterior.kernel();
        let d = k.dim();
        let m = pts.len() / d;
        let mut out = DMatrix::zeros(m, d);
        let mut g = vec![0.0; d];
        for j in 0..m {
            k.grad_first(x, &pts[j * d..(j + 1) * d], &mut g);
            for i in 0..d {
                out[(j, i)] = g[i];
            }
        }
        out
    }

    fn prior_gradient_covariance(&self) -> DMatrix<f64> {
        let k = self.posterior.kernel();
        let (g0, _) = k.g_and_h_of_r2(0.0);
        DMatrix::from_fn(k.dim(), k.dim(), |i, j| if i == j { g0 / k.lengthscales[i].powi(2) } else { 0.0 })
    }

    /// `(μ_∇, Σ_∇, B)` at `x`.
    fn moments(&self, x: &[f64]) -> (Vec<f64>, DMatrix<f64>, DMatrix<f64>) {
        let jt = self.jacobian_t(x, self.posterior.x());
        let mean = if self.posterior.n() == 0 {
            vec![0.0; x.len()]
        } else {
            jt.tr_mul(self.posterior.alpha()).as_slice().to_vec()
        };
        let mut b = jt;
        solve_lower_in_place(self.posterior.cholesky_factor(), &mut b);
        let mut cov = self.prior_gradient_covariance();
        if self.posterior.n() > 0 {
            gemm_tn(&mut cov, -1.0, &b, &b, 1.0);
        }
        (mean, cov, b)
    }

    /// Posterior mean and covariance of `∇f(x)` (`x` has `d` values).
    pub fn gradient_posterior(&self, x: &[f64]) -> GradientPosterior {
        let (mean, cov, _) = self.moments(x);
        GradientPosterior { mean, covariance: cov.transpose().as_slice().to_vec() }
    }

    /// Covariance of `∇f(x)` (`d×d` row-major) after also observing values at `z` (`m×d`)
    /// with noise variance `noise_variance`; the values do not matter.
    pub fn gradient_covariance_after(
        &self,
        x: &[f64],
        z: &[f64],
        noise_variance: f64,
    ) -> Result<Vec<f64>, SurrogateError> {
        let (_, mut cov, b) = self.moments(x);
        let kernel = self.posterior.kernel();
        // Cᵀ = ∂_x K(x, Z)ᵀ − A_Zᵀ B   (m×d)
        let mut ct = self.jacobian_t(x, z);
        let mut s = kernel.gram(z);
        if self.posterior.n() > 0 {
            let az = self.posterior.whitened_cross(z);
            gemm_tn(&mut ct, -1.0, &az, &b, 1.0);
            gemm_tn(&mut s, -1.0, &az, &az, 1.0);
        }
        for i in 0..s.nrows() {
            s[(i, i)] += noise_variance;
        }
        let ls = cholesky_with_jitter(s)?.l;
        solve_lower_in_place(&ls, &mut ct);
        gemm_tn(&mut cov, -1.0, &ct, &ct, 1.0);
        Ok(cov.transpose().as_slice().to_vec())
    }

    /// Trace of [`Self::gradient_covariance_after`]: GIBO's acquisition (to be minimized over
    /// `z`).
    pub fn gradient_variance_trace_after(
        &self,
        x: &[f64],
        z: &[f64],
        noise_variance: f64,
    ) -> Result<f64, SurrogateError> {
        let d = x.len();
        let cov = self.gradient_covariance_after(x, z, noise_variance)?;
        Ok((0..d).map(|i| cov[i * d + i]).sum())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::{KernelKind, stream_rng};
    use rand::RngExt;

    fn setup(kind: KernelKind) -> (DerivativeGp, Vec<f64>) {
        let mut rng = stream_rng(8, "deriv", 0);
        let (n, d) = (15, 3);
        let x: Vec<f64> = (0..n * d).map(|_| rng.random::<f64>()).collect();
        let y: Vec<f64> = x.chunks(d).map(|p| (3.0 * p[0]).sin() + p[1] * p[2]).collect();
        let kernel = Kernel::new(kind, vec![0.4, 0.6, 0.9], 1.3);
        let gp = DerivativeGp::new(kernel, 1e-3, x.clone(), y).expect("fit");
        (gp, x)
    }

    #[test]
    fn gradient_mean_and_covariance_match_finite_differences() {
        for kind in [KernelKind::SeArd, KernelKind::Matern52] {
            let (gp, _) = setup(kind);
            let x = [0.3, 0.55, 0.7];
            let gpost = gp.gradient_posterior(&x);
            let mg = gp.posterior().mean_gradient(&x);
            for (a, b) in gpost.mean.iter().zip(&mg) {
                assert!((a - b).abs() < 1e-12);
            }
            // Cov(∂_i f, ∂_j f) = ∂²Σ(a, b)/∂a_i∂b_j at a = b = x.
            let h = 1e-4;
            let cov = |a: &[f64], b: &[f64]| gp.posterior().covariance_matrix(a, b).expect("cov")[(0, 0)];
            for i in 0..3 {
                for j in 0..3 {
                    let shift = |k: usize, s: f64| {
                        let mut p = x.to_vec();
                        p[k] += s;
                        p
                    };
                    let fd = (cov(&shift(i, h), &shift(j, h))
                        - cov(&shift(i, h), &shift(j, -h))
                        - cov(&shift(i, -h), &shift(j, h))
                        + cov(&shift(i, -h), &shift(j, -h)))
                        / (4.0 * h * h);
                    let an = gpost.covariance[i * 3 + j];
                    assert!((fd - an).abs() < 1e-4 * (1.0 + an.abs()), "{kind:?} ({i},{j}): {fd} vs {an}");
                }
            }
        }
    }

    #[test]
    fn conditioning_on_extra_points_equals_refitting() {
        for kind in [KernelKind::SeArd, KernelKind::Matern52] {
            let (gp, x) = setup(kind);
            let z = [0.31, 0.5, 0.72, 0.2, 0.6, 0.66];
            let at = [0.3, 0.55, 0.7];
            let after = gp.gradient_covariance_after(&at, &z, 1e-3).expect("after");
            let mut x2 = x.clone();
            x2.extend_from_slice(&z);
            let mut y2 = gp.posterior().y().to_vec();
            y2.extend_from_slice(&[0.0, 0.0]);
            let refit = DerivativeGp::new(gp.posterior().kernel().clone(), 1e-3, x2, y2).expect("refit");
            let want = refit.gradient_posterior(&at).covariance;
            for (a, b) in after.iter().zip(&want) {
                assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{kind:?}: {a} vs {b}");
            }
            let before = gp.gradient_posterior(&at).covariance;
            let tr = |c: &[f64]| c[0] + c[4] + c[8];
            assert!(tr(&after) < tr(&before));
            let t = gp.gradient_variance_trace_after(&at, &z, 1e-3).expect("trace");
            assert!((t - tr(&after)).abs() < 1e-12);
        }
    }
}

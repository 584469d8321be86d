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
//!   `C = ∂_x K(x, Z) − Bᵀ A_Z` (`d×m`), `A_Z = Lc⁻¹ K_{X,Z}`, `Σ_ZZ = K_ZZ − A_Zᵀ A_Z`. For
//!   one point `z` (GIBO's acquisition, [`GradientAt::trace_reduction`]) the trace falls by
//!   `‖c‖²/(σ²(z) + σ_n²)`, `c = ∂k(θ, z)/∂θ − (K⁻¹J(θ)ᵀ)ᵀ k_X(z)`, with the gradient in `z`
//!   `∇R = (2 (∂c/∂z)ᵀ c − R ∇σ²(z)) / (σ²(z) + σ_n²)`, `∂c_i/∂z_j = ∂²k(θ, z)/∂θ_i∂z_j −
//!   Σ_m (K⁻¹J(θ)ᵀ)_{mi} ∂k(z, x_m)/∂z_j` and `∇σ²(z) = −2 (∂k_X/∂z)ᵀ K⁻¹ k_X(z)`.
//!
//! The surrogate offers this through [`les_core::DerivativeSurrogate`] (`ExactGp`); conditioning
//! on pending points is [`les_core::GradientPosterior::conditioned_on`] (values at the
//! posterior mean: `Σ∇` depends only on where the GP observes, and `μ∇` stays).

use les_core::{GradientPosterior, SurrogateError};
use nalgebra::{DMatrix, DVector};

use crate::kernel::Kernel;
use crate::linalg::gemm_tn;
use crate::posterior::GpPosterior;
use les_numerics::triangular::{solve_lower_in_place, solve_lower_transpose_in_place};

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

    /// `J(x)ᵀ`: `m×d`, row `j` is `∇_x k(x, p_j)` for the `m` points `pts`.
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

    /// The posterior of `∇f(θ)` at `theta` (`d`), with what [`GradientAt::trace_reduction`]
    /// needs precomputed.
    pub fn at(self, theta: &[f64]) -> GradientAt {
        let k = self.posterior.kernel();
        let d = k.dim();
        let (g0, _) = k.g_and_h_of_r2(0.0);
        let mut cov = DMatrix::from_fn(d, d, |i, j| if i == j { g0 / k.lengthscales[i].powi(2) } else { 0.0 });
        let jt = self.jacobian_t(theta, self.posterior.x());
        let (mean, kinv_jt) = if self.posterior.n() == 0 {
            (vec![0.0; d], jt)
        } else {
            let mean = jt.tr_mul(self.posterior.alpha()).as_slice().to_vec();
            let mut b = jt;
            solve_lower_in_place(self.posterior.cholesky_factor(), &mut b);
            gemm_tn(&mut cov, -1.0, &b, &b, 1.0);
            solve_lower_transpose_in_place(self.posterior.cholesky_factor(), &mut b);
            (mean, b)
        };
        GradientAt {
            theta: theta.to_vec(),
            mean,
            covariance: cov.transpose().as_slice().to_vec(),
            kinv_jt,
            posterior: self.posterior,
        }
    }
}

/// The posterior of `∇f(θ)` at one point `θ` (see the module docs).
#[derive(Clone, Debug)]
pub struct GradientAt {
    posterior: GpPosterior,
    theta: Vec<f64>,
    mean: Vec<f64>,
    /// `Σ∇(θ)`, `d×d` row-major.
    covariance: Vec<f64>,
    /// `K⁻¹ J(θ)ᵀ`, `n×d`.
    kinv_jt: DMatrix<f64>,
}

impl GradientAt {
    /// `c = ∂k(θ, z)/∂θ − (K⁻¹J(θ)ᵀ)ᵀ k_X(z)` (`d`), `k_X(z)` and the `g` of `∂k(z, x_m)/∂z`
    /// (see [`Kernel::k_and_g_of_r2`]) for every observation (`n` each), `w = Lc⁻¹ k_X(z)`,
    /// and `s = σ²(z) + σ_n²` with `σ²(z)` clamped at 0 (and whether it was). Serial nalgebra
    /// solves on one vector: `n` is GIBO's training window, far too small to split.
    fn cross(&self, z: &[f64]) -> Cross {
        let p = &self.posterior;
        let kernel = p.kernel();
        let (d, n) = (self.theta.len(), p.n());
        let mut c = vec![0.0; d];
        kernel.grad_first(&self.theta, z, &mut c);
        let (mut kz, mut gz) = (DVector::zeros(n), vec![0.0; n]);
        for (m, xm) in p.x().chunks_exact(d).enumerate() {
            (kz[m], gz[m]) = kernel.k_and_g_of_r2(kernel.scaled_sqdist(z, xm));
        }
        let through = self.kinv_jt.tr_mul(&kz);
        c.iter_mut().zip(through.iter()).for_each(|(ci, t)| *ci -= t);
        let mut w = kz.clone();
        p.cholesky_factor().solve_lower_triangular_mut(&mut w);
        let var = kernel.prior_variance() - w.norm_squared();
        Cross { c, gz, w, s: var.max(0.0) + p.noise_variance(), clamped: var < 0.0 }
    }
}

/// What [`GradientAt::cross`] computes for one point `z`.
struct Cross {
    c: Vec<f64>,
    gz: Vec<f64>,
    w: DVector<f64>,
    s: f64,
    clamped: bool,
}

impl GradientPosterior for GradientAt {
    fn point(&self) -> &[f64] {
        &self.theta
    }

    fn mean(&self) -> &[f64] {
        &self.mean
    }

    fn covariance(&self) -> &[f64] {
        &self.covariance
    }

    fn conditioned_on(&self, z: &[f64]) -> Result<Box<dyn GradientPosterior>, SurrogateError> {
        let believed = self.posterior.predict(z)?.mean;
        let posterior = self.posterior.with_observations(z, &believed)?;
        Ok(Box::new(DerivativeGp::from_posterior(posterior).at(&self.theta)))
    }

    fn trace_reduction(&self, z: &[f64]) -> f64 {
        let x = self.cross(z);
        x.c.iter().map(|t| t * t).sum::<f64>() / x.s
    }

    fn trace_reduction_and_grad(&self, z: &[f64]) -> (f64, Vec<f64>) {
        let p = &self.posterior;
        let kernel = p.kernel();
        let d = self.theta.len();
        let Cross { c, gz, w, s, clamped } = self.cross(z);
        let value = c.iter().map(|t| t * t).sum::<f64>() / s;
        // K⁻¹ k_X(z) and (K⁻¹J(θ)ᵀ) c, both n.
        let mut kinv_kz = w;
        p.cholesky_factor().tr_solve_lower_triangular_mut(&mut kinv_kz);
        let mc = &self.kinv_jt * DVector::from_column_slice(&c);
        let inv_l2: Vec<f64> = kernel.lengthscales.iter().map(|l| 1.0 / (l * l)).collect();
        let r: Vec<f64> = self.theta.iter().zip(z).map(|(t, v)| t - v).collect();
        let (g, h) = kernel.g_and_h_of_r2(kernel.scaled_sqdist(&self.theta, z));
        let c_dot: f64 = (0..d).map(|i| c[i] * r[i] * inv_l2[i]).sum();
        let grad = (0..d)
            .map(|j| {
                // ∂k(z, x_m)/∂z_j = −g_m (z_j − x_mj)/ℓ_j², through every observation m.
                let (mut through_m, mut through_w) = (0.0, 0.0);
                for (m, xm) in p.x().chunks_exact(d).enumerate() {
                    let dk = -gz[m] * (z[j] - xm[j]) * inv_l2[j];
                    through_m += mc[m] * dk;
                    through_w += kinv_kz[m] * dk;
                }
                // (∂c/∂z)ᵀ c with ∂²k/∂θ_i∂z_j = g δ_ij/ℓ_j² − h r_i r_j/(ℓ_i² ℓ_j²).
                let dc = g * c[j] * inv_l2[j] - h * r[j] * inv_l2[j] * c_dot - through_m;
                let dvar = if clamped { 0.0 } else { -2.0 * through_w };
                (2.0 * dc - value * dvar) / s
            })
            .collect();
        (value, grad)
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
            let mg = gp.posterior().mean_gradient(&x);
            let gpost = gp.clone().at(&x);
            for (a, b) in gpost.mean().iter().zip(&mg) {
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
                    let an = gpost.covariance()[i * 3 + j];
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
            let before = gp.clone().at(&at);
            let after = before.conditioned_on(&z).expect("after");
            // Σ∇ as after observing z with any values (zeros here).
            let mut x2 = x.clone();
            x2.extend_from_slice(&z);
            let mut y2 = gp.posterior().y().to_vec();
            y2.extend_from_slice(&[0.0, 0.0]);
            let refit = DerivativeGp::new(gp.posterior().kernel().clone(), 1e-3, x2, y2).expect("refit").at(&at);
            for (a, b) in after.covariance().iter().zip(refit.covariance()) {
                assert!((a - b).abs() < 1e-9 * (1.0 + b.abs()), "{kind:?}: {a} vs {b}");
            }
            // μ∇ unchanged: the believed values are the posterior's own mean.
            for (a, b) in after.mean().iter().zip(before.mean()) {
                assert!((a - b).abs() < 1e-8 * (1.0 + b.abs()), "{kind:?}: {a} vs {b}");
            }
            assert!(after.trace() < before.trace());
        }
    }

    #[test]
    fn trace_reduction_is_refitting_with_the_point_and_its_gradient_matches_differences() {
        for kind in [KernelKind::SeArd, KernelKind::Matern52] {
            let (gp, _) = setup(kind);
            let at = gp.clone().at(&[0.4, 0.6, 0.5]);
            for z in [[0.1, 0.9, 0.3], [0.45, 0.55, 0.5], [0.38, 0.62, 0.52]] {
                let expect = at.trace() - at.conditioned_on(&z).expect("conditioned").trace();
                let got = at.trace_reduction(&z);
                assert!((got - expect).abs() < 1e-8 * (1.0 + expect.abs()), "{kind:?}: {got} vs {expect}");
                let (v, g) = at.trace_reduction_and_grad(&z);
                assert!((v - got).abs() <= 1e-12 * got.abs());
                for j in 0..3 {
                    let (mut a, mut b) = (z, z);
                    a[j] += 1e-6;
                    b[j] -= 1e-6;
                    let fd = (at.trace_reduction(&a) - at.trace_reduction(&b)) / 2e-6;
                    assert!((g[j] - fd).abs() < 1e-5 * (1.0 + fd.abs()), "{kind:?} z {z:?} j {j}: {} vs {fd}", g[j]);
                }
            }
        }
    }

    #[test]
    fn observing_a_conditioned_point_again_is_worth_little() {
        let (gp, _) = setup(KernelKind::SeArd);
        let at = gp.at(&[0.4, 0.6, 0.5]);
        let pending = [0.45, 0.62, 0.5];
        let cond = at.conditioned_on(&pending).expect("conditioned");
        let (before, after) = (at.trace_reduction(&pending), cond.trace_reduction(&pending));
        assert!(after < 0.1 * before, "{after} vs {before}");
    }
}

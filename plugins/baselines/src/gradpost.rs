//! The posterior of the gradient `∇f(θ)` of a zero-mean SE-ARD GP at one point `θ`, and how one
//! more observation at `z` would shrink its covariance — GIBO's derivative GP (Müller et al.
//! 2021; §6.4 of `docs/les-algorithm.md` for the covariances).
//!
//! With `r = θ − x`, `k(θ, x) = σ_f² exp(−½ Σ r_i²/ℓ_i²)`:
//! `∂k/∂θ_i = −k·r_i/ℓ_i²`, `Cov(∂_i f(θ), ∂_j f(θ)) = σ_f² δ_ij/ℓ_i²`. With `G` the `d×n`
//! matrix of `∂k(θ, x_j)/∂θ` and `K = K_XX + σ_n² I`:
//! `μ∇ = G K⁻¹ y`, `Σ∇ = σ_f² diag(ℓ⁻²) − G K⁻¹ Gᵀ`. One more (noisy) observation at `z`
//! lowers `tr Σ∇` by `‖c‖²/(σ²(z) + σ_n²)`, `c = ∂k(θ, z)/∂θ − G K⁻¹ k_X(z)` — GIBO's
//! gradient-information acquisition maximizes this reduction.
//!
//! Written here because the baselines reach the `gp` surrogate only through
//! `les_core::Surrogate`; it takes the fitted hyperparameters the surrogate reports.

use crate::linalg::{cholesky_jittered, solve_lower, solve_lower_transposed};

/// Gradient posterior at `θ` for a fixed data set and fixed hyperparameters.
#[derive(Clone, Debug)]
pub struct GradientPosterior {
    dim: usize,
    n: usize,
    x: Vec<f64>,
    ls: Vec<f64>,
    signal_variance: f64,
    noise_variance: f64,
    theta: Vec<f64>,
    chol: Vec<f64>,
    /// `K⁻¹ Gᵀ`, `n×d`.
    kinv_gt: Vec<f64>,
    /// Model-scale values `y` (`n`) and weights `K⁻¹ y`.
    y: Vec<f64>,
    alpha: Vec<f64>,
    /// `μ∇(θ)`, `d`.
    pub mean_grad: Vec<f64>,
    /// `Σ∇(θ)`, `d×d`.
    pub cov_grad: Vec<f64>,
}

impl GradientPosterior {
    /// The posterior at `theta` given `n` points `x` (`n×d`) with model-scale values `y`.
    /// `None` when the kernel matrix is not positive definite even with jitter.
    pub fn new(
        x: &[f64],
        y: &[f64],
        ls: &[f64],
        signal_variance: f64,
        noise_variance: f64,
        theta: &[f64],
    ) -> Option<Self> {
        let d = ls.len();
        let n = y.len();
        let k = |a: &[f64], b: &[f64]| -> f64 {
            let r2: f64 = (0..d).map(|i| ((a[i] - b[i]) / ls[i]).powi(2)).sum();
            signal_variance * (-0.5 * r2).exp()
        };
        let mut kmat = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                kmat[i * n + j] = k(&x[i * d..(i + 1) * d], &x[j * d..(j + 1) * d]);
            }
            kmat[i * n + i] += noise_variance;
        }
        let chol = cholesky_jittered(&kmat, n)?;
        // G row i (d×n): ∂k(θ, x_j)/∂θ_i.
        let mut g = vec![0.0; d * n];
        for j in 0..n {
            let xj = &x[j * d..(j + 1) * d];
            let kj = k(theta, xj);
            for i in 0..d {
                g[i * n + j] = -kj * (theta[i] - xj[i]) / (ls[i] * ls[i]);
            }
        }
        let mut alpha = y.to_vec();
        solve_lower(&chol, n, &mut alpha);
        solve_lower_transposed(&chol, n, &mut alpha);
        let mean_grad: Vec<f64> = (0..d).map(|i| (0..n).map(|j| g[i * n + j] * alpha[j]).sum()).collect();
        let mut kinv_gt = vec![0.0; n * d];
        for i in 0..d {
            let mut col: Vec<f64> = g[i * n..(i + 1) * n].to_vec();
            solve_lower(&chol, n, &mut col);
            solve_lower_transposed(&chol, n, &mut col);
            for j in 0..n {
                kinv_gt[j * d + i] = col[j];
            }
        }
        let mut cov_grad = vec![0.0; d * d];
        for a in 0..d {
            for b in 0..d {
                let prior = if a == b { signal_variance / (ls[a] * ls[a]) } else { 0.0 };
                let reduce: f64 = (0..n).map(|j| g[a * n + j] * kinv_gt[j * d + b]).sum();
                cov_grad[a * d + b] = prior - reduce;
            }
        }
        Some(Self {
            dim: d,
            n,
            x: x.to_vec(),
            ls: ls.to_vec(),
            signal_variance,
            noise_variance,
            theta: theta.to_vec(),
            chol,
            kinv_gt,
            y: y.to_vec(),
            alpha,
            mean_grad,
            cov_grad,
        })
    }

    /// The point `θ`.
    pub fn theta(&self) -> &[f64] {
        &self.theta
    }

    /// The gradient posterior after observing the `q` points `z` (`q×d`) too, each at its
    /// posterior mean (kriging believer): `Σ∇` is exact whatever the values will be (it
    /// depends only on where the GP observed), and `μ∇` is unchanged (the believed values are
    /// the posterior's own mean). `None` when the enlarged kernel matrix is not positive
    /// definite even with jitter.
    pub fn with_points(&self, z: &[f64]) -> Option<Self> {
        let d = self.dim;
        let mut x = self.x.clone();
        let mut y = self.y.clone();
        for p in z.chunks(d) {
            let mean: f64 = (0..self.n).map(|j| self.k(p, &self.x[j * d..(j + 1) * d]) * self.alpha[j]).sum();
            x.extend_from_slice(p);
            y.push(mean);
        }
        Self::new(&x, &y, &self.ls, self.signal_variance, self.noise_variance, &self.theta)
    }

    fn k(&self, a: &[f64], b: &[f64]) -> f64 {
        let r2: f64 = (0..self.dim).map(|i| ((a[i] - b[i]) / self.ls[i]).powi(2)).sum();
        self.signal_variance * (-0.5 * r2).exp()
    }

    /// `tr Σ∇(θ)`.
    pub fn trace(&self) -> f64 {
        (0..self.dim).map(|i| self.cov_grad[i * self.dim + i]).sum()
    }

    /// How much one more observation at `z` would lower `tr Σ∇(θ)`: `‖c‖²/(σ²(z) + σ_n²)`.
    pub fn trace_reduction(&self, z: &[f64]) -> f64 {
        let (d, n) = (self.dim, self.n);
        let k = |a: &[f64], b: &[f64]| -> f64 {
            let r2: f64 = (0..d).map(|i| ((a[i] - b[i]) / self.ls[i]).powi(2)).sum();
            self.signal_variance * (-0.5 * r2).exp()
        };
        let kz: Vec<f64> = (0..n).map(|j| k(z, &self.x[j * d..(j + 1) * d])).collect();
        let ktz = k(&self.theta, z);
        let mut c: Vec<f64> = (0..d).map(|i| -ktz * (self.theta[i] - z[i]) / (self.ls[i] * self.ls[i])).collect();
        for (row, kzj) in self.kinv_gt.chunks(d).zip(&kz) {
            c.iter_mut().zip(row).for_each(|(ci, r)| *ci -= r * kzj);
        }
        let mut v = kz;
        solve_lower(&self.chol, n, &mut v);
        let var = (self.signal_variance - v.iter().map(|t| t * t).sum::<f64>()).max(0.0);
        c.iter().map(|t| t * t).sum::<f64>() / (var + self.noise_variance)
    }

    /// [`GradientPosterior::trace_reduction`] and its gradient with respect to `z` (`d`), in
    /// `O(nd)`: with `a(z) = ∂k(θ, z)/∂θ`, `c = a − (K⁻¹Gᵀ)ᵀ k_X(z)`, `s = σ²(z) + σ_n²`,
    /// `∇R = 2 (∂c/∂z)ᵀ c / s − R ∇σ²(z) / s`, `∇σ² = −2 (∂k_X/∂z)ᵀ K⁻¹ k_X(z)`.
    pub fn trace_reduction_and_grad(&self, z: &[f64]) -> (f64, Vec<f64>) {
        let (d, n) = (self.dim, self.n);
        let inv_l2: Vec<f64> = self.ls.iter().map(|l| 1.0 / (l * l)).collect();
        let k = |a: &[f64], b: &[f64]| -> f64 {
            let r2: f64 = (0..d).map(|i| (a[i] - b[i]) * (a[i] - b[i]) * inv_l2[i]).sum();
            self.signal_variance * (-0.5 * r2).exp()
        };
        let kz: Vec<f64> = (0..n).map(|m| k(z, &self.x[m * d..(m + 1) * d])).collect();
        let ktz = k(&self.theta, z);
        let r: Vec<f64> = (0..d).map(|i| self.theta[i] - z[i]).collect();
        let mut c: Vec<f64> = (0..d).map(|i| -ktz * r[i] * inv_l2[i]).collect();
        for (row, kzm) in self.kinv_gt.chunks(d).zip(&kz) {
            c.iter_mut().zip(row).for_each(|(ci, mi)| *ci -= mi * kzm);
        }
        let mut w = kz.clone();
        solve_lower(&self.chol, n, &mut w);
        let var_raw = self.signal_variance - w.iter().map(|t| t * t).sum::<f64>();
        solve_lower_transposed(&self.chol, n, &mut w); // now K⁻¹ k_X(z)
        let clamped = var_raw < 0.0;
        let s = var_raw.max(0.0) + self.noise_variance;
        let value = c.iter().map(|t| t * t).sum::<f64>() / s;
        // (K⁻¹Gᵀ) c, n.
        let mc: Vec<f64> = self.kinv_gt.chunks(d).map(|row| row.iter().zip(&c).map(|(mi, ci)| mi * ci).sum()).collect();
        let c_dot: f64 = (0..d).map(|i| c[i] * inv_l2[i] * r[i]).sum();
        let grad = (0..d)
            .map(|j| {
                // ∂k_m/∂z_j = k_m (x_mj − z_j)/ℓ_j².
                let (mut through_m, mut through_w) = (0.0, 0.0);
                for m in 0..n {
                    let dk = kz[m] * (self.x[m * d + j] - z[j]) * inv_l2[j];
                    through_m += mc[m] * dk;
                    through_w += w[m] * dk;
                }
                let dc = -ktz * r[j] * inv_l2[j] * c_dot + ktz * c[j] * inv_l2[j] - through_m;
                let dvar = if clamped { 0.0 } else { -2.0 * through_w };
                (2.0 * dc - value * dvar) / s
            })
            .collect();
        (value, grad)
    }

    /// `tr Σ∇(θ)` after one more observation at `z`, computed by refitting with `z` added to
    /// the data (for tests of [`GradientPosterior::trace_reduction`]).
    #[cfg(test)]
    fn trace_after(&self, z: &[f64]) -> f64 {
        let mut x = self.x.clone();
        x.extend_from_slice(z);
        let y = vec![0.0; self.n + 1];
        Self::new(&x, &y, &self.ls, self.signal_variance, self.noise_variance, &self.theta).unwrap().trace()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testgp::TestGp;
    use les_core::{Dataset, Surrogate, stream_rng};

    #[test]
    fn matches_gp_posterior_and_refit() {
        let d = 3;
        let mut rng = stream_rng(5, "t", 0);
        let x = crate::design::uniform_points(7, d, &mut rng);
        let y: Vec<f64> = x.chunks(d).map(|p| (3.0 * p[0]).sin() + p[1] * p[2]).collect();
        let ls = [0.3, 0.5, 0.4];
        let theta = [0.4, 0.6, 0.5];
        let gp_post = GradientPosterior::new(&x, &y, &ls, 1.3, 1e-4, &theta).unwrap();
        // Mean gradient = gradient of the posterior mean of an ordinary GP.
        let mut gp = TestGp::new(ls.to_vec(), false);
        gp.signal_variance = 1.3;
        gp.noise_variance = 1e-4;
        gp.fit(&Dataset::from_rows(d, x.clone(), y.clone()), &mut rng).unwrap();
        let h = 1e-5;
        for i in 0..d {
            let mut a = theta;
            let mut b = theta;
            a[i] += h;
            b[i] -= h;
            let p = gp.predict(&[a, b].concat()).unwrap();
            let fd = (p.mean[0] - p.mean[1]) / (2.0 * h);
            assert!(
                (gp_post.mean_grad[i] - fd).abs() < 1e-6 * (1.0 + fd.abs()),
                "{i}: {} vs {fd}",
                gp_post.mean_grad[i]
            );
        }
        // Σ∇ diagonal = limit of the posterior covariance of finite differences.
        let h = 1e-3;
        for i in 0..d {
            let mut a = theta;
            let mut b = theta;
            a[i] += h;
            b[i] -= h;
            let pts = [a, b].concat();
            let c = gp.posterior_covariance(&pts, &pts).unwrap();
            let fd_var = (c[0] - c[1] - c[2] + c[3]) / (4.0 * h * h);
            let v = gp_post.cov_grad[i * d + i];
            assert!((v - fd_var).abs() < 1e-3 * v.abs().max(1e-3), "{i}: {v} vs {fd_var}");
        }
        // The rank-one trace reduction equals refitting with the extra point.
        for z in [[0.1, 0.9, 0.3], [0.45, 0.55, 0.5]] {
            let expect = gp_post.trace() - gp_post.trace_after(&z);
            let got = gp_post.trace_reduction(&z);
            assert!((got - expect).abs() < 1e-8 * (1.0 + expect.abs()), "{got} vs {expect}");
            let (v, g) = gp_post.trace_reduction_and_grad(&z);
            assert!((v - got).abs() <= 1e-12 * got.abs());
            for j in 0..d {
                let (mut a, mut b) = (z, z);
                a[j] += 1e-6;
                b[j] -= 1e-6;
                let fd = (gp_post.trace_reduction(&a) - gp_post.trace_reduction(&b)) / 2e-6;
                assert!((g[j] - fd).abs() < 1e-5 * (1.0 + fd.abs()), "z {z:?} j {j}: {} vs {fd}", g[j]);
            }
        }
    }

    #[test]
    fn conditioning_on_pending_points_is_refitting_with_them() {
        let d = 3;
        let mut rng = stream_rng(6, "t", 0);
        let x = crate::design::uniform_points(6, d, &mut rng);
        let y: Vec<f64> = x.chunks(d).map(|p| (3.0 * p[0]).sin() + p[1] * p[2]).collect();
        let ls = [0.3, 0.5, 0.4];
        let theta = [0.4, 0.6, 0.5];
        let post = GradientPosterior::new(&x, &y, &ls, 1.1, 1e-4, &theta).unwrap();
        let pending = [0.45, 0.62, 0.5, 0.35, 0.55, 0.45];
        let cond = post.with_points(&pending).unwrap();
        // Σ∇ as after observing the pending points with any values (zeros here), μ∇ unchanged.
        let mut x2 = x.clone();
        x2.extend_from_slice(&pending);
        let mut y2 = y.clone();
        y2.extend_from_slice(&[0.0, 0.0]);
        let dense = GradientPosterior::new(&x2, &y2, &ls, 1.1, 1e-4, &theta).unwrap();
        for (a, b) in cond.cov_grad.iter().zip(&dense.cov_grad) {
            assert!((a - b).abs() < 1e-10, "{a} vs {b}");
        }
        for (a, b) in cond.mean_grad.iter().zip(&post.mean_grad) {
            assert!((a - b).abs() < 1e-8 * (1.0 + b.abs()), "{a} vs {b}");
        }
        assert!(cond.trace() < post.trace());
        // Observing a pending point once more is worth much less than before.
        let p = &pending[..3];
        assert!(
            cond.trace_reduction(p) < 0.1 * post.trace_reduction(p),
            "{} vs {}",
            cond.trace_reduction(p),
            post.trace_reduction(p)
        );
    }
}

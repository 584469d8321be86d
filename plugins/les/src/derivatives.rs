//! Derivative observations for the paper's information-source ablations (§14, §6.4): the
//! covariances of values, gradients and diagonal Hessian entries of a GP with a squared
//! exponential ARD kernel, and the conditional variance of `f(c)` given the data, the pending
//! points and a set of such observations.
//!
//! With `r = a − b`, `λ_i = 1/ℓ_i²` and `k = σ_f² exp(−½ Σ λ_i r_i²)` (`V` value, `G_i = ∂_i f`,
//! `H_i = ∂²_ii f`; a derivative at `a` differentiates in `a`, at `b` in `b`):
//!
//! ```text
//! Cov(V, V)       = k
//! Cov(V, G_j)     =  k λ_j r_j                 Cov(G_i, V) = −k λ_i r_i
//! Cov(G_i, G_j)   =  k (δ_ij λ_i − λ_i λ_j r_i r_j)
//! Cov(V, H_j)     =  k (λ_j² r_j² − λ_j)        (and Cov(H_j, V) alike)
//! Cov(G_i, H_j)   = −k λ_i r_i (λ_j² r_j² − λ_j) + 2 δ_ij k λ_j² r_j
//! Cov(H_i, G_j)   =  k λ_j r_j (λ_i² r_i² − λ_i) − 2 δ_ij k λ_i² r_i
//! Cov(H_i, H_j)   =  k (λ_i² r_i² − λ_i)(λ_j² r_j² − λ_j)   (i ≠ j)
//!                 =  k λ_i² (3 − 6 λ_i r_i² + λ_i² r_i⁴)      (i = j)
//! ```
//!
//! At `r = 0` these are the formulas of §6.4 (`Cov(H_i, H_j) = σ_f² λ_i λ_j (1 + 2δ_ij)`, zero
//! between gradient and Hessian). The conditioning is the Schur complement of §10.3 with
//! observation functionals in place of values: `A = L_c⁻¹ K(X, ·)` over the value observations
//! `X` (data and pending points, noise `σ_n²`), then per observation set `O`:
//! `S = K(O, O) − A_Oᵀ A_O + σ_o² I`, `g_c = K(O, c) − A_Oᵀ A_c`,
//! `σ²(c | D, O) = σ_D²(c) − g_cᵀ S⁻¹ g_c`. Like every variance here it depends on locations
//! only, so no value (and no observed gradient) is ever needed.

use les_core::{KernelKind, Surrogate, SurrogateError};

use les_numerics::cholesky::cholesky_in_place_with_jitter;
use les_numerics::triangular::forward_solve;

/// A linear functional of `f` observed at a point.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Functional {
    /// `f(x)`.
    Value,
    /// `∂f/∂x_i`.
    Gradient(usize),
    /// `∂²f/∂x_i²`.
    Curvature(usize),
}

/// One observation: a functional at a point (`d` values in the unit cube).
#[derive(Clone, Debug, PartialEq)]
pub struct Observed {
    /// Where.
    pub point: Vec<f64>,
    /// What.
    pub functional: Functional,
}

/// The squared exponential ARD kernel with its derivatives (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct SeKernel {
    /// Length scales `ℓ`, `d`.
    pub lengthscales: Vec<f64>,
    /// Signal variance `σ_f²`.
    pub signal_variance: f64,
}

impl SeKernel {
    /// The kernel of a fitted surrogate, which must report SE-ARD hyperparameters.
    pub fn of(surrogate: &dyn Surrogate, who: &str) -> Result<Self, SurrogateError> {
        let h = surrogate.hyperparameters().ok_or_else(|| {
            SurrogateError::InvalidData(format!(
                "{who} needs a GP surrogate that reports its kernel hyperparameters (such as `gp`)"
            ))
        })?;
        if h.kernel != KernelKind::SeArd {
            return Err(SurrogateError::InvalidData(format!(
                "{who} uses the derivatives of the squared exponential kernel; set the surrogate's kernel to `se_ard`"
            )));
        }
        let d = surrogate.dim();
        let lengthscales = match h.lengthscales.len() {
            1 => vec![h.lengthscales[0]; d],
            n if n == d => h.lengthscales,
            n => {
                return Err(SurrogateError::InvalidData(format!("{n} length scales for d = {d}")));
            }
        };
        Ok(Self { lengthscales, signal_variance: h.signal_variance })
    }

    /// `Cov(fa(f)(a), fb(f)(b))`.
    pub fn cov(&self, a: &[f64], fa: Functional, b: &[f64], fb: Functional) -> f64 {
        use Functional::{Curvature as H, Gradient as G, Value as V};
        let lambda = |i: usize| 1.0 / (self.lengthscales[i] * self.lengthscales[i]);
        let mut q = 0.0;
        for ((x, y), l) in a.iter().zip(b).zip(&self.lengthscales) {
            q += (x - y) * (x - y) / (l * l);
        }
        let k = self.signal_variance * (-0.5 * q).exp();
        let r = |i: usize| a[i] - b[i];
        // ∂²k/∂b_j² / k = λ_j² r_j² − λ_j (the same in a).
        let curv = |j: usize| lambda(j) * lambda(j) * r(j) * r(j) - lambda(j);
        match (fa, fb) {
            (V, V) => k,
            (V, G(j)) => k * lambda(j) * r(j),
            (G(i), V) => -k * lambda(i) * r(i),
            (G(i), G(j)) => k * (if i == j { lambda(i) } else { 0.0 } - lambda(i) * lambda(j) * r(i) * r(j)),
            (V, H(j)) | (H(j), V) => k * curv(j),
            (G(i), H(j)) => {
                -k * lambda(i) * r(i) * curv(j) + if i == j { 2.0 * k * lambda(j) * lambda(j) * r(j) } else { 0.0 }
            }
            (H(i), G(j)) => {
                k * lambda(j) * r(j) * curv(i) - if i == j { 2.0 * k * lambda(i) * lambda(i) * r(i) } else { 0.0 }
            }
            (H(i), H(j)) if i != j => k * curv(i) * curv(j),
            (H(i), H(_)) => {
                let (li, ri2) = (lambda(i), r(i) * r(i));
                k * li * li * (3.0 - 6.0 * li * ri2 + li * li * ri2 * ri2)
            }
        }
    }
}

/// The posterior given value observations at `X` (data and pending points), ready to condition
/// on observation sets (see the module docs).
pub struct FunctionalConditioning {
    kernel: SeKernel,
    dim: usize,
    /// `n×d` value observations.
    x: Vec<f64>,
    /// `n×n` Cholesky factor of `K_XX + σ_n² I`.
    chol: Vec<f64>,
    /// `M_c×d` candidates.
    candidates: Vec<f64>,
    /// `A_C = L_c⁻¹ K(X, C)`, one column of `n` values per candidate.
    cand_whitened: Vec<f64>,
    /// `σ_D²(c)`, `M_c`.
    prior: Vec<f64>,
}

impl FunctionalConditioning {
    /// Conditions the kernel on value observations at `x` (`n×d`) with noise `noise_variance`,
    /// and prepares `candidates` (`M_c×d`).
    pub fn new(
        kernel: SeKernel,
        x: Vec<f64>,
        noise_variance: f64,
        candidates: Vec<f64>,
    ) -> Result<Self, SurrogateError> {
        let dim = kernel.lengthscales.len();
        let n = x.len() / dim;
        let mut chol = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                chol[i * n + j] = kernel.cov(
                    &x[i * dim..(i + 1) * dim],
                    Functional::Value,
                    &x[j * dim..(j + 1) * dim],
                    Functional::Value,
                );
            }
            chol[i * n + i] += noise_variance;
        }
        cholesky_in_place_with_jitter(&mut chol, n)?;
        let mut this = Self { kernel, dim, x, chol, candidates, cand_whitened: Vec::new(), prior: Vec::new() };
        let values: Vec<(&[f64], Functional)> =
            this.candidates.chunks_exact(dim).map(|c| (c, Functional::Value)).collect();
        let cand_whitened = this.whitened(&values);
        let prior = this
            .candidates
            .chunks_exact(dim)
            .zip(cand_whitened.chunks_exact(n.max(1)).chain(std::iter::repeat(&[][..])))
            .map(|(c, a)| {
                this.kernel.cov(c, Functional::Value, c, Functional::Value) - a.iter().map(|v| v * v).sum::<f64>()
            })
            .collect();
        this.cand_whitened = cand_whitened;
        this.prior = prior;
        Ok(this)
    }

    fn n(&self) -> usize {
        self.x.len() / self.dim
    }

    /// `L_c⁻¹ K(X, o)` for every observation, `n` values each, concatenated.
    fn whitened(&self, obs: &[(&[f64], Functional)]) -> Vec<f64> {
        let (n, d) = (self.n(), self.dim);
        let mut out = Vec::with_capacity(obs.len() * n);
        for (p, f) in obs {
            let start = out.len();
            out.extend(self.x.chunks_exact(d).map(|xj| self.kernel.cov(xj, Functional::Value, p, *f)));
            forward_solve(&self.chol, n, &mut out[start..]);
        }
        out
    }

    /// `σ_D²(c)` at the candidates.
    pub fn prior_variances(&self) -> &[f64] {
        &self.prior
    }

    /// The candidates, `M_c×d`.
    pub fn candidates(&self) -> &[f64] {
        &self.candidates
    }

    /// `σ²(c | D, O)` at every candidate after also observing `obs` with noise variance
    /// `obs_noise` each.
    pub fn conditioned_variances(&self, obs: &[Observed], obs_noise: f64) -> Result<Vec<f64>, SurrogateError> {
        let (n, d, q) = (self.n(), self.dim, obs.len());
        let refs: Vec<(&[f64], Functional)> = obs.iter().map(|o| (o.point.as_slice(), o.functional)).collect();
        let a_o = self.whitened(&refs);
        fn col(m: &[f64], n: usize, i: usize) -> &[f64] {
            &m[i * n..(i + 1) * n]
        }
        let dot = |u: &[f64], v: &[f64]| u.iter().zip(v).map(|(x, y)| x * y).sum::<f64>();
        let mut s = vec![0.0; q * q];
        for i in 0..q {
            for j in 0..=i {
                let v =
                    self.kernel.cov(refs[i].0, refs[i].1, refs[j].0, refs[j].1) - dot(col(&a_o, n, i), col(&a_o, n, j));
                s[i * q + j] = v;
                s[j * q + i] = v;
            }
            s[i * q + i] += obs_noise;
        }
        cholesky_in_place_with_jitter(&mut s, q)?;
        let mut out = Vec::with_capacity(self.prior.len());
        let mut g = vec![0.0; q];
        for (c, (point, prior)) in self.candidates.chunks_exact(d).zip(&self.prior).enumerate() {
            let a_c = col(&self.cand_whitened, n, c);
            for (i, gi) in g.iter_mut().enumerate() {
                *gi = self.kernel.cov(refs[i].0, refs[i].1, point, Functional::Value) - dot(col(&a_o, n, i), a_c);
            }
            forward_solve(&s, q, &mut g);
            out.push(prior - g.iter().map(|v| v * v).sum::<f64>());
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Functional::{Curvature as H, Gradient as G, Value as V};

    fn kernel() -> SeKernel {
        SeKernel { lengthscales: vec![0.3, 0.55, 0.4], signal_variance: 1.7 }
    }

    /// Every covariance against central finite differences of the value covariance (nested for
    /// the second and higher derivatives), at a few pairs of points and at `r = 0`.
    #[test]
    fn covariances_match_finite_differences_of_the_kernel() {
        let k = kernel();
        let h = 1e-3;
        let shift = |p: &[f64], i: usize, s: f64| {
            let mut q = p.to_vec();
            q[i] += s;
            q
        };
        // Functional at a as a finite-difference operator applied to g(a).
        let apply = |f: Functional, p: &[f64], g: &dyn Fn(&[f64]) -> f64| match f {
            V => g(p),
            G(i) => (g(&shift(p, i, h)) - g(&shift(p, i, -h))) / (2.0 * h),
            H(i) => (g(&shift(p, i, h)) - 2.0 * g(p) + g(&shift(p, i, -h))) / (h * h),
        };
        let functionals = [V, G(0), G(2), H(0), H(1)];
        for (a, b) in [
            (vec![0.2, 0.5, 0.7], vec![0.35, 0.4, 0.6]),
            (vec![0.1, 0.9, 0.3], vec![0.3, 0.7, 0.5]),
            (vec![0.4, 0.4, 0.4], vec![0.4, 0.4, 0.4]),
        ] {
            for fa in functionals {
                for fb in functionals {
                    let exact = k.cov(&a, fa, &b, fb);
                    let fd = apply(fa, &a, &|a2: &[f64]| apply(fb, &b, &|b2: &[f64]| k.cov(a2, V, b2, V)));
                    // Fourth differences with h = 1e-3 lose ~1e-16/h⁴ = 1e-4 to rounding.
                    let tol = 1e-3 * (1.0 + exact.abs());
                    assert!((exact - fd).abs() < tol, "{fa:?} at {a:?}, {fb:?} at {b:?}: {exact} vs {fd}");
                }
            }
        }
        // §6.4 at r = 0.
        let p = [0.3, 0.3, 0.3];
        let l: Vec<f64> = k.lengthscales.iter().map(|v| 1.0 / (v * v)).collect();
        assert!((k.cov(&p, H(0), &p, H(0)) - 3.0 * 1.7 * l[0] * l[0]).abs() < 1e-9);
        assert!((k.cov(&p, H(0), &p, H(1)) - 1.7 * l[0] * l[1]).abs() < 1e-9);
        assert_eq!(k.cov(&p, G(0), &p, H(0)), 0.0);
    }

    /// Solves `a x = b` by Gaussian elimination with partial pivoting (an independent dense
    /// solver for the check below).
    fn solve(mut a: Vec<f64>, mut b: Vec<f64>) -> Vec<f64> {
        let n = b.len();
        for c in 0..n {
            let p = (c..n).max_by(|&i, &j| a[i * n + c].abs().total_cmp(&a[j * n + c].abs())).expect("rows");
            for k in 0..n {
                a.swap(c * n + k, p * n + k);
            }
            b.swap(c, p);
            for r in c + 1..n {
                let f = a[r * n + c] / a[c * n + c];
                for k in c..n {
                    a[r * n + k] -= f * a[c * n + k];
                }
                b[r] -= f * b[c];
            }
        }
        for r in (0..n).rev() {
            let s: f64 = (r + 1..n).map(|k| a[r * n + k] * b[k]).sum();
            b[r] = (b[r] - s) / a[r * n + r];
        }
        b
    }

    /// The Schur-complement variance equals that of one dense GP over all observations
    /// (values at X with σ_n², derivatives with σ_o²), solved directly.
    #[test]
    fn conditioned_variance_equals_a_dense_gp_with_the_derivative_observations() {
        let k = kernel();
        let x = vec![0.1, 0.2, 0.3, 0.8, 0.4, 0.6, 0.5, 0.9, 0.2, 0.3, 0.5, 0.7];
        let candidates = vec![0.4, 0.5, 0.5, 0.7, 0.1, 0.3, 0.35, 0.45, 0.55];
        let (noise, obs_noise) = (1e-4, 4e-6);
        let obs = vec![
            Observed { point: vec![0.45, 0.5, 0.5], functional: V },
            Observed { point: vec![0.45, 0.5, 0.5], functional: G(0) },
            Observed { point: vec![0.45, 0.5, 0.5], functional: G(1) },
            Observed { point: vec![0.45, 0.5, 0.5], functional: H(2) },
            Observed { point: vec![0.3, 0.6, 0.4], functional: G(2) },
            Observed { point: vec![0.3, 0.6, 0.4], functional: H(0) },
        ];
        let fc = FunctionalConditioning::new(k.clone(), x.clone(), noise, candidates.clone()).expect("conditions");
        let got = fc.conditioned_variances(&obs, obs_noise).expect("variances");

        let mut all: Vec<(Vec<f64>, Functional, f64)> = x.chunks(3).map(|p| (p.to_vec(), V, noise)).collect();
        all.extend(obs.iter().map(|o| (o.point.clone(), o.functional, obs_noise)));
        let m = all.len();
        let mut big = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                big[i * m + j] = k.cov(&all[i].0, all[i].1, &all[j].0, all[j].1);
            }
            big[i * m + i] += all[i].2;
        }
        for (c, point) in candidates.chunks(3).enumerate() {
            let kc: Vec<f64> = all.iter().map(|(p, f, _)| k.cov(p, *f, point, V)).collect();
            let w = solve(big.clone(), kc.clone());
            let dense = k.cov(point, V, point, V) - kc.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
            assert!((got[c] - dense).abs() < 1e-9 * (1.0 + dense.abs()), "candidate {c}: {} vs {dense}", got[c]);
            assert!(got[c] < fc.prior_variances()[c], "observing more lowers the variance");
        }
    }
}

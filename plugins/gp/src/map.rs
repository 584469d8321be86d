//! MAP-II hyperparameter fit: maximize `log p(y | θ) + log p(θ)` over
//! `θ = (log ℓ_1 … log ℓ_d, log σ_f² [, log σ_n²])` with box-bounded L-BFGS
//! ([`les_numerics::lbfgs`]), analytic gradients and several starts (docs/les-algorithm.md §6.2–§6.3).
//!
//! Gradients: with `K = K_f + σ_n² I`, `α = K⁻¹ y` and `W = ααᵀ − K⁻¹`,
//! `∂ log p(y|θ)/∂θ = ½ Σ_jk W_jk ∂K_jk/∂θ`, where
//! `∂K_jk/∂ log ℓ_i = G_jk (x_ji − x_ki)²/ℓ_i²` (`G = K_f` for SE, the `g` of
//! [`crate::kernel`] for Matérn), `∂K/∂ log σ_f² = K_f` and `∂K/∂ log σ_n² = σ_n² I`. The `d`
//! length-scale sums are one GEMM: with `Q = W ⊙ G`,
//! `Σ_jk Q_jk (x_ji − x_ki)² = 2 Σ_j x_ji² (Q1)_j − 2 (Xᵀ Q X)_ii`.
//!
//! Cost per evaluation (`n` points): the value needs `K_f`, the Cholesky factor of `K` and `α`
//! (`⅓n³` flops); the gradient adds `K⁻¹` from that factor (`⅔n³`, [`crate::spd_inverse`]) and
//! `O(n²d)`. [`LogPosterior`] keeps the `n×n` buffers across evaluations, the line search of
//! [`les_numerics::lbfgs`] asks for the gradient only at the steps it accepts, and the factor
//! at the optimum goes to the posterior ([`MapFit::factor`]), so a fit of `k` iterations costs
//! about `k + 1` values and gradients and no further factorization.
//!
//! The log-normal prior is a density on `ℓ` (as GPyTorch's `LogNormalPrior` on the length
//! scale): `log p(ℓ) = −log ℓ − (log ℓ − μ)²/(2s²) + const`; the uniform (box) prior is
//! constant inside its bounds. σ_f² has no prior, only bounds [`SIGNAL_VARIANCE_BOUNDS`].

use les_core::{KernelKind, StreamRng, SurrogateError};
use nalgebra::DMatrix;
use rand::RngExt;
use rand_distr::{Distribution, Normal};
use rayon::prelude::*;

use les_numerics::cholesky::cholesky_into_with_jitter;
use les_numerics::lbfgs::{LbfgsOptions, Objective, minimize};

use crate::isa::Isa;
use crate::kernel::Kernel;
use les_numerics::gemm::{Strided, dgemm};

use crate::linalg::mirror_upper_in_place;
use crate::params::{LengthscalePrior, LogNormalSpec, NOISE_STD_MAX, NOISE_STD_MIN};
use crate::posterior::PosteriorFactor;
use crate::rff::madd;
use crate::spare;
use crate::spd_inverse::{SpdInverseScratch, spd_inverse_into};

/// Total starting points tried before the fit gives up (BoTorch's `max_attempts`).
pub const MAX_ATTEMPTS: usize = 20;
/// Rows of the kernel matrices per parallel task.
const ROWS_PER_TASK: usize = 16;

/// Length-scale constraint of the log-normal priors, docs/les-algorithm.md §6.2.
pub const LENGTHSCALE_BOUNDS: (f64, f64) = (1e-4, 1e10);
/// Numerical safeguard bounds of σ_f² (the model has only a positivity constraint).
pub const SIGNAL_VARIANCE_BOUNDS: (f64, f64) = (1e-6, 1e6);

/// A length-scale prior resolved for dimension `d`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum ResolvedPrior {
    /// `log ℓ ~ 𝒩(mu, sigma²)`.
    LogNormal {
        /// Mean of `log ℓ`.
        mu: f64,
        /// Standard deviation of `log ℓ`.
        sigma: f64,
    },
    /// `ℓ ~ Uniform(lo, hi)`.
    Uniform {
        /// Lower bound.
        lo: f64,
        /// Upper bound.
        hi: f64,
    },
}

/// Prior, initial value and constraint of every length scale.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct LengthscaleSetting {
    /// The prior.
    pub prior: ResolvedPrior,
    /// Initial length scale.
    pub init: f64,
    /// Constraint `[lo, hi]`.
    pub bounds: (f64, f64),
}

impl LengthscaleSetting {
    /// Resolves `prior` for dimension `d` (docs/les-algorithm.md §6.2).
    pub fn resolve(prior: &LengthscalePrior, d: usize) -> Result<Self, String> {
        let sqrt2 = std::f64::consts::SQRT_2;
        let sqrt3 = 3.0f64.sqrt();
        let ln_sqrt_d = 0.5 * (d.max(1) as f64).ln();
        let complexity = |mu_c: f64, s: f64| {
            let mu = mu_c + ln_sqrt_d;
            Self {
                prior: ResolvedPrior::LogNormal { mu, sigma: s },
                init: (mu + s / 2.0).exp(),
                bounds: LENGTHSCALE_BOUNDS,
            }
        };
        let boxed = |lo: f64, hi: f64| -> Result<Self, String> {
            if !(lo > 0.0 && lo < hi && hi.is_finite()) {
                return Err(format!("box bounds [{lo}, {hi}] are not valid: expected 0 < lo < hi"));
            }
            let init = (0.2 * (d as f64).sqrt()).clamp(lo, hi);
            Ok(Self { prior: ResolvedPrior::Uniform { lo, hi }, init, bounds: (lo, hi) })
        };
        Ok(match prior {
            LengthscalePrior::High => complexity(-2.5 * sqrt2, sqrt3 / 5.0),
            LengthscalePrior::Medium => complexity(-2.0 * sqrt2, sqrt3 / 4.0),
            LengthscalePrior::Low => complexity(-sqrt2, sqrt3 / 2.0),
            LengthscalePrior::ExtremelyLow | LengthscalePrior::DimensionScaled => complexity(sqrt2, sqrt3),
            LengthscalePrior::BoxSqrtD => boxed(0.05, (d as f64).sqrt())?,
            LengthscalePrior::Box([lo, hi]) => boxed(lo.resolve(d), hi.resolve(d))?,
            LengthscalePrior::LogNormal(LogNormalSpec { mu, sigma }) => Self {
                prior: ResolvedPrior::LogNormal { mu: *mu, sigma: *sigma },
                init: (mu + sigma / 2.0).exp(),
                bounds: LENGTHSCALE_BOUNDS,
            },
        })
    }

    /// `log p(ℓ)` up to a constant and its derivative with respect to `log ℓ`.
    fn log_prior(&self, log_l: f64) -> (f64, f64) {
        match self.prior {
            ResolvedPrior::LogNormal { mu, sigma } => {
                let z = (log_l - mu) / sigma;
                (-log_l - 0.5 * z * z, -1.0 - z / sigma)
            }
            ResolvedPrior::Uniform { .. } => (0.0, 0.0),
        }
    }

    /// A length scale drawn from the prior (clamped into the constraint).
    fn sample(&self, rng: &mut StreamRng) -> f64 {
        let v = match self.prior {
            ResolvedPrior::LogNormal { mu, sigma } => {
                Normal::new(mu, sigma).expect("invariant: sigma > 0 was validated").sample(rng).exp()
            }
            ResolvedPrior::Uniform { lo, hi } => lo + (hi - lo) * rng.random::<f64>(),
        };
        v.clamp(self.bounds.0, self.bounds.1)
    }
}

/// What the MAP fit returns.
#[derive(Clone, Debug)]
pub struct MapFit {
    /// Fitted kernel.
    pub kernel: Kernel,
    /// Fitted (or fixed) noise variance.
    pub noise_variance: f64,
    /// `log p(y|θ) + log p(θ)` at the optimum.
    pub log_posterior: f64,
    /// Starts run.
    pub starts: usize,
    /// Starts whose optimizer reported convergence.
    pub converged_starts: usize,
    /// Total L-BFGS iterations.
    pub iterations: usize,
    /// Total evaluations of the log posterior's value (the starts and every line-search trial).
    pub evaluations: usize,
    /// Total evaluations of its gradient (the starts and every accepted step).
    pub gradients: usize,
    /// `θ` at the optimum (for warm starts).
    pub theta: Vec<f64>,
    /// The factorization at `θ`, when the fit's last one was there (usually: the optimum is
    /// the last accepted step), for [`crate::posterior::GpPosterior::from_factor`].
    pub factor: Option<PosteriorFactor>,
}

/// Settings of one MAP fit.
#[derive(Clone, Debug)]
pub struct MapProblem<'a> {
    /// Kernel family.
    pub kind: KernelKind,
    /// Length-scale prior/init/constraint.
    pub setting: LengthscaleSetting,
    /// Noise variance (fixed, or the initial value when `fit_noise`).
    pub noise_variance: f64,
    /// Whether σ_n² is a parameter.
    pub fit_noise: bool,
    /// Points `n×d`.
    pub x: &'a [f64],
    /// Values `n` (model scale).
    pub y: &'a [f64],
    /// Dimension `d`.
    pub dim: usize,
}

impl MapProblem<'_> {
    fn n_params(&self) -> usize {
        self.dim + 1 + usize::from(self.fit_noise)
    }

    /// Lower and upper bounds of `θ`.
    pub fn bounds(&self) -> (Vec<f64>, Vec<f64>) {
        let mut lo = vec![self.setting.bounds.0.ln(); self.dim];
        let mut hi = vec![self.setting.bounds.1.ln(); self.dim];
        lo.push(SIGNAL_VARIANCE_BOUNDS.0.ln());
        hi.push(SIGNAL_VARIANCE_BOUNDS.1.ln());
        if self.fit_noise {
            lo.push((NOISE_STD_MIN * NOISE_STD_MIN).ln());
            hi.push((NOISE_STD_MAX * NOISE_STD_MAX).ln());
        }
        (lo, hi)
    }

    /// Kernel and noise variance of `θ`.
    pub fn unpack(&self, theta: &[f64]) -> (Kernel, f64) {
        let ls = theta[..self.dim].iter().map(|v| v.exp()).collect();
        let noise = if self.fit_noise { theta[self.dim + 1].exp() } else { self.noise_variance };
        (Kernel::new(self.kind, ls, theta[self.dim].exp()), noise)
    }

    /// `K_f` into `k_buf` and, for kernels where it differs from `K_f` (Matérn), the `G` of the
    /// length-scale gradient into `g_buf`, as full symmetric `n×n` matrices (column-major;
    /// resized if needed). `xt` is scratch.
    ///
    /// Row `j` takes its squared distances to the points `0..=j` dimension by dimension from the
    /// transposed scaled inputs, so the inner loop runs over contiguous points (it vectorizes)
    /// while every `r²` is still summed over the dimensions in order `0..d`. The row is written
    /// as column `j` of the upper triangle and mirrored. Rows are split into fixed blocks of
    /// [`ROWS_PER_TASK`] for the thread pool, so the result does not depend on the thread count.
    fn kernel_and_g_into(
        &self,
        kernel: &Kernel,
        xt: &mut Vec<f64>,
        k_buf: &mut DMatrix<f64>,
        mut g_buf: Option<&mut DMatrix<f64>>,
    ) {
        let (n, d) = (self.y.len(), self.dim);
        let inv: Vec<f64> = kernel.lengthscales.iter().map(|l| 1.0 / l).collect();
        // xt[i·n + j] = x_ji / ℓ_i.
        xt.resize(n * d, 0.0);
        for (j, row) in self.x.chunks(d).enumerate() {
            for (i, v) in row.iter().enumerate() {
                xt[i * n + j] = v * inv[i];
            }
        }
        let xt = &xt[..];
        for buf in std::iter::once(&mut *k_buf).chain(g_buf.as_deref_mut()) {
            spare::resize_square(buf, n);
        }
        let task = ROWS_PER_TASK * n.max(1);
        let isa = Isa::detected();
        let fill = |blk: usize, kc: &mut [f64], mut gc: Option<&mut [f64]>| {
            for (r, kr) in kc.chunks_mut(n).enumerate() {
                let j = blk * ROWS_PER_TASK + r;
                let kr = &mut kr[..=j];
                squared_distances(isa, xt, n, d, j, kr);
                match gc.as_deref_mut() {
                    Some(gc) => {
                        let gr = &mut gc[r * n..r * n + j + 1];
                        for (kv, gv) in kr.iter_mut().zip(gr.iter_mut()) {
                            (*kv, *gv) = kernel.k_and_g_of_r2(*kv);
                        }
                    }
                    // SE: the vectorized exponential of the sample paths' kernel columns.
                    None => kernel.k_of_r2_in_place_isa(isa, kr),
                }
            }
        };
        match g_buf {
            Some(g_buf) => {
                k_buf
                    .as_mut_slice()
                    .par_chunks_mut(task)
                    .zip(g_buf.as_mut_slice().par_chunks_mut(task))
                    .enumerate()
                    .for_each(|(blk, (kc, gc))| fill(blk, kc, Some(gc)));
                mirror_upper_in_place(g_buf.as_mut_slice(), n);
            }
            None => k_buf.as_mut_slice().par_chunks_mut(task).enumerate().for_each(|(blk, kc)| fill(blk, kc, None)),
        }
        mirror_upper_in_place(k_buf.as_mut_slice(), n);
    }

    /// Negative log posterior `−(log p(y|θ) + log p(θ))` and its gradient (written into
    /// `grad`); `+∞` when the covariance matrix cannot be factorized (the gradient is then not
    /// written). One evaluation of a fresh [`LogPosterior`]; the fit itself reuses one.
    pub fn negative_log_posterior(&self, theta: &[f64], grad: &mut [f64]) -> f64 {
        let mut objective = LogPosterior::new(self);
        let Ok(f) = objective.value(theta);
        if f.is_finite() {
            let Ok(()) = objective.gradient(theta, grad);
        }
        f
    }

    /// Runs the multi-start fit: the prior-based initial value (σ_f² = 1, σ_n² as given), an
    /// optional warm start, then `starts − 1` prior draws; if every start fails (the
    /// covariance is never factorizable), further prior draws up to [`MAX_ATTEMPTS`] in total.
    pub fn fit(
        &self,
        starts: usize,
        warm: Option<&[f64]>,
        max_iterations: usize,
        rng: &mut StreamRng,
    ) -> Result<MapFit, SurrogateError> {
        // The whole fit runs on a worker of the rayon pool (a no-op when the caller is one).
        // Each evaluation has about fifteen parallel loops; called from outside the pool, every
        // one of them would hand its work to the pool and wait for a pool thread to wake up,
        // which on a loaded machine took longer than the loops themselves (measured with one
        // thread at n = 400: wall time 3–4× CPU time). The loops' fixed blocks are unchanged, so
        // the result is the same.
        rayon::scope(|_| self.fit_on_pool(starts, warm, max_iterations, rng))
    }

    fn fit_on_pool(
        &self,
        starts: usize,
        warm: Option<&[f64]>,
        max_iterations: usize,
        rng: &mut StreamRng,
    ) -> Result<MapFit, SurrogateError> {
        let (lo, hi) = self.bounds();
        let mut init = vec![self.setting.init.ln(); self.dim];
        init.push(0.0);
        if self.fit_noise {
            init.push(self.noise_variance.ln());
        }
        let mut candidates = Vec::new();
        if let Some(w) = warm.filter(|w| w.len() == self.n_params()) {
            candidates.push(w.to_vec());
        }
        candidates.push(init.clone());
        for _ in 1..starts {
            let mut t: Vec<f64> = (0..self.dim).map(|_| self.setting.sample(rng).ln()).collect();
            t.extend_from_slice(&init[self.dim..]);
            candidates.push(t);
        }
        // BoTorch's stopping rule: SciPy's L-BFGS-B with `pgtol = 1e-5` on GPyTorch's marginal
        // log likelihood, which is divided by the number of observations; on this (total) log
        // posterior that is a projected-gradient tolerance of 1e-5·n. The relative decrease
        // test (`factr`) does not depend on the scale.
        let pg_tol = LbfgsOptions::default().pg_tol * self.y.len().max(1) as f64;
        let options = LbfgsOptions { max_iterations, pg_tol, ..LbfgsOptions::default() };
        let mut objective = LogPosterior::new(self);
        let mut best: Option<(f64, Vec<f64>)> = None;
        let mut converged_starts = 0;
        let mut iterations = 0;
        let mut evaluations = 0;
        let mut gradients = 0;
        let n_starts = candidates.len();
        for start in candidates {
            let Ok(r) = minimize(&mut objective, &start, &lo, &hi, options);
            let Some(r) = r else {
                continue;
            };
            iterations += r.iterations;
            evaluations += r.evaluations;
            gradients += r.gradients;
            converged_starts += usize::from(r.converged);
            if best.as_ref().is_none_or(|(f, _)| r.f < *f) {
                best = Some((r.f, r.x));
            }
        }
        // Like BoTorch's `max_attempts`: when every start failed, retry from prior draws.
        let mut attempts = n_starts;
        while best.is_none() && attempts < MAX_ATTEMPTS {
            attempts += 1;
            let mut t: Vec<f64> = (0..self.dim).map(|_| self.setting.sample(rng).ln()).collect();
            t.extend_from_slice(&init[self.dim..]);
            let Ok(r) = minimize(&mut objective, &t, &lo, &hi, options);
            if let Some(r) = r {
                iterations += r.iterations;
                evaluations += r.evaluations;
                gradients += r.gradients;
                converged_starts += usize::from(r.converged);
                best = Some((r.f, r.x));
            }
        }
        let n_starts = attempts;
        let Some((f, theta)) = best else {
            return Err(SurrogateError::Numerical(format!(
                "the MAP hyperparameter fit failed from all {n_starts} starting points (the covariance matrix was not \
                 positive definite at any of them); consider fixed hyperparameters or a larger noise_std"
            )));
        };
        let (kernel, noise_variance) = self.unpack(&theta);
        let factor = objective.into_factor(&theta);
        Ok(MapFit {
            kernel,
            noise_variance,
            log_posterior: -f,
            starts: n_starts,
            converged_starts,
            iterations,
            evaluations,
            gradients,
            theta,
            factor,
        })
    }
}

/// The pass over `W = ααᵀ − K⁻¹` of [`LogPosterior::gradient`]: overwrites `q` (`G`, or
/// `K_f` itself when `kf` is `None`) with `Q = W ⊙ G`, writes `Q`'s column sums into `q1` and
/// returns `(Σ W ⊙ K_f, tr W)`. Column by column with four-lane partial sums, so that the loop
/// vectorizes (the column sums too: summed in order, they were a chain of dependent adds that
/// cost as much as the rest of the pass); the AVX2 variant (chosen at run time) fuses the
/// sum's multiply-adds.
fn weight_pass(isa: Isa, alpha: &[f64], kinv: &[f64], q: &mut [f64], kf: Option<&[f64]>, q1: &mut [f64]) -> (f64, f64) {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2_fma() {
        // SAFETY: `isa.avx2_fma()`: run-time detection found AVX2 and FMA on this CPU.
        return unsafe { weight_pass_avx2(alpha, kinv, q, kf, q1) };
    }
    let _ = isa;
    weight_pass_with::<false>(alpha, kinv, q, kf, q1)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn weight_pass_avx2(alpha: &[f64], kinv: &[f64], q: &mut [f64], kf: Option<&[f64]>, q1: &mut [f64]) -> (f64, f64) {
    weight_pass_with::<true>(alpha, kinv, q, kf, q1)
}

#[inline(always)]
fn weight_pass_with<const FMA: bool>(
    alpha: &[f64],
    kinv: &[f64],
    q: &mut [f64],
    kf: Option<&[f64]>,
    q1: &mut [f64],
) -> (f64, f64) {
    let n = alpha.len();
    let mut lanes = [0.0f64; 4];
    let mut w_trace = 0.0;
    for (c, (qc, kic)) in q.chunks_mut(n).zip(kinv.chunks(n)).enumerate() {
        let ac = alpha[c];
        let kfc = kf.map(|k| &k[c * n..(c + 1) * n]);
        let mut sums = [0.0f64; 4];
        for (r, (qv, ki)) in qc.iter_mut().zip(kic).enumerate() {
            let w = alpha[r] * ac - ki;
            let kv = kfc.map_or(*qv, |k| k[r]);
            lanes[r % 4] = madd::<FMA>(w, kv, lanes[r % 4]);
            *qv *= w;
            sums[r % 4] += *qv;
        }
        q1[c] = (sums[0] + sums[1]) + (sums[2] + sums[3]);
        w_trace += ac * ac - kic[c];
    }
    ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3]), w_trace)
}

/// `out[k] = Σ_i (xt[i·n + j] − xt[i·n + k])²` for `k ≤ j` (`out` has `j + 1` entries): the
/// squared scaled distances of point `j` to the points `0..=j`, summed over the dimensions in
/// order, from the transposed inputs `xt` (`d` rows of `n`). Plain subtractions, products and
/// sums, element by element: the AVX2 variant (chosen at run time) only widens the loop and
/// gives the same bits as the portable one.
fn squared_distances(isa: Isa, xt: &[f64], n: usize, d: usize, j: usize, out: &mut [f64]) {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2_fma() {
        // SAFETY: `isa.avx2_fma()`: run-time detection found AVX2 and FMA on this CPU.
        unsafe { squared_distances_avx2(xt, n, d, j, out) };
        return;
    }
    let _ = isa;
    squared_distances_with(xt, n, d, j, out);
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn squared_distances_avx2(xt: &[f64], n: usize, d: usize, j: usize, out: &mut [f64]) {
    squared_distances_with(xt, n, d, j, out);
}

#[inline(always)]
fn squared_distances_with(xt: &[f64], n: usize, d: usize, j: usize, out: &mut [f64]) {
    out.fill(0.0);
    for i in 0..d {
        let col = &xt[i * n..i * n + j + 1];
        let c = col[j];
        for (acc, v) in out.iter_mut().zip(col) {
            let t = c - v;
            *acc += t * t;
        }
    }
}

/// The log posterior of one [`MapProblem`] as an L-BFGS [`Objective`], with the `n×n` buffers
/// reused across its evaluations: fresh `n×n` allocations at every evaluation cost page faults
/// of the same order as the arithmetic (measured at n = 400).
///
/// [`value`](Objective::value) builds `K_f`, factorizes `K = K_f + σ_n² I` and solves for
/// `α = K⁻¹ y` (`⅓n³` flops); [`gradient`](Objective::gradient) at the same `θ` adds `K⁻¹`
/// from that factor (`⅔n³`) and the sums of the module docs. The line search asks for values
/// at its trial steps and for the gradient only where it accepts one.
pub struct LogPosterior<'p, 'a> {
    problem: &'p MapProblem<'a>,
    /// `K_f`; the gradient overwrites it with `Q` (SE).
    kf: DMatrix<f64>,
    /// Matérn's `G`; the gradient overwrites it with `Q`.
    g: Option<DMatrix<f64>>,
    /// The Cholesky factor of `K` (plus jitter) at `factor_at`.
    l: DMatrix<f64>,
    /// `K⁻¹`.
    kinv: DMatrix<f64>,
    inverse_scratch: SpdInverseScratch,
    xt: Vec<f64>,
    /// `Q X`, `n×d` column-major.
    qx: Vec<f64>,
    /// `α = K⁻¹ y` at `factor_at`.
    alpha: nalgebra::DVector<f64>,
    /// `θ` of the factor `l` and of `α` (the last successful `value`; the gradient keeps them).
    factor_at: Option<Vec<f64>>,
    /// Whether `K_f` (or `G`) is still that of `factor_at` (the gradient overwrites it).
    kf_current: bool,
    /// Jitter of the factor `l`.
    jitter: f64,
}

impl<'p, 'a> LogPosterior<'p, 'a> {
    /// An objective with empty buffers (they are sized at the first evaluation).
    pub fn new(problem: &'p MapProblem<'a>) -> Self {
        let with_g = problem.kind != KernelKind::SeArd;
        Self {
            problem,
            kf: DMatrix::zeros(0, 0),
            g: with_g.then(|| DMatrix::zeros(0, 0)),
            l: DMatrix::zeros(0, 0),
            kinv: DMatrix::zeros(0, 0),
            inverse_scratch: SpdInverseScratch::default(),
            xt: Vec::new(),
            qx: Vec::new(),
            alpha: nalgebra::DVector::zeros(0),
            factor_at: None,
            kf_current: false,
            jitter: 0.0,
        }
    }

    /// The factor and `α` of the last successful evaluation, if it was at `theta`.
    pub fn into_factor(mut self, theta: &[f64]) -> Option<PosteriorFactor> {
        (self.factor_at.as_deref() == Some(theta)).then(|| PosteriorFactor {
            l: std::mem::replace(&mut self.l, DMatrix::zeros(0, 0)),
            jitter: self.jitter,
            alpha: std::mem::replace(&mut self.alpha, nalgebra::DVector::zeros(0)),
        })
    }
}

impl Drop for LogPosterior<'_, '_> {
    /// The `n×n` buffers go to the next fit ([`spare`]); the factor handed to the posterior
    /// does not come back.
    fn drop(&mut self) {
        spare::give_back_matrix(&mut self.kf);
        if let Some(g) = self.g.as_mut() {
            spare::give_back_matrix(g);
        }
        spare::give_back_matrix(&mut self.kinv);
        spare::give_back(self.inverse_scratch.take_buffer());
    }
}

impl Objective for LogPosterior<'_, '_> {
    type Error = std::convert::Infallible;

    /// `−(log p(y|θ) + log p(θ))`; `+∞` when `K` cannot be factorized.
    fn value(&mut self, theta: &[f64]) -> Result<f64, Self::Error> {
        let p = self.problem;
        let n = p.y.len();
        self.factor_at = None;
        self.kf_current = false;
        let (kernel, noise) = p.unpack(theta);
        p.kernel_and_g_into(&kernel, &mut self.xt, &mut self.kf, self.g.as_mut());
        let Ok(jitter) = cholesky_into_with_jitter(&self.kf, noise, &mut self.l) else {
            return Ok(f64::INFINITY);
        };
        self.jitter = jitter;
        self.alpha = nalgebra::DVector::from_column_slice(p.y);
        self.l.solve_lower_triangular_unchecked_mut(&mut self.alpha);
        self.l.tr_solve_lower_triangular_unchecked_mut(&mut self.alpha);
        let fit: f64 = self.alpha.iter().zip(p.y).map(|(a, b)| a * b).sum();
        let logdet: f64 = self.l.diagonal().iter().map(|v| v.ln()).sum();
        let lml = -0.5 * fit - logdet - 0.5 * n as f64 * (2.0 * std::f64::consts::PI).ln();
        let log_prior: f64 = theta[..p.dim].iter().map(|&t| p.setting.log_prior(t).0).sum();
        self.factor_at = Some(theta.to_vec());
        self.kf_current = true;
        Ok(-(lml + log_prior))
    }

    /// The gradient at the `θ` of the last `value` call (which must have been finite).
    fn gradient(&mut self, theta: &[f64], grad: &mut [f64]) -> Result<(), Self::Error> {
        assert!(
            self.kf_current && self.factor_at.as_deref() == Some(theta),
            "invariant: the L-BFGS asks for the gradient at its last finite value only"
        );
        let p = self.problem;
        let (n, d) = (p.y.len(), p.dim);
        let (kernel, noise) = p.unpack(theta);
        spare::resize_square(&mut self.kinv, n);
        self.inverse_scratch.reserve_from(n * n, spare::take);
        spd_inverse_into(&self.l, &mut self.inverse_scratch, &mut self.kinv);
        // One pass over W = ααᵀ − K⁻¹ (never stored): Q = W ⊙ G overwrites G, and the σ_f² and
        // σ_n² gradients need only Σ W ⊙ K_f and tr W. For SE, G = K_f, so Q overwrites K_f itself
        // and each K_f entry is read just before it is overwritten.
        let (q, kf_separate) = match self.g.as_mut() {
            Some(g) => (g, Some(&self.kf)),
            None => (&mut self.kf, None),
        };
        // Q is exactly symmetric (W and G are), so its row sums are its contiguous column sums.
        let mut q1 = vec![0.0; n];
        let (w_dot_kf, w_trace) = weight_pass(
            Isa::detected(),
            self.alpha.as_slice(),
            self.kinv.as_slice(),
            q.as_mut_slice(),
            kf_separate.map(|k| k.as_slice()),
            &mut q1,
        );
        let q = &*q;
        // Q X (n×d, column-major) straight from the row-major points: no copy, and the GEMM
        // kernel also at d ≤ 5 (see `dgemm`).
        self.qx.resize(n * d, 0.0);
        let points = Strided { data: p.x, rows: d, cols: 1 };
        dgemm(n, n, d, 1.0, Strided { data: q.as_slice(), rows: 1, cols: n }, points, 0.0, &mut self.qx, n);
        for i in 0..d {
            let mut s1 = 0.0;
            let mut s2 = 0.0;
            let qx_i = &self.qx[i * n..(i + 1) * n];
            for ((point, q1j), qxj) in p.x.chunks(d).zip(&q1).zip(qx_i) {
                let xji = point[i];
                s1 += xji * xji * q1j;
                s2 += xji * qxj;
            }
            let li2 = kernel.lengthscales[i].powi(2);
            let dlp = p.setting.log_prior(theta[i]).1;
            grad[i] = -((s1 - s2) / li2 + dlp);
        }
        grad[d] = -0.5 * w_dot_kf;
        if p.fit_noise {
            grad[d + 1] = -0.5 * noise * w_trace;
        }
        // The gradient consumed K_f (or G); the next call must be a value.
        self.kf_current = false;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::stream_rng;

    #[test]
    fn initial_lengthscales_match_the_spec_table() {
        // docs/les-algorithm.md §6.2: high d=5 → 0.08, medium d=20 → 0.33, low d=50 → 2.65,
        // extremely low d=20 → 43.7.
        let cases = [
            (LengthscalePrior::High, 5, 0.08),
            (LengthscalePrior::Medium, 20, 0.33),
            (LengthscalePrior::Low, 50, 2.65),
            (LengthscalePrior::ExtremelyLow, 20, 43.7),
            (LengthscalePrior::BoxSqrtD, 25, 1.0),
        ];
        for (prior, d, want) in cases {
            let s = LengthscaleSetting::resolve(&prior, d).expect("valid");
            assert!((s.init - want).abs() < 0.006 * want.max(1.0), "{prior:?} d={d}: {} vs {want}", s.init);
        }
    }

    #[test]
    fn the_fit_hands_over_its_factor_at_the_optimum() {
        use crate::posterior::GpPosterior;
        let mut rng = stream_rng(5, "test", 0);
        // n = 300 takes the blocked factorization; the posterior from the fit's factor must be
        // the one `GpPosterior::new` builds, up to the rounding of two kernel-matrix codes: a
        // few ulps in K, amplified by cond(K) ≤ n·σ_f²/σ_n² ≈ 3e6 at most, so below 1e-8.
        for n in [40, 300] {
            let d = 3;
            let x: Vec<f64> = (0..n * d).map(|_| rng.random::<f64>()).collect();
            let y: Vec<f64> = (0..n).map(|i| (4.0 * x[i * d]).sin() + x[i * d + 2]).collect();
            let setting = LengthscaleSetting::resolve(&LengthscalePrior::Low, d).expect("valid");
            let p = MapProblem {
                kind: KernelKind::SeArd,
                setting,
                noise_variance: 1e-4,
                fit_noise: false,
                x: &x,
                y: &y,
                dim: d,
            };
            let fit = p.fit(1, None, 200, &mut stream_rng(1, "fit", 0)).expect("fits");
            let factor = fit.factor.clone().expect("the optimum is the last accepted step");
            let from_factor =
                GpPosterior::from_factor(fit.kernel.clone(), 1e-4, x.clone(), y.clone(), 0.0, 1.0, factor)
                    .expect("valid factor");
            let fresh = GpPosterior::new(fit.kernel.clone(), 1e-4, x.clone(), y.clone(), 0.0, 1.0).expect("pd");
            let lml = (from_factor.log_marginal_likelihood(), fresh.log_marginal_likelihood());
            assert!((lml.0 - lml.1).abs() < 1e-8 * lml.1.abs().max(1.0), "n = {n}: {lml:?}");
            let probe: Vec<f64> = (0..10 * d).map(|_| rng.random::<f64>()).collect();
            let (a, b) = (from_factor.predict(&probe).expect("predicts"), fresh.predict(&probe).expect("predicts"));
            for k in 0..10 {
                assert!((a.mean[k] - b.mean[k]).abs() < 1e-8, "n = {n}: mean {} vs {}", a.mean[k], b.mean[k]);
                assert!((a.variance[k] - b.variance[k]).abs() < 1e-8, "n = {n}: variance");
            }
        }
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let mut rng = stream_rng(3, "test", 0);
        // n = 150 crosses the blocks of the inverse (64) and of the kernel rows (16).
        for n in [12, 150] {
            let d = 3;
            let x: Vec<f64> = (0..n * d).map(|_| rng.random::<f64>()).collect();
            let y: Vec<f64> = (0..n).map(|i| (3.0 * x[i * d]).sin() + x[i * d + 1]).collect();
            for kind in [KernelKind::SeArd, KernelKind::Matern52] {
                for fit_noise in [false, true] {
                    let setting = LengthscaleSetting::resolve(&LengthscalePrior::Low, d).expect("valid");
                    let p = MapProblem { kind, setting, noise_variance: 1e-2, fit_noise, x: &x, y: &y, dim: d };
                    let mut theta = vec![-0.7, -0.2, 0.3, 0.1];
                    if fit_noise {
                        theta.push((2e-2f64).ln());
                    }
                    let mut g = vec![0.0; theta.len()];
                    p.negative_log_posterior(&theta, &mut g);
                    let mut scratch = g.clone();
                    for i in 0..theta.len() {
                        let h = 1e-5;
                        let mut tp = theta.clone();
                        let mut tm = theta.clone();
                        tp[i] += h;
                        tm[i] -= h;
                        let fd = (p.negative_log_posterior(&tp, &mut scratch)
                            - p.negative_log_posterior(&tm, &mut scratch))
                            / (2.0 * h);
                        assert!(
                            (fd - g[i]).abs() < 1e-5 * (1.0 + fd.abs()),
                            "n={n} {kind:?} noise={fit_noise} θ{i}: {fd} vs {}",
                            g[i]
                        );
                    }
                }
            }
        }
    }
}

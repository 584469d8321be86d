//! Posterior (and prior) GP sample paths by pathwise conditioning (Wilson et al. 2020, 2021;
//! docs/les-algorithm.md §7), evaluated for `L` paths at once.
//!
//! Path `l` is `f^l(x) = W_l·φ(x) + Σ_j V_{l,j} k(x, x_j)`: a random-feature prior draw
//! ([`crate::rff`]; `B` features shared by all paths, weights `W ~ 𝒩(0, I)` per path) plus the
//! Matheron update `V_l = (K_XX + σ_n² I)⁻¹ (y − f_prior^l(X) − ε_l)`, `ε_l ~ 𝒩(0, σ_n² I)`.
//!
//! # Evaluation
//! [`PathSet::value_and_grad`] evaluates path `l` at its own point `x_l` (`xs` is `L×d`), in
//! fixed blocks of [`PATH_BLOCK`] paths (rayon over blocks; the result does not depend on the
//! thread count). With `x̃ = x ⊘ ℓ`:
//!
//! 1. random-feature part, `a·Σ_b W_{bl} cos θ_b` and its gradient `−a Σ_b W_{bl} sin θ_b Ω_b`
//!    (`θ = Ω x̃_l + τ`, `a = sqrt(2σ_f²/B)`), in scaled coordinates:
//!    - [`PathPrecision::Single`] (the `gp` surrogate's default): fused per path in `f32`, see
//!      [`crate::rff_single`];
//!    - [`PathPrecision::Double`]: projections `Ω X̃_b` for the block (`B×d · d×L_b`, GEMM),
//!      `B`-wide `sin`/`cos`, then `−a Ωᵀ S` with `S = W ⊙ sin θ` (GEMM; long dot products
//!      when `d ≤ 5`);
//! 2. kernel (Matheron) part in `f64`, path by path and a register block of data points at a
//!    time: squared distances `r²_j = ‖x̃_j‖² + ‖x̃_l‖² − 2 x̃_j·x̃_l`, `k` and `g` (see
//!    [`crate::kernel`]), value `Σ_j V_{jl} k_j` and gradient
//!    `Σ_j V_{jl} g_j (x̃_j − x̃_l) = Σ_j V_{jl} g_j x̃_j − x̃_l Σ_j V_{jl} g_j`;
//! 3. both gradient parts are divided by `ℓ` (chain rule of `x̃ = x ⊘ ℓ`).
//!
//! # Throughput of the kernel part
//! Expanded, the distances and the gradient take one multiply-add per data point and input
//! each, the `4·L·d·n` flops counted below; the exact differences `x̃_j − x̃_l` cost a
//! subtraction besides each (measured with `les_step -- paths 20 N`, minimum of six runs: 1.21
//! against 1.04 ms per call at `n = 400`, 3.3 against 2.4 ms at `n = 1000`; the same at
//! `n = 100`). The rounding this trades is small in `f64`: about `2⁻⁵²(‖x̃_j‖² + ‖x̃_l‖²)` in
//! `r²`, 1e-13 relative in `k` for scaled points of norm 10², and about `2⁻⁵²‖x̃‖` relative
//! to `Σ_j |V_{jl} g_j|` in the gradient, orders of magnitude below the single-precision
//! feature part the descent runs with by default.
//!
//! It still does not reach the feature part's throughput (about 40 GFLOP/s counted in `f32`
//! on the development machine, against 5–15 here), and cannot in this form:
//! - `f64` has four lanes per AVX2 register against `f32`'s eight, so the same flops take twice
//!   the instructions; single precision is not an option for the update weights `V`, which
//!   are large with alternating signs when `K_XX` is ill-conditioned;
//! - every data point costs an exponential (about 25 flops of polynomial and reduction)
//!   besides its `4d` counted flops, a third more work at `d = 20` and more at small `d`;
//! - the gradient reduces over data points into `d` sums per path, which pass through memory
//!   once per block of 16 points.
//!
//! A formulation as two GEMMs per block of paths (`X̃ X̃_bᵀ`, then `X̃ᵀ (V ⊙ g)`) was measured
//! slower still: the first product's inner dimension is `d`, too short for the GEMM kernels,
//! and its `n×L_b` result goes through memory.
//!
//! SE gradient of path `l`: `−a Σ_b W_{lb} sin(·)(Ω_b ⊘ ℓ) + Σ_j V_{lj} k(x, x_j)(−(x − x_j) ⊘ ℓ²)`;
//! Matérn-5/2 replaces `k(x, x_j)` in the second sum by `g = (5/3)σ_f²(1 + √5 r)e^{−√5 r}`.
//! Per call: `2·L·d·(B + n)` multiply-adds plus `L·B` sine/cosine pairs and `L·n`
//! exponentials. [`PathBatch::gradients_block`] (what a first-order descent calls at each
//! step) skips the values: in single precision it takes sines only
//! ([`SingleFeatures::gradients`]): a third less time per descent step at `d = 5`.

use std::cell::RefCell;

use les_core::{KernelKind, PathBatch, StreamRng, SurrogateError};
use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::isa::Isa;
use crate::kernel::Kernel;
use les_numerics::triangular::cholesky_solve_in_place;

use crate::linalg::gemm_tn;
use crate::posterior::GpPosterior;
use crate::rff::{RandomFeatures, SINCOS_FAST_LIMIT, exp_fast_with, madd, sincos_reduced_with, sincos_with, sum4};
use crate::rff_single::{self, SingleFeatures};

const SQRT5: f64 = 2.236_067_977_499_79;

/// Paths per parallel block in [`PathSet::value_and_grad`] (fixed: results do not depend on
/// the thread count).
pub const PATH_BLOCK: usize = 64;

thread_local! {
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
    static SCRATCH_F32: RefCell<Vec<f32>> = const { RefCell::new(Vec::new()) };
}

/// Arithmetic of the random-feature part of path evaluations (the Matheron part is always
/// double precision). See [`crate::rff_single`] for why single precision is the default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PathPrecision {
    /// `f64` throughout.
    Double,
    /// Phases, sine/cosine and the feature sums in `f32`, fused per path; about five times
    /// faster in the descent (sine-only gradients, see [`crate::rff_single`]).
    #[default]
    Single,
}

/// `L` sample paths of a GP (prior or posterior), evaluated together. See the module docs.
#[derive(Clone, Debug)]
pub struct PathSet {
    kernel: Kernel,
    inv_ls: Vec<f64>,
    features: RandomFeatures,
    amp: f64,
    /// `Ωᵀ`, `d×B`.
    omega_t: DMatrix<f64>,
    /// Feature weights, `B×L` (column `l` for path `l`).
    weights: DMatrix<f64>,
    /// Scaled data `X̃`, `n×d` (input-major: input `i` of every point contiguous).
    data: DMatrix<f64>,
    /// `‖x̃_j‖²` of every data point (summed in input order; fused where the hot loops are).
    data_sq: Vec<f64>,
    /// Update weights `V`, `n×L` (column `l` for path `l`).
    update: DMatrix<f64>,
    /// The feature part in single precision, when chosen by [`PathSet::with_precision`].
    single: Option<SingleFeatures>,
    /// Variant of the hot loops ([`Isa::detected`]; tests force others).
    isa: Isa,
}

impl PathSet {
    /// `n_paths` prior paths of `kernel` with `n_features` random features (draws `Ω`, `τ`,
    /// then `W`, from `rng`).
    pub fn prior(kernel: &Kernel, n_features: usize, n_paths: usize, rng: &mut StreamRng) -> Self {
        let features = RandomFeatures::sample(kernel.kind, kernel.dim(), n_features, rng);
        let weights = normal_matrix(n_features, n_paths, 1.0, rng);
        Self::assemble(kernel.clone(), features, weights, &[], DMatrix::zeros(0, n_paths))
    }

    /// `n_paths` posterior paths of `posterior` with `n_features` random features (draws `Ω`,
    /// `τ`, `W`, then `ε`, from `rng`).
    pub fn posterior(
        posterior: &GpPosterior,
        n_features: usize,
        n_paths: usize,
        rng: &mut StreamRng,
    ) -> Result<Self, SurrogateError> {
        let kernel = posterior.kernel().clone();
        let features = RandomFeatures::sample(kernel.kind, kernel.dim(), n_features, rng);
        let weights = normal_matrix(n_features, n_paths, 1.0, rng);
        let n = posterior.n();
        let mut update = DMatrix::zeros(n, n_paths);
        if n > 0 {
            let phi = features.features(&kernel.lengthscales, kernel.signal_variance, posterior.x());
            // R = y 1ᵀ − Φᵀ W − ε   (n×L)
            let noise = normal_matrix(n, n_paths, posterior.noise_variance().sqrt(), rng);
            let y = posterior.y();
            update = DMatrix::from_fn(n, n_paths, |j, l| y[j] - noise[(j, l)]);
            gemm_tn(&mut update, -1.0, &phi, &weights, 1.0);
            cholesky_solve_in_place(posterior.cholesky_factor(), &mut update);
        }
        Ok(Self::assemble(kernel, features, weights, posterior.x(), update))
    }

    fn assemble(
        kernel: Kernel,
        features: RandomFeatures,
        weights: DMatrix<f64>,
        x: &[f64],
        update: DMatrix<f64>,
    ) -> Self {
        let d = kernel.dim();
        let n = update.nrows();
        let inv_ls: Vec<f64> = kernel.lengthscales.iter().map(|l| 1.0 / l).collect();
        let data = DMatrix::from_fn(n, d, |j, i| x[j * d + i] * inv_ls[i]);
        let isa = Isa::detected();
        let data_sq = data_norms(isa, &data);
        let amp = (2.0 * kernel.signal_variance / features.n_features().max(1) as f64).sqrt();
        Self {
            omega_t: features.omega.transpose(),
            kernel,
            inv_ls,
            features,
            amp,
            weights,
            data,
            data_sq,
            update,
            single: None,
            isa,
        }
    }

    /// The same paths evaluated by the variant `isa` of the hot loops (tests compare them).
    #[cfg(test)]
    pub(crate) fn with_isa(mut self, isa: Isa) -> Self {
        self.isa = isa;
        self.data_sq = data_norms(isa, &self.data);
        self
    }

    /// Evaluates the random-feature part in `precision` (constructors give `Double`).
    pub fn with_precision(mut self, precision: PathPrecision) -> Self {
        self.single = match precision {
            PathPrecision::Double => None,
            PathPrecision::Single => Some(SingleFeatures::new(
                self.features.omega.as_slice(),
                &self.features.tau,
                self.weights.as_slice(),
                self.kernel.dim(),
            )),
        };
        self
    }

    /// The precision of the random-feature part.
    pub fn precision(&self) -> PathPrecision {
        if self.single.is_some() { PathPrecision::Single } else { PathPrecision::Double }
    }

    /// The random features (shared by all paths).
    pub fn features(&self) -> &RandomFeatures {
        &self.features
    }

    /// Feature weights `W`, `B×L` (column `l` for path `l`).
    pub fn feature_weights(&self) -> &DMatrix<f64> {
        &self.weights
    }

    /// Number of data points `n` in the Matheron update (0 for prior paths).
    pub fn n_data(&self) -> usize {
        self.update.nrows()
    }

    /// Values of every path at every point of `xs` (`m×d`): `L×m` row-major (row `l` for path
    /// `l`). For tests and diagnostics (`O(L·m·(B + n))`), not for the hot loop.
    pub fn values_at_all(&self, xs: &[f64]) -> Vec<f64> {
        let d = self.kernel.dim();
        let m = xs.len() / d.max(1);
        let l_paths = self.weights.ncols();
        let mut out = vec![0.0; l_paths * m];
        let mut vals = vec![0.0; l_paths];
        let mut rep = vec![0.0; l_paths * d];
        for j in 0..m {
            for l in 0..l_paths {
                rep[l * d..(l + 1) * d].copy_from_slice(&xs[j * d..(j + 1) * d]);
            }
            self.values(&rep, &mut vals);
            for l in 0..l_paths {
                out[l * m + j] = vals[l];
            }
        }
        out
    }

    /// Paths `first .. first + L_b` at their points `xs` (`L_b×d`): values into `values` and
    /// gradients into `grads`, either of which may be empty (not wanted; not both).
    fn block(&self, first: usize, xs: &[f64], values: &mut [f64], grads: &mut [f64], scratch: &mut Vec<f64>) {
        let d = self.kernel.dim();
        let lb = if values.is_empty() { grads.len() / d.max(1) } else { values.len() };
        let b = self.features.n_features();
        let n = self.n_data();
        let want_values = !values.is_empty();
        // The double-precision feature part needs two B×L_b buffers (and values to write to);
        // the single one none.
        let feature_bufs = if self.single.is_some() { 0 } else { b * lb };
        let value_buf = if self.single.is_none() && !want_values { lb } else { 0 };
        let need = d * lb + 2 * feature_bufs + value_buf + 4 * d;
        if scratch.len() < need {
            scratch.resize(need, 0.0);
        }
        let (xt_buf, rest) = scratch.split_at_mut(d * lb);
        let (proj_buf, rest) = rest.split_at_mut(feature_bufs);
        let (s_buf, rest) = rest.split_at_mut(feature_bufs);
        let (discarded_values, rest) = rest.split_at_mut(value_buf);
        let lanes_buf = &mut rest[..4 * d];

        // Scaled points, d×L_b column-major (= the row-major block, scaled).
        for (dst, src) in xt_buf.chunks_mut(d).zip(xs.chunks(d)) {
            for ((o, x), s) in dst.iter_mut().zip(src).zip(&self.inv_ls) {
                *o = x * s;
            }
        }
        let xt = DMatrixView::from_slice(xt_buf, d, lb);
        let want_grad = !grads.is_empty();
        if let Some(single) = &self.single {
            // 1. Random-feature part, fused per path in single precision (see `rff_single`);
            // without values the sine-only kernel.
            SCRATCH_F32.with(|cell| {
                let mut lanes = cell.borrow_mut();
                lanes.resize(rff_single::scratch_len(d), 0.0);
                for l0 in (0..lb).step_by(rff_single::GROUP) {
                    let l1 = (l0 + rff_single::GROUP).min(lb);
                    let x = &xt_buf[l0 * d..l1 * d];
                    let g: &mut [f64] = if want_grad { &mut grads[l0 * d..l1 * d] } else { &mut [] };
                    if want_values {
                        let v = &mut values[l0..l1];
                        single.evaluate(first + l0, x, v, g, &mut lanes, self.isa);
                        v.iter_mut().for_each(|x| *x *= self.amp);
                    } else {
                        single.evaluate_gradients(first + l0, x, g, &mut lanes, self.isa);
                    }
                    g.iter_mut().for_each(|x| *x *= self.amp);
                }
            });
        } else if want_values {
            self.features_double(first, xt, values, grads, proj_buf, s_buf);
        } else {
            self.features_double(first, xt, discarded_values, grads, proj_buf, s_buf);
        }

        // 2. Kernel (Matheron) part and 3. the chain rule of the scaling, path by path.
        for l in 0..lb {
            let xl = &xt_buf[l * d..(l + 1) * d];
            let g: &mut [f64] = if want_grad { &mut grads[l * d..(l + 1) * d] } else { &mut [] };
            if n > 0 {
                let value = self.matheron(first + l, xl, g, lanes_buf);
                if want_values {
                    values[l] += value;
                }
            }
            for (gi, s) in g.iter_mut().zip(&self.inv_ls) {
                *gi *= s;
            }
        }
    }

    /// `Σ_j V_{jl} k(x̃, x̃_j)` of path `l` at scaled point `x̃` (returned) and, when `grad` is
    /// not empty, `grad += Σ_j V_{jl} g_j (x̃_j − x̃)` (scaled coordinates; expanded, see the
    /// module docs). Register blocks of data points at a time: distances, kernel, value and
    /// gradient of a block while it is in registers. `lanes` is scratch of `4d` entries (four
    /// gradient accumulators per input).
    fn matheron(&self, l: usize, x: &[f64], grad: &mut [f64], lanes: &mut [f64]) -> f64 {
        #[cfg(target_arch = "x86_64")]
        if self.isa.avx2_fma() {
            // SAFETY: `isa.avx2_fma()`: run-time detection found AVX2 and FMA on this CPU.
            return unsafe { self.matheron_avx2(l, x, grad, lanes) };
        }
        if self.isa.portable_fused() {
            self.matheron_with::<true>(l, x, grad, lanes)
        } else {
            self.matheron_with::<false>(l, x, grad, lanes)
        }
    }

    /// [`PathSet::matheron_with`] compiled for AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn matheron_avx2(&self, l: usize, x: &[f64], grad: &mut [f64], lanes: &mut [f64]) -> f64 {
        self.matheron_with::<true>(l, x, grad, lanes)
    }

    /// [`PathSet::matheron`] with fused multiply-adds (dot products, exponential, gradient
    /// sums) when `FMA`.
    #[inline(always)]
    fn matheron_with<const FMA: bool>(&self, l: usize, x: &[f64], grad: &mut [f64], lanes: &mut [f64]) -> f64 {
        let n = self.n_data();
        let v = &self.update.as_slice()[l * n..(l + 1) * n];
        let lanes = &mut lanes[..4 * x.len()];
        lanes.fill(0.0);
        let x_sq = x.iter().fold(0.0, |s, t| madd::<FMA>(*t, *t, s));
        let want_grad = !grad.is_empty();
        let mut acc = Accumulators { value: [0.0; 4], weight_sum: [0.0; 4], lanes };
        let mut start = 0;
        while start + 16 <= n {
            self.matheron_block::<16, FMA>(start, x, x_sq, v, &mut acc, want_grad);
            start += 16;
        }
        while start + 4 <= n {
            self.matheron_block::<4, FMA>(start, x, x_sq, v, &mut acc, want_grad);
            start += 4;
        }
        while start < n {
            self.matheron_block::<1, FMA>(start, x, x_sq, v, &mut acc, want_grad);
            start += 1;
        }
        // Σ_j w_j (x̃_j − x̃) = Σ_j w_j x̃_j − x̃ Σ_j w_j.
        let w = acc.weight_sum;
        let total = (w[0] + w[1]) + (w[2] + w[3]);
        for ((g, lane), xi) in grad.iter_mut().zip(acc.lanes.chunks_exact(4)).zip(x) {
            *g += ((lane[0] + lane[1]) + (lane[2] + lane[3])) - xi * total;
        }
        let v = acc.value;
        (v[0] + v[1]) + (v[2] + v[3])
    }

    /// One block of `W` data points of [`PathSet::matheron`]: dot products `x̃_j·x̃` (one
    /// multiply-add per point and input, in registers), `r²_j = ‖x̃_j‖² + ‖x̃‖² − 2 x̃_j·x̃`, the
    /// kernel weights, and their products with the points (one multiply-add per point and
    /// input). Differences `x̃_j − x̃` would cost a subtraction besides each multiply-add; see
    /// the module docs for the rounding this trades.
    #[inline(always)]
    fn matheron_block<const W: usize, const FMA: bool>(
        &self,
        start: usize,
        x: &[f64],
        x_sq: f64,
        v: &[f64],
        acc: &mut Accumulators<'_>,
        want_grad: bool,
    ) {
        let n = self.n_data();
        let data = self.data.as_slice(); // input-major: input i of every point at i·n ..
        let mut dot = [0.0f64; W];
        for (i, xi) in x.iter().enumerate() {
            let col: &[f64; W] = data[i * n + start..i * n + start + W].try_into().expect("invariant: W points");
            for k in 0..W {
                dot[k] = madd::<FMA>(col[k], *xi, dot[k]);
            }
        }
        let data_sq: &[f64; W] = self.data_sq[start..start + W].try_into().expect("invariant: W points");
        let v: &[f64; W] = v[start..start + W].try_into().expect("invariant: W points");
        let s2 = self.kernel.signal_variance;
        let exp_fast = exp_fast_with::<FMA>;
        // `kv = V ⊙ k` (value weights), `gv = V ⊙ g` (gradient weights); branch-free.
        let mut kv = [0.0f64; W];
        let mut gv = [0.0f64; W];
        for k in 0..W {
            let r2 = ((data_sq[k] + x_sq) - 2.0 * dot[k]).max(0.0);
            match self.kernel.kind {
                KernelKind::SeArd => {
                    kv[k] = v[k] * s2 * exp_fast(-0.5 * r2);
                    gv[k] = kv[k];
                }
                KernelKind::Matern52 => {
                    let r = r2.sqrt();
                    let e = v[k] * s2 * exp_fast(-SQRT5 * r);
                    kv[k] = (1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * e;
                    gv[k] = 5.0 / 3.0 * (1.0 + SQRT5 * r) * e;
                }
            }
        }
        for (k, w) in kv.iter().enumerate() {
            acc.value[k % 4] += w;
        }
        if want_grad {
            for (k, w) in gv.iter().enumerate() {
                acc.weight_sum[k % 4] += w;
            }
            for (i, lane) in acc.lanes.chunks_exact_mut(4).enumerate() {
                let col: &[f64; W] = data[i * n + start..i * n + start + W].try_into().expect("invariant: W points");
                let mut sum = [0.0f64; 4];
                for k in 0..W {
                    sum[k % 4] = madd::<FMA>(gv[k], col[k], sum[k % 4]);
                }
                for (o, a) in lane.iter_mut().zip(&sum) {
                    *o += a;
                }
            }
        }
    }

    /// Step 1 of the module docs in double precision: projections by GEMM, sine/cosine,
    /// values and the gradient product (overwrites `values` and `grads`).
    fn features_double(
        &self,
        first: usize,
        xt: DMatrixView<'_, f64>,
        values: &mut [f64],
        grads: &mut [f64],
        proj_buf: &mut [f64],
        s_buf: &mut [f64],
    ) {
        #[cfg(target_arch = "x86_64")]
        if self.isa.avx2_fma() {
            // SAFETY: `isa.avx2_fma()`: run-time detection found AVX2 and FMA on this CPU.
            unsafe { self.features_double_avx2(first, xt, values, grads, proj_buf, s_buf) };
            return;
        }
        if self.isa.portable_fused() {
            self.features_double_with::<true>(first, xt, values, grads, proj_buf, s_buf);
        } else {
            self.features_double_with::<false>(first, xt, values, grads, proj_buf, s_buf);
        }
    }

    /// [`PathSet::features_double_with`] compiled for AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn features_double_avx2(
        &self,
        first: usize,
        xt: DMatrixView<'_, f64>,
        values: &mut [f64],
        grads: &mut [f64],
        proj_buf: &mut [f64],
        s_buf: &mut [f64],
    ) {
        self.features_double_with::<true>(first, xt, values, grads, proj_buf, s_buf);
    }

    /// [`PathSet::features_double`] with fused multiply-adds in the sine/cosine when `FMA`.
    #[inline(always)]
    fn features_double_with<const FMA: bool>(
        &self,
        first: usize,
        xt: DMatrixView<'_, f64>,
        values: &mut [f64],
        grads: &mut [f64],
        proj_buf: &mut [f64],
        s_buf: &mut [f64],
    ) {
        let d = self.kernel.dim();
        let lb = values.len();
        let b = self.features.n_features();
        let want_grad = !grads.is_empty();
        let mut proj = DMatrixViewMut::from_slice(proj_buf, b, lb);
        proj.gemm(1.0, &self.features.omega, &xt, 0.0);

        // 2. Sine/cosine and the weight contraction, path by path. The elementwise loop has no
        // reduction in it (so it vectorizes); `proj` is overwritten by `W ⊙ cos`.
        let tau = &self.features.tau;
        for l in 0..lb {
            let pcol = &mut proj_buf[l * b..(l + 1) * b];
            let scol = &mut s_buf[l * b..(l + 1) * b];
            let w = &self.weights.as_slice()[(first + l) * b..(first + l + 1) * b];
            let mut big = 0u64;
            for (p, t) in pcol.iter().zip(tau) {
                big |= u64::from((p + t).abs() > SINCOS_FAST_LIMIT);
            }
            if big == 0 {
                for ((p, s), (t, wb)) in pcol.iter_mut().zip(scol.iter_mut()).zip(tau.iter().zip(w)) {
                    let (sn, cs) = sincos_reduced_with::<FMA>(*p + t);
                    *p = wb * cs;
                    *s = wb * sn;
                }
            } else {
                for ((p, s), (t, wb)) in pcol.iter_mut().zip(scol.iter_mut()).zip(tau.iter().zip(w)) {
                    let (sn, cs) = sincos_with::<FMA>(*p + t);
                    *p = wb * cs;
                    *s = wb * sn;
                }
            }
            values[l] = self.amp * sum4(pcol);
        }

        // 3. RFF gradient (scaled coordinates): gᵀ = −a Ωᵀ S (d×L_b), written straight into
        // `grads` (d×L_b column-major is the row-major L_b×d block). Empty `grads`: values only.
        if want_grad {
            let mut gt = DMatrixViewMut::from_slice(grads, d, lb);
            product_tn(&mut gt, -self.amp, &self.omega_t, &self.features.omega, s_buf, 0.0);
        }
    }
}

impl PathBatch for PathSet {
    fn n_paths(&self) -> usize {
        self.weights.ncols()
    }

    /// Values only: skips the two gradient GEMMs.
    fn values(&self, xs: &[f64], values: &mut [f64]) {
        let d = self.kernel.dim();
        assert!(xs.len() == self.n_paths() * d && values.len() == self.n_paths(), "invariant: xs is L×d, values L");
        xs.par_chunks(PATH_BLOCK * d).zip(values.par_chunks_mut(PATH_BLOCK)).enumerate().for_each(|(blk, (x, v))| {
            SCRATCH.with(|cell| {
                let mut scratch = cell.borrow_mut();
                self.block(blk * PATH_BLOCK, x, v, &mut [], &mut scratch);
            });
        });
    }

    fn dim(&self) -> usize {
        self.kernel.dim()
    }

    fn block_size(&self) -> usize {
        PATH_BLOCK
    }

    fn gradients_block(&self, first: usize, xs: &[f64], grads: &mut [f64]) {
        let d = self.kernel.dim().max(1);
        let lb = grads.len() / d;
        assert!(
            first.is_multiple_of(PATH_BLOCK) && lb <= PATH_BLOCK && first + lb <= self.n_paths(),
            "invariant: one block of paths from a multiple of PATH_BLOCK"
        );
        assert!(xs.len() == grads.len() && grads.len().is_multiple_of(d), "invariant: xs and grads are L_b×d");
        SCRATCH.with(|cell| self.block(first, xs, &mut [], grads, &mut cell.borrow_mut()));
    }

    fn value_and_grad(&self, xs: &[f64], values: &mut [f64], grads: &mut [f64]) {
        let d = self.kernel.dim();
        let l_paths = self.n_paths();
        assert!(
            xs.len() == l_paths * d && values.len() == l_paths && grads.len() == l_paths * d,
            "invariant: xs is L×d, values L, grads L×d"
        );
        xs.par_chunks(PATH_BLOCK * d)
            .zip(values.par_chunks_mut(PATH_BLOCK))
            .zip(grads.par_chunks_mut(PATH_BLOCK * d))
            .enumerate()
            .for_each(|(blk, ((x, v), g))| {
                SCRATCH.with(|cell| {
                    let mut scratch = cell.borrow_mut();
                    self.block(blk * PATH_BLOCK, x, v, g, &mut scratch);
                });
            });
    }
}

/// `‖x̃_j‖²` of every row of `data` (`n×d`), summed over the inputs in order with the
/// multiply-adds of `isa` (fused where [`PathSet::matheron_with`] runs fused), as the
/// hot loop sums `‖x̃‖²` of the evaluation point.
fn data_norms(isa: Isa, data: &DMatrix<f64>) -> Vec<f64> {
    let fused = isa.avx2_fma() || isa.portable_fused();
    (0..data.nrows())
        .map(|j| {
            data.row(j).iter().fold(0.0, |s, t| if fused { madd::<true>(*t, *t, s) } else { madd::<false>(*t, *t, s) })
        })
        .collect()
}

/// The running sums of [`PathSet::matheron`] over the blocks of data points: four lanes each
/// (fixed order) of the value, of the gradient weights and, per input, of the weighted points.
struct Accumulators<'a> {
    value: [f64; 4],
    weight_sum: [f64; 4],
    /// `4d`: lanes `4i..4i + 4` for input `i`.
    lanes: &'a mut [f64],
}

/// nalgebra's `gemm` hands a product to `matrixmultiply` only when every dimension exceeds 5.
const NALGEBRA_SMALL_DIM: usize = 5;

/// `out ← alpha·aᵀ·b + beta·out` for `out` `d×L_b`, given `aᵀ` (`d×k`, contiguous), `a`
/// (`k×d`) and `b` (`k×L_b`, column-major). For `d > 5` a GEMM on `aᵀ`; for small `d` (where nalgebra would run `k` axpys of
/// length `d` per column) `d·L_b` long dot products of columns of `a` and `b`. Inlined into
/// the AVX2 variant of [`PathSet::features_double`] too.
#[inline(always)]
fn product_tn(
    out: &mut DMatrixViewMut<'_, f64>,
    alpha: f64,
    a_t: &DMatrix<f64>,
    a: &DMatrix<f64>,
    b: &[f64],
    beta: f64,
) {
    let k = a.nrows();
    let cols = out.ncols();
    if out.nrows() > NALGEBRA_SMALL_DIM {
        out.gemm(alpha, a_t, &DMatrixView::from_slice(b, k, cols), beta);
        return;
    }
    for l in 0..cols {
        let bl = &b[l * k..(l + 1) * k];
        for i in 0..a.ncols() {
            let ai = &a.as_slice()[i * k..(i + 1) * k];
            let mut acc = [0.0f64; 4];
            for (ca, cb) in ai.chunks_exact(4).zip(bl.chunks_exact(4)) {
                acc[0] += ca[0] * cb[0];
                acc[1] += ca[1] * cb[1];
                acc[2] += ca[2] * cb[2];
                acc[3] += ca[3] * cb[3];
            }
            let tail: f64 =
                ai.chunks_exact(4).remainder().iter().zip(bl.chunks_exact(4).remainder()).map(|(x, y)| x * y).sum();
            let dotv = ((acc[0] + acc[1]) + (acc[2] + acc[3])) + tail;
            let o = &mut out[(i, l)];
            *o = alpha * dotv + if beta == 0.0 { 0.0 } else { beta * *o };
        }
    }
}

fn normal_matrix(rows: usize, cols: usize, std: f64, rng: &mut StreamRng) -> DMatrix<f64> {
    // Column by column: column l belongs to path l.
    DMatrix::from_iterator(
        rows,
        cols,
        (0..rows * cols).map(|_| {
            let z: f64 = StandardNormal.sample(rng);
            std * z
        }),
    )
}

#[cfg(test)]
mod tests {
    use les_core::registry::BuildContext;
    use les_core::{Dataset, Params, Surrogate, stream_rng};
    use serde_json::json;

    use super::*;
    use crate::ExactGp;
    use crate::isa::{avx2_fma_or_skip, test_variants};

    /// 60 posterior paths of a fixed-hyperparameter GP on `n` points in dimension `d`, and one
    /// point per path (deterministic).
    fn paths(kind: KernelKind, d: usize, n: usize, precision: PathPrecision) -> (PathSet, Vec<f64>) {
        let unit = |k: usize| ((k * 7919 + 13) % 1009) as f64 / 1009.0;
        let x: Vec<f64> = (0..n * d).map(unit).collect();
        let y =
            x.chunks(d).map(|p| p.iter().enumerate().map(|(i, v)| ((i + 1) as f64 * 3.0 * v).sin()).sum()).collect();
        let data = Dataset::from_rows(d, x, y);
        let kernel = if kind == KernelKind::SeArd { "se_ard" } else { "matern52" };
        let params = json!({
            "kernel": kernel,
            "hyperparameters": { "fixed": { "lengthscales": [0.3], "signal_variance": 1.3 } },
            "features": 200,
        });
        let ctx = BuildContext { dim: d, ..Default::default() };
        let (mut gp, _) = ExactGp::from_params(&Params::new(params, "surrogate.params"), &ctx).expect("params");
        gp.fit(&data, &mut stream_rng(1, "fit", 0)).expect("fit");
        let set = gp.sample_path_set(60, &mut stream_rng(2, "paths", 0)).expect("paths").with_precision(precision);
        let xs = (0..60 * d).map(|k| unit(k + 5000)).collect();
        (set, xs)
    }

    /// Values and gradients of every path, and the gradients of `gradients_block` (the
    /// descent's call), with the hot loops of `isa`.
    fn evaluate(set: &PathSet, isa: Isa, xs: &[f64]) -> (Vec<f64>, Vec<f64>, Vec<f64>) {
        let set = set.clone().with_isa(isa);
        let (l, d) = (set.n_paths(), set.dim());
        let (mut v, mut g, mut g_only) = (vec![0.0; l], vec![0.0; l * d], vec![0.0; l * d]);
        set.value_and_grad(xs, &mut v, &mut g);
        for (k, (x, g)) in xs.chunks(PATH_BLOCK * d).zip(g_only.chunks_mut(PATH_BLOCK * d)).enumerate() {
            set.gradients_block(k * PATH_BLOCK, x, g);
        }
        (v, g, g_only)
    }

    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// `(d, n)`: d = 5 takes the small-d dot products of the double-precision gradient, d = 7
    /// the GEMM; n = 41 the Matheron part's blocks of 16 and 4 points and its scalar tail.
    const SHAPES: [(usize, usize); 2] = [(5, 41), (7, 41)];
    const KINDS: [KernelKind; 2] = [KernelKind::SeArd, KernelKind::Matern52];

    #[test]
    fn the_avx2_variant_has_the_bits_of_the_fused_portable_source() {
        if !avx2_fma_or_skip("the_avx2_variant_has_the_bits_of_the_fused_portable_source") {
            return;
        }
        for kind in KINDS {
            for (d, n) in SHAPES {
                for precision in [PathPrecision::Single, PathPrecision::Double] {
                    let (set, xs) = paths(kind, d, n, precision);
                    let avx2 = evaluate(&set, Isa::detected(), &xs);
                    let fused = evaluate(&set, Isa::PORTABLE_FUSED, &xs);
                    let what = format!("{kind:?}, d = {d}, {precision:?}");
                    assert_eq!(bits(&avx2.0), bits(&fused.0), "values, {what}");
                    assert_eq!(bits(&avx2.1), bits(&fused.1), "gradients, {what}");
                    assert_eq!(bits(&avx2.2), bits(&fused.2), "gradients only, {what}");
                    // Not trivially so: the separate multiply-adds of the portable variant differ.
                    let portable = evaluate(&set, Isa::PORTABLE, &xs);
                    assert_ne!(bits(&avx2.1), bits(&portable.1), "AVX2 and portable gradients, {what}");
                }
            }
        }
    }

    #[test]
    fn every_variant_agrees_with_the_others_to_rounding_in_double_precision() {
        // First-order bound on the difference of two variants of the same sums: per term a few
        // ulp (sine/cosine below 1e-15, exp_fast 4 ulp, their tests), and each of the B + n
        // partial sums may round differently. Magnitudes: |cos|, |sin| ≤ 1, k ≤ σ_f² and
        // g ≤ (5/3)σ_f² (Matérn; g = k for SE).
        let eps = f64::EPSILON;
        for kind in KINDS {
            for (d, n) in SHAPES {
                let (set, xs) = paths(kind, d, n, PathPrecision::Double);
                let variants: Vec<_> = test_variants().into_iter().map(|isa| (isa, evaluate(&set, isa, &xs))).collect();
                let b = set.features.n_features();
                let s2 = set.kernel.signal_variance;
                let data = set.data.as_slice();
                for p in 0..set.n_paths() {
                    let w = &set.weights.as_slice()[p * b..(p + 1) * b];
                    let v = &set.update.as_slice()[p * n..(p + 1) * n];
                    let factor = 4.0 * (b + n + 16) as f64 * eps;
                    let vb = factor
                        * (set.amp * w.iter().map(|x| x.abs()).sum::<f64>()
                            + s2 * v.iter().map(|x| x.abs()).sum::<f64>());
                    let gb: Vec<f64> = (0..d)
                        .map(|i| {
                            let xi = xs[p * d + i] * set.inv_ls[i];
                            let feature: f64 = (0..b).map(|k| (w[k] * set.features.omega[(k, i)]).abs()).sum();
                            let kernel: f64 = (0..n).map(|j| (v[j] * (data[i * n + j] - xi)).abs()).sum();
                            factor * (set.amp * feature + 5.0 / 3.0 * s2 * kernel) * set.inv_ls[i]
                        })
                        .collect();
                    for (isa_a, a) in &variants {
                        for (isa_b, e) in &variants {
                            let what = format!("{kind:?}, d = {d}, path {p}: {} vs {}", isa_a.name(), isa_b.name());
                            assert!(
                                (a.0[p] - e.0[p]).abs() <= vb,
                                "{what}: value {} vs {} (bound {vb})",
                                a.0[p],
                                e.0[p]
                            );
                            for (i, bound) in gb.iter().enumerate() {
                                let (x, y) = (a.1[p * d + i], e.1[p * d + i]);
                                assert!((x - y).abs() <= *bound, "{what}, input {i}: {x} vs {y} (bound {bound})");
                            }
                        }
                    }
                }
            }
        }
    }
}

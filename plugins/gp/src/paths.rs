//! Posterior (and prior) GP sample paths by pathwise conditioning (Wilson et al. 2020, 2021;
//! les-algorithm.md §7), evaluated for `L` paths at once.
//!
//! Path `l` is `f^l(x) = W_l·φ(x) + Σ_j V_{l,j} k(x, x_j)`: a random-feature prior draw
//! ([`crate::rff`]; `B` features shared by all paths, weights `W ~ 𝒩(0, I)` per path) plus the
//! Matheron update `V_l = (K_XX + σ_n² I)⁻¹ (y − f_prior^l(X) − ε_l)`, `ε_l ~ 𝒩(0, σ_n² I)`.
//!
//! # Evaluation as matrix products
//! [`PathSet::value_and_grad`] evaluates path `l` at its own point `x_l` (`xs` is `L×d`), in
//! fixed blocks of [`PATH_BLOCK`] paths (rayon over blocks; the result does not depend on the
//! thread count). With `x̃ = x ⊘ ℓ` and `X̃_b` the block's scaled points as columns (`d×L_b`):
//!
//! 1. projections `P = Ω X̃_b` (`B×d · d×L_b`, GEMM), then `B`-wide `sin`/`cos` of `P + τ`;
//! 2. values `a·Σ_b W_{bl} cos(P_{bl} + τ_b)` and `S = W ⊙ sin(P + τ)`, with `a = sqrt(2σ_f²/B)`;
//! 3. gradient `−a Ωᵀ S` (`d×B · B×L_b`, GEMM; long dot products when `d ≤ 5`) in scaled
//!    coordinates;
//! 4. kernel part: `D = X̃_data X̃_b` (`n×d · d×L_b`, GEMM) gives
//!    `r²_{jl} = ‖x̃_j‖² + ‖x̃_l‖² − 2 D_{jl}`, then `k` and `g` (see [`crate::kernel`]),
//!    values `Σ_j V_{jl} k_{jl}` and, with `C = V ⊙ g`, gradient
//!    `X̃_dataᵀ C − x̃_l Σ_j C_{jl}` (`d×n · n×L_b`, GEMM);
//! 5. both gradient parts are divided by `ℓ` (chain rule of `x̃ = x ⊘ ℓ`).
//!
//! SE gradient of path `l`: `−a Σ_b W_{lb} sin(·)(Ω_b ⊘ ℓ) + Σ_j V_{lj} k(x, x_j)(−(x − x_j) ⊘ ℓ²)`;
//! Matérn-5/2 replaces `k(x, x_j)` in the second sum by `g = (5/3)σ_f²(1 + √5 r)e^{−√5 r}`.
//! Per call: `2·L·d·(B + n)` multiply-adds in GEMMs plus `L·B` sine/cosine pairs.

use std::cell::RefCell;

use les_core::{KernelKind, PathBatch, StreamRng, SurrogateError};
use nalgebra::{DMatrix, DMatrixView, DMatrixViewMut};
use rand_distr::{Distribution, StandardNormal};
use rayon::prelude::*;

use crate::kernel::Kernel;
use crate::linalg::{cholesky_solve_in_place, gemm_tn};
use crate::posterior::GpPosterior;
use crate::rff::{RandomFeatures, SINCOS_FAST_LIMIT, exp_fast, sincos, sincos_reduced, sum4};

const SQRT5: f64 = 2.236_067_977_499_79;

/// Paths per parallel block in [`PathSet::value_and_grad`] (fixed: results do not depend on
/// the thread count).
pub const PATH_BLOCK: usize = 64;

thread_local! {
    static SCRATCH: RefCell<Vec<f64>> = const { RefCell::new(Vec::new()) };
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
    /// `X̃ᵀ`, `d×n`.
    data_t: DMatrix<f64>,
    /// Feature weights, `B×L` (column `l` for path `l`).
    weights: DMatrix<f64>,
    /// Scaled data `X̃`, `n×d`.
    data: DMatrix<f64>,
    /// `‖x̃_j‖²`, `n`.
    data_norms: Vec<f64>,
    /// Update weights `V`, `n×L` (column `l` for path `l`).
    update: DMatrix<f64>,
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
        let data_norms = data.row_iter().map(|r| r.norm_squared()).collect();
        let amp = (2.0 * kernel.signal_variance / features.n_features().max(1) as f64).sqrt();
        Self {
            omega_t: features.omega.transpose(),
            data_t: data.transpose(),
            kernel,
            inv_ls,
            features,
            amp,
            weights,
            data,
            data_norms,
            update,
        }
    }

    /// The random features (shared by all paths).
    pub fn features(&self) -> &RandomFeatures {
        &self.features
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

    fn block(&self, first: usize, xs: &[f64], values: &mut [f64], grads: &mut [f64], scratch: &mut Vec<f64>) {
        let d = self.kernel.dim();
        let lb = values.len();
        let b = self.features.n_features();
        let n = self.n_data();
        let need = d * lb + 2 * b * lb + 2 * n * lb + lb;
        if scratch.len() < need {
            scratch.resize(need, 0.0);
        }
        let (xt_buf, rest) = scratch.split_at_mut(d * lb);
        let (csums, rest) = rest.split_at_mut(lb);
        csums.fill(0.0);
        let (proj_buf, rest) = rest.split_at_mut(b * lb);
        let (s_buf, rest) = rest.split_at_mut(b * lb);
        let (dots_buf, rest) = rest.split_at_mut(n * lb);
        let c_buf = &mut rest[..n * lb];

        // 1. Scaled points, d×L_b column-major (= the row-major block, scaled).
        for (dst, src) in xt_buf.chunks_mut(d).zip(xs.chunks(d)) {
            for ((o, x), s) in dst.iter_mut().zip(src).zip(&self.inv_ls) {
                *o = x * s;
            }
        }
        let xt = DMatrixView::from_slice(xt_buf, d, lb);
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
                    let (sn, cs) = sincos_reduced(*p + t);
                    *p = wb * cs;
                    *s = wb * sn;
                }
            } else {
                for ((p, s), (t, wb)) in pcol.iter_mut().zip(scol.iter_mut()).zip(tau.iter().zip(w)) {
                    let (sn, cs) = sincos(*p + t);
                    *p = wb * cs;
                    *s = wb * sn;
                }
            }
            values[l] = self.amp * sum4(pcol);
        }

        // 3. RFF gradient (scaled coordinates): gᵀ = −a Ωᵀ S (d×L_b), written straight into
        // `grads` (d×L_b column-major is the row-major L_b×d block). Empty `grads`: values only.
        let want_grad = !grads.is_empty();
        if want_grad {
            let mut gt = DMatrixViewMut::from_slice(grads, d, lb);
            product_tn(&mut gt, -self.amp, &self.omega_t, &self.features.omega, s_buf, 0.0);
        }

        // 4. Kernel (Matheron) part.
        if n > 0 {
            {
                let mut dots = DMatrixViewMut::from_slice(dots_buf, n, lb);
                dots.gemm(1.0, &self.data, &xt, 0.0);
            }
            for l in 0..lb {
                let xl = &xt_buf[l * d..(l + 1) * d];
                let xnorm: f64 = xl.iter().map(|v| v * v).sum();
                let v = &self.update.as_slice()[(first + l) * n..(first + l + 1) * n];
                let dcol = &mut dots_buf[l * n..(l + 1) * n];
                let ccol = &mut c_buf[l * n..(l + 1) * n];
                // Branch-free loops (vectorizable): `dots` becomes V ⊙ k, `c` becomes V ⊙ g.
                let s2 = self.kernel.signal_variance;
                match self.kernel.kind {
                    KernelKind::SeArd => {
                        for ((dj, cj), (nj, vj)) in
                            dcol.iter_mut().zip(ccol.iter_mut()).zip(self.data_norms.iter().zip(v))
                        {
                            let r2 = (nj + xnorm - 2.0 * *dj).max(0.0);
                            let k = s2 * exp_fast(-0.5 * r2);
                            *dj = vj * k;
                            *cj = vj * k;
                        }
                    }
                    KernelKind::Matern52 => {
                        for ((dj, cj), (nj, vj)) in
                            dcol.iter_mut().zip(ccol.iter_mut()).zip(self.data_norms.iter().zip(v))
                        {
                            let r2 = (nj + xnorm - 2.0 * *dj).max(0.0);
                            let r = r2.sqrt();
                            let e = s2 * exp_fast(-SQRT5 * r);
                            *dj = vj * (1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * e;
                            *cj = vj * (5.0 / 3.0) * (1.0 + SQRT5 * r) * e;
                        }
                    }
                }
                values[l] += sum4(dcol);
                csums[l] = sum4(ccol);
            }
            if want_grad {
                let mut gt = DMatrixViewMut::from_slice(grads, d, lb);
                product_tn(&mut gt, 1.0, &self.data_t, &self.data, c_buf, 1.0);
            }
        }

        // 5. The `−x̃_l Σ_j C_jl` term and the chain rule of the scaling.
        for (l, grow) in grads.chunks_mut(d).enumerate() {
            let xl = &xt_buf[l * d..(l + 1) * d];
            for ((g, x), s) in grow.iter_mut().zip(xl).zip(&self.inv_ls) {
                *g = (*g - csums[l] * x) * s;
            }
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

/// nalgebra's `gemm` hands a product to `matrixmultiply` only when every dimension exceeds 5.
const NALGEBRA_SMALL_DIM: usize = 5;

/// `out ← alpha·aᵀ·b + beta·out` for `out` `d×L_b`, given `aᵀ` (`d×k`, contiguous), `a`
/// (`k×d`) and `b` (`k×L_b`, column-major). For `d > 5` a GEMM on `aᵀ`; for small `d` (where nalgebra would run `k` axpys of
/// length `d` per column) `d·L_b` long dot products of columns of `a` and `b`.
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

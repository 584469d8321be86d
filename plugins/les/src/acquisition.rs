//! The LES acquisition: mutual information between an observation at `x` and the descent
//! sequence, estimated over `L` sampled sequences and computed with Schur complements.
//!
//! `α(x) = (1/2L) Σ_l [ log σ_D²(x) − log σ_l²(x) ]` (spec §10; Stenger et al., ICLR 2026):
//! `σ_D²` is the posterior variance given the data, `σ_l²` the variance after also
//! conditioning on path `l`'s `P` support points `Z_l` (virtual observations with noise
//! `σ_v²`, the model's noise variance as in the reference). With the latent posterior
//! covariance `Σ(a, b)` of the fitted model (spec §10.3):
//!
//! ```text
//! S_l  = Σ(Z_l, Z_l) + σ_v² I        (P×P, Cholesky L_S)
//! g    = Σ(Z_l, x)                   (P)
//! σ_l² = σ_D²(x) − ‖L_S⁻¹ g‖²
//! ```
//!
//! Conditioning adds no observation value anywhere, so α depends on locations only. When the
//! candidates are the support points themselves (LES's candidate set), every `g` is a piece
//! of the `M×M` matrix `Σ(Z, Z)`. That matrix is never held whole (512 MB at `L = 1000`,
//! `P = 8`): the model gives it in blocks ([`Surrogate::covariance_blocks`]; an exact GP
//! prepares its whitened cross-covariances once, `O(n·M)`, and a block is one kernel fill and
//! one GEMM), `S_l` comes from its `P×P` diagonal blocks, and α is computed over tiles of the
//! upper triangle, each computed once and used for both of its blocks of candidates (see
//! `try_values_at_support`). The values have the bits of the dense computation
//! (`posterior_covariance(Z, Z)`, as before) except where that one took nalgebra's own
//! product loop for a last tile of at most 5 columns or rows (`M mod 64` or `M mod 256` in
//! 1…5, never with `P = 8`): there the blocks, all from `matrixmultiply`, differ in the last
//! bits (measured: `L = 129`, `P = 4`, 128 of 516 values, relative difference ≤ 4e-12).
//!
//! Memory of the candidate loop: `O(M·(n + P))` for the prepared model and the whiteners, plus
//! one column of tiles (`M × 256` values, 16 MB at `M = 8000`). Peak RSS of one LES step
//! (`les_step` bench, `d = 20`, `n = 100`, `P = 8`, `T = 500`, `B = 1024`), before → after:
//! `L = 250` 61 → 35 MB, `L = 1000` 602 → 119 MB, `L = 2000` 2200 → 232 MB (with the
//! optimizer's history merged block by block; without that, 47, 175 and 344 MB). What remains
//! at large `L` is mostly the descent's history (`(T+1)·L·d` positions, 80 MB at `L = 1000`),
//! not this module (about 30 MB of its own at `L = 1000`).
//!
//! With [`EntropyOf::Observation`], `σ_n²` is added to both variances (the paper's and
//! BoTorch's form); [`EntropyOf::Latent`] is the reference code's. Variances are clamped at
//! `min_variance` before the logarithm; a NaN value becomes `−∞`.
//!
//! Determinism: candidates are processed in parallel but each value is a sequential sum over
//! paths in path order, so the result does not depend on the thread count.
//!
//! # Parameters (`acquisition: { name: mutual_information, params: … }`)
//!
#![doc = include_str!("../params/mutual_information.md")]

use std::sync::atomic::{AtomicU64, Ordering};

use les_core::registry::{AcquisitionEntry, BuildContext, Built, PluginError, defaults_of};
use les_core::{
    Acquisition, AcquisitionContext, CovarianceBlocks, ParamError, Params, PluginParams, SequenceAcquisition,
    SupportPoints, Surrogate, SurrogateError,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::pending::PendingConditioned;
use les_numerics::cholesky::cholesky_in_place_with_jitter;
use les_numerics::triangular::invert_lower_in_place;

/// Default lower clamp of variances before the logarithm (BoTorch's value).
pub const DEFAULT_MIN_VARIANCE: f64 = 1e-12;

/// Whose entropy the mutual information uses.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntropyOf {
    /// Latent function value `f(x)` (the reference code).
    #[default]
    Latent,
    /// Noisy observation `y(x)` (the paper's formula and BoTorch).
    Observation,
}

/// Settings of [`MutualInformation`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AcquisitionSettings {
    /// Whose entropy.
    pub entropy_of: EntropyOf,
    /// Lower clamp of variances before the logarithm.
    pub min_variance: f64,
    /// Noise variance of the virtual observations; `None` = the model's noise variance.
    pub virtual_noise: Option<f64>,
}

impl Default for AcquisitionSettings {
    fn default() -> Self {
        Self { entropy_of: EntropyOf::Latent, min_variance: DEFAULT_MIN_VARIANCE, virtual_noise: None }
    }
}

/// The mutual-information acquisition of LES for one iteration: built from a fitted model and
/// the iteration's support points, evaluated on any candidates (see the module docs).
pub struct MutualInformation<'a> {
    /// The fitted model, conditioned on the pending points when there are any.
    model: PendingConditioned<'a>,
    n_paths: usize,
    per_path: usize,
    dim: usize,
    /// `M×d` support points `Z` (path-major).
    support: Vec<f64>,
    /// `Σ(Z, Z)` in blocks (never all of it at once).
    blocks: Box<dyn CovarianceBlocks + 'a>,
    /// `L×P×P` inverses `W_l = L_S⁻¹` of the Cholesky factors of `S_l` (lower triangular):
    /// `‖L_S⁻¹ g‖² = ‖W_l g‖²` is then `P` independent dot products instead of a serial
    /// substitution.
    whiteners: Vec<f64>,
    /// Noise added to both variances (`σ_n²` for observation entropy, else 0).
    entropy_noise: f64,
    min_variance: f64,
    /// Wall seconds spent on blocks of `Σ(Z, Z)` so far (`f64` bits): the preparation and
    /// diagonal blocks in `new`, then the blocks of every `values_at_support`.
    covariance_seconds: AtomicU64,
}

impl<'a> MutualInformation<'a> {
    /// Builds the acquisition: `Σ(Z, Z)` prepared in blocks by the model, its `L` diagonal
    /// blocks and their Cholesky factorizations (size `P`).
    pub fn new(
        surrogate: &'a dyn Surrogate,
        support: &SupportPoints,
        settings: AcquisitionSettings,
    ) -> Result<Self, SurrogateError> {
        Self::with_pending(surrogate, support, &[], settings)
    }

    /// [`MutualInformation::new`] with the model also conditioned on `pending` points
    /// (evaluations in flight) as observations without values ([`crate::pending`]): exact,
    /// since every variance here depends on locations only. Costs `q` extra columns of the
    /// model's covariance and a rank-`q` update of every block of `Σ(Z, Z)`.
    pub fn with_pending(
        surrogate: &'a dyn Surrogate,
        support: &SupportPoints,
        pending: &[Vec<f64>],
        settings: AcquisitionSettings,
    ) -> Result<Self, SurrogateError> {
        let model = PendingConditioned::new(surrogate, pending)?;
        let (n_paths, per_path, dim) = (support.n_paths, support.per_path, support.dim);
        let m = n_paths * per_path;
        if support.points.len() != m * dim || dim != surrogate.dim() {
            return Err(SurrogateError::InvalidData(format!(
                "support points have {} values for L = {n_paths}, P = {per_path}, d = {dim}; the model has d = {}",
                support.points.len(),
                surrogate.dim()
            )));
        }
        let started = std::time::Instant::now();
        let blocks = model.blocks(&support.points)?;
        let diagonal = blocks.diagonal_blocks(per_path)?;
        let covariance_seconds = started.elapsed().as_secs_f64();
        if diagonal.len() != m * per_path || blocks.len() != m {
            return Err(SurrogateError::Numerical(format!(
                "the model gave {} values of diagonal blocks for {n_paths} paths of {per_path} support points",
                diagonal.len()
            )));
        }
        let noise = surrogate.noise_variance();
        let virtual_noise = settings.virtual_noise.unwrap_or(noise);
        let pp = per_path * per_path;
        let mut whiteners = vec![0.0; n_paths * pp];
        whiteners.par_chunks_mut(pp.max(1)).enumerate().try_for_each(|(l, f)| {
            f.copy_from_slice(&diagonal[l * pp..(l + 1) * pp]);
            for i in 0..per_path {
                f[i * per_path + i] += virtual_noise;
            }
            cholesky_in_place_with_jitter(f, per_path)?;
            invert_lower_in_place(f, per_path);
            Ok::<(), SurrogateError>(())
        })?;
        let entropy_noise = match settings.entropy_of {
            EntropyOf::Latent => 0.0,
            EntropyOf::Observation => noise,
        };
        Ok(Self {
            model,
            n_paths,
            per_path,
            dim,
            support: support.points.clone(),
            blocks,
            whiteners,
            entropy_noise,
            min_variance: settings.min_variance,
            covariance_seconds: AtomicU64::new(covariance_seconds.to_bits()),
        })
    }

    /// Wall time spent on blocks of `Σ(Z, Z)` so far, in seconds: the preparation in
    /// [`MutualInformation::new`] and the blocks of every [`MutualInformation::values_at_support`].
    pub fn covariance_seconds(&self) -> f64 {
        f64::from_bits(self.covariance_seconds.load(Ordering::Relaxed))
    }

    fn add_covariance_seconds(&self, secs: f64) {
        let total = self.covariance_seconds() + secs;
        self.covariance_seconds.store(total.to_bits(), Ordering::Relaxed);
    }

    /// Number of support points `M = L·P` (the default candidate set).
    pub fn n_support(&self) -> usize {
        self.n_paths * self.per_path
    }

    /// α at every support point (`M` values); all `−∞` (no candidate) if the model fails to
    /// give a block of `Σ(Z, Z)` ([`Acquisition::values_at_candidates`] returns the error).
    pub fn values_at_support(&self) -> Vec<f64> {
        self.try_values_at_support().unwrap_or_else(|_| vec![f64::NEG_INFINITY; self.n_support()])
    }

    /// α at every support point, from `Σ(Z, Z)` in tiles (see the module docs).
    ///
    /// The same arithmetic as the generic `values_from` in another loop order. The support
    /// points are cut into blocks `C_0, C_1, …` of whole paths; step `j` computes the tiles
    /// `Σ(C_i, C_j)`, `i ≤ j` (one column of the upper triangle), and uses each tile twice:
    /// for the candidates of `C_j` with the paths of `C_i`, and (transposed) for the
    /// candidates of `C_i` with the paths of `C_j`. Every candidate thus meets the paths in
    /// path order, as the candidate loop does, and each tile is computed once.
    fn try_values_at_support(&self) -> Result<Vec<f64>, SurrogateError> {
        let m = self.n_support();
        let per = self.per_path.max(1);
        let width = per * (CANDIDATE_BLOCK / per).max(1);
        let group = if self.min_variance >= MIN_GROUPED_VARIANCE { LOG_GROUP } else { 1 };
        let (mut var, mut product, mut log_conditioned) = (vec![0.0; m], vec![1.0; m], vec![0.0; m]);
        for j in 0..m.div_ceil(width) {
            let cols = j * width..((j + 1) * width).min(m);
            let wj = cols.len();
            let started = std::time::Instant::now();
            let tiles: Vec<Vec<f64>> = (0..=j)
                .into_par_iter()
                .map(|i| self.blocks.block(i * width..(i * width + width).min(m), cols.clone()))
                .collect::<Result<_, _>>()?;
            self.add_covariance_seconds(started.elapsed().as_secs_f64());
            for (k, v) in var[cols.clone()].iter_mut().enumerate() {
                *v = tiles[j][k * wj + k];
            }
            let (var_done, var_j) = var[..cols.end].split_at(cols.start);
            let (product_done, product_j) = product[..cols.end].split_at_mut(cols.start);
            let (log_done, log_j) = log_conditioned[..cols.end].split_at_mut(cols.start);
            let paths_j = cols.start / per..cols.end / per;
            rayon::join(
                // Earlier candidate blocks `C_i` with the paths of `C_j`: rows of `Σ(C_j, C_i)`.
                || {
                    product_done
                        .par_chunks_mut(width)
                        .zip(log_done.par_chunks_mut(width))
                        .zip(var_done.par_chunks(width))
                        .zip(&tiles[..j])
                        .for_each(|(((product, log), var), tile)| {
                            let transposed = transpose(tile, width, wj);
                            for l in paths_j.clone() {
                                let first = l * per - cols.start;
                                let rows: Vec<&[f64]> =
                                    (first..first + per).map(|k| &transposed[k * width..(k + 1) * width]).collect();
                                self.multiply_conditional_variances(l, &rows, var, product);
                                if (l + 1) % group == 0 {
                                    take_logarithms(product, log);
                                }
                            }
                        });
                },
                // The candidates of `C_j` with the paths of `C_0 … C_j`: rows of `Σ(C_i, C_j)`.
                || {
                    product_j
                        .par_chunks_mut(CANDIDATE_SUBBLOCK)
                        .zip(log_j.par_chunks_mut(CANDIDATE_SUBBLOCK))
                        .zip(var_j.par_chunks(CANDIDATE_SUBBLOCK))
                        .enumerate()
                        .for_each(|(s, ((product, log), var))| {
                            let first_candidate = s * CANDIDATE_SUBBLOCK;
                            let candidates = first_candidate..first_candidate + product.len();
                            for l in 0..paths_j.end {
                                let (tile, first) = (&tiles[l * per / width], l * per % width);
                                let rows: Vec<&[f64]> = (first..first + per)
                                    .map(|k| &tile[k * wj..(k + 1) * wj][candidates.clone()])
                                    .collect();
                                self.multiply_conditional_variances(l, &rows, var, product);
                                if (l + 1) % group == 0 {
                                    take_logarithms(product, log);
                                }
                            }
                        });
                },
            );
        }
        Ok(var.iter().zip(&log_conditioned).zip(&product).map(|((v, lc), p)| self.alpha(*v, lc + p.ln())).collect())
    }

    /// Multiplies `product[c]` by the clamped `σ_l²(c) + noise` of path `l` for the support
    /// points `c ∈ candidates` (with `σ_D²(c)` in `var`). The support point sizes in use get
    /// a loop unrolled over the path's points (whitening in registers, vectorized over the
    /// candidates); the others, a loop over rows of the same arithmetic.
    fn multiply_conditional_variances(&self, l: usize, rows: &[&[f64]], var: &[f64], product: &mut [f64]) {
        match self.per_path {
            4 => self.multiply_conditional_variances_unrolled::<4>(l, rows, var, product),
            8 => self.multiply_conditional_variances_unrolled::<8>(l, rows, var, product),
            16 => self.multiply_conditional_variances_unrolled::<16>(l, rows, var, product),
            _ => self.multiply_conditional_variances_by_rows(l, rows, var, product),
        }
    }

    /// [`MutualInformation::multiply_conditional_variances`] for `P` points per path, in lanes
    /// of [`LANES`] candidates (the tail one by one) that the compiler vectorizes.
    fn multiply_conditional_variances_unrolled<const P: usize>(
        &self,
        l: usize,
        rows: &[&[f64]],
        var: &[f64],
        product: &mut [f64],
    ) {
        let w = &self.whiteners[l * P * P..(l + 1) * P * P];
        let w: [[f64; P]; P] = std::array::from_fn(|i| std::array::from_fn(|k| w[i * P + k]));
        let rows: [&[f64]; P] = std::array::from_fn(|k| rows[k]);
        let (noise, floor) = (self.entropy_noise, self.min_variance);
        let len = product.len();
        let whole = len - len % LANES;
        for c in (0..whole).step_by(LANES) {
            let g: [[f64; LANES]; P] = std::array::from_fn(|k| std::array::from_fn(|n| rows[k][c + n]));
            let q = whitened_norms(&w, &g);
            for n in 0..LANES {
                product[c + n] *= (var[c + n] - q[n] + noise).max(floor);
            }
        }
        for c in whole..len {
            let g: [[f64; 1]; P] = std::array::from_fn(|k| [rows[k][c]]);
            let [q] = whitened_norms(&w, &g);
            product[c] *= (var[c] - q + noise).max(floor);
        }
    }

    /// [`MutualInformation::multiply_conditional_variances`] for any number of points per
    /// path: the whitening `W_l g` as long multiply-adds over the candidates, row by row.
    fn multiply_conditional_variances_by_rows(&self, l: usize, rows: &[&[f64]], var: &[f64], product: &mut [f64]) {
        let per = self.per_path;
        let w = &self.whiteners[l * per * per..(l + 1) * per * per];
        let (mut q, mut y) = (vec![0.0; product.len()], vec![0.0; product.len()]);
        for i in 0..per {
            y.fill(0.0);
            for (wik, row) in w[i * per..i * per + i + 1].iter().zip(rows) {
                for (yc, g) in y.iter_mut().zip(*row) {
                    *yc += wik * g;
                }
            }
            for (qc, yc) in q.iter_mut().zip(&y) {
                *qc += yc * yc;
            }
        }
        for ((p, v), qc) in product.iter_mut().zip(var).zip(&q) {
            *p *= (v - qc + self.entropy_noise).max(self.min_variance);
        }
    }

    /// α of a candidate from its variance `σ_D²(c)` and `Σ_l log σ_l²(c)`.
    #[inline]
    fn alpha(&self, var: f64, log_conditioned: f64) -> f64 {
        let log_prior = (var + self.entropy_noise).max(self.min_variance).ln();
        let alpha = 0.5 / self.n_paths as f64 * (self.n_paths as f64 * log_prior - log_conditioned);
        if alpha.is_nan() { f64::NEG_INFINITY } else { alpha.max(0.0) }
    }

    /// Posterior variances at the candidates before (`M_c`) and after conditioning on each
    /// path (`M_c×L`, row-major), unclamped. For tests and diagnostics.
    pub fn conditional_variances(&self, candidates: &[f64]) -> Result<(Vec<f64>, Vec<f64>), SurrogateError> {
        let (cross, var) = self.cross_and_variance(candidates)?;
        let m = self.n_support();
        let mut out = vec![0.0; var.len() * self.n_paths];
        out.par_chunks_mut(self.n_paths.max(1)).enumerate().for_each(|(c, row)| {
            for (l, o) in row.iter_mut().enumerate() {
                *o = var[c] - self.reduction(&cross[c * m..(c + 1) * m], l);
            }
        });
        Ok((var, out))
    }

    /// `Σ(C, Z)` (`M_c×M`) and `σ_D²(C)` for arbitrary candidates.
    fn cross_and_variance(&self, candidates: &[f64]) -> Result<(Vec<f64>, Vec<f64>), SurrogateError> {
        if self.dim == 0 || !candidates.len().is_multiple_of(self.dim) {
            return Err(SurrogateError::InvalidData(format!(
                "candidates hold {} values, not a multiple of d = {}",
                candidates.len(),
                self.dim
            )));
        }
        let cross = self.model.posterior_covariance(candidates, &self.support)?;
        let var = self.model.predict(candidates)?.variance;
        Ok((cross, var))
    }

    /// `‖L_S⁻¹ g‖²` for path `l`, with `g` taken from the candidate's row of `Σ(C, Z)`.
    #[inline]
    fn reduction(&self, cross_row: &[f64], l: usize) -> f64 {
        let per = self.per_path;
        let g = &cross_row[l * per..(l + 1) * per];
        let w = &self.whiteners[l * per * per..(l + 1) * per * per];
        let mut q = 0.0;
        for i in 0..per {
            let y: f64 = w[i * per..i * per + i + 1].iter().zip(g).map(|(a, b)| a * b).sum();
            q += y * y;
        }
        q
    }

    /// The whole `M×M` matrix `Σ(Z, Z)` in one model call: the dense reference of the
    /// blocked [`MutualInformation::values_at_support`] in tests.
    #[cfg(test)]
    fn dense_support_covariance(&self) -> Vec<f64> {
        self.model.posterior_covariance(&self.support, &self.support).expect("covariance")
    }

    /// α from `Σ(C, Z)` rows and `σ_D²(C)`.
    ///
    /// `Σ_l log σ_l²` is accumulated as logarithms of products of [`LOG_GROUP`] consecutive
    /// paths (one `ln` per group instead of per path); the grouping is fixed, so the result is
    /// the same for any thread count. Rounding can make a mathematically zero α slightly
    /// negative; it is clamped at 0 (α ≥ 0 exactly, §10.4).
    fn values_from(&self, cross: &[f64], var: &[f64]) -> Vec<f64> {
        let m = self.n_support();
        let (noise, floor) = (self.entropy_noise, self.min_variance);
        let group = if floor >= MIN_GROUPED_VARIANCE { LOG_GROUP } else { 1 };
        (0..var.len())
            .into_par_iter()
            .map(|c| {
                let row = &cross[c * m..(c + 1) * m];
                let mut log_conditioned = 0.0;
                let mut product = 1.0;
                for l in 0..self.n_paths {
                    product *= (var[c] - self.reduction(row, l) + noise).max(floor);
                    if (l + 1) % group == 0 {
                        log_conditioned += product.ln();
                        product = 1.0;
                    }
                }
                log_conditioned += product.ln();
                self.alpha(var[c], log_conditioned)
            })
            .collect()
    }
}

/// Support points per block (rounded down to whole paths) in
/// [`MutualInformation::values_at_support`]: a step holds `M × 256` covariances (16 MB at
/// `M = 8000`). Each value is computed alone, so the blocks do not change it.
const CANDIDATE_BLOCK: usize = 256;
/// Candidates per parallel task within the newest block of a step.
const CANDIDATE_SUBBLOCK: usize = 64;
/// Paths whose conditional variances are multiplied before one logarithm.
const LOG_GROUP: usize = 8;
/// Smallest `min_variance` for which products of [`LOG_GROUP`] clamped variances cannot
/// underflow (`(1e-30)^8 = 1e-240`); below it every path gets its own logarithm.
const MIN_GROUPED_VARIANCE: f64 = 1e-30;

/// Candidates per vectorized step of [`MutualInformation::values_at_support`] (one AVX2 vector).
const LANES: usize = 4;

/// `‖W g_n‖² = Σ_i (Σ_{k≤i} W_ik g_kn)²` for `N` candidates at once (`g[k][n]`, `W` lower
/// triangular `P×P`), each in the order of [`MutualInformation::reduction`].
#[inline(always)]
fn whitened_norms<const P: usize, const N: usize>(w: &[[f64; P]; P], g: &[[f64; N]; P]) -> [f64; N] {
    let mut q = [0.0; N];
    for (i, wi) in w.iter().enumerate() {
        let mut y = [0.0; N];
        for (wik, gk) in wi[..=i].iter().zip(g) {
            for (yn, gkn) in y.iter_mut().zip(gk) {
                *yn += wik * gkn;
            }
        }
        for (qn, yn) in q.iter_mut().zip(&y) {
            *qn += yn * yn;
        }
    }
    q
}

/// The row-major `rows×cols` matrix `a` transposed (row-major `cols×rows`).
fn transpose(a: &[f64], rows: usize, cols: usize) -> Vec<f64> {
    let mut out = vec![0.0; a.len()];
    for (r, row) in a.chunks_exact(cols.max(1)).enumerate().take(rows) {
        for (c, v) in row.iter().enumerate() {
            out[c * rows + r] = *v;
        }
    }
    out
}

/// Adds the logarithms of a group's products to `log` and restarts the products.
fn take_logarithms(product: &mut [f64], log: &mut [f64]) {
    for (lc, p) in log.iter_mut().zip(product.iter_mut()) {
        *lc += p.ln();
        *p = 1.0;
    }
}

impl Acquisition for MutualInformation<'_> {
    fn values(&self, candidates: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        if candidates == self.support.as_slice() {
            return Ok(self.values_at_support());
        }
        let (cross, var) = self.cross_and_variance(candidates)?;
        Ok(self.values_from(&cross, &var))
    }

    fn candidates(&self) -> &[f64] {
        &self.support
    }

    fn values_at_candidates(&self) -> Result<Vec<f64>, SurrogateError> {
        Ok(self.values_at_support())
    }

    fn candidate_path(&self, index: usize) -> Option<usize> {
        Some(index / self.per_path.max(1))
    }

    fn diagnostics(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("covariance_seconds".to_owned(), self.covariance_seconds().into());
        if self.model.n_pending() > 0 {
            out.insert("pending_conditioned".to_owned(), self.model.n_pending().into());
        }
        out
    }
}

/// Parameters of the `mutual_information` acquisition (`strategy.params.acquisition.params`).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MutualInformationParams {
    /// Entropy of the latent value (reference) or of the noisy observation (paper, BoTorch).
    pub entropy_of: EntropyOf,
    /// Lower clamp of variances before the logarithm.
    pub min_variance: f64,
    /// Noise variance of the virtual observations; absent = the model's noise variance.
    pub virtual_noise: Option<f64>,
}

impl Default for MutualInformationParams {
    fn default() -> Self {
        Self { entropy_of: EntropyOf::Latent, min_variance: DEFAULT_MIN_VARIANCE, virtual_noise: None }
    }
}

impl PluginParams for MutualInformationParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(self.min_variance.is_finite() && self.min_variance > 0.0) {
            return Err(ParamError::invalid("min_variance", self.min_variance, "a finite number > 0"));
        }
        if let Some(v) = self.virtual_noise
            && !(v.is_finite() && v >= 0.0)
        {
            return Err(ParamError::invalid("virtual_noise", v, "a finite variance ≥ 0, or absent"));
        }
        Ok(())
    }
}

/// The registered `mutual_information` acquisition: builds a [`MutualInformation`] over all
/// support points each iteration, conditioned on the pending points.
#[derive(Clone, Debug, PartialEq)]
pub struct MutualInformationAcquisition {
    /// Its settings.
    pub settings: AcquisitionSettings,
}

impl SequenceAcquisition for MutualInformationAcquisition {
    fn build<'a>(&self, ctx: &AcquisitionContext<'a>) -> Result<Box<dyn Acquisition + 'a>, SurrogateError> {
        Ok(Box::new(MutualInformation::with_pending(
            ctx.surrogate,
            &ctx.sequences.support,
            ctx.pending,
            self.settings,
        )?))
    }
}

fn build_mutual_information(
    params: &Params,
    _ctx: &BuildContext,
) -> Result<Built<dyn SequenceAcquisition>, PluginError> {
    let p: MutualInformationParams = params.parse()?;
    let settings =
        AcquisitionSettings { entropy_of: p.entropy_of, min_variance: p.min_variance, virtual_noise: p.virtual_noise };
    Ok(Built::new(Box::new(MutualInformationAcquisition { settings }), &p))
}

inventory::submit! {
    AcquisitionEntry {
        name: "mutual_information",
        summary: "LES's acquisition: information about the descent sequences, conditioned on each path's support points",
        details: concat!(
            "\
The mutual information between an observation at x and the descent sequence, estimated over the L \
sampled sequences: alpha(x) = 1/(2L) sum_l [log var_D(x) - log var_l(x)], var_l conditioning on path \
l's P support points as virtual observations (exact, via Schur complements from the posterior \
covariance of the M = L*P support points, computed in tiles, never all M x M at once). Candidates: all support points. Pending points \
(evaluations in flight) are conditioned on as observations without values (exact: the variances \
depend on locations only).\n\n",
            include_str!("../params/mutual_information.md"),
            "\nReference: Stenger, Lindicke, von Rohr, Trimpe, Local Entropy Search over Descent Sequences for \
Bayesian Optimization, ICLR 2026; docs/les-algorithm.md section 10."
        ),
        default_params: defaults_of::<MutualInformationParams>,
        build: build_mutual_information,
    }
}

/// Index of the largest value, the first one on ties; `None` when every value is `−∞` or NaN.
pub fn argmax(values: &[f64]) -> Option<usize> {
    let mut best: Option<usize> = None;
    for (i, &v) in values.iter().enumerate() {
        if v.is_nan() || v == f64::NEG_INFINITY {
            continue;
        }
        if best.is_none_or(|b| v > values[b]) {
            best = Some(i);
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::{Dataset, stream_rng};
    use les_gp::testing::DenseGp;
    use rand::RngExt;

    fn uniform(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = stream_rng(seed, "test-points", 0);
        (0..n).map(|_| rng.random::<f64>()).collect()
    }

    /// A fitted GP on 6 points in 2-D and 3 paths × 4 support points.
    fn setup(noise: f64) -> (DenseGp, SupportPoints) {
        let d = 2;
        let x = uniform(6 * d, 1);
        let y: Vec<f64> = x.chunks(d).map(|p| (3.0 * p[0]).sin() + p[1]).collect();
        let mut gp = DenseGp::new(vec![0.3, 0.5], 1.3, noise);
        gp.fit(&Dataset::from_rows(d, x, y), &mut stream_rng(0, "fit", 0)).expect("fits");
        let support =
            SupportPoints { n_paths: 3, per_path: 4, dim: d, points: uniform(3 * 4 * d, 2), values: uniform(12, 3) };
        (gp, support)
    }

    #[test]
    fn schur_conditional_variance_equals_refit_on_augmented_data() {
        let (gp, support) = setup(1e-3);
        let mi = MutualInformation::new(&gp, &support, AcquisitionSettings::default()).expect("builds");
        let mut candidates = uniform(5 * 2, 4);
        candidates.extend_from_slice(&support.points[..4]);
        let (prior, conditioned) = mi.conditional_variances(&candidates).expect("variances");
        let direct = gp.predict(&candidates).expect("predicts").variance;
        for (a, b) in prior.iter().zip(&direct) {
            assert!((a - b).abs() < 1e-12);
        }
        let data_x = uniform(6 * 2, 1); // the fixture's training inputs (same seed as `setup`)
        for l in 0..3 {
            // Refit on D ∪ Z_l with the same noise (values arbitrary: variances ignore them).
            let mut x = data_x.clone();
            x.extend_from_slice(support.of_path(l));
            let n = x.len() / 2;
            let y: Vec<f64> = (0..n).map(|i| i as f64).collect();
            let mut refit = DenseGp::new(gp.lengthscales.clone(), gp.signal_variance, gp.noise_variance);
            refit.fit(&Dataset::from_rows(2, x, y), &mut stream_rng(0, "fit", 0)).expect("fits");
            let expect = refit.predict(&candidates).expect("predicts").variance;
            for (c, e) in expect.iter().enumerate() {
                let got = conditioned[c * 3 + l];
                assert!((got - e).abs() < 1e-10 * (1.0 + e.abs()), "path {l} candidate {c}: {got} vs {e}");
            }
        }
    }

    /// With pending points, the conditional variances equal those of a dense GP refitted on
    /// `D ∪ pending ∪ Z_l`, and the acquisition at a pending point and near it drops.
    #[test]
    fn pending_points_are_conditioned_on_exactly_and_lower_the_acquisition_there() {
        let (gp, support) = setup(1e-3);
        let plain = MutualInformation::new(&gp, &support, AcquisitionSettings::default()).expect("builds");
        let alpha = plain.values_at_support();
        let best = argmax(&alpha).expect("a maximum");
        let x_p = support.points[best * 2..best * 2 + 2].to_vec();
        let far = vec![0.97, 0.03];
        let pending = vec![x_p.clone(), far.clone()];
        let mi =
            MutualInformation::with_pending(&gp, &support, &pending, AcquisitionSettings::default()).expect("builds");
        assert_eq!(mi.diagnostics()["pending_conditioned"], 2);

        // Dense check: refit on D ∪ pending ∪ Z_l (values arbitrary).
        let near = vec![x_p[0] + 0.01, x_p[1] - 0.01];
        let mut candidates = uniform(4 * 2, 5);
        candidates.extend_from_slice(&x_p);
        candidates.extend_from_slice(&near);
        let (prior, conditioned) = mi.conditional_variances(&candidates).expect("variances");
        let data_x = uniform(6 * 2, 1);
        let refit = |extra: &[f64]| {
            let mut x = data_x.clone();
            x.extend(pending.iter().flatten());
            x.extend_from_slice(extra);
            let y: Vec<f64> = (0..x.len() / 2).map(|i| (i as f64).sin()).collect();
            let mut g = DenseGp::new(gp.lengthscales.clone(), gp.signal_variance, gp.noise_variance);
            g.fit(&Dataset::from_rows(2, x, y), &mut stream_rng(0, "fit", 0)).expect("fits");
            g.predict(&candidates).expect("predicts").variance
        };
        for (a, b) in prior.iter().zip(refit(&[])) {
            assert!((a - b).abs() < 1e-10, "{a} vs {b}");
        }
        for l in 0..3 {
            for (c, e) in refit(support.of_path(l)).iter().enumerate() {
                let got = conditioned[c * 3 + l];
                assert!((got - e).abs() < 1e-10 * (1.0 + e.abs()), "path {l} candidate {c}: {got} vs {e}");
            }
        }

        // The acquisition at the pending point and near it drops; the argmax moves elsewhere.
        let before = plain.values(&candidates).expect("values");
        let after = mi.values(&candidates).expect("values");
        let (at, next) = (candidates.len() / 2 - 2, candidates.len() / 2 - 1);
        assert!(after[at] < 0.5 * before[at], "at x_p: {} → {}", before[at], after[at]);
        assert!(after[next] < 0.5 * before[next], "near x_p: {} → {}", before[next], after[next]);
        let moved = argmax(&mi.values_at_support()).expect("a maximum");
        assert_ne!(support.points[moved * 2..moved * 2 + 2], x_p[..], "the next point is not the pending one");
    }

    #[test]
    fn alpha_is_nonnegative_and_ignores_observed_and_virtual_values() {
        let (gp, support) = setup(1e-4);
        let mi = MutualInformation::new(&gp, &support, AcquisitionSettings::default()).expect("builds");
        let mut candidates = support.points.clone();
        candidates.extend(uniform(20 * 2, 9));
        let alpha = mi.values(&candidates).expect("values");
        assert!(alpha.iter().all(|&a| a >= 0.0), "{alpha:?}");
        assert!(alpha.iter().any(|&a| a > 0.1), "conditioning on nearby points must reduce variance");

        // Other observed values, other virtual values: same α.
        let x = uniform(6 * 2, 1);
        let y: Vec<f64> = (0..6).map(|i| 10.0 * i as f64 - 7.0).collect();
        let mut other = DenseGp::new(gp.lengthscales.clone(), gp.signal_variance, gp.noise_variance);
        other.fit(&Dataset::from_rows(2, x, y), &mut stream_rng(0, "fit", 0)).expect("fits");
        let mut moved = support.clone();
        moved.values.iter_mut().for_each(|v| *v = -*v * 5.0 + 1.0);
        let mi2 = MutualInformation::new(&other, &moved, AcquisitionSettings::default()).expect("builds");
        assert_eq!(mi2.values(&candidates).expect("values"), alpha);
    }

    #[test]
    fn support_shortcut_matches_generic_path_and_observation_entropy_is_smaller() {
        let (gp, support) = setup(1e-3);
        let mi = MutualInformation::new(&gp, &support, AcquisitionSettings::default()).expect("builds");
        let at_support = mi.values_at_support();
        let mut extended = support.points.clone();
        extended.extend_from_slice(&[0.5, 0.5]);
        let generic = mi.values(&extended).expect("values");
        for (a, b) in at_support.iter().zip(&generic) {
            assert!((a - b).abs() < 1e-9 * (1.0 + a.abs()), "{a} vs {b}");
        }
        let obs = MutualInformation::new(
            &gp,
            &support,
            AcquisitionSettings { entropy_of: EntropyOf::Observation, ..AcquisitionSettings::default() },
        )
        .expect("builds");
        for (o, l) in obs.values_at_support().iter().zip(&at_support) {
            assert!(*o >= 0.0 && o <= &(l + 1e-12), "observation {o} vs latent {l}");
        }
    }

    #[test]
    fn support_loop_order_gives_the_same_bits_as_the_candidate_loop() {
        for noise in [1e-3, 1e-6] {
            let (gp, _) = setup(noise);
            // 320 points: two candidate blocks (one partial) and several log groups; 8 and 16
            // points per path take the unrolled loop, 5 the loop over rows.
            for (n_paths, per_path) in [(40, 8), (64, 5), (20, 16)] {
                let support =
                    SupportPoints { n_paths, per_path, dim: 2, points: uniform(320 * 2, 7), values: vec![0.0; 320] };
                for entropy_of in [EntropyOf::Latent, EntropyOf::Observation] {
                    let settings = AcquisitionSettings { entropy_of, ..AcquisitionSettings::default() };
                    let mi = MutualInformation::new(&gp, &support, settings).expect("builds");
                    let m = mi.n_support();
                    let cov_support = mi.dense_support_covariance();
                    let var: Vec<f64> = (0..m).map(|c| cov_support[c * m + c]).collect();
                    let reference = mi.values_from(&cov_support, &var);
                    let fast = mi.values_at_support();
                    assert!(
                        fast.iter().zip(&reference).all(|(a, b)| a.to_bits() == b.to_bits()),
                        "{entropy_of:?}, noise {noise}, P = {per_path}"
                    );
                }
            }
        }
    }

    /// The blocked α of an exact GP, with and without pending points, has the bits of α from
    /// the dense `Σ(Z, Z)` of one model call: for whole and partial blocks, a last block of
    /// fewer than 5 points, paths of 4, 5, 8 and 16 points, on one and on three threads.
    #[test]
    fn blocked_support_values_have_the_bits_of_the_dense_covariance() {
        use les_core::registry::BuildContext;
        let d = 3;
        let x = uniform(30 * d, 11);
        let y: Vec<f64> = x.chunks(d).map(|p| (4.0 * p[0]).sin() + p[1] * p[2]).collect();
        let params = Params::new(
            serde_json::json!({ "hyperparameters": { "fixed": { "lengthscales": [0.4], "signal_variance": 1.5 } } }),
            "surrogate.params",
        );
        let (mut gp, _) =
            les_gp::ExactGp::from_params(&params, &BuildContext { dim: d, oracle: None, seed: 1 }).expect("gp");
        gp.fit(&Dataset::from_rows(d, x, y), &mut stream_rng(0, "fit", 0)).expect("fits");
        let pending = [vec![0.2, 0.4, 0.6], vec![0.9, 0.1, 0.5]];
        // M = 520, 520, 640 and 336: partial blocks, and no tile of the dense matrix narrower
        // than 6 (where the dense matrix rounds differently, see the module docs).
        for (n_paths, per_path) in [(130, 4), (104, 5), (80, 8), (21, 16)] {
            let m = n_paths * per_path;
            let support = SupportPoints { n_paths, per_path, dim: d, points: uniform(m * d, 12), values: vec![0.0; m] };
            for pending in [&[][..], &pending[..]] {
                let settings = AcquisitionSettings::default();
                let mi = MutualInformation::with_pending(&gp, &support, pending, settings).expect("builds");
                let dense = mi.dense_support_covariance();
                let var: Vec<f64> = (0..m).map(|c| dense[c * m + c]).collect();
                let reference = mi.values_from(&dense, &var);
                assert!(reference.iter().any(|&a| a > 0.01), "a case where the values are not all zero");
                for threads in [1, 3] {
                    let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
                    let blocked = pool.install(|| mi.values_at_support());
                    let differ = blocked.iter().zip(&reference).filter(|(a, b)| a.to_bits() != b.to_bits()).count();
                    assert_eq!(differ, 0, "P = {per_path}, {} pending, {threads} threads", pending.len());
                }
            }
        }
    }

    #[test]
    fn deterministic_across_thread_counts() {
        let (gp, support) = setup(1e-4);
        let run = |threads| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool").install(|| {
                let mi = MutualInformation::new(&gp, &support, AcquisitionSettings::default()).expect("builds");
                mi.values_at_support()
            })
        };
        let one = run(1);
        assert_eq!(one, run(2));
        assert_eq!(one, run(3));
    }

    #[test]
    fn grouped_logarithms_match_one_logarithm_per_path() {
        let (gp, support) = setup(1e-4);
        let grouped = MutualInformation::new(&gp, &support, AcquisitionSettings::default()).expect("builds");
        let single = MutualInformation::new(
            &gp,
            &support,
            AcquisitionSettings { min_variance: 1e-300, ..AcquisitionSettings::default() },
        )
        .expect("builds");
        for (a, b) in grouped.values_at_support().iter().zip(single.values_at_support()) {
            assert!((a - b).abs() < 1e-12 * (1.0 + a.abs()), "{a} vs {b}");
        }
    }

    #[test]
    fn argmax_takes_first_maximum_and_skips_nan() {
        assert_eq!(argmax(&[1.0, f64::NAN, 3.0, 3.0, f64::NEG_INFINITY]), Some(2));
        assert_eq!(argmax(&[f64::NAN, f64::NEG_INFINITY]), None);
    }
}

//! Conditioning on virtual observations without refitting, by the Schur complement
//! (docs/les-algorithm.md §10.3).
//!
//! Given the posterior `p(f | D)` with Cholesky factor `Lc` of `K_XX + σ_n² I`, and `M`
//! candidates `C`:
//!
//! 1. `A_C = Lc⁻¹ K_{X,C}` (`n×M`, one blocked triangular solve) and
//!    `σ_D²(c) = σ_f² − ‖A_c‖²` — done once in [`crate::GpPosterior::condition_candidates`];
//! 2. for a set `Z ⊂ C` of `P` candidates (given by column indices):
//!    `G = K_{C,Z} − A_Cᵀ A_Z` (`M×P`, the posterior cross-covariance),
//!    `S = K_{Z,Z} − A_Zᵀ A_Z + σ_v² I` (`P×P`),
//!    `σ²(c | D ∪ Z) = σ_D²(c) − g_cᵀ S⁻¹ g_c`.
//!
//! This is exactly the latent variance of a GP refitted on `D ∪ {(z, v_z)}` with noise `σ_v²`
//! on the virtual observations (the values `v_z` do not matter), at cost
//! `O(M·P·(n + P))` per set instead of `O((n+P)³ + M (n+P)²)`.
//!
//! For LES (`L` sets `Z_l` of `P` support points each, `C` = all `M = L·P` support points),
//! [`CandidateConditioning::conditional_variances_batch`] first forms the whole posterior
//! covariance `Σ_C = K_{C,C} − A_Cᵀ A_C` (`M×M`, one parallel GEMM), then each set only reads
//! its `P` columns: `O(n M² + L·M·P²)` in total.

use les_core::SurrogateError;
use nalgebra::{DMatrix, DMatrixViewMut};
use rayon::prelude::*;

use crate::kernel::Kernel;
use crate::linalg::gemm_tn;
use crate::posterior::GpPosterior;
use les_numerics::cholesky::cholesky_with_jitter;
use les_numerics::triangular::solve_lower_in_place;

/// Output columns per parallel task in the `Σ_C` GEMM.
const COL_BLOCK: usize = 64;

/// Candidates prepared for conditioning on virtual observations (see the module docs).
#[derive(Clone, Debug)]
pub struct CandidateConditioning {
    kernel: Kernel,
    candidates: Vec<f64>,
    /// `Lc⁻¹ K_{X,C}`, `n×M`.
    whitened: DMatrix<f64>,
    /// `σ_D²(c)`, `M`.
    variances: Vec<f64>,
    /// `Lc` of the base posterior (to whiten points outside `C`).
    base: GpPosterior,
}

impl CandidateConditioning {
    /// Prepares `candidates` (`M×d`) under `posterior`.
    pub(crate) fn new(posterior: &GpPosterior, candidates: &[f64]) -> Self {
        let kernel = posterior.kernel().clone();
        let whitened = posterior.whitened_cross(candidates);
        let s2 = kernel.prior_variance();
        let variances = if posterior.n() == 0 {
            vec![s2; candidates.len() / kernel.dim()]
        } else {
            whitened.column_iter().map(|c| (s2 - c.norm_squared()).max(0.0)).collect()
        };
        Self { kernel, candidates: candidates.to_vec(), whitened, variances, base: posterior.clone() }
    }

    /// Number of candidates `M`.
    pub fn n_candidates(&self) -> usize {
        self.variances.len()
    }

    /// Candidates, `M×d` row-major.
    pub fn candidates(&self) -> &[f64] {
        &self.candidates
    }

    /// `A_C = Lc⁻¹ K_{X,C}`, `n×M`.
    pub fn whitened(&self) -> &DMatrix<f64> {
        &self.whitened
    }

    /// Latent posterior variances `σ_D²(c)` given the data only, `M`.
    pub fn variances(&self) -> &[f64] {
        &self.variances
    }

    fn candidate(&self, i: usize) -> &[f64] {
        let d = self.kernel.dim();
        &self.candidates[i * d..(i + 1) * d]
    }

    fn check_indices(&self, z: &[usize]) -> Result<(), SurrogateError> {
        match z.iter().find(|&&i| i >= self.n_candidates()) {
            Some(i) => Err(SurrogateError::InvalidData(format!(
                "candidate index {i} is out of range: there are {} candidates",
                self.n_candidates()
            ))),
            None => Ok(()),
        }
    }

    /// Posterior cross-covariance `G = K_{C,Z} − A_Cᵀ A_Z` between all candidates and the
    /// candidates with indices `z` (`P`), `M×P`.
    pub fn cross_covariance(&self, z: &[usize]) -> Result<DMatrix<f64>, SurrogateError> {
        self.check_indices(z)?;
        let m = self.n_candidates();
        let mut g = DMatrix::from_fn(m, z.len(), |i, p| self.kernel.eval(self.candidate(i), self.candidate(z[p])));
        if self.whitened.nrows() > 0 {
            let az = self.whitened.select_columns(z);
            gemm_tn(&mut g, -1.0, &self.whitened, &az, 1.0);
        }
        Ok(g)
    }

    /// The full posterior covariance `Σ_C = K_{C,C} − A_Cᵀ A_C` of the candidates, `M×M`
    /// (parallel GEMM over fixed column blocks).
    pub fn covariance_full(&self) -> DMatrix<f64> {
        let m = self.n_candidates();
        let mut out = self.kernel.gram(&self.candidates);
        if self.whitened.nrows() > 0 && m > 0 {
            let a = &self.whitened;
            let a_t = a.transpose();
            out.as_mut_slice().par_chunks_mut(m * COL_BLOCK).enumerate().for_each(|(blk, chunk)| {
                let cols = chunk.len() / m;
                let mut view = DMatrixViewMut::from_slice(chunk, m, cols);
                let ab = a.columns(blk * COL_BLOCK, cols);
                view.gemm(-1.0, &a_t, &ab, 1.0);
            });
        }
        out
    }

    /// `σ²(c | D ∪ Z)` for every candidate `c` (`M`), where `Z` are the candidates with
    /// indices `z`, observed with noise variance `virtual_noise` (model scale).
    pub fn conditional_variances(&self, z: &[usize], virtual_noise: f64) -> Result<Vec<f64>, SurrogateError> {
        let g = self.cross_covariance(z)?;
        let s = g.select_rows(z);
        self.reduce(&g, s, virtual_noise)
    }

    /// `σ²(c | D ∪ Z_l)` for `L` sets at once: `sets` is `L×P` row-major candidate indices
    /// (`sets.len() = L·P`), the result is `L×M` row-major (row `l` for set `l`). Parallel over
    /// sets; uses [`Self::covariance_full`] once.
    pub fn conditional_variances_batch(
        &self,
        sets: &[usize],
        p: usize,
        virtual_noise: f64,
    ) -> Result<Vec<f64>, SurrogateError> {
        if p == 0 || !sets.len().is_multiple_of(p) {
            return Err(SurrogateError::InvalidData(format!(
                "{} indices are not a whole number of sets of {p} points",
                sets.len()
            )));
        }
        self.check_indices(sets)?;
        let full = self.covariance_full();
        self.conditional_variances_batch_with(&full, sets, p, virtual_noise)
    }

    /// As [`Self::conditional_variances_batch`] with a precomputed `Σ_C` (from
    /// [`Self::covariance_full`]), for callers that reuse it.
    pub fn conditional_variances_batch_with(
        &self,
        full: &DMatrix<f64>,
        sets: &[usize],
        p: usize,
        virtual_noise: f64,
    ) -> Result<Vec<f64>, SurrogateError> {
        let m = self.n_candidates();
        if p == 0 || !sets.len().is_multiple_of(p) {
            return Err(SurrogateError::InvalidData(format!(
                "{} indices are not a whole number of sets of {p} points",
                sets.len()
            )));
        }
        self.check_indices(sets)?;
        let n_sets = sets.len() / p;
        let mut out = vec![0.0; n_sets * m];
        out.par_chunks_mut(m.max(1)).zip(sets.par_chunks(p)).try_for_each(|(row, z)| {
            let g = full.select_columns(z);
            let s = g.select_rows(z);
            let v = self.reduce(&g, s, virtual_noise)?;
            row.copy_from_slice(&v);
            Ok::<(), SurrogateError>(())
        })?;
        Ok(out)
    }

    /// `σ²(c | D ∪ Z)` for points `z` (`P×d`) that need not be candidates.
    pub fn conditional_variances_at_points(&self, z: &[f64], virtual_noise: f64) -> Result<Vec<f64>, SurrogateError> {
        let g = self.kernel.matrix(&self.candidates, z);
        let mut g = g;
        let mut s = self.kernel.gram(z);
        if self.base.n() > 0 {
            let az = self.base.whitened_cross(z);
            gemm_tn(&mut g, -1.0, &self.whitened, &az, 1.0);
            gemm_tn(&mut s, -1.0, &az, &az, 1.0);
        }
        self.reduce(&g, s, virtual_noise)
    }

    /// `σ_D²(c) − g_cᵀ (S + σ_v² I)⁻¹ g_c` for all rows `g_c` of `g` (`M×P`).
    fn reduce(&self, g: &DMatrix<f64>, mut s: DMatrix<f64>, virtual_noise: f64) -> Result<Vec<f64>, SurrogateError> {
        for i in 0..s.nrows() {
            s[(i, i)] += virtual_noise;
        }
        let ls = cholesky_with_jitter(s)?.l;
        let mut w = g.transpose();
        solve_lower_in_place(&ls, &mut w);
        Ok(w.column_iter().zip(&self.variances).map(|(c, v)| (v - c.norm_squared()).max(0.0)).collect())
    }
}

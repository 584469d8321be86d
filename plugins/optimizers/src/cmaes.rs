//! CMA-ES on every sample path: one independent (μ/μ_w, λ)-CMA-ES per path, all paths'
//! offspring evaluated together.
//!
//! Settings as in Hansen's "purecma" tutorial (spec §8.2, ablation `lesCMAES_20_8` of
//! Stenger et al., *Local Entropy Search over Descent Sequences for Bayesian Optimization*,
//! ICLR 2026; Hansen, *The CMA Evolution Strategy: A Tutorial*, 2016):
//! `λ = 4 + ⌊3 ln d⌋`, `μ = ⌊λ/2⌋`, weights `w_i ∝ ln(μ + ½) − ln i`, and the usual
//! `c_c, c_σ, c_1, c_μ, d_σ`. Every path starts with mean `z_0` and step size `σ0`.
//!
//! Box handling as in the reference: an offspring is evaluated on the path where it lies (paths
//! are defined everywhere) plus a penalty of 100 per coordinate outside `[0, 1]`. The recorded
//! sequence is the mean after each generation clipped to the cube, with the path value at that
//! clipped mean: `generations + 1` records (`z_0` included).
//!
//! Differences from the reference: `h_σ` is computed every generation (the reference sets it
//! once and never resets it) and there is no flat-fitness check (the reference's used unsorted
//! values). The eigendecomposition of `C` is refreshed every generation.
//!
//! Randomness: every path's CMA-ES draws from its own child stream of the call's stream
//! ([`InnerOptimizer::descend`]'s `rng`, derived from the run's seed and the iteration), the
//! children taken in path order before any work is split between threads: a call is
//! reproducible and resumable, and its offspring do not depend on the thread count.
//!
#![doc = include_str!("../params/cmaes.md")]
//!
//! ```yaml
//! inner_optimizer: { name: cmaes, params: { sigma0: 0.5, generations: 50 } }
//! ```

use les_core::registry::{BuildContext, Built, InnerOptimizerEntry, PluginError};
use les_core::rng::child_rng;
use les_core::{
    DescentSequences, InnerOptimizer, OptimizerError, ParamError, Params, PathBatch, PluginParams, StreamRng,
};
use nalgebra::{DMatrix, DVector, SymmetricEigen};
use rand::RngExt;
use rand_distr::StandardNormal;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::check_start;
use crate::history::{Recorder, max_row_distance, project_unit, replicate_start};

/// Default initial step size σ0.
pub const DEFAULT_SIGMA0: f64 = 0.5;
/// Default number of generations.
pub const DEFAULT_GENERATIONS: usize = 50;
/// Penalty added to the path value per coordinate outside `[0, 1]`.
pub const BOX_PENALTY: f64 = 100.0;

/// Parameters of [`Cmaes`].
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CmaesParams {
    /// Initial step size σ0 (unit-cube coordinates).
    pub sigma0: f64,
    /// Number of generations.
    pub generations: usize,
    /// Offspring per generation λ; absent = `4 + ⌊3 ln d⌋`.
    pub population: Option<usize>,
    /// Early stop: end once no path's clipped mean moved farther than this in one generation.
    pub stop_tol: Option<f64>,
}

impl Default for CmaesParams {
    fn default() -> Self {
        Self { sigma0: DEFAULT_SIGMA0, generations: DEFAULT_GENERATIONS, population: None, stop_tol: None }
    }
}

impl PluginParams for CmaesParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(self.sigma0.is_finite() && self.sigma0 > 0.0) {
            return Err(ParamError::invalid("sigma0", self.sigma0, "a finite number > 0"));
        }
        if self.generations == 0 {
            return Err(ParamError::invalid("generations", self.generations, "at least 1"));
        }
        if let Some(lambda) = self.population
            && lambda < 2
        {
            return Err(ParamError::invalid("population", lambda, "at least 2 (or absent for 4 + ⌊3 ln d⌋)"));
        }
        if let Some(tol) = self.stop_tol
            && !(tol.is_finite() && tol >= 0.0)
        {
            return Err(ParamError::invalid("stop_tol", tol, "a finite number ≥ 0, or absent"));
        }
        Ok(())
    }
}

/// Strategy constants of CMA-ES for dimension `d` and population `λ` (purecma settings).
#[derive(Clone, Debug, PartialEq)]
pub struct CmaConstants {
    /// Population λ.
    pub lambda: usize,
    /// Parents μ.
    pub mu: usize,
    /// Recombination weights, `μ` values summing to 1.
    pub weights: Vec<f64>,
    /// Variance-effective selection mass.
    pub mu_eff: f64,
    /// Cumulation constant of the rank-one path.
    pub cc: f64,
    /// Cumulation constant of the step-size path.
    pub cs: f64,
    /// Rank-one learning rate.
    pub c1: f64,
    /// Rank-μ learning rate.
    pub cmu: f64,
    /// Step-size damping.
    pub damps: f64,
}

impl CmaConstants {
    /// The standard constants; `population = None` gives `λ = 4 + ⌊3 ln d⌋`.
    pub fn new(dim: usize, population: Option<usize>) -> Self {
        let n = dim as f64;
        let lambda = population.unwrap_or(4 + (3.0 * n.ln()).floor() as usize).max(2);
        let mu = lambda / 2;
        let raw: Vec<f64> = (1..=mu).map(|i| (mu as f64 + 0.5).ln() - (i as f64).ln()).collect();
        let total: f64 = raw.iter().sum();
        let weights: Vec<f64> = raw.iter().map(|w| w / total).collect();
        let mu_eff = 1.0 / weights.iter().map(|w| w * w).sum::<f64>();
        let cc = (4.0 + mu_eff / n) / (n + 4.0 + 2.0 * mu_eff / n);
        let cs = (mu_eff + 2.0) / (n + mu_eff + 5.0);
        let c1 = 2.0 / ((n + 1.3).powi(2) + mu_eff);
        let cmu = (1.0 - c1).min(2.0 * (mu_eff - 2.0 + 1.0 / mu_eff) / ((n + 2.0).powi(2) + mu_eff));
        // purecma's damping (Hansen's tutorial writes 1 + 2 max(0, √((μ_eff−1)/(n+1)) − 1) + c_σ).
        let damps = 2.0 * mu_eff / lambda as f64 + 0.3 + cs;
        Self { lambda, mu, weights, mu_eff, cc, cs, c1, cmu, damps }
    }
}

/// One path's CMA-ES state.
struct PathState {
    mean: DVector<f64>,
    sigma: f64,
    cov: DMatrix<f64>,
    basis: DMatrix<f64>,
    scales: DVector<f64>,
    pc: DVector<f64>,
    ps: DVector<f64>,
    evaluations: usize,
    rng: StreamRng,
    /// `λ×d` offspring of the current generation, row-major.
    offspring: Vec<f64>,
}

impl PathState {
    fn new(mean: &[f64], sigma: f64, lambda: usize, rng: StreamRng) -> Self {
        let d = mean.len();
        Self {
            mean: DVector::from_column_slice(mean),
            sigma,
            cov: DMatrix::identity(d, d),
            basis: DMatrix::identity(d, d),
            scales: DVector::from_element(d, 1.0),
            pc: DVector::zeros(d),
            ps: DVector::zeros(d),
            evaluations: 0,
            rng,
            offspring: vec![0.0; lambda * d],
        }
    }

    /// Draws `λ` offspring `m + σ B D z`.
    fn sample(&mut self) {
        let d = self.mean.len();
        let mut z = DVector::zeros(d);
        for row in self.offspring.chunks_exact_mut(d) {
            for i in 0..d {
                z[i] = self.scales[i] * self.rng.sample::<f64, _>(StandardNormal);
            }
            let y = &self.basis * &z;
            for i in 0..d {
                row[i] = self.mean[i] + self.sigma * y[i];
            }
        }
    }

    /// One (μ/μ_w, λ) update from the offspring's fitness (`λ` values).
    fn update(&mut self, fitness: &[f64], k: &CmaConstants) {
        let d = self.mean.len();
        let n = d as f64;
        let mut order: Vec<usize> = (0..k.lambda).collect();
        order.sort_by(|&a, &b| fitness[a].total_cmp(&fitness[b]).then(a.cmp(&b)));
        let old = self.mean.clone();
        let mut mean = DVector::zeros(d);
        for (w, &i) in k.weights.iter().zip(&order) {
            for j in 0..d {
                mean[j] += w * self.offspring[i * d + j];
            }
        }
        let y = (&mean - &old) / self.sigma;
        // C^{-1/2} y = B D⁻¹ Bᵀ y.
        let mut by = self.basis.tr_mul(&y);
        for j in 0..d {
            by[j] /= self.scales[j];
        }
        let z = &self.basis * by;
        self.ps = &self.ps * (1.0 - k.cs) + z * (k.cs * (2.0 - k.cs) * k.mu_eff).sqrt();
        self.evaluations += k.lambda;
        let decay = 1.0 - (1.0 - k.cs).powf(2.0 * self.evaluations as f64 / k.lambda as f64);
        let ps2 = self.ps.norm_squared();
        let hsig = if ps2 / n / decay < 2.0 + 4.0 / (n + 1.0) { 1.0 } else { 0.0 };
        self.pc = &self.pc * (1.0 - k.cc) + &y * (hsig * (k.cc * (2.0 - k.cc) * k.mu_eff).sqrt());
        let c1a = k.c1 * (1.0 - (1.0 - hsig * hsig) * k.cc * (2.0 - k.cc));
        self.cov *= 1.0 - c1a - k.cmu;
        self.cov.ger(k.c1, &self.pc, &self.pc, 1.0);
        let inv_sigma2 = 1.0 / (self.sigma * self.sigma);
        for (w, &i) in k.weights.iter().zip(&order) {
            let dx = DVector::from_iterator(d, (0..d).map(|j| self.offspring[i * d + j] - old[j]));
            self.cov.ger(k.cmu * w * inv_sigma2, &dx, &dx, 1.0);
        }
        self.sigma *= ((k.cs / k.damps) * (ps2 / n - 1.0) / 2.0).min(1.0).exp();
        self.mean = mean;
        // Symmetrize against round-off, then refresh B and D.
        let cov = (&self.cov + self.cov.transpose()) * 0.5;
        self.cov = cov;
        let eig = SymmetricEigen::new(self.cov.clone());
        self.basis = eig.eigenvectors;
        self.scales = eig.eigenvalues.map(|e| e.max(1e-300).sqrt());
    }
}

/// CMA-ES per path (see the module docs).
#[derive(Clone, Debug, PartialEq)]
pub struct Cmaes {
    params: CmaesParams,
}

impl Cmaes {
    /// A CMA-ES optimizer with validated parameters.
    pub fn new(params: CmaesParams) -> Result<Self, ParamError> {
        params.validate()?;
        Ok(Self { params })
    }
}

impl InnerOptimizer for Cmaes {
    fn descend(
        &self,
        paths: &dyn PathBatch,
        x0: &[f64],
        rng: &mut StreamRng,
    ) -> Result<DescentSequences, OptimizerError> {
        check_start("cmaes", paths, x0)?;
        let n_paths = paths.n_paths();
        let d = paths.dim();
        let k = CmaConstants::new(d, self.params.population);
        let generations = self.params.generations;
        let mut rec = Recorder::new(n_paths, d, generations + 1, true);
        let mut means = replicate_start(x0, n_paths);
        let mut values = vec![0.0; n_paths];
        paths.values(&means, &mut values);
        rec.push_positions(&means);
        rec.push_values(&values);

        let mut states: Vec<PathState> = (0..n_paths)
            .map(|l| PathState::new(&means[l * d..(l + 1) * d], self.params.sigma0, k.lambda, child_rng(rng)))
            .collect();
        // λ×L fitness (offspring-major, as evaluated) and its path-major transpose.
        let mut fitness = vec![0.0; k.lambda * n_paths];
        let mut batch = vec![0.0; n_paths * d];
        let mut previous = means.clone();
        for _ in 0..generations {
            states.par_iter_mut().for_each(PathState::sample);
            for j in 0..k.lambda {
                for (l, s) in states.iter().enumerate() {
                    batch[l * d..(l + 1) * d].copy_from_slice(&s.offspring[j * d..(j + 1) * d]);
                }
                let out = &mut fitness[j * n_paths..(j + 1) * n_paths];
                paths.values(&batch, out);
                for (l, f) in out.iter_mut().enumerate() {
                    let outside = batch[l * d..(l + 1) * d].iter().filter(|&&x| !(0.0..=1.0).contains(&x)).count();
                    *f += BOX_PENALTY * outside as f64;
                }
            }
            let fitness_ref = &fitness;
            states.par_iter_mut().enumerate().for_each(|(l, s)| {
                let f: Vec<f64> = (0..k.lambda).map(|j| fitness_ref[j * n_paths + l]).collect();
                s.update(&f, &k);
            });
            previous.copy_from_slice(&means);
            for (l, s) in states.iter().enumerate() {
                means[l * d..(l + 1) * d].copy_from_slice(s.mean.as_slice());
            }
            project_unit(&mut means);
            paths.values(&means, &mut values);
            rec.push_positions(&means);
            rec.push_values(&values);
            if let Some(tol) = self.params.stop_tol
                && max_row_distance(&means, &previous, d) < tol
            {
                break;
            }
        }
        Ok(rec.finish())
    }
}

fn build(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn InnerOptimizer>, PluginError> {
    let p: CmaesParams = params.parse()?;
    Ok(Built::new(Box::new(Cmaes { params: p.clone() }), &p))
}

inventory::submit! {
    InnerOptimizerEntry {
        name: "cmaes",
        summary: "one CMA-ES per sample path (LES ablation lesCMAES), records clipped means",
        details: concat!(
            "One (mu/mu_w, lambda)-CMA-ES per sample path with purecma settings (lambda = 4 + floor(3 ln d), \
mu = lambda/2, log weights), mean started at the start point. Offspring outside [0,1]^d get +100 per \
coordinate outside added to the path value. The recorded sequence is the clipped mean after every \
generation with the path value there (generations + 1 records). Each path draws from its own child of the \
call's random stream (derived from the run seed and the iteration).\n\n",
            include_str!("../params/cmaes.md"),
            "\nReference: Stenger, Lindicke, von Rohr, Trimpe, Local Entropy Search over Descent Sequences for \
Bayesian Optimization, ICLR 2026 (ablation lesCMAES_20_8); Hansen, The CMA Evolution Strategy: A Tutorial, 2016."
        ),
        default_params: les_core::registry::defaults_of::<CmaesParams>,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::QuadraticPaths;
    use les_core::stream_rng;

    #[test]
    fn constants_follow_purecma() {
        let k = CmaConstants::new(10, None);
        assert_eq!(k.lambda, 4 + (3.0 * 10f64.ln()).floor() as usize);
        assert_eq!(k.lambda, 10);
        assert_eq!(k.mu, 5);
        assert!((k.weights.iter().sum::<f64>() - 1.0).abs() < 1e-14);
        assert!(k.weights.windows(2).all(|w| w[0] > w[1]));
        assert!(k.c1 + k.cmu <= 1.0);
    }

    #[test]
    fn reaches_minimum_of_convex_quadratic() {
        let centre = vec![0.3, 0.7, 0.9, 0.1, 0.5, 0.5, 1.4, -0.2];
        let paths = QuadraticPaths::with_centres(2, centre);
        let p = CmaesParams { generations: 120, ..CmaesParams::default() };
        let seq = Cmaes::new(p)
            .expect("valid")
            .descend(&paths, &[0.5, 0.5], &mut stream_rng(3, "test", 0))
            .expect("descends");
        assert_eq!(seq.n_records, 121);
        for l in 0..4 {
            let end = seq.final_position(l);
            for (a, b) in end.iter().zip(paths.minimizer(l)) {
                assert!((a - b).abs() < 1e-3, "path {l}: {end:?}");
            }
            for t in 0..seq.n_records {
                assert!(seq.position(t, l).iter().all(|x| (0.0..=1.0).contains(x)));
            }
        }
    }

    #[test]
    fn deterministic_across_thread_counts() {
        let centre: Vec<f64> = (0..40).map(|i| (i as f64 * 0.37).sin() * 0.6 + 0.5).collect();
        let paths = QuadraticPaths::with_centres(4, centre);
        let opt = Cmaes::new(CmaesParams { generations: 10, ..CmaesParams::default() }).expect("valid");
        let run = |threads| {
            rayon::ThreadPoolBuilder::new()
                .num_threads(threads)
                .build()
                .expect("pool")
                .install(|| opt.descend(&paths, &[0.5, 0.4, 0.6, 0.5], &mut stream_rng(11, "test", 0)))
                .expect("descends")
        };
        assert_eq!(run(1), run(2));
    }

    #[test]
    fn offspring_come_from_the_stream_and_a_bad_start_is_an_error() {
        let centre: Vec<f64> = (0..8).map(|i| (i as f64 * 0.37).sin() * 0.6 + 0.5).collect();
        let paths = QuadraticPaths::with_centres(2, centre);
        let opt = Cmaes::new(CmaesParams { generations: 5, ..CmaesParams::default() }).expect("valid");
        let run = |seed| opt.descend(&paths, &[0.5, 0.4], &mut stream_rng(seed, "test", 0)).expect("descends");
        assert_eq!(run(1), run(1), "the same stream gives the same history");
        assert_ne!(run(1).positions, run(2).positions, "another stream gives other offspring");
        let err = opt.descend(&paths, &[0.5], &mut stream_rng(1, "test", 0)).unwrap_err();
        assert!(err.to_string().contains("1 coordinates") && err.to_string().contains("d = 2"), "{err}");
        let err = opt.descend(&paths, &[0.5, 1.5], &mut stream_rng(1, "test", 0)).unwrap_err();
        assert!(err.to_string().contains("1.5") && err.to_string().contains("[0, 1]"), "{err}");
    }
}

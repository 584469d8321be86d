//! TuRBO-1: trust-region Bayesian optimization with one trust region and Thompson sampling
//! (Eriksson et al. 2019, "Scalable global optimization via local Bayesian optimization",
//! NeurIPS), as in BoTorch's TuRBO-1 tutorial that the paper's code follows (§17 of
//! `docs/les-algorithm.md`).
//!
//! Algorithm, per iteration: fit the surrogate; centre a box at the best observation `x*`
//! with side lengths `L·w_i`, `w = ℓ / geomean(ℓ)` (the fitted length scales normalized to
//! geometric mean 1), clipped to `[0, 1]^d`; draw `M = min(5000, max(2000, 200d))` scrambled
//! Sobol points in the box; keep each coordinate of `x*` except where a perturbation mask
//! (probability `min(20/d, 1)`, at least one coordinate per candidate) takes the Sobol value;
//! draw one posterior sample on the candidates and propose its minimizer.
//!
//! The trust region evolves in `tell` only (so a resumed run replays it): the first batch told
//! (the initial design) sets the best value; afterwards a batch whose best value is below
//! `best − 1e-3·|best|` is a success, anything else (failed evaluations included) a failure.
//! `success_tolerance` successes in a row double `L` (at most `length_max`),
//! `failure_tolerance` failures in a row halve it. When `L < length_min` the region has
//! collapsed: the reference sets a restart flag it never reads, so by default the run goes on
//! with the shrinking region; `restart_on_collapse: true` resets `L` and the counters instead.
//!
//! Thompson samples come from one pathwise posterior sample path evaluated at the candidates
//! when the surrogate draws paths (the `gp` does), otherwise from the exact joint posterior on
//! the candidates (`O(M³)`).
//!
//! **Pending points** (evaluations in flight, `workers > 1`, `les ask --n K`): the Thompson
//! sample is drawn jointly with the pending points and conditioned on them — the posterior is
//! conditioned on each pending point observed at its believed value, the posterior mean there
//! (kriging believer, [`crate::believer`]), with the observation noise of a real evaluation; for
//! the `gp` by pathwise conditioning of one sample path on the data plus the believed points,
//! otherwise exactly on the candidates. This is the asynchronous form of TuRBO's batch mode:
//! Eriksson et al. draw the `q` samples of a batch jointly on the candidate set; a point whose
//! evaluation is in flight is, for the sample, a point whose value is as good as known, so the
//! sample's spread there collapses to the noise level and an optimistic draw cannot put the next
//! point on it (or next to it, within a length scale) — the pick goes where the sample is
//! still free to be low. The mean is not moved by the belief (conditioning on the mean's own
//! value), so exploitation is unchanged. A synchronous batch (`les ask --n K`) asks one point at
//! a time with the earlier ones pending.
//!
//! The trust region counts only what `tell` brings: pending points are no success and no
//! failure until their values are told, and the region stays centred at the best *observed*
//! point (never a believed value). Each batch delivered to `tell` counts once, as in the batch
//! mode; with workers the runner asks after each completion, so batches are mostly single
//! evaluations and the tolerances keep their `q = 1` meaning.
//!
#![doc = include_str!("../params/turbo.md")]
//!
//! ```yaml
//! strategy: { name: turbo, params: { success_tolerance: 10, surrogate: { name: gp } } }
//! ```

use les_core::params::{ParamError, Params, PluginParams, join_path};
use les_core::registry::{BuildContext, Built, PluginError, PluginSpec, StrategyEntry};
use les_core::{Ask, AskContext, Observation, Strategy, StrategyError, StreamRng, SurrogateError};
use rand::{Rng, RngExt};
use rand_distr::StandardNormal;
use serde::{Deserialize, Serialize};

use crate::believer::Believer;
use crate::design::{MAX_SOBOL_DIM, MAX_SOBOL_POINTS, sobol_points, sobol_seed};
use crate::linalg::{cholesky_rows_with_jitter, lower_times};
use crate::model::{Model, geometric_mean};
use crate::strategy_util::{fit_or_random, random_point};

/// Initial side length (BoTorch tutorial / paper).
pub const DEFAULT_LENGTH_INIT: f64 = 0.8;
/// Collapse threshold 0.5⁷.
pub const DEFAULT_LENGTH_MIN: f64 = 0.0078125;
/// Largest side length.
pub const DEFAULT_LENGTH_MAX: f64 = 1.6;
/// Paper's success tolerance (the original TuRBO paper uses 3).
pub const DEFAULT_SUCCESS_TOLERANCE: usize = 10;
/// Relative improvement over the best value that counts as a success.
pub const DEFAULT_IMPROVEMENT_THRESHOLD: f64 = 1e-3;
/// Numerator of the perturbation probability `min(20/d, 1)`.
pub const DEFAULT_MAX_PERTURBATION: f64 = 20.0;

/// Parameters of `turbo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TurboParams {
    /// The surrogate model.
    pub surrogate: PluginSpec,
    /// Initial side length.
    pub length_init: f64,
    /// Collapse threshold.
    pub length_min: f64,
    /// Largest side length.
    pub length_max: f64,
    /// Successes in a row that double the side length.
    pub success_tolerance: usize,
    /// Failures in a row that halve it; `None` = ⌈max(4, d)⌉.
    pub failure_tolerance: Option<usize>,
    /// Relative improvement that counts as a success.
    pub improvement_threshold: f64,
    /// Thompson candidates; `None` = min(5000, max(2000, 200d)).
    pub n_candidates: Option<usize>,
    /// The perturbation probability is `min(max_perturbation_probability/d, 1)`.
    pub max_perturbation_probability: f64,
    /// Reset the region when it collapses (the reference never does).
    pub restart_on_collapse: bool,
}

impl Default for TurboParams {
    fn default() -> Self {
        Self {
            surrogate: PluginSpec::named("gp"),
            length_init: DEFAULT_LENGTH_INIT,
            length_min: DEFAULT_LENGTH_MIN,
            length_max: DEFAULT_LENGTH_MAX,
            success_tolerance: DEFAULT_SUCCESS_TOLERANCE,
            failure_tolerance: None,
            improvement_threshold: DEFAULT_IMPROVEMENT_THRESHOLD,
            n_candidates: None,
            max_perturbation_probability: DEFAULT_MAX_PERTURBATION,
            restart_on_collapse: false,
        }
    }
}

impl PluginParams for TurboParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(self.length_min > 0.0 && self.length_min <= self.length_init && self.length_init <= self.length_max) {
            return Err(ParamError::invalid(
                "length_init",
                self.length_init,
                format!("0 < length_min ({}) ≤ length_init ≤ length_max ({})", self.length_min, self.length_max),
            ));
        }
        if self.success_tolerance == 0 {
            return Err(ParamError::invalid("success_tolerance", 0, "at least 1"));
        }
        if self.failure_tolerance == Some(0) {
            return Err(ParamError::invalid("failure_tolerance", 0, "at least 1, or null for ⌈max(4, d)⌉"));
        }
        if !(self.improvement_threshold >= 0.0 && self.improvement_threshold.is_finite()) {
            return Err(ParamError::invalid(
                "improvement_threshold",
                self.improvement_threshold,
                "a finite number ≥ 0",
            ));
        }
        if let Some(m) = self.n_candidates
            && (m == 0 || m > MAX_SOBOL_POINTS)
        {
            return Err(ParamError::invalid("n_candidates", m, "between 1 and 65536, or null"));
        }
        if !(self.max_perturbation_probability.is_finite() && self.max_perturbation_probability > 0.0) {
            return Err(ParamError::invalid(
                "max_perturbation_probability",
                self.max_perturbation_probability,
                "a number > 0",
            ));
        }
        Ok(())
    }
}

/// The trust region's state; changed by [`TurboState::update`] only.
#[derive(Clone, Debug, PartialEq)]
pub struct TurboState {
    /// Side length `L` (before the length-scale weights).
    pub length: f64,
    /// Successes in a row.
    pub success_counter: usize,
    /// Failures in a row.
    pub failure_counter: usize,
    /// Best observed value so far (raw output), `None` before the first observation.
    pub best_value: Option<f64>,
    /// Times the region collapsed (`L < length_min`).
    pub collapses: usize,
    /// Times the region was reset after a collapse.
    pub restarts: usize,
}

/// The fixed rules that move the state.
#[derive(Clone, Debug, PartialEq)]
pub struct TurboRules {
    /// Initial side length.
    pub length_init: f64,
    /// Collapse threshold.
    pub length_min: f64,
    /// Largest side length.
    pub length_max: f64,
    /// Successes in a row that double `L`.
    pub success_tolerance: usize,
    /// Failures in a row that halve `L`.
    pub failure_tolerance: usize,
    /// Relative improvement that counts as a success.
    pub improvement_threshold: f64,
    /// Reset on collapse.
    pub restart_on_collapse: bool,
}

impl TurboState {
    /// The initial state.
    pub fn new(rules: &TurboRules) -> Self {
        Self {
            length: rules.length_init,
            success_counter: 0,
            failure_counter: 0,
            best_value: None,
            collapses: 0,
            restarts: 0,
        }
    }

    /// Takes one batch of outcomes (`None` = failed evaluation). The first batch with a value
    /// only sets the best value (BoTorch initializes the state from the initial design).
    pub fn update(&mut self, rules: &TurboRules, batch: &[Option<f64>]) {
        let batch_best = batch.iter().flatten().copied().fold(f64::INFINITY, f64::min);
        let Some(best) = self.best_value else {
            if batch_best.is_finite() {
                self.best_value = Some(batch_best);
            }
            return;
        };
        if batch_best < best - rules.improvement_threshold * best.abs() {
            self.success_counter += 1;
            self.failure_counter = 0;
        } else {
            self.success_counter = 0;
            self.failure_counter += 1;
        }
        if self.success_counter == rules.success_tolerance {
            self.length = (2.0 * self.length).min(rules.length_max);
            self.success_counter = 0;
        } else if self.failure_counter == rules.failure_tolerance {
            self.length /= 2.0;
            self.failure_counter = 0;
        }
        self.best_value = Some(best.min(batch_best));
        if self.length < rules.length_min {
            self.collapses += 1;
            if rules.restart_on_collapse {
                self.length = rules.length_init;
                self.success_counter = 0;
                self.failure_counter = 0;
                self.restarts += 1;
            }
        }
    }
}

/// TuRBO-1.
pub struct TurboStrategy {
    dim: usize,
    model: Model,
    rules: TurboRules,
    state: TurboState,
    n_candidates: usize,
    perturbation_probability: f64,
}

impl TurboStrategy {
    /// TuRBO-1 in dimension `d` on `model`, with the rules and candidate settings of `p`.
    pub fn new(dim: usize, model: Model, p: &TurboParams) -> Self {
        let rules = TurboRules {
            length_init: p.length_init,
            length_min: p.length_min,
            length_max: p.length_max,
            success_tolerance: p.success_tolerance,
            failure_tolerance: p.failure_tolerance.unwrap_or(dim.max(4)),
            improvement_threshold: p.improvement_threshold,
            restart_on_collapse: p.restart_on_collapse,
        };
        Self {
            dim,
            model,
            state: TurboState::new(&rules),
            rules,
            n_candidates: p.n_candidates.unwrap_or(default_candidates(dim)),
            perturbation_probability: (p.max_perturbation_probability / dim.max(1) as f64).min(1.0),
        }
    }

    /// The trust-region state.
    pub fn state(&self) -> &TurboState {
        &self.state
    }

    /// Candidates in the trust region around `centre` (`M×d`, see the module docs).
    fn candidates(&self, centre: &[f64], weights: &[f64], rng: &mut StreamRng) -> Vec<f64> {
        let d = self.dim;
        let m = self.n_candidates;
        let (lb, ub): (Vec<f64>, Vec<f64>) = (0..d)
            .map(|i| {
                let half = 0.5 * weights[i] * self.state.length;
                ((centre[i] - half).clamp(0.0, 1.0), (centre[i] + half).clamp(0.0, 1.0))
            })
            .unzip();
        let sobol = sobol_points(m, d, sobol_seed(rng.next_u64()))
            .expect("invariant: d ≤ 256 and M ≤ 65536 are checked at build time");
        let mut out = Vec::with_capacity(m * d);
        for row in sobol.chunks(d) {
            let mut mask: Vec<bool> = (0..d).map(|_| rng.random::<f64>() <= self.perturbation_probability).collect();
            if !mask.iter().any(|&b| b) {
                mask[rng.random_range(0..d)] = true;
            }
            for i in 0..d {
                out.push(if mask[i] { lb[i] + (ub[i] - lb[i]) * row[i] } else { centre[i] });
            }
        }
        out
    }
}

/// `min(5000, max(2000, 200d))`.
pub fn default_candidates(dim: usize) -> usize {
    (200 * dim).clamp(2000, 5000)
}

/// One joint sample of the latent function at `m` candidates (`m×d`) from `posterior` (the
/// model conditioned on the pending points), model output scale: a pathwise sample path when
/// the surrogate draws paths, else exact.
pub fn thompson_sample(
    posterior: &Believer<'_>,
    candidates: &[f64],
    rng: &mut StreamRng,
) -> Result<Vec<f64>, SurrogateError> {
    let d = posterior.model().surrogate().dim();
    let m = candidates.len() / d;
    if let Some(path) = posterior.sample_paths(1, rng) {
        let path = path?;
        let mut out = vec![0.0; m];
        for (j, x) in candidates.chunks(d).enumerate() {
            path.values(x, &mut out[j..j + 1]);
        }
        return Ok(out);
    }
    let mean = posterior.predict(candidates)?.mean;
    let cov = posterior.covariance(candidates, candidates)?;
    let (l, _) = cholesky_rows_with_jitter(&cov, m)?;
    let z: Vec<f64> = (0..m).map(|_| rng.sample(StandardNormal)).collect();
    Ok(lower_times(&l, m, &z).iter().zip(&mean).map(|(e, mu)| mu + e).collect())
}

impl Strategy for TurboStrategy {
    fn handles_pending(&self) -> bool {
        true
    }

    fn ask(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        let mut ask = Ask::default();
        if fit_or_random(&mut self.model, ctx, rng, &mut ask.report)?.is_none() {
            ask.points.push(random_point(self.dim, rng));
            return Ok(ask);
        }
        let best = ctx.data.best_index().expect("invariant: the data are not empty");
        let centre = ctx.data.point(best).to_vec();
        let ls = self.model.hyperparameters("turbo").map_err(StrategyError::Other)?.lengthscales;
        let g = geometric_mean(&ls);
        let weights: Vec<f64> = ls.iter().map(|l| l / g).collect();
        let mut cand_rng = les_core::rng::child_rng(rng);
        let candidates = self.candidates(&centre, &weights, &mut cand_rng);
        let mut ts_rng = les_core::rng::child_rng(rng);
        let posterior = ask.report.timed("pending", || Believer::new(&self.model, ctx.pending))?;
        if !ctx.pending.is_empty() {
            ask.report.diagnostic("pending", ctx.pending.len());
        }
        let sample = ask.report.timed("thompson", || thompson_sample(&posterior, &candidates, &mut ts_rng))?;
        let pick = (0..sample.len())
            .filter(|&j| sample[j].is_finite())
            .min_by(|&a, &b| sample[a].total_cmp(&sample[b]))
            .ok_or_else(|| StrategyError::Other("the Thompson sample is not finite at any candidate".into()))?;
        ask.report.diagnostic("length", self.state.length);
        ask.report.diagnostic("success_counter", self.state.success_counter);
        ask.report.diagnostic("failure_counter", self.state.failure_counter);
        ask.report.diagnostic("collapses", self.state.collapses);
        ask.points.push(candidates[pick * self.dim..(pick + 1) * self.dim].to_vec());
        Ok(ask)
    }

    fn tell(&mut self, observations: &[Observation]) -> Result<(), StrategyError> {
        if !observations.is_empty() {
            let batch: Vec<Option<f64>> = observations.iter().map(|o| o.y.as_ref().ok().copied()).collect();
            self.state.update(&self.rules, &batch);
        }
        Ok(())
    }
}

fn build(params: &Params, ctx: &BuildContext) -> Result<Built<dyn Strategy>, PluginError> {
    let mut p: TurboParams = params.parse()?;
    if ctx.dim > MAX_SOBOL_DIM {
        return Err(ParamError::new(
            params.path.clone(),
            format!(
                "TuRBO's Sobol candidates support at most {MAX_SOBOL_DIM} dimensions, the objective has {}",
                ctx.dim
            ),
        )
        .into());
    }
    let model = Model::build(&mut p.surrogate, &join_path(&params.path, "surrogate"), ctx, "turbo", &[])?;
    Ok(Built::new(Box::new(TurboStrategy::new(ctx.dim, model, &p)), &p))
}

inventory::submit! {
    StrategyEntry {
        name: "turbo",
        summary: "TuRBO-1: one trust region, Thompson sampling on Sobol candidates",
        details: concat!(
            "Eriksson et al. 2019, as in BoTorch's TuRBO-1 tutorial with the paper's settings: \
                  length 0.8 in [0.5^7, 1.6], success tolerance 10, failure tolerance ⌈max(4, d)⌉, \
                  ×2 / ½, improvement 1e-3·|best|, min(5000, max(2000, 200d)) perturbed Sobol \
                  candidates (probability min(20/d, 1)), box ∝ length scales / geomean. No restart \
                  unless `restart_on_collapse`. Pending points (evaluations in flight): the \
                  Thompson sample is conditioned on them at their believed values.",
            "\n\n",
            include_str!("../params/turbo.md"),
        ),
        default_params: les_core::registry::defaults_of::<TurboParams>,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_gp::testing::DenseGp;

    fn rules(d: usize) -> TurboRules {
        let t = TurboStrategy::new(
            d,
            Model::new("test_gp", Box::new(DenseGp::new(vec![0.3; d], 1.0, 1e-6).standardized(true))),
            &TurboParams::default(),
        );
        t.rules
    }

    #[test]
    fn length_follows_successes_and_failures() {
        let r = rules(5);
        assert_eq!(r.failure_tolerance, 5);
        let mut s = TurboState::new(&r);
        s.update(&r, &[Some(10.0), Some(12.0)]); // initial design: sets the best only
        assert_eq!((s.length, s.best_value, s.success_counter), (0.8, Some(10.0), 0));
        // 10 successes (each beats best by more than 1e-3·|best|) double L once.
        let mut y = 10.0;
        for k in 1..=10 {
            y -= 0.5;
            s.update(&r, &[Some(y)]);
            assert_eq!(s.length, if k < 10 { 0.8 } else { 1.6 }, "after success {k}");
        }
        // Capped at 1.6.
        for _ in 0..10 {
            y -= 0.5;
            s.update(&r, &[Some(y)]);
        }
        assert_eq!(s.length, 1.6);
        // An improvement below the threshold is a failure; failed evaluations too.
        let tiny = y - 0.5e-3 * y.abs();
        let mut lengths = Vec::new();
        for k in 0..20 {
            let o = if k % 2 == 0 { Some(tiny) } else { None };
            s.update(&r, &[o]);
            lengths.push(s.length);
        }
        let expect: Vec<f64> = (1..=20).map(|k| 1.6 / 2f64.powi(k / 5)).collect();
        assert_eq!(lengths, expect);
        // A success resets the failure count.
        s.update(&r, &[Some(tiny), Some(-1e9)]);
        assert_eq!((s.success_counter, s.failure_counter), (1, 0));
        // Down past length_min: collapse counted, no restart by default.
        for _ in 0..5 * 8 {
            s.update(&r, &[Some(0.0)]);
        }
        assert!(s.length < r.length_min && s.collapses > 0 && s.restarts == 0);
        let r2 = TurboRules { restart_on_collapse: true, ..r.clone() };
        let mut s2 =
            TurboState { length: r2.length_min, failure_counter: 4, best_value: Some(0.0), ..TurboState::new(&r2) };
        s2.update(&r2, &[Some(1.0)]);
        assert_eq!((s2.length, s2.restarts, s2.collapses), (0.8, 1, 1));
    }

    #[test]
    fn candidates_stay_in_the_region_and_keep_unmasked_coordinates() {
        let d = 40;
        let p = TurboParams { n_candidates: Some(300), ..TurboParams::default() };
        let t = TurboStrategy::new(
            d,
            Model::new("test_gp", Box::new(DenseGp::new(vec![0.3; d], 1.0, 1e-6).standardized(true))),
            &p,
        );
        let centre = vec![0.9; d];
        let weights: Vec<f64> = (0..d).map(|i| if i % 2 == 0 { 2.0 } else { 0.5 }).collect();
        let c = t.candidates(&centre, &weights, &mut les_core::stream_rng(1, "t", 0));
        let mut changed = 0;
        for row in c.chunks(d) {
            let k = row.iter().zip(&centre).filter(|(a, b)| a != b).count();
            assert!(k >= 1);
            changed += k;
            for i in 0..d {
                let half = 0.5 * weights[i] * 0.8;
                assert!(row[i] >= (0.9 - half).max(0.0) && row[i] <= (0.9 + half).min(1.0));
            }
        }
        // About min(20/d, 1)·d = 20 coordinates per candidate are perturbed.
        let mean = changed as f64 / 300.0;
        assert!((mean - 20.0).abs() < 1.5, "{mean}");
    }

    #[test]
    fn beats_random_search() {
        let seeds = [1, 2, 3];
        let budget = 30;
        let random = crate::testutil::random_baseline(budget, &seeds);
        let p = TurboParams { n_candidates: Some(300), success_tolerance: 3, ..TurboParams::default() };
        let turbo = seeds
            .iter()
            .map(|&s| {
                let mut st = TurboStrategy::new(
                    5,
                    Model::new("test_gp", Box::new(DenseGp::new(vec![0.4; 5], 1.0, 1e-6).standardized(true))),
                    &p,
                );
                crate::testutil::run(&mut st, &crate::testutil::bowl, 5, budget, 2, s)
            })
            .sum::<f64>()
            / seeds.len() as f64;
        eprintln!("turbo {turbo} random {random}");
        assert!(turbo < 0.5 * random, "turbo {turbo} vs random {random}");
    }

    fn fitted_turbo(d: usize) -> (TurboStrategy, les_core::Dataset) {
        let mut rng = les_core::stream_rng(2, "t", 0);
        let pts = crate::design::uniform_points(8, d, &mut rng);
        let y: Vec<f64> = pts.chunks(d).map(crate::testutil::bowl).collect();
        let data = les_core::Dataset::from_rows(d, pts, y);
        let mut gp = DenseGp::new(vec![0.3; d], 1.0, 1e-6).standardized(false);
        gp.noise_variance = 1e-4;
        let p = TurboParams { n_candidates: Some(200), ..TurboParams::default() };
        let mut t = TurboStrategy::new(d, Model::new("test_gp", Box::new(gp)), &p);
        let obs: Vec<Observation> =
            (0..data.len()).map(|i| Observation { x: data.point(i).to_vec(), y: Ok(data.y()[i]) }).collect();
        t.tell(&obs).unwrap();
        t.model.fit(&data, &mut rng).unwrap();
        (t, data)
    }

    #[test]
    fn thompson_samples_are_conditioned_on_the_pending_points() {
        let d = 5;
        let (t, data) = fitted_turbo(d);
        let p = vec![0.3, 0.7, 0.55, 0.2, 0.8];
        let far = vec![0.9, 0.1, 0.2, 0.9, 0.1];
        let cands = [p.clone(), far.clone()].concat();
        let plain = Believer::new(&t.model, &[]).unwrap();
        let cond = Believer::new(&t.model, std::slice::from_ref(&p)).unwrap();
        // The variance at p the conditioned samples must show: a dense GP refitted with p
        // observed at its believed value.
        let mut more = data.clone();
        more.push(&p, cond.believed()[0]);
        let mut dense = DenseGp::new(vec![0.3; d], 1.0, 1e-6).standardized(false);
        dense.noise_variance = 1e-4;
        use les_core::Surrogate;
        dense.fit(&more, &mut les_core::stream_rng(0, "t", 0)).unwrap();
        let want = dense.predict(&cands).unwrap();
        let before = plain.predict(&cands).unwrap();
        assert!(before.variance[0] > 100.0 * want.variance[0], "{} vs {}", before.variance[0], want.variance[0]);
        let k = 4000;
        let draws: Vec<Vec<f64>> =
            (0..k).map(|i| thompson_sample(&cond, &cands, &mut les_core::stream_rng(3, "ts", i)).unwrap()).collect();
        for j in 0..2 {
            let mean = draws.iter().map(|s| s[j]).sum::<f64>() / k as f64;
            let var = draws.iter().map(|s| (s[j] - mean).powi(2)).sum::<f64>() / (k - 1) as f64;
            // Standard errors of a sample mean and a Gaussian sample variance; 5 of them.
            let (v, m) = (want.variance[j], want.mean[j]);
            assert!((mean - m).abs() < 5.0 * (v / k as f64).sqrt(), "candidate {j}: mean {mean} vs {m}");
            assert!((var - v).abs() < 5.0 * v * (2.0 / (k - 1) as f64).sqrt(), "candidate {j}: var {var} vs {v}");
        }
    }

    #[test]
    fn asks_with_pending_points_move_away_and_leave_the_region_alone() {
        let d = 5;
        let (mut t, data) = fitted_turbo(d);
        assert!(t.handles_pending());
        let ask = |t: &mut TurboStrategy, pending: &[Vec<f64>]| {
            let ctx = AskContext { data: &data, pending, iteration: 4, n_proposed: 9, remaining: 10, budget: 30 };
            t.ask(&ctx, &mut les_core::stream_rng(8, "ask", 4)).unwrap().points.remove(0)
        };
        let state = t.state().clone();
        let first = ask(&mut t, &[]);
        let second = ask(&mut t, std::slice::from_ref(&first));
        let third = ask(&mut t, &[first.clone(), second.clone()]);
        let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| (u - v).powi(2)).sum::<f64>().sqrt();
        assert!(dist(&first, &second) > 1e-3 && dist(&first, &third) > 1e-3 && dist(&second, &third) > 1e-3);
        // Same seed and pending set: the same point; and no ask moved the trust region.
        assert_eq!(ask(&mut t, std::slice::from_ref(&first)), second);
        assert_eq!(t.state(), &state);
    }
}

//! Analytic log expected improvement (LogEI; Ament et al. 2023, "Unexpected improvements to
//! expected improvement for Bayesian optimization", NeurIPS), the paper's strong global
//! baseline (§17 of `docs/les-algorithm.md`).
//!
//! Algorithm, per iteration: fit the surrogate to all data; take the incumbent
//! `f* = min_i y_i` in the model's output scale (§5.4: the best noisy observation); with the
//! latent posterior `μ(x), σ(x)` and `z = (f* − μ)/σ`, the acquisition is
//! `ln EI(x) = ln h(z) + ln σ`, `h(z) = φ(z) + zΦ(z)`, computed stably far into the tail
//! ([`crate::normal::log_ei_kernel`]). Its gradient is
//! `∇ ln EI = (Φ(z)/h(z))·∇z + ∇σ/σ`, `∇z = −(∇μ + z∇σ)/σ`, `∇σ = ∇σ²/(2σ)`. It is maximized
//! by [`crate::acqopt::maximize`] (paper: 10 restarts from 512 raw samples); the best point is
//! proposed.
//!
//! **Pending points** (evaluations in flight, `workers > 1`, `les ask --n K`): the kriging
//! believer ([`crate::believer`]). Each pending point joins the data with its posterior mean as
//! the believed value and the fitted hyperparameters kept: the posterior mean is unchanged, the
//! variance drops to what it will be once the pending evaluations are in (exact: it does not
//! depend on their values), and the incumbent becomes `min(f*, min μ(P))`. At a pending point
//! `σ` falls to about the noise level, so EI there nearly vanishes and the next point goes
//! elsewhere. Why the believer and not fantasies (EI averaged over draws of the pending values,
//! BoTorch's `X_pending` in `qLogEI`): the believer is deterministic (the ask is still a smooth,
//! deterministic function to maximize, with analytic gradients), costs one `(n+q)³` refactoring
//! per ask instead of a Monte-Carlo average inside every acquisition evaluation, and the part of
//! the pending information that matters most here, where the posterior will be certain, it gets
//! exactly; what it misses is the spread of the pending outcomes, which can only raise the
//! incumbent's uncertainty, not move the next point onto a pending one. A synchronous batch
//! (`les ask --n K`) asks one point at a time with the earlier ones pending: the same greedy
//! kriging-believer batch (Ginsbourger et al. 2010).
//!
//! logEI-DSP is this strategy with the `gp` surrogate's `lengthscale_prior: dimension_scaled`
//! (`configs/logei-dsp.yaml`).
//!
#![doc = include_str!("../params/logei.md")]
//!
//! ```yaml
//! strategy:
//!   name: logei
//!   params:
//!     surrogate: { name: gp, params: { lengthscale_prior: box_sqrt_d } }
//!     acq_optimizer: { raw_samples: 512, restarts: 10, max_iters: 200 }
//! ```

use les_core::params::{ParamError, Params, PluginParams, join_path};
use les_core::registry::{BuildContext, Built, PluginError, PluginSpec, StrategyEntry};
use les_core::{Acquisition, Ask, AskContext, Capability, Strategy, StrategyError, StreamRng, SurrogateError};
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::acqopt::{AcqOptimizerParams, Maximand, maximize};
use crate::believer::Believer;
use crate::model::Model;
use crate::normal::{dlog_ei_kernel, log_ei_kernel};
use crate::strategy_util::{fit_or_random, maximum_or_error, random_point};

/// Smallest posterior variance used (BoTorch's `min_var` of LogEI): keeps `ln σ` finite at the
/// data.
pub const MIN_VARIANCE: f64 = 1e-12;

/// The log-EI acquisition on a fitted model's posterior (conditioned on the pending points);
/// larger is better.
pub struct LogEi<'a> {
    posterior: &'a Believer<'a>,
    best: f64,
}

impl<'a> LogEi<'a> {
    /// Log EI of improving on `best` (model output scale) under `posterior`.
    pub fn new(posterior: &'a Believer<'a>, best: f64) -> Self {
        Self { posterior, best }
    }

    fn of_moments(&self, mean: f64, variance: f64) -> f64 {
        let sigma = variance.max(MIN_VARIANCE).sqrt();
        log_ei_kernel((self.best - mean) / sigma) + sigma.ln()
    }
}

impl Acquisition for LogEi<'_> {
    fn values(&self, candidates: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        let p = self.posterior.predict(candidates)?;
        Ok(p.mean.iter().zip(&p.variance).map(|(&m, &v)| self.of_moments(m, v)).collect())
    }
}

impl Maximand for LogEi<'_> {
    type Error = SurrogateError;

    fn values(&self, xs: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        Acquisition::values(self, xs)
    }

    fn value_and_grad(&self, x: &[f64]) -> Result<(f64, Vec<f64>), SurrogateError> {
        let p = self.posterior.point_posterior(x)?;
        let clamped = p.variance < MIN_VARIANCE;
        let sigma = p.variance.max(MIN_VARIANCE).sqrt();
        let z = (self.best - p.mean) / sigma;
        let dlh = dlog_ei_kernel(z);
        let grad = (0..x.len())
            .map(|j| {
                let dsigma = if clamped { 0.0 } else { p.variance_grad[j] / (2.0 * sigma) };
                let dz = -(p.mean_grad[j] + z * dsigma) / sigma;
                dlh * dz + dsigma / sigma
            })
            .collect();
        Ok((log_ei_kernel(z) + sigma.ln(), grad))
    }
}

/// Parameters of `logei`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogEiParams {
    /// The surrogate model.
    pub surrogate: PluginSpec,
    /// How the acquisition is maximized.
    pub acq_optimizer: AcqOptimizerParams,
}

impl Default for LogEiParams {
    fn default() -> Self {
        Self { surrogate: PluginSpec::named("gp"), acq_optimizer: AcqOptimizerParams::default() }
    }
}

impl PluginParams for LogEiParams {
    fn validate(&self) -> Result<(), ParamError> {
        self.acq_optimizer.validate("acq_optimizer")
    }
}

/// The LogEI strategy.
pub struct LogEiStrategy {
    dim: usize,
    model: Model,
    acq_optimizer: AcqOptimizerParams,
}

impl LogEiStrategy {
    /// LogEI on `model` in dimension `d`.
    pub fn new(dim: usize, model: Model, acq_optimizer: AcqOptimizerParams) -> Self {
        Self { dim, model, acq_optimizer }
    }
}

impl Strategy for LogEiStrategy {
    fn handles_pending(&self) -> bool {
        true
    }

    fn ask(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        let mut ask = Ask::default();
        if fit_or_random(&mut self.model, ctx, rng, &mut ask.report)?.is_none() {
            ask.points.push(random_point(self.dim, rng));
            return Ok(ask);
        }
        let posterior = ask.report.timed("pending", || Believer::new(&self.model, ctx.pending))?;
        let best = posterior.incumbent(ctx.data).expect("invariant: the data are not empty");
        if !ctx.pending.is_empty() {
            ask.report.diagnostic("pending", ctx.pending.len());
            ask.report.diagnostic("incumbent", best);
        }
        let acq = LogEi::new(&posterior, best);
        let seed = rng.next_u64();
        let found = ask.report.timed("acquisition", || maximize(&acq, self.dim, &self.acq_optimizer, seed))?;
        let found = maximum_or_error(found, "log EI")?;
        ask.report.diagnostic("log_ei", found.value);
        ask.points.push(found.x);
        Ok(ask)
    }
}

fn build(params: &Params, ctx: &BuildContext) -> Result<Built<dyn Strategy>, PluginError> {
    let mut p: LogEiParams = params.parse()?;
    let model = Model::build(
        &mut p.surrogate,
        &join_path(&params.path, "surrogate"),
        ctx,
        "logei",
        &[Capability::PosteriorGradients],
    )?;
    Ok(Built::new(Box::new(LogEiStrategy::new(ctx.dim, model, p.acq_optimizer.clone())), &p))
}

inventory::submit! {
    StrategyEntry {
        name: "logei",
        summary: "analytic log expected improvement (LogEI), multi-start L-BFGS",
        details: concat!(
            "Ament et al. 2023. Fits the surrogate every iteration, maximizes ln EI over the \
                  best observation (model output scale) by projected L-BFGS from the best \
                  `acq_optimizer.restarts` of `acq_optimizer.raw_samples` Sobol raw samples \
                  (paper: 10 of 512). `surrogate`: the model ({ name: gp } by default); \
                  logEI-DSP = the gp with `lengthscale_prior: dimension_scaled`. Pending points \
                  (evaluations in flight): kriging believer, the incumbent included.",
            "\n\n",
            include_str!("../params/logei.md"),
        ),
        default_params: les_core::registry::defaults_of::<LogEiParams>,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::best_observed;
    use les_core::{Dataset, Surrogate, stream_rng};
    use les_gp::testing::DenseGp;
    use les_numerics::fdcheck::FdCheck;

    fn fitted(d: usize) -> (Model, Dataset) {
        let mut rng = stream_rng(3, "t", 0);
        let pts = crate::design::uniform_points(6, d, &mut rng);
        let y: Vec<f64> = pts.chunks(d).map(|x| x.iter().map(|v| (v - 0.4).powi(2)).sum::<f64>() * 5.0).collect();
        let data = Dataset::from_rows(d, pts, y);
        let mut gp = Model::new("test_gp", Box::new(DenseGp::new(vec![0.3; d], 1.0, 1e-6).standardized(true)));
        gp.fit(&data, &mut rng).unwrap();
        (gp, data)
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let (gp, data) = fitted(3);
        let best = best_observed(gp.surrogate(), &data).unwrap();
        let gp = Believer::new(&gp, &[]).unwrap();
        // Also far from the data, where z is very negative and EI underflows without logs.
        for (offset, x) in [(0.0, [0.2, 0.7, 0.5]), (0.0, [0.9, 0.1, 0.95]), (-30.0, [0.45, 0.35, 0.4])] {
            let acq = LogEi::new(&gp, best + offset);
            let (v, g) = acq.value_and_grad(&x).unwrap();
            assert!(v.is_finite());
            let log_ei = |p: &[f64]| Acquisition::values(&acq, p).unwrap()[0];
            FdCheck::new(1e-4, 1e-4).check(&format!("log EI, offset {offset}"), log_ei, &x, &g);
        }
    }

    #[test]
    fn matches_plain_ei_where_it_does_not_underflow() {
        let (gp, data) = fitted(2);
        let best = best_observed(gp.surrogate(), &data).unwrap();
        let xs = [0.1, 0.2, 0.5, 0.5, 0.8, 0.3];
        let post = Believer::new(&gp, &[]).unwrap();
        let acq = LogEi::new(&post, best);
        let p = gp.surrogate().predict(&xs).unwrap();
        for (i, lv) in Acquisition::values(&acq, &xs).unwrap().into_iter().enumerate() {
            let s = p.variance[i].sqrt();
            let z = (best - p.mean[i]) / s;
            let ei = s * crate::normal::ei_kernel(z);
            assert!((lv.exp() - ei).abs() <= 1e-10 * ei.max(1e-300), "{} vs {ei}", lv.exp());
        }
    }

    #[test]
    fn beats_random_search() {
        let seeds = [1, 2, 3];
        let budget = 30;
        let random = crate::testutil::random_baseline(budget, &seeds);
        let acq = AcqOptimizerParams { raw_samples: 128, restarts: 3, max_iters: 50 };
        let logei = seeds
            .iter()
            .map(|&s| {
                let mut st = LogEiStrategy::new(
                    5,
                    Model::new("test_gp", Box::new(DenseGp::new(vec![0.4; 5], 1.0, 1e-6).standardized(true))),
                    acq.clone(),
                );
                crate::testutil::run(&mut st, &crate::testutil::bowl, 5, budget, 2, s)
            })
            .sum::<f64>()
            / seeds.len() as f64;
        eprintln!("logei {logei} random {random}");
        assert!(logei < 0.5 * random, "logei {logei} vs random {random}");
    }

    fn ask_with(st: &mut LogEiStrategy, data: &Dataset, pending: &[Vec<f64>], seed: u64) -> Vec<f64> {
        let ctx = AskContext {
            data,
            pending,
            iteration: 3,
            n_proposed: data.len() + pending.len(),
            remaining: 5,
            budget: 20,
        };
        st.ask(&ctx, &mut stream_rng(seed, "ask", 3)).unwrap().points.remove(0)
    }

    fn strategy(d: usize) -> LogEiStrategy {
        let mut gp = DenseGp::new(vec![0.3; d], 1.0, 1e-6).standardized(false);
        gp.noise_variance = 1e-4;
        let acq = AcqOptimizerParams { raw_samples: 256, restarts: 4, max_iters: 100 };
        LogEiStrategy::new(d, Model::new("test_gp", Box::new(gp)), acq)
    }

    #[test]
    fn a_pending_point_is_not_asked_again_and_loses_its_ei() {
        let d = 3;
        let (_, data) = fitted(d);
        let mut st = strategy(d);
        assert!(st.handles_pending());
        let first = ask_with(&mut st, &data, &[], 5);
        let second = ask_with(&mut st, &data, std::slice::from_ref(&first), 5);
        let third = ask_with(&mut st, &data, &[first.clone(), second.clone()], 5);
        let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| (u - v).powi(2)).sum::<f64>().sqrt();
        // Length scale 0.3: a new point within 0.05 would be the same place in the model's eyes.
        assert!(dist(&first, &second) > 0.05, "{first:?} vs {second:?}");
        assert!(dist(&first, &third) > 0.05 && dist(&second, &third) > 0.05, "{third:?}");
        // Log EI at the pending point drops by orders of magnitude (σ falls to the noise level).
        let model = &st.model;
        let plain = Believer::new(model, &[]).unwrap();
        let cond = Believer::new(model, std::slice::from_ref(&first)).unwrap();
        let before = Acquisition::values(&LogEi::new(&plain, plain.incumbent(&data).unwrap()), &first).unwrap()[0];
        let after = Acquisition::values(&LogEi::new(&cond, cond.incumbent(&data).unwrap()), &first).unwrap()[0];
        assert!(after < before - 3.0, "ln EI at the pending point: {before} → {after}");
        // Deterministic for a seed, with pending points.
        assert_eq!(ask_with(&mut st, &data, std::slice::from_ref(&first), 5), second);
    }

    #[test]
    fn conditioned_log_ei_matches_a_dense_refit_with_the_believed_values() {
        let d = 3;
        let (_, data) = fitted(d);
        let mut st = strategy(d);
        let _ = ask_with(&mut st, &data, &[], 1); // fits the model
        let pending = vec![vec![0.4, 0.4, 0.4], vec![0.7, 0.2, 0.5]];
        let b = Believer::new(&st.model, &pending).unwrap();
        // Dense reference: the same fixed-hyperparameter GP refitted on the data plus the
        // pending points at their believed values (no standardization: the scale is kept).
        let (dense, more) = crate::testutil::believed(st.model.surrogate(), &data, &pending, 0.3);
        let best = more.y().iter().copied().fold(f64::INFINITY, f64::min);
        assert_eq!(b.incumbent(&data), Some(best));
        let xs = [0.45, 0.4, 0.35, 0.7, 0.25, 0.5, 0.1, 0.9, 0.9];
        let got = Acquisition::values(&LogEi::new(&b, best), &xs).unwrap();
        let p = dense.predict(&xs).unwrap();
        assert_eq!(got.len(), 3);
        for (i, g) in got.iter().enumerate() {
            let s = p.variance[i].max(MIN_VARIANCE).sqrt();
            let want = log_ei_kernel((best - p.mean[i]) / s) + s.ln();
            assert!((g - want).abs() < 1e-6 * (1.0 + want.abs()), "{i}: {g} vs {want}");
        }
    }
}

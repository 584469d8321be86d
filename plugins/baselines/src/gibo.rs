//! GIBO, gradient-information Bayesian optimization (Müller et al. 2021, "Local policy search
//! with Bayesian optimization", NeurIPS), and HCI-GIBO, its "high-confidence improvement" step
//! rule (He et al. 2025), with the paper's settings (§17 of `docs/les-algorithm.md`).
//!
//! Algorithm: a current point `θ` (at the start, the best observation so far — the initial
//! design). Each step evaluates `θ` (not at the start, where it is already evaluated), then
//! takes up to `max_samples_per_step` (default `d`) acquisition samples: each is the point
//! `z ∈ [0, 1]^d` that most lowers the trace of the posterior covariance of `∇f(θ)` under a
//! derivative GP (the surrogate's [`les_core::DerivativeSurrogate`]), maximized from the best `acq_optimizer.restarts` of
//! `acq_optimizer.raw_samples` Sobol points (paper: 5 of 64). Then it moves
//! `θ ← clamp(θ − η·ℓ ⊙ μ∇/‖μ∇‖, 0, 1)` (SGD with learning rate `η = 0.25` on the posterior-mean
//! gradient normalized to unit length, times the length scales). The GP sees only the last
//! `training_window` (default `5d`) observations.
//!
//! With `step_rule: hci` the step is taken as soon as, after an acquisition sample,
//! `p_trust = 1 − Φ((Lη‖μ∇‖/2 − ‖μ∇‖)/q) > confidence` (α = 0.9), with
//! `L = σ_f² / mean(ℓ)`, `u = μ∇/‖μ∇‖`, `q = uᵀΣ∇u`. As in the reference code, the
//! variance-like `q` is used as the standard deviation of the normal (a quirk kept on purpose).
//!
//! **Pending points** (evaluations in flight, `workers > 1`, `les ask --n K`): GIBO's
//! acquisition, the information about `∇f(θ)`, depends only on where the GP observes: the
//! posterior covariance `Σ∇` of the gradient after the pending evaluations is the same whatever
//! values they return. So a gradient sample is chosen for the gradient posterior conditioned on
//! the pending locations ([`GradientPosterior::conditioned_on`], which puts the believed value
//! `μ(p)` at each so that `μ∇` stays as it is) — exact, not a heuristic: the trace reduction it
//! maximizes is the one the new point adds to the pending ones. The current point `θ` is asked
//! once: when its evaluation is already in flight, the ask is a gradient sample around it
//! instead. `tell` counts each told evaluation (not each batch): the one at `θ` completes the
//! centre, every other one is a gradient sample of the current step (one asked for a previous
//! `θ` that comes back after a step counts for the new step — it is data near the new point
//! all the same). A synchronous batch (`les ask --n K`) asks one point at a time with the
//! earlier ones pending: greedy joint gradient information.
//!
//! Resumability: the state (data, `θ`, whether `θ` awaits evaluation, samples this step) and
//! the GP fit of the next acquisition live in `tell`, which fits the surrogate with the stream
//! `stream_rng(seed, "gibo_fit", observations told)`; `ask` only reads them.
//!
//! Differences from the reference: the surrogate's hyperparameters are fitted from the first
//! step on (the reference keeps outputscale 1 until `N ≥ d`), and the two initial evaluations
//! count in the budget (the runner's budget is exact). The surrogate must have a gradient
//! posterior ([`les_core::Surrogate::as_derivative`]) and report its hyperparameters
//! ([`les_core::Surrogate::hyperparameters`]); the `gp` does, with either kernel.
//!
#![doc = include_str!("../params/gibo.md")]
//!
//! ```yaml
//! strategy: { name: gibo, params: { step_rule: hci, confidence: 0.9 } }
//! ```

use les_core::params::{ParamError, Params, PluginParams, join_path};
use les_core::registry::{BuildContext, Built, PluginError, PluginSpec, StrategyEntry};
use les_core::{
    Ask, AskContext, Capability, Dataset, GradientPosterior, Observation, Strategy, StrategyError, StreamRng,
    stream_rng,
};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::acqopt::{AcqOptimizerParams, Maximand, maximize};
use crate::model::Model;
use crate::normal::cdf;
use crate::strategy_util::{maximum_or_error, random_point};

/// Paper learning rate η.
pub const DEFAULT_LEARNING_RATE: f64 = 0.25;
/// HCI-GIBO's α (`hci_gibo_09`).
pub const DEFAULT_CONFIDENCE: f64 = 0.9;
/// Training window in multiples of `d`.
pub const TRAINING_WINDOW_PER_DIM: usize = 5;

/// When GIBO moves.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum StepRule {
    /// After `max_samples_per_step` acquisition samples (GIBO).
    #[default]
    Plain,
    /// Also as soon as `p_trust > confidence` (HCI-GIBO).
    Hci,
}

/// Parameters of `gibo`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GiboParams {
    /// The surrogate; it needs a gradient posterior.
    pub surrogate: PluginSpec,
    /// `plain` or `hci`.
    pub step_rule: StepRule,
    /// HCI's α.
    pub confidence: f64,
    /// Acquisition samples per step; `None` = `d`.
    pub max_samples_per_step: Option<usize>,
    /// Observations the GP sees (the most recent ones); `None` = `5d`.
    pub training_window: Option<usize>,
    /// Learning rate η.
    pub learning_rate: f64,
    /// How the gradient-information acquisition is maximized.
    pub acq_optimizer: AcqOptimizerParams,
}

impl Default for GiboParams {
    fn default() -> Self {
        Self {
            surrogate: PluginSpec::named("gp"),
            step_rule: StepRule::Plain,
            confidence: DEFAULT_CONFIDENCE,
            max_samples_per_step: None,
            training_window: None,
            learning_rate: DEFAULT_LEARNING_RATE,
            acq_optimizer: AcqOptimizerParams { raw_samples: 64, restarts: 5, max_iters: 100 },
        }
    }
}

impl PluginParams for GiboParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(self.confidence > 0.0 && self.confidence < 1.0) {
            return Err(ParamError::invalid("confidence", self.confidence, "a probability in (0, 1)"));
        }
        if self.max_samples_per_step == Some(0) {
            return Err(ParamError::invalid("max_samples_per_step", 0, "at least 1, or null for d"));
        }
        if let Some(w) = self.training_window
            && w < 2
        {
            return Err(ParamError::invalid("training_window", w, "at least 2, or null for 5d"));
        }
        if !(self.learning_rate > 0.0 && self.learning_rate.is_finite()) {
            return Err(ParamError::invalid("learning_rate", self.learning_rate, "a finite number > 0"));
        }
        self.acq_optimizer.validate("acq_optimizer")
    }
}

/// The GP of the current step: gradient posterior at `θ` and the hyperparameters used.
struct StepModel {
    posterior: Box<dyn GradientPosterior>,
    lengthscales: Vec<f64>,
    signal_variance: f64,
    diagnostics: Value,
}

/// GIBO / HCI-GIBO.
pub struct GiboStrategy {
    dim: usize,
    seed: u64,
    model: Model,
    step_rule: StepRule,
    confidence: f64,
    max_samples: usize,
    window: usize,
    learning_rate: f64,
    acq_optimizer: AcqOptimizerParams,
    // State, changed by `tell` only.
    data: Dataset,
    n_told: usize,
    theta: Option<Vec<f64>>,
    centre_pending: bool,
    samples_this_step: usize,
    steps: usize,
    step_model: Option<StepModel>,
    error: Option<String>,
}

impl GiboStrategy {
    /// GIBO in dimension `d` on `model`; `seed` seeds the fits done in `tell`.
    pub fn new(dim: usize, seed: u64, model: Model, p: &GiboParams) -> Self {
        Self {
            dim,
            seed,
            model,
            step_rule: p.step_rule,
            confidence: p.confidence,
            max_samples: p.max_samples_per_step.unwrap_or(dim),
            window: p.training_window.unwrap_or(TRAINING_WINDOW_PER_DIM * dim),
            learning_rate: p.learning_rate,
            acq_optimizer: p.acq_optimizer.clone(),
            data: Dataset::new(dim),
            n_told: 0,
            theta: None,
            centre_pending: false,
            samples_this_step: 0,
            steps: 0,
            step_model: None,
            error: None,
        }
    }

    /// The current point `θ`.
    pub fn theta(&self) -> Option<&[f64]> {
        self.theta.as_deref()
    }

    /// Steps taken so far.
    pub fn steps(&self) -> usize {
        self.steps
    }

    /// Fits the surrogate to the training window and builds the gradient posterior at `θ`.
    fn fit_step_model(&mut self, theta: &[f64]) -> Result<StepModel, String> {
        let (n, d) = (self.data.len(), self.dim);
        let start = n.saturating_sub(self.window);
        let window = Dataset::from_rows(d, self.data.x()[start * d..].to_vec(), self.data.y()[start..].to_vec());
        let mut rng = stream_rng(self.seed, "gibo_fit", self.n_told as u64);
        let report = self.model.fit(&window, &mut rng).map_err(|e| format!("surrogate: {e}"))?;
        let hyper = self.model.hyperparameters("gibo")?;
        Ok(StepModel {
            posterior: self.gradient_posterior(theta)?,
            lengthscales: hyper.lengthscales,
            signal_variance: hyper.signal_variance,
            diagnostics: report.to_json(),
        })
    }

    /// The fitted surrogate's gradient posterior at `theta`.
    fn gradient_posterior(&self, theta: &[f64]) -> Result<Box<dyn GradientPosterior>, String> {
        let derivative = self
            .model
            .surrogate()
            .as_derivative()
            .ok_or_else(|| Capability::GradientPosterior.missing("gibo", self.model.name()))?;
        derivative.gradient_posterior(theta).map_err(|e| format!("surrogate: {e}"))
    }

    /// HCI's probability that the step improves (see the module docs).
    fn p_trust(&self, m: &StepModel) -> f64 {
        let g = m.posterior.mean();
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        if !(norm > 0.0 && norm.is_finite()) {
            return 0.0;
        }
        let d = self.dim;
        let u: Vec<f64> = g.iter().map(|v| v / norm).collect();
        let q: f64 =
            (0..d).map(|a| (0..d).map(|b| u[a] * m.posterior.covariance()[a * d + b] * u[b]).sum::<f64>()).sum();
        let lipschitz = m.signal_variance / (m.lengthscales.iter().sum::<f64>() / d as f64);
        // The reference passes q (a variance) as the scale of the normal.
        1.0 - cdf((lipschitz * self.learning_rate * norm / 2.0 - norm) / q.max(f64::MIN_POSITIVE))
    }

    fn step(&mut self, m: &StepModel) {
        let g = m.posterior.mean();
        let norm = g.iter().map(|v| v * v).sum::<f64>().sqrt();
        let theta = self.theta.as_mut().expect("invariant: a step has a current point");
        if norm > 0.0 && norm.is_finite() {
            for i in 0..theta.len() {
                theta[i] = (theta[i] - self.learning_rate * m.lengthscales[i] * g[i] / norm).clamp(0.0, 1.0);
            }
        }
        self.centre_pending = true;
        self.samples_this_step = 0;
        self.steps += 1;
    }

    fn learn(&mut self, observations: &[Observation]) -> Result<(), String> {
        for o in observations {
            if let Ok(y) = o.y {
                self.data.push(&o.x, y);
            }
        }
        self.n_told += observations.len();
        self.step_model = None;
        match &self.theta {
            None => {
                // First data: start from the best observation, already evaluated.
                let Some(best) = self.data.best_index() else { return Ok(()) };
                self.theta = Some(self.data.point(best).to_vec());
                self.samples_this_step = 0;
            }
            Some(theta) => {
                // Each told evaluation counts: the one at θ (asked points come back exactly)
                // completes the centre, the others are gradient samples.
                let centre_told = self.centre_pending && observations.iter().any(|o| o.x == *theta);
                let samples = observations.len() - usize::from(centre_told);
                if centre_told {
                    self.centre_pending = false;
                }
                self.samples_this_step += samples;
            }
        }
        let theta = self.theta.clone().expect("invariant: set above");
        let m = self.fit_step_model(&theta)?;
        let hci_done =
            self.step_rule == StepRule::Hci && self.samples_this_step > 0 && self.p_trust(&m) > self.confidence;
        if self.samples_this_step >= self.max_samples || hci_done {
            self.step(&m);
            // The same fit at the new θ: gradient samples around it while its own evaluation
            // is in flight.
            let theta = self.theta.clone().expect("invariant: a step has a current point");
            let posterior = self.gradient_posterior(&theta)?;
            self.step_model = Some(StepModel { posterior, ..m });
        } else {
            self.step_model = Some(m);
        }
        Ok(())
    }
}

/// GIBO's acquisition: the reduction of `tr Σ∇(θ)` by one more observation, analytic gradient.
struct TraceReduction<'a>(&'a dyn GradientPosterior);

impl Maximand for TraceReduction<'_> {
    type Error = std::convert::Infallible;

    fn values(&self, xs: &[f64]) -> Result<Vec<f64>, Self::Error> {
        let d = self.0.point().len();
        Ok(xs.chunks(d).map(|z| self.0.trace_reduction(z)).collect())
    }

    fn value_and_grad(&self, x: &[f64]) -> Result<(f64, Vec<f64>), Self::Error> {
        Ok(self.0.trace_reduction_and_grad(x))
    }
}

impl Strategy for GiboStrategy {
    fn handles_pending(&self) -> bool {
        true
    }

    fn ask(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        if let Some(e) = &self.error {
            return Err(StrategyError::Other(e.clone()));
        }
        let mut ask = Ask::default();
        let Some(theta) = &self.theta else {
            ask.report.diagnostic("note", "no data yet: uniform random point");
            ask.points.push(random_point(self.dim, rng));
            return Ok(ask);
        };
        ask.report.diagnostic("steps", self.steps);
        if self.centre_pending && !ctx.pending.contains(theta) {
            ask.report.diagnostic("role", "centre");
            ask.points.push(theta.clone());
            return Ok(ask);
        }
        let m = self.step_model.as_ref().expect("invariant: tell leaves a gradient posterior at θ");
        ask.report.diagnostic("role", "gradient_sample");
        ask.report.diagnostic("surrogate", m.diagnostics.clone());
        ask.report.diagnostic("gradient_trace", m.posterior.trace());
        if self.step_rule == StepRule::Hci {
            ask.report.diagnostic("p_trust", self.p_trust(m));
        }
        let conditioned;
        let posterior: &dyn GradientPosterior = if ctx.pending.is_empty() {
            m.posterior.as_ref()
        } else {
            conditioned = ask
                .report
                .timed("pending", || m.posterior.conditioned_on(&ctx.pending.concat()))
                .map_err(|e| StrategyError::Other(format!("conditioning on the pending points: {e}")))?;
            ask.report.diagnostic("pending", ctx.pending.len());
            ask.report.diagnostic("gradient_trace_with_pending", conditioned.trace());
            conditioned.as_ref()
        };
        let seed = rng.next_u64();
        let acq = TraceReduction(posterior);
        let found = ask.report.timed("acquisition", || maximize(&acq, self.dim, &self.acq_optimizer, seed));
        let found = maximum_or_error(found.unwrap_or_else(|e| match e {}), "the gradient information")?;
        ask.report.diagnostic("trace_reduction", found.value);
        ask.points.push(found.x);
        Ok(ask)
    }

    fn tell(&mut self, observations: &[Observation]) -> Result<(), StrategyError> {
        if self.error.is_some() {
            return Ok(());
        }
        self.learn(observations).map_err(|e| {
            self.error = Some(e.clone());
            StrategyError::Other(e)
        })
    }
}

fn build(params: &Params, ctx: &BuildContext) -> Result<Built<dyn Strategy>, PluginError> {
    let mut p: GiboParams = params.parse()?;
    let model = Model::build(
        &mut p.surrogate,
        &join_path(&params.path, "surrogate"),
        ctx,
        "gibo",
        &[Capability::GradientPosterior],
    )?;
    Ok(Built::new(Box::new(GiboStrategy::new(ctx.dim, ctx.seed, model, &p)), &p))
}

inventory::submit! {
    StrategyEntry {
        name: "gibo",
        summary: "GIBO local gradient-information BO; `step_rule: hci` for HCI-GIBO",
        details: concat!(
            "Müller et al. 2021 / He et al. 2025. Evaluates the current point, takes up to d \
                  samples that most reduce the trace of the gradient posterior covariance there, \
                  then steps θ ← θ − 0.25·ℓ⊙μ∇/‖μ∇‖ clamped to the cube. `step_rule: hci` steps \
                  early when p_trust > confidence (0.9). GP on the last 5d observations. Pending \
                  points (evaluations in flight): the gradient information is conditioned on \
                  their locations (exact).",
            "\n\n",
            include_str!("../params/gibo.md"),
        ),
        default_params: les_core::registry::defaults_of::<GiboParams>,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_gp::testing::DenseGp;

    fn gibo(rule: StepRule) -> GiboStrategy {
        let p = GiboParams { step_rule: rule, ..GiboParams::default() };
        GiboStrategy::new(
            5,
            7,
            Model::new("test_gp", Box::new(DenseGp::new(vec![0.4; 5], 1.0, 1e-6).standardized(true))),
            &p,
        )
    }

    #[test]
    fn steps_after_d_samples_and_evaluates_the_new_centre() {
        let mut g = gibo(StepRule::Plain);
        let f = crate::testutil::bowl;
        let init = [vec![0.9, 0.1, 0.2, 0.6, 0.3], vec![0.5, 0.5, 0.5, 0.5, 0.5]];
        g.tell(&init.iter().map(|x| Observation { x: x.clone(), y: Ok(f(x)) }).collect::<Vec<_>>()).unwrap();
        assert_eq!(g.theta(), Some(&init[1][..]));
        let mut data = Dataset::new(5);
        for (k, x) in init.iter().enumerate() {
            data.push(x, f(x));
            let _ = k;
        }
        for k in 0..5 {
            let ctx = AskContext {
                pending: &[],
                data: &data,
                iteration: k + 1,
                n_proposed: data.len(),
                remaining: 9,
                budget: 20,
            };
            let a = g.ask(&ctx, &mut stream_rng(1, "ask", k as u64)).unwrap();
            assert_eq!(a.report.diagnostics["role"], "gradient_sample");
            let x = a.points[0].clone();
            g.tell(&[Observation { x: x.clone(), y: Ok(f(&x)) }]).unwrap();
            data.push(&x, f(&x));
        }
        assert_eq!(g.steps(), 1);
        let theta = g.theta().unwrap().to_vec();
        // The step has length η·‖ℓ ⊙ u‖ = 0.25·0.4 and goes towards the bowl's centre.
        let moved: f64 = theta.iter().zip(&init[1]).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
        assert!((moved - 0.1).abs() < 1e-9, "{moved}");
        assert!(f(&theta) < f(&init[1]));
        let ctx =
            AskContext { pending: &[], data: &data, iteration: 9, n_proposed: data.len(), remaining: 9, budget: 20 };
        let a = g.ask(&ctx, &mut stream_rng(1, "ask", 9)).unwrap();
        assert_eq!(a.points[0], theta);
        assert_eq!(a.report.diagnostics["role"], "centre");
    }

    #[test]
    fn beats_random_search() {
        let seeds = [1, 2, 3];
        let budget = 30;
        let random = crate::testutil::random_baseline(budget, &seeds);
        for rule in [StepRule::Plain, StepRule::Hci] {
            let best = seeds
                .iter()
                .map(|&s| {
                    let p = GiboParams {
                        step_rule: rule,
                        learning_rate: 0.5,
                        max_samples_per_step: Some(3),
                        acq_optimizer: AcqOptimizerParams { raw_samples: 32, restarts: 2, max_iters: 30 },
                        ..GiboParams::default()
                    };
                    let mut st = GiboStrategy::new(
                        5,
                        s,
                        Model::new("test_gp", Box::new(DenseGp::new(vec![0.4; 5], 1.0, 1e-6).standardized(true))),
                        &p,
                    );
                    let out = crate::testutil::run(&mut st, &crate::testutil::bowl, 5, budget, 2, s);
                    eprintln!("{rule:?} seed {s}: {out}, steps {}", st.steps());
                    out
                })
                .sum::<f64>()
                / seeds.len() as f64;
            eprintln!("gibo {rule:?} {best} random {random}");
            assert!(best < 0.5 * random, "gibo {rule:?} {best} vs random {random}");
        }
    }

    /// A GIBO told the initial design, asking gradient samples around θ.
    fn started() -> (GiboStrategy, Dataset) {
        let mut g = gibo(StepRule::Plain);
        let f = crate::testutil::bowl;
        let init = [vec![0.9, 0.1, 0.2, 0.6, 0.3], vec![0.5, 0.5, 0.5, 0.5, 0.5]];
        g.tell(&init.iter().map(|x| Observation { x: x.clone(), y: Ok(f(x)) }).collect::<Vec<_>>()).unwrap();
        let mut data = Dataset::new(5);
        for x in &init {
            data.push(x, f(x));
        }
        (g, data)
    }

    fn ask_with(g: &mut GiboStrategy, data: &Dataset, pending: &[Vec<f64>]) -> Ask {
        let ctx = AskContext {
            pending,
            data,
            iteration: 4,
            n_proposed: data.len() + pending.len(),
            remaining: 9,
            budget: 20,
        };
        g.ask(&ctx, &mut stream_rng(1, "ask", 4)).unwrap()
    }

    #[test]
    fn gradient_samples_with_pending_points_add_to_them() {
        let (mut g, data) = started();
        assert!(g.handles_pending());
        let first = ask_with(&mut g, &data, &[]).points.remove(0);
        let second = ask_with(&mut g, &data, std::slice::from_ref(&first));
        assert_eq!(second.report.diagnostics["role"], "gradient_sample");
        let second = second.points[0].clone();
        let dist = |a: &[f64], b: &[f64]| a.iter().zip(b).map(|(u, v)| (u - v).powi(2)).sum::<f64>().sqrt();
        // Gradient samples sit close to θ (within a fraction of the length scale 0.4, like the
        // points of a finite difference), so the test is that they differ and complement each
        // other.
        assert!(dist(&first, &second) > 1e-3, "{first:?} vs {second:?}");
        // The second point is the best one to add to the first (on the acquisition's raw
        // samples and ascents): its joint trace reduction beats taking the first twice.
        let m = g.step_model.as_ref().unwrap();
        let cond = m.posterior.conditioned_on(&first).unwrap();
        assert!(cond.trace_reduction(&second) > 10.0 * cond.trace_reduction(&first));
        // Deterministic with pending points.
        assert_eq!(ask_with(&mut g, &data, std::slice::from_ref(&first)).points[0], second);
    }

    #[test]
    fn the_centre_is_asked_once_and_told_evaluations_count_one_by_one() {
        let (mut g, mut data) = started();
        let f = crate::testutil::bowl;
        // Five gradient samples asked together (the runner with five workers), told together.
        let mut pending: Vec<Vec<f64>> = Vec::new();
        for _ in 0..5 {
            let x = ask_with(&mut g, &data, &pending).points.remove(0);
            pending.push(x);
        }
        let obs: Vec<Observation> = pending.iter().map(|x| Observation { x: x.clone(), y: Ok(f(x)) }).collect();
        for o in &obs {
            data.push(&o.x, f(&o.x));
        }
        g.tell(&obs).unwrap();
        // d = 5 samples: a step, and the new centre is asked.
        assert_eq!(g.steps(), 1);
        let theta = g.theta().unwrap().to_vec();
        let a = ask_with(&mut g, &data, &[]);
        assert_eq!((a.points[0].clone(), a.report.diagnostics["role"].clone()), (theta.clone(), "centre".into()));
        // With the centre in flight, the next ask is a gradient sample around it, not θ again.
        let b = ask_with(&mut g, &data, std::slice::from_ref(&theta));
        assert_eq!(b.report.diagnostics["role"], "gradient_sample");
        assert_ne!(b.points[0], theta);
        // Told together, the centre completes the centre and the other counts as a sample.
        let both = [theta.clone(), b.points[0].clone()];
        g.tell(&both.iter().map(|x| Observation { x: x.clone(), y: Ok(f(x)) }).collect::<Vec<_>>()).unwrap();
        assert!(!g.centre_pending);
        assert_eq!(g.samples_this_step, 1);
    }
}

//! The conformance harness: every registered strategy, inner optimizer, surrogate, sequence
//! sampler and acquisition is checked through its trait, driven by the registry, so a new
//! plugin is covered the moment it registers (`tests/conformance.rs`; a crate of your own calls
//! [`check_all`] from its tests, as `examples/plugin-crate/tests/conformance.rs` does).
//!
//! Each plugin is built with its registered [`TestParams`](les_core::registry::TestParams)
//! (small settings, so the harness stays fast) or its defaults, in `d = 2`, and checked for:
//!
//! - **strategies**: points of the right dimension in the unit cube; an ask returns at most
//!   the remaining budget; the same seed gives the same points; replaying the told
//!   observations in their batches into a fresh strategy gives the same next ask (what resume
//!   does); one that handles pending points does not ask a point in flight again; a failed
//!   evaluation that is told is handled (the next ask succeeds);
//! - **inner optimizers**: the history's shape, its first record at the start point, every
//!   position projected into the cube (on paths whose minima lie outside it), the same stream
//!   the same history, a start point of the wrong length an error and not a panic;
//! - **surrogates**: prediction and covariance shapes, variances ≥ 0 and equal to the
//!   covariance's diagonal; for pathwise ones, path gradients against central finite
//!   differences of the path values, and `gradients_block` against `value_and_grad`; and each
//!   capability it offers: posterior gradients against central differences of the
//!   predictions, the gradient posterior's mean against them, conditioning on a point at its
//!   mean keeping the mean and shrinking the variance there, hyperparameters of length `d`;
//! - **sequence samplers**: shapes, support points in the cube, sequences starting at the start
//!   point, determinism for a stream;
//! - **acquisitions**: candidates in the cube, one value per candidate, no NaN, the fast path
//!   equal to [`Acquisition::values`], and a build with a pending point.

use les_core::registry::{self, BuildContext, PluginKind, test_params};
use les_core::{
    Acquisition, AcquisitionContext, Dataset, GpHyperparameters, InnerOptimizer, IterationReport, KernelKind,
    Observation, Params, PathBatch, SampledSequences, SequenceAcquisition, SequenceSampler, Strategy, Surrogate,
    stream_rng,
};
use les_core::{AskContext, registry::Component};
use rand::RngExt;

/// Input dimension of every check.
pub const DIM: usize = 2;
/// Evaluation budget of the simulated strategy runs.
const BUDGET: usize = 6;
/// Initial design of the simulated runs.
const INITIAL: usize = 2;

/// One failed check.
#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    /// Kind of the plugin.
    pub kind: PluginKind,
    /// Its name.
    pub name: String,
    /// Which check.
    pub check: &'static str,
    /// What went wrong.
    pub message: String,
}

impl std::fmt::Display for Failure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} `{}`: {}: {}", self.kind, self.name, self.check, self.message)
    }
}

/// What [`check_all`] checked and what failed.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Every plugin checked, `(kind, name)`.
    pub checked: Vec<(PluginKind, String)>,
    /// Every failed check.
    pub failures: Vec<Failure>,
}

/// The kinds the harness checks (objectives have their own tests).
pub const KINDS: [PluginKind; 5] = [
    PluginKind::Strategy,
    PluginKind::InnerOptimizer,
    PluginKind::Surrogate,
    PluginKind::SequenceSampler,
    PluginKind::Acquisition,
];

/// A failed check: its name and what went wrong.
type Broken = (&'static str, String);
type Check = Result<(), Broken>;
/// Candidates, their values by the fast path, and by `values`.
type Scored = (Vec<f64>, Vec<f64>, Vec<f64>);

fn fail(check: &'static str, message: impl Into<String>) -> Check {
    Err((check, message.into()))
}

/// Checks every registered plugin of the [`KINDS`].
pub fn check_all() -> Report {
    let mut report = Report::default();
    for kind in KINDS {
        for entry in registry::list(kind) {
            report.checked.push((kind, entry.name.to_owned()));
            let result = match kind {
                PluginKind::Strategy => check_strategy(entry.name),
                PluginKind::InnerOptimizer => check_inner_optimizer(entry.name),
                PluginKind::Surrogate => check_surrogate(entry.name),
                PluginKind::SequenceSampler => check_sampler(entry.name),
                PluginKind::Acquisition => check_acquisition(entry.name),
                PluginKind::Objective => Ok(()),
            };
            if let Err((check, message)) = result {
                report.failures.push(Failure { kind, name: entry.name.to_owned(), check, message });
            }
        }
    }
    report
}

fn context(seed: u64) -> BuildContext {
    // An oracle for within-model settings (`hyperparameters: oracle`).
    let oracle = GpHyperparameters {
        kernel: KernelKind::SeArd,
        lengthscales: vec![0.3; DIM],
        signal_variance: 1.0,
        noise_std: 1e-3,
    };
    BuildContext { dim: DIM, oracle: Some(oracle), seed }
}

fn build<C: ?Sized + Component>(name: &str, seed: u64) -> Result<Box<C>, (&'static str, String)> {
    let params = Params::new(test_params(C::KIND, name), "params");
    registry::build::<C>(name, "name", &params, &context(seed))
        .map(|b| b.component)
        .map_err(|e| ("builds with its test params", e.to_string()))
}

/// A smooth test function on the cube with its minimum inside.
fn objective(x: &[f64]) -> f64 {
    x.iter().map(|v| (v - 0.3) * (v - 0.3)).sum::<f64>() + 0.3 * (5.0 * x[0]).sin()
}

fn uniform(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = stream_rng(seed, "conformance", 0);
    (0..n).map(|_| rng.random::<f64>()).collect()
}

/// A fitted data set of `n` points of [`objective`].
fn data(n: usize) -> Dataset {
    let x = uniform(n * DIM, 1);
    let y = x.chunks(DIM).map(objective).collect();
    Dataset::from_rows(DIM, x, y)
}

/// One simulated run: the asks' points, and the observation batches told before each ask.
struct Simulated {
    asks: Vec<Vec<Vec<f64>>>,
    batches: Vec<Vec<Observation>>,
}

/// Runs `strategy` like the runner does with one worker: the initial design (if it uses
/// one), then ask → evaluate → tell until the budget is used or it stops. Evaluation `fail_at`
/// (counted from 0 over all evaluations) fails.
fn simulate(
    strategy: &mut dyn Strategy,
    seed: u64,
    fail_at: Option<usize>,
) -> Result<Simulated, (&'static str, String)> {
    let mut data = Dataset::new(DIM);
    let mut untold: Vec<Observation> = Vec::new();
    let mut proposed = 0;
    let evaluate = |x: &[f64], data: &mut Dataset, untold: &mut Vec<Observation>, index: usize| {
        if fail_at == Some(index) {
            untold.push(Observation { x: x.to_vec(), y: Err("the conformance harness failed it".to_owned()) });
        } else {
            let y = objective(x);
            data.push(x, y);
            untold.push(Observation { x: x.to_vec(), y: Ok(y) });
        }
    };
    if strategy.uses_initial_design() {
        for (i, x) in uniform(INITIAL * DIM, seed).chunks(DIM).enumerate() {
            evaluate(x, &mut data, &mut untold, i);
            proposed += 1;
        }
    }
    let mut sim = Simulated { asks: Vec::new(), batches: Vec::new() };
    for iteration in 1.. {
        if proposed >= BUDGET {
            break;
        }
        let batch = std::mem::take(&mut untold);
        strategy.tell(&batch).map_err(|e| ("tell", e.to_string()))?;
        sim.batches.push(batch);
        let remaining = BUDGET - proposed;
        let ctx = AskContext { data: &data, pending: &[], iteration, n_proposed: proposed, remaining, budget: BUDGET };
        let ask = strategy
            .ask(&ctx, &mut stream_rng(seed, "ask", iteration as u64))
            .map_err(|e| ("asks", format!("iteration {iteration}: {e}")))?;
        if ask.points.len() > remaining {
            return Err(("at most the remaining budget", format!("{} points for {remaining} left", ask.points.len())));
        }
        if ask.points.is_empty() {
            if ask.stop.is_none() {
                return Err(("proposes a point", format!("iteration {iteration}: no point and no stop")));
            }
            break;
        }
        for p in &ask.points {
            if p.len() != DIM || p.iter().any(|v| !(0.0..=1.0).contains(v)) {
                return Err(("points in the unit cube", format!("iteration {iteration}: {p:?}")));
            }
        }
        for p in &ask.points {
            evaluate(p, &mut data, &mut untold, proposed);
            proposed += 1;
        }
        sim.asks.push(ask.points);
        if ask.stop.is_some() {
            break;
        }
    }
    Ok(sim)
}

fn check_strategy(name: &str) -> Check {
    let seed = 11;
    let run = simulate(build::<dyn Strategy>(name, seed)?.as_mut(), seed, None)?;
    if run.asks.is_empty() {
        return fail("proposes a point", "no ask proposed anything");
    }
    let again = simulate(build::<dyn Strategy>(name, seed)?.as_mut(), seed, None)?;
    if again.asks != run.asks {
        return fail("same seed, same points", format!("{:?} then {:?}", run.asks, again.asks));
    }
    // Resume: a fresh strategy told the same batches asks the same next points.
    let k = run.asks.len() - 1;
    let mut fresh = build::<dyn Strategy>(name, seed)?;
    let mut data = Dataset::new(DIM);
    for batch in &run.batches[..=k] {
        fresh.tell(batch).map_err(|e| ("replayed tells", e.to_string()))?;
        for o in batch {
            if let Ok(y) = o.y {
                data.push(&o.x, y);
            }
        }
    }
    let proposed = run.batches[..=k].iter().map(Vec::len).sum();
    let ctx = AskContext {
        data: &data,
        pending: &[],
        iteration: k + 1,
        n_proposed: proposed,
        remaining: BUDGET - proposed,
        budget: BUDGET,
    };
    let replayed =
        fresh.ask(&ctx, &mut stream_rng(seed, "ask", (k + 1) as u64)).map_err(|e| ("replayed tells", e.to_string()))?;
    if replayed.points != run.asks[k] {
        return fail(
            "replaying the tells gives the same next ask",
            format!("ask {}: {:?} in the run, {:?} after replay", k + 1, run.asks[k], replayed.points),
        );
    }
    // Pending points: a strategy that says it handles them does not ask a point again while it
    // is in flight (the next ask, as the runner makes it with a second worker: iteration 2,
    // nothing new told, the first ask's points pending).
    if fresh.handles_pending() {
        let pending = run.asks[0].clone();
        let mut again = build::<dyn Strategy>(name, seed)?;
        again.tell(&run.batches[0]).map_err(|e| ("replayed tells", e.to_string()))?;
        let mut data = Dataset::new(DIM);
        for o in &run.batches[0] {
            if let Ok(y) = o.y {
                data.push(&o.x, y);
            }
        }
        let proposed = run.batches[0].len() + pending.len();
        let ctx = AskContext {
            data: &data,
            pending: &pending,
            iteration: 2,
            n_proposed: proposed,
            remaining: BUDGET - proposed,
            budget: BUDGET,
        };
        let with = again
            .ask(&ctx, &mut stream_rng(seed, "ask", 2))
            .map_err(|e| ("asks with pending points", e.to_string()))?;
        if with.points.is_empty() || with.points.iter().any(|p| pending.contains(p)) {
            return fail(
                "a pending point is not asked again",
                format!("{:?} asked with {pending:?} in flight", with.points),
            );
        }
    }
    // A failed evaluation: the first the strategy proposed (or the first initial point).
    let first = build::<dyn Strategy>(name, seed)?;
    let fail_at = if first.uses_initial_design() { INITIAL } else { 0 };
    let failed = simulate(build::<dyn Strategy>(name, seed)?.as_mut(), seed, Some(fail_at))
        .map_err(|(check, m)| if check == "asks" { ("a told failure is handled", m) } else { (check, m) })?;
    if failed.asks.is_empty() {
        return fail("a told failure is handled", "no ask after the failure");
    }
    Ok(())
}

/// `L` separable quadratics in `d = 2` whose minima lie partly outside the cube.
struct Bowls {
    centres: Vec<f64>,
}

impl PathBatch for Bowls {
    fn n_paths(&self) -> usize {
        self.centres.len() / DIM
    }
    fn dim(&self) -> usize {
        DIM
    }
    fn value_and_grad(&self, xs: &[f64], values: &mut [f64], grads: &mut [f64]) {
        for (l, v) in values.iter_mut().enumerate() {
            *v = 0.0;
            for i in 0..DIM {
                let r = xs[l * DIM + i] - self.centres[l * DIM + i];
                *v += 2.0 * r * r;
                grads[l * DIM + i] = 4.0 * r;
            }
        }
    }
}

fn check_inner_optimizer(name: &str) -> Check {
    let optimizer = build::<dyn InnerOptimizer>(name, 3)?;
    let paths = Bowls { centres: vec![0.3, 0.6, 1.8, -0.5, 0.9, 0.1, -2.0, 3.0, 0.5, 0.5] };
    let x0 = [0.5, 0.4];
    let descend = |seed| optimizer.descend(&paths, &x0, &mut stream_rng(seed, "conformance", 1));
    let seqs = descend(1).map_err(|e| ("descends", e.to_string()))?;
    let l = paths.n_paths();
    let shape_ok = seqs.n_paths == l
        && seqs.dim == DIM
        && seqs.n_records >= 2
        && seqs.positions.len() == seqs.n_records * l * DIM
        && (seqs.values.is_empty() || seqs.values.len() == seqs.n_records * l);
    if !shape_ok {
        return fail(
            "history shape",
            format!(
                "L {} d {} records {} positions {} values {} for L = {l}, d = {DIM}",
                seqs.n_paths,
                seqs.dim,
                seqs.n_records,
                seqs.positions.len(),
                seqs.values.len()
            ),
        );
    }
    if (0..l).any(|p| seqs.position(0, p) != x0) {
        return fail("history shape", "record 0 is not the start point");
    }
    if let Some(bad) = seqs.positions.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return fail("projection onto the cube", format!("position coordinate {bad}"));
    }
    // Paths 1 and 3 have their minima outside the cube: a descent must end on its boundary side.
    let end = seqs.final_position(1);
    if !(end[0] > 0.5 && end[1] < 0.4) {
        return fail("descends", format!("path 1 (minimum at (1.8, −0.5)) ended at {end:?} from {x0:?}"));
    }
    let again = descend(1).map_err(|e| ("descends", e.to_string()))?;
    if again != seqs {
        return fail("same stream, same history", "two calls with the same stream differ");
    }
    match optimizer.descend(&paths, &[0.5], &mut stream_rng(1, "conformance", 1)) {
        Err(e) if !e.to_string().is_empty() => Ok(()),
        Err(_) => fail("a bad start point is an error", "the error has no message"),
        Ok(_) => fail("a bad start point is an error", "a start point of 1 coordinate in d = 2 was accepted"),
    }
}

fn fitted_surrogate(name: &str) -> Result<Box<dyn Surrogate>, (&'static str, String)> {
    let mut s = build::<dyn Surrogate>(name, 5)?;
    s.fit(&data(8), &mut stream_rng(5, "fit", 0)).map_err(|e| ("fits", e.to_string()))?;
    Ok(s)
}

fn check_surrogate(name: &str) -> Check {
    let s = fitted_surrogate(name)?;
    let xs = uniform(5 * DIM, 7);
    let pred = s.predict(&xs).map_err(|e| ("predicts", e.to_string()))?;
    if pred.mean.len() != 5 || pred.variance.len() != 5 {
        return fail(
            "prediction shape",
            format!("{} means, {} variances for 5 points", pred.mean.len(), pred.variance.len()),
        );
    }
    if pred.variance.iter().any(|v| v.is_nan() || *v < -1e-12) {
        return fail("variances ≥ 0", format!("{:?}", pred.variance));
    }
    let cov = s.posterior_covariance(&xs, &xs).map_err(|e| ("covariance", e.to_string()))?;
    if cov.len() != 25 {
        return fail("covariance shape", format!("{} values for 5×5", cov.len()));
    }
    for i in 0..5 {
        let (c, v) = (cov[i * 5 + i], pred.variance[i]);
        if (c - v).abs() > 1e-8 * (1.0 + v.abs()) {
            return fail("covariance diagonal = variance", format!("point {i}: {c} vs {v}"));
        }
    }
    check_capabilities(s.as_ref())?;
    let Some(pathwise) = s.as_pathwise() else { return Ok(()) };
    let paths = pathwise.sample_paths(4, &mut stream_rng(5, "paths", 0)).map_err(|e| ("draws paths", e.to_string()))?;
    check_path_gradients(paths.as_ref())
}

/// The typed capabilities a fitted surrogate offers, against its predictions. Central
/// differences with step `h = 1e-5` of a GP posterior's moments err by ~1e-8 relative
/// (truncation `O(h²)` and rounding `O(ε/h)`), well inside the tolerance `1e-5 (1 + |g|)`.
fn check_capabilities(s: &dyn Surrogate) -> Check {
    // Next to an observation, where the posterior mean has a gradient whatever the fit.
    let near = data(8);
    let x = [near.point(0)[0] + 0.01, near.point(0)[1] - 0.01];
    let h = 1e-5;
    let fd = |moment: fn(&les_core::Prediction) -> &Vec<f64>| -> Result<Vec<f64>, (&'static str, String)> {
        (0..DIM)
            .map(|i| {
                let (mut up, mut down) = (x, x);
                up[i] += h;
                down[i] -= h;
                let p = s.predict(&[up, down].concat()).map_err(|e| ("predicts", e.to_string()))?;
                Ok((moment(&p)[0] - moment(&p)[1]) / (2.0 * h))
            })
            .collect()
    };
    let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(u, v)| (u - v).abs() <= 1e-5 * (1.0 + v.abs()));
    let mean_fd = fd(|p| &p.mean)?;
    if let Some(d) = s.as_differentiable() {
        let p = d.point_posterior(&x).map_err(|e| ("posterior gradients", e.to_string()))?;
        if !close(&p.mean_grad, &mean_fd) {
            return fail("mean gradient matches finite differences", format!("{:?} vs {mean_fd:?}", p.mean_grad));
        }
        let var_fd = fd(|p| &p.variance)?;
        if !close(&p.variance_grad, &var_fd) {
            return fail(
                "variance gradient matches finite differences",
                format!("{:?} vs {var_fd:?}", p.variance_grad),
            );
        }
    }
    if let Some(d) = s.as_derivative() {
        let g = d.gradient_posterior(&x).map_err(|e| ("gradient posterior", e.to_string()))?;
        if !close(g.mean(), &mean_fd) {
            return fail("gradient posterior mean = mean gradient", format!("{:?} vs {mean_fd:?}", g.mean()));
        }
        if g.covariance().len() != DIM * DIM || g.trace() < 0.0 {
            return fail("gradient posterior covariance d×d, trace ≥ 0", format!("{:?}", g.covariance()));
        }
    }
    if let Some(c) = s.as_conditionable() {
        let before = s.predict(&x).map_err(|e| ("predicts", e.to_string()))?;
        let cond = c.conditioned_on(&x, &before.mean).map_err(|e| ("conditions", e.to_string()))?;
        let after = cond.predict(&x).map_err(|e| ("predicts", e.to_string()))?;
        if (after.mean[0] - before.mean[0]).abs() > 1e-8 * (1.0 + before.mean[0].abs())
            || after.variance[0] > before.variance[0]
        {
            return fail(
                "conditioning at the mean keeps the mean, shrinks the variance",
                format!(
                    "mean {} → {}, variance {} → {}",
                    before.mean[0], after.mean[0], before.variance[0], after.variance[0]
                ),
            );
        }
    }
    if let Some(hyper) = s.hyperparameters()
        && hyper.lengthscales.len() != DIM
    {
        return fail("hyperparameters have d length scales", format!("{:?}", hyper.lengthscales));
    }
    Ok(())
}

/// Path gradients against central differences of the path values. The step `h = 1e-3` and the
/// tolerance `2e-3 (1 + |g|)` allow for single-precision path values (relative rounding
/// ~1e-7 of values of order 1, divided by `2h`: ~1e-4) and the `O(h²)` truncation error.
fn check_path_gradients(paths: &dyn PathBatch) -> Check {
    let (l, d) = (paths.n_paths(), paths.dim());
    let xs = uniform(l * d, 9).iter().map(|v| 0.1 + 0.8 * v).collect::<Vec<_>>();
    let (mut v, mut g) = (vec![0.0; l], vec![0.0; l * d]);
    paths.value_and_grad(&xs, &mut v, &mut g);
    let h = 1e-3;
    for i in 0..d {
        let shifted = |s: f64| {
            let mut x = xs.clone();
            for p in 0..l {
                x[p * d + i] += s;
            }
            let mut out = vec![0.0; l];
            paths.values(&x, &mut out);
            out
        };
        let (plus, minus) = (shifted(h), shifted(-h));
        for p in 0..l {
            let fd = (plus[p] - minus[p]) / (2.0 * h);
            let got = g[p * d + i];
            if (fd - got).abs() > 2e-3 * (1.0 + got.abs()) {
                return fail("path gradients match finite differences", format!("path {p}, x{i}: {got} vs {fd}"));
            }
        }
    }
    let mut vals = vec![0.0; l];
    paths.values(&xs, &mut vals);
    if vals.iter().zip(&v).any(|(a, b)| (a - b).abs() > 1e-9 * (1.0 + b.abs())) {
        return fail("values = value_and_grad's values", format!("{vals:?} vs {v:?}"));
    }
    let block = paths.block_size().clamp(1, l);
    let mut gb = vec![0.0; l * d];
    for first in (0..l).step_by(block) {
        let n = block.min(l - first);
        paths.gradients_block(first, &xs[first * d..(first + n) * d], &mut gb[first * d..(first + n) * d]);
    }
    if gb.iter().zip(&g).any(|(a, b)| (a - b).abs() > 1e-4 * (1.0 + b.abs())) {
        return fail("gradients_block = value_and_grad's gradients", format!("{gb:?} vs {g:?}"));
    }
    Ok(())
}

/// The first registered surrogate that draws paths, fitted.
fn pathwise_surrogate() -> Result<Box<dyn Surrogate>, (&'static str, String)> {
    for entry in registry::list(PluginKind::Surrogate) {
        let s = fitted_surrogate(entry.name)?;
        if s.as_pathwise().is_some() {
            return Ok(s);
        }
    }
    Err(("a pathwise surrogate to sample from", "no registered surrogate draws sample paths".to_owned()))
}

fn sample(
    sampler: &dyn SequenceSampler,
    surrogate: &dyn Surrogate,
    start: &[f64],
    seed: u64,
) -> Result<(SampledSequences, IterationReport), (&'static str, String)> {
    let pathwise = surrogate.as_pathwise().ok_or(("samples", "not pathwise".to_owned()))?;
    let mut report = IterationReport::default();
    let s = sampler
        .sample(pathwise, start, &mut stream_rng(seed, "conformance", 2), &mut report)
        .map_err(|e| ("samples", e.to_string()))?;
    Ok((s, report))
}

fn check_sampler(name: &str) -> Check {
    let sampler = build::<dyn SequenceSampler>(name, 3)?;
    let surrogate = pathwise_surrogate()?;
    let start = [0.4, 0.7];
    let (s, report) = sample(sampler.as_ref(), surrogate.as_ref(), &start, 1)?;
    let (l, sp) = (s.sequences.n_paths, &s.support);
    if l == 0 || sp.n_paths != l || sp.dim != DIM || sp.points.len() != l * sp.per_path * DIM {
        return fail(
            "shapes",
            format!("{l} sequences, support {}×{}×{} ({} values)", sp.n_paths, sp.per_path, sp.dim, sp.points.len()),
        );
    }
    if s.start_values.len() != l || s.final_values.len() != l {
        return fail(
            "shapes",
            format!("{} start and {} final values for {l} paths", s.start_values.len(), s.final_values.len()),
        );
    }
    if sp.points.iter().chain(&s.sequences.positions).any(|v| !(0.0..=1.0).contains(v)) {
        return fail("points in the unit cube", "a support point or position is outside [0, 1]");
    }
    if (0..l).any(|p| s.sequences.position(0, p) != start) {
        return fail("sequences start at the start point", "record 0 differs from the start");
    }
    if report.phases.is_empty() {
        return fail("phases reported", "the sampler timed no phase");
    }
    let (again, _) = sample(sampler.as_ref(), surrogate.as_ref(), &start, 1)?;
    if again != s {
        return fail("same stream, same sequences", "two calls with the same stream differ");
    }
    Ok(())
}

fn check_acquisition(name: &str) -> Check {
    let acquisition = build::<dyn SequenceAcquisition>(name, 3)?;
    let surrogate = pathwise_surrogate()?;
    let sampler_name = registry::list(PluginKind::SequenceSampler)
        .first()
        .map(|e| e.name)
        .ok_or(("a sampler to build sequences", "no sequence sampler is registered".to_owned()))?;
    let sampler = build::<dyn SequenceSampler>(sampler_name, 3)?;
    let data = data(8);
    let start = data.point(data.best_index().expect("data")).to_vec();
    let (sequences, _) = sample(sampler.as_ref(), surrogate.as_ref(), &start, 1)?;
    let values_of = |pending: &[Vec<f64>]| -> Result<Scored, Broken> {
        let ctx = AcquisitionContext { surrogate: surrogate.as_ref(), data: &data, sequences: &sequences, pending };
        let acq: Box<dyn Acquisition + '_> = acquisition.build(&ctx).map_err(|e| ("builds", e.to_string()))?;
        let fast = acq.values_at_candidates().map_err(|e| ("values", e.to_string()))?;
        let candidates = acq.candidates().to_vec();
        let slow = acq.values(&candidates).map_err(|e| ("values", e.to_string()))?;
        Ok((candidates, fast, slow))
    };
    let (candidates, fast, slow) = values_of(&[])?;
    if candidates.is_empty() || candidates.len() != fast.len() * DIM {
        return fail("one value per candidate", format!("{} values for {} coordinates", fast.len(), candidates.len()));
    }
    if candidates.iter().any(|v| !(0.0..=1.0).contains(v)) {
        return fail("candidates in the unit cube", "a candidate is outside [0, 1]");
    }
    if fast.iter().any(|v| v.is_nan()) {
        return fail("no NaN", format!("{fast:?}"));
    }
    if fast.iter().zip(&slow).any(|(a, b)| (a - b).abs() > 1e-8 * (1.0 + b.abs()) && !(a == b)) {
        return fail("fast path = values(candidates)", format!("{fast:?} vs {slow:?}"));
    }
    let pending = vec![candidates[..DIM].to_vec()];
    let (_, with_pending, _) = values_of(&pending)?;
    if with_pending.len() != fast.len() || with_pending.iter().any(|v| v.is_nan()) {
        return fail("builds with pending points", format!("{} values, {with_pending:?}", with_pending.len()));
    }
    Ok(())
}

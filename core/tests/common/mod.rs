//! Test doubles shared by the runner and study tests: an objective, a stateful strategy, and
//! readers of the journal.
#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use les_core::config::{BuiltRun, OnError};
use les_core::journal::{EVALUATIONS_FILE, EvaluationRecord, read_journal};
use les_core::{
    Ask, AskContext, Bounds, Objective, ObjectiveError, ObjectiveInfo, Observation, Strategy, StrategyError, StreamRng,
};
use rand::RngExt;
use serde_json::json;

/// `Σ (x_i − 1)²` on `[-2, 3]^d`; returns NaN where `x_0 > nan_above`.
pub struct Bowl {
    pub info: ObjectiveInfo,
    pub nan_above: f64,
    pub calls: Arc<AtomicUsize>,
}

impl Bowl {
    pub fn new(dim: usize, noise_std: f64, nan_above: f64) -> Self {
        let info = ObjectiveInfo {
            name: "bowl".into(),
            bounds: Bounds::uniform(dim, -2.0, 3.0),
            noise_std,
            exact: true,
            known_minimum: Some(0.0),
            known_minimizer: Some(vec![1.0; dim]),
        };
        Self { info, nan_above, calls: Arc::new(AtomicUsize::new(0)) }
    }
}

impl Objective for Bowl {
    fn info(&self) -> &ObjectiveInfo {
        &self.info
    }
    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        if x[0] > self.nan_above {
            return Ok(f64::NAN);
        }
        Ok(x.iter().map(|v| (v - 1.0) * (v - 1.0)).sum())
    }
}

/// A stateful local search: perturbs the best point by a step that shrinks after each failure
/// to improve. Its state changes in `tell` only, as the contract asks, so replay works.
pub struct Perturb {
    pub step: f64,
    pub best: Option<f64>,
    pub batch: usize,
}

impl Strategy for Perturb {
    fn ask(&mut self, ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        let center = match ctx.data.best_index() {
            Some(i) => ctx.data.point(i).to_vec(),
            None => vec![0.5; ctx.data.dim()],
        };
        let points = (0..self.batch)
            .map(|_| center.iter().map(|c| (c + self.step * (rng.random::<f64>() - 0.5)).clamp(0.0, 1.0)).collect())
            .collect();
        let mut ask = Ask { points, ..Default::default() };
        ask.report.phase("propose", 0.0);
        ask.report.diagnostic("step", self.step);
        Ok(ask)
    }

    fn tell(&mut self, observations: &[Observation]) -> Result<(), StrategyError> {
        for o in observations {
            match (o.y.as_ref().ok(), self.best) {
                (Some(&y), Some(b)) if y < b => self.best = Some(y),
                (Some(&y), None) => self.best = Some(y),
                _ => self.step *= 0.9,
            }
        }
        Ok(())
    }
}

pub fn built(dir: &Path, budget: usize, objective: Bowl, on_error: OnError, batch: usize) -> BuiltRun {
    BuiltRun {
        objective: Box::new(objective),
        strategy: Box::new(Perturb { step: 0.5, best: None, batch }),
        budget,
        initial_points: 3,
        seed: 11,
        on_error,
        output: dir.to_owned(),
        resolved: json!({"strategy": {"name": "perturb", "params": {}}, "budget": budget, "seed": 11}),
        initial_data: None,
        workers: 1,
    }
}

pub fn evaluations(dir: &Path) -> Vec<EvaluationRecord> {
    read_journal(&dir.join(EVALUATIONS_FILE)).unwrap().records
}

/// `(index, iteration, x, y, f)`: the parts of a journal line that must match between runs.
pub type Step = (usize, usize, Vec<f64>, Option<f64>, Option<f64>);

/// The parts of the evaluation journal that must match between runs (not the timings).
pub fn trajectory(dir: &Path) -> Vec<Step> {
    evaluations(dir).into_iter().map(|r| (r.index, r.iteration, r.x, r.y, r.f)).collect()
}

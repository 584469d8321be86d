//! The runner: owns the ask/tell loop, the exact evaluation budget, the initial design,
//! seeding, timing and the journal. Strategies never call the objective.
//!
//! One loop serves fresh and resumed runs. Before doing any work it consults the journal read
//! from the run directory: an evaluation already journaled is taken from the journal instead
//! of being run again, and an iteration whose record exists reuses the recorded points instead
//! of asking again. Since `ask` is a deterministic function of the data, its per-iteration
//! random stream and state changed only by `tell` (see [`crate::Strategy`]), a run killed at
//! any moment and resumed ends with exactly the evaluations of an uninterrupted run.

use std::path::{Path, PathBuf};
use std::time::Instant;

use rand::RngExt;
use rand_distr::StandardNormal;
use serde_json::{Map, Value, json};

use crate::config::{BuiltRun, CONFIG_KEYS_ALLOWED_TO_CHANGE_ON_RESUME, OnError, to_yaml};
use crate::journal::{
    CONFIG_FILE, EVALUATIONS_FILE, EvaluationRecord, ITERATIONS_FILE, IterationRecord, JournalError, JournalWriter,
    SUMMARY_FILE, read_journal, write_json_atomic,
};
use crate::{AskContext, Dataset, Objective, ObjectiveError, Observation, Strategy, stream_rng};

/// How a run ended (a run that could not start is a [`RunError`] instead).
#[derive(Clone, Debug, PartialEq)]
pub enum RunStatus {
    /// The budget was used up.
    BudgetExhausted,
    /// The strategy's own stopping rule fired.
    StrategyStopped(String),
    /// An evaluation failed under `on_error: stop`.
    EvaluationFailed(String),
    /// The strategy could not propose points.
    StrategyFailed(String),
}

impl RunStatus {
    /// Whether the run ended as planned (exit code 0).
    pub fn is_success(&self) -> bool {
        matches!(self, RunStatus::BudgetExhausted | RunStatus::StrategyStopped(_))
    }

    /// The stop reason written to `summary.json`.
    pub fn reason(&self) -> String {
        match self {
            RunStatus::BudgetExhausted => "budget exhausted".to_owned(),
            RunStatus::StrategyStopped(r) => format!("strategy stopped: {r}"),
            RunStatus::EvaluationFailed(r) => format!("evaluation failed: {r}"),
            RunStatus::StrategyFailed(r) => format!("strategy failed: {r}"),
        }
    }
}

/// Why a run could not start or continue. Data already journaled is never touched.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// A fresh run would overwrite an existing run.
    #[error(
        "run directory {0} already exists and holds a run; continue it with `--resume {0}`, or choose another directory with `--out`"
    )]
    OutputExists(PathBuf),
    /// `--resume` names a directory that holds no run.
    #[error("{0} holds no run to resume (no {CONFIG_FILE}); start a fresh run instead")]
    NothingToResume(PathBuf),
    /// The config given with `--resume` is not the one the run was started with.
    #[error(
        "{dir}: the config differs from the run's own {CONFIG_FILE} at `{path}` (run has {stored}, config gives {given}); resume with the same config (only budget, output and on_error may change)"
    )]
    ResumeMismatch {
        /// The run directory.
        dir: PathBuf,
        /// First differing key path.
        path: String,
        /// Value in the run's config.
        stored: String,
        /// Value in the config given now.
        given: String,
    },
    /// The journal does not match what this config produces (different objective code, …).
    #[error(
        "{dir}: journaled evaluation {index} was at {journaled:?} but the run now proposes {now:?}; the journal belongs to another run or the code changed"
    )]
    ResumeDiverged {
        /// The run directory.
        dir: PathBuf,
        /// Evaluation index.
        index: usize,
        /// Point in the journal.
        journaled: Vec<f64>,
        /// Point proposed now.
        now: Vec<f64>,
    },
    /// A file of the run directory could not be created.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The failure.
        source: std::io::Error,
    },
}

/// Receives progress as the run goes (progress bars, logs). All methods default to nothing.
pub trait RunObserver {
    /// Called once before the first evaluation with the budget and the evaluations already
    /// journaled (non-zero when resuming).
    fn started(&mut self, _budget: usize, _already_done: usize) {}
    /// Called after each evaluation (journaled or fresh) with the best observed value so far.
    fn evaluated(&mut self, _record: &EvaluationRecord, _best: Option<f64>) {}
    /// Called after each fresh `ask`.
    fn asked(&mut self, _record: &IterationRecord) {}
}

/// An observer that does nothing.
pub struct Silent;
impl RunObserver for Silent {}

/// The end of a run.
#[derive(Clone, Debug, PartialEq)]
pub struct RunOutcome {
    /// How it ended.
    pub status: RunStatus,
    /// What was written to `summary.json`.
    pub summary: Value,
    /// The run directory.
    pub dir: PathBuf,
}

/// Whether to start a fresh run directory or continue one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A new run; a directory that already holds a run is an error.
    Fresh,
    /// Continue the run in the directory.
    Resume,
}

struct Journal {
    evaluations: Vec<EvaluationRecord>,
    iterations: Vec<IterationRecord>,
    eval_writer: JournalWriter,
    iter_writer: JournalWriter,
}

/// Runs `run` to its end in its output directory.
pub fn run(run: BuiltRun, mode: Mode, observer: &mut dyn RunObserver) -> Result<RunOutcome, RunError> {
    let dir = run.output.clone();
    let journal = open_journal(&dir, &run.resolved, mode)?;
    Loop::new(run, dir, journal).execute(observer)
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io { path: path.to_owned(), source }
}

fn open_journal(dir: &Path, resolved: &Value, mode: Mode) -> Result<Journal, RunError> {
    match mode {
        Mode::Fresh => {
            // A directory that holds a run is never written over; other files may sit there
            // (a suite keeps the run's source config beside it).
            if [CONFIG_FILE, EVALUATIONS_FILE, ITERATIONS_FILE].iter().any(|f| dir.join(f).exists()) {
                return Err(RunError::OutputExists(dir.to_owned()));
            }
            std::fs::create_dir_all(dir).map_err(io(dir))?;
            let config_path = dir.join(CONFIG_FILE);
            std::fs::write(&config_path, to_yaml(resolved)).map_err(io(&config_path))?;
        }
        Mode::Resume => {
            let config_path = dir.join(CONFIG_FILE);
            let text = match std::fs::read_to_string(&config_path) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                    return Err(RunError::NothingToResume(dir.to_owned()));
                }
                Err(e) => return Err(io(&config_path)(e)),
            };
            let stored: Value = serde_saphyr::from_str(&text).map_err(|e| RunError::Io {
                path: config_path.clone(),
                source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.to_string()),
            })?;
            if let Some((path, stored, given)) = first_difference(&stored, resolved, "") {
                return Err(RunError::ResumeMismatch { dir: dir.to_owned(), path, stored, given });
            }
            // The new budget/output/on_error become the run's config.
            std::fs::write(&config_path, to_yaml(resolved)).map_err(io(&config_path))?;
        }
    }
    let eval_path = dir.join(EVALUATIONS_FILE);
    let iter_path = dir.join(ITERATIONS_FILE);
    let evaluations = read_journal::<EvaluationRecord>(&eval_path)?;
    let iterations = read_journal::<IterationRecord>(&iter_path)?;
    for (path, repaired) in [(&eval_path, evaluations.repaired_torn_line), (&iter_path, iterations.repaired_torn_line)]
    {
        if repaired {
            tracing::warn!("{}: dropped a torn last line left by an interrupted run", path.display());
        }
    }
    Ok(Journal {
        evaluations: evaluations.records,
        iterations: iterations.records,
        eval_writer: JournalWriter::open(&eval_path)?,
        iter_writer: JournalWriter::open(&iter_path)?,
    })
}

/// The first key path where two configs differ (numbers compared as `f64`), ignoring the keys
/// that may change on resume.
fn first_difference(stored: &Value, given: &Value, path: &str) -> Option<(String, String, String)> {
    let show = |v: Option<&Value>| v.map_or_else(|| "nothing".to_owned(), |v| v.to_string());
    match (stored, given) {
        (Value::Object(a), Value::Object(b)) => {
            let mut keys: Vec<&String> = a.keys().chain(b.keys()).collect();
            keys.sort();
            keys.dedup();
            for key in keys {
                if path.is_empty() && CONFIG_KEYS_ALLOWED_TO_CHANGE_ON_RESUME.contains(&key.as_str()) {
                    continue;
                }
                let sub = crate::params::join_path(path, key);
                match (a.get(key), b.get(key)) {
                    (Some(x), Some(y)) => {
                        if let Some(d) = first_difference(x, y, &sub) {
                            return Some(d);
                        }
                    }
                    (x, y) => return Some((sub, show(x), show(y))),
                }
            }
            None
        }
        (Value::Array(a), Value::Array(b)) if a.len() == b.len() => {
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| first_difference(x, y, &format!("{path}[{i}]")))
        }
        (Value::Number(a), Value::Number(b)) if a.as_f64() == b.as_f64() => None,
        (a, b) if a == b => None,
        (a, b) => Some((path.to_owned(), show(Some(a)), show(Some(b)))),
    }
}

struct Loop {
    objective: Box<dyn Objective>,
    strategy: Box<dyn Strategy>,
    budget: usize,
    initial_points: usize,
    seed: u64,
    on_error: OnError,
    resolved: Value,
    dir: PathBuf,
    journal: Journal,
    data: Dataset,
    /// Every evaluation of this run so far (journaled or fresh), by index.
    records: Vec<EvaluationRecord>,
    started: Instant,
    /// Wall time spent by the earlier processes of a resumed run.
    earlier_seconds: f64,
    iterations: usize,
    /// Wall time of the last `tell`, for the next iteration record (see
    /// [`IterationRecord::tell_seconds`]).
    last_tell_seconds: Option<f64>,
}

impl Loop {
    fn new(run: BuiltRun, dir: PathBuf, journal: Journal) -> Self {
        let dim = run.objective.info().dim();
        let earlier_seconds = journal.evaluations.iter().map(|r| r.seconds).sum::<f64>()
            + journal.iterations.iter().map(|r| r.ask_seconds + r.tell_seconds.unwrap_or(0.0)).sum::<f64>();
        Self {
            objective: run.objective,
            strategy: run.strategy,
            budget: run.budget,
            initial_points: run.initial_points,
            seed: run.seed,
            on_error: run.on_error,
            resolved: run.resolved,
            dir,
            journal,
            data: Dataset::new(dim),
            records: Vec::new(),
            started: Instant::now(),
            earlier_seconds,
            iterations: 0,
            last_tell_seconds: None,
        }
    }

    fn execute(mut self, observer: &mut dyn RunObserver) -> Result<RunOutcome, RunError> {
        observer.started(self.budget, self.journal.evaluations.len().min(self.budget));
        let status = self.drive(observer)?;
        self.finish(status)
    }

    fn drive(&mut self, observer: &mut dyn RunObserver) -> Result<RunStatus, RunError> {
        let dim = self.data.dim();
        // Initial design: uniform points from a stream that depends on the seed only, so every
        // strategy of a comparison starts from the same points.
        let n_init = self.initial_points.min(self.budget);
        if n_init > 0 {
            let mut rng = stream_rng(self.seed, "initial_design", 0);
            let points: Vec<Vec<f64>> = (0..n_init).map(|_| (0..dim).map(|_| rng.random::<f64>()).collect()).collect();
            match self.evaluate_batch(0, &points, observer)? {
                Ok(obs) => {
                    if let Err(status) = self.tell(&obs) {
                        return Ok(status);
                    }
                }
                Err(status) => return Ok(status),
            }
        }
        let mut iteration = 0;
        while self.records.len() < self.budget {
            iteration += 1;
            self.iterations = iteration;
            let record = match self.journal.iterations.iter().find(|r| r.iteration == iteration) {
                Some(r) => {
                    // Journaled: its tell time is the original run's.
                    self.last_tell_seconds = None;
                    r.clone()
                }
                None => {
                    let remaining = self.budget - self.records.len();
                    let ctx = AskContext {
                        data: &self.data,
                        pending: &[],
                        iteration,
                        n_proposed: self.records.len(),
                        remaining,
                        budget: self.budget,
                    };
                    let mut rng = stream_rng(self.seed, "ask", iteration as u64);
                    let start = Instant::now();
                    let ask = match self.strategy.ask(&ctx, &mut rng) {
                        Ok(a) => a,
                        Err(e) => return Ok(RunStatus::StrategyFailed(e.to_string())),
                    };
                    let ask_seconds = start.elapsed().as_secs_f64();
                    let mut points = ask.points;
                    points.truncate(remaining);
                    if let Some(bad) =
                        points.iter().find(|p| p.len() != dim || p.iter().any(|v| !(0.0..=1.0).contains(v)))
                    {
                        return Ok(RunStatus::StrategyFailed(format!(
                            "proposed {bad:?}, which is not a point of the unit cube [0, 1]^{dim}"
                        )));
                    }
                    if points.is_empty() && ask.stop.is_none() {
                        return Ok(RunStatus::StrategyFailed("proposed no point".to_owned()));
                    }
                    let record = IterationRecord {
                        iteration,
                        trials: Vec::new(),
                        told: None,
                        pending: Vec::new(),
                        ask_seconds,
                        tell_seconds: self.last_tell_seconds.take(),
                        phases: ask.report.phases.into_iter().map(|(k, v)| (k, json!(v))).collect(),
                        points,
                        diagnostics: ask.report.diagnostics,
                        stop: ask.stop,
                    };
                    self.journal.iter_writer.append(&record)?;
                    observer.asked(&record);
                    record
                }
            };
            if let Some(reason) = &record.stop
                && record.points.is_empty()
            {
                return Ok(RunStatus::StrategyStopped(reason.clone()));
            }
            match self.evaluate_batch(iteration, &record.points, observer)? {
                Ok(obs) => {
                    if let Err(status) = self.tell(&obs) {
                        return Ok(status);
                    }
                }
                Err(status) => return Ok(status),
            }
            if let Some(reason) = record.stop {
                return Ok(RunStatus::StrategyStopped(reason));
            }
        }
        Ok(RunStatus::BudgetExhausted)
    }

    /// Hands observations to the strategy; a strategy that cannot take them ends the run.
    fn tell(&mut self, observations: &[Observation]) -> Result<(), RunStatus> {
        let start = Instant::now();
        let told = self.strategy.tell(observations);
        self.last_tell_seconds = Some(start.elapsed().as_secs_f64());
        told.map_err(|e| RunStatus::StrategyFailed(format!("could not take observations: {e}")))
    }

    /// Evaluates (or takes from the journal) each point of one iteration. `Err(status)` when a
    /// failure ends the run.
    fn evaluate_batch(
        &mut self,
        iteration: usize,
        points: &[Vec<f64>],
        observer: &mut dyn RunObserver,
    ) -> Result<Result<Vec<Observation>, RunStatus>, RunError> {
        let mut observations = Vec::with_capacity(points.len());
        for unit in points {
            let index = self.records.len();
            if index >= self.budget {
                break;
            }
            let x = self.objective.info().bounds.from_unit(unit);
            let record = match self.journal.evaluations.get(index) {
                Some(r) => {
                    if r.x.len() != x.len() || r.x.iter().zip(&x).any(|(a, b)| (a - b).abs() > 1e-12 * (1.0 + b.abs()))
                    {
                        return Err(RunError::ResumeDiverged {
                            dir: self.dir.clone(),
                            index,
                            journaled: r.x.clone(),
                            now: x,
                        });
                    }
                    r.clone()
                }
                None => {
                    let r = self.evaluate(index, iteration, x);
                    self.journal.eval_writer.append(&r)?;
                    r
                }
            };
            let y = match (&record.y, &record.error) {
                (Some(y), None) => {
                    self.data.push(unit, *y);
                    Ok(*y)
                }
                (_, Some(e)) => Err(e.clone()),
                (None, None) => Err("journal record has neither y nor error".to_owned()),
            };
            self.records.push(record);
            let best = self.data.best_index().map(|i| self.data.y()[i]);
            observer.evaluated(self.records.last().expect("invariant: just pushed"), best);
            if let Err(message) = &y
                && self.on_error == OnError::Stop
            {
                return Ok(Err(RunStatus::EvaluationFailed(format!(
                    "evaluation {index} at {:?}: {message} (set `on_error: skip` to record failures and continue)",
                    self.records[index].x
                ))));
            }
            observations.push(Observation { x: unit.clone(), y });
        }
        Ok(Ok(observations))
    }

    fn evaluate(&self, index: usize, iteration: usize, x: Vec<f64>) -> EvaluationRecord {
        let info = self.objective.info();
        let start = Instant::now();
        let result = self
            .objective
            .evaluate(&x)
            .and_then(|v| if v.is_finite() { Ok(v) } else { Err(ObjectiveError::NonFinite(v)) });
        let seconds = start.elapsed().as_secs_f64();
        match result {
            Ok(value) => {
                let noise = if info.noise_std > 0.0 {
                    let z: f64 = stream_rng(self.seed, "observation_noise", index as u64).sample(StandardNormal);
                    info.noise_std * z
                } else {
                    0.0
                };
                EvaluationRecord {
                    index,
                    trial: None,
                    source: None,
                    iteration,
                    x,
                    y: Some(value + noise),
                    f: info.exact.then_some(value),
                    error: None,
                    seconds,
                }
            }
            Err(e) => {
                EvaluationRecord { index, iteration, x, error: Some(e.to_string()), seconds, ..Default::default() }
            }
        }
    }

    fn finish(self, status: RunStatus) -> Result<RunOutcome, RunError> {
        let best =
            self.records.iter().filter_map(|r| r.y.map(|y| (y, r))).min_by(|a, b| a.0.total_cmp(&b.0)).map(|(_, r)| r);
        let failed = self.records.iter().filter(|r| r.error.is_some()).count();
        let mut summary = Map::new();
        summary.insert("best_x".into(), json!(best.map(|r| r.x.clone())));
        summary.insert("best_y".into(), json!(best.and_then(|r| r.y)));
        summary.insert("best_f".into(), json!(best.and_then(|r| r.f)));
        summary.insert("best_index".into(), json!(best.map(|r| r.index)));
        summary.insert("evaluations".into(), json!(self.records.len()));
        summary.insert("failed_evaluations".into(), json!(failed));
        summary.insert("budget".into(), json!(self.budget));
        summary.insert("iterations".into(), json!(self.iterations));
        summary.insert("wall_seconds".into(), json!(self.earlier_seconds + self.started.elapsed().as_secs_f64()));
        summary.insert("seed".into(), json!(self.seed));
        summary.insert("version".into(), json!(crate::VERSION));
        summary.insert("objective".into(), json!(self.objective.info().name));
        summary.insert("strategy".into(), self.resolved["strategy"]["name"].clone());
        summary.insert("stop_reason".into(), json!(status.reason()));
        summary.insert("success".into(), json!(status.is_success()));
        let summary = Value::Object(summary);
        write_json_atomic(&self.dir.join(SUMMARY_FILE), &summary)?;
        Ok(RunOutcome { status, summary, dir: self.dir })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn config_difference_names_the_key() {
        let a = json!({"budget": 10, "strategy": {"name": "les", "params": {"paths": 250, "rate": 0.5}}});
        let b = json!({"budget": 20, "strategy": {"name": "les", "params": {"paths": 200, "rate": 0.5}}});
        let d = first_difference(&a, &b, "").unwrap();
        assert_eq!(d, ("strategy.params.paths".to_owned(), "250".to_owned(), "200".to_owned()));
        let c = json!({"budget": 30, "strategy": {"name": "les", "params": {"paths": 250.0, "rate": 0.5}}});
        assert_eq!(first_difference(&a, &c, ""), None, "budget may change, 250 == 250.0");
    }
}

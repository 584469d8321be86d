//! The runner: `les run`'s loop over a [`Study`]. It asks one trial at a time, evaluates it
//! with the objective (adding the configured observation noise) and tells the outcome; the
//! study owns the budget, the initial design, seeding, timing and the journal.
//!
//! Fresh and resumed runs share the loop. A resumed study has replayed its journal (see
//! [`crate::study`]): the trials a dead run had asked but not told are evaluated first, in
//! trial order, then asking goes on. Since `ask` is a deterministic function of the data, its
//! per-iteration random stream and state changed only by `tell` (see [`crate::Strategy`]), a
//! run killed at any moment and resumed ends with exactly the evaluations of an uninterrupted
//! run.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::sync::mpsc;
use std::time::Instant;

use rand::RngExt;
use rand_distr::StandardNormal;
use serde_json::Value;

use crate::cancel::{Cancel, shutdown_requested, signal_name};
use crate::config::{BuiltRun, CONFIG_KEYS_ALLOWED_TO_CHANGE_ON_RESUME, ConfigError};
use crate::journal::{CONFIG_FILE, EvaluationRecord, IterationRecord, JournalError};
use crate::lock::LockError;
use crate::study::{Evaluation, Outcome, Study, StudyError, Trial, TrialId};
use crate::{EvaluationContext, Objective, ObjectiveError, stream_rng};

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
    /// The run was stopped from outside (a signal, Ctrl-C in a host) before its end; the
    /// trials in flight stay pending, and a resume goes on from there.
    Interrupted(String),
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
            RunStatus::Interrupted(r) => format!("interrupted ({r})"),
        }
    }
}

/// Why a run could not start or continue. Data already journaled is never touched.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The journal could not be read or written.
    #[error(transparent)]
    Journal(#[from] JournalError),
    /// The run directory is locked by another process.
    #[error(transparent)]
    Locked(#[from] LockError),
    /// The config the run directory holds does not build.
    #[error(transparent)]
    Config(ConfigError),
    /// The journal contradicts itself (two writers, or an edited file).
    #[error("{dir}: the journal is inconsistent: {message}")]
    Inconsistent {
        /// The run directory.
        dir: PathBuf,
        /// What contradicts what.
        message: String,
    },
    /// A fresh run's directory holds a file a run would write, though no run.
    #[error(
        "{dir} holds {} named `{file}` but no run; a fresh run never writes over files (or through links): move it away, or choose another directory with `--out`",
        if *link { "a symbolic link" } else { "a file" }
    )]
    ForeignFile {
        /// The directory.
        dir: PathBuf,
        /// The file's name.
        file: String,
        /// Whether it is a symbolic link.
        link: bool,
    },
    /// The output path cannot be a run directory.
    #[error("output directory `{dir}`: {message}", dir = .dir.display())]
    BadOutput {
        /// The path.
        dir: PathBuf,
        /// Why not.
        message: String,
    },
    /// A resume with a budget below the evaluations already journaled.
    #[error(
        "{dir}: the budget {budget} is less than the {used} evaluations the journal already holds; give a budget of at least {used}"
    )]
    BudgetBelowJournal {
        /// The run directory.
        dir: PathBuf,
        /// The budget given.
        budget: usize,
        /// Evaluations journaled.
        used: usize,
    },
    /// A fresh run into a directory that holds a journal without its config.
    #[error(
        "{0} holds a run journal but no {CONFIG_FILE} (was it deleted?): continue the run with `les run CONFIG --resume {0}` and the config it was started with, or move {0} away to start afresh"
    )]
    JournalWithoutConfig(PathBuf),
    /// A fresh run would overwrite an existing run.
    #[error(
        "run directory {0} already exists and holds a run; continue it with `--resume {0}`, or choose another directory with `--out`"
    )]
    OutputExists(PathBuf),
    /// `--resume` names a directory that holds no run.
    #[error(
        "{0} holds no run to resume (no {CONFIG_FILE}); start a fresh run with `les run CONFIG --out {0}` (or `les init CONFIG --out {0}`)"
    )]
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
    /// Called when the number of evaluations in flight changes.
    fn in_flight(&mut self, _evaluations: usize) {}
    /// Called when an evaluation of `trial` starts.
    fn evaluation_started(&mut self, _trial: TrialId) {}
    /// Polled before each ask and while evaluations run (about every
    /// [`INTERRUPT_POLL`]): `true` stops the run as [`RunStatus::Interrupted`]. The
    /// process-wide shutdown request of [`crate::cancel`] is checked as well, whatever this
    /// returns.
    fn interrupted(&mut self) -> bool {
        false
    }
}

/// How often the runner checks for an interrupt while it waits for evaluations.
pub const INTERRUPT_POLL: std::time::Duration = std::time::Duration::from_millis(50);

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

/// Runs `run` to its end in its output directory (a fresh run, or the continuation of one).
pub fn run(run: BuiltRun, mode: Mode, observer: &mut dyn RunObserver) -> Result<RunOutcome, RunError> {
    let study = match mode {
        Mode::Fresh => Study::create(run),
        Mode::Resume => Study::resume(run),
    };
    let mut study = study.map_err(into_run_error)?;
    drive(&mut study, observer)
}

/// Evaluates and tells until the study ends, then writes `summary.json`.
pub fn drive(study: &mut Study, observer: &mut dyn RunObserver) -> Result<RunOutcome, RunError> {
    let budget = study.budget();
    let used = study.status().used;
    tracing::info!(
        "run {}: strategy {}, objective {}, budget {budget}, {used} evaluations already journaled",
        study.dir().map_or_else(|| "in memory".to_owned(), |d| d.display().to_string()),
        study.resolved()["strategy"]["name"].as_str().unwrap_or("?"),
        study.info().name
    );
    observer.started(budget, used.min(budget));
    let mut best: Option<f64> = None;
    for record in study.records() {
        if let Some(y) = record.y {
            best = Some(best.map_or(y, |b: f64| b.min(y)));
        }
        observer.evaluated(record, best);
    }
    let workers = study.workers().max(1);
    let objective = study.objective_handle();
    let seed = study.seed();
    let run_dir = study.dir().map(PathBuf::from);
    // Trials to evaluate, in order: a resumed run's trials in flight first (in trial order),
    // then what each ask hands out (the initial design as one batch, then one ask at a time).
    let mut queue: VecDeque<Trial> = study.pending().into();
    let cancel = Cancel::new();
    let status = std::thread::scope(|scope| -> Result<RunStatus, RunError> {
        let (done_tx, done_rx) = mpsc::channel::<(Trial, Option<Evaluation>)>();
        let mut in_flight = 0usize;
        let mut strategy_failed: Option<String> = None;
        let mut interrupted: Option<String> = None;
        // Each distinct note of the asks is logged once.
        let mut notes = std::collections::BTreeSet::new();
        loop {
            if interrupted.is_none()
                && let Some(why) = interrupt_reason(observer)
            {
                tracing::info!("interrupted ({why}): ending {in_flight} evaluation(s) in flight");
                interrupted = Some(why);
                cancel.cancel();
            }
            // Keep up to `workers` evaluations in flight, asking as soon as a slot is free.
            while in_flight < workers
                && strategy_failed.is_none()
                && interrupted.is_none()
                && study.finished().is_none()
            {
                // The rest of the budget is in flight: wait for it rather than ask (the study
                // would only say so).
                if queue.is_empty() && study.remaining() == 0 {
                    break;
                }
                let Some(trial) = queue.pop_front() else {
                    match study.ask(study.design_remaining().max(1)) {
                        Ok(asked) => {
                            for record in &asked.records {
                                log_ask(record);
                            }
                            for note in asked.notes {
                                if notes.insert(note.clone()) {
                                    tracing::warn!("{note}");
                                }
                            }
                            for record in asked.records.iter().filter(|r| r.iteration > 0) {
                                observer.asked(record);
                            }
                            if asked.trials.is_empty() {
                                break;
                            }
                            queue.extend(asked.trials);
                            continue;
                        }
                        Err(StudyError::Strategy(m)) => {
                            strategy_failed = Some(m);
                            break;
                        }
                        Err(e) => return Err(into_run_error(e)),
                    }
                };
                in_flight += 1;
                observer.evaluation_started(trial.id);
                let ctx = EvaluationContext { trial: trial.id, seed, run_dir: run_dir.clone(), cancel: cancel.clone() };
                if workers == 1 {
                    // One at a time on this thread: exactly the runs of a serial loop. A
                    // signal still reaches the evaluation through the process-wide request.
                    let evaluation = evaluate(objective.as_ref(), &ctx, &trial);
                    let _ = done_tx.send((trial, evaluation));
                } else {
                    let (objective, done_tx) = (objective.clone(), done_tx.clone());
                    scope.spawn(move || {
                        let evaluation = evaluate(objective.as_ref(), &ctx, &trial);
                        let _ = done_tx.send((trial, evaluation));
                    });
                }
                observer.in_flight(in_flight);
            }
            if in_flight == 0 {
                break;
            }
            // The next evaluation to finish is told first: the journal is in completion order.
            let (trial, evaluation) = match done_rx.recv_timeout(INTERRUPT_POLL) {
                Ok(done) => done,
                Err(mpsc::RecvTimeoutError::Timeout) => continue,
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            in_flight -= 1;
            observer.in_flight(in_flight);
            let Some(evaluation) = evaluation else {
                // Interrupted: not told, so the trial stays pending for a resume. An objective
                // that reports an interrupt nobody asked for (its own signal handling) ends
                // the run the same way, rather than leaving a hole the run cannot fill.
                tracing::info!("trial {} was interrupted; it stays pending", trial.id);
                if interrupted.is_none() {
                    let why = interrupt_reason(observer)
                        .unwrap_or_else(|| format!("the objective was interrupted in trial {}", trial.id));
                    interrupted = Some(why);
                    cancel.cancel();
                }
                continue;
            };
            study.tell_evaluation(trial.id, evaluation).map_err(into_run_error)?;
            let records = study.records();
            let record = records.last().expect("invariant: just told");
            match (&record.y, &record.error) {
                (Some(y), _) => tracing::debug!(
                    "evaluation {} (trial {}): y = {y} in {:.3} s",
                    record.index,
                    trial.id,
                    record.seconds
                ),
                (_, Some(e)) => tracing::info!("evaluation {} (trial {}) failed: {e}", record.index, trial.id),
                _ => {}
            }
            if let Some(y) = record.y {
                best = Some(best.map_or(y, |b: f64| b.min(y)));
            }
            observer.evaluated(record, best);
        }
        Ok(match (study.finished(), strategy_failed, interrupted) {
            (Some(status), _, _) => status,
            (None, _, Some(why)) => RunStatus::Interrupted(why),
            (None, Some(m), None) => RunStatus::StrategyFailed(m),
            // Nothing asked, nothing pending and not finished cannot happen; say so rather
            // than spin.
            (None, None, None) => RunStatus::StrategyFailed("proposed no point".to_owned()),
        })
    })?;
    tracing::info!("run ended: {}", status.reason());
    let summary = study.write_summary(&status).map_err(into_run_error)?;
    Ok(RunOutcome { status, summary, dir: study.dir().map(PathBuf::from).unwrap_or_default() })
}

/// An ask at info (iteration, points, time), its phases and diagnostics at debug.
fn log_ask(record: &IterationRecord) {
    if record.iteration == 0 {
        tracing::info!("initial design: {} point(s), trials {:?}", record.points.len(), record.trials);
        return;
    }
    let fit = record.phases.get("fit").and_then(Value::as_f64);
    tracing::info!(
        "iteration {}: asked {} point(s) in {:.3} s{}{}",
        record.iteration,
        record.points.len(),
        record.ask_seconds,
        fit.map(|f| format!(" (fit {f:.3} s)")).unwrap_or_default(),
        record.stop.as_ref().map(|s| format!("; the strategy stops: {s}")).unwrap_or_default()
    );
    for (phase, seconds) in &record.phases {
        tracing::debug!("iteration {} phase {phase}: {seconds} s", record.iteration);
    }
    for (key, value) in &record.diagnostics {
        tracing::debug!("iteration {} {key}: {value}", record.iteration);
    }
}

fn into_run_error(e: StudyError) -> RunError {
    match e {
        StudyError::Run(e) => e,
        other => RunError::Inconsistent { dir: PathBuf::new(), message: other.to_string() },
    }
}

/// Why the run should stop now, if it should: the observer's interrupt or a signal.
fn interrupt_reason(observer: &mut dyn RunObserver) -> Option<String> {
    if let Some(signal) = shutdown_requested() {
        return Some(signal_name(signal));
    }
    observer.interrupted().then(|| "by the caller".to_owned())
}

/// Evaluates one trial: the objective's value (non-finite values are failures) plus the
/// observation noise, drawn from a stream of the run seed and the trial id (so it does not
/// depend on which evaluation finishes first). `None` when the run was interrupted during
/// the evaluation.
fn evaluate(objective: &dyn Objective, ctx: &EvaluationContext, trial: &Trial) -> Option<Evaluation> {
    let info = objective.info();
    let seed = ctx.seed;
    let start = Instant::now();
    let result = objective
        .evaluate_in(&trial.x, ctx)
        .and_then(|v| if v.is_finite() { Ok(v) } else { Err(ObjectiveError::NonFinite(v)) });
    let seconds = start.elapsed().as_secs_f64();
    Some(match result {
        Ok(value) => {
            let noise = if info.noise_std > 0.0 {
                let z: f64 = stream_rng(seed, "observation_noise", trial.id as u64).sample(StandardNormal);
                info.noise_std * z
            } else {
                0.0
            };
            Evaluation { outcome: Outcome::Value(value + noise), f: info.exact.then_some(value), seconds }
        }
        Err(ObjectiveError::Interrupted) => return None,
        Err(e) => Evaluation { outcome: Outcome::Failed(e.to_string()), f: None, seconds },
    })
}

/// The first key path where two configs differ (numbers compared as `f64`), ignoring the keys
/// that may change on resume.
pub(crate) fn first_difference(stored: &Value, given: &Value, path: &str) -> Option<(String, String, String)> {
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

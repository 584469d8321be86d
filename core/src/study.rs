//! The study: a stateful optimizer you drive from your own loop. `ask` hands out trials (an id
//! and a point), `tell` takes their outcomes, in any order and at any time, and observations
//! that were never asked (warm start) are welcome too. `les run` is a loop over this type
//! ([`crate::runner`]), and so are `les ask` / `les tell`, so every way of running writes the
//! same journal and resumes the same way.
//!
//! A study is backed by a run directory (held under the directory's lock, see [`crate::lock`])
//! or kept in memory. Its state is rebuilt from the journal alone:
//! - `iterations.jsonl` holds every ask: the trial ids it handed out, their points, the trials
//!   in flight at that moment and how many evaluation records had been told before it;
//! - `evaluations.jsonl` holds every tell, in the order told.
//!
//! Reopening a run replays the two in their recorded interleaving: the strategy is told the
//! same batches of observations before the same asks, and asks are never repeated (their
//! points are in the journal). Trials asked but not told are pending again.
//!
//! When the strategy is told: observations are buffered and handed to
//! [`Strategy::tell`](crate::Strategy::tell) in one batch right before its next `ask`. A loop
//! that asks one point, evaluates it and tells it therefore gives exactly the runs of a loop
//! that evaluates each batch before asking again.
//!
//! The initial design: `initial_points` uniform points from a stream that depends on the seed
//! only (the same for every strategy of a comparison), handed out before the strategy is first
//! asked, for strategies that use one. Observations told without an ask before that count
//! towards it. While no evaluation has succeeded (every design point failed under
//! `on_error: skip`, or the first ones are still in flight), further design points are drawn
//! from the same stream instead of asking a strategy that has no data.
//!
//! The budget counts the evaluations of asked trials; observations told without an ask do not
//! use it.
//!
//! ```no_run
//! use les_core::config::Overrides;
//! use les_core::{Outcome, Study};
//!
//! # fn measure(_x: &[f64]) -> f64 { 0.0 }
//! # fn main() -> Result<(), les_core::StudyError> {
//! // The plugins the config names must be linked into the program (`les` links them all).
//! let mut study = Study::create_from_file("furnace.yaml".as_ref(), &Overrides::default())?;
//! study.tell_unasked(&[250.0, 1.0], Outcome::Value(17.0), "notebook, 3 May")?;
//! loop {
//!     let asked = study.ask(1)?;
//!     let Some(trial) = asked.trials.first() else { break };
//!     study.tell(trial.id, Outcome::Value(measure(&trial.x)))?;
//! }
//! println!("best: {:?}", study.best());
//! # Ok(())
//! # }
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Instant;

use rand::RngExt;
use serde::Serialize;
use serde_json::{Map, Value, json};

use crate::config::{BuiltRun, LoadedConfig, OnError, Overrides};
use crate::initial_data::read_initial_data;
use crate::journal::{
    CONFIG_FILE, EVALUATIONS_FILE, EvaluationRecord, ITERATIONS_FILE, IterationRecord, JournalError, JournalWriter,
    SUMMARY_FILE, read_journal, read_journal_unchanged, sync_dir, write_atomic, write_json_atomic,
};
use crate::lock::RunLock;
use crate::runner::{RunError, RunStatus, first_difference};
use crate::yaml::to_string as to_yaml;
use crate::{AskContext, Dataset, Objective, ObjectiveInfo, Observation, Strategy, stream_rng};

/// A trial's id: trials are numbered in the order they are asked (or told without an ask).
pub type TrialId = usize;

/// A point handed out by [`Study::ask`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Trial {
    /// The trial's id, for [`Study::tell`].
    pub id: TrialId,
    /// The iteration that asked it (0 = initial design).
    pub iteration: usize,
    /// The point in the objective's native coordinates.
    pub x: Vec<f64>,
    /// The same point in the unit cube (what the strategy proposed).
    #[serde(skip)]
    pub unit: Vec<f64>,
}

/// The outcome of one evaluation.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The observed value (finite).
    Value(f64),
    /// The evaluation failed, with a message that says why.
    Failed(String),
}

/// An outcome with what the caller knows besides the value.
#[derive(Clone, Debug, PartialEq)]
pub struct Evaluation {
    /// The outcome.
    pub outcome: Outcome,
    /// The noise-free value, when the objective knows it.
    pub f: Option<f64>,
    /// Wall time of the evaluation in seconds (0 when unknown).
    pub seconds: f64,
}

impl From<Outcome> for Evaluation {
    fn from(outcome: Outcome) -> Self {
        Self { outcome, f: None, seconds: 0.0 }
    }
}

/// What one [`Study::ask`] handed out.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Asked {
    /// The new trials (fewer than asked for, or none, when the budget or the strategy says
    /// so; `notes` then says why).
    pub trials: Vec<Trial>,
    /// Things the caller should know: points that ignore pending trials, why fewer trials
    /// came than were asked for.
    pub notes: Vec<String>,
    /// The journal records this ask wrote (initial-design hand-outs have iteration 0).
    pub records: Vec<IterationRecord>,
}

/// The best observation so far.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Best {
    /// Its trial.
    pub trial: TrialId,
    /// Its position in the journal.
    pub index: usize,
    /// Its point, native coordinates.
    pub x: Vec<f64>,
    /// Its observed value.
    pub y: f64,
    /// Its noise-free value, when known.
    pub f: Option<f64>,
}

/// Where a study stands.
#[derive(Clone, Debug, PartialEq)]
pub struct StudyStatus {
    /// Evaluation budget.
    pub budget: usize,
    /// Evaluations of asked trials told so far (the budget counts these).
    pub used: usize,
    /// Trials asked and not yet told, in id order.
    pub pending: Vec<Trial>,
    /// Observations told without an ask (warm start).
    pub imported: usize,
    /// Failed evaluations.
    pub failed: usize,
    /// The best observation so far.
    pub best: Option<Best>,
    /// How the study ended, once it has.
    pub finished: Option<RunStatus>,
}

impl StudyStatus {
    /// Evaluations of the budget that are neither told nor pending.
    pub fn budget_left(&self) -> usize {
        self.budget.saturating_sub(self.used + self.pending.len())
    }
}

/// Why a study call was refused. A refused call changes nothing, in memory or on disk.
#[derive(Debug, thiserror::Error)]
pub enum StudyError {
    /// Opening, reading or writing the run failed.
    #[error(transparent)]
    Run(#[from] RunError),
    /// `tell` of a trial id that was never asked.
    #[error("trial {id} was never asked{}", pending_hint(.pending))]
    UnknownTrial {
        /// The id told.
        id: TrialId,
        /// The trials that are pending.
        pending: Vec<TrialId>,
    },
    /// A second `tell` of the same trial.
    #[error("trial {id} was already told (its outcome is in the journal); each trial is told once{}", pending_hint(.pending))]
    AlreadyTold {
        /// The id told.
        id: TrialId,
        /// The trials that are pending.
        pending: Vec<TrialId>,
    },
    /// A value that is NaN or infinite.
    #[error(
        "{value} is not a valid value for trial {id}: expected a finite number (tell a failed evaluation as a failure with its message instead)"
    )]
    NonFinite {
        /// The trial.
        id: TrialId,
        /// The value.
        value: f64,
    },
    /// The run has ended; nothing more can be told.
    #[error("the run has ended ({reason}) and has no pending trial: nothing more can be told")]
    Finished {
        /// Why it ended.
        reason: String,
    },
    /// An observation told without an ask that does not fit the objective's space.
    #[error("{0}")]
    BadObservation(String),
    /// `ask` or `tell` on a study opened with [`Study::inspect`].
    #[error("this run was opened read-only (`Study::inspect`); open it with `Study::open` to ask or tell")]
    ReadOnly,
    /// The strategy could not take the observations or propose points.
    #[error("strategy failed: {0}")]
    Strategy(String),
}

impl From<JournalError> for StudyError {
    fn from(e: JournalError) -> Self {
        StudyError::Run(RunError::Journal(e))
    }
}

fn pending_hint(pending: &[TrialId]) -> String {
    if pending.is_empty() {
        "; no trial is pending (ask for one first)".to_owned()
    } else {
        let ids: Vec<String> = pending.iter().map(ToString::to_string).collect();
        format!("; pending trials: {}", ids.join(", "))
    }
}

/// Open journal files and the lock of a directory-backed study.
struct DirJournal {
    dir: PathBuf,
    evaluations: JournalWriter,
    iterations: JournalWriter,
    /// Held as long as the study lives.
    _lock: RunLock,
}

/// A stateful optimizer: see the module docs.
pub struct Study {
    /// Shared with the evaluation threads of a loop that runs several at once.
    objective: Arc<dyn Objective>,
    workers: usize,
    info: ObjectiveInfo,
    strategy: Box<dyn Strategy>,
    budget: usize,
    /// Initial-design points the strategy wants (0 when it makes its own design).
    design_size: usize,
    seed: u64,
    on_error: OnError,
    resolved: Value,
    initial_data: Option<PathBuf>,
    dir: Option<PathBuf>,
    journal: Option<DirJournal>,
    /// Every tell, in journal order, with the unit-cube point the strategy is told.
    records: Vec<EvaluationRecord>,
    units: Vec<Vec<f64>>,
    /// Every ask record, in journal order.
    iterations: Vec<IterationRecord>,
    /// Every asked trial.
    trials: BTreeMap<TrialId, Trial>,
    pending: BTreeSet<TrialId>,
    next_trial: TrialId,
    design_handed: usize,
    strategy_iteration: usize,
    /// Records handed to `Strategy::tell` so far.
    delivered: usize,
    data: Dataset,
    used: usize,
    imported_ok: usize,
    stop: Option<String>,
    /// The first failed evaluation under `on_error: stop` that no retry has taken up: its trial
    /// and the message that ends the run.
    evaluation_failure: Option<(TrialId, String)>,
    /// Failed trials that a retry asked again.
    retried: BTreeSet<TrialId>,
    strategy_failure: Option<String>,
    last_tell_seconds: Option<f64>,
    /// Said once, by the first ask after a resume (arithmetic that differs from the journal's).
    resume_notes: Vec<String>,
    started: Instant,
    earlier_seconds: f64,
    /// Opened by [`Study::inspect`]: the strategy was not told, so it must not be asked.
    read_only: bool,
}

impl std::fmt::Debug for Study {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Study")
            .field("dir", &self.dir)
            .field("budget", &self.budget)
            .field("used", &self.used)
            .field("pending", &self.pending)
            .finish_non_exhaustive()
    }
}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> RunError + '_ {
    move |source| RunError::Io { path: path.to_owned(), source }
}

/// The run files whose presence makes a directory hold a run (or someone's files of that name).
const RUN_FILES: [&str; 4] = [CONFIG_FILE, EVALUATIONS_FILE, ITERATIONS_FILE, SUMMARY_FILE];

impl Study {
    /// A study kept in memory: nothing is written (its `initial_data` is read).
    pub fn in_memory(run: BuiltRun) -> Result<Self, StudyError> {
        let mut study = Self::from_built(run, None);
        study.import_initial_data()?;
        Ok(study)
    }

    /// A fresh study in the run's output directory. A directory that already holds a run, or
    /// any file a run would write, is refused.
    pub fn create(run: BuiltRun) -> Result<Self, StudyError> {
        let dir = run.output.clone();
        check_output_path(&dir)?;
        std::fs::create_dir_all(&dir).map_err(io(&dir))?;
        let lock = RunLock::acquire(&dir).map_err(RunError::from)?;
        for name in RUN_FILES {
            // A link (dangling or not) would make the journal write through it, outside the run.
            if std::fs::symlink_metadata(dir.join(name)).is_ok_and(|m| m.file_type().is_symlink()) {
                return Err(RunError::ForeignFile { dir: dir.clone(), file: name.to_owned(), link: true }.into());
            }
        }
        for name in RUN_FILES {
            if std::fs::symlink_metadata(dir.join(name)).is_ok() {
                return Err(if name == CONFIG_FILE {
                    RunError::OutputExists(dir.clone())
                } else if name == EVALUATIONS_FILE {
                    RunError::JournalWithoutConfig(dir.clone())
                } else {
                    RunError::ForeignFile { dir: dir.clone(), file: name.to_owned(), link: false }
                }
                .into());
            }
        }
        let config_path = dir.join(CONFIG_FILE);
        write_atomic(&config_path, to_yaml(&run.resolved).as_bytes())?;
        let journal = open_writers(&dir, lock)?;
        sync_dir(&dir)?;
        let mut study = Self::from_built(run, Some(journal));
        study.import_initial_data()?;
        Ok(study)
    }

    /// A fresh study from a config file (with command-line style `overrides`), in the run
    /// directory the config names.
    pub fn create_from_file(config: &Path, overrides: &Overrides) -> Result<Self, StudyError> {
        let run = LoadedConfig::from_file(config, overrides).and_then(|c| c.build()).map_err(RunError::Config)?;
        Self::create(run)
    }

    /// Continues the study in the run's output directory, whose config must be the one given
    /// (only `budget`, `output` and `on_error` may differ; the new values are kept).
    pub fn resume(run: BuiltRun) -> Result<Self, StudyError> {
        let dir = run.output.clone();
        let journaled = dir.join(EVALUATIONS_FILE).exists() || dir.join(ITERATIONS_FILE).exists();
        if !dir.join(CONFIG_FILE).exists() && journaled {
            // The journal without its config (deleted by hand): the config given now takes its
            // place; a wrong one is caught as soon as a journaled point disagrees.
            let _lock = RunLock::acquire(&dir).map_err(RunError::from)?;
            tracing::warn!("{}: no {CONFIG_FILE}; resuming with the config given", dir.display());
            write_atomic(&dir.join(CONFIG_FILE), to_yaml(&run.resolved).as_bytes())?;
        }
        let mut stored = read_run_config(&dir)?;
        // Runs of older versions recorded the config's initial_points for strategies that make
        // their own design, where it never had an effect; they resume as they are.
        if !run.strategy.uses_initial_design() && run.resolved["initial_points"] == 0 {
            stored["initial_points"] = 0.into();
        }
        if let Some((path, stored, given)) = first_difference(&stored, &run.resolved, "") {
            return Err(RunError::ResumeMismatch { dir, path, stored, given }.into());
        }
        let lock = RunLock::acquire(&dir).map_err(RunError::from)?;
        let (evaluations, mut iterations) = read_journals(&dir, true)?;
        check_budget(&dir, &run, &evaluations)?;
        let kept = asks_backed_by(&evaluations, &iterations);
        if kept < iterations.len() {
            // Asks recorded after evaluations that are gone (a journal cut by hand, or restored
            // from an older copy): they are asked again, which gives the same points.
            tracing::warn!(
                "{}: dropped {} asks recorded after evaluations the journal no longer holds; they are asked again",
                dir.join(ITERATIONS_FILE).display(),
                iterations.len() - kept
            );
            iterations.truncate(kept);
            let text: String = iterations
                .iter()
                .map(|r| serde_json::to_string(r).expect("invariant: records serialize") + "\n")
                .collect();
            write_atomic(&dir.join(ITERATIONS_FILE), text.as_bytes())?;
        }
        write_atomic(&dir.join(CONFIG_FILE), to_yaml(&run.resolved).as_bytes())?;
        let journal = open_writers(&dir, lock)?;
        let arithmetic_note = iterations
            .iter()
            .rev()
            .find(|r| !r.arithmetic.is_empty())
            .and_then(|r| crate::arithmetic::difference(&r.arithmetic, &crate::arithmetic::current()));
        let mut study = Self::from_built(run, Some(journal));
        study.replay(evaluations, iterations, true)?;
        // Said by the first ask (a warning of `les run`/`resume`, a note of `les ask`).
        study.resume_notes.extend(arithmetic_note);
        study.import_initial_data()?;
        Ok(study)
    }

    /// Opens the run in `dir` with the config it holds, for writing (lock held).
    pub fn open(dir: &Path) -> Result<Self, StudyError> {
        Self::open_with(dir, &Overrides::default())
    }

    /// Opens the run in `dir` with the config it holds, with `overrides` (a larger budget, say).
    pub fn open_with(dir: &Path, overrides: &Overrides) -> Result<Self, StudyError> {
        let run = build_stored(dir, overrides)?;
        Self::resume(run)
    }

    /// Reads the run in `dir` without locking or changing anything (for `les status`): the
    /// strategy is built but not told, so the result serves [`Study::status`] and
    /// [`Study::summary`], not [`Study::ask`] (which refuses).
    pub fn inspect(dir: &Path) -> Result<Self, StudyError> {
        let run = build_stored(dir, &Overrides::default())?;
        let (evaluations, mut iterations) = read_journals(dir, false)?;
        iterations.truncate(asks_backed_by(&evaluations, &iterations));
        let mut study = Self::from_built(run, None);
        study.dir = Some(dir.to_owned());
        study.replay(evaluations, iterations, false)?;
        study.read_only = true;
        Ok(study)
    }

    fn from_built(run: BuiltRun, journal: Option<DirJournal>) -> Self {
        let info = run.objective.info().clone();
        let dim = info.dim();
        Self {
            objective: Arc::from(run.objective),
            workers: run.workers,
            info,
            strategy: run.strategy,
            budget: run.budget,
            design_size: run.initial_points,
            seed: run.seed,
            on_error: run.on_error,
            resolved: run.resolved,
            initial_data: run.initial_data,
            dir: journal.as_ref().map(|j| j.dir.clone()),
            journal,
            records: Vec::new(),
            units: Vec::new(),
            iterations: Vec::new(),
            trials: BTreeMap::new(),
            pending: BTreeSet::new(),
            next_trial: 0,
            design_handed: 0,
            strategy_iteration: 0,
            delivered: 0,
            data: Dataset::new(dim),
            used: 0,
            imported_ok: 0,
            stop: None,
            evaluation_failure: None,
            retried: BTreeSet::new(),
            strategy_failure: None,
            last_tell_seconds: None,
            resume_notes: Vec::new(),
            started: Instant::now(),
            earlier_seconds: 0.0,
            read_only: false,
        }
    }

    /// The objective (for a loop that evaluates it, like `les run`).
    pub fn objective(&self) -> &dyn Objective {
        self.objective.as_ref()
    }

    /// The objective, shared, for evaluations on other threads.
    pub fn objective_handle(&self) -> Arc<dyn Objective> {
        Arc::clone(&self.objective)
    }

    /// How many evaluations a loop over this study keeps in flight (`workers` in the config).
    pub fn workers(&self) -> usize {
        self.workers
    }

    /// The objective's description (bounds, name …).
    pub fn info(&self) -> &ObjectiveInfo {
        &self.info
    }

    /// The run directory, when the study has one.
    pub fn dir(&self) -> Option<&Path> {
        self.dir.as_deref()
    }

    /// The resolved config (every default filled in).
    pub fn resolved(&self) -> &Value {
        &self.resolved
    }

    /// The evaluation budget.
    pub fn budget(&self) -> usize {
        self.budget
    }

    /// The run seed.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// Every tell so far, in journal order.
    pub fn records(&self) -> &[EvaluationRecord] {
        &self.records
    }

    /// The pending trials, in id order.
    pub fn pending(&self) -> Vec<Trial> {
        self.pending.iter().map(|id| self.trials[id].clone()).collect()
    }

    /// The best observation so far (lowest observed value, the first on ties).
    pub fn best(&self) -> Option<Best> {
        let mut best: Option<&EvaluationRecord> = None;
        for r in &self.records {
            if let Some(y) = r.y
                && best.is_none_or(|b| y < b.y.unwrap_or(f64::INFINITY))
            {
                best = Some(r);
            }
        }
        best.map(|r| Best {
            trial: r.trial.unwrap_or(r.index),
            index: r.index,
            x: r.x.clone(),
            y: r.y.unwrap_or(f64::NAN),
            f: r.f,
        })
    }

    /// How the study ended, or `None` while it goes on. An ended study may still have pending
    /// trials (after a failure under `on_error: stop`); their tells are still journaled.
    pub fn finished(&self) -> Option<RunStatus> {
        if let Some(m) = &self.strategy_failure {
            return Some(RunStatus::StrategyFailed(m.clone()));
        }
        if let Some((_, m)) = &self.evaluation_failure {
            return Some(RunStatus::EvaluationFailed(m.clone()));
        }
        if !self.pending.is_empty() {
            return None;
        }
        if let Some(r) = &self.stop {
            return Some(RunStatus::StrategyStopped(r.clone()));
        }
        (self.used >= self.budget).then_some(RunStatus::BudgetExhausted)
    }

    /// Where the study stands.
    pub fn status(&self) -> StudyStatus {
        StudyStatus {
            budget: self.budget,
            used: self.used,
            pending: self.pending(),
            imported: self.records.iter().filter(|r| r.source.is_some()).count(),
            failed: self.records.iter().filter(|r| r.error.is_some()).count(),
            best: self.best(),
            finished: self.finished(),
        }
    }

    /// Evaluations of the budget neither told nor in flight: how many more trials an ask can
    /// hand out now.
    pub fn remaining(&self) -> usize {
        self.budget.saturating_sub(self.used + self.pending.len())
    }

    /// The `j`-th point of the initial design (unit cube): the stream depends on the seed only.
    fn design_point(&self, j: usize) -> Vec<f64> {
        let dim = self.info.dim();
        let mut rng = stream_rng(self.seed, "initial_design", 0);
        for _ in 0..j * dim {
            let _: f64 = rng.random();
        }
        (0..dim).map(|_| rng.random::<f64>()).collect()
    }

    /// Asks for up to `k` new trials (`k` ≥ 1). A strategy that proposes a batch hands out the
    /// whole batch, so more than `k` may come; fewer (or none) come when the budget is fully
    /// asked, the strategy stopped or the run ended, and `notes` says why.
    pub fn ask(&mut self, k: usize) -> Result<Asked, StudyError> {
        let mut asked = Asked::default();
        if self.read_only {
            return Err(StudyError::ReadOnly);
        }
        if let Some(m) = &self.strategy_failure {
            return Err(StudyError::Strategy(m.clone()));
        }
        let k = k.max(1);
        asked.notes.append(&mut self.resume_notes);
        while asked.trials.len() < k {
            if let Some((_, m)) = &self.evaluation_failure {
                asked.notes.push(format!("the run has ended: {m}"));
                break;
            }
            if let Some(r) = &self.stop {
                asked.notes.push(format!("the strategy stopped the run ({r}): nothing more to ask"));
                break;
            }
            let remaining = self.remaining();
            if remaining == 0 {
                asked.notes.push(if self.pending.is_empty() {
                    format!("the budget of {} evaluations is used up: nothing more to ask", self.budget)
                } else {
                    format!(
                        "the budget's last {} evaluation(s) are pending (trials {}): tell them, or resume with a larger budget",
                        self.pending.len(),
                        join_ids(&self.pending)
                    )
                });
                break;
            }
            let want = (k - asked.trials.len()).min(remaining);
            if let Some(n) = self.design_points_due(want) {
                self.hand_out_design(n, &mut asked)?;
            } else {
                self.ask_strategy(&mut asked)?;
            }
        }
        Ok(asked)
    }

    /// Initial-design points still to hand out before the strategy is first asked (a loop that
    /// evaluates one batch at a time asks for these together).
    pub fn design_remaining(&self) -> usize {
        if self.strategy_iteration > 0 || self.design_size == 0 {
            return 0;
        }
        let planned = self.design_size.min(self.budget).saturating_sub(self.imported_ok);
        planned.saturating_sub(self.design_handed)
    }

    /// How many initial-design points to hand out now (at most `want`), or `None` when the
    /// strategy is to be asked.
    fn design_points_due(&self, want: usize) -> Option<usize> {
        if self.strategy_iteration > 0 || self.design_size == 0 {
            return None;
        }
        match self.design_remaining() {
            0 if self.data.is_empty() => Some(1), // No success yet: the strategy has nothing to model.
            0 => None,
            left => Some(want.min(left)),
        }
    }

    fn hand_out_design(&mut self, n: usize, asked: &mut Asked) -> Result<(), StudyError> {
        let points: Vec<Vec<f64>> = (0..n).map(|i| self.design_point(self.design_handed + i)).collect();
        let record = IterationRecord {
            iteration: 0,
            ask_seconds: 0.0,
            tell_seconds: None,
            phases: Map::new(),
            points,
            diagnostics: Map::new(),
            stop: None,
            ..Default::default()
        };
        self.journal_ask(record, asked)?;
        self.design_handed += n;
        Ok(())
    }

    /// Assigns trial ids to `record`'s points, journals it and hands the trials out.
    fn journal_ask(&mut self, mut record: IterationRecord, asked: &mut Asked) -> Result<(), StudyError> {
        record.trials = (self.next_trial..self.next_trial + record.points.len()).collect();
        record.told = Some(self.records.len());
        record.pending = self.pending.iter().copied().collect();
        if let Some(j) = &mut self.journal {
            j.iterations.append(&record).map_err(RunError::from)?;
        }
        for (&id, unit) in record.trials.iter().zip(&record.points) {
            let trial =
                Trial { id, iteration: record.iteration, x: self.info.bounds.from_unit(unit), unit: unit.clone() };
            self.trials.insert(id, trial.clone());
            self.pending.insert(id);
            asked.trials.push(trial);
        }
        self.next_trial += record.points.len();
        if let Some(r) = &record.stop {
            self.stop = Some(r.clone());
        }
        self.iterations.push(record.clone());
        asked.records.push(record);
        Ok(())
    }

    /// Hands the observations told since the last ask to the strategy, in one batch.
    fn deliver(&mut self) -> Result<(), StudyError> {
        if self.delivered >= self.records.len() {
            return Ok(());
        }
        let observations = self.observations(self.delivered, self.records.len());
        self.delivered = self.records.len();
        let start = Instant::now();
        let told = self.strategy.tell(&observations);
        self.last_tell_seconds = Some(start.elapsed().as_secs_f64());
        told.map_err(|e| {
            let m = format!("could not take observations: {e}");
            self.strategy_failure = Some(m.clone());
            StudyError::Strategy(m)
        })
    }

    fn observations(&self, from: usize, to: usize) -> Vec<Observation> {
        (from..to)
            .map(|i| {
                let r = &self.records[i];
                let y = match (r.y, &r.error) {
                    (Some(y), None) => Ok(y),
                    (_, Some(e)) => Err(e.clone()),
                    (None, None) => Err("journal record has neither y nor error".to_owned()),
                };
                Observation { x: self.units[i].clone(), y }
            })
            .collect()
    }

    fn ask_strategy(&mut self, asked: &mut Asked) -> Result<(), StudyError> {
        self.deliver()?;
        let dim = self.info.dim();
        let iteration = self.strategy_iteration + 1;
        let pending_units: Vec<Vec<f64>> = self.pending.iter().map(|id| self.trials[id].unit.clone()).collect();
        if !pending_units.is_empty() && !self.strategy.handles_pending() {
            let note = format!(
                "strategy `{}` does not take pending trials into account: its new point may repeat one in flight",
                self.resolved["strategy"]["name"].as_str().unwrap_or("?")
            );
            if !asked.notes.contains(&note) {
                asked.notes.push(note);
            }
        }
        let remaining = self.remaining();
        let ctx = AskContext {
            data: &self.data,
            pending: &pending_units,
            iteration,
            n_proposed: self.trials.len(),
            remaining,
            budget: self.budget,
        };
        let mut rng = stream_rng(self.seed, "ask", iteration as u64);
        let start = Instant::now();
        let result = self.strategy.ask(&ctx, &mut rng);
        let ask_seconds = start.elapsed().as_secs_f64();
        let fail = |study: &mut Self, m: String| {
            study.strategy_failure = Some(m.clone());
            StudyError::Strategy(m)
        };
        let ask = match result {
            Ok(a) => a,
            Err(e) => return Err(fail(self, e.to_string())),
        };
        let mut points = ask.points;
        points.truncate(remaining);
        if let Some(bad) = points.iter().find(|p| p.len() != dim || p.iter().any(|v| !(0.0..=1.0).contains(v))) {
            return Err(fail(self, format!("proposed {bad:?}, which is not a point of the unit cube [0, 1]^{dim}")));
        }
        if points.is_empty() && ask.stop.is_none() {
            return Err(fail(self, "proposed no point".to_owned()));
        }
        let record = IterationRecord {
            iteration,
            ask_seconds,
            tell_seconds: self.last_tell_seconds.take(),
            phases: ask.report.phases.into_iter().map(|(k, v)| (k, json!(v))).collect(),
            points,
            diagnostics: ask.report.diagnostics,
            stop: ask.stop,
            arithmetic: crate::arithmetic::current(),
            ..Default::default()
        };
        self.strategy_iteration = iteration;
        self.journal_ask(record, asked)
    }

    /// Asks again, as new trials, the failed evaluations of asked trials that no retry took up
    /// yet, in trial order (at most the budget left; `notes` says when some did not fit). A
    /// retry uses one evaluation of the budget; its outcome is journaled next to the failure,
    /// and a run that a failure ended under `on_error: stop` goes on.
    pub fn ask_retries(&mut self) -> Result<Asked, StudyError> {
        if self.read_only {
            return Err(StudyError::ReadOnly);
        }
        let mut asked = Asked::default();
        let failed: Vec<(TrialId, usize)> = self
            .records
            .iter()
            .filter(|r| r.source.is_none() && r.error.is_some())
            .filter_map(|r| r.trial.or(Some(r.index)).map(|t| (t, r.iteration)))
            .filter(|(t, _)| !self.retried.contains(t))
            .collect();
        for (i, &(trial, iteration)) in failed.iter().enumerate() {
            if self.budget.saturating_sub(self.used + self.pending.len()) == 0 {
                asked.notes.push(format!(
                    "{} failed trial(s) not retried: the budget is used up; give a larger budget with --budget",
                    failed.len() - i
                ));
                break;
            }
            let unit = self.trials[&trial].unit.clone();
            let record = IterationRecord { iteration, points: vec![unit], retry_of: Some(trial), ..Default::default() };
            self.take_up_retry(trial);
            self.journal_ask(record, &mut asked)?;
        }
        Ok(asked)
    }

    /// Marks `failed` as taken up by a retry; a run it had ended goes on.
    fn take_up_retry(&mut self, failed: TrialId) {
        self.retried.insert(failed);
        if self.evaluation_failure.as_ref().is_some_and(|(t, _)| *t == failed) {
            self.evaluation_failure = None;
        }
    }

    /// Tells the outcome of an asked trial.
    pub fn tell(&mut self, id: TrialId, outcome: Outcome) -> Result<(), StudyError> {
        self.tell_evaluation(id, outcome.into())
    }

    /// Tells the outcome of an asked trial with its noise-free value and wall time.
    pub fn tell_evaluation(&mut self, id: TrialId, evaluation: Evaluation) -> Result<(), StudyError> {
        let record = self.check_tell(id, &evaluation.outcome)?;
        let record = EvaluationRecord { f: evaluation.f, seconds: evaluation.seconds, ..record };
        self.journal_tell(record)
    }

    /// Checks that `tell(id, outcome)` would be accepted, without changing anything (so a
    /// batch of tells can be checked whole before any is written).
    pub fn check_tell(&self, id: TrialId, outcome: &Outcome) -> Result<EvaluationRecord, StudyError> {
        if self.read_only {
            return Err(StudyError::ReadOnly);
        }
        // Refused: "the run has ended" when nothing is pending, else the pending ids.
        let refuse = |known: bool| {
            let pending: Vec<TrialId> = self.pending.iter().copied().collect();
            match self.finished() {
                Some(status) if pending.is_empty() => StudyError::Finished { reason: status.reason() },
                _ if known => StudyError::AlreadyTold { id, pending },
                _ => StudyError::UnknownTrial { id, pending },
            }
        };
        let Some(trial) = self.trials.get(&id) else { return Err(refuse(false)) };
        if !self.pending.contains(&id) {
            return Err(refuse(true));
        }
        let (y, error) = match outcome {
            Outcome::Value(v) if !v.is_finite() => return Err(StudyError::NonFinite { id, value: *v }),
            Outcome::Value(v) => (Some(*v), None),
            Outcome::Failed(m) => (None, Some(m.clone())),
        };
        Ok(EvaluationRecord {
            index: self.records.len(),
            trial: Some(id),
            source: None,
            iteration: trial.iteration,
            x: trial.x.clone(),
            y,
            f: None,
            error,
            seconds: 0.0,
        })
    }

    /// Tells an observation that was never asked (warm start, a measurement made by hand), in
    /// native coordinates; `source` says where it came from (journaled beside it). It does not
    /// use the budget.
    pub fn tell_unasked(&mut self, x: &[f64], outcome: Outcome, source: &str) -> Result<TrialId, StudyError> {
        let record = self.check_unasked(x, &outcome, source)?;
        let id = self.next_trial;
        self.next_trial += 1;
        self.journal_tell(EvaluationRecord { trial: Some(id), ..record })?;
        Ok(id)
    }

    /// Checks an observation for [`Study::tell_unasked`] without changing anything.
    pub fn check_unasked(&self, x: &[f64], outcome: &Outcome, source: &str) -> Result<EvaluationRecord, StudyError> {
        if self.read_only {
            return Err(StudyError::ReadOnly);
        }
        let bounds = &self.info.bounds;
        if x.len() != bounds.dim() {
            return Err(StudyError::BadObservation(format!(
                "the point has {} coordinates: expected {} (the objective's dimension)",
                x.len(),
                bounds.dim()
            )));
        }
        if let Some(i) = x.iter().position(|v| !v.is_finite()) {
            return Err(StudyError::BadObservation(format!("coordinate x{i} is {}: expected a finite number", x[i])));
        }
        for (i, &v) in x.iter().enumerate() {
            if v < bounds.lower[i] || v > bounds.upper[i] {
                return Err(StudyError::BadObservation(format!(
                    "coordinate x{i} = {v} is outside the bounds [{}, {}]",
                    bounds.lower[i], bounds.upper[i]
                )));
            }
        }
        let (y, error) = match outcome {
            Outcome::Value(v) if !v.is_finite() => {
                return Err(StudyError::BadObservation(format!("{v} is not a valid value: expected a finite number")));
            }
            Outcome::Value(v) => (Some(*v), None),
            Outcome::Failed(m) => (None, Some(m.clone())),
        };
        Ok(EvaluationRecord {
            index: self.records.len(),
            trial: None,
            source: Some(source.to_owned()),
            iteration: 0,
            x: x.to_vec(),
            y,
            f: None,
            error,
            seconds: 0.0,
        })
    }

    fn journal_tell(&mut self, record: EvaluationRecord) -> Result<(), StudyError> {
        if let Some(j) = &mut self.journal {
            j.evaluations.append(&record).map_err(RunError::from)?;
        }
        self.apply(record)?;
        Ok(())
    }

    /// Takes one tell into the state (fresh or replayed).
    fn apply(&mut self, record: EvaluationRecord) -> Result<(), RunError> {
        let dir = self.dir.clone().unwrap_or_default();
        let inconsistent = |message: String| RunError::Inconsistent { dir: dir.clone(), message };
        if record.index != self.records.len() {
            return Err(inconsistent(format!(
                "evaluation record {} carries index {} (two processes wrote this run, or the file was edited)",
                self.records.len(),
                record.index
            )));
        }
        let unit = if record.source.is_some() {
            if record.y.is_some() {
                self.imported_ok += 1;
            }
            self.info.bounds.to_unit(&record.x)
        } else {
            let id = record.trial.unwrap_or(record.index);
            if !self.trials.contains_key(&id) {
                if record.iteration != 0 || record.trial.is_some() {
                    return Err(inconsistent(format!(
                        "evaluation record {} answers trial {id}, which no ask in {ITERATIONS_FILE} handed out",
                        record.index
                    )));
                }
                // A journal of an older version: the initial design was not journaled as asks.
                self.register_implicit_design_trial(id, &record)?;
            }
            if !self.pending.remove(&id) {
                return Err(inconsistent(format!(
                    "trial {id} is told twice (evaluation records of index {} and earlier); two processes wrote this run",
                    record.index
                )));
            }
            self.used += 1;
            self.trials[&id].unit.clone()
        };
        if let Some(y) = record.y
            && record.error.is_none()
        {
            self.data.push(&unit, y);
        } else if record.source.is_none() && self.on_error == OnError::Stop && self.evaluation_failure.is_none() {
            let message = format!(
                "evaluation {} at {:?}: {} (set `on_error: skip` to record failures and continue, or retry it with `les resume DIR --retry-failed`)",
                record.index,
                record.x,
                record.error.as_deref().unwrap_or("no value")
            );
            self.evaluation_failure = Some((record.trial.unwrap_or(record.index), message));
        }
        self.records.push(record);
        self.units.push(unit);
        Ok(())
    }

    fn register_implicit_design_trial(&mut self, id: TrialId, record: &EvaluationRecord) -> Result<(), RunError> {
        let unit = self.design_point(self.design_handed);
        let x = self.info.bounds.from_unit(&unit);
        diverged_check(self.dir.as_deref(), record.index, &record.x, &x)?;
        self.trials.insert(id, Trial { id, iteration: 0, x, unit });
        self.pending.insert(id);
        self.design_handed += 1;
        self.next_trial = self.next_trial.max(id + 1);
        Ok(())
    }

    /// Rebuilds the state from the journal: tells and asks in their recorded interleaving.
    fn replay(
        &mut self,
        evaluations: Vec<EvaluationRecord>,
        iterations: Vec<IterationRecord>,
        tell_strategy: bool,
    ) -> Result<(), StudyError> {
        self.earlier_seconds = evaluations.iter().map(|r| r.seconds).sum::<f64>()
            + iterations.iter().map(|r| r.ask_seconds + r.tell_seconds.unwrap_or(0.0)).sum::<f64>();
        let mut evaluations = evaluations.into_iter();
        for mut it in iterations {
            // Older journals: an ask saw the evaluations of the iterations before it.
            let told = match it.told {
                Some(t) => t,
                None => {
                    self.records.len()
                        + evaluations.as_slice().iter().take_while(|r| r.iteration < it.iteration).count()
                }
            };
            while self.records.len() < told {
                let Some(r) = evaluations.next() else {
                    return Err(RunError::Inconsistent {
                        dir: self.dir.clone().unwrap_or_default(),
                        message: format!(
                            "ask of iteration {} saw {told} evaluations, but {EVALUATIONS_FILE} holds {}",
                            it.iteration,
                            self.records.len()
                        ),
                    }
                    .into());
                };
                self.apply(r)?;
            }
            if let Some(failed) = it.retry_of {
                self.take_up_retry(failed);
            } else if it.iteration == 0 {
                for (i, unit) in it.points.iter().enumerate() {
                    let expected = self.design_point(self.design_handed + i);
                    if unit != &expected {
                        let index = it.trials.get(i).copied().unwrap_or(self.next_trial + i);
                        let (journaled, now) =
                            (self.info.bounds.from_unit(unit), self.info.bounds.from_unit(&expected));
                        diverged_check(self.dir.as_deref(), index, &journaled, &now)?;
                    }
                }
                self.design_handed += it.points.len();
            } else {
                if tell_strategy && self.delivered < told {
                    let observations = self.observations(self.delivered, told);
                    self.strategy
                        .tell(&observations)
                        .map_err(|e| StudyError::Strategy(format!("could not take the journaled observations: {e}")))?;
                }
                self.delivered = told;
                self.strategy_iteration = it.iteration;
            }
            if it.trials.is_empty() {
                it.trials = (self.next_trial..self.next_trial + it.points.len()).collect();
            }
            for (&id, unit) in it.trials.iter().zip(&it.points) {
                let trial =
                    Trial { id, iteration: it.iteration, x: self.info.bounds.from_unit(unit), unit: unit.clone() };
                self.trials.insert(id, trial);
                self.pending.insert(id);
                self.next_trial = self.next_trial.max(id + 1);
            }
            if let Some(r) = &it.stop {
                self.stop = Some(r.clone());
            }
            self.iterations.push(it);
        }
        for r in evaluations {
            self.apply(r)?;
        }
        // Trial ids of observations told without an ask follow the asks' numbering.
        if let Some(max) = self.records.iter().filter_map(|r| r.trial).max() {
            self.next_trial = self.next_trial.max(max + 1);
        }
        Ok(())
    }

    /// Imports the config's `initial_data` rows that are not in the journal yet (a fresh study,
    /// or one whose import was interrupted), before anything was asked.
    fn import_initial_data(&mut self) -> Result<(), StudyError> {
        let Some(path) = self.initial_data.clone() else { return Ok(()) };
        if !self.trials.is_empty() {
            return Ok(());
        }
        let rows =
            read_initial_data(&path, &self.info.bounds).map_err(|e| StudyError::BadObservation(e.to_string()))?;
        let done: BTreeSet<String> = self.records.iter().filter_map(|r| r.source.clone()).collect();
        for row in rows {
            if done.contains(&row.source) {
                continue;
            }
            self.tell_unasked(&row.x, Outcome::Value(row.y), &row.source)?;
        }
        Ok(())
    }

    /// The summary `les run` writes at its end, for `status`.
    pub fn summary(&self, status: &RunStatus) -> Value {
        let best = self.best();
        let failed = self.records.iter().filter(|r| r.error.is_some()).count();
        let mut summary = Map::new();
        summary.insert("best_x".into(), json!(best.as_ref().map(|b| b.x.clone())));
        summary.insert("best_y".into(), json!(best.as_ref().map(|b| b.y)));
        summary.insert("best_f".into(), json!(best.as_ref().and_then(|b| b.f)));
        summary.insert("best_index".into(), json!(best.as_ref().map(|b| b.index)));
        summary.insert("evaluations".into(), json!(self.records.len()));
        summary.insert("failed_evaluations".into(), json!(failed));
        summary.insert("budget".into(), json!(self.budget));
        summary.insert("iterations".into(), json!(self.strategy_iteration));
        summary.insert("pending_trials".into(), json!(self.pending.iter().collect::<Vec<_>>()));
        summary.insert("wall_seconds".into(), json!(self.earlier_seconds + self.started.elapsed().as_secs_f64()));
        summary.insert("seed".into(), json!(self.seed));
        summary.insert("version".into(), json!(crate::VERSION));
        summary.insert("objective".into(), json!(self.info.name));
        summary.insert("strategy".into(), self.resolved["strategy"]["name"].clone());
        summary.insert("stop_reason".into(), json!(status.reason()));
        summary.insert("success".into(), json!(status.is_success()));
        Value::Object(summary)
    }

    /// Writes `summary.json` for the study as it stands (`status`: how it ended, or that it
    /// goes on). A study in memory writes nothing.
    pub fn write_summary(&self, status: &RunStatus) -> Result<Value, StudyError> {
        let summary = self.summary(status);
        if let Some(j) = &self.journal {
            write_json_atomic(&j.dir.join(SUMMARY_FILE), &summary).map_err(RunError::from)?;
        }
        Ok(summary)
    }
}

fn join_ids(ids: &BTreeSet<TrialId>) -> String {
    ids.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}

/// What [`repair`] did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Repair {
    /// Evaluation records kept, and the lines dropped from `evaluations.jsonl`.
    pub evaluations_kept: usize,
    /// Lines dropped from `evaluations.jsonl` (the damaged one and everything after it).
    pub evaluations_dropped: usize,
    /// Ask records kept.
    pub asks_kept: usize,
    /// Lines dropped from `iterations.jsonl`.
    pub asks_dropped: usize,
    /// Where the dropped lines were saved, when any were.
    pub saved: Option<PathBuf>,
}

/// Truncates the journal of the run in `dir` to its last consistent point: the evaluation
/// records before the first damaged line, and the asks those records back. The dropped lines
/// are saved to `DIR/dropped-<unix seconds>.jsonl` first, so nothing is lost; a resume then
/// evaluates again what was dropped. Holds the run's lock.
pub fn repair(dir: &Path) -> Result<Repair, StudyError> {
    if !dir.join(CONFIG_FILE).exists() && !dir.join(EVALUATIONS_FILE).exists() {
        return Err(RunError::NothingToResume(dir.to_owned()).into());
    }
    let _lock = RunLock::acquire(dir).map_err(RunError::from)?;
    let eval_path = dir.join(EVALUATIONS_FILE);
    let iter_path = dir.join(ITERATIONS_FILE);
    let read_lines = |path: &Path| -> Result<Vec<String>, RunError> {
        match std::fs::read(path) {
            Ok(bytes) => Ok(String::from_utf8_lossy(&bytes).split_inclusive('\n').map(str::to_owned).collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io(path)(e)),
        }
    };
    let eval_lines = read_lines(&eval_path)?;
    let iter_lines = read_lines(&iter_path)?;
    // Keep the longest prefix of whole lines that parse and carry their position as index.
    let mut evaluations: Vec<EvaluationRecord> = Vec::new();
    for line in &eval_lines {
        let parsed =
            line.ends_with('\n').then(|| serde_json::from_str::<EvaluationRecord>(line.trim_end()).ok()).flatten();
        match parsed {
            Some(r) if r.index == evaluations.len() => evaluations.push(r),
            _ => break,
        }
    }
    let mut iterations: Vec<IterationRecord> = Vec::new();
    for line in &iter_lines {
        match line.ends_with('\n').then(|| serde_json::from_str::<IterationRecord>(line.trim_end()).ok()).flatten() {
            Some(r) => iterations.push(r),
            None => break,
        }
    }
    iterations.truncate(asks_backed_by(&evaluations, &iterations));
    let report = Repair {
        evaluations_kept: evaluations.len(),
        evaluations_dropped: eval_lines.len() - evaluations.len(),
        asks_kept: iterations.len(),
        asks_dropped: iter_lines.len() - iterations.len(),
        saved: None,
    };
    if report.evaluations_dropped == 0 && report.asks_dropped == 0 {
        return Ok(report);
    }
    let stamp = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs());
    let saved = dir.join(format!("dropped-{stamp}.jsonl"));
    let mut text = String::new();
    for (file, lines, kept) in
        [(EVALUATIONS_FILE, &eval_lines, evaluations.len()), (ITERATIONS_FILE, &iter_lines, iterations.len())]
    {
        for line in &lines[kept..] {
            text.push_str(&serde_json::json!({"file": file, "line": line.trim_end_matches('\n')}).to_string());
            text.push('\n');
        }
    }
    write_atomic(&saved, text.as_bytes())?;
    write_atomic(&eval_path, eval_lines[..evaluations.len()].concat().as_bytes())?;
    write_atomic(&iter_path, iter_lines[..iterations.len()].concat().as_bytes())?;
    Ok(Repair { saved: Some(saved), ..report })
}

/// How many leading ask records saw only evaluations the journal holds (all, for a journal
/// written in one piece; records of older versions carry no count and always qualify).
fn asks_backed_by(evaluations: &[EvaluationRecord], iterations: &[IterationRecord]) -> usize {
    iterations.iter().position(|it| it.told.is_some_and(|t| t > evaluations.len())).unwrap_or(iterations.len())
}

fn diverged_check(dir: Option<&Path>, index: usize, journaled: &[f64], now: &[f64]) -> Result<(), RunError> {
    if journaled.len() != now.len() || journaled.iter().zip(now).any(|(a, b)| (a - b).abs() > 1e-12 * (1.0 + b.abs())) {
        return Err(RunError::ResumeDiverged {
            dir: dir.map(Path::to_owned).unwrap_or_default(),
            index,
            journaled: journaled.to_vec(),
            now: now.to_vec(),
        });
    }
    Ok(())
}

fn check_output_path(dir: &Path) -> Result<(), RunError> {
    if dir.as_os_str().is_empty() {
        return Err(RunError::BadOutput {
            dir: dir.to_owned(),
            message: "the output directory is empty: give a directory name".to_owned(),
        });
    }
    if let Ok(meta) = std::fs::metadata(dir)
        && !meta.is_dir()
    {
        return Err(RunError::BadOutput { dir: dir.to_owned(), message: "is a file, not a directory".to_owned() });
    }
    Ok(())
}

fn open_writers(dir: &Path, lock: RunLock) -> Result<DirJournal, RunError> {
    Ok(DirJournal {
        dir: dir.to_owned(),
        evaluations: JournalWriter::open(&dir.join(EVALUATIONS_FILE))?,
        iterations: JournalWriter::open(&dir.join(ITERATIONS_FILE))?,
        _lock: lock,
    })
}

/// The run's own `config.yaml`, as a value.
fn read_run_config(dir: &Path) -> Result<Value, RunError> {
    let config_path = dir.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&config_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(RunError::NothingToResume(dir.to_owned())),
        Err(e) => return Err(io(&config_path)(e)),
    };
    crate::yaml::parse(&config_path, &text).map_err(RunError::Config)
}

/// Builds the run from the config the directory holds (output forced to the directory).
fn build_stored(dir: &Path, overrides: &Overrides) -> Result<BuiltRun, StudyError> {
    let config_path = dir.join(CONFIG_FILE);
    if !config_path.exists() {
        return Err(RunError::NothingToResume(dir.to_owned()).into());
    }
    let overrides = Overrides { output: Some(dir.to_string_lossy().into_owned()), ..overrides.clone() };
    let loaded = LoadedConfig::from_file(&config_path, &overrides).map_err(RunError::Config)?;
    let mut run = loaded.build().map_err(RunError::Config)?;
    // The stored config names the directory it was written in; keep the one given now.
    run.output = dir.to_owned();
    Ok(run)
}

fn read_journals(dir: &Path, repair: bool) -> Result<(Vec<EvaluationRecord>, Vec<IterationRecord>), RunError> {
    let eval_path = dir.join(EVALUATIONS_FILE);
    let iter_path = dir.join(ITERATIONS_FILE);
    let (evaluations, iterations) = if repair {
        (read_journal::<EvaluationRecord>(&eval_path)?, read_journal::<IterationRecord>(&iter_path)?)
    } else {
        (
            read_journal_unchanged::<EvaluationRecord>(&eval_path)?,
            read_journal_unchanged::<IterationRecord>(&iter_path)?,
        )
    };
    for (path, torn) in [(&eval_path, evaluations.repaired_torn_line), (&iter_path, iterations.repaired_torn_line)] {
        if torn && repair {
            tracing::warn!("{}: dropped a torn last line left by an interrupted run", path.display());
        }
    }
    Ok((evaluations.records, iterations.records))
}

/// A budget below what the journal already holds would make the summary contradict it.
fn check_budget(dir: &Path, run: &BuiltRun, evaluations: &[EvaluationRecord]) -> Result<(), RunError> {
    let used = evaluations.iter().filter(|r| r.source.is_none()).count();
    if run.budget < used {
        return Err(RunError::BudgetBelowJournal { dir: dir.to_owned(), budget: run.budget, used });
    }
    Ok(())
}

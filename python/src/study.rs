//! `les_core::Study` for Python: made from a config (file or text), optionally with a Python
//! callable as its objective, driven by `ask`/`tell` or run to its end by the runner.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};

use les_core::config::{BuiltRun, ConfigError, LoadedConfig, Overrides};
use les_core::journal::CONFIG_FILE;
use les_core::runner::{self, RunError, RunObserver, RunOutcome, RunStatus};
use les_core::study::{Evaluation, Outcome, Study, Trial};
use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use serde_json::{Value, json};

use crate::errors::{config_error, run_error, study_error};
use crate::objective::PyObjective;

/// Where a config comes from: a file, or text the Python half made from a dict (JSON, which
/// is YAML; `name` stands for the file in messages).
pub enum ConfigSource {
    /// A YAML file.
    File(PathBuf),
    /// YAML (or JSON) text.
    Text {
        /// What messages call it.
        name: String,
        /// The text.
        text: String,
    },
}

/// The name a config made from a Python dict has in error messages.
const DICT_CONFIG_NAME: &str = "<config dict>";

impl ConfigSource {
    /// From the Python arguments: exactly one of a path and a text.
    pub fn from_args(path: Option<PathBuf>, text: Option<String>) -> PyResult<Self> {
        match (path, text) {
            (Some(p), None) => Ok(Self::File(p)),
            (None, Some(text)) => Ok(Self::Text { name: DICT_CONFIG_NAME.to_owned(), text }),
            _ => Err(PyValueError::new_err("expected a config path or a config dict")),
        }
    }

    /// Reads, checks and builds the run.
    pub fn build(&self, overrides: &Overrides) -> Result<BuiltRun, ConfigError> {
        let loaded = match self {
            Self::File(path) => LoadedConfig::from_file(path, overrides)?,
            Self::Text { name, text } => LoadedConfig::from_str(Path::new(name), text, overrides)?,
        };
        loaded.build()
    }
}

/// A `KeyboardInterrupt` (or another exception of a signal handler) seen during a run: raised
/// inside the objective, or found by the observer's signal check. The first one is kept, the
/// runner stops (the trials in flight stay pending) and the exception is raised again to the
/// caller once the run has ended.
pub struct Interrupt {
    set: AtomicBool,
    error: Mutex<Option<PyErr>>,
}

impl Interrupt {
    /// No interrupt yet.
    pub fn new() -> Arc<Self> {
        Arc::new(Self { set: AtomicBool::new(false), error: Mutex::new(None) })
    }

    /// Records `error` (the first one wins).
    pub fn set(&self, error: PyErr) {
        let mut slot = lock(&self.error);
        if slot.is_none() {
            *slot = Some(error);
        }
        self.set.store(true, Ordering::SeqCst);
    }

    /// Whether an interrupt was seen.
    pub fn is_set(&self) -> bool {
        self.set.load(Ordering::SeqCst)
    }

    /// Raises the recorded exception (and forgets it, so the study can go on afterwards).
    pub fn raise_if_set(&self, _py: Python<'_>) -> PyResult<()> {
        let error = lock(&self.error).take();
        self.set.store(false, Ordering::SeqCst);
        match error {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

/// The runner's observer: checks for Ctrl-C while the run goes on.
pub struct PyObserver {
    interrupt: Arc<Interrupt>,
}

impl PyObserver {
    /// An observer that records interrupts in `interrupt`.
    pub fn new(interrupt: Arc<Interrupt>) -> Self {
        Self { interrupt }
    }

    /// Runs Python's signal handlers (on the main thread; a no-op elsewhere): Ctrl-C while the
    /// GIL is released is only noticed here.
    fn check_signals(&mut self) -> bool {
        if self.interrupt.is_set() {
            return true;
        }
        if let Err(e) = Python::attach(|py| py.check_signals()) {
            self.interrupt.set(e);
        }
        self.interrupt.is_set()
    }
}

impl RunObserver for PyObserver {
    fn interrupted(&mut self) -> bool {
        self.check_signals()
    }
}

/// The end of a run as JSON for the Python half.
pub fn outcome_json(o: &RunOutcome) -> Value {
    json!({
        "stop_reason": o.status.reason(),
        "success": o.status.is_success(),
        "summary": o.summary,
        "dir": o.dir.to_string_lossy(),
    })
}

/// Replaces the config's objective by a Python callable; the config must declare the space
/// only (`external`), so that its run directory says truthfully what was evaluated.
fn use_python_objective(run: &mut BuiltRun, function: Py<PyAny>, interrupt: &Arc<Interrupt>) -> PyResult<()> {
    let block = &run.resolved["objective"];
    if block.get("external").is_none() {
        let kind = ["builtin", "library", "command"]
            .into_iter()
            .find_map(|k| block.get(k).map(|v| format!("`{k}: {}`", v.as_str().map_or(v.to_string(), str::to_owned))))
            .unwrap_or_else(|| "not `external`".to_owned());
        return Err(PyValueError::new_err(format!(
            "objective: the config's objective is {kind}, which les evaluates itself; a Python objective needs a \
             config that declares the space only: `objective: {{external: NAME, bounds: {{lower: [...], upper: [...]}}}}`"
        )));
    }
    let info = run.objective.info().clone();
    run.objective = Box::new(PyObjective::new(info, function, interrupt.clone()));
    Ok(())
}

/// A trial for Python: (id, iteration, x).
type TrialTuple = (usize, usize, Vec<f64>);

/// The best observation for Python: (trial, x, y, f).
type BestTuple = (usize, Vec<f64>, f64, Option<f64>);

fn trial_tuple(t: &Trial) -> TrialTuple {
    (t.id, t.iteration, t.x.clone())
}

/// The study behind `les.Study`.
#[pyclass(module = "les._native")]
pub struct NativeStudy {
    /// `None` once closed (the run directory's lock is released).
    study: Mutex<Option<Study>>,
    interrupt: Arc<Interrupt>,
}

impl NativeStudy {
    fn new(study: Study, interrupt: Arc<Interrupt>) -> Self {
        Self { study: Mutex::new(Some(study)), interrupt }
    }

    /// Runs `f` on the study without the GIL.
    fn with<T: Send>(&self, py: Python<'_>, f: impl FnOnce(&mut Study) -> PyResult<T> + Send) -> PyResult<T> {
        py.detach(|| {
            let mut guard = match self.study.try_lock() {
                Ok(g) => g,
                Err(TryLockError::Poisoned(p)) => p.into_inner(),
                Err(TryLockError::WouldBlock) => {
                    return Err(PyRuntimeError::new_err(
                        "the study is busy (its run is in progress, and the objective called back into it)",
                    ));
                }
            };
            match guard.as_mut() {
                Some(study) => f(study),
                None => Err(PyRuntimeError::new_err("the study is closed")),
            }
        })
    }
}

/// Writes the summary once the study has ended (as `les ask` / `les tell` do).
fn summary_if_finished(study: &Study) -> PyResult<()> {
    if let Some(status) = study.finished() {
        study.write_summary(&status).map_err(study_error)?;
    }
    Ok(())
}

#[pymethods]
impl NativeStudy {
    /// A study from a config: a fresh run directory, a resumed one, or in memory.
    #[staticmethod]
    #[pyo3(signature = (config_path=None, config_text=None, run_dir=None, seed=None, budget=None, workers=None, objective=None, in_memory=false, resume=false))]
    #[allow(clippy::too_many_arguments)]
    fn create(
        py: Python<'_>,
        config_path: Option<PathBuf>,
        config_text: Option<String>,
        run_dir: Option<PathBuf>,
        seed: Option<u64>,
        budget: Option<i64>,
        workers: Option<i64>,
        objective: Option<Py<PyAny>>,
        in_memory: bool,
        resume: bool,
    ) -> PyResult<Self> {
        let source = ConfigSource::from_args(config_path, config_text)?;
        let overrides = Overrides { seed, budget, workers, output: run_dir.map(|p| p.to_string_lossy().into_owned()) };
        let interrupt = Interrupt::new();
        let mut run = py.detach(|| source.build(&overrides)).map_err(config_error)?;
        if let Some(f) = objective {
            use_python_objective(&mut run, f, &interrupt)?;
        }
        let study = py
            .detach(|| {
                if in_memory {
                    Study::in_memory(run)
                } else if resume {
                    Study::resume(run)
                } else {
                    Study::create(run)
                }
            })
            .map_err(study_error)?;
        Ok(Self::new(study, interrupt))
    }

    /// Opens the run in `run_dir` with the config it holds (lock held until `close`).
    #[staticmethod]
    #[pyo3(signature = (run_dir, budget=None, workers=None, objective=None))]
    fn open(
        py: Python<'_>,
        run_dir: PathBuf,
        budget: Option<i64>,
        workers: Option<i64>,
        objective: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let config = run_dir.join(CONFIG_FILE);
        if !config.exists() {
            return Err(run_error(RunError::NothingToResume(run_dir)));
        }
        let overrides = Overrides { budget, workers, output: Some(run_dir.to_string_lossy().into_owned()), seed: None };
        let interrupt = Interrupt::new();
        let mut run = py
            .detach(|| LoadedConfig::from_file(&config, &overrides).and_then(|c| c.build()))
            .map_err(|e| run_error(RunError::Config(e)))?;
        // The stored config names the directory it was written in; keep the one given now.
        run.output = run_dir;
        if let Some(f) = objective {
            use_python_objective(&mut run, f, &interrupt)?;
        }
        let study = py.detach(|| Study::resume(run)).map_err(study_error)?;
        Ok(Self::new(study, interrupt))
    }

    /// Up to `k` new trials as (id, iteration, x), and the notes of the ask.
    fn ask(&self, py: Python<'_>, k: usize) -> PyResult<(Vec<TrialTuple>, Vec<String>)> {
        if k == 0 {
            return Err(PyValueError::new_err("n = 0 is not valid: expected a number of trials ≥ 1"));
        }
        self.with(py, |study| {
            let asked = study.ask(k);
            summary_if_finished(study)?;
            let asked = asked.map_err(study_error)?;
            Ok((asked.trials.iter().map(trial_tuple).collect(), asked.notes))
        })
    }

    /// Tells one trial's outcome: a value, or a failure with its message.
    #[pyo3(signature = (trial, value=None, error=None, seconds=0.0))]
    fn tell(
        &self,
        py: Python<'_>,
        trial: usize,
        value: Option<f64>,
        error: Option<String>,
        seconds: f64,
    ) -> PyResult<()> {
        let outcome = outcome_of(value, error)?;
        check_seconds(seconds)?;
        self.with(py, |study| {
            study.tell_evaluation(trial, Evaluation { outcome, f: None, seconds }).map_err(study_error)?;
            summary_if_finished(study)
        })
    }

    /// Tells several trials (each evaluation took `seconds`): every tell is checked before any
    /// is written.
    #[pyo3(signature = (trials, values, errors, seconds=0.0))]
    fn tell_many(
        &self,
        py: Python<'_>,
        trials: Vec<usize>,
        values: Vec<Option<f64>>,
        errors: Vec<Option<String>>,
        seconds: f64,
    ) -> PyResult<()> {
        check_seconds(seconds)?;
        if trials.len() != values.len() || trials.len() != errors.len() {
            return Err(PyValueError::new_err(format!(
                "{} trials but {} values: expected one value per trial",
                trials.len(),
                values.len()
            )));
        }
        let outcomes =
            values.into_iter().zip(errors).map(|(v, e)| outcome_of(v, e)).collect::<PyResult<Vec<Outcome>>>()?;
        self.with(py, |study| {
            let mut seen = std::collections::BTreeSet::new();
            for (i, (&id, outcome)) in trials.iter().zip(&outcomes).enumerate() {
                if !seen.insert(id) {
                    return Err(PyValueError::new_err(format!(
                        "tell {} of {}: trial {id} appears twice; nothing was told",
                        i + 1,
                        trials.len()
                    )));
                }
                if let Err(e) = study.check_tell(id, outcome) {
                    let at = format!(" (tell {} of {}; nothing was told)", i + 1, trials.len());
                    let e = study_error(e);
                    return Err(Python::attach(|py| {
                        let kind = e.get_type(py);
                        PyErr::from_type(kind, format!("{}{at}", e.value(py)))
                    }));
                }
            }
            for (id, outcome) in trials.into_iter().zip(outcomes) {
                study.tell_evaluation(id, Evaluation { outcome, f: None, seconds }).map_err(study_error)?;
            }
            summary_if_finished(study)
        })
    }

    /// Tells observations that were never asked (warm start): rows of `xs` with their values,
    /// journaled with the source `SOURCE:ROW`. Every row is checked before any is written.
    fn tell_unasked(&self, py: Python<'_>, xs: Vec<Vec<f64>>, ys: Vec<f64>, source: String) -> PyResult<Vec<usize>> {
        if xs.len() != ys.len() {
            return Err(PyValueError::new_err(format!(
                "{} points but {} values: expected one value per point",
                xs.len(),
                ys.len()
            )));
        }
        self.with(py, |study| {
            for (row, (x, &y)) in xs.iter().zip(&ys).enumerate() {
                let outcome = Outcome::Value(y);
                if !y.is_finite() {
                    return Err(PyValueError::new_err(format!(
                        "row {row}: y = {y} is not valid: expected a finite number; nothing was told"
                    )));
                }
                if let Err(e) = study.check_unasked(x, &outcome, &source) {
                    return Err(PyValueError::new_err(format!("row {row}: {e}; nothing was told")));
                }
            }
            let mut ids = Vec::with_capacity(xs.len());
            for (row, (x, y)) in xs.iter().zip(ys).enumerate() {
                ids.push(study.tell_unasked(x, Outcome::Value(y), &format!("{source}:{row}")).map_err(study_error)?);
            }
            Ok(ids)
        })
    }

    /// Evaluates and tells until the study ends, with its objective (`workers` at once);
    /// returns the outcome as JSON. A Ctrl-C stops the run and is raised again.
    fn run(&self, py: Python<'_>) -> PyResult<String> {
        let interrupt = self.interrupt.clone();
        let outcome = self.with(py, |study| {
            let mut observer = PyObserver::new(interrupt.clone());
            Ok(runner::drive(study, &mut observer))
        })?;
        interrupt.raise_if_set(py)?;
        outcome.map(|o| outcome_json(&o).to_string()).map_err(run_error)
    }

    /// Writes the summary of a run that a `KeyboardInterrupt` stopped (the batch loop of a
    /// vectorized objective, which runs in Python).
    fn write_interrupted_summary(&self, py: Python<'_>, reason: String) -> PyResult<()> {
        self.with(py, |study| {
            let status = study.finished().unwrap_or(RunStatus::Interrupted(reason));
            study.write_summary(&status).map(|_| ()).map_err(study_error)
        })
    }

    /// The best observation: (trial, x, y, f), or None.
    fn best(&self, py: Python<'_>) -> PyResult<Option<BestTuple>> {
        self.with(py, |study| Ok(study.best().map(|b| (b.trial, b.x, b.y, b.f))))
    }

    /// Where the study stands, as JSON.
    fn status(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |study| {
            let s = study.status();
            let pending: Vec<Value> =
                s.pending.iter().map(|t| json!({"trial": t.id, "iteration": t.iteration, "x": t.x})).collect();
            Ok(json!({
                "budget": s.budget,
                "used": s.used,
                "budget_left": s.budget_left(),
                "pending": pending,
                "imported": s.imported,
                "failed": s.failed,
                "best": s.best,
                "finished": s.finished.as_ref().map(|f| f.reason()),
                "success": s.finished.as_ref().map(|f| f.is_success()),
            })
            .to_string())
        })
    }

    /// Every evaluation record, in journal order, as JSON.
    fn records(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |study| {
            serde_json::to_string(study.records()).map_err(|e| PyRuntimeError::new_err(e.to_string()))
        })
    }

    /// The summary `les run` writes, as JSON (not written).
    fn summary(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |study| {
            let status = study.finished();
            let summary = match status {
                Some(s) => study.summary(&s),
                None => {
                    let mut s = study.summary(&RunStatus::BudgetExhausted);
                    s["stop_reason"] = Value::Null;
                    s["success"] = Value::Null;
                    s
                }
            };
            Ok(summary.to_string())
        })
    }

    /// The resolved config, as JSON.
    fn config(&self, py: Python<'_>) -> PyResult<String> {
        self.with(py, |study| Ok(study.resolved().to_string()))
    }

    /// The run directory, or None in memory.
    fn run_dir(&self, py: Python<'_>) -> PyResult<Option<PathBuf>> {
        self.with(py, |study| Ok(study.dir().map(Path::to_owned)))
    }

    /// The objective's box: (lower, upper).
    fn bounds(&self, py: Python<'_>) -> PyResult<(Vec<f64>, Vec<f64>)> {
        self.with(py, |study| {
            let b = &study.info().bounds;
            Ok((b.lower.clone(), b.upper.clone()))
        })
    }

    /// Initial-design points still to hand out before the strategy is asked.
    fn design_remaining(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |study| Ok(study.design_remaining()))
    }

    /// Evaluations kept in flight (`workers`).
    fn workers(&self, py: Python<'_>) -> PyResult<usize> {
        self.with(py, |study| Ok(study.workers()))
    }

    /// Releases the run directory (its lock); the study cannot be used afterwards.
    fn close(&self, py: Python<'_>) {
        py.detach(|| {
            lock(&self.study).take();
        });
    }

    /// Whether `close` was called.
    fn closed(&self) -> bool {
        lock(&self.study).is_none()
    }
}

fn outcome_of(value: Option<f64>, error: Option<String>) -> PyResult<Outcome> {
    match (value, error) {
        (Some(v), None) => Ok(Outcome::Value(v)),
        (None, Some(m)) => Ok(Outcome::Failed(m)),
        (Some(_), Some(_)) => Err(PyValueError::new_err("give a value or an error, not both")),
        (None, None) => Err(PyValueError::new_err("give a value, or error=MESSAGE for a failed evaluation")),
    }
}

fn check_seconds(seconds: f64) -> PyResult<()> {
    if seconds >= 0.0 && seconds.is_finite() {
        Ok(())
    } else {
        Err(PyValueError::new_err(format!("seconds = {seconds} is not valid: expected a number of seconds ≥ 0")))
    }
}

//! `les._native`: the Rust half of the Python package. The Python half (`python/les/`) converts
//! to and from numpy and holds the documented API; this module holds the study, the loop, the
//! registry and the error mapping, and the objective that calls a Python callable.
//!
//! The GIL is released around every piece of Rust work (asks, tells, whole runs); a Python
//! objective takes it back for the duration of each call (see [`objective`]).

mod errors;
mod objective;
mod study;

use std::path::PathBuf;

use les_core::config::{LoadedConfig, Overrides};
use les_core::registry::{self, PluginKind};
use les_core::runner::{self, Mode};
use les_core::yaml::to_string as to_yaml;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::errors::{config_error, run_error};
use crate::study::{ConfigSource, Interrupt, PyObserver, outcome_json};

/// Runs the config in `config` to its end, as `les run` does; returns the summary as JSON.
#[pyfunction]
#[pyo3(signature = (config, seed=None, budget=None, workers=None, run_dir=None, resume=false))]
fn run(
    py: Python<'_>,
    config: PathBuf,
    seed: Option<u64>,
    budget: Option<i64>,
    workers: Option<i64>,
    run_dir: Option<PathBuf>,
    resume: bool,
) -> PyResult<String> {
    let overrides = Overrides { seed, budget, workers, output: run_dir.map(|p| p.to_string_lossy().into_owned()) };
    let built = LoadedConfig::from_file(&config, &overrides).and_then(|c| c.build()).map_err(config_error)?;
    let interrupt = Interrupt::new();
    let mode = if resume { Mode::Resume } else { Mode::Fresh };
    let outcome = py.detach(|| {
        let mut observer = PyObserver::new(interrupt.clone());
        runner::run(built, mode, &mut observer)
    });
    interrupt.raise_if_set(py)?;
    outcome.map(|o| outcome_json(&o).to_string()).map_err(run_error)
}

/// Checks a config as `les check` does; returns the resolved config as JSON.
#[pyfunction]
#[pyo3(signature = (config_path=None, config_text=None))]
fn check(py: Python<'_>, config_path: Option<PathBuf>, config_text: Option<String>) -> PyResult<String> {
    let source = ConfigSource::from_args(config_path, config_text)?;
    let built = py.detach(|| source.build(&Overrides::default())).map_err(config_error)?;
    Ok(built.resolved.to_string())
}

/// Writes the report of the runs under `dir` into `out`; returns (report.md, warnings).
#[pyfunction]
fn report(py: Python<'_>, dir: PathBuf, out: PathBuf) -> PyResult<(PathBuf, Vec<String>)> {
    py.detach(|| {
        let mut warnings = Vec::new();
        let path = les::report::write_report(&dir, &out, &mut |w| warnings.push(w));
        path.map(|p| (p, warnings))
    })
    .map_err(PyValueError::new_err)
}

/// The registered plugins: (kind, name, summary) triples, in `les list` order.
#[pyfunction]
fn list_plugins() -> Vec<(String, String, String)> {
    PluginKind::ALL
        .into_iter()
        .flat_map(|kind| {
            registry::list(kind).into_iter().map(move |e| (kind.to_string(), e.name.to_owned(), e.summary.to_owned()))
        })
        .collect()
}

/// A plugin for Python: (kind, name, summary, details, default params as YAML, as JSON).
type PluginTuple = (String, String, String, String, String, String);

/// The plugins named `name`.
#[pyfunction]
fn describe_plugin(name: &str) -> PyResult<Vec<PluginTuple>> {
    let found = registry::find(name);
    if found.is_empty() {
        let mut all: Vec<&str> = PluginKind::ALL.into_iter().flat_map(registry::list).map(|e| e.name).collect();
        all.sort_unstable();
        all.dedup();
        return Err(PyValueError::new_err(format!("no plugin is named `{name}`; known names: {}", all.join(", "))));
    }
    Ok(found
        .into_iter()
        .map(|e| {
            (
                e.kind.to_string(),
                e.name.to_owned(),
                e.summary.to_owned(),
                les_core::param_docs::render(e.details).trim_end().to_owned(),
                to_yaml(&e.default_params),
                e.default_params.to_string(),
            )
        })
        .collect())
}

/// The plugin kinds `les list KIND` accepts.
#[pyfunction]
fn plugin_kinds() -> Vec<&'static str> {
    PluginKind::ALL.iter().map(|k| k.as_str()).collect()
}

/// Which random-feature kernel this process runs (`avx2-fma` or `portable`).
#[pyfunction]
fn kernel_name() -> &'static str {
    les_gp::rff_single::kernel_name()
}

/// The version of les that this module was built from.
#[pyfunction]
fn version() -> &'static str {
    les_core::VERSION
}

/// Serves an isolated library objective on stdin/stdout until stdin closes (the child process
/// that `library:` objectives run in; see `les_objectives::isolated`). Returns the exit code.
#[pyfunction]
fn _serve_objective(py: Python<'_>) -> i32 {
    py.detach(les_objectives::isolated::serve)
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    if let Err(e) = registry::check_duplicates() {
        return Err(pyo3::exceptions::PyRuntimeError::new_err(e.to_string()));
    }
    // Isolated library objectives run in a child process that serves them; the executable of
    // this process is the Python interpreter, so the child is Python running this module.
    let executable: String = m.py().import("sys")?.getattr("executable")?.extract()?;
    les_objectives::isolated::set_server_command(vec![
        executable.into(),
        "-c".into(),
        "import sys; from les import _native; sys.exit(_native._serve_objective())".into(),
    ]);
    m.add_function(wrap_pyfunction!(_serve_objective, m)?)?;
    m.add_class::<study::NativeStudy>()?;
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(check, m)?)?;
    m.add_function(wrap_pyfunction!(report, m)?)?;
    m.add_function(wrap_pyfunction!(list_plugins, m)?)?;
    m.add_function(wrap_pyfunction!(describe_plugin, m)?)?;
    m.add_function(wrap_pyfunction!(plugin_kinds, m)?)?;
    m.add_function(wrap_pyfunction!(kernel_name, m)?)?;
    m.add_function(wrap_pyfunction!(version, m)?)?;
    Ok(())
}

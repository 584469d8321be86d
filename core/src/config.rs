//! The run configuration: one YAML file (parsed by [`crate::yaml`]), with errors that name the
//! file, line, column, key path, bad value and what was expected.
//!
//! ```yaml
//! objective: { builtin: ackley, dim: 10 }   # or { library: path/to/lib.so, params: {...} }
//!                                           # or { command: [python3, obj.py], dim: 3, ... }
//! strategy:
//!   name: les
//!   params: { paths: 250 }
//! budget: 200          # exact number of objective evaluations, initial design included
//! initial_points: 2    # uniform random points before the strategy's first ask
//! seed: 7
//! output: runs/ackley10-les
//! on_error: stop       # stop | skip
//! initial_data: data.csv  # observations to start from (warm start)
//! ```

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::initial_data::read_initial_data;
use crate::params::{Params, from_serde_message};
use crate::registry::{self, BuildContext, PluginError, PluginSpec};
use crate::yaml::{Document, SourceMap};
use crate::{Objective, Strategy};

/// Default number of uniform random points before the first `ask` (the paper's setting).
pub const DEFAULT_INITIAL_POINTS: usize = 2;

/// The largest budget a config may ask for: each evaluation appends a journal line of about
/// 200 bytes and syncs it to disk, so 10⁸ evaluations already write some 20 GB.
pub const MAX_BUDGET: i64 = 100_000_000;

/// Top-level keys whose value may change when a run is resumed (the rest must match).
pub const CONFIG_KEYS_ALLOWED_TO_CHANGE_ON_RESUME: [&str; 4] = ["budget", "output", "on_error", "workers"];

/// The most evaluations a run keeps in flight at once.
pub const MAX_WORKERS: i64 = 1024;

/// What the runner does when an evaluation fails (error, NaN or ±inf).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OnError {
    /// Record the failure and end the run with exit code 1 (the default).
    #[default]
    Stop,
    /// Record the failure, leave the point out of the data and continue.
    Skip,
}

/// The top-level keys of a run config, as written (before plugins resolve their blocks).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunConfig {
    /// The objective block: `builtin:`, `library:` or `command:` plus its parameters.
    pub objective: Value,
    /// The strategy: `{ name, params }`.
    pub strategy: PluginSpec,
    /// Exact number of objective evaluations, initial design included.
    pub budget: i64,
    /// Uniform random points evaluated before the first `ask`.
    #[serde(default = "default_initial_points")]
    pub initial_points: i64,
    /// Seed of every random stream of the run.
    pub seed: u64,
    /// Run directory (default: `runs/<config file stem>-seed<seed>`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<String>,
    /// Policy for failed evaluations.
    #[serde(default)]
    pub on_error: OnError,
    /// Evaluations kept in flight at once (each in its own thread; commands in their own
    /// processes). 1 = one after another.
    #[serde(default = "default_workers")]
    pub workers: i64,
    /// Observations to start from (warm start): a CSV file with a header row (`x0, x1, …,
    /// y`) or JSON lines of `{"x": [...], "y": number}`; a relative path is resolved against the
    /// current directory, like `library:` and `command:` paths.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub initial_data: Option<String>,
}

fn default_workers() -> i64 {
    1
}

fn default_initial_points() -> i64 {
    DEFAULT_INITIAL_POINTS as i64
}

/// Command-line values that replace the file's.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Overrides {
    /// Replaces `seed`.
    pub seed: Option<u64>,
    /// Replaces `budget`.
    pub budget: Option<i64>,
    /// Replaces `output`.
    pub output: Option<String>,
    /// Replaces `workers`.
    pub workers: Option<i64>,
}

/// A config error located in its file.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub struct ConfigError {
    /// The config file.
    pub file: PathBuf,
    /// 1-based line and column, when known.
    pub location: Option<(usize, usize)>,
    /// Dotted key path (`strategy.params.paths`), empty for the whole file.
    pub path: String,
    /// What was wrong and what was expected.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file.display())?;
        if let Some((line, col)) = self.location {
            write!(f, ":{line}:{col}")?;
        }
        if self.path.is_empty() {
            write!(f, ": {}", self.message)
        } else {
            write!(f, ": {}: {}", self.path, self.message)
        }
    }
}

/// A config file read and checked at the top level; plugins are built by [`LoadedConfig::build`].
#[derive(Clone, Debug)]
pub struct LoadedConfig {
    /// The file it came from.
    pub file: PathBuf,
    /// The top-level values (overrides applied).
    pub config: RunConfig,
    map: SourceMap,
    /// Top-level keys whose value came from the command line, not the file.
    overridden: Vec<&'static str>,
}

/// Everything a run needs, built from a config.
pub struct BuiltRun {
    /// The objective.
    pub objective: Box<dyn Objective>,
    /// The strategy.
    pub strategy: Box<dyn Strategy>,
    /// Exact evaluation budget.
    pub budget: usize,
    /// Uniform random points before the first ask (0 when the strategy makes its own design).
    pub initial_points: usize,
    /// Run seed.
    pub seed: u64,
    /// Failed-evaluation policy.
    pub on_error: OnError,
    /// Run directory.
    pub output: PathBuf,
    /// The resolved config (every default filled in), as written to the run directory.
    pub resolved: Value,
    /// Observations to import before the first ask (see [`crate::initial_data`]).
    pub initial_data: Option<PathBuf>,
    /// Evaluations kept in flight at once.
    pub workers: usize,
}

impl fmt::Debug for BuiltRun {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("BuiltRun")
            .field("objective", &self.objective.info().name)
            .field("budget", &self.budget)
            .field("seed", &self.seed)
            .field("output", &self.output)
            .finish_non_exhaustive()
    }
}

impl LoadedConfig {
    /// Reads and checks `file`, applying `overrides`.
    pub fn from_file(file: &Path, overrides: &Overrides) -> Result<Self, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|e| ConfigError {
            file: file.to_owned(),
            location: None,
            path: String::new(),
            message: format!("cannot read the config file: {e}"),
        })?;
        Self::from_str(file, &text, overrides)
    }

    /// Checks YAML `text` that came from `file` (used for messages only).
    pub fn from_str(file: &Path, text: &str, overrides: &Overrides) -> Result<Self, ConfigError> {
        let err = |location, path: &str, message: String| ConfigError {
            file: file.to_owned(),
            location,
            path: path.to_owned(),
            message,
        };
        let Document { value, map } = Document::parse(file, text)?;
        if !value.is_object() {
            return Err(err(
                Some((1, 1)),
                "",
                "expected a mapping with keys objective, strategy, budget, seed (and optionally initial_points, initial_data, output, on_error, workers)".into(),
            ));
        }
        let mut config: RunConfig = serde_path_to_error::deserialize(&value).map_err(|e| {
            let parent = e.path().to_string();
            let parent = if parent == "." { String::new() } else { parent };
            let pe = from_serde_message(&parent, &e.inner().to_string());
            err(map.locate(&pe.path), &pe.path, pe.message)
        })?;
        let mut overridden = Vec::new();
        if let Some(seed) = overrides.seed {
            config.seed = seed;
            overridden.push("seed");
        }
        if let Some(budget) = overrides.budget {
            config.budget = budget;
            overridden.push("budget");
        }
        if let Some(output) = &overrides.output {
            config.output = Some(output.clone());
            overridden.push("output");
        }
        if let Some(workers) = overrides.workers {
            config.workers = workers;
            overridden.push("workers");
        }
        let loaded = Self { file: file.to_owned(), config, map, overridden };
        loaded.validate_top_level()?;
        Ok(loaded)
    }

    fn error(&self, path: &str, message: impl Into<String>) -> ConfigError {
        if let Some(key) = self.overridden.iter().find(|k| **k == path) {
            // The value came from the command line: the file's line would point elsewhere.
            let flag = if *key == "output" { "--out" } else { key };
            let flag = if flag.starts_with("--") { flag.to_owned() } else { format!("--{flag}") };
            return ConfigError {
                file: self.file.clone(),
                location: None,
                path: format!("{flag} (given on the command line, replacing `{key}`)"),
                message: message.into(),
            };
        }
        ConfigError {
            file: self.file.clone(),
            location: self.map.locate(path),
            path: path.to_owned(),
            message: message.into(),
        }
    }

    fn validate_top_level(&self) -> Result<(), ConfigError> {
        let c = &self.config;
        if c.budget < 1 {
            return Err(self.error(
                "budget",
                format!("{} is not valid: expected a whole number ≥ 1 (the number of objective evaluations)", c.budget),
            ));
        }
        if c.budget > MAX_BUDGET {
            return Err(self.error(
                "budget",
                format!(
                    "{} is not valid: expected at most {MAX_BUDGET} (each evaluation writes and syncs a journal line of about 200 bytes; {} evaluations would need about {:.0} GB)",
                    c.budget,
                    c.budget,
                    c.budget as f64 * 200e-9
                ),
            ));
        }
        if !(1..=MAX_WORKERS).contains(&c.workers) {
            return Err(self.error(
                "workers",
                format!(
                    "{} is not valid: expected a whole number from 1 to {MAX_WORKERS} (evaluations in flight at once)",
                    c.workers
                ),
            ));
        }
        if c.initial_points < 0 {
            return Err(
                self.error("initial_points", format!("{} is not valid: expected a whole number ≥ 0", c.initial_points))
            );
        }
        if matches!(&c.output, Some(o) if o.trim().is_empty()) {
            return Err(
                self.error("output", "an empty path is not valid: expected a directory name (or leave `output` out)")
            );
        }
        if matches!(&c.initial_data, Some(o) if o.trim().is_empty()) {
            return Err(self.error("initial_data", "an empty path is not valid: expected a CSV or JSON-lines file"));
        }
        if c.initial_points > c.budget {
            return Err(self.error(
                "initial_points",
                format!("{} is more than the budget {}: expected at most the budget", c.initial_points, c.budget),
            ));
        }
        Ok(())
    }

    /// Turns a plugin error into a located config error.
    pub fn locate_plugin_error(&self, e: PluginError) -> ConfigError {
        match e {
            PluginError::UnknownName { ref path, .. } | PluginError::Build { ref path, .. } => {
                let msg = e.to_string();
                let msg = msg.strip_prefix(&format!("{path}: ")).unwrap_or(&msg).to_owned();
                self.error(path, msg)
            }
            PluginError::Param(p) => self.error(&p.path, p.message),
            PluginError::Duplicate { .. } => self.error("", e.to_string()),
        }
    }

    /// Builds the objective alone (for `les check` and the runner).
    pub fn build_objective(&self) -> Result<(Box<dyn Objective>, Value), ConfigError> {
        let block = match &self.config.objective {
            Value::Object(m) => m.clone(),
            other => {
                return Err(self.error(
                    "objective",
                    format!("{other} is not valid: expected a mapping with one of `builtin`, `library`, `command` or `external`"),
                ));
            }
        };
        let selectors: Vec<&str> =
            ["builtin", "library", "command", "external"].into_iter().filter(|k| block.contains_key(*k)).collect();
        let ctx = BuildContext::default();
        match selectors.as_slice() {
            ["builtin"] => {
                let name = match &block["builtin"] {
                    Value::String(s) => s.clone(),
                    other => {
                        return Err(self.error(
                            "objective.builtin",
                            format!("{other} is not valid: expected the name of a built-in objective"),
                        ));
                    }
                };
                let mut rest = block.clone();
                rest.remove("builtin");
                let params = Params::new(Value::Object(rest), "objective");
                let built = registry::build::<dyn Objective>(&name, "objective.builtin", &params, &ctx)
                    .map_err(|e| self.locate_plugin_error(e))?;
                let mut resolved = Map::new();
                resolved.insert("builtin".into(), Value::String(name));
                if let Value::Object(m) = built.resolved {
                    resolved.extend(m);
                }
                Ok((built.component, Value::Object(resolved)))
            }
            [kind] => {
                let params = Params::new(Value::Object(block.clone()), "objective");
                let built = registry::build::<dyn Objective>(kind, &format!("objective.{kind}"), &params, &ctx)
                    .map_err(|e| self.locate_plugin_error(e))?;
                Ok((built.component, built.resolved))
            }
            [] => {
                Err(self.error("objective", "expected one of the keys `builtin`, `library`, `command` or `external`"))
            }
            _ => Err(self.error("objective", format!("has {}: expected exactly one of them", selectors.join(" and ")))),
        }
    }

    /// Builds every component and the resolved config. Without an `output` key the run
    /// directory is `runs/<config file stem>-seed<seed>`.
    pub fn build(&self) -> Result<BuiltRun, ConfigError> {
        let (objective, objective_resolved) = self.build_objective()?;
        let info = objective.info().clone();
        let ctx = BuildContext { dim: info.dim(), oracle: objective.true_hyperparameters(), seed: self.config.seed };
        let mut spec = self.config.strategy.clone();
        let strategy = spec.build::<dyn Strategy>("strategy", &ctx).map_err(|e| self.locate_plugin_error(e))?;
        let budget = self.config.budget as usize;
        // The record says what runs: strategies that make their own design (sobol, random)
        // evaluate no initial points, and their resolved config says 0.
        let initial_points = if strategy.uses_initial_design() { self.config.initial_points as usize } else { 0 };
        if initial_points == 0 && self.config.initial_points > 0 && !strategy.uses_initial_design() {
            tracing::info!(
                "strategy `{}` makes its own design: initial_points {} is recorded as 0",
                spec.name,
                self.config.initial_points
            );
        }
        let output = PathBuf::from(self.config.output.clone().unwrap_or_else(|| {
            let stem = self.file.file_stem().and_then(|s| s.to_str()).unwrap_or("run");
            format!("runs/{stem}-seed{}", self.config.seed)
        }));
        let mut resolved = serde_json::json!({
            "objective": objective_resolved,
            "strategy": spec,
            "budget": budget,
            "initial_points": initial_points,
            "seed": self.config.seed,
            "output": output.to_string_lossy(),
            "on_error": self.config.on_error,
        });
        // Written only when not 1, so that configs of earlier versions resolve as they did.
        if self.config.workers != 1 {
            resolved["workers"] = self.config.workers.into();
        }
        let initial_data = match &self.config.initial_data {
            None => None,
            Some(file) => {
                let path = absolute(file);
                // Checked now, so that a bad row is a config error before anything runs.
                read_initial_data(&path, &info.bounds).map_err(|e| self.error("initial_data", e.to_string()))?;
                resolved["initial_data"] = Value::String(path.to_string_lossy().into_owned());
                Some(path)
            }
        };
        Ok(BuiltRun {
            objective,
            strategy,
            budget,
            initial_points,
            seed: self.config.seed,
            on_error: self.config.on_error,
            output,
            resolved,
            initial_data,
            workers: self.config.workers as usize,
        })
    }
}

/// A path of the config made absolute against the current directory (as `library:` and
/// `command:` paths are), so that the resolved config still finds it from elsewhere.
fn absolute(file: &str) -> PathBuf {
    std::path::absolute(file).unwrap_or_else(|_| PathBuf::from(file))
}

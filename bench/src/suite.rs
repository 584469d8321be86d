//! Suite files: strategies × problems × dimensions × seeds, expanded into ordinary run configs.
//!
//! ```yaml
//! name: smoke                      # optional, shown in messages
//! seeds: 20                        # a count (seeds 1..=20) or a list [1, 2, 7]
//! budget: min(20*d, 400)           # a whole number or a formula in d (see `formula`)
//! initial_points: 2                # default 2
//! on_error: stop                   # stop | skip (default stop)
//! strategies:
//!   - { label: les, name: les, params: { paths: 250 } }
//!   - { label: sobol, name: sobol }
//! problems:
//!   - label: gp-high
//!     objective: { builtin: gp_sample, complexity: high }
//!     dims: [5, 10]                # injected as the objective's `dim` key
//!     objective_seed: same_as_run  # inject `seed: <run seed>` into the objective block
//!     budget: 50                   # optional: replaces the suite's budget rule for this problem
//! ```
//!
//! Each (problem, dim, strategy, seed) becomes the run directory
//! `OUT/<problem>/d<dim>/<strategy>/seed<seed>/`. The run seed drives the strategy, the initial
//! design and the observation noise; with `objective_seed: same_as_run` the same number also
//! becomes the objective's own `seed` (a different random stream, so the two are independent),
//! so every strategy of one seed sees the same objective instance and each seed a new one. Both
//! seeds are recorded in the run's `config.yaml`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use les_core::config::{ConfigError, LoadedConfig, OnError, Overrides};
use les_core::params::join_path;
use les_core::yaml::{self, SourceMap};
use les_core::{ParamError, Params, PluginParams};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::formula::Formula;

/// Name of the generated run config written into every run directory.
pub const RUN_CONFIG_FILE: &str = "run.yaml";

/// The suite file as written.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SuiteFile {
    /// Name shown in messages.
    pub name: Option<String>,
    /// Free text.
    pub description: Option<String>,
    /// The strategies compared.
    pub strategies: Vec<StrategyItem>,
    /// The problems.
    pub problems: Vec<ProblemItem>,
    /// A count n (seeds 1..=n) or a list of seeds.
    pub seeds: Value,
    /// A whole number or a formula in `d`.
    pub budget: Value,
    /// Uniform random points before the first ask.
    pub initial_points: Option<i64>,
    /// Failed-evaluation policy of every run.
    pub on_error: OnError,
}

/// One strategy of a suite.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StrategyItem {
    /// Directory and table name (default: the strategy name).
    pub label: Option<String>,
    /// Registered strategy name.
    pub name: String,
    /// The strategy's parameters.
    pub params: Value,
}

/// How the objective's own seed is set.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ObjectiveSeed {
    /// Leave the objective block alone (its `seed`, if any, is fixed).
    #[default]
    Fixed,
    /// Inject `seed: <run seed>`: one objective instance per seed, shared by all strategies.
    SameAsRun,
}

/// One problem of a suite.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ProblemItem {
    /// Directory and table name (default: the builtin name).
    pub label: Option<String>,
    /// The objective block, without `dim` when `dims` is given.
    pub objective: Value,
    /// Dimensions, injected as the objective's `dim`; absent = the objective's own dimension.
    pub dims: Option<Vec<usize>>,
    /// How the objective's seed is set.
    pub objective_seed: ObjectiveSeed,
    /// Replaces the suite's budget rule for this problem.
    pub budget: Option<Value>,
}

impl PluginParams for SuiteFile {
    fn validate(&self) -> Result<(), ParamError> {
        if self.strategies.is_empty() {
            return Err(ParamError::new(
                "strategies",
                "is missing or empty: expected a list of `{ label, name, params }`",
            ));
        }
        if self.problems.is_empty() {
            return Err(ParamError::new(
                "problems",
                "is missing or empty: expected a list of `{ label, objective, dims }`",
            ));
        }
        Ok(())
    }
}

/// One run of a suite.
#[derive(Clone, Debug, PartialEq)]
pub struct RunSpec {
    /// Problem label.
    pub problem: String,
    /// Dimension.
    pub dim: usize,
    /// Strategy label.
    pub strategy: String,
    /// Run seed.
    pub seed: u64,
    /// Evaluation budget.
    pub budget: usize,
    /// Run directory (`OUT/<problem>/d<dim>/<strategy>/seed<seed>`).
    pub dir: PathBuf,
    /// The generated run config (YAML), also written as `run.yaml`.
    pub yaml: String,
    /// Index of the strategy in the suite file.
    pub strategy_index: usize,
    /// Index of the problem in the suite file.
    pub problem_index: usize,
}

impl RunSpec {
    /// `problem/d<dim>/strategy/seed<seed>`, for messages.
    pub fn name(&self) -> String {
        format!("{}/d{}/{}/seed{}", self.problem, self.dim, self.strategy, self.seed)
    }

    /// Loads the generated config (as if read from `run.yaml` in the run directory).
    pub fn load(&self) -> Result<LoadedConfig, ConfigError> {
        LoadedConfig::from_str(&self.dir.join(RUN_CONFIG_FILE), &self.yaml, &Overrides::default())
    }
}

/// A suite read and expanded.
#[derive(Clone, Debug)]
pub struct Suite {
    /// The file.
    pub file: PathBuf,
    /// Its text (for error locations).
    text: String,
    /// The file's contents.
    pub spec: SuiteFile,
    /// Every run, sorted by (problem, dim, strategy, seed) in file order of problems and
    /// strategies.
    pub runs: Vec<RunSpec>,
}

/// A suite error located in its file.
pub type SuiteError = ConfigError;

fn error(file: &Path, text: &str, path: &str, message: impl Into<String>) -> SuiteError {
    ConfigError {
        file: file.to_owned(),
        location: SourceMap::build(text).locate(path),
        path: path.to_owned(),
        message: message.into(),
    }
}

fn valid_label(s: &str) -> bool {
    !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')) && !s.starts_with('.')
}

impl Suite {
    /// Reads `file` and expands it into runs under `out`.
    pub fn from_file(file: &Path, out: &Path) -> Result<Self, SuiteError> {
        let text = std::fs::read_to_string(file)
            .map_err(|e| error(file, "", "", format!("cannot read the suite file: {e}")))?;
        Self::from_str(file, &text, out)
    }

    /// Parses suite `text` (from `file`, for messages) and expands it into runs under `out`.
    pub fn from_str(file: &Path, text: &str, out: &Path) -> Result<Self, SuiteError> {
        let err = |path: &str, message: String| error(file, text, path, message);
        let value: Value = yaml::parse(file, text)?;
        if !value.is_object() {
            return Err(err("", "expected a mapping with keys strategies, problems, seeds, budget".into()));
        }
        let spec: SuiteFile = Params::new(value, "").parse().map_err(|e: ParamError| err(&e.path, e.message))?;
        let seeds = parse_seeds(&spec.seeds).map_err(|m| err("seeds", m))?;
        let default_budget = parse_budget(&spec.budget).map_err(|m| err("budget", m))?;
        let initial_points = spec.initial_points.unwrap_or(les_core::config::DEFAULT_INITIAL_POINTS as i64);

        let mut strategy_labels = Vec::new();
        for (i, s) in spec.strategies.iter().enumerate() {
            let label = s.label.clone().unwrap_or_else(|| s.name.clone());
            let path = format!("strategies[{i}]");
            if s.name.is_empty() {
                return Err(err(&path, "missing required key `name`: expected a registered strategy name".into()));
            }
            if !valid_label(&label) {
                return Err(err(
                    &join_path(&path, "label"),
                    format!("`{label}` is not valid: expected letters, digits, `-`, `_` or `.` (it names a directory)"),
                ));
            }
            if strategy_labels.contains(&label) {
                return Err(err(
                    &join_path(&path, "label"),
                    format!("`{label}` is used twice: expected unique strategy labels"),
                ));
            }
            strategy_labels.push(label);
        }
        let mut problem_labels = Vec::new();
        let mut problem_budgets = Vec::new();
        for (j, p) in spec.problems.iter().enumerate() {
            let path = format!("problems[{j}]");
            let Value::Object(block) = &p.objective else {
                return Err(err(
                    &join_path(&path, "objective"),
                    "is missing or not a mapping: expected an objective block such as `{ builtin: ackley }`".into(),
                ));
            };
            let label = match (&p.label, block.get("builtin")) {
                (Some(l), _) => l.clone(),
                (None, Some(Value::String(b))) => b.clone(),
                (None, _) => {
                    return Err(err(
                        &path,
                        "missing required key `label` (needed for objectives that are not builtins)".into(),
                    ));
                }
            };
            if !valid_label(&label) {
                return Err(err(
                    &join_path(&path, "label"),
                    format!("`{label}` is not valid: expected letters, digits, `-`, `_` or `.` (it names a directory)"),
                ));
            }
            if problem_labels.contains(&label) {
                return Err(err(
                    &join_path(&path, "label"),
                    format!("`{label}` is used twice: expected unique problem labels"),
                ));
            }
            if p.dims.is_some() && block.contains_key("dim") {
                return Err(err(
                    &join_path(&path, "objective.dim"),
                    "is set while `dims` is given: give the dimensions in `dims` only".into(),
                ));
            }
            if let Some(dims) = &p.dims
                && (dims.is_empty() || dims.contains(&0))
            {
                return Err(err(&join_path(&path, "dims"), "expected a non-empty list of dimensions ≥ 1".into()));
            }
            if p.objective_seed == ObjectiveSeed::SameAsRun && block.contains_key("seed") {
                return Err(err(
                    &join_path(&path, "objective.seed"),
                    "is set while `objective_seed: same_as_run` injects it: remove one of them".into(),
                ));
            }
            let budget = match &p.budget {
                Some(b) => parse_budget(b).map_err(|m| err(&join_path(&path, "budget"), m))?,
                None => default_budget.clone(),
            };
            problem_labels.push(label);
            problem_budgets.push(budget);
        }

        let mut suite = Suite { file: file.to_owned(), text: text.to_owned(), spec, runs: Vec::new() };
        for (j, p) in suite.spec.problems.iter().enumerate() {
            let dims = match &p.dims {
                Some(d) => d.clone(),
                None => {
                    let yaml = run_yaml(p, None, &suite.spec.strategies[0], seeds[0], 1, 0, suite.spec.on_error, out);
                    let loaded = LoadedConfig::from_str(&out.join(RUN_CONFIG_FILE), &yaml, &Overrides::default())
                        .map_err(|e| suite.translate(e, 0, j, "?"))?;
                    let (objective, _) = loaded.build_objective().map_err(|e| suite.translate(e, 0, j, "?"))?;
                    vec![objective.info().dim()]
                }
            };
            let mut sorted_dims = dims.clone();
            sorted_dims.sort_unstable();
            sorted_dims.dedup();
            for dim in sorted_dims {
                let budget_f = problem_budgets[j].eval(dim);
                if !(budget_f >= 1.0 && budget_f.fract() == 0.0) {
                    let path = if p.budget.is_some() { format!("problems[{j}].budget") } else { "budget".to_owned() };
                    return Err(suite.err(&path, format!("gives {budget_f} at d = {dim}: expected a whole number ≥ 1")));
                }
                let budget = budget_f as usize;
                for (i, s) in suite.spec.strategies.iter().enumerate() {
                    for &seed in &seeds {
                        let dir = out
                            .join(&problem_labels[j])
                            .join(format!("d{dim}"))
                            .join(&strategy_labels[i])
                            .join(format!("seed{seed}"));
                        let yaml = run_yaml(
                            p,
                            p.dims.as_ref().map(|_| dim),
                            s,
                            seed,
                            budget,
                            initial_points,
                            suite.spec.on_error,
                            &dir,
                        );
                        suite.runs.push(RunSpec {
                            problem: problem_labels[j].clone(),
                            dim,
                            strategy: strategy_labels[i].clone(),
                            seed,
                            budget,
                            dir,
                            yaml,
                            strategy_index: i,
                            problem_index: j,
                        });
                    }
                }
            }
        }
        Ok(suite)
    }

    fn err(&self, path: &str, message: impl Into<String>) -> SuiteError {
        error(&self.file, &self.text, path, message)
    }

    /// Turns an error about a generated run config into one about the suite file.
    pub fn translate(&self, e: ConfigError, strategy_index: usize, problem_index: usize, context: &str) -> SuiteError {
        let p = &e.path;
        let path = if let Some(rest) = p.strip_prefix("strategy") {
            format!("strategies[{strategy_index}]{rest}")
        } else if let Some(rest) = p.strip_prefix("objective") {
            if rest == ".dim" && self.spec.problems[problem_index].dims.is_some() {
                format!("problems[{problem_index}].dims")
            } else {
                format!("problems[{problem_index}].objective{rest}")
            }
        } else if p == "budget" && self.spec.problems[problem_index].budget.is_some() {
            format!("problems[{problem_index}].budget")
        } else {
            p.clone()
        };
        self.err(&path, format!("{} (in the run {context})", e.message))
    }

    /// Builds one run of every (strategy, problem) pair at the problem's smallest dimension and
    /// the first seed, without running: catches every bad strategy or objective block before
    /// anything runs.
    pub fn check(&self) -> Result<(), SuiteError> {
        let mut seen = BTreeSet::new();
        for run in &self.runs {
            if !seen.insert((run.strategy_index, run.problem_index)) {
                continue;
            }
            let built = run.load().and_then(|l| l.build());
            if let Err(e) = built {
                return Err(self.translate(e, run.strategy_index, run.problem_index, &run.name()));
            }
        }
        Ok(())
    }

    /// The runs of shard `index` (1-based) of `count`: every run whose position in the sorted
    /// run list is ≡ index − 1 (mod count).
    pub fn shard(&self, index: usize, count: usize) -> Vec<RunSpec> {
        self.runs.iter().enumerate().filter(|(k, _)| k % count == index - 1).map(|(_, r)| r.clone()).collect()
    }
}

fn parse_seeds(v: &Value) -> Result<Vec<u64>, String> {
    let expected = "expected a count n (seeds 1..=n) or a list of distinct whole numbers ≥ 0";
    match v {
        Value::Null => Err(format!("is missing: {expected}")),
        Value::Number(n) => match n.as_u64() {
            Some(n) if n >= 1 => Ok((1..=n).collect()),
            _ => Err(format!("{n} is not valid: {expected}")),
        },
        Value::Array(items) => {
            let seeds: Option<Vec<u64>> = items.iter().map(|s| s.as_u64()).collect();
            let seeds = seeds.ok_or_else(|| format!("{v} is not valid: {expected}"))?;
            let distinct: BTreeSet<u64> = seeds.iter().copied().collect();
            if seeds.is_empty() || distinct.len() != seeds.len() {
                return Err(format!("{v} is not valid: {expected}"));
            }
            Ok(seeds)
        }
        other => Err(format!("{other} is not valid: {expected}")),
    }
}

fn parse_budget(v: &Value) -> Result<Formula, String> {
    let expected = "expected a whole number ≥ 1 or a formula in d such as `min(20*d, 400)`";
    match v {
        Value::Null => Err(format!("is missing: {expected}")),
        Value::Number(n) => match n.as_u64() {
            Some(n) if n >= 1 => Ok(Formula::Number(n as f64)),
            _ => Err(format!("{n} is not valid: {expected}")),
        },
        Value::String(s) => Formula::parse(s).map_err(|m| format!("`{s}` is not valid ({m}): {expected}")),
        other => Err(format!("{other} is not valid: {expected}")),
    }
}

/// The run config of one run, as YAML text.
#[allow(clippy::too_many_arguments)]
fn run_yaml(
    problem: &ProblemItem,
    dim: Option<usize>,
    strategy: &StrategyItem,
    seed: u64,
    budget: usize,
    initial_points: i64,
    on_error: OnError,
    dir: &Path,
) -> String {
    let mut objective: Map<String, Value> = problem.objective.as_object().cloned().unwrap_or_default();
    if let Some(d) = dim {
        objective.insert("dim".into(), json!(d));
    }
    if problem.objective_seed == ObjectiveSeed::SameAsRun {
        objective.insert("seed".into(), json!(seed));
    }
    let mut strategy_block = Map::new();
    strategy_block.insert("name".into(), json!(strategy.name));
    if !strategy.params.is_null() {
        strategy_block.insert("params".into(), strategy.params.clone());
    }
    let config = json!({
        "objective": Value::Object(objective),
        "strategy": Value::Object(strategy_block),
        "budget": budget,
        "initial_points": initial_points,
        "seed": seed,
        "output": dir.to_string_lossy(),
        "on_error": on_error,
    });
    yaml::to_string(&config)
}

#[cfg(test)]
mod tests {
    // The plugins the suites below name, linked into the test binary.
    use super::*;
    use les_baselines as _;
    use les_objectives as _;

    const SUITE: &str = "\
seeds: 2
budget: min(3*d, 10)
strategies:
  - { label: rnd, name: random }
  - { name: sobol }
problems:
  - { label: sq, objective: { builtin: square }, dims: [4, 2] }
  - { objective: { builtin: ackley }, dims: [2] }
";

    #[test]
    fn expands_in_order_with_budgets() {
        let s = Suite::from_str(Path::new("s.yaml"), SUITE, Path::new("out")).unwrap();
        assert_eq!(s.runs.len(), 2 * 2 * 2 + 2 * 2);
        let names: Vec<String> = s.runs.iter().map(|r| r.name()).collect();
        assert_eq!(names[0], "sq/d2/rnd/seed1");
        assert_eq!(names[3], "sq/d2/sobol/seed2");
        assert_eq!(names[4], "sq/d4/rnd/seed1");
        assert_eq!(names[8], "ackley/d2/rnd/seed1");
        assert_eq!(s.runs[0].budget, 6);
        assert_eq!(s.runs[4].budget, 10);
        assert_eq!(s.runs[0].dir, Path::new("out/sq/d2/rnd/seed1"));
        let c = s.runs[0].load().unwrap();
        assert_eq!(c.config.seed, 1);
        assert_eq!(c.config.objective["dim"], json!(2));
        s.check().unwrap();
    }

    #[test]
    fn shards_partition_the_runs() {
        let s = Suite::from_str(Path::new("s.yaml"), SUITE, Path::new("out")).unwrap();
        let mut all: Vec<String> = (1..=3).flat_map(|i| s.shard(i, 3)).map(|r| r.name()).collect();
        all.sort();
        let mut expected: Vec<String> = s.runs.iter().map(|r| r.name()).collect();
        expected.sort();
        assert_eq!(all, expected);
    }

    #[test]
    fn objective_seed_is_injected() {
        let text = "seeds: [3]\nbudget: 5\nstrategies: [{ name: random }]\nproblems:\n  - { label: g, objective: { builtin: gp_sample }, dims: [2], objective_seed: same_as_run }\n";
        let s = Suite::from_str(Path::new("s.yaml"), text, Path::new("out")).unwrap();
        let c = s.runs[0].load().unwrap();
        assert_eq!(c.config.objective["seed"], json!(3));
    }

    #[test]
    fn errors_point_into_the_suite_file() {
        let bad_key = SUITE.replace("name: sobol", "name: sobol, params: { bogus: 1 }");
        let s = Suite::from_str(Path::new("s.yaml"), &bad_key, Path::new("out")).unwrap();
        let e = s.check().unwrap_err();
        assert_eq!(e.path, "strategies[1].params.bogus", "{e}");
        assert_eq!(e.location.map(|l| l.0), Some(5), "{e}");

        let e =
            Suite::from_str(Path::new("s.yaml"), &SUITE.replace("seeds: 2", "seeds: []"), Path::new("o")).unwrap_err();
        assert_eq!(e.path, "seeds");
        let e = Suite::from_str(Path::new("s.yaml"), &SUITE.replace("min(3*d, 10)", "min(3*d 10)"), Path::new("o"))
            .unwrap_err();
        assert_eq!(e.path, "budget");
        assert!(e.to_string().contains("s.yaml:2:"), "{e}");
        let e =
            Suite::from_str(Path::new("s.yaml"), &SUITE.replace("dims: [2]", "dimz: [2]"), Path::new("o")).unwrap_err();
        assert_eq!(e.path, "problems[1].dimz", "{e}");
        let e = Suite::from_str(Path::new("s.yaml"), &SUITE.replace("label: rnd", "label: sobol"), Path::new("o"))
            .unwrap_err();
        assert_eq!(e.path, "strategies[1].label", "{e}");
        let unknown = SUITE.replace("builtin: ackley", "builtin: nope");
        let s = Suite::from_str(Path::new("s.yaml"), &unknown, Path::new("o")).unwrap();
        let e = s.check().unwrap_err();
        assert!(e.path.starts_with("problems[1].objective"), "{e}");
    }
}

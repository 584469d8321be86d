//! Finding and reading run directories for the report.
//!
//! A run directory is any directory holding `config.yaml` and `evaluations.jsonl`. Its labels
//! come from the layout `les bench` writes (`<problem>/d<dim>/<strategy>/seed<seed>`, relative
//! to the report's root); for other runs from the config: the strategy name, the objective's
//! builtin name (or `command`/`library`), its dimension and the run seed.
//!
//! The journals are read without modifying them (a run still going may have a torn last line,
//! which is skipped here; the runner repairs it when the run is resumed).

use std::io::BufRead;
use std::path::{Path, PathBuf};

use les_core::journal::{
    CONFIG_FILE, EVALUATIONS_FILE, EvaluationRecord, ITERATIONS_FILE, IterationRecord, SUMMARY_FILE,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// One run, read.
#[derive(Clone, Debug)]
pub struct Run {
    /// Run directory.
    pub dir: PathBuf,
    /// Strategy label.
    pub strategy: String,
    /// Problem label.
    pub problem: String,
    /// Dimension.
    pub dim: usize,
    /// Run seed.
    pub seed: u64,
    /// Budget of the config.
    pub budget: usize,
    /// Whether `summary.json` says the run ended as planned.
    pub finished: bool,
    /// Evaluations in index order.
    pub evaluations: Vec<EvaluationRecord>,
    /// Iterations in order.
    pub iterations: Vec<IterationRecord>,
}

/// The best-so-far trace of a run, one entry per evaluation.
#[derive(Clone, Debug, PartialEq)]
pub struct Trace {
    /// Lowest observed y so far (`None` before the first successful evaluation).
    pub best_y: Vec<Option<f64>>,
    /// Noise-free value f at the point of `best_y` (`None` when the objective does not know it).
    pub best_f: Vec<Option<f64>>,
    /// The metric of the tables and plots: `best_f`, or `best_y` where f is unknown.
    pub metric: Vec<Option<f64>>,
}

impl Run {
    /// Best-so-far values after each evaluation.
    pub fn trace(&self) -> Trace {
        let mut best: Option<(f64, Option<f64>)> = None;
        let n = self.evaluations.len();
        let (mut best_y, mut best_f, mut metric) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        for e in &self.evaluations {
            if let Some(y) = e.y
                && best.is_none_or(|(b, _)| y < b)
            {
                best = Some((y, e.f));
            }
            best_y.push(best.map(|b| b.0));
            best_f.push(best.and_then(|b| b.1));
            metric.push(best.map(|b| b.1.unwrap_or(b.0)));
        }
        Trace { best_y, best_f, metric }
    }

    /// The final noise-free value of the best observed point (observed y when f is unknown).
    pub fn final_value(&self) -> Option<f64> {
        self.trace().metric.last().copied().flatten()
    }

    /// Sum of the observed y over all successful evaluations.
    pub fn cumulative_y(&self) -> f64 {
        self.evaluations.iter().filter_map(|e| e.y).sum()
    }

    /// Whether the journal holds the full budget (or the run ended as planned earlier).
    pub fn complete(&self) -> bool {
        self.finished || self.evaluations.len() >= self.budget
    }

    /// For each strategy iteration (initial-design hand-outs, iteration 0, are left out):
    /// (evaluations finished before its ask, seconds the strategy spent on it: the `tell` of the
    /// observations it builds on plus the `ask`).
    pub fn strategy_times(&self) -> Vec<(usize, f64)> {
        self.iterations
            .iter()
            .filter(|it| it.iteration > 0)
            .map(|it| {
                let before = match it.told {
                    Some(told) => told.min(self.evaluations.len()),
                    None => self.evaluations.iter().filter(|e| e.iteration < it.iteration).count(),
                };
                (before, it.ask_seconds + it.tell_seconds.unwrap_or(0.0))
            })
            .collect()
    }
}

/// Reads a JSON-lines file, skipping an unparsable last line; a missing file is empty.
fn read_lines<T: DeserializeOwned>(path: &Path) -> Result<Vec<T>, String> {
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", path.display())),
    };
    let lines: Vec<String> = std::io::BufReader::new(file)
        .lines()
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    let mut out = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        match serde_json::from_str(line) {
            Ok(r) => out.push(r),
            Err(_) if i + 1 == lines.len() => {}
            Err(e) => return Err(format!("{}:{}: damaged journal line: {e}", path.display(), i + 1)),
        }
    }
    Ok(out)
}

/// Every run directory under `root` (sorted), not descending into `skip`.
pub fn find_runs(root: &Path, skip: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![root.to_owned()];
    while let Some(dir) = stack.pop() {
        if dir.join(CONFIG_FILE).is_file() && dir.join(EVALUATIONS_FILE).is_file() {
            found.push(dir);
            continue;
        }
        let Ok(entries) = std::fs::read_dir(&dir) else { continue };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() && path != skip {
                stack.push(path);
            }
        }
    }
    found.sort();
    found
}

/// Labels from the `les bench` layout `<problem>/d<dim>/<strategy>/seed<seed>`.
fn labels_from_layout(root: &Path, dir: &Path) -> Option<(String, usize, String, u64)> {
    let rel = dir.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel.iter().map(|c| c.to_str()).collect::<Option<_>>()?;
    let [.., problem, dim, strategy, seed] = parts.as_slice() else { return None };
    let dim = dim.strip_prefix('d')?.parse().ok()?;
    let seed = seed.strip_prefix("seed")?.parse().ok()?;
    Some((problem.to_string(), dim, strategy.to_string(), seed))
}

/// Reads one run directory.
pub fn read_run(root: &Path, dir: &Path) -> Result<Run, String> {
    let config_path = dir.join(CONFIG_FILE);
    let text = std::fs::read_to_string(&config_path).map_err(|e| format!("{}: {e}", config_path.display()))?;
    let config: Value =
        serde_saphyr::from_str(&text).map_err(|e| format!("{}: not valid YAML: {e}", config_path.display()))?;
    let evaluations: Vec<EvaluationRecord> = read_lines(&dir.join(EVALUATIONS_FILE))?;
    let iterations: Vec<IterationRecord> = read_lines(&dir.join(ITERATIONS_FILE))?;
    let finished = std::fs::read_to_string(dir.join(SUMMARY_FILE))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
        .is_some_and(|s| s["success"] == Value::Bool(true));
    let (problem, dim, strategy, seed) = match labels_from_layout(root, dir) {
        Some(l) => l,
        None => {
            let objective = &config["objective"];
            let name = ["builtin", "command", "library"]
                .iter()
                .find_map(|k| match &objective[*k] {
                    Value::String(s) if *k == "builtin" => Some(s.clone()),
                    Value::Null => None,
                    _ => Some((*k).to_owned()),
                })
                .unwrap_or_else(|| "objective".to_owned());
            let dim = objective["dim"]
                .as_u64()
                .map(|d| d as usize)
                .or_else(|| evaluations.first().map(|e| e.x.len()))
                .unwrap_or(0);
            let strategy = config["strategy"]["name"].as_str().unwrap_or("strategy").to_owned();
            (name, dim, strategy, config["seed"].as_u64().unwrap_or(0))
        }
    };
    let budget = config["budget"].as_u64().unwrap_or(evaluations.len() as u64) as usize;
    Ok(Run { dir: dir.to_owned(), strategy, problem, dim, seed, budget, finished, evaluations, iterations })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eval(index: usize, y: Option<f64>, f: Option<f64>) -> EvaluationRecord {
        EvaluationRecord { index, iteration: index, x: vec![0.0], y, f, ..Default::default() }
    }

    /// A finished one-dimensional run whose budget is its evaluations.
    fn run(evaluations: Vec<EvaluationRecord>, iterations: Vec<IterationRecord>) -> Run {
        Run {
            dir: PathBuf::new(),
            strategy: "s".into(),
            problem: "p".into(),
            dim: 1,
            seed: 1,
            budget: evaluations.len(),
            finished: true,
            evaluations,
            iterations,
        }
    }

    #[test]
    fn trace_follows_the_best_observation() {
        let run = run(
            vec![
                eval(0, None, None),
                eval(1, Some(3.0), Some(2.9)),
                eval(2, Some(4.0), Some(1.0)),
                eval(3, Some(1.0), Some(1.5)),
            ],
            vec![],
        );
        let t = run.trace();
        assert_eq!(t.best_y, vec![None, Some(3.0), Some(3.0), Some(1.0)]);
        // f of the best OBSERVED point, not the best f.
        assert_eq!(t.best_f, vec![None, Some(2.9), Some(2.9), Some(1.5)]);
        assert_eq!(t.metric, t.best_f);
        assert_eq!(run.final_value(), Some(1.5));
        assert_eq!(run.cumulative_y(), 8.0);
    }

    #[test]
    fn strategy_time_adds_the_tell_before_each_ask() {
        let iteration = |iteration: usize, ask_seconds: f64, tell_seconds: Option<f64>| IterationRecord {
            iteration,
            ask_seconds,
            tell_seconds,
            points: vec![vec![0.0]],
            ..Default::default()
        };
        // One initial point (iteration 0, handed out by a record of its own), then iterations
        // 1 and 2.
        let run = run(
            vec![eval(0, Some(1.0), None), eval(1, Some(2.0), None), eval(2, Some(0.5), None)],
            vec![iteration(0, 0.0, None), iteration(1, 0.25, Some(0.5)), iteration(2, 0.125, None)],
        );
        assert_eq!(run.strategy_times(), vec![(1, 0.75), (2, 0.125)]);
    }

    #[test]
    fn layout_labels() {
        let root = Path::new("/out");
        assert_eq!(
            labels_from_layout(root, Path::new("/out/gp-high/d5/les/seed3")),
            Some(("gp-high".into(), 5, "les".into(), 3))
        );
        assert_eq!(labels_from_layout(root, Path::new("/out/runs/x")), None);
    }
}

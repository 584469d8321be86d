//! Finding and reading run directories for the report.
//!
//! A run directory is any directory holding `evaluations.jsonl` (and, to be usable,
//! `config.yaml`). Its labels come from the layout `les bench` writes
//! (`<problem>/d<dim>/<strategy>/seed<seed>`, relative to the report's root); for other runs from
//! the config: the strategy name, the objective's builtin name (or `command`/`library`), its
//! dimension and the run seed.
//!
//! The search ([`find_runs`]) visits every directory once: directories are told apart by their
//! identity on disk (device and inode), so a symbolic link (or bind mount) back into a directory
//! already searched is not followed again, and a run reached by two paths counts once. What it
//! does not follow is listed in [`Search::skipped`].
//!
//! The journals are read without modifying them, with the rules of the runner's reader
//! (`les_core::journal::read_journal`): a torn last line (no final newline, or not valid JSON) is
//! dropped and makes the run incomplete ([`Run::torn`]); the runner repairs it when the run is
//! resumed. Damage anywhere else, duplicated evaluation indices or trial ids, and more
//! evaluations than the budget make the run unusable ([`Refused`]): it is left out of the tables
//! and plots with a reason.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, VecDeque};
use std::io::BufRead;
use std::path::{Path, PathBuf};

use les_core::journal::{
    CONFIG_FILE, EVALUATIONS_FILE, EvaluationRecord, ITERATIONS_FILE, IterationRecord, SUMMARY_FILE,
};
use serde::de::DeserializeOwned;
use serde_json::Value;

/// Where a run goes in the tables.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Labels {
    /// Problem label.
    pub problem: String,
    /// Dimension.
    pub dim: usize,
    /// Strategy label.
    pub strategy: String,
    /// Run seed.
    pub seed: u64,
}

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
    /// Budget of the config (evaluations of asked points).
    pub budget: usize,
    /// Whether `summary.json` says the run ended as planned, and agrees with the journal and the
    /// config (a summary left by an earlier process of a resumed run does not count).
    pub finished: bool,
    /// Every record of `evaluations.jsonl` in index order, observations imported without being
    /// asked included (see [`Run::asked`]).
    pub evaluations: Vec<EvaluationRecord>,
    /// Iterations in order (initial-design hand-outs, iteration 0, included).
    pub iterations: Vec<IterationRecord>,
    /// The journals whose last line is torn, each with what is wrong with it.
    pub torn: Vec<String>,
}

/// A run directory left out of the tables and plots, and why.
#[derive(Clone, Debug, PartialEq)]
pub struct Refused {
    /// Run directory.
    pub dir: PathBuf,
    /// What is wrong and how to fix it.
    pub reason: String,
    /// Its labels, when the layout or its config tells them.
    pub labels: Option<Labels>,
}

/// The best-so-far trace of a run, one entry per asked evaluation.
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
    /// The evaluations of asked points, the ones the budget counts and the report summarizes
    /// (observations imported without being asked, such as warm-start data, are left out: they
    /// are not the strategy's work).
    pub fn asked(&self) -> impl Iterator<Item = &EvaluationRecord> {
        self.evaluations.iter().filter(|e| e.source.is_none())
    }

    /// Number of observations imported without being asked.
    pub fn imported(&self) -> usize {
        self.evaluations.len() - self.asked().count()
    }

    /// Best-so-far values after each asked evaluation.
    pub fn trace(&self) -> Trace {
        let mut best: Option<(f64, Option<f64>)> = None;
        let n = self.evaluations.len();
        let (mut best_y, mut best_f, mut metric) =
            (Vec::with_capacity(n), Vec::with_capacity(n), Vec::with_capacity(n));
        for e in self.asked() {
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

    /// Sum of the observed y over all successful asked evaluations.
    pub fn cumulative_y(&self) -> f64 {
        self.asked().filter_map(|e| e.y).sum()
    }

    /// Why the run is not complete (`None` when it is): a journal with a torn last line (the run
    /// was interrupted while writing it), or fewer asked evaluations than the budget without a
    /// summary saying the run ended as planned.
    pub fn incomplete_reason(&self) -> Option<String> {
        let asked = self.asked().count();
        if !self.torn.is_empty() {
            return Some(format!(
                "{asked} of {} evaluations; {} — what a process killed while writing leaves: \
                 `les run CONFIG --resume DIR` (or `les bench` again) drops that line and continues the run",
                self.budget,
                self.torn.join("; ")
            ));
        }
        if self.finished || asked >= self.budget {
            return None;
        }
        Some(format!("{asked} of {} evaluations", self.budget))
    }

    /// Whether the run is complete: no torn journal, and the full budget evaluated (or the run
    /// ended as planned earlier, as when its strategy stopped it).
    pub fn complete(&self) -> bool {
        self.incomplete_reason().is_none()
    }

    /// For each strategy iteration (initial-design hand-outs, iteration 0, are left out):
    /// (asked evaluations finished before its ask, seconds the strategy spent on it: the `tell`
    /// of the observations it builds on plus the `ask`).
    pub fn strategy_times(&self) -> Vec<(usize, f64)> {
        self.iterations
            .iter()
            .filter(|it| it.iteration > 0)
            .map(|it| {
                let before = match it.told {
                    Some(told) => self.evaluations.iter().take(told).filter(|e| e.source.is_none()).count(),
                    None => self.asked().filter(|e| e.iteration < it.iteration).count(),
                };
                (before, it.ask_seconds + it.tell_seconds.unwrap_or(0.0))
            })
            .collect()
    }
}

/// A JSON-lines journal as read: whole records, the 1-based line of each, and what is wrong with
/// a torn last line, if there is one.
struct Journal<T> {
    records: Vec<T>,
    lines: Vec<usize>,
    torn: Option<String>,
}

/// Reads a JSON-lines file without modifying it; a missing file is empty. A torn last line (no
/// final newline, or a whole line that does not parse with only whitespace after it) is dropped
/// and described; an unparsable line before the last is an error (the rules of the runner's
/// reader, which truncates the torn line when the run is resumed).
fn read_journal<T: DeserializeOwned>(path: &Path) -> Result<Journal<T>, String> {
    let name = path.file_name().map_or_else(|| path.display().to_string(), |n| n.to_string_lossy().into_owned());
    let file = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Journal { records: Vec::new(), lines: Vec::new(), torn: None });
        }
        Err(e) => return Err(format!("{name} cannot be read ({e}); make it readable")),
    };
    let unreadable = |e: std::io::Error| format!("{name} cannot be read ({e}); make it readable");
    let mut reader = std::io::BufReader::new(file);
    let (mut records, mut lines, mut torn) = (Vec::new(), Vec::new(), None);
    let mut buf = Vec::new();
    let mut line = 0;
    loop {
        buf.clear();
        if reader.read_until(b'\n', &mut buf).map_err(unreadable)? == 0 {
            break;
        }
        line += 1;
        if buf.last() != Some(&b'\n') {
            torn = Some(format!("the last line of {name} (line {line}) is torn: it has no final newline"));
            break;
        }
        let parsed = std::str::from_utf8(&buf)
            .map_err(|e| e.to_string())
            .and_then(|s| serde_json::from_str::<T>(s.trim_end()).map_err(|e| e.to_string()));
        match parsed {
            Ok(r) => {
                records.push(r);
                lines.push(line);
            }
            Err(message) => {
                let mut rest = Vec::new();
                std::io::Read::read_to_end(&mut reader, &mut rest).map_err(unreadable)?;
                if rest.iter().all(u8::is_ascii_whitespace) {
                    torn =
                        Some(format!("the last line of {name} (line {line}) is torn: not a valid record ({message})"));
                    break;
                }
                return Err(format!(
                    "{name} line {line} is damaged ({message}); only a torn last line is expected from an \
                     interrupted run — fix or delete this line by hand, or move the run directory out"
                ));
            }
        }
    }
    Ok(Journal { records, lines, torn })
}

/// Checks that each evaluation record's index is its position in the journal and that no trial
/// is answered twice: two processes writing one run directory break both.
fn check_evaluations(records: &[EvaluationRecord], lines: &[usize]) -> Result<(), String> {
    const FIX: &str = "two processes probably wrote this run directory at once (or it was edited by hand); \
                       delete the directory and run it again (`les bench` reruns missing runs), or remove the \
                       extra lines by hand";
    let mut seen_index: HashMap<usize, usize> = HashMap::new();
    let mut seen_trial: HashMap<usize, usize> = HashMap::new();
    for (position, (e, &line)) in records.iter().zip(lines).enumerate() {
        if let Some(&first) = seen_index.get(&e.index) {
            return Err(format!(
                "{EVALUATIONS_FILE} holds evaluation index {} twice (lines {first} and {line}): {FIX}",
                e.index
            ));
        }
        seen_index.insert(e.index, line);
        if let Some(trial) = e.trial {
            if let Some(&first) = seen_trial.get(&trial) {
                return Err(format!(
                    "{EVALUATIONS_FILE} answers trial {trial} twice (lines {first} and {line}): {FIX}"
                ));
            }
            seen_trial.insert(trial, line);
        }
        if e.index != position {
            return Err(format!(
                "{EVALUATIONS_FILE} line {line} has evaluation index {}, but records are numbered by their \
                 position in the journal (expected {position}): lines are missing, reordered or come from \
                 another run; delete the directory and run it again, or restore the journal",
                e.index
            ));
        }
    }
    Ok(())
}

/// What the search found under a root.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Search {
    /// Run directories (directories holding `evaluations.jsonl`), sorted, each once.
    pub runs: Vec<PathBuf>,
    /// Paths not searched, sorted, each with the reason.
    pub skipped: Vec<Skipped>,
}

/// A path the search did not follow.
#[derive(Clone, Debug, PartialEq)]
pub struct Skipped {
    /// The path.
    pub path: PathBuf,
    /// Why (and what to do about it, when something should be done).
    pub reason: String,
}

/// Identity of a directory on disk: device and inode where the platform has them (so symbolic
/// links and bind mounts are seen through), the canonical path elsewhere.
#[cfg(unix)]
type Identity = (u64, u64);
#[cfg(not(unix))]
type Identity = PathBuf;

#[cfg(unix)]
fn identity(path: &Path) -> std::io::Result<Identity> {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).map(|m| (m.dev(), m.ino()))
}

#[cfg(not(unix))]
fn identity(path: &Path) -> std::io::Result<Identity> {
    std::fs::canonicalize(path)
}

/// Every run directory under `root`, each once, not descending into `skip` nor into a run
/// directory. Real subdirectories are searched before symbolic links, so a run reachable both
/// directly and through a link gets the labels of its real path; a link to a directory already
/// searched (a loop back to an ancestor, or a second way to the same place) is not followed.
pub fn find_runs(root: &Path, skip: &Path) -> Search {
    let skip_id = identity(skip).ok();
    let mut visited: HashMap<Identity, PathBuf> = HashMap::new();
    let (mut runs, mut skipped) = (Vec::new(), Vec::new());
    let mut stack = Vec::new();
    let mut links = VecDeque::new();
    match identity(root) {
        Ok(id) => {
            visited.insert(id, root.to_owned());
            stack.push(root.to_owned());
        }
        Err(e) => skipped.push(Skipped { path: root.to_owned(), reason: format!("cannot be searched ({e})") }),
    }
    // Visits `dir` unless it is `skip` or was visited; says why not.
    let mut enter = |dir: PathBuf, link: bool, stack: &mut Vec<PathBuf>, skipped: &mut Vec<Skipped>| {
        let id = match identity(&dir) {
            Ok(id) => id,
            Err(e) => {
                let reason = format!("cannot be searched ({e}); make it readable or move it out");
                skipped.push(Skipped { path: dir, reason });
                return;
            }
        };
        if Some(&id) == skip_id.as_ref() {
            return;
        }
        match visited.entry(id) {
            Entry::Vacant(v) => {
                v.insert(dir.clone());
                stack.push(dir);
            }
            Entry::Occupied(first) => {
                let first = first.get();
                let target =
                    std::fs::read_link(&dir).map_or_else(|_| String::new(), |t| format!(" to {}", t.display()));
                let reason = if !link {
                    format!("is the same directory as {} (a bind mount?): searched once", first.display())
                } else if dir.starts_with(first) {
                    format!(
                        "symbolic link{target} leads back to {}, which holds it (a loop): not followed",
                        first.display()
                    )
                } else {
                    format!(
                        "symbolic link{target} leads to {}, already searched: not followed, so its runs count once",
                        first.display()
                    )
                };
                skipped.push(Skipped { path: dir, reason });
            }
        }
    };
    loop {
        while let Some(dir) = stack.pop() {
            if dir.join(EVALUATIONS_FILE).is_file() {
                runs.push(dir);
                continue;
            }
            let entries = match std::fs::read_dir(&dir) {
                Ok(entries) => entries,
                Err(e) => {
                    let reason = format!("cannot be searched ({e}); make it readable or move it out");
                    skipped.push(Skipped { path: dir, reason });
                    continue;
                }
            };
            let (mut children, mut new_links) = (Vec::new(), Vec::new());
            for entry in entries {
                let Ok(entry) = entry else { continue };
                let Ok(kind) = entry.file_type() else { continue };
                if kind.is_symlink() {
                    new_links.push(entry.path());
                } else if kind.is_dir() {
                    children.push(entry.path());
                }
            }
            new_links.sort();
            links.extend(new_links);
            children.sort();
            for child in children.into_iter().rev() {
                enter(child, false, &mut stack, &mut skipped);
            }
        }
        let Some(link) = links.pop_front() else { break };
        match std::fs::metadata(&link) {
            Ok(m) if m.is_dir() => enter(link, true, &mut stack, &mut skipped),
            Ok(_) => {}
            Err(e) => {
                let target = std::fs::read_link(&link).map_or_else(|_| "?".to_owned(), |t| t.display().to_string());
                let reason = format!(
                    "symbolic link to {target} cannot be followed ({e}); restore its target or remove the link"
                );
                skipped.push(Skipped { path: link, reason });
            }
        }
    }
    runs.sort();
    skipped.sort_by(|a, b| a.path.cmp(&b.path));
    Search { runs, skipped }
}

/// Labels from the `les bench` layout `<problem>/d<dim>/<strategy>/seed<seed>`.
fn labels_from_layout(root: &Path, dir: &Path) -> Option<Labels> {
    let rel = dir.strip_prefix(root).ok()?;
    let parts: Vec<&str> = rel.iter().map(|c| c.to_str()).collect::<Option<_>>()?;
    let [.., problem, dim, strategy, seed] = parts.as_slice() else { return None };
    let dim = dim.strip_prefix('d')?.parse().ok()?;
    let seed = seed.strip_prefix("seed")?.parse().ok()?;
    Some(Labels { problem: problem.to_string(), dim, strategy: strategy.to_string(), seed })
}

/// Labels from a run's resolved config (`first` is the first evaluation, for the dimension when
/// the config does not give it).
fn labels_from_config(config: &Value, first: Option<&EvaluationRecord>) -> Labels {
    let objective = &config["objective"];
    let problem = ["builtin", "external", "command", "library"]
        .iter()
        .find_map(|k| match &objective[*k] {
            // Built-in and external objectives have names; the others are labelled by kind.
            Value::String(s) if *k == "builtin" || *k == "external" => Some(s.clone()),
            Value::Null => None,
            _ => Some((*k).to_owned()),
        })
        .unwrap_or_else(|| "objective".to_owned());
    let dim = objective["dim"].as_u64().map(|d| d as usize).or_else(|| first.map(|e| e.x.len())).unwrap_or(0);
    let strategy = config["strategy"]["name"].as_str().unwrap_or("strategy").to_owned();
    Labels { problem, dim, strategy, seed: config["seed"].as_u64().unwrap_or(0) }
}

/// Whether `summary.json` says the run ended as planned, and describes this journal: a summary
/// left by an earlier process (the run was then resumed, perhaps with a larger budget) does not.
fn finished(dir: &Path, budget: usize, records: usize, asked: usize) -> bool {
    let Some(summary) =
        std::fs::read_to_string(dir.join(SUMMARY_FILE)).ok().and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return false;
    };
    let matches = |key: &str, ok: &dyn Fn(usize) -> bool| summary[key].as_u64().is_none_or(|v| ok(v as usize));
    summary["success"] == Value::Bool(true)
        && matches("budget", &|b| b == budget)
        && matches("evaluations", &|n| n == records || n == asked)
}

/// Reads one run directory; `Err` says why it cannot be used.
pub fn read_run(root: &Path, dir: &Path) -> Result<Run, Refused> {
    let layout = labels_from_layout(root, dir);
    let refuse = |reason: String, labels: Option<Labels>| Refused { dir: dir.to_owned(), reason, labels };
    let config_path = dir.join(CONFIG_FILE);
    let text = match std::fs::read_to_string(&config_path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(refuse(
                format!(
                    "holds {EVALUATIONS_FILE} but no {CONFIG_FILE}, so its budget and labels are unknown; \
                     restore the {CONFIG_FILE} the run wrote, or move the directory out"
                ),
                layout,
            ));
        }
        Err(e) => {
            return Err(refuse(
                format!("{CONFIG_FILE} cannot be read ({e}); make it readable, or move the directory out"),
                layout,
            ));
        }
    };
    let config: Value = les_core::yaml::parse(&dir.join(CONFIG_FILE), &text).map_err(|e| {
        let at = e.location.map(|(line, column)| format!("line {line}, column {column}: ")).unwrap_or_default();
        refuse(
            format!(
                "{CONFIG_FILE} is not valid YAML ({at}{}); restore the resolved config the run wrote, or move the \
                 directory out",
                e.message
            ),
            layout.clone(),
        )
    })?;
    let evaluations: Journal<EvaluationRecord> =
        read_journal(&dir.join(EVALUATIONS_FILE)).map_err(|e| refuse(e, layout.clone()))?;
    let labels = layout.clone().unwrap_or_else(|| labels_from_config(&config, evaluations.records.first()));
    let iterations: Journal<IterationRecord> =
        read_journal(&dir.join(ITERATIONS_FILE)).map_err(|e| refuse(e, Some(labels.clone())))?;
    check_evaluations(&evaluations.records, &evaluations.lines).map_err(|e| refuse(e, Some(labels.clone())))?;
    let Some(budget) = config["budget"].as_u64().map(|b| b as usize) else {
        return Err(refuse(
            format!(
                "{CONFIG_FILE} has no integer `budget`, so the report cannot tell whether the run is complete; \
                 restore the resolved config the run wrote, or move the directory out"
            ),
            Some(labels),
        ));
    };
    let records = evaluations.records;
    let asked = records.iter().filter(|e| e.source.is_none()).count();
    if asked > budget {
        return Err(refuse(
            format!(
                "{EVALUATIONS_FILE} holds {asked} evaluations of asked points but the budget in {CONFIG_FILE} is \
                 {budget}: a run never exceeds its budget, so two processes wrote this directory or the config \
                 was edited; delete the directory and run it again, or restore its {CONFIG_FILE}"
            ),
            Some(labels),
        ));
    }
    let torn = [evaluations.torn, iterations.torn].into_iter().flatten().collect();
    let Labels { problem, dim, strategy, seed } = labels;
    Ok(Run {
        dir: dir.to_owned(),
        strategy,
        problem,
        dim,
        seed,
        budget,
        finished: finished(dir, budget, records.len(), asked),
        evaluations: records,
        iterations: iterations.records,
        torn,
    })
}

/// Reads run directories; two of them with the same labels (strategy, problem, dimension and
/// seed: the same experiment twice, as from a copied directory) are both refused, since the
/// report pairs runs by seed and could not tell which one to use.
pub fn read_runs(root: &Path, dirs: &[PathBuf]) -> (Vec<Run>, Vec<Refused>) {
    let (mut runs, mut refused) = (Vec::new(), Vec::new());
    for d in dirs {
        match read_run(root, d) {
            Ok(r) => runs.push(r),
            Err(e) => refused.push(e),
        }
    }
    let label = |r: &Run| Labels { problem: r.problem.clone(), dim: r.dim, strategy: r.strategy.clone(), seed: r.seed };
    let mut by_label: HashMap<Labels, Vec<PathBuf>> = HashMap::new();
    for r in &runs {
        by_label.entry(label(r)).or_default().push(r.dir.clone());
    }
    let (kept, twins): (Vec<Run>, Vec<Run>) = runs.into_iter().partition(|r| by_label[&label(r)].len() == 1);
    for r in twins {
        let labels = label(&r);
        let others: Vec<String> =
            by_label[&labels].iter().filter(|d| **d != r.dir).map(|d| d.display().to_string()).collect();
        refused.push(Refused {
            reason: format!(
                "is a second run of strategy {}, problem {}, d = {}, seed {} (also in {}); the report pairs runs \
                 by seed and cannot tell which to use — move or delete all but one",
                labels.strategy,
                labels.problem,
                labels.dim,
                labels.seed,
                others.join(", ")
            ),
            dir: r.dir,
            labels: Some(labels),
        });
    }
    refused.sort_by(|a, b| a.dir.cmp(&b.dir));
    (kept, refused)
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
            torn: vec![],
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
    fn imported_observations_are_not_the_strategys_work() {
        let mut warm = eval(0, Some(-5.0), None);
        warm.source = Some("initial_data:w.csv:2".into());
        let mut r = run(vec![warm, eval(1, Some(3.0), None), eval(2, Some(1.0), None)], vec![]);
        r.budget = 2;
        r.finished = false;
        assert_eq!(r.imported(), 1);
        assert_eq!(r.trace().best_y, vec![Some(3.0), Some(1.0)]);
        assert_eq!(r.cumulative_y(), 4.0);
        assert!(r.complete(), "2 asked evaluations of a budget of 2");
        r.budget = 3;
        assert_eq!(r.incomplete_reason().as_deref(), Some("2 of 3 evaluations"));
    }

    #[test]
    fn a_torn_journal_makes_the_run_incomplete_even_with_a_summary() {
        let mut r = run(vec![eval(0, Some(1.0), None)], vec![]);
        assert!(r.complete());
        r.torn.push("the last line of evaluations.jsonl (line 2) is torn: it has no final newline".into());
        assert!(!r.complete());
        let reason = r.incomplete_reason().unwrap();
        assert!(reason.contains("line 2) is torn") && reason.contains("--resume"), "{reason}");
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
    fn strategy_time_counts_the_asked_evaluations_told() {
        let mut warm = eval(0, Some(1.0), None);
        warm.source = Some("told".into());
        let mut e1 = eval(1, Some(1.0), None);
        e1.iteration = 1;
        let it = IterationRecord { iteration: 2, told: Some(2), ask_seconds: 1.0, ..Default::default() };
        let run = run(vec![warm, e1, eval(2, Some(1.0), None)], vec![it]);
        // Two records told, one of them imported: one asked evaluation before the ask.
        assert_eq!(run.strategy_times(), vec![(1, 1.0)]);
    }

    #[test]
    fn layout_labels() {
        let root = Path::new("/out");
        assert_eq!(
            labels_from_layout(root, Path::new("/out/gp-high/d5/les/seed3")),
            Some(Labels { problem: "gp-high".into(), dim: 5, strategy: "les".into(), seed: 3 })
        );
        assert_eq!(labels_from_layout(root, Path::new("/out/runs/x")), None);
    }

    fn line(e: &EvaluationRecord) -> String {
        serde_json::to_string(e).unwrap() + "\n"
    }

    #[test]
    fn journal_reader_keeps_whole_lines_and_describes_a_torn_one() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(EVALUATIONS_FILE);
        let whole = line(&eval(0, Some(1.0), None)) + &line(&eval(1, Some(2.0), None));
        let first = line(&eval(0, Some(1.0), None)).len();
        // Every cut inside the second line, the one with a parsable line but no newline
        // included: one record, torn.
        for cut in first + 1..whole.len() {
            std::fs::write(&path, &whole[..cut]).unwrap();
            let j: Journal<EvaluationRecord> = read_journal(&path).unwrap();
            assert_eq!(j.records.len(), 1, "cut at {cut}");
            assert!(j.torn.as_deref().is_some_and(|t| t.contains("line 2")), "cut at {cut}: {:?}", j.torn);
            assert_eq!(std::fs::read_to_string(&path).unwrap(), whole[..cut], "the report never repairs");
        }
        // A whole but unparsable last line is torn too; before the last, it is damage.
        std::fs::write(&path, format!("{}{{\"index\": 1, \"ite\n", &whole[..first])).unwrap();
        let j: Journal<EvaluationRecord> = read_journal(&path).unwrap();
        assert!(j.torn.as_deref().is_some_and(|t| t.contains("not a valid record")), "{:?}", j.torn);
        std::fs::write(&path, format!("{{broken\n{}", &whole[first..])).unwrap();
        let err = read_journal::<EvaluationRecord>(&path).map(|_| ()).unwrap_err();
        assert!(err.contains("line 1 is damaged") && err.contains("fix or delete"), "{err}");
        std::fs::write(&path, &whole).unwrap();
        let j: Journal<EvaluationRecord> = read_journal(&path).unwrap();
        assert_eq!((j.records.len(), j.lines, j.torn), (2, vec![1, 2], None));
    }

    #[test]
    fn duplicated_indices_and_trials_are_refused() {
        let two_writers = [eval(0, None, None), eval(1, None, None), eval(0, None, None), eval(1, None, None)];
        let err = check_evaluations(&two_writers, &[1, 2, 3, 4]).unwrap_err();
        assert!(err.contains("index 0 twice (lines 1 and 3)") && err.contains("two processes"), "{err}");
        let mut trials = [eval(0, None, None), eval(1, None, None)];
        trials[0].trial = Some(7);
        trials[1].trial = Some(7);
        let err = check_evaluations(&trials, &[1, 2]).unwrap_err();
        assert!(err.contains("trial 7 twice (lines 1 and 2)"), "{err}");
        let err = check_evaluations(&[eval(0, None, None), eval(2, None, None)], &[1, 2]).unwrap_err();
        assert!(err.contains("line 2 has evaluation index 2") && err.contains("expected 1"), "{err}");
        trials[1].trial = Some(8);
        assert_eq!(check_evaluations(&trials, &[1, 2]), Ok(()));
    }
}

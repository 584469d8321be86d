//! Benchmark suites and their reports, as a library: [`main`] is `les bench`, [`report::main`]
//! `les report`; the `les` binary parses the command line and calls them, and a program of
//! your own can call them, [`suite::Suite`] or [`report::write_report`] directly. The
//! strategies and objectives a suite names must be linked into that program (the `les` library
//! links every plugin crate of the workspace).
//!
//! `les bench`: runs a benchmark suite — strategies × problems × dimensions × seeds — as
//! ordinary run directories `OUT/<problem>/d<dim>/<strategy>/seed<seed>/` (see [`suite`] for
//! the file format). `les report OUT` then summarizes them.
//!
//! - **Skip and resume.** A run whose `summary.json` says it succeeded with its full budget
//!   (or was stopped by its strategy) is skipped; any other run directory holding a
//!   `config.yaml` is resumed, so an interrupted suite is continued by running the same command
//!   again. A suite file changed in a way that alters a run's resolved config makes that run
//!   fail with the runner's resume-mismatch message (budgets may grow: the runs are extended).
//! - **Parallel runs.** `--jobs N` runs N runs at once on N std threads. Each run's own
//!   parallel parts (rayon) share the global rayon pool, so the machine is not oversubscribed
//!   beyond N runs' sequential parts; set `RAYON_NUM_THREADS` to bound the pool. Results do not
//!   depend on N.
//! - **Shards.** `--shard I/N` runs only the runs at positions ≡ I − 1 (mod N) of the sorted run
//!   list, so N machines writing into one shared directory split a suite exactly. With a Slurm
//!   job array (`#SBATCH --array=1-8`):
//!
//!   ```sh
//!   les bench configs/suites/paper-gp-high-out.yaml --out /shared/gp-high \
//!       --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT --quiet
//!   ```
//!
//!   (`SLURM_ARRAY_TASK_ID` must run from 1 to the task count; with `--array=0-7` use
//!   `$((SLURM_ARRAY_TASK_ID + 1))`.)
//!
//! - **One writer per run.** A run that another process is writing (a second bench on the
//!   same `--out`, a `les run --resume` of one of its runs) is skipped with a message naming
//!   that process, never written twice; run the bench again once it is done.
//!
//! Exit code: 0 when every run succeeded or was skipped, 1 when any failed (the others still ran), 2 for a
//! suite or usage error (nothing ran).

mod formula;
pub mod report;
pub mod suite;

use std::io::{IsTerminal, Write as _};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};
use les_core::journal::{CONFIG_FILE, SUMMARY_FILE};
use les_core::runner::{self, Mode, Silent};
use serde_json::Value;

use suite::{RUN_CONFIG_FILE, RunSpec, Suite};

/// Default output directory of `les bench`.
pub const DEFAULT_OUT: &str = "bench-out";

/// Arguments of `les bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// The suite file (YAML).
    pub suite: PathBuf,
    /// Directory the run directories go into.
    #[arg(long, default_value = DEFAULT_OUT)]
    pub out: PathBuf,
    /// Number of runs at once.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Run only shard I of N (1-based), e.g. `--shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT`.
    #[arg(long, value_name = "I/N", value_parser = parse_shard, allow_hyphen_values = true)]
    pub shard: Option<(usize, usize)>,
    /// No progress output; the final summary line is still printed.
    #[arg(long, short)]
    pub quiet: bool,
    /// Check the suite (build every strategy and objective block, without running) and list
    /// the runs of this shard with their state.
    #[arg(long)]
    pub dry_run: bool,
}

fn parse_shard(s: &str) -> Result<(usize, usize), String> {
    let bad = || format!("`{s}` is not valid: expected I/N with 1 ≤ I ≤ N, e.g. 2/8");
    let (i, n) = s.split_once('/').ok_or_else(bad)?;
    let i: usize = i.trim().parse().map_err(|_| bad())?;
    let n: usize = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || i == 0 || i > n {
        return Err(bad());
    }
    Ok((i, n))
}

/// What happened to one run.
#[derive(Clone, Debug, PartialEq)]
enum Outcome {
    /// Already complete.
    Skipped,
    /// Ran (fresh or resumed) to success.
    Done { resumed: bool, best: Option<f64>, seconds: f64 },
    /// Left alone: another process (a second bench, a `--resume`) is writing it.
    Busy(String),
    /// Failed; the message says why.
    Failed(String),
    /// Stopped by SIGINT/SIGTERM; resumed by the next `les bench`.
    Interrupted,
}

/// Whether the run directory holds a finished run of `run`: its summary says it succeeded with
/// the full budget (or its strategy stopped it), and its `run.yaml` is the one the suite
/// generates now (otherwise the run is resumed, which either extends it or reports how its
/// config differs).
fn is_complete(run: &RunSpec) -> bool {
    let (dir, budget) = (&run.dir, run.budget);
    if std::fs::read_to_string(dir.join(RUN_CONFIG_FILE)).ok().as_deref() != Some(run.yaml.as_str()) {
        return false;
    }
    let Ok(text) = std::fs::read_to_string(dir.join(SUMMARY_FILE)) else { return false };
    let Ok(summary) = serde_json::from_str::<Value>(&text) else { return false };
    if summary["success"] != Value::Bool(true) {
        return false;
    }
    let stopped_early = summary["stop_reason"].as_str().is_some_and(|r| r.starts_with("strategy stopped"));
    let evaluations = summary["evaluations"].as_u64().unwrap_or(0) as usize;
    stopped_early || evaluations >= budget
}

/// Runs one run of the suite (fresh, resumed or skipped).
fn execute(run: &RunSpec) -> Outcome {
    if is_complete(run) {
        return Outcome::Skipped;
    }
    let built = match run.load().and_then(|c| c.build()) {
        Ok(b) => b,
        Err(e) => return Outcome::Failed(e.to_string()),
    };
    let resumed = run.dir.join(CONFIG_FILE).exists();
    // The run's source config sits beside the journal; the runner accepts a directory that
    // holds no run yet.
    if let Err(e) =
        std::fs::create_dir_all(&run.dir).and_then(|_| std::fs::write(run.dir.join(RUN_CONFIG_FILE), &run.yaml))
    {
        return Outcome::Failed(format!("{}: {e}", run.dir.display()));
    }
    let mode = if resumed { Mode::Resume } else { Mode::Fresh };
    let start = Instant::now();
    match runner::run(built, mode, &mut Silent) {
        Ok(outcome) if outcome.status.is_success() => {
            let s = &outcome.summary;
            let best = s["best_f"].as_f64().or_else(|| s["best_y"].as_f64());
            Outcome::Done { resumed, best, seconds: start.elapsed().as_secs_f64() }
        }
        Ok(outcome) if matches!(outcome.status, runner::RunStatus::Interrupted(_)) => Outcome::Interrupted,
        Ok(outcome) => Outcome::Failed(outcome.status.reason()),
        Err(e @ runner::RunError::Locked(_)) => Outcome::Busy(e.to_string()),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// Reports progress over runs: a bar on a terminal, one line per run otherwise, or nothing.
struct Reporter {
    bar: Option<ProgressBar>,
    lines: bool,
    total: usize,
    done: AtomicUsize,
}

impl Reporter {
    fn new(total: usize, quiet: bool) -> Self {
        let terminal = std::io::stderr().is_terminal();
        let bar = (!quiet && terminal).then(|| {
            let bar = ProgressBar::new(total as u64);
            bar.set_style(
                ProgressStyle::with_template(
                    "{spinner} [{elapsed_precise}] {bar:30} {pos}/{len} runs (eta {eta})  {msg}",
                )
                .expect("invariant: the template is valid"),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        Self { bar, lines: !quiet && !terminal, total, done: AtomicUsize::new(0) }
    }

    fn started(&self, run: &RunSpec) {
        if let Some(bar) = &self.bar {
            bar.set_message(format!("running {}", run.name()));
        }
    }

    fn finished(&self, run: &RunSpec, outcome: &Outcome) {
        let k = self.done.fetch_add(1, Ordering::SeqCst) + 1;
        let what = match outcome {
            Outcome::Skipped => "skipped (complete)".to_owned(),
            Outcome::Done { resumed, best, seconds } => format!(
                "{} in {seconds:.1} s, best {}",
                if *resumed { "resumed and finished" } else { "finished" },
                best.map_or_else(|| "none".to_owned(), |b| format!("{b:.6}"))
            ),
            Outcome::Busy(m) => format!("skipped: {m}"),
            Outcome::Interrupted => "interrupted (resume the suite to go on)".to_owned(),
            Outcome::Failed(m) => format!("FAILED: {m}"),
        };
        if let Some(bar) = &self.bar {
            bar.inc(1);
            if matches!(outcome, Outcome::Failed(_) | Outcome::Busy(_)) {
                bar.println(format!("{}: {what}", run.name()));
            }
        } else if self.lines {
            eprintln!("[{k}/{}] {}: {what}", self.total, run.name());
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// Runs `runs` on `jobs` threads, in list order; returns the outcomes in list order.
fn execute_all(runs: &[RunSpec], jobs: usize, reporter: &Reporter) -> Vec<Outcome> {
    let next = AtomicUsize::new(0);
    let outcomes: Mutex<Vec<Option<Outcome>>> = Mutex::new(vec![None; runs.len()]);
    std::thread::scope(|scope| {
        for _ in 0..jobs.clamp(1, runs.len().max(1)) {
            scope.spawn(|| {
                loop {
                    // After SIGINT/SIGTERM no new run starts; the running ones stop themselves.
                    if les_core::cancel::shutdown_requested().is_some() {
                        break;
                    }
                    let k = next.fetch_add(1, Ordering::SeqCst);
                    let Some(run) = runs.get(k) else { break };
                    reporter.started(run);
                    // A panicking plugin fails its run, not the suite.
                    let outcome = std::panic::catch_unwind(|| execute(run))
                        .unwrap_or_else(|_| Outcome::Failed("the run panicked (see the message above)".to_owned()));
                    reporter.finished(run, &outcome);
                    outcomes.lock().expect("invariant: no thread panics while holding the lock")[k] = Some(outcome);
                }
            });
        }
    });
    outcomes
        .into_inner()
        .expect("invariant: no thread panics while holding the lock")
        .into_iter()
        .map(|o| o.unwrap_or_else(|| Outcome::Failed("not run".to_owned())))
        .collect()
}

/// File name of the copy of the suite file in the output directory.
pub const SUITE_COPY: &str = "suite.yaml";

fn write_suite_copy(suite: &std::path::Path, out: &std::path::Path) -> Result<(), String> {
    let text = std::fs::read(suite).map_err(|e| format!("{}: {e}", suite.display()))?;
    std::fs::create_dir_all(out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;
    let tmp = out.join(format!(".{SUITE_COPY}.{}.tmp", std::process::id()));
    std::fs::write(&tmp, text)
        .and_then(|_| std::fs::rename(&tmp, out.join(SUITE_COPY)))
        .map_err(|e| format!("cannot write {}: {e}", out.join(SUITE_COPY).display()))
}

/// Runs `les bench`.
pub fn main(args: BenchArgs) -> ExitCode {
    let suite = match Suite::from_file(&args.suite, &args.out).and_then(|s| s.check().map(|_| s)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    if args.jobs == 0 {
        eprintln!("error: --jobs 0 is not valid: expected at least 1");
        return ExitCode::from(2);
    }
    let runs = match args.shard {
        Some((i, n)) => suite.shard(i, n),
        None => suite.runs.clone(),
    };
    let shard_note = args.shard.map(|(i, n)| format!(" (shard {i}/{n} of {})", suite.runs.len())).unwrap_or_default();
    if !args.quiet {
        eprintln!(
            "suite {}: {} runs{shard_note} into {}",
            suite.spec.name.as_deref().unwrap_or(&args.suite.display().to_string()),
            runs.len(),
            args.out.display()
        );
    }
    if args.dry_run {
        let mut stdout = std::io::stdout().lock();
        for run in &runs {
            let state = if is_complete(run) {
                "complete"
            } else if run.dir.join(CONFIG_FILE).exists() {
                "to resume"
            } else {
                "to run"
            };
            if writeln!(stdout, "{}\tbudget {}\t{state}", run.name(), run.budget).is_err() {
                break; // stdout closed (`| head`)
            }
        }
        return ExitCode::SUCCESS;
    }
    // A copy of the suite beside the runs: `les report` takes the order of strategies and
    // problems from it. Written atomically (shards on other machines write the same bytes).
    if let Err(e) = write_suite_copy(&args.suite, &args.out) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    let reporter = Reporter::new(runs.len(), args.quiet);
    let start = Instant::now();
    let outcomes = execute_all(&runs, args.jobs, &reporter);
    reporter.finish();
    let count = |f: fn(&Outcome) -> bool| outcomes.iter().filter(|o| f(o)).count();
    if les_core::cancel::shutdown_requested().is_some() {
        let interrupted = count(|o| matches!(o, Outcome::Interrupted | Outcome::Failed(_)));
        eprintln!("error: interrupted; {interrupted} run(s) not finished: run the same `les bench` again to go on");
        return ExitCode::from(les_core::cancel::interrupted_exit_code());
    }
    let skipped = count(|o| matches!(o, Outcome::Skipped));
    let resumed = count(|o| matches!(o, Outcome::Done { resumed: true, .. }));
    let fresh = count(|o| matches!(o, Outcome::Done { resumed: false, .. }));
    let busy = count(|o| matches!(o, Outcome::Busy(_)));
    let failed: Vec<(&RunSpec, &String)> = runs
        .iter()
        .zip(&outcomes)
        .filter_map(|(r, o)| match o {
            Outcome::Failed(m) => Some((r, m)),
            _ => None,
        })
        .collect();
    for (run, message) in &failed {
        eprintln!("failed: {} ({}): {message}", run.name(), run.dir.display());
    }
    let busy_note = if busy > 0 { format!(", {busy} skipped (in use by another process)") } else { String::new() };
    println!(
        "{} runs{shard_note}: {fresh} run, {resumed} resumed, {skipped} skipped (already complete){busy_note}, {} failed; {:.1} s",
        runs.len(),
        failed.len(),
        start.elapsed().as_secs_f64()
    );
    if failed.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_argument() {
        assert_eq!(parse_shard("2/8"), Ok((2, 8)));
        assert!(parse_shard("0/8").is_err());
        assert!(parse_shard("9/8").is_err());
        assert!(parse_shard("1").is_err());
        assert!(parse_shard("1/0").is_err());
    }
}

//! `les init`, `les ask`, `les tell`, `les status` and `les resume`: a run directory driven from
//! the shell, for evaluations that cannot be a subprocess of `les` (a test rig, a queued
//! simulation, a lab measurement). Every command is a short-lived process over
//! [`les_core::Study`]: it opens the run directory under its lock, does one thing, and leaves
//! the journal as `les run` would have (`les report`, `les resume` and the rest work on it).
//!
//! Output for scripts: `les ask` prints one trial per line, `TRIAL x0 x1 …` separated by
//! spaces (or one JSON object per line with `--json`); notes go to stderr.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use les_core::config::{LoadedConfig, Overrides};
use les_core::runner::{self, RunError};
use les_core::{Outcome, Study, StudyError, Trial};
use serde_json::{Value, json};

use crate::{EXIT_CONFIG_ERROR, EXIT_RUN_FAILURE};

/// Arguments of `les init`.
#[derive(clap::Args)]
pub struct InitArgs {
    /// The run config (YAML).
    pub config: PathBuf,
    /// The run directory to create (default: the config's `output`, or runs/<config>-seed<seed>).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Replace the config's seed.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Replace the config's budget.
    #[arg(long, allow_negative_numbers = true)]
    pub budget: Option<i64>,
}

/// Arguments of `les ask`.
#[derive(clap::Args)]
pub struct AskArgs {
    /// The run directory.
    pub dir: PathBuf,
    /// How many trials to ask for.
    #[arg(long, short, default_value_t = 1)]
    pub n: usize,
    /// One JSON object per trial: {"trial": N, "iteration": I, "x": [...]}.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `les tell`.
#[derive(clap::Args)]
pub struct TellArgs {
    /// The run directory.
    pub dir: PathBuf,
    /// The trial id `les ask` printed.
    #[arg(required_unless_present = "json", allow_negative_numbers = true)]
    pub trial: Option<String>,
    /// The observed value (a finite number).
    #[arg(required_unless_present_any = ["json", "failed"], conflicts_with = "failed", allow_negative_numbers = true)]
    pub value: Option<String>,
    /// The evaluation failed, with this message (handled by the run's `on_error`).
    #[arg(long, value_name = "MESSAGE")]
    pub failed: Option<String>,
    /// Wall time the evaluation took, in seconds (journaled; default 0).
    #[arg(long)]
    pub seconds: Option<f64>,
    /// Read tells from stdin instead, one JSON object per line: {"trial": N, "y": v},
    /// {"trial": N, "error": "message"}, or {"x": [...], "y": v} for a point never asked.
    #[arg(long, conflicts_with_all = ["trial", "value", "failed"])]
    pub json: bool,
}

/// Arguments of `les status`.
#[derive(clap::Args)]
pub struct StatusArgs {
    /// The run directory.
    pub dir: PathBuf,
    /// Print only the pending trials, in `les ask`'s format (for a script that restarts).
    #[arg(long)]
    pub pending: bool,
    /// Print the status as one JSON object.
    #[arg(long)]
    pub json: bool,
}

/// Arguments of `les resume`.
#[derive(clap::Args)]
pub struct ResumeArgs {
    /// The run directory (it holds the run's config).
    pub dir: PathBuf,
    /// A new, larger budget.
    #[arg(long, allow_negative_numbers = true)]
    pub budget: Option<i64>,
    /// Evaluations to keep in flight at once (replaces the config's `workers`).
    #[arg(long, allow_negative_numbers = true)]
    pub workers: Option<i64>,
    /// Evaluate the failed trials again first (each uses one evaluation of the budget); the
    /// new outcomes are journaled next to the failures.
    #[arg(long)]
    pub retry_failed: bool,
    /// No progress output; the summary is still printed.
    #[arg(long, short)]
    pub quiet: bool,
}

/// Arguments of `les repair`.
#[derive(clap::Args)]
pub struct RepairArgs {
    /// The run directory.
    pub dir: PathBuf,
}

/// `les repair`: truncates a damaged journal to its last consistent point.
pub fn repair(args: RepairArgs) -> ExitCode {
    match les_core::study::repair(&args.dir) {
        Ok(r) if r.saved.is_none() => {
            println!(
                "{}: the journal is consistent ({} evaluations, {} asks); nothing to repair",
                args.dir.display(),
                r.evaluations_kept,
                r.asks_kept
            );
            ExitCode::SUCCESS
        }
        Ok(r) => {
            println!(
                "{}: kept {} evaluations and {} asks; dropped {} evaluation line(s) and {} ask line(s), saved to {}",
                args.dir.display(),
                r.evaluations_kept,
                r.asks_kept,
                r.evaluations_dropped,
                r.asks_dropped,
                r.saved.as_deref().map(|p| p.display().to_string()).unwrap_or_default()
            );
            println!("next: les resume {} evaluates again what was dropped", args.dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// The exit code for a failed study call: 2 for what the user can fix by calling differently
/// (a usage, config or state error), 1 for a failure of the run itself.
pub fn exit_code(e: &StudyError) -> u8 {
    match e {
        StudyError::Run(r) => run_error_code(r),
        StudyError::Strategy(_) => EXIT_RUN_FAILURE,
        _ => EXIT_CONFIG_ERROR,
    }
}

/// The exit code for a run error.
pub fn run_error_code(e: &RunError) -> u8 {
    match e {
        RunError::OutputExists(_)
        | RunError::JournalWithoutConfig(_)
        | RunError::NothingToResume(_)
        | RunError::ResumeMismatch { .. }
        | RunError::Locked(_)
        | RunError::Config(_)
        | RunError::ForeignFile { .. }
        | RunError::BadOutput { .. }
        | RunError::BudgetBelowJournal { .. } => EXIT_CONFIG_ERROR,
        _ => EXIT_RUN_FAILURE,
    }
}

fn fail(e: &StudyError) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::from(exit_code(e))
}

/// `les init`.
pub fn init(args: InitArgs) -> ExitCode {
    let overrides = Overrides {
        seed: args.seed,
        budget: args.budget,
        output: args.out.map(|p| p.to_string_lossy().into_owned()),
        workers: None,
    };
    let built = match LoadedConfig::from_file(&args.config, &overrides).and_then(|c| c.build()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG_ERROR);
        }
    };
    match Study::create(built) {
        Ok(study) => {
            let dir = study.dir().map(Path::to_owned).unwrap_or_default();
            let status = study.status();
            println!("run directory: {}", dir.display());
            if status.imported > 0 {
                println!("initial data:  {} observations imported", status.imported);
            }
            println!("budget:        {} evaluations", status.budget);
            println!("next:          les ask {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn print_trials(trials: &[Trial], json: bool) {
    for t in trials {
        if json {
            println!("{}", json!({"trial": t.id, "iteration": t.iteration, "x": t.x}));
        } else {
            let xs: Vec<String> = t.x.iter().map(|v| v.to_string()).collect();
            println!("{} {}", t.id, xs.join(" "));
        }
    }
}

/// `les ask`.
pub fn ask(args: AskArgs) -> ExitCode {
    if args.n == 0 {
        eprintln!("error: --n 0 is not valid: expected a number of trials ≥ 1");
        return ExitCode::from(EXIT_CONFIG_ERROR);
    }
    let mut study = match Study::open(&args.dir) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    match study.ask(args.n) {
        Ok(asked) => {
            print_trials(&asked.trials, args.json);
            for note in &asked.notes {
                eprintln!("note: {note}");
            }
            if let Some(status) = study.finished()
                && let Err(e) = study.write_summary(&status)
            {
                return fail(&e);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            // The strategy failed: say so in the summary too, as `les run` would.
            if let Some(status) = study.finished() {
                let _ = study.write_summary(&status);
            }
            fail(&e)
        }
    }
}

/// One tell read from the command line or stdin.
enum Tell {
    Trial { id: usize, outcome: Outcome, seconds: Option<f64> },
    Unasked { x: Vec<f64>, outcome: Outcome },
}

fn parse_number(what: &str, text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .map_err(|_| format!("{what} `{text}` is not valid: expected a number (e.g. 1.25 or -3e-2)"))
}

fn parse_trial(text: &str) -> Result<usize, String> {
    text.trim().parse::<usize>().map_err(|_| {
        format!("trial `{text}` is not valid: expected the trial id `les ask` printed (a whole number ≥ 0)")
    })
}

/// Parses one JSON line of `les tell --json`.
fn parse_json_tell(line: &str) -> Result<Tell, String> {
    let expected = "expected {\"trial\": N, \"y\": number}, {\"trial\": N, \"error\": \"message\"} or {\"x\": [numbers], \"y\": number}";
    let value: Value = serde_json::from_str(line).map_err(|e| format!("not valid JSON ({e}): {expected}"))?;
    let Value::Object(map) = &value else { return Err(format!("not an object: {expected}")) };
    if let Some(key) = map.keys().find(|k| !["trial", "y", "error", "x", "seconds"].contains(&k.as_str())) {
        return Err(format!("unknown key `{key}`: {expected}"));
    }
    let outcome = match (map.get("y"), map.get("error")) {
        (Some(Value::Number(n)), None) => Outcome::Value(n.as_f64().unwrap_or(f64::NAN)),
        (Some(Value::String(s)), None) => Outcome::Value(parse_number("y", s)?),
        (None, Some(Value::String(m))) => Outcome::Failed(m.clone()),
        (Some(_), Some(_)) => return Err(format!("has both `y` and `error`: {expected}")),
        (None, None) => return Err(format!("has neither `y` nor `error`: {expected}")),
        _ => return Err(format!("`y` must be a number and `error` a string: {expected}")),
    };
    let seconds = match map.get("seconds") {
        None => None,
        Some(v) => Some(v.as_f64().filter(|s| *s >= 0.0).ok_or("`seconds` must be a number ≥ 0".to_owned())?),
    };
    match (map.get("trial"), map.get("x")) {
        (Some(t), None) => {
            let id = t.as_u64().ok_or(format!("`trial` {t} is not valid: expected a whole number ≥ 0"))? as usize;
            Ok(Tell::Trial { id, outcome, seconds })
        }
        (None, Some(Value::Array(xs))) => {
            let x = xs
                .iter()
                .map(|v| v.as_f64().ok_or(format!("`x` holds {v}: expected numbers")))
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Tell::Unasked { x, outcome })
        }
        (Some(_), Some(_)) => Err(format!("has both `trial` and `x`: {expected}")),
        _ => Err(format!("has neither `trial` nor `x` (a list): {expected}")),
    }
}

/// `les tell`.
pub fn tell(args: TellArgs) -> ExitCode {
    let tells: Vec<Tell> = if args.json {
        let mut input = String::new();
        if let Err(e) = std::io::stdin().read_to_string(&mut input) {
            eprintln!("error: cannot read stdin: {e}");
            return ExitCode::from(EXIT_CONFIG_ERROR);
        }
        let mut tells = Vec::new();
        for (i, line) in input.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            match parse_json_tell(line) {
                Ok(t) => tells.push(t),
                Err(m) => {
                    eprintln!("error: stdin:{}: {m}; nothing was told", i + 1);
                    return ExitCode::from(EXIT_CONFIG_ERROR);
                }
            }
        }
        if tells.is_empty() {
            eprintln!("error: stdin holds no tell: expected one JSON object per line");
            return ExitCode::from(EXIT_CONFIG_ERROR);
        }
        tells
    } else {
        let parsed = (|| -> Result<Tell, String> {
            let id = parse_trial(args.trial.as_deref().unwrap_or_default())?;
            let outcome = match (&args.value, &args.failed) {
                (_, Some(m)) => Outcome::Failed(m.clone()),
                (Some(v), None) => Outcome::Value(parse_number("VALUE", v)?),
                (None, None) => return Err("give a VALUE, or --failed MESSAGE".to_owned()),
            };
            if let Some(s) = args.seconds
                && !(s >= 0.0 && s.is_finite())
            {
                return Err(format!("--seconds {s} is not valid: expected a number of seconds ≥ 0"));
            }
            Ok(Tell::Trial { id, outcome, seconds: args.seconds })
        })();
        match parsed {
            Ok(t) => vec![t],
            Err(m) => {
                eprintln!("error: {m}");
                return ExitCode::from(EXIT_CONFIG_ERROR);
            }
        }
    };
    let mut study = match Study::open(&args.dir) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    // Every tell is checked before any is written, so a bad line changes nothing.
    let mut seen = std::collections::BTreeSet::new();
    for (i, t) in tells.iter().enumerate() {
        let checked = match t {
            Tell::Trial { id, outcome, .. } => {
                if !seen.insert(*id) {
                    eprintln!("error: tell {}: trial {id} appears twice in this input; nothing was told", i + 1);
                    return ExitCode::from(EXIT_CONFIG_ERROR);
                }
                study.check_tell(*id, outcome).map(|_| ())
            }
            Tell::Unasked { x, outcome } => study.check_unasked(x, outcome, "told").map(|_| ()),
        };
        if let Err(e) = checked {
            let at = if tells.len() > 1 {
                format!(" (tell {} of {}; nothing was told)", i + 1, tells.len())
            } else {
                String::new()
            };
            eprintln!("error: {e}{at}");
            return ExitCode::from(exit_code(&e));
        }
    }
    for t in tells {
        let (result, what) = match t {
            Tell::Trial { id, outcome, seconds } => {
                let what = format!("trial {id}");
                let evaluation = les_core::Evaluation { outcome, f: None, seconds: seconds.unwrap_or(0.0) };
                (study.tell_evaluation(id, evaluation), what)
            }
            Tell::Unasked { x, outcome } => match study.tell_unasked(&x, outcome, "told") {
                Ok(id) => (Ok(()), format!("observation (trial {id}, never asked)")),
                Err(e) => (Err(e), String::new()),
            },
        };
        if let Err(e) = result {
            return fail(&e);
        }
        println!("told {what}");
    }
    let status = study.status();
    if let Some(best) = &status.best {
        println!("best so far:   y = {} at trial {}", best.y, best.trial);
    }
    match study.finished() {
        Some(end) => {
            if let Err(e) = study.write_summary(&end) {
                return fail(&e);
            }
            println!("the run has ended: {}", end.reason());
        }
        None => println!("budget left:   {} (pending: {})", status.budget_left(), status.pending.len()),
    }
    ExitCode::SUCCESS
}

/// `les status`.
pub fn status(args: StatusArgs) -> ExitCode {
    let study = match Study::inspect(&args.dir) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let status = study.status();
    if args.pending {
        print_trials(&status.pending, args.json);
        return ExitCode::SUCCESS;
    }
    if args.json {
        let value = json!({
            "dir": args.dir.to_string_lossy(),
            "budget": status.budget,
            "used": status.used,
            "budget_left": status.budget_left(),
            "pending": status.pending,
            "imported": status.imported,
            "failed": status.failed,
            "best": status.best,
            "finished": status.finished.as_ref().map(|s| s.reason()),
        });
        println!("{value}");
        return ExitCode::SUCCESS;
    }
    println!("run directory: {}", args.dir.display());
    println!("strategy:      {}", study.resolved()["strategy"]["name"].as_str().unwrap_or("?"));
    println!("objective:     {}", study.info().name);
    println!(
        "budget:        {} evaluations: {} done ({} failed), {} pending, {} left",
        status.budget,
        status.used,
        status.failed,
        status.pending.len(),
        status.budget_left()
    );
    if status.imported > 0 {
        println!("imported:      {} observations told without an ask", status.imported);
    }
    match &status.best {
        Some(b) => println!("best:          y = {} at trial {}, x = {:?}", b.y, b.trial, b.x),
        None => println!("best:          no successful evaluation yet"),
    }
    for t in &status.pending {
        println!("pending:       trial {} (iteration {}) at {:?}", t.id, t.iteration, t.x);
    }
    match &status.finished {
        Some(s) => println!("state:         ended: {}", s.reason()),
        None => println!("state:         running (les ask {} for the next trial)", args.dir.display()),
    }
    ExitCode::SUCCESS
}

/// `les resume`: `les run` continued from the run directory's own config.
pub fn resume(args: ResumeArgs) -> ExitCode {
    let overrides = Overrides { budget: args.budget, workers: args.workers, ..Overrides::default() };
    let mut study = match Study::open_with(&args.dir, &overrides) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    if args.retry_failed {
        match study.ask_retries() {
            Ok(asked) => {
                if !args.quiet {
                    eprintln!("retrying {} failed trial(s)", asked.trials.len());
                }
                for note in &asked.notes {
                    eprintln!("note: {note}");
                }
            }
            Err(e) => return fail(&e),
        }
    }
    let mut observer =
        crate::progress::Progress::new(!args.quiet, std::io::IsTerminal::is_terminal(&std::io::stderr()));
    let outcome = runner::drive(&mut study, &mut observer);
    observer.finish();
    crate::report_outcome(outcome)
}

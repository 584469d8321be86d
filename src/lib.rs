//! `les` as a library: the whole command-line front end behind one public function, so a crate
//! of your own can link its plugins and get the CLI, the registry and the journal unchanged.
//!
//! ```no_run
//! // src/main.rs of your crate; your plugins register themselves with `inventory::submit!`
//! // and only have to be linked (`use my_plugins as _;`).
//! fn main() -> std::process::ExitCode {
//!     les::main()
//! }
//! ```
//!
//! Exit codes: 0 ok, 1 run failure, 2 config or usage error.

mod asktell;
pub mod conformance;
mod plugins;
mod progress;
mod signals;

/// `les bench` (the `les-bench` crate).
pub use les_bench as bench;
/// `les report` (the `les-bench` crate).
pub use les_bench::report;

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use les_core::config::{LoadedConfig, Overrides};
use les_core::registry::{self, PluginKind};
use les_core::runner::{self, Mode};
use les_core::yaml::to_string as to_yaml;

/// Exit code of a run that failed (an objective or strategy failure).
pub(crate) const EXIT_RUN_FAILURE: u8 = 1;
/// Exit code of a config or usage error.
pub(crate) const EXIT_CONFIG_ERROR: u8 = 2;

#[derive(Parser)]
#[command(name = "les", version, about = "Local Entropy Search and friends: Bayesian optimization from a YAML file")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run an optimization described by a YAML config.
    Run {
        /// The run config (YAML).
        config: PathBuf,
        /// Replace the config's seed.
        #[arg(long)]
        seed: Option<u64>,
        /// Replace the config's budget (number of objective evaluations).
        #[arg(long, allow_negative_numbers = true)]
        budget: Option<i64>,
        /// Evaluations to keep in flight at once (replaces the config's `workers`).
        #[arg(long, allow_negative_numbers = true)]
        workers: Option<i64>,
        /// Replace the config's output directory.
        #[arg(long, conflicts_with = "resume")]
        out: Option<PathBuf>,
        /// Continue the run in DIR (after a crash or with a larger budget).
        #[arg(long, value_name = "DIR")]
        resume: Option<PathBuf>,
        /// No progress output; the summary is still printed.
        #[arg(long, short)]
        quiet: bool,
    },
    /// Create a run directory for ask/tell, without evaluating anything.
    Init(asktell::InitArgs),
    /// Ask for the next trial(s) of a run directory; prints `TRIAL x0 x1 …` per trial.
    Ask(asktell::AskArgs),
    /// Tell the outcome of a trial: `les tell DIR TRIAL VALUE` or `--failed MESSAGE`.
    Tell(asktell::TellArgs),
    /// Show a run directory's pending trials, best point and budget left.
    Status(asktell::StatusArgs),
    /// Continue a `les run` in its run directory, with the config it holds.
    Resume(asktell::ResumeArgs),
    /// Truncate a damaged journal to its last consistent point (the dropped lines are saved).
    Repair(asktell::RepairArgs),
    /// Check a config: parse it, build every component and print the resolved config.
    Check {
        /// The run config (YAML).
        config: PathBuf,
    },
    /// Evaluate the config's objective at the points on stdin (`{"x": [...]}` per line, native
    /// coordinates); prints one value per line. Speaks the command objective's protocol, so it
    /// can stand in for one (`command: [les, eval, CONFIG]`).
    Eval {
        /// The config whose `objective` block is evaluated (the rest must be valid too).
        config: PathBuf,
    },
    /// List the registered plugins, of one kind or of all.
    List {
        /// strategy, inner_optimizer, sequence_sampler, acquisition, surrogate or objective.
        kind: Option<String>,
    },
    /// Describe a plugin: what it is and its default parameters (as YAML).
    Describe {
        /// The plugin's name (`les`, `adam`, `gp`, `ackley` …).
        name: String,
    },
    /// Run a benchmark suite: strategies × problems × dimensions × seeds, one run directory each.
    Bench(bench::BenchArgs),
    /// Summarize the runs under a directory: CSV, tables, SVG plots and report.md.
    Report(report::ReportArgs),
}

/// The `les` command line: parses `std::env::args`, runs the command and returns its exit code.
/// Every plugin linked into the calling binary is available, the caller's own included.
pub fn main() -> ExitCode {
    // A child started to host an isolated library objective serves it and exits here.
    les_objectives::isolated::serve_if_requested();
    // RUST_LOG=info: the run's milestones (start, each ask with its time, the stop reason);
    // debug: each phase, diagnostic and evaluation. Colour only on a terminal.
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()))
        .init();
    if let Err(e) = registry::check_duplicates() {
        eprintln!("error: {e}");
        return ExitCode::from(EXIT_RUN_FAILURE);
    }
    let cli = Cli::parse();
    if matches!(cli.command, Command::Run { .. } | Command::Resume(_) | Command::Bench(_)) {
        signals::install();
    }
    match cli.command {
        Command::Run { config, seed, budget, workers, out, resume, quiet } => {
            let output = resume.as_ref().or(out.as_ref()).map(|p| p.to_string_lossy().into_owned());
            let overrides = Overrides { seed, budget, output, workers };
            run(&config, &overrides, if resume.is_some() { Mode::Resume } else { Mode::Fresh }, quiet)
        }
        Command::Init(args) => asktell::init(args),
        Command::Ask(args) => asktell::ask(args),
        Command::Tell(args) => asktell::tell(args),
        Command::Status(args) => asktell::status(args),
        Command::Resume(args) => asktell::resume(args),
        Command::Repair(args) => asktell::repair(args),
        Command::Check { config } => check(&config),
        Command::Eval { config } => eval(&config),
        Command::List { kind } => list(kind.as_deref()),
        Command::Describe { name } => describe(&name),
        Command::Bench(args) => bench::main(args),
        Command::Report(args) => report::main(args),
    }
}

fn run(config: &std::path::Path, overrides: &Overrides, mode: Mode, quiet: bool) -> ExitCode {
    let built = match LoadedConfig::from_file(config, overrides).and_then(|c| c.build()) {
        Ok(b) => b,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG_ERROR);
        }
    };
    let mut observer = progress::Progress::new(!quiet, std::io::stderr().is_terminal());
    let outcome = runner::run(built, mode, &mut observer);
    observer.finish();
    report_outcome(outcome)
}

/// Prints the end of a run and turns it into the exit code.
pub(crate) fn report_outcome(outcome: Result<runner::RunOutcome, runner::RunError>) -> ExitCode {
    match outcome {
        Ok(outcome) => {
            let s = &outcome.summary;
            println!("run directory: {}", outcome.dir.display());
            println!("stop reason:   {}", s["stop_reason"].as_str().unwrap_or(""));
            println!("evaluations:   {} ({} failed)", s["evaluations"], s["failed_evaluations"]);
            println!("best y:        {}", s["best_y"]);
            if !s["best_f"].is_null() {
                println!("best f:        {} (noise-free value at the best observation)", s["best_f"]);
            }
            println!("best x:        {}", s["best_x"]);
            if let runner::RunStatus::Interrupted(_) = outcome.status {
                eprintln!(
                    "error: {}: the trials in flight stay pending; go on with `les resume {}`",
                    outcome.status.reason(),
                    outcome.dir.display()
                );
                return ExitCode::from(signals::exit_code());
            }
            if outcome.status.is_success() {
                ExitCode::SUCCESS
            } else {
                eprintln!("error: {}", outcome.status.reason());
                ExitCode::from(EXIT_RUN_FAILURE)
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(asktell::run_error_code(&e))
        }
    }
}

fn check(config: &std::path::Path) -> ExitCode {
    match LoadedConfig::from_file(config, &Overrides::default()).and_then(|c| c.build()) {
        Ok(built) => {
            println!("# {} is valid; resolved config:", config.display());
            print!("{}", to_yaml(&built.resolved));
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG_ERROR)
        }
    }
}

fn eval(config: &std::path::Path) -> ExitCode {
    let objective = match LoadedConfig::from_file(config, &Overrides::default()).and_then(|c| c.build_objective()) {
        Ok((objective, _)) => objective,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CONFIG_ERROR);
        }
    };
    let dim = objective.info().dim();
    for (n, line) in std::io::stdin().lines().enumerate() {
        let Ok(line) = line else { break };
        if line.trim().is_empty() {
            continue;
        }
        let x = serde_json::from_str::<serde_json::Value>(&line)
            .ok()
            .and_then(|v| v.get("x")?.as_array()?.iter().map(serde_json::Value::as_f64).collect::<Option<Vec<f64>>>());
        let Some(x) = x.filter(|x| x.len() == dim) else {
            eprintln!("error: stdin line {}: expected {{\"x\": [{dim} numbers]}}, got `{line}`", n + 1);
            return ExitCode::from(EXIT_CONFIG_ERROR);
        };
        match objective.evaluate(&x) {
            Ok(y) => println!("{y}"),
            Err(e) => {
                eprintln!("error: stdin line {}: {e}", n + 1);
                return ExitCode::from(EXIT_RUN_FAILURE);
            }
        }
    }
    ExitCode::SUCCESS
}

fn list(kind: Option<&str>) -> ExitCode {
    let kinds: Vec<PluginKind> = match kind {
        None => PluginKind::ALL.to_vec(),
        Some(k) => match PluginKind::parse(k) {
            Some(k) => vec![k],
            None => {
                let known: Vec<_> = PluginKind::ALL.iter().map(|k| k.as_str()).collect();
                eprintln!("error: unknown plugin kind `{k}`; known kinds: {}", known.join(", "));
                return ExitCode::from(EXIT_CONFIG_ERROR);
            }
        },
    };
    // One column of names for every kind, as wide as the longest name.
    let width = kinds.iter().flat_map(|k| registry::list(*k)).map(|e| e.name.len()).max().unwrap_or(0);
    for kind in kinds {
        println!("{kind}:");
        for e in registry::list(kind) {
            println!("  {:<width$}  {}", e.name, e.summary);
        }
    }
    ExitCode::SUCCESS
}

fn describe(name: &str) -> ExitCode {
    let found = registry::find(name);
    if found.is_empty() {
        let mut all: Vec<&str> = PluginKind::ALL.into_iter().flat_map(registry::list).map(|e| e.name).collect();
        all.sort_unstable();
        all.dedup();
        eprintln!("error: no plugin is named `{name}`; known names: {}", all.join(", "));
        return ExitCode::from(EXIT_CONFIG_ERROR);
    }
    for (i, e) in found.iter().enumerate() {
        if i > 0 {
            println!();
        }
        println!("{} ({}): {}", e.name, e.kind, e.summary);
        if !e.details.is_empty() {
            println!();
            println!("{}", les_core::param_docs::render(e.details).trim_end());
        }
        println!();
        println!("default params:");
        let yaml = to_yaml(&e.default_params);
        for line in yaml.lines() {
            println!("  {line}");
        }
    }
    ExitCode::SUCCESS
}

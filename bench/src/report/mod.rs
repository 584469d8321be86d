//! `les report DIR`: summarizes every run directory under DIR (see [`load`]) into REPORT_DIR
//! (default `DIR/report/`):
//!
//! - `runs.csv`: one tidy row per evaluation of an asked point (written with the `csv` crate) —
//!   strategy, problem, dim, seed, evaluation (1-based),
//!   y (observed; empty when it failed), best_y (lowest y so far), best_f (noise-free value of
//!   that point, empty when the objective does not know it), seconds;
//! - `report.md`: per problem and dimension a table of the final value of the best observed point
//!   and of the cumulative observed value (see [`tables`]), with links to the plots;
//! - `plots/<problem>-d<dim>-best.svg` and `plots/<problem>-d<dim>-time.svg` (see [`plots`]; a
//!   problem label with other characters than ASCII letters, digits, `.`, `-`, `_` has them
//!   replaced by `_`).
//!
//! Nothing is dropped silently: run directories that cannot be used (see [`load::Refused`]),
//! paths the search did not follow (symbolic-link loops, unreadable directories) and journals
//! with a torn last line are printed as warnings on stderr and listed in report.md; tables count
//! them in their rows.
//!
//! Exit code 0, or 2 when DIR holds no run, none of its runs can be used, or a file cannot be
//! written.

pub mod load;
pub mod plots;
pub mod stats;
pub mod tables;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use load::Run;
use tables::{md_prose, md_text};

/// Name of the default report directory inside DIR.
pub const DEFAULT_REPORT_DIR: &str = "report";

/// Most incomplete runs listed by name in report.md, and paths not searched on stderr.
const MAX_LISTED: usize = 20;

/// Arguments of `les report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// Directory holding run directories (searched recursively).
    pub dir: PathBuf,
    /// Where the report goes (default: DIR/report).
    #[arg(long, value_name = "REPORT_DIR")]
    pub out: Option<PathBuf>,
}

fn opt(v: Option<f64>) -> String {
    v.map_or_else(String::new, |v| format!("{v}"))
}

/// The tidy CSV of all evaluations of asked points (written with the `csv` crate, which quotes
/// what needs it; observations imported without being asked are left out, as everywhere in the
/// report).
pub fn runs_csv(runs: &[Run]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut row = |fields: &[&str]| w.write_record(fields).expect("invariant: writing CSV to memory cannot fail");
    row(&["strategy", "problem", "dim", "seed", "evaluation", "y", "best_y", "best_f", "seconds"]);
    for r in runs {
        let t = r.trace();
        let (dim, seed) = (r.dim.to_string(), r.seed.to_string());
        for (i, e) in r.asked().enumerate() {
            let fields = [(i + 1).to_string(), opt(e.y), opt(t.best_y[i]), opt(t.best_f[i]), format!("{}", e.seconds)];
            let [n, y, best_y, best_f, seconds] = fields.each_ref().map(String::as_str);
            row(&[&r.strategy, &r.problem, &dim, &seed, n, y, best_y, best_f, seconds]);
        }
    }
    let bytes = w.into_inner().expect("invariant: flushing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("invariant: the CSV is made of UTF-8 strings")
}

/// `path` as inline code in markdown (a fence longer than any run of backticks in it).
fn code(path: &Path) -> String {
    let text = path.display().to_string().replace(['\n', '\r'], " ");
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let fence = "`".repeat(longest + 1);
    if longest > 0 { format!("{fence} {text} {fence}") } else { format!("`{text}`") }
}

/// A file name stem from a group's labels: characters other than ASCII letters, digits, `.`,
/// `-` and `_` become `_` (labels come from directory names and configs, and the stem is part
/// of a link in report.md), and a stem already taken gets a number.
fn plot_stem(problem: &str, dim: usize, taken: &mut BTreeSet<String>) -> String {
    let clean: String =
        problem.chars().map(|c| if c.is_ascii_alphanumeric() || "._-".contains(c) { c } else { '_' }).collect();
    let clean = if clean.starts_with('.') || clean.is_empty() { format!("_{clean}") } else { clean };
    let base = format!("{clean}-d{dim}");
    let mut stem = base.clone();
    let mut k = 2;
    while !taken.insert(stem.clone()) {
        stem = format!("{base}-{k}");
        k += 1;
    }
    stem
}

/// The order of problems and strategies in the suite file `les bench` copied into `dir`
/// (labels, defaulting like the suite does); empty when there is none.
fn suite_order(dir: &Path) -> tables::Order {
    let Ok(text) = std::fs::read_to_string(dir.join("suite.yaml")) else { return tables::Order::default() };
    let Ok(suite) = les_core::yaml::parse(&dir.join("suite.yaml"), &text) else { return tables::Order::default() };
    let labels = |key: &str, fallback: &dyn Fn(&serde_json::Value) -> Option<String>| -> Vec<String> {
        suite[key]
            .as_array()
            .map(|items| {
                items.iter().filter_map(|i| i["label"].as_str().map(str::to_owned).or_else(|| fallback(i))).collect()
            })
            .unwrap_or_default()
    };
    tables::Order {
        problems: labels("problems", &|i| i["objective"]["builtin"].as_str().map(str::to_owned)),
        strategies: labels("strategies", &|i| i["name"].as_str().map(str::to_owned)),
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text)
        .map_err(|e| format!("cannot write {} ({e}); check that the report directory is writable", path.display()))
}

/// What the report says about the plots, above the tables.
fn plots_text() -> String {
    format!(
        "Plots: lines are the median over seeds, shaded bands the 25th to 75th percentile over seeds (the same \
         quartiles as the tables), at each x over the runs that got that far: incomplete runs are drawn as far as \
         they got, so the last points may summarize fewer seeds. The best-value plot has the number of \
         evaluations on x. The time plot shows the seconds the strategy spent on each iteration (`tell` of the \
         observations it builds on, then `ask`; the hand-outs of the initial design are not strategy iterations \
         and are left out) against the number of evaluations finished before that ask, on a log axis on which \
         times below {:e} s are drawn at {:e} s (under a table's plots when any were).\n\n",
        plots::MIN_SECONDS,
        plots::MIN_SECONDS
    )
}

/// Writes the whole report, passing each warning (a run left out, a path not searched, a torn
/// journal) to `warn`; returns the path of `report.md`.
pub fn write_report(dir: &Path, out: &Path, warn: &mut dyn FnMut(String)) -> Result<PathBuf, String> {
    let search = load::find_runs(dir, out);
    for s in search.skipped.iter().take(MAX_LISTED) {
        warn(format!("not searched: {}: {}", s.path.display(), s.reason));
    }
    if search.skipped.len() > MAX_LISTED {
        let listed = if search.runs.is_empty() { "" } else { " (report.md lists them all)" };
        warn(format!("… and {} more paths not searched{listed}", search.skipped.len() - MAX_LISTED));
    }
    if search.runs.is_empty() {
        return Err(format!(
            "{} holds no run directory (a directory with config.yaml and evaluations.jsonl){}; run `les bench` or \
             `les run` first, or point `les report` at the directory that holds the runs",
            dir.display(),
            if search.skipped.is_empty() {
                String::new()
            } else {
                format!(" among the paths it could search ({} not searched, see the warnings)", search.skipped.len())
            }
        ));
    }
    let (runs, refused) = load::read_runs(dir, &search.runs);
    for r in &refused {
        warn(format!("left out {}: {}", r.dir.display(), r.reason));
    }
    for r in runs.iter().filter(|r| !r.torn.is_empty()) {
        if let Some(reason) = r.incomplete_reason() {
            warn(format!("incomplete {}: {reason}", r.dir.display()));
        }
    }
    let plots_dir = out.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|e| {
        format!("cannot create {} ({e}); choose a writable report directory with --out", plots_dir.display())
    })?;
    write(&out.join("runs.csv"), &runs_csv(&runs))?;

    let incomplete: Vec<(&Run, String)> = runs.iter().filter_map(|r| Some((r, r.incomplete_reason()?))).collect();
    let mut md = format!(
        "# Benchmark report\n\n{} run directories under {}: {} read ({} complete, {} incomplete), {} left out.\n\n",
        search.runs.len(),
        code(dir),
        runs.len(),
        runs.len() - incomplete.len(),
        incomplete.len(),
        refused.len()
    );
    md.push_str(
        "Final value: the noise-free objective value at the best observed point at the end of the run (the observed \
         value when the objective does not know it). Cumulative: the sum of all observed values. Lower is better. \
         Runs are paired by seed. Time per iteration: wall time the strategy spent on it (`tell` of the \
         observations it builds on, then `ask`).\n\n",
    );
    md.push_str(&plots_text());
    let imported: Vec<usize> = runs.iter().map(Run::imported).filter(|&n| n > 0).collect();
    if !imported.is_empty() {
        let _ = writeln!(
            md,
            "{} runs hold {} observations imported without being asked (warm-start data, observations told by \
             hand); the tables, plots and runs.csv leave them out and count only the evaluations of asked points.\n",
            imported.len(),
            imported.iter().sum::<usize>()
        );
    }
    if !refused.is_empty() {
        let _ = writeln!(
            md,
            "## Left out\n\n{} run directories cannot be used and are left out of the tables, plots and runs.csv \
             (a table counts them as unusable in their strategy's row where their labels are known):\n",
            refused.len()
        );
        for r in &refused {
            let _ = writeln!(md, "- {}: {}", code(&r.dir), md_prose(&r.reason));
        }
        md.push('\n');
    }
    if !search.skipped.is_empty() {
        let _ = writeln!(
            md,
            "## Not searched\n\n{} paths under {} were not searched for runs:\n",
            search.skipped.len(),
            code(dir)
        );
        for s in &search.skipped {
            let _ = writeln!(md, "- {}: {}", code(&s.path), md_prose(&s.reason));
        }
        md.push('\n');
    }
    if !incomplete.is_empty() {
        let _ = writeln!(
            md,
            "## Incomplete\n\n{} runs are incomplete (still running, interrupted, failed, or with a torn journal); \
             the tables leave them out, the plots show them as far as they got:\n",
            incomplete.len()
        );
        for (r, reason) in incomplete.iter().take(MAX_LISTED) {
            let _ = writeln!(md, "- {} ({})", code(&r.dir), md_prose(reason));
        }
        if incomplete.len() > MAX_LISTED {
            let _ = writeln!(md, "- … and {} more", incomplete.len() - MAX_LISTED);
        }
        md.push('\n');
    }
    let order = suite_order(dir);
    let groups = tables::group(&runs, &refused, &order);
    let built: Vec<tables::Table> = groups.iter().map(tables::table).collect();
    let untested: Vec<&tables::Table> = built.iter().filter(|t| !t.tested).collect();
    if !untested.is_empty() {
        let list: Vec<String> = untested
            .iter()
            .map(|t| {
                let seeds = if t.paired_seeds == 1 { "seed" } else { "seeds" };
                format!("{}, d = {} ({} paired {seeds})", md_text(&t.problem), t.dim, t.paired_seeds)
            })
            .collect();
        let _ = writeln!(
            md,
            "## Too few seeds to test\n\n{} of {} tables have fewer than {} paired seeds, too few for the one-sided \
             Wilcoxon signed-rank test to ever reach p < {}: nothing is bold in them, and their mean ranks are not \
             a test: {}. Run at least {} seeds (`seeds:` in the suite) to test.\n",
            untested.len(),
            built.len(),
            stats::min_pairs(),
            stats::SIGNIFICANCE,
            list.join("; "),
            stats::min_pairs()
        );
    }
    let mut stems = BTreeSet::new();
    for (g, t) in groups.iter().zip(&built) {
        md.push_str(&tables::markdown(t));
        let stem = plot_stem(&g.problem, g.dim, &mut stems);
        let title = format!("{}, d = {}", g.problem, g.dim);
        let best = plots::svg(
            &plots::Chart {
                title: &title,
                x_label: "evaluations",
                y_label: "best value so far",
                log_y: false,
                footer: "line: median over seeds; band: 25th to 75th percentile over seeds",
            },
            &plots::best_curves(g),
        )?;
        write(&plots_dir.join(format!("{stem}-best.svg")), &best)?;
        let time = plots::time_curves(g);
        let clamped = if time.clamped > 0 {
            format!(
                "; {} of {} times below {:e} s drawn at {:e} s",
                time.clamped,
                time.times,
                plots::MIN_SECONDS,
                plots::MIN_SECONDS
            )
        } else {
            format!("; times below {:e} s would be drawn at {:e} s", plots::MIN_SECONDS, plots::MIN_SECONDS)
        };
        let footer = format!("line: median over seeds; band: 25th to 75th percentile over seeds{clamped}");
        let svg = plots::svg(
            &plots::Chart {
                title: &title,
                x_label: "evaluations finished before the ask",
                y_label: "seconds per iteration (tell + ask)",
                log_y: true,
                footer: &footer,
            },
            &time.curves,
        )?;
        write(&plots_dir.join(format!("{stem}-time.svg")), &svg)?;
        let alt = md_text(&title);
        let _ = writeln!(
            md,
            "\n![best value so far, {alt}](plots/{stem}-best.svg)\n![time per iteration, {alt}](plots/{stem}-time.svg)\n"
        );
        if time.clamped > 0 {
            let _ = writeln!(
                md,
                "Time plot: {} of {} iteration times were below {:e} s and are drawn at {:e} s.\n",
                time.clamped,
                time.times,
                plots::MIN_SECONDS,
                plots::MIN_SECONDS
            );
        }
    }
    let report = out.join("report.md");
    write(&report, &md)?;
    if runs.is_empty() {
        return Err(format!(
            "none of the {} run directories under {} could be used (the warnings above say why, and so does {}); \
             fix or move them, then run `les report` again",
            search.runs.len(),
            dir.display(),
            report.display()
        ));
    }
    Ok(report)
}

/// Runs `les report`.
pub fn main(args: ReportArgs) -> ExitCode {
    let out = args.out.clone().unwrap_or_else(|| args.dir.join(DEFAULT_REPORT_DIR));
    if !args.dir.is_dir() {
        eprintln!(
            "error: {} is not a directory; give the directory that holds the run directories",
            args.dir.display()
        );
        return ExitCode::from(2);
    }
    match write_report(&args.dir, &out, &mut |w| eprintln!("warning: {w}")) {
        Ok(report) => {
            println!("report: {}", report.display());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(2)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::journal::EvaluationRecord;

    #[test]
    fn csv_quotes_what_needs_it() {
        // Labels come from directory names: commas, quotes, line breaks and carriage returns
        // (which hand-written quoting left bare) must all come back as they were.
        let odd = "r,\"n\r\nd";
        let run = Run {
            dir: PathBuf::new(),
            strategy: odd.into(),
            problem: "p\rq".into(),
            dim: 1,
            seed: 3,
            budget: 2,
            finished: true,
            evaluations: vec![
                EvaluationRecord { index: 0, y: Some(2.0), seconds: 0.5, ..Default::default() },
                EvaluationRecord { index: 1, error: Some("failed".into()), seconds: 0.25, ..Default::default() },
                // Warm-start data: not an evaluation of the strategy's, not in runs.csv.
                EvaluationRecord { index: 2, y: Some(-1.0), source: Some("told".into()), ..Default::default() },
            ],
            iterations: vec![],
            torn: vec![],
        };
        let text = runs_csv(&[run]);
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        assert_eq!(reader.headers().unwrap().len(), 9);
        let rows: Vec<Vec<String>> = reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect();
        assert_eq!(
            rows,
            [[odd, "p\rq", "1", "3", "1", "2", "2", "", "0.5"], [odd, "p\rq", "1", "3", "2", "", "2", "", "0.25"]]
        );
    }
}

//! `les report DIR`: summarizes every run directory under DIR (see [`load`]) into REPORT_DIR
//! (default `DIR/report/`):
//!
//! - `runs.csv`: one tidy row per evaluation — strategy, problem, dim, seed, evaluation (1-based),
//!   y (observed; empty when it failed), best_y (lowest y so far), best_f (noise-free value of
//!   that point, empty when the objective does not know it), seconds;
//! - `report.md`: per problem and dimension a table of the final value of the best observed point
//!   and of the cumulative observed value (see [`tables`]), with links to the plots;
//! - `plots/<problem>-d<dim>-best.svg` and `plots/<problem>-d<dim>-time.svg` (see [`plots`]).
//!
//! Exit code 0, or 2 when DIR holds no run or a file cannot be written.

pub mod load;
pub mod plots;
pub mod stats;
pub mod tables;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use load::Run;

/// Name of the default report directory inside DIR.
pub const DEFAULT_REPORT_DIR: &str = "report";

/// Most incomplete runs listed by name in report.md.
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

/// The tidy CSV of all evaluations (written with the `csv` crate, which quotes what needs it).
pub fn runs_csv(runs: &[Run]) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut row = |fields: &[&str]| w.write_record(fields).expect("invariant: writing CSV to memory cannot fail");
    row(&["strategy", "problem", "dim", "seed", "evaluation", "y", "best_y", "best_f", "seconds"]);
    for r in runs {
        let t = r.trace();
        let (dim, seed) = (r.dim.to_string(), r.seed.to_string());
        for (i, e) in r.evaluations.iter().enumerate() {
            let fields = [(i + 1).to_string(), opt(e.y), opt(t.best_y[i]), opt(t.best_f[i]), format!("{}", e.seconds)];
            let [n, y, best_y, best_f, seconds] = fields.each_ref().map(String::as_str);
            row(&[&r.strategy, &r.problem, &dim, &seed, n, y, best_y, best_f, seconds]);
        }
    }
    let bytes = w.into_inner().expect("invariant: flushing CSV to memory cannot fail");
    String::from_utf8(bytes).expect("invariant: the CSV is made of UTF-8 strings")
}

/// The order of problems and strategies in the suite file `les bench` copied into `dir`
/// (labels, defaulting like the suite does); empty when there is none.
fn suite_order(dir: &Path) -> tables::Order {
    let Ok(text) = std::fs::read_to_string(dir.join("suite.yaml")) else { return tables::Order::default() };
    let Ok(suite) = serde_saphyr::from_str::<serde_json::Value>(&text) else { return tables::Order::default() };
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
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
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

/// Writes the whole report; returns the path of `report.md`.
pub fn write_report(dir: &Path, out: &Path) -> Result<PathBuf, String> {
    let dirs = load::find_runs(dir, out);
    if dirs.is_empty() {
        return Err(format!(
            "{} holds no run directory (a directory with config.yaml and evaluations.jsonl); run `les bench` or `les run` first",
            dir.display()
        ));
    }
    let mut runs = Vec::new();
    let mut problems = Vec::new();
    for d in &dirs {
        match load::read_run(dir, d) {
            Ok(r) => runs.push(r),
            Err(e) => problems.push(e),
        }
    }
    let plots_dir = out.join("plots");
    std::fs::create_dir_all(&plots_dir).map_err(|e| format!("cannot create {}: {e}", plots_dir.display()))?;
    write(&out.join("runs.csv"), &runs_csv(&runs))?;

    let mut md = format!("# Benchmark report\n\n{} runs under `{}`.\n\n", runs.len(), dir.display());
    md.push_str(
        "Final value: the noise-free objective value at the best observed point at the end of the run (the observed \
         value when the objective does not know it). Cumulative: the sum of all observed values. Lower is better. \
         Runs are paired by seed. Time per iteration: wall time the strategy spent on it (`tell` of the \
         observations it builds on, then `ask`).\n\n",
    );
    md.push_str(&plots_text());
    if !problems.is_empty() {
        md.push_str("Run directories that could not be read:\n\n");
        for p in &problems {
            let _ = writeln!(md, "- {p}");
        }
        md.push('\n');
    }
    let incomplete: Vec<&Run> = runs.iter().filter(|r| !r.complete()).collect();
    if !incomplete.is_empty() {
        let _ = writeln!(
            md,
            "{} runs have not used their budget (still running, interrupted or failed); the tables leave them out, the plots show them as far as they got:\n",
            incomplete.len()
        );
        for r in incomplete.iter().take(MAX_LISTED) {
            let _ = writeln!(md, "- `{}` ({} of {} evaluations)", r.dir.display(), r.evaluations.len(), r.budget);
        }
        if incomplete.len() > MAX_LISTED {
            let _ = writeln!(md, "- … and {} more", incomplete.len() - MAX_LISTED);
        }
        md.push('\n');
    }
    let order = suite_order(dir);
    let groups = tables::group(&runs, &order);
    let built: Vec<tables::Table> = groups.iter().map(tables::table).collect();
    let untested: Vec<&tables::Table> = built.iter().filter(|t| !t.tested).collect();
    if !untested.is_empty() {
        let list: Vec<String> = untested
            .iter()
            .map(|t| {
                let seeds = if t.paired_seeds == 1 { "seed" } else { "seeds" };
                format!("{}, d = {} ({} paired {seeds})", t.problem, t.dim, t.paired_seeds)
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
    for (g, t) in groups.iter().zip(&built) {
        md.push_str(&tables::markdown(t));
        let stem = format!("{}-d{}", g.problem, g.dim);
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
        let alt = &title;
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
    Ok(report)
}

/// Runs `les report`.
pub fn main(args: ReportArgs) -> ExitCode {
    let out = args.out.clone().unwrap_or_else(|| args.dir.join(DEFAULT_REPORT_DIR));
    if !args.dir.is_dir() {
        eprintln!("error: {} is not a directory", args.dir.display());
        return ExitCode::from(2);
    }
    match write_report(&args.dir, &out) {
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
            ],
            iterations: vec![],
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

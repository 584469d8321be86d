//! `les report` on damaged, duplicated and odd inputs: every run directory counts once, and
//! whatever is left out is named on stderr and in report.md.

use std::path::{Path, PathBuf};
use std::process::Command;

fn les(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_les")).args(args).output().expect("the les binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// A finished run written by hand in the `les bench` layout: `root/sq/d2/<strategy>/seed<seed>`,
/// one evaluation per value of `ys` (iteration 1, 2, …), budget `ys.len()`.
fn write_run(root: &Path, strategy: &str, seed: u64, ys: &[f64]) -> PathBuf {
    let dir = root.join(format!("sq/d2/{strategy}/seed{seed}"));
    std::fs::create_dir_all(&dir).unwrap();
    let budget = ys.len();
    std::fs::write(
        dir.join("config.yaml"),
        format!("budget: {budget}\nobjective:\n  builtin: square\n  dim: 2\nseed: {seed}\nstrategy:\n  name: random\n"),
    )
    .unwrap();
    let (mut evals, mut iters) = (String::new(), String::new());
    for (i, y) in ys.iter().enumerate() {
        let x = 0.1 * i as f64;
        evals.push_str(&format!(
            "{{\"index\":{i},\"iteration\":{},\"x\":[{x},{x}],\"y\":{y},\"f\":{y},\"seconds\":0.001}}\n",
            i + 1
        ));
        iters.push_str(&format!(
            "{{\"iteration\":{},\"ask_seconds\":0.01,\"phases\":{{}},\"points\":[[{x},{x}]],\"diagnostics\":{{}}}}\n",
            i + 1
        ));
    }
    std::fs::write(dir.join("evaluations.jsonl"), evals).unwrap();
    std::fs::write(dir.join("iterations.jsonl"), iters).unwrap();
    std::fs::write(
        dir.join("summary.json"),
        format!(
            "{{\"success\":true,\"budget\":{budget},\"evaluations\":{budget},\"stop_reason\":\"budget exhausted\"}}\n"
        ),
    )
    .unwrap();
    dir
}

/// `seeds` seeds of strategies `good` (final value 1 + seed/100) and `bad` (2 + seed/100).
fn suite(root: &Path, seeds: u64) {
    for seed in 1..=seeds {
        let s = seed as f64 / 100.0;
        write_run(root, "good", seed, &[5.0, 3.0, 1.0 + s]);
        write_run(root, "bad", seed, &[5.0, 4.0, 2.0 + s]);
    }
}

struct Report {
    code: i32,
    stderr: String,
    md: String,
    csv: Vec<csv::StringRecord>,
}

fn report(root: &Path) -> Report {
    let out = root.parent().unwrap().join("report");
    let (code, stdout, stderr) = les(&["report", root.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    let md = std::fs::read_to_string(out.join("report.md")).unwrap_or_else(|e| panic!("{e}\n{stdout}\n{stderr}"));
    let csv = csv::Reader::from_path(out.join("runs.csv")).unwrap().records().map(Result::unwrap).collect();
    Report { code, stderr, md, csv }
}

/// The runs cell of `strategy`'s row in the (only) table.
fn runs_cell(md: &str, strategy: &str) -> String {
    let row = md.lines().find(|l| l.starts_with(&format!("| {strategy} |"))).unwrap_or_else(|| panic!("{md}"));
    row.split(" | ").nth(1).unwrap().to_owned()
}

#[test]
#[cfg(unix)]
fn symlink_loops_and_aliases_count_each_run_once() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runs");
    suite(&root, 3);
    symlink("..", root.join("sq/d2/up")).unwrap(); // loop to an ancestor
    symlink(&root, root.join("sq/d2/good/again")).unwrap(); // loop to the root
    symlink(root.join("sq/d2/good/seed1"), root.join("sq/d2/alias")).unwrap(); // a second way to a run
    symlink(root.join("missing"), root.join("dangling")).unwrap();
    let r = report(&root);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.csv.len(), 6 * 3, "6 runs of 3 evaluations, each once");
    assert!(r.md.contains("6 run directories under"), "{}", r.md);
    assert_eq!(runs_cell(&r.md, "good"), "3");
    for link in ["sq/d2/up", "sq/d2/good/again", "sq/d2/alias", "dangling"] {
        let path = root.join(link).display().to_string();
        assert!(r.stderr.contains(&format!("warning: not searched: {path}: ")), "{link}: {}", r.stderr);
        assert!(r.md.contains(&format!("- `{path}`: ")), "{link}: {}", r.md);
    }
    assert!(r.stderr.contains("(a loop): not followed"), "{}", r.stderr);
    assert!(r.stderr.contains("already searched: not followed, so its runs count once"), "{}", r.stderr);
    assert!(r.md.contains("## Not searched\n\n4 paths"), "{}", r.md);
}

#[test]
#[cfg(unix)]
fn a_run_reached_only_through_a_link_is_read_once_with_the_links_labels() {
    use std::os::unix::fs::symlink;
    let tmp = tempfile::tempdir().unwrap();
    let elsewhere = tmp.path().join("elsewhere");
    let run = write_run(&elsewhere, "good", 4, &[1.0, 0.5]);
    let root = tmp.path().join("runs");
    std::fs::create_dir_all(root.join("sq/d2/good")).unwrap();
    symlink(&run, root.join("sq/d2/good/seed9")).unwrap();
    symlink(&run, root.join("sq/d2/good/seed9-again")).unwrap();
    let r = report(&root);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.csv.len(), 2);
    assert_eq!(&r.csv[0][3], "9", "labels from the layout of the path it was found at");
    assert!(r.stderr.contains("seed9-again: symbolic link"), "{}", r.stderr);
}

#[test]
fn a_torn_last_line_makes_the_run_incomplete() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runs");
    suite(&root, 2);
    // Cut inside the last line (the summary still says success), and a last line that parses
    // but has no final newline.
    let cut = root.join("sq/d2/good/seed1/evaluations.jsonl");
    let text = std::fs::read_to_string(&cut).unwrap();
    std::fs::write(&cut, format!("{}\n", &text[..text.len() - 10])).unwrap();
    let unterminated = root.join("sq/d2/bad/seed2/evaluations.jsonl");
    let text = std::fs::read_to_string(&unterminated).unwrap();
    std::fs::write(&unterminated, text.trim_end()).unwrap();
    let r = report(&root);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.md.contains("4 read (2 complete, 2 incomplete)"), "{}", r.md);
    assert_eq!(runs_cell(&r.md, "good"), "1 (+1 incomplete, left out)");
    assert_eq!(runs_cell(&r.md, "bad"), "1 (+1 incomplete, left out)");
    for (run, what) in [("good/seed1", "torn: not a valid record"), ("bad/seed2", "torn: it has no final newline")] {
        let dir = root.join("sq/d2").join(run).display().to_string();
        assert!(r.stderr.contains(&format!("warning: incomplete {dir}: 2 of 3 evaluations; ")), "{}", r.stderr);
        assert!(r.stderr.contains(what) && r.stderr.contains("--resume"), "{}", r.stderr);
        assert!(
            r.md.contains(&format!("- `{dir}` (2 of 3 evaluations; the last line of evaluations.jsonl")),
            "{}",
            r.md
        );
    }
    // The plots still show them as far as they got: 2 + 2 rows of the torn runs.
    assert_eq!(r.csv.len(), 2 * 3 + 2 * 2);
}

#[test]
fn unreadable_runs_are_named_and_counted() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runs");
    suite(&root, 2);
    let damaged = root.join("sq/d2/good/seed1");
    let text = std::fs::read_to_string(damaged.join("evaluations.jsonl")).unwrap();
    std::fs::write(damaged.join("evaluations.jsonl"), text.replacen("\"y\"", "\"y", 1)).unwrap();
    let bad_config = root.join("sq/d2/bad/seed1");
    std::fs::write(bad_config.join("config.yaml"), "budget: [unclosed\n").unwrap();
    let no_config = root.join("sq/d2/bad/seed2");
    std::fs::remove_file(no_config.join("config.yaml")).unwrap();
    let r = report(&root);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let expect = [
        (&damaged, "evaluations.jsonl line 1 is damaged"),
        (&bad_config, "config.yaml is not valid YAML"),
        (&no_config, "holds evaluations.jsonl but no config.yaml"),
    ];
    for (dir, reason) in expect {
        let line = format!("warning: left out {}: {reason}", dir.display());
        assert!(r.stderr.contains(&line), "{line}\n{}", r.stderr);
        assert!(r.md.contains(&format!("- `{}`: {reason}", dir.display())), "{}", r.md);
    }
    assert!(r.md.contains("4 run directories under") && r.md.contains("3 left out"), "{}", r.md);
    assert!(r.md.contains("## Left out\n\n3 run directories cannot be used"), "{}", r.md);
    assert_eq!(runs_cell(&r.md, "good"), "1 (+1 unusable, left out)");
    assert_eq!(runs_cell(&r.md, "bad"), "0 (+2 unusable, left out)");
    assert_eq!(r.csv.len(), 3);
}

#[test]
fn nothing_usable_is_an_error_with_a_report_that_says_why() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runs");
    let dir = write_run(&root, "good", 1, &[1.0]);
    std::fs::write(dir.join("evaluations.jsonl"), "{\n{\"index\":0}\n").unwrap();
    let r = report(&root);
    assert_eq!(r.code, 2);
    assert!(r.stderr.contains("error: none of the 1 run directories") && r.stderr.contains("fix or move them"));
    assert!(r.md.contains("## Left out"), "{}", r.md);
}

#[test]
fn two_writers_in_one_run_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runs");
    suite(&root, 2);
    // Two processes appending the same run: every index twice.
    let doubled = root.join("sq/d2/good/seed1");
    let text = std::fs::read_to_string(doubled.join("evaluations.jsonl")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let interleaved: String = lines.iter().flat_map(|l| [l, l]).map(|l| format!("{l}\n")).collect();
    std::fs::write(doubled.join("evaluations.jsonl"), interleaved).unwrap();
    // Trial ids answered twice under distinct indices.
    let trials = root.join("sq/d2/bad/seed2");
    let text = std::fs::read_to_string(trials.join("evaluations.jsonl")).unwrap();
    let with_trials: String = text
        .lines()
        .enumerate()
        .map(|(i, l)| l.replacen('{', &format!("{{\"trial\":{},", i.min(1)), 1) + "\n")
        .collect();
    std::fs::write(trials.join("evaluations.jsonl"), with_trials).unwrap();
    let r = report(&root);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let index = format!(
        "warning: left out {}: evaluations.jsonl holds evaluation index 0 twice (lines 1 and 2): two processes",
        doubled.display()
    );
    assert!(r.stderr.contains(&index), "{}", r.stderr);
    let trial =
        format!("warning: left out {}: evaluations.jsonl answers trial 1 twice (lines 2 and 3)", trials.display());
    assert!(r.stderr.contains(&trial), "{}", r.stderr);
    assert_eq!(runs_cell(&r.md, "good"), "1 (+1 unusable, left out)");
    assert_eq!(runs_cell(&r.md, "bad"), "1 (+1 unusable, left out)");
    assert_eq!(r.csv.len(), 2 * 3, "the refused runs are not in runs.csv");
}

#[test]
fn a_copied_run_directory_is_refused_with_its_twin() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runs");
    suite(&root, 2);
    write_run(&root.join("copy"), "good", 2, &[5.0, 3.0, 1.02]);
    let r = report(&root);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("is a second run of strategy good, problem sq, d = 2, seed 2"), "{}", r.stderr);
    assert_eq!(runs_cell(&r.md, "good"), "1 (+2 unusable, left out)");
}

#[test]
fn more_evaluations_than_the_budget_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runs");
    suite(&root, 1);
    let dir = root.join("sq/d2/good/seed1");
    std::fs::write(dir.join("config.yaml"), "budget: 2\nseed: 1\n").unwrap();
    let r = report(&root);
    assert!(
        r.stderr.contains("holds 3 evaluations of asked points but the budget in config.yaml is 2"),
        "{}",
        r.stderr
    );
}

#[test]
fn too_few_seeds_bold_nothing_and_say_why() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("two");
    suite(&root, 2);
    let r = report(&root);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.md.contains("**"), "nothing bold:\n{}", r.md);
    assert!(r.md.contains("2 paired seeds: too few to test"), "{}", r.md);
    assert!(r.md.contains("## Too few seeds to test\n\n1 of 1 tables have fewer than 5 paired seeds"), "{}", r.md);

    let root = tmp.path().join("five");
    suite(&root, 5);
    let r = report(&root);
    assert!(r.md.contains("5 paired seeds. Median"), "{}", r.md);
    assert!(r.md.contains("| good | 5 | **1.030 [1.020, 1.040]** | 1.00 |"), "{}", r.md);
    assert!(r.md.contains("| bad | 5 | 2.030 [2.020, 2.040] | 2.00 |"), "{}", r.md);
    assert!(!r.md.contains("Too few seeds"), "{}", r.md);
}

#[test]
fn the_time_plot_says_what_it_shows() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runs");
    suite(&root, 2);
    // One iteration faster than the plot's floor, and an initial-design hand-out (iteration 0,
    // no time of the strategy's) that must not count.
    let iters = root.join("sq/d2/good/seed1/iterations.jsonl");
    let text = std::fs::read_to_string(&iters).unwrap().replacen("\"ask_seconds\":0.01", "\"ask_seconds\":1e-9", 1);
    let handout = "{\"iteration\":0,\"ask_seconds\":0.0,\"phases\":{},\"points\":[[0.5,0.5]],\"diagnostics\":{}}\n";
    std::fs::write(&iters, format!("{handout}{text}")).unwrap();
    let r = report(&root);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.md.contains("Time plot: 1 of 12 iteration times were below 1e-6 s and are drawn at 1e-6 s."), "{}", r.md);
    assert!(r.md.contains("shaded bands the 25th to 75th percentile over seeds"), "{}", r.md);
    let svg = std::fs::read_to_string(root.parent().unwrap().join("report/plots/sq-d2-time.svg")).unwrap();
    for text in [
        "evaluations finished before the ask",
        "seconds per iteration (tell + ask)",
        "line: median over seeds; band: 25th to 75th percentile over seeds; 1 of 12 times below 1e-6 s drawn at 1e-6 s",
    ] {
        assert!(svg.contains(&format!("\n{text}\n")), "{text}");
    }
    let svg = std::fs::read_to_string(root.parent().unwrap().join("report/plots/sq-d2-best.svg")).unwrap();
    assert!(svg.contains("\nevaluations\n") && svg.contains("band: 25th to 75th percentile over seeds"));
}

#[test]
fn labels_with_csv_and_markdown_characters_survive() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("runs");
    // A carriage return, which hand-written quoting used to leave bare (a CSV reader takes it
    // for the end of the record).
    let odd = "r,\"n|d*\r x";
    write_run(&root, odd, 1, &[2.0, 1.0]);
    let r = report(&root);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(r.csv.len(), 2);
    assert_eq!(&r.csv[0][0], odd);
    assert_eq!(r.csv[1].iter().collect::<Vec<_>>(), [odd, "sq", "2", "1", "2", "1", "1", "1", "0.001"]);
    assert!(r.md.contains("| r,\"n\\|d\\*  x | 1 |"), "{}", r.md);
}

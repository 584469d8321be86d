//! `les report` on ad-hoc runs made with `les run` (labels from the config), and its errors.

use std::process::Command;

fn run(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_les")).args(args).output().expect("the les binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

#[test]
fn ad_hoc_runs_are_labelled_from_their_config() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("c.yaml");
    std::fs::write(&config, "objective: { builtin: square, dim: 3 }\nstrategy: { name: random }\nbudget: 5\nseed: 1\n")
        .unwrap();
    let runs = tmp.path().join("runs");
    for seed in ["1", "2", "3"] {
        let out = runs.join(format!("a{seed}"));
        let (code, _, stderr) =
            run(&["run", config.to_str().unwrap(), "--seed", seed, "--out", out.to_str().unwrap(), "--quiet"]);
        assert_eq!(code, 0, "{stderr}");
    }
    let report = tmp.path().join("rep");
    let (code, stdout, stderr) = run(&["report", runs.to_str().unwrap(), "--out", report.to_str().unwrap()]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let csv = std::fs::read_to_string(report.join("runs.csv")).unwrap();
    assert_eq!(csv.lines().count(), 1 + 3 * 5);
    let seeds: std::collections::BTreeSet<&str> = csv.lines().skip(1).map(|l| l.split(',').nth(3).unwrap()).collect();
    assert_eq!(seeds.into_iter().collect::<Vec<_>>(), ["1", "2", "3"]);
    assert!(csv.lines().skip(1).all(|l| l.starts_with("random,square,3,")), "{csv}");
    // summary.csv: one row per run, its final value the last best noise-free value of runs.csv
    // and its cumulative value the sum of the observed ones.
    let summary = std::fs::read_to_string(report.join("summary.csv")).unwrap();
    let mut lines = summary.lines();
    assert_eq!(
        lines.next(),
        Some("strategy,problem,dim,seed,complete,evaluations,final_value,cumulative_y,strategy_seconds")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{summary}");
    for row in &rows {
        assert_eq!(&row[..6], ["random", "square", "3", row[3], "true", "5"], "{summary}");
        let evals: Vec<Vec<&str>> =
            csv.lines().skip(1).map(|l| l.split(',').collect::<Vec<_>>()).filter(|f| f[3] == row[3]).collect();
        assert_eq!(row[6], evals.last().unwrap()[7], "final value of seed {}", row[3]);
        let cumulative: f64 = evals.iter().map(|f| f[5].parse::<f64>().unwrap()).sum();
        assert!((row[7].parse::<f64>().unwrap() - cumulative).abs() <= 1e-12 * cumulative.abs().max(1.0));
        assert!(row[8].parse::<f64>().unwrap() >= 0.0);
    }
    let md = std::fs::read_to_string(report.join("report.md")).unwrap();
    assert!(md.contains("### square, d = 3") && md.contains("| random | 3 |"), "{md}");
    assert!(report.join("plots/square-d3-best.svg").is_file());
    // The time plot says what it shows: its x axis, its bands, its floor.
    let time = std::fs::read_to_string(report.join("plots/square-d3-time.svg")).unwrap();
    assert!(time.contains("\nevaluations finished before the ask\n"), "{time}");
    assert!(time.contains("band: 25th to 75th percentile over seeds;") && time.contains("below 1e-6 s"), "{time}");
    assert!(md.contains("shaded bands the 25th to 75th percentile over seeds"), "{md}");
    assert!(md.contains("times below 1e-6 s are drawn at 1e-6 s"), "{md}");
}

#[test]
fn a_directory_without_runs_is_an_error() {
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, stderr) = run(&["report", tmp.path().to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds no run directory"), "{stderr}");
}

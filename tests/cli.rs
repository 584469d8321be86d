//! The command line end to end: help, listing, describing, config errors and their exit
//! codes, a run killed with SIGKILL and resumed, and every example config in `configs/`.

mod common;

use common::{les, repo, run};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn help_and_version() {
    let (code, stdout, _) = run(&["--help"]);
    assert_eq!(code, 0);
    for cmd in ["run", "init", "ask", "tell", "status", "resume", "check", "list", "describe", "bench", "report"] {
        assert!(stdout.contains(cmd), "--help lists `{cmd}`:\n{stdout}");
    }
    let (code, stdout, _) = run(&["--version"]);
    assert_eq!(code, 0);
    assert!(stdout.starts_with("les "), "{stdout}");
    let (code, _, stderr) = run(&["frobnicate"]);
    assert_eq!(code, 2, "usage errors exit 2: {stderr}");
}

#[test]
fn describe_prints_summary_and_default_params() {
    let (code, stdout, stderr) = run(&["describe", "ackley"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("ackley (objective): "), "{stdout}");
    assert!(stdout.contains("default params:") && stdout.contains("dim:"), "{stdout}");
    let (code, stdout, _) = run(&["describe", "les"]);
    assert_eq!(code, 0);
    assert!(stdout.contains("sampler:") && stdout.contains("acquisition:"), "{stdout}");
    let (code, _, stderr) = run(&["describe", "ackly"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("no plugin is named `ackly`") && stderr.contains("ackley"), "{stderr}");
}

const CONFIG: &str = "\
objective:
  builtin: branin
strategy:
  name: random
budget: 6
seed: 3
";

#[test]
fn misspelled_key_exits_2_and_points_at_its_line() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(tmp.path(), "bad.yaml", &CONFIG.replace("budget: 6", "budgit: 6"));
    for cmd in ["run", "check"] {
        let (code, _, stderr) = run(&[cmd, cfg.to_str().unwrap()]);
        assert_eq!(code, 2, "{stderr}");
        let want = format!("{}:5:1: budgit: unknown key `budgit`", cfg.display());
        assert!(stderr.contains(&want), "`les {cmd}` says\n{stderr}\nexpected to contain\n{want}");
    }
    let (code, _, stderr) = run(&["run", "/nonexistent/config.yaml"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("cannot read the config file"), "{stderr}");
}

#[test]
fn check_prints_the_resolved_config() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(tmp.path(), "ok.yaml", CONFIG);
    let (code, stdout, stderr) = run(&["check", cfg.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    // `random` makes its own design: the record says it evaluates no initial points.
    assert!(stdout.contains("initial_points: 0") && stdout.contains("on_error: stop"), "{stdout}");
    let les = write(tmp.path(), "les.yaml", &CONFIG.replace("name: random", "name: les"));
    let (code, stdout, stderr) = run(&["check", les.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("initial_points: 2"), "{stdout}");
}

#[test]
fn run_writes_journal_and_refuses_to_overwrite() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = write(tmp.path(), "ok.yaml", CONFIG);
    let out = tmp.path().join("run");
    let (code, stdout, stderr) = run(&["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("best y:"), "{stdout}");
    for f in ["config.yaml", "evaluations.jsonl", "iterations.jsonl", "summary.json"] {
        assert!(out.join(f).exists(), "{f} is written");
    }
    let lines = std::fs::read_to_string(out.join("evaluations.jsonl")).unwrap().lines().count();
    assert_eq!(lines, 6);
    let (code, _, stderr) = run(&["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("already exists") && stderr.contains("--resume"), "{stderr}");
}

/// `(index, x, y)` of every journaled evaluation.
fn trajectory(dir: &Path) -> Vec<(u64, Vec<f64>, Option<f64>)> {
    std::fs::read_to_string(dir.join("evaluations.jsonl"))
        .unwrap()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            let x = v["x"].as_array().unwrap().iter().map(|c| c.as_f64().unwrap()).collect();
            (v["index"].as_u64().unwrap(), x, v["y"].as_f64())
        })
        .collect()
}

#[test]
fn a_run_killed_with_sigkill_and_resumed_equals_the_uninterrupted_run() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "\
objective: { builtin: hartmann3, noise_std: 0.01 }
strategy:
  name: les
  params:
    paths: 48
    inner_optimizer: { name: adam, params: { steps: 150, learning_rate: 0.01 } }
budget: 40
seed: 5
";
    let cfg = write(tmp.path(), "les.yaml", text);
    let cfg = cfg.to_str().unwrap();
    let full = tmp.path().join("full");
    let (code, _, stderr) = run(&["run", cfg, "--out", full.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{stderr}");

    let cut = tmp.path().join("cut");
    let mut child = les()
        .args(["run", cfg, "--out", cut.to_str().unwrap(), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let evals = cut.join("evaluations.jsonl");
    while std::fs::read_to_string(&evals).map_or(0, |t| t.lines().count()) < 12 {
        assert!(start.elapsed() < Duration::from_secs(120), "the run makes progress");
        std::thread::sleep(Duration::from_millis(5));
    }
    child.kill().unwrap(); // SIGKILL on Unix
    child.wait().unwrap();
    let done = trajectory(&cut).len();
    assert!(done < 40, "the run was cut short ({done} evaluations)");
    // Tear the last line too, as a kill in the middle of a write would.
    let mut bytes = std::fs::read(&evals).unwrap();
    bytes.truncate(bytes.len() - 9);
    std::fs::write(&evals, bytes).unwrap();

    let (code, _, stderr) = run(&["run", cfg, "--resume", cut.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(trajectory(&cut), trajectory(&full));
}

#[test]
fn failing_objective_exits_1_and_keeps_data() {
    let tmp = tempfile::tempdir().unwrap();
    // The command objective fails on every point with x0 > 0.5.
    let script = write(
        tmp.path(),
        "obj.py",
        "import json, sys\nx = json.load(sys.stdin)['x']\nprint('nan' if x[0] > 0.5 else sum(v * v for v in x))\n",
    );
    let text = format!(
        "objective: {{ command: [python3, {}], dim: 2, bounds: {{ lower: [0, 0], upper: [1, 1] }} }}\nstrategy: {{ name: sobol }}\nbudget: 8\nseed: 1\n",
        script.display()
    );
    let cfg = write(tmp.path(), "fail.yaml", &text);
    let out = tmp.path().join("run");
    let (code, _, stderr) = run(&["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("evaluation failed") && stderr.contains("on_error: skip"), "{stderr}");
    let t = trajectory(&out);
    assert!(!t.is_empty() && t.last().unwrap().2.is_none());

    let skip = write(tmp.path(), "skip.yaml", &format!("{text}on_error: skip\n"));
    let out = tmp.path().join("skip");
    let (code, _, stderr) = run(&["run", skip.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(trajectory(&out).len(), 8);
}

/// Every example config runs end to end (with a small budget so the suite stays fast).
#[test]
fn every_example_config_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let mut configs: Vec<PathBuf> = std::fs::read_dir(repo().join("configs"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    configs.sort();
    assert!(configs.len() >= 3, "configs/ holds the examples");
    for cfg in configs {
        let text = std::fs::read_to_string(&cfg).unwrap();
        // Keep the initial design and two strategy iterations.
        let initial: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("initial_points:"))
            .map_or(2, |v| v.split('#').next().unwrap().trim().parse().unwrap());
        let budget = (initial + 2).to_string();
        let out = tmp.path().join(cfg.file_stem().unwrap());
        let (code, _, stderr) =
            run(&["run", cfg.to_str().unwrap(), "--budget", &budget, "--out", out.to_str().unwrap(), "--quiet"]);
        assert_eq!(code, 0, "{} fails:\n{stderr}", cfg.display());
        assert_eq!(trajectory(&out).len(), initial + 2, "{}", cfg.display());
    }
}

#[test]
fn results_do_not_depend_on_the_thread_count() {
    let tmp = tempfile::tempdir().unwrap();
    let text = "\
objective: { builtin: gp_sample, dim: 4, complexity: medium, seed: 2 }
strategy:
  name: les
  params:
    paths: 40
    inner_optimizer: { name: adam, params: { steps: 80, learning_rate: 0.01 } }
budget: 8
seed: 9
";
    let cfg = write(tmp.path(), "threads.yaml", text);
    let mut trajectories = Vec::new();
    for threads in ["1", "2", "3"] {
        let out = tmp.path().join(format!("t{threads}"));
        let status = les()
            .args(["run", cfg.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
            .env("RAYON_NUM_THREADS", threads)
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success());
        trajectories.push(trajectory(&out));
    }
    assert_eq!(trajectories[0], trajectories[1]);
    assert_eq!(trajectories[0], trajectories[2]);
}

#[test]
fn eval_prints_the_objective_at_each_point_of_stdin_and_names_a_bad_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = write(
        dir.path(),
        "branin.yaml",
        "objective: { builtin: branin }\nstrategy: { name: sobol }\nbudget: 2\nseed: 1\n",
    );
    let eval = |input: &str| {
        let mut child = les()
            .args(["eval", config.to_str().unwrap()])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        std::io::Write::write_all(child.stdin.as_mut().unwrap(), input.as_bytes()).unwrap();
        drop(child.stdin.take());
        let out = child.wait_with_output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    // Two of Branin's three minimizers.
    let (code, stdout, stderr) = eval("{\"x\": [3.141592653589793, 2.275]}\n\n{\"x\": [-3.141592653589793, 12.275]}\n");
    assert_eq!(code, Some(0), "{stderr}");
    let values: Vec<f64> = stdout.lines().map(|l| l.parse().unwrap()).collect();
    assert_eq!(values.len(), 2);
    for v in values {
        assert!((v - 0.397887).abs() < 1e-5, "{v}");
    }
    let (code, _, stderr) = eval("{\"x\": [1.0]}\n");
    assert_eq!(code, Some(2));
    assert!(stderr.contains("stdin line 1: expected {\"x\": [2 numbers]}"), "{stderr}");
}

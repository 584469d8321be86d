//! Ask/tell from the shell end to end: `les init` / `ask` / `tell` / `status` / `resume` give
//! the evaluations of `les run` for the same seed, also when a command is killed at a random
//! moment; refused tells exit 2 and change nothing; a run directory has one writer at a time,
//! in every combination of `run --resume`, `resume`, `ask`/`tell` and `bench`; warm start
//! from CSV; and the shell example in objectives/examples/ask-tell.

mod common;

use common::{les, repo, run, run_in};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use les_core::Objective;
use les_core::journal::{EVALUATIONS_FILE, EvaluationRecord, ITERATIONS_FILE, read_journal_unchanged};
use les_core::params::Params;
use les_core::registry::{self, BuildContext};
// Linked for its registrations (the built-in objectives this test evaluates itself).
use les_objectives as _;

fn evaluations(dir: &Path) -> Vec<EvaluationRecord> {
    read_journal_unchanged(&dir.join(EVALUATIONS_FILE)).unwrap().records
}

/// `(trial, iteration, x, y)` of one evaluation: what must match between runs.
type Observed = (Option<usize>, usize, Vec<f64>, Option<f64>);

fn observed(dir: &Path) -> Vec<Observed> {
    evaluations(dir).into_iter().map(|r| (r.trial, r.iteration, r.x, r.y)).collect()
}

const CONFIG: &str = "\
objective: { builtin: branin }
strategy:
  name: les
  params:
    paths: 16
    support_points: 4
    inner_optimizer: { name: adam, params: { learning_rate: 0.01, steps: 60 } }
budget: 8
initial_points: 2
seed: 5
";

fn branin() -> Box<dyn Objective> {
    let params = Params::new(serde_json::json!({}), "objective");
    registry::build::<dyn Objective>("branin", "objective.builtin", &params, &BuildContext::default())
        .unwrap()
        .component
}

/// Parses `TRIAL x0 x1 …`.
fn parse_trial(line: &str) -> (usize, Vec<f64>) {
    let mut parts = line.split_whitespace();
    let id = parts.next().unwrap().parse().unwrap();
    (id, parts.map(|v| v.parse().unwrap()).collect())
}

/// Drives `dir` with `les status --pending` / `les ask` / `les tell`, evaluating Branin here;
/// `kill_every`: SIGKILL every n-th `ask` and `tell` after `delay_ms` (and carry on).
fn drive(dir: &Path, kill_every: Option<usize>, delay_ms: u64) {
    let objective = branin();
    let d = dir.to_str().unwrap();
    let mut calls = 0;
    let mut killable = |args: &[&str]| -> Option<String> {
        calls += 1;
        if kill_every.is_some_and(|n| calls % n == 0) {
            let mut child = les().args(args).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
            std::thread::sleep(Duration::from_millis(delay_ms));
            let _ = child.kill();
            let _ = child.wait();
            return None;
        }
        let (code, stdout, stderr) = run(args);
        assert_eq!(code, 0, "les {args:?}: {stderr}");
        Some(stdout)
    };
    for _ in 0..200 {
        let (code, pending, stderr) = run(&["status", d, "--pending"]);
        assert_eq!(code, 0, "{stderr}");
        let line = match pending.lines().next() {
            Some(l) => l.to_owned(),
            None => match killable(&["ask", d]) {
                None => continue,
                Some(out) if out.trim().is_empty() => return,
                Some(out) => out.lines().next().unwrap().to_owned(),
            },
        };
        let (id, x) = parse_trial(&line);
        let y = objective.evaluate(&x).unwrap();
        let _ = killable(&["tell", d, &id.to_string(), &y.to_string()]);
    }
    panic!("the loop did not end");
}

#[test]
fn ask_and_tell_from_the_shell_give_the_evaluations_of_les_run() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("branin.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    let c = config.to_str().unwrap();
    let reference = tmp.path().join("run");
    let (code, _, stderr) = run(&["run", c, "--out", reference.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    let want = observed(&reference);
    assert_eq!(want.len(), 8);
    for (name, kill_every, delay) in [("plain", None, 0), ("killed-early", Some(3), 5), ("killed-late", Some(2), 40)] {
        let dir = tmp.path().join(name);
        let (code, stdout, stderr) = run(&["init", c, "--out", dir.to_str().unwrap()]);
        assert_eq!(code, 0, "{stderr}");
        assert!(stdout.contains("next:") && stdout.contains("les ask"), "{stdout}");
        drive(&dir, kill_every, delay);
        assert_eq!(observed(&dir), want, "{name}");
        let (code, stdout, _) = run(&["status", dir.to_str().unwrap()]);
        assert_eq!(code, 0);
        assert!(stdout.contains("ended: budget exhausted"), "{stdout}");
        // The summary is there, so `les report` and `les bench` see a finished run.
        let summary: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join("summary.json")).unwrap()).unwrap();
        assert_eq!(summary["success"], true);
        assert_eq!(summary["evaluations"], 8);
    }
}

#[test]
fn a_run_started_with_ask_tell_is_finished_by_resume_and_the_other_way_round() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("branin.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    let c = config.to_str().unwrap();
    let reference = tmp.path().join("run");
    assert_eq!(run(&["run", c, "--out", reference.to_str().unwrap(), "--quiet"]).0, 0);
    // Three evaluations told by hand, one trial left pending: `les resume` evaluates it first.
    let dir = tmp.path().join("hand");
    let d = dir.to_str().unwrap();
    assert_eq!(run(&["init", c, "--out", d]).0, 0);
    let objective = branin();
    for _ in 0..3 {
        let (id, x) = parse_trial(&run(&["ask", d]).1);
        let y = objective.evaluate(&x).unwrap();
        assert_eq!(run(&["tell", d, &id.to_string(), &y.to_string()]).0, 0);
    }
    assert_eq!(run(&["ask", d]).0, 0);
    let (code, stdout, stderr) = run(&["resume", d, "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("budget exhausted"), "{stdout}");
    assert_eq!(observed(&dir), observed(&reference));
    // The other way: a `les run` whose budget grows is continued with ask/tell.
    let (code, _, stderr) = run(&["resume", reference.to_str().unwrap(), "--budget", "9", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    let (code, _, stderr) = run(&["resume", reference.to_str().unwrap(), "--budget", "3", "--quiet"]);
    assert_eq!(code, 2, "a budget below the journal is refused: {stderr}");
    assert!(stderr.contains("less than the 9 evaluations"), "{stderr}");
}

#[test]
fn refused_tells_exit_2_and_change_nothing() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("branin.yaml");
    std::fs::write(&config, CONFIG.replace("budget: 8", "budget: 2")).unwrap();
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    assert_eq!(run(&["init", config.to_str().unwrap(), "--out", d]).0, 0);
    let (code, out, _) = run(&["ask", d, "--n", "2", "--json"]);
    assert_eq!(code, 0);
    let trials: Vec<serde_json::Value> = out.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(trials.len(), 2);
    assert_eq!(trials[1]["trial"], 1);
    assert_eq!(run(&["tell", d, "0", "-1.5"]).0, 0, "negative values are values, not flags");
    let journal =
        || (std::fs::read(dir.join(EVALUATIONS_FILE)).unwrap(), std::fs::read(dir.join(ITERATIONS_FILE)).unwrap());
    let before = journal();
    let cases: [(&[&str], &str); 7] = [
        (&["tell", d, "7", "1.0"], "trial 7 was never asked; pending trials: 1"),
        (&["tell", d, "0", "2.0"], "trial 0 was already told"),
        (&["tell", d, "1", "nan"], "NaN is not a valid value for trial 1"),
        (&["tell", d, "1", "inf"], "inf is not a valid value for trial 1"),
        (&["tell", d, "1", "abc"], "VALUE `abc` is not valid: expected a number"),
        (&["tell", d, "x", "1"], "trial `x` is not valid"),
        (&["ask", d, "--n", "0"], "--n 0 is not valid"),
    ];
    for (args, expected) in cases {
        let (code, _, stderr) = run(args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
        assert_eq!(journal(), before, "{args:?} changed the journal");
    }
    // A JSON batch with one bad line tells nothing.
    let mut child = les().args(["tell", d, "--json"]).stdin(Stdio::piped()).stderr(Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(child.stdin.as_mut().unwrap(), b"{\"trial\": 1, \"y\": 2}\n{\"trial\": 9, \"y\": 1}\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("tell 2 of 2; nothing was told"));
    assert_eq!(journal(), before);
    // The last tell ends the run; a tell after that is refused.
    assert_eq!(run(&["tell", d, "1", "--failed", "rig offline"]).0, 0);
    let (code, _, stderr) = run(&["tell", d, "1", "3.0"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("the run has ended"), "{stderr}");
    let (code, out, stderr) = run(&["ask", d]);
    assert_eq!((code, out.as_str()), (0, ""), "nothing to ask: {stderr}");
    assert!(stderr.contains("ended"), "{stderr}");
}

/// Starts `les run` of a command objective that sleeps, and waits until it holds the lock.
fn slow_run(tmp: &Path, name: &str, evaluations: usize) -> (Child, PathBuf, PathBuf) {
    let config = tmp.join(format!("{name}.yaml"));
    let dir = tmp.join(name);
    std::fs::write(
        &config,
        format!(
            "objective: {{ command: [sh, -c, 'sleep 0.3; echo 1'], dim: 2 }}\nstrategy: {{ name: random }}\nbudget: {evaluations}\nseed: 1\noutput: {}\n",
            dir.display()
        ),
    )
    .unwrap();
    let child = les()
        .args(["run", config.to_str().unwrap(), "--quiet"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if dir.join(EVALUATIONS_FILE).exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    (child, config, dir)
}

#[test]
fn a_run_directory_has_one_writer() {
    let tmp = tempfile::tempdir().unwrap();
    let (mut child, config, dir) = slow_run(tmp.path(), "busy", 8);
    let (c, d) = (config.to_str().unwrap(), dir.to_str().unwrap());
    let pid = child.id();
    for args in [
        vec!["run", c, "--resume", d],
        vec!["resume", d],
        vec!["ask", d],
        vec!["tell", d, "0", "1.0"],
        vec!["run", c, "--out", d],
        vec!["init", c, "--out", d],
    ] {
        let (code, _, stderr) = run(&args);
        assert_eq!(code, 2, "{args:?}: {stderr}");
        assert!(stderr.contains(&format!("is in use by process {pid}")), "{args:?}: {stderr}");
    }
    // `les status` only reads.
    let (code, stdout, stderr) = run(&["status", d]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("budget:"), "{stdout}");
    assert!(child.wait().unwrap().success());
    let evals = evaluations(&dir);
    assert_eq!(evals.len(), 8);
    let mut trials: Vec<usize> = evals.iter().map(|r| r.trial.unwrap()).collect();
    trials.dedup();
    assert_eq!(trials, (0..8).collect::<Vec<_>>(), "every evaluation once");
}

#[test]
fn two_benches_on_one_output_never_duplicate_an_evaluation() {
    let tmp = tempfile::tempdir().unwrap();
    let suite = tmp.path().join("suite.yaml");
    std::fs::write(
        &suite,
        "name: twice\nbudget: 6\nseeds: [1, 2]\nstrategies:\n  - { label: random, name: random }\nproblems:\n  - { label: sleepy, objective: { command: [sh, -c, 'sleep 0.2; echo 1'] }, dims: [2] }\n",
    )
    .unwrap();
    let out = tmp.path().join("out");
    let bench = || {
        les()
            .args(["bench", suite.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet", "--jobs", "2"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    };
    let first = bench();
    std::thread::sleep(Duration::from_millis(400));
    let second = bench().wait_with_output().unwrap();
    let first = first.wait_with_output().unwrap();
    let said = String::from_utf8_lossy(&second.stdout).to_string() + &String::from_utf8_lossy(&second.stderr);
    assert!(first.status.success(), "{}", String::from_utf8_lossy(&first.stderr));
    assert!(second.status.success(), "{said}");
    assert!(said.contains("in use by another process") || said.contains("skipped (already complete)"), "{said}");
    for seed in [1, 2] {
        let dir = out.join(format!("sleepy/d2/random/seed{seed}"));
        let evals = evaluations(&dir);
        assert_eq!(evals.len(), 6, "{}", dir.display());
        assert!(evals.iter().enumerate().all(|(i, r)| r.index == i && r.trial == Some(i)), "no duplicate");
    }
}

#[test]
fn warm_start_from_csv_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("data.csv"), "x0,x1,y\n3.1,2.2,0.5\n-2,10,40\n").unwrap();
    let config = tmp.path().join("warm.yaml");
    std::fs::write(&config, format!("{CONFIG}initial_data: data.csv\n")).unwrap();
    let dir = tmp.path().join("run");
    // A relative `initial_data` path is resolved against the current directory.
    let (code, stdout, stderr) =
        run_in(tmp.path(), &["run", config.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("evaluations:   10"), "2 imported + the budget of 8: {stdout}");
    let evals = evaluations(&dir);
    assert!(evals[0].source.as_deref().is_some_and(|s| s.ends_with("data.csv:2")), "{:?}", evals[0].source);
    assert_eq!(evals.iter().filter(|r| r.source.is_none()).count(), 8);
    // A bad row is a config error naming the file and line, before anything runs.
    std::fs::write(tmp.path().join("data.csv"), "x0,x1,y\n3.1,2.2,0.5\n99,10,40\n").unwrap();
    let (code, _, stderr) = run_in(tmp.path(), &["check", config.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stderr.contains("data.csv:3: x0 = 99 is outside the bounds"), "{stderr}");
}

#[test]
fn the_shell_example_survives_being_killed() {
    let script = repo().join("objectives/examples/ask-tell/lab.sh");
    let tmp = tempfile::tempdir().unwrap();
    let lab = |dir: &Path| {
        let mut command = Command::new("sh");
        command
            .arg(&script)
            .arg(dir)
            .env("LES", env!("CARGO_BIN_EXE_les"))
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        command
    };
    let whole = tmp.path().join("whole");
    let out = lab(&whole).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("ended: budget exhausted"));
    let want = observed(&whole);
    assert_eq!(want.len(), 10);
    // Killed (with its process group: the script and its les child) at growing delays, then
    // started again until it finishes.
    let killed = tmp.path().join("killed");
    for delay in [30u64, 70, 110, 150, 190, 230, 270, 310] {
        let mut command = lab(&killed);
        #[cfg(unix)]
        std::os::unix::process::CommandExt::process_group(&mut command, 0);
        let mut command = command;
        let mut child = command.spawn().unwrap();
        std::thread::sleep(Duration::from_millis(delay));
        #[cfg(unix)]
        {
            let _ = Command::new("kill").args(["-KILL", "--", &format!("-{}", child.id())]).status();
        }
        let _ = child.kill();
        let _ = child.wait();
    }
    let out = lab(&killed).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(observed(&killed), want);
}

/// A damaged line in the middle of the journal: `les repair` keeps what comes before it, saves
/// the rest, and a resume ends with the evaluations of the undamaged run.
#[test]
fn repair_then_resume_recovers_a_damaged_journal() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("branin.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    assert_eq!(run(&["run", config.to_str().unwrap(), "--out", d, "--quiet"]).0, 0);
    let want = observed(&dir);
    let path = dir.join(EVALUATIONS_FILE);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    lines[4] = "{ damaged".to_owned();
    std::fs::write(&path, lines.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
    let (code, _, stderr) = run(&["resume", d]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains(":5: damaged journal line") && stderr.contains("les repair"), "{stderr}");
    let (code, stdout, stderr) = run(&["repair", d]);
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("kept 4 evaluations") && stdout.contains("dropped 4 evaluation line(s)"), "{stdout}");
    let saved =
        std::fs::read_dir(&dir).unwrap().flatten().find(|e| e.file_name().to_string_lossy().starts_with("dropped-"));
    let saved = std::fs::read_to_string(saved.expect("the dropped lines are saved").path()).unwrap();
    assert!(saved.contains("{ damaged") && saved.contains(&lines[7].replace('"', "\\\"")), "{saved}");
    let (code, _, stderr) = run(&["resume", d, "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(observed(&dir), want);
    let (code, stdout, _) = run(&["repair", d]);
    assert_eq!(code, 0);
    assert!(stdout.contains("nothing to repair"), "{stdout}");
}

/// A journal whose config.yaml was deleted: a fresh run says how to continue, and the resume
/// it names works (no loop between `--resume` and `--out`).
#[test]
fn a_journal_without_its_config_resumes_with_the_config_given() {
    let tmp = tempfile::tempdir().unwrap();
    let config = tmp.path().join("branin.yaml");
    std::fs::write(&config, CONFIG).unwrap();
    let (c, dir) = (config.to_str().unwrap(), tmp.path().join("run"));
    let d = dir.to_str().unwrap();
    assert_eq!(run(&["run", c, "--out", d, "--quiet"]).0, 0);
    let want = observed(&dir);
    std::fs::remove_file(dir.join("config.yaml")).unwrap();
    std::fs::remove_file(dir.join("summary.json")).unwrap();
    let (code, _, stderr) = run(&["run", c, "--out", d]);
    assert_eq!(code, 2);
    assert!(stderr.contains("holds a run journal but no config.yaml") && stderr.contains("--resume"), "{stderr}");
    let (code, _, stderr) = run(&["run", c, "--resume", d, "--budget", "9", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(observed(&dir)[..8], want[..]);
    assert_eq!(observed(&dir).len(), 9);
}

/// A failed evaluation is never a dead end: `les resume --retry-failed` evaluates it again and
/// journals the new outcome next to the failure; the run that the failure stopped goes on.
#[test]
fn failed_trials_are_retried() {
    let tmp = tempfile::tempdir().unwrap();
    let flag = tmp.path().join("broken");
    std::fs::write(&flag, "").unwrap();
    // Fails while the file `broken` exists.
    let config = tmp.path().join("flaky.yaml");
    std::fs::write(
        &config,
        format!(
            "objective: {{ command: [sh, -c, 'test -e {} && exit 3; echo 1'], dim: 2 }}\nstrategy: {{ name: random }}\nbudget: 4\nseed: 1\n",
            flag.display()
        ),
    )
    .unwrap();
    let dir = tmp.path().join("run");
    let d = dir.to_str().unwrap();
    let (code, _, stderr) = run(&["run", config.to_str().unwrap(), "--out", d, "--quiet"]);
    assert_eq!(code, 1, "the first evaluation fails under on_error: stop: {stderr}");
    assert!(stderr.contains("--retry-failed"), "{stderr}");
    // A plain resume replays the failure.
    assert_eq!(run(&["resume", d, "--quiet"]).0, 1);
    std::fs::remove_file(&flag).unwrap();
    let (code, _, stderr) = run(&["resume", d, "--retry-failed", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    let evals = evaluations(&dir);
    assert_eq!(evals.len(), 4, "the budget counts the retry");
    assert!(evals[0].error.is_some() && evals[1].y == Some(1.0) && evals[1].x == evals[0].x, "{evals:?}");
    assert_ne!(evals[0].trial, evals[1].trial, "the retry is a trial of its own");
    let iterations: Vec<les_core::journal::IterationRecord> =
        read_journal_unchanged(&dir.join(ITERATIONS_FILE)).unwrap().records;
    assert_eq!(iterations[1].retry_of, evals[0].trial);
    // Resuming the finished run again changes nothing.
    let before = std::fs::read(dir.join(EVALUATIONS_FILE)).unwrap();
    assert_eq!(run(&["resume", d, "--retry-failed", "--quiet"]).0, 0);
    assert_eq!(std::fs::read(dir.join(EVALUATIONS_FILE)).unwrap(), before);
}

/// `--workers 4` keeps four command evaluations in flight (each sees the others running), and
/// the journal holds every trial once, in completion order.
#[test]
fn workers_run_commands_at_once() {
    let tmp = tempfile::tempdir().unwrap();
    let flags = tmp.path().join("running");
    std::fs::create_dir_all(&flags).unwrap();
    let script = format!(
        "touch {f}/$LES_TRIAL; sleep 0.4; ls {f} | wc -l >&2; rm {f}/$LES_TRIAL; echo $LES_TRIAL",
        f = flags.display()
    );
    let config = tmp.path().join("sleepy.yaml");
    std::fs::write(
        &config,
        format!(
            "objective: {{ command: [sh, -c, '{script}'], dim: 2 }}\nstrategy: {{ name: sobol }}\nbudget: 8\nseed: 1\n"
        ),
    )
    .unwrap();
    let dir = tmp.path().join("run");
    let (code, _, stderr) =
        run(&["run", config.to_str().unwrap(), "--out", dir.to_str().unwrap(), "--workers", "4", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
    let evals = evaluations(&dir);
    let mut trials: Vec<usize> = evals.iter().map(|r| r.trial.unwrap()).collect();
    assert!(evals.iter().all(|r| r.y == r.trial.map(|t| t as f64)), "each value is its own trial's");
    trials.sort_unstable();
    assert_eq!(trials, (0..8).collect::<Vec<_>>(), "every trial once");
    let most = (0..8)
        .map(|t| {
            std::fs::read_to_string(dir.join(format!("logs/trial-{t}.stderr")))
                .unwrap()
                .trim()
                .parse::<usize>()
                .unwrap()
        })
        .max()
        .unwrap();
    assert!(most >= 2, "evaluations overlapped ({most} running at once at most)");
    // Sobol takes pending trials into account: the points are those of a serial run.
    let serial = tmp.path().join("serial");
    assert_eq!(run(&["run", config.to_str().unwrap(), "--out", serial.to_str().unwrap(), "--quiet"]).0, 0);
    let points = |d: &Path| {
        let mut p: Vec<(usize, Vec<f64>)> = evaluations(d).into_iter().map(|r| (r.trial.unwrap(), r.x)).collect();
        p.sort_by_key(|e| e.0);
        p
    };
    assert_eq!(points(&dir), points(&serial));
    // `workers` may change on resume.
    let (code, _, stderr) = run(&["resume", dir.to_str().unwrap(), "--workers", "2", "--budget", "9", "--quiet"]);
    assert_eq!(code, 0, "{stderr}");
}

//! Clean shutdown with evaluations in flight: SIGINT and SIGTERM end `les` with 130 and 143,
//! kill every evaluation process (their children too) and leave the trials pending; kill -9
//! leaves no evaluation process behind either (parent-death signal and the group's watchdog).
//! In every case a resume ends with the evaluations of an uninterrupted run.
#![cfg(target_os = "linux")]

mod common;

use common::{les, run};
use std::path::Path;
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use les_core::journal::{EVALUATIONS_FILE, EvaluationRecord, read_journal_unchanged};

/// The objective: records its pid (and, while `slow` exists, a background sleeper's) in
/// `pids`, then prints Σ(xᵢ − 0.3)². While `slow` exists it hangs on the sleeper.
const SCRIPT: &str = r#"input=$(cat)
echo $$ >> "$PIDS"
if [ -f "$SLOW" ]; then sleep 60 & echo $! >> "$PIDS"; wait; fi
echo "$input" | sed 's/.*"x":\[\([^]]*\)\].*/\1/' | awk -F, '{s=0; for(i=1;i<=NF;i++) s+=($i-0.3)^2; print s}'
"#;

fn config(dir: &Path) -> String {
    format!(
        "objective:\n  command: [sh, {script}]\n  dim: 2\n  env: {{ PIDS: {pids}, SLOW: {slow} }}\n\
         strategy: {{ name: sobol }}\nbudget: 6\nseed: 4\nworkers: 2\n",
        script = dir.join("objective.sh").display(),
        pids = dir.join("pids").display(),
        slow = dir.join("slow").display(),
    )
}

fn setup() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("objective.sh"), SCRIPT).unwrap();
    std::fs::write(dir.path().join("run.yaml"), config(dir.path())).unwrap();
    dir
}

/// Whether `pid` is a live (not zombie) process.
fn alive(pid: i32) -> bool {
    match std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        // The state follows the command name in parentheses.
        Ok(stat) => stat.rsplit_once(')').is_some_and(|(_, rest)| !rest.trim_start().starts_with('Z')),
        Err(_) => false,
    }
}

fn pids(dir: &Path) -> Vec<i32> {
    std::fs::read_to_string(dir.join("pids"))
        .unwrap_or_default()
        .lines()
        .filter_map(|l| l.trim().parse().ok())
        .collect()
}

/// Waits until `f` holds, for at most `limit`.
fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    f()
}

/// Starts `les run` on the hanging objective and waits until two evaluations (each with its
/// sleeper) are in flight.
fn start_hanging(dir: &Path) -> Child {
    std::fs::write(dir.join("slow"), "").unwrap();
    let out = dir.join("run");
    let child = les()
        .args(["run", dir.join("run.yaml").to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    assert!(wait_until(Duration::from_secs(20), || pids(dir).len() >= 4), "two evaluations started: {:?}", pids(dir));
    child
}

fn signal(child: &Child, signal: &str) {
    let status = std::process::Command::new("kill").args(["-s", signal, &child.id().to_string()]).status().unwrap();
    assert!(status.success());
}

fn wait_exit(mut child: Child) -> (i32, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut stderr).unwrap();
            return (status.code().unwrap_or(-1), stderr);
        }
        assert!(start.elapsed() < Duration::from_secs(15), "les did not exit within 15 s of the signal");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `(trial, x, y)` of every evaluation, sorted by trial.
fn evaluations(dir: &Path) -> Vec<(usize, Vec<f64>, Option<f64>)> {
    let mut e: Vec<_> = read_journal_unchanged::<EvaluationRecord>(&dir.join(EVALUATIONS_FILE))
        .unwrap()
        .records
        .into_iter()
        .map(|r| (r.trial.unwrap(), r.x, r.y))
        .collect();
    e.sort_by_key(|r| r.0);
    e
}

/// An uninterrupted run of the same config.
fn reference() -> Vec<(usize, Vec<f64>, Option<f64>)> {
    let dir = setup();
    let out = dir.path().join("run");
    let (code, _, stderr) =
        run(&["run", dir.path().join("run.yaml").to_str().unwrap(), "--out", out.to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    evaluations(&out)
}

fn resume_and_compare(dir: &Path) {
    std::fs::remove_file(dir.join("slow")).unwrap();
    let (code, _, stderr) = run(&["resume", dir.join("run").to_str().unwrap()]);
    assert_eq!(code, 0, "{stderr}");
    let resumed = evaluations(&dir.join("run"));
    assert_eq!(resumed, reference(), "the resumed run has the evaluations of an uninterrupted one");
}

fn interrupt_with(name: &str, expected_code: i32) {
    let dir = setup();
    let child = start_hanging(dir.path());
    let started = pids(dir.path());
    signal(&child, name);
    let (code, stderr) = wait_exit(child);
    assert_eq!(code, expected_code, "{stderr}");
    assert!(stderr.contains(&format!("interrupted ({name})")) && stderr.contains("les resume"), "{stderr}");
    for pid in started {
        assert!(!alive(pid), "evaluation process {pid} survived {name}");
    }
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run/summary.json")).unwrap()).unwrap();
    assert_eq!(summary["stop_reason"], format!("interrupted ({name})"));
    assert!(evaluations(&dir.path().join("run")).is_empty(), "the interrupted evaluations are not told");
    resume_and_compare(dir.path());
}

#[test]
fn sigint_stops_the_run_kills_its_evaluations_and_exits_130() {
    interrupt_with("SIGINT", 130);
}

#[test]
fn sigterm_stops_the_run_and_exits_143() {
    interrupt_with("SIGTERM", 143);
}

#[test]
fn kill_9_leaves_no_evaluation_process_behind() {
    let dir = setup();
    let child = start_hanging(dir.path());
    let started = pids(dir.path());
    signal(&child, "KILL");
    let _ = wait_exit(child);
    for pid in started {
        assert!(wait_until(Duration::from_secs(5), || !alive(pid)), "evaluation process {pid} outlived les");
    }
    resume_and_compare(dir.path());
}

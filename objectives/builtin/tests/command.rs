//! Command objectives through the registry: success in both output forms, the environment,
//! a timeout that kills the whole process group, garbage output, a non-zero exit with the tail
//! of stderr, non-finite values and missing programs. Scripts run with `sh` and `python3`.

#![cfg(unix)]

use std::path::Path;

use les_core::params::Params;
use les_core::registry::{self, BuildContext, Built, PluginError};
use les_core::{Bounds, Objective, ObjectiveError};
use les_objectives::command::CommandObjective;
use serde_json::{Value, json};

fn build(block: Value) -> Result<Built<dyn Objective>, PluginError> {
    registry::build::<dyn Objective>(
        "command",
        "objective.command",
        &Params::new(block, "objective"),
        &BuildContext::default(),
    )
}

fn objective(block: Value) -> Box<dyn Objective> {
    build(block).expect("builds").component
}

fn failure(result: Result<f64, ObjectiveError>) -> String {
    match result {
        Err(ObjectiveError::Failed(message)) => message,
        other => panic!("expected a failed evaluation, got {other:?}"),
    }
}

fn sh(script: &str) -> Value {
    json!(["sh", "-c", script])
}

fn write_script(dir: &Path, name: &str, text: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, text).expect("write script");
    path.to_str().expect("utf-8 path").to_owned()
}

/// The Python objective of `objectives/README.md` (its first python block): prints
/// `Σ (xᵢ − 0.5)²` and logs to stderr.
fn readme_python() -> String {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README");
    let start = readme.find("```python\n").expect("README has a python block") + "```python\n".len();
    let len = readme[start..].find("```").expect("closed block");
    readme[start..start + len].to_owned()
}

#[test]
fn python_script_gets_x_on_stdin_and_prints_the_value() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = write_script(dir.path(), "objective.py", &readme_python());
    let built =
        build(json!({"command": ["python3", script], "bounds": {"lower": [-1, -2, -3], "upper": 4}})).expect("builds");
    assert_eq!(built.resolved["dim"], json!(3));
    assert_eq!(built.resolved["bounds"], json!({"lower": [-1.0, -2.0, -3.0], "upper": [4.0, 4.0, 4.0]}));
    let f = built.component;
    assert_eq!(f.info().bounds, Bounds::new(vec![-1.0, -2.0, -3.0], vec![4.0; 3]).expect("valid"));
    for x in [[0.5, 0.5, 0.5], [1.0, -1.5, 3.25], [0.1, 0.2, 0.3]] {
        let expected: f64 = x.iter().map(|v| (v - 0.5) * (v - 0.5)).sum();
        let y = f.evaluate(&x).expect("evaluates");
        assert!((y - expected).abs() <= 1e-12, "{y} vs {expected}");
    }
    assert_eq!(f.evaluate(&[0.0]), Err(ObjectiveError::Dimension { got: 1, expected: 3 }));
}

#[test]
fn readme_yaml_config_loads() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../README.md")).expect("README");
    let yaml = readme.split("```yaml\n").nth(3).expect("third yaml block: the command");
    let yaml = &yaml[..yaml.find("```").expect("closed block")];
    let dir = tempfile::tempdir().expect("temp dir");
    let script = write_script(dir.path(), "objective.py", &readme_python());
    assert!(yaml.contains("[python3, objective.py]"), "{yaml}");
    let text = format!(
        "{}strategy: {{ name: random }}\nbudget: 3\nseed: 1\n",
        yaml.replace("[python3, objective.py]", &format!("[python3, '{script}']"))
    );
    let config = les_core::config::LoadedConfig::from_str(Path::new("README.md"), &text, &Default::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    let (f, resolved) = config.build_objective().unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!(f.info().bounds, Bounds::new(vec![-1.0, -2.0, -3.0], vec![4.0; 3]).expect("valid"));
    assert_eq!(resolved["timeout_s"], json!(600.0));
    assert_eq!(resolved["env"], json!({"OMP_NUM_THREADS": "1"}));
    assert_eq!(f.evaluate(&[0.5, 1.5, 0.5]), Ok(1.0));
}

#[test]
fn json_output_last_line_and_env() {
    let f = objective(json!({"command": sh("echo working >&2; echo 'progress 1/1'; echo '{\"y\": 2.5}'"), "dim": 2}));
    assert_eq!(f.info().bounds, Bounds::unit(2), "bounds default to the unit cube");
    assert_eq!(f.evaluate(&[0.1, 0.2]), Ok(2.5));

    let f = objective(json!({"command": sh("echo \"$LES_TEST_SCALE\""), "dim": 1, "env": {"LES_TEST_SCALE": "-4.5"}}));
    assert_eq!(f.evaluate(&[0.3]), Ok(-4.5));
}

#[test]
fn concurrent_evaluations_each_get_their_own_process() {
    let dir = tempfile::tempdir().expect("temp dir");
    let script = write_script(dir.path(), "objective.py", &readme_python());
    let f = objective(json!({"command": ["python3", script], "dim": 2}));
    let f = f.as_ref();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..3)
            .map(|i| {
                s.spawn(move || {
                    let x = [f64::from(i) * 0.25, 0.75];
                    (x, f.evaluate(&x))
                })
            })
            .collect();
        for h in handles {
            let (x, y) = h.join().expect("thread");
            let expected = (x[0] - 0.5).powi(2) + (x[1] - 0.5).powi(2);
            assert!((y.expect("evaluates") - expected).abs() < 1e-12);
        }
    });
}

#[test]
fn a_timeout_kills_the_command_and_what_it_started() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pid_file = dir.path().join("sleeper.pid");
    // The shell starts a background sleeper, records its pid, and waits for it.
    let script = format!("echo started >&2; sleep 30 & echo $! > '{}'; wait", pid_file.display());
    let f = objective(json!({"command": sh(&script), "dim": 1, "timeout_s": 0.5}));
    let message = failure(f.evaluate(&[0.5]));
    assert!(message.contains("timed out after 0.5 s and was killed"), "{message}");
    assert!(message.contains("started"), "stderr tail included: {message}");

    let pid = std::fs::read_to_string(&pid_file).expect("pid written").trim().to_owned();
    // The background sleeper belongs to the killed process group; give the kernel a moment to
    // deliver the signal and init to reap it.
    let alive = || {
        std::process::Command::new("kill")
            .args(["-0", &pid])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    let mut tries = 0;
    while alive() && tries < 100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        tries += 1;
    }
    assert!(!alive(), "the background process {pid} survived the timeout");
}

#[test]
fn garbage_output_is_a_failure_naming_what_was_printed() {
    let f = objective(json!({"command": sh("echo 'the answer is 42'; echo 'some diagnostics' >&2"), "dim": 1}));
    let message = failure(f.evaluate(&[0.5]));
    assert!(message.contains("printed `the answer is 42` as the last line of stdout"), "{message}");
    assert!(message.contains("some diagnostics"), "{message}");
    assert!(message.contains("command `sh -c"), "names the command: {message}");

    let f = objective(json!({"command": sh("true"), "dim": 1}));
    assert!(failure(f.evaluate(&[0.5])).contains("printed nothing on stdout"));
}

#[test]
fn non_zero_exit_carries_the_tail_of_stderr() {
    let script = "i=0; while [ $i -lt 100 ]; do echo \"trace line $i\" >&2; i=$((i+1)); done; echo 1.0; exit 3";
    let f = objective(json!({"command": sh(script), "dim": 1}));
    let message = failure(f.evaluate(&[0.5]));
    assert!(message.contains("exited with status 3"), "{message}");
    assert!(message.contains("trace line 99"), "{message}");
    assert!(message.contains("trace line 80\n"), "{message}");
    assert!(!message.contains("trace line 79\n"), "only the last 20 lines: {message}");

    let f = objective(json!({"command": sh("kill -9 $$"), "dim": 1}));
    assert!(failure(f.evaluate(&[0.5])).contains("was killed by signal 9"));
}

#[test]
fn non_finite_values_are_reported_as_such() {
    let f = objective(json!({"command": sh("echo nan"), "dim": 1}));
    assert!(matches!(f.evaluate(&[0.5]), Err(ObjectiveError::NonFinite(v)) if v.is_nan()));
    let f = objective(json!({"command": sh("echo -inf"), "dim": 1}));
    assert_eq!(f.evaluate(&[0.5]), Err(ObjectiveError::NonFinite(f64::NEG_INFINITY)));
}

#[test]
fn missing_programs_fail_at_build_and_at_evaluation() {
    match build(json!({"command": ["les-no-such-program-anywhere", "--flag"], "dim": 1})) {
        Err(PluginError::Build { path, message }) => {
            assert_eq!(path, "objective.command");
            assert!(message.contains("program `les-no-such-program-anywhere` not found on PATH"), "{message}");
        }
        other => panic!("expected a build error, got {:?}", other.err()),
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("objective.sh");
    match build(json!({"command": [missing.to_str()], "dim": 1})) {
        Err(PluginError::Build { message, .. }) => assert!(message.contains("not found"), "{message}"),
        other => panic!("expected a build error, got {:?}", other.err()),
    }
    let not_executable = write_script(dir.path(), "plain.sh", "echo 1\n");
    match build(json!({"command": [not_executable], "dim": 1})) {
        Err(PluginError::Build { message, .. }) => assert!(message.contains("not an executable file"), "{message}"),
        other => panic!("expected a build error, got {:?}", other.err()),
    }

    // A program that disappears after the run was built.
    let f = CommandObjective::new(
        vec![missing.to_str().expect("utf-8").to_owned()],
        Bounds::unit(1),
        None,
        Default::default(),
    )
    .expect("constructs");
    let message = failure(f.evaluate(&[0.5]));
    assert!(message.contains("could not be started (not found"), "{message}");
}

#[test]
fn parameters_are_checked() {
    let param_error = |block: Value| match build(block) {
        Err(PluginError::Param(e)) => e,
        other => panic!("expected a param error, got {:?}", other.err()),
    };
    assert_eq!(param_error(json!({"command": [], "dim": 1})).path, "objective.command");
    assert_eq!(param_error(json!({"command": ["sh"]})).path, "objective.dim");
    assert_eq!(param_error(json!({"command": ["sh"], "dim": 1, "timeout_s": 0})).path, "objective.timeout_s");
    assert_eq!(param_error(json!({"command": ["sh"], "dim": 1, "timout_s": 1})).path, "objective.timout_s");
    let e = param_error(json!({"command": ["sh"], "dim": 2, "bounds": {"lower": [0, 0, 0], "upper": 1}}));
    assert_eq!(e.path, "objective.bounds.lower");
    let e = param_error(json!({"command": ["sh"], "bounds": {"lower": [1], "upper": [0]}}));
    assert_eq!(e.path, "objective.bounds");
    assert!(e.message.contains("not below"), "{}", e.message);
}

/// In a run, the command learns its trial, the run seed and the run directory (stdin and
/// environment), and its stderr is kept per trial in the run directory.
#[test]
fn a_trial_knows_its_run_and_keeps_its_stderr() {
    let tmp = tempfile::tempdir().unwrap();
    let f = objective(json!({
        "command": sh("read line; echo \"$line\" >&2; echo \"env $LES_TRIAL $LES_SEED $LES_RUN_DIR\" >&2; echo $LES_TRIAL"),
        "dim": 1,
    }));
    let ctx =
        les_core::EvaluationContext { trial: 7, seed: 42, run_dir: Some(tmp.path().to_owned()), ..Default::default() };
    assert_eq!(f.evaluate_in(&[0.5], &ctx).unwrap(), 7.0);
    let log = std::fs::read_to_string(tmp.path().join("logs/trial-7.stderr")).unwrap();
    let first: Value = serde_json::from_str(log.lines().next().unwrap()).unwrap();
    assert_eq!(first, json!({"x": [0.5], "trial": 7, "seed": 42, "run_dir": tmp.path().to_string_lossy()}));
    assert_eq!(log.lines().nth(1).unwrap(), format!("env 7 42 {}", tmp.path().display()));
    // A failure says where the whole stderr is.
    let fails = objective(json!({ "command": sh("echo broken >&2; exit 3"), "dim": 1 }));
    let ctx = les_core::EvaluationContext { trial: 8, ..ctx };
    let message = failure(fails.evaluate_in(&[0.5], &ctx));
    assert!(message.contains("exited with status 3") && message.contains("trial-8.stderr"), "{message}");
    // Outside a run only the point is sent.
    let plain = objective(json!({ "command": sh("read line; test \"$line\" = '{\"x\":[0.5]}' && echo 1"), "dim": 1 }));
    assert_eq!(plain.evaluate(&[0.5]).unwrap(), 1.0);
}

#[test]
fn the_timeout_defaults_to_an_hour_and_null_lifts_it() {
    let resolved_timeout = |objective: &str| {
        let text = format!("objective: {objective}\nstrategy: {{ name: random }}\nbudget: 4\nseed: 1\n");
        let config = les_core::config::LoadedConfig::from_str(Path::new("t.yaml"), &text, &Default::default())
            .unwrap_or_else(|e| panic!("{e}"));
        config.build_objective().unwrap_or_else(|e| panic!("{e}")).1["timeout_s"].clone()
    };
    assert_eq!(resolved_timeout("{ command: [sh], dim: 1 }"), json!(3600.0));
    assert_eq!(resolved_timeout("{ command: [sh], dim: 1, timeout_s: null }"), json!(null));
    assert_eq!(resolved_timeout("{ command: [sh], dim: 1, timeout_s: 5 }"), json!(5.0));
}

#[test]
fn a_cancelled_evaluation_kills_its_group_and_says_interrupted() {
    let dir = tempfile::tempdir().expect("temp dir");
    let pid_file = dir.path().join("sleeper.pid");
    let script = format!("sleep 30 & echo $! > '{}'; wait", pid_file.display());
    let f = objective(json!({"command": sh(&script), "dim": 1}));
    let ctx = les_core::EvaluationContext::default();
    let cancel = ctx.cancel.clone();
    let started = std::time::Instant::now();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(300));
        cancel.cancel();
    });
    assert_eq!(f.evaluate_in(&[0.5], &ctx), Err(les_core::ObjectiveError::Interrupted));
    canceller.join().expect("joins");
    assert!(started.elapsed() < std::time::Duration::from_secs(10), "the cancel ended the wait");
    let pid = std::fs::read_to_string(&pid_file).expect("pid written").trim().to_owned();
    let stat = || std::fs::read_to_string(format!("/proc/{pid}/stat")).ok();
    let mut tries = 0;
    while stat().is_some_and(|s| !s.contains(") Z")) && tries < 100 {
        std::thread::sleep(std::time::Duration::from_millis(50));
        tries += 1;
    }
    assert!(stat().is_none_or(|s| s.contains(") Z")), "the background sleeper {pid} survived the cancel");
}

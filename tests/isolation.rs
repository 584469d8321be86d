//! A library that segfaults in some evaluations, run by `les run` with `workers: 2` and
//! `on_error: skip`: the crashes are failed evaluations naming the signal, the others succeed,
//! and the run ends normally (the library runs in child processes, `isolate: true`).
#![cfg(target_os = "linux")]

mod common;

use common::{repo, run};
use les_core::journal::{EVALUATIONS_FILE, EvaluationRecord, read_journal_unchanged};

/// Crashes (NULL dereference) when x0 > 0.6; otherwise Σ xᵢ².
const CRASHY_C: &str = include_str!("data/crashy.c");

#[test]
fn a_segfaulting_library_under_on_error_skip_fails_single_evaluations() {
    let dir = tempfile::tempdir().unwrap();
    let source = dir.path().join("crashy.c");
    std::fs::write(&source, CRASHY_C).unwrap();
    let lib = dir.path().join("libcrashy.so");
    let include = repo().join("objectives/abi/include");
    let status = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-O1", "-o"])
        .arg(&lib)
        .arg(&source)
        .arg("-I")
        .arg(&include)
        .status()
        .expect("a C compiler (cc) runs");
    assert!(status.success(), "cc failed");
    let config = dir.path().join("run.yaml");
    std::fs::write(
        &config,
        format!(
            "objective: {{ library: {} }}\nstrategy: {{ name: sobol }}\nbudget: 12\nseed: 2\nworkers: 2\non_error: skip\n",
            lib.display()
        ),
    )
    .unwrap();
    let out = dir.path().join("run");
    let (code, stdout, stderr) = run(&["run", config.to_str().unwrap(), "--out", out.to_str().unwrap(), "--quiet"]);
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let records: Vec<EvaluationRecord> = read_journal_unchanged(&out.join(EVALUATIONS_FILE)).unwrap().records;
    assert_eq!(records.len(), 12);
    let mut trials: Vec<_> = records.iter().map(|r| r.trial.unwrap()).collect();
    trials.sort_unstable();
    trials.dedup();
    assert_eq!(trials.len(), 12, "unique trials");
    for r in &records {
        if r.x[0] > 0.6 {
            let e = r.error.as_deref().unwrap_or_default();
            assert!(e.contains("was killed by signal 11") && e.contains("too large"), "{e}");
        } else {
            assert_eq!(r.y, Some(r.x[0] * r.x[0] + r.x[1] * r.x[1]), "{r:?}");
        }
    }
    assert!(records.iter().any(|r| r.error.is_some()) && records.iter().any(|r| r.y.is_some()));
}

//! objectives/examples/slurm runs as documented: locally without Slurm, and through `srun`
//! when it is on PATH (a stand-in `srun` that logs its arguments and runs the step here).
#![cfg(unix)]

mod common;

use common::{les, repo};
use les_core::journal::{EVALUATIONS_FILE, EvaluationRecord, read_journal_unchanged};
use std::path::Path;

/// Runs the example with `path` as PATH and budget 8; the journal's records.
fn run_example(out: &Path, path: &str) -> Vec<EvaluationRecord> {
    let output = les()
        .current_dir(repo())
        .env("PATH", path)
        .args(["run", "objectives/examples/slurm/slurm.yaml", "--budget", "8", "--quiet", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let records: Vec<EvaluationRecord> = read_journal_unchanged(&out.join(EVALUATIONS_FILE)).unwrap().records;
    assert_eq!(records.len(), 8);
    for r in &records {
        let expected: f64 = r.x.iter().map(|x| (x - 0.3).powi(2)).sum();
        let y = r.y.unwrap_or_else(|| panic!("trial {:?} failed: {:?}", r.trial, r.error));
        assert!((y - expected).abs() < 1e-5, "trial {:?}: {y} vs {expected}", r.trial);
        assert!(out.join(format!("trials/{}/input.json", r.trial.unwrap())).exists());
    }
    records
}

#[test]
fn the_slurm_example_runs_locally_without_slurm() {
    let dir = tempfile::tempdir().unwrap();
    let system_path = std::env::var("PATH").unwrap();
    assert!(
        !system_path.split(':').any(|d| Path::new(d).join("srun").exists()),
        "this test needs a machine without Slurm"
    );
    run_example(&dir.path().join("run"), &system_path);
}

#[test]
fn the_slurm_example_submits_each_evaluation_with_srun() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    let log = dir.path().join("srun.log");
    // Logs its arguments, drops the options, runs the step.
    let fake = format!(
        "#!/bin/sh\necho \"$@\" >> '{}'\nwhile [ $# -gt 0 ]; do case \"$1\" in --*) shift ;; *) break ;; esac; done\nexec \"$@\"\n",
        log.display()
    );
    std::fs::write(bin.join("srun"), fake).unwrap();
    let mut permissions = std::fs::metadata(bin.join("srun")).unwrap().permissions();
    std::os::unix::fs::PermissionsExt::set_mode(&mut permissions, 0o755);
    std::fs::set_permissions(bin.join("srun"), permissions).unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let records = run_example(&dir.path().join("run"), &path);
    let logged = std::fs::read_to_string(&log).unwrap();
    assert_eq!(logged.lines().count(), records.len(), "one srun per evaluation:\n{logged}");
    for r in &records {
        assert!(logged.contains(&format!("--job-name=les-trial-{} ", r.trial.unwrap())), "{logged}");
    }
}

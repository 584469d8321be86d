//! examples/plugin-crate, a package outside the workspace that adds plugins to les, builds; its
//! binary lists its plugins and runs a config that uses them; its plugins pass the
//! conformance harness. Built with this test run's target directory, so what the workspace
//! compiled already (third-party crates) is reused.

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The target directory of this test run: `CARGO_TARGET_DIR`, else the one holding the `les`
/// binary (`<target>/debug/les`).
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) => PathBuf::from(dir),
        None => Path::new(env!("CARGO_BIN_EXE_les")).ancestors().nth(2).expect("target/debug/les").to_owned(),
    }
}

fn cargo(args: &[&str]) -> std::process::Output {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    Command::new(cargo)
        .args(args)
        .arg("--manifest-path")
        .arg(root().join("examples/plugin-crate/Cargo.toml"))
        .arg("--offline")
        .env("CARGO_TARGET_DIR", target_dir())
        .current_dir(root())
        .output()
        .expect("cargo runs")
}

#[test]
fn the_example_plugin_crate_builds_lists_and_runs_its_plugins() {
    let built = cargo(&["build"]);
    assert!(built.status.success(), "build failed:\n{}", String::from_utf8_lossy(&built.stderr));
    let bin = target_dir().join("debug").join("les-plugin-example");

    let list = Command::new(&bin).arg("list").output().expect("the example binary runs");
    let stdout = String::from_utf8_lossy(&list.stdout);
    assert!(list.status.success(), "{}", String::from_utf8_lossy(&list.stderr));
    for (kind, name) in [("\ninner_optimizer:\n", "nesterov"), ("\nacquisition:\n", "support_variance")] {
        let section = stdout.split(kind).nth(1).expect("the kind is listed");
        let section = section.split(":\n").next().unwrap_or(section);
        assert!(section.lines().any(|l| l.trim_start().starts_with(name)), "{name} not under {kind}:\n{stdout}");
    }
    assert!(stdout.contains("adam") && stdout.contains("mutual_information"), "les's own plugins too:\n{stdout}");

    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("run");
    let run = Command::new(&bin)
        .args(["run", "examples/plugin-crate/configs/nesterov.yaml", "--quiet", "--out"])
        .arg(&out)
        .current_dir(root())
        .output()
        .expect("the example binary runs");
    assert!(run.status.success(), "{}", String::from_utf8_lossy(&run.stderr));
    let config = std::fs::read_to_string(out.join("config.yaml")).expect("resolved config");
    assert!(config.contains("nesterov") && config.contains("support_variance"), "{config}");
    let evaluations = std::fs::read_to_string(out.join("evaluations.jsonl")).expect("journal");
    assert_eq!(evaluations.lines().count(), 8, "the budget of the config");

    let tested = cargo(&["test"]);
    assert!(
        tested.status.success(),
        "the example's conformance test failed:\n{}{}",
        String::from_utf8_lossy(&tested.stdout),
        String::from_utf8_lossy(&tested.stderr)
    );
}

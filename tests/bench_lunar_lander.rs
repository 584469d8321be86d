//! The Lunar Lander command objective (objectives/examples/lunar-lander/): two evaluations of
//! two episodes each. Ignored by default (it needs Python with Gymnasium and Box2D); where they
//! are installed, run it with `--ignored`.

use std::path::PathBuf;
use std::process::{Command, Stdio};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn gymnasium_available() -> bool {
    Command::new("python3")
        .args(["-c", "import gymnasium; gymnasium.make('LunarLander-v3')"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
#[ignore = "needs python3 with gymnasium[box2d] (LunarLander-v3): `pip install \"gymnasium[box2d]\"`, then `cargo test --test bench_lunar_lander -- --ignored`"]
fn lunar_lander_runs_two_evaluations() {
    assert!(
        gymnasium_available(),
        "python3 cannot make LunarLander-v3: install it with `pip install \"gymnasium[box2d]\"`"
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("ll");
    let config = repo().join("objectives/examples/lunar-lander/lunar-lander.yaml");
    let output = Command::new(env!("CARGO_BIN_EXE_les"))
        .current_dir(repo())
        .env("LES_LUNAR_EPISODES", "2")
        .args(["run", config.to_str().unwrap(), "--budget", "2", "--out", out.to_str().unwrap(), "--quiet"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    let evaluations = std::fs::read_to_string(out.join("evaluations.jsonl")).unwrap();
    assert_eq!(evaluations.lines().count(), 2);
    for line in evaluations.lines() {
        let record: serde_json::Value = serde_json::from_str(line).unwrap();
        let y = record["y"].as_f64().expect("a value");
        // Total rewards of an episode lie in about [−1000, 350] (crash −100, landing +100…140,
        // engine costs); the mean over episodes too.
        assert!((-400.0..=1000.0).contains(&y), "{line}");
    }
}

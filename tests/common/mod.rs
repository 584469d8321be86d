//! Running the `les` binary from the end-to-end tests.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// The binary under test.
pub fn les() -> Command {
    Command::new(env!("CARGO_BIN_EXE_les"))
}

/// Runs `les ARGS`: exit code, stdout, stderr.
pub fn run(args: &[&str]) -> (i32, String, String) {
    finish(les().args(args))
}

/// `run` with `cwd` as the current directory.
pub fn run_in(cwd: &Path, args: &[&str]) -> (i32, String, String) {
    finish(les().args(args).current_dir(cwd))
}

fn finish(command: &mut Command) -> (i32, String, String) {
    let out = command.output().expect("the les binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

//! `les bench`: benchmark suites (placeholder until the suite runner lands).

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `les bench`.
#[derive(clap::Args)]
pub struct BenchArgs {
    /// The suite file (YAML).
    pub suite: PathBuf,
}

/// Runs `les bench`.
pub fn main(args: BenchArgs) -> ExitCode {
    eprintln!("error: `les bench {}` is not implemented yet", args.suite.display());
    ExitCode::from(2)
}

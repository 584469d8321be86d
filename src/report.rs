//! `les report`: summaries of run directories (placeholder until the report writer lands).

use std::path::PathBuf;
use std::process::ExitCode;

/// Arguments of `les report`.
#[derive(clap::Args)]
pub struct ReportArgs {
    /// Directory holding run directories (searched recursively).
    pub dir: PathBuf,
}

/// Runs `les report`.
pub fn main(args: ReportArgs) -> ExitCode {
    eprintln!("error: `les report {}` is not implemented yet", args.dir.display());
    ExitCode::from(2)
}

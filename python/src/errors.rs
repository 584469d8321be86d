//! Rust errors as Python exceptions. The message is the text the CLI prints after `error: `
//! (file, line, key path, value, what was expected); the exception type says what kind of
//! mistake it is:
//! - `ValueError`: a bad config, argument or tell (the CLI's exit code 2);
//! - `FileExistsError` / `FileNotFoundError`: a fresh run into a directory that holds one, a
//!   resume of a directory that holds none;
//! - `OSError`: reading or writing a file failed;
//! - `RuntimeError`: the run cannot go on (in use by another process, an inconsistent journal,
//!   a strategy failure).

use les_core::config::ConfigError;
use les_core::runner::RunError;
use les_core::study::StudyError;
use pyo3::PyErr;
use pyo3::exceptions::{PyFileExistsError, PyFileNotFoundError, PyOSError, PyRuntimeError, PyValueError};

/// A config error: `ValueError` with the located message.
pub fn config_error(e: ConfigError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// A run error by its kind.
pub fn run_error(e: RunError) -> PyErr {
    let message = e.to_string();
    match e {
        RunError::Config(_)
        | RunError::ResumeMismatch { .. }
        | RunError::BudgetBelowJournal { .. }
        | RunError::BadOutput { .. }
        | RunError::ForeignFile { .. }
        | RunError::JournalWithoutConfig(_) => PyValueError::new_err(message),
        RunError::OutputExists(_) => PyFileExistsError::new_err(message),
        RunError::NothingToResume(_) => PyFileNotFoundError::new_err(message),
        RunError::Io { .. } => PyOSError::new_err(message),
        RunError::Journal(_)
        | RunError::Locked(_)
        | RunError::Inconsistent { .. }
        | RunError::ResumeDiverged { .. } => PyRuntimeError::new_err(message),
    }
}

/// A study error by its kind.
pub fn study_error(e: StudyError) -> PyErr {
    match e {
        StudyError::Run(e) => run_error(e),
        StudyError::UnknownTrial { .. }
        | StudyError::AlreadyTold { .. }
        | StudyError::NonFinite { .. }
        | StudyError::BadObservation(_)
        | StudyError::Finished { .. } => PyValueError::new_err(e.to_string()),
        StudyError::ReadOnly | StudyError::Strategy(_) => PyRuntimeError::new_err(e.to_string()),
    }
}

//! Stopping a run from outside: a signal to the process, or a host (Python, a GUI) that wants
//! the run to end.
//!
//! Two sources, one check:
//! - a **process-wide shutdown request**, set by the `les` binary's SIGINT/SIGTERM handler
//!   through [`request_shutdown`] (an atomic store, safe in a signal handler);
//! - a **per-run [`Cancel`] token**, set by the runner when its observer reports an interrupt,
//!   and handed to every evaluation in its [`crate::EvaluationContext`].
//!
//! A long-running objective (a command, an isolated library) polls
//! [`Cancel::is_cancelled`] while it waits and then ends its processes and returns
//! [`crate::ObjectiveError::Interrupted`]. An interrupted evaluation is not told: its trial
//! stays pending in the journal and a resume evaluates it again, so nothing is lost.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};

/// The signal number of the first shutdown request, 0 while there is none.
static SHUTDOWN_SIGNAL: AtomicI32 = AtomicI32::new(0);

/// Asks every run in this process to stop, because of `signal` (its number; the exit code is
/// 128 + signal). Only an atomic store: callable from a signal handler. The first request wins.
pub fn request_shutdown(signal: i32) {
    let _ = SHUTDOWN_SIGNAL.compare_exchange(0, signal, Ordering::SeqCst, Ordering::SeqCst);
}

/// The signal of the process-wide shutdown request, if one was made.
pub fn shutdown_requested() -> Option<i32> {
    match SHUTDOWN_SIGNAL.load(Ordering::SeqCst) {
        0 => None,
        s => Some(s),
    }
}

/// The exit code of a process whose runs were interrupted: 128 + the signal of the shutdown
/// request (130 for SIGINT, 143 for SIGTERM), 130 when they were interrupted without one.
pub fn interrupted_exit_code() -> u8 {
    shutdown_requested().map_or(130, |s| (128 + s).clamp(0, 255) as u8)
}

/// A run's cancellation token: cheap to clone, every clone sees the same state.
#[derive(Clone, Debug, Default)]
pub struct Cancel(Arc<AtomicBool>);

impl Cancel {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancels the run: every evaluation holding a clone stops at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::SeqCst);
    }

    /// Whether this run was cancelled or the process was asked to shut down.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::SeqCst) || shutdown_requested().is_some()
    }
}

/// A signal's conventional name, for messages ("SIGINT").
pub fn signal_name(signal: i32) -> String {
    match signal {
        1 => "SIGHUP".to_owned(),
        2 => "SIGINT".to_owned(),
        15 => "SIGTERM".to_owned(),
        s => format!("signal {s}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_shared_by_its_clones() {
        let a = Cancel::new();
        let b = a.clone();
        let other = Cancel::new();
        // The process-wide request is left alone here: other tests in this binary run runs.
        assert!(!a.is_cancelled() || shutdown_requested().is_some());
        b.cancel();
        assert!(a.is_cancelled());
        assert!(!other.0.load(Ordering::SeqCst));
    }
}

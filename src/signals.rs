//! SIGINT and SIGTERM end a run cleanly: the handler only records the signal (see
//! [`les_core::cancel`]); the runner then stops asking, ends the evaluations in flight (a
//! command's whole process group), leaves their trials pending, writes the summary, and `les`
//! exits with 128 + the signal (130, 143). A second signal of either kind ends `les` at once,
//! the default action restored by `SA_RESETHAND`; the evaluation processes then die with it
//! through their parent-death signal (see the command objective).

/// Installs the handlers (Unix; elsewhere Ctrl-C keeps its default action).
pub fn install() {
    #[cfg(unix)]
    for signal in [libc::SIGINT, libc::SIGTERM] {
        // SAFETY: `on_signal` only performs an atomic store, which is async-signal-safe; the
        // `sigaction` struct is fully initialised (zeroed, then the fields we set) and lives
        // across the call.
        unsafe {
            let mut action: libc::sigaction = std::mem::zeroed();
            action.sa_sigaction = on_signal as extern "C" fn(libc::c_int) as libc::sighandler_t;
            action.sa_flags = libc::SA_RESETHAND | libc::SA_RESTART;
            libc::sigemptyset(&mut action.sa_mask);
            libc::sigaction(signal, &action, std::ptr::null_mut());
        }
    }
}

#[cfg(unix)]
extern "C" fn on_signal(signal: libc::c_int) {
    // Once one signal has been taken, the other one also ends les at once.
    les_core::cancel::request_shutdown(signal);
    let other = if signal == libc::SIGINT { libc::SIGTERM } else { libc::SIGINT };
    // SAFETY: `signal(2)` is async-signal-safe; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(other, libc::SIG_DFL);
    }
}

/// The exit code of a run interrupted by the process-wide request (130 when the caller
/// interrupted it without a signal).
pub fn exit_code() -> u8 {
    les_core::cancel::interrupted_exit_code()
}

//! Library objectives in a child process (`isolate: true`, the default): a segfault, an
//! `abort()` or an `exit()` in the user's library ends that process, not `les`.
//!
//! `les` starts a **server** process, the `les` binary itself with the hidden first argument
//! [`SERVER_ARG`] (see [`server_command`] for other hosts). The server loads the library with
//! the in-process loader ([`crate::library::LibraryObjective`]), so every check and message is
//! the same, and answers one JSON line per request on its private copy of stdout; the
//! library's own stdout is sent to stderr, so a `printf` cannot garble the answers.
//!
//! ```text
//! les → server   {"library": PATH, "params": {...}, "dim": D}         once
//! server → les   {"ready": {"lower": [...], "upper": [...], "has_gradient": B}} | {"error": MESSAGE}
//! les → server   {"x": [...], "gradient": false}                     per evaluation
//! server → les   {"y": Y} | {"y": Y, "g": [...]} | {"failed": MESSAGE} | {"non_finite": "NaN"}
//! ```
//!
//! Numbers cross as JSON with round-trip precision, so an isolated evaluation returns the same
//! bits as an in-process one. A server that dies during an evaluation makes that evaluation
//! fail with how it died ("was killed by signal 11 (SIGSEGV)", "exited with status 0: the
//! library called exit()") and the tail of its stderr, for the run's `on_error` policy; the
//! next evaluation starts a new server. Concurrent evaluations (`workers > 1`) each use a
//! server of their own, started on demand and kept for the next evaluation, so a library needs
//! no thread safety in this mode. Servers die with `les` ([`crate::process`]), and an
//! interrupted run kills the ones evaluating.

use std::ffi::OsString;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::sync::{Arc, Mutex};

use les_core::cancel::Cancel;
use les_core::{Bounds, EvaluationContext, Objective, ObjectiveError, ObjectiveInfo};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::command::stderr_tail;
use crate::library::LibraryObjective;
use crate::process;

/// The first argument that makes a host binary serve a library instead of doing its own work.
pub const SERVER_ARG: &str = "__les-objective-server";

/// At most this many trailing bytes of a server's stderr are kept for error messages.
const STDERR_KEEP: usize = 8192;

/// The command other than `[current_exe, SERVER_ARG]` that starts a server, when a host set
/// one.
static SERVER_OVERRIDE: Mutex<Option<Vec<OsString>>> = Mutex::new(None);

/// Sets the command that starts a server (program and arguments). For hosts whose own
/// executable cannot serve (an interpreter embedding les, a test harness); the program must
/// end up calling [`serve`] with the protocol on its stdin and stdout.
pub fn set_server_command(command: Vec<OsString>) {
    *SERVER_OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()) = Some(command);
}

/// The command that starts a server: the one set by [`set_server_command`], else the current
/// executable with [`SERVER_ARG`] (which `les::main` answers by calling [`serve`]).
pub fn server_command() -> Result<Vec<OsString>, String> {
    if let Some(command) = SERVER_OVERRIDE.lock().unwrap_or_else(|p| p.into_inner()).clone() {
        return Ok(command);
    }
    let exe = std::env::current_exe().map_err(|e| format!("cannot find the les executable to start: {e}"))?;
    Ok(vec![exe.into_os_string(), SERVER_ARG.into()])
}

/// Serves and exits when this process was started as a server (its first argument is
/// [`SERVER_ARG`]); returns otherwise. A binary that embeds les and wants isolated libraries
/// calls this first thing in `main` (`les::main` does).
pub fn serve_if_requested() {
    if std::env::args_os().nth(1).is_some_and(|a| a == SERVER_ARG) {
        std::process::exit(serve());
    }
}

/// The first request: which library to load.
#[derive(Debug, Serialize, Deserialize)]
struct Setup {
    library: PathBuf,
    params: Value,
    dim: Option<usize>,
}

/// The answer to [`Setup`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum SetupReply {
    Ready { lower: Vec<f64>, upper: Vec<f64>, has_gradient: bool },
    Error(String),
}

/// One evaluation.
#[derive(Debug, Serialize, Deserialize)]
struct Request {
    x: Vec<f64>,
    gradient: bool,
}

/// The answer to a [`Request`].
#[derive(Debug, Serialize, Deserialize)]
#[serde(untagged)]
enum Reply {
    Value { y: f64, g: Option<Vec<f64>> },
    Failed { failed: String },
    NonFinite { non_finite: String },
}

/// The server's side: reads the setup and the requests on stdin, answers on stdout, until
/// stdin closes. Returns the exit code.
pub fn serve() -> i32 {
    let (input, mut output) = match protocol_streams() {
        Ok(streams) => streams,
        Err(e) => {
            eprintln!("les objective server: cannot set up its streams: {e}");
            return 2;
        }
    };
    let mut lines = BufReader::new(input).lines();
    let Some(Ok(first)) = lines.next() else { return 0 };
    let objective = match serde_json::from_str::<Setup>(&first) {
        Ok(setup) => LibraryObjective::load(&setup.library, &setup.params, setup.dim).map_err(|e| e.to_string()),
        Err(e) => Err(format!("les objective server: unreadable setup line: {e}")),
    };
    let objective = match objective {
        Ok(objective) => {
            let bounds = &objective.info().bounds;
            let ready = SetupReply::Ready {
                lower: bounds.lower.clone(),
                upper: bounds.upper.clone(),
                has_gradient: objective.has_gradient(),
            };
            if !send(&mut output, &ready) {
                return 0;
            }
            objective
        }
        Err(message) => {
            send(&mut output, &SetupReply::Error(message));
            return 0;
        }
    };
    for line in lines {
        let Ok(line) = line else { return 0 };
        let reply = match serde_json::from_str::<Request>(&line) {
            Ok(request) => answer(&objective, &request),
            Err(e) => Reply::Failed { failed: format!("les objective server: unreadable request: {e}") },
        };
        if !send(&mut output, &reply) {
            return 0;
        }
    }
    0
}

/// Writes one protocol message as a JSON line; `false` when les has gone.
fn send<T: Serialize>(output: &mut impl Write, value: &T) -> bool {
    let line = serde_json::to_string(value)
        .unwrap_or_else(|e| serde_json::json!({ "failed": format!("cannot encode the answer: {e}") }).to_string());
    output.write_all(line.as_bytes()).and_then(|_| output.write_all(b"\n")).and_then(|_| output.flush()).is_ok()
}

fn answer(objective: &LibraryObjective, request: &Request) -> Reply {
    match objective.evaluate(&request.x) {
        Ok(y) => {
            let g = if request.gradient { objective.gradient(&request.x) } else { None };
            Reply::Value { y, g }
        }
        Err(ObjectiveError::NonFinite(v)) => Reply::NonFinite { non_finite: v.to_string() },
        Err(e) => Reply::Failed { failed: e.to_string() },
    }
}

/// The protocol's stdin and stdout: private copies of fd 0 and 1, after which fd 0 reads
/// nothing and fd 1 goes to stderr (what the library prints cannot reach the protocol).
#[cfg(unix)]
fn protocol_streams() -> std::io::Result<(std::fs::File, std::fs::File)> {
    use std::os::fd::FromRawFd;
    // SAFETY: dup/dup2/open on the standard descriptors, each checked; the new descriptors are
    // owned by the returned files only.
    unsafe {
        let input = libc::dup(0);
        let output = libc::dup(1);
        if input < 0 || output < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDONLY);
        if null < 0 || libc::dup2(null, 0) < 0 || libc::dup2(2, 1) < 0 {
            return Err(std::io::Error::last_os_error());
        }
        libc::close(null);
        Ok((std::fs::File::from_raw_fd(input), std::fs::File::from_raw_fd(output)))
    }
}

#[cfg(not(unix))]
fn protocol_streams() -> std::io::Result<(std::fs::File, std::fs::File)> {
    Err(std::io::Error::other("isolated library objectives need Unix; set `isolate: false`"))
}

/// One running server.
struct Server {
    child: Child,
    /// `None` once closed (which asks the server to destroy its instance and exit).
    to: Option<ChildStdin>,
    from: BufReader<ChildStdout>,
    stderr: Arc<Mutex<Vec<u8>>>,
}

/// How long a server may take to destroy its instance and exit after its stdin closed.
const SHUTDOWN_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

impl Drop for Server {
    fn drop(&mut self) {
        // Closing stdin ends the server's loop: it destroys the instance (the library's
        // `destroy` runs, as in process) and exits. One that takes too long is killed.
        drop(self.to.take());
        let start = std::time::Instant::now();
        while start.elapsed() < SHUTDOWN_GRACE {
            // Reaped: its pid (the group id) may be reused from now on, so no group kill.
            if !matches!(self.child.try_wait(), Ok(None)) {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(2));
        }
        process::kill(&mut self.child);
    }
}

/// How a conversation with a server went wrong.
enum Broken {
    /// The run was interrupted; the server was killed.
    Interrupted,
    /// The server died or said something unreadable: the message says how.
    Died(String),
}

impl Server {
    /// Starts a server and loads the library in it; the library's own error when it cannot.
    fn start(setup: &str) -> Result<(Self, SetupReply), String> {
        let command = server_command()?;
        let shown = command.iter().map(|a| a.to_string_lossy()).collect::<Vec<_>>().join(" ");
        let mut cmd = Command::new(&command[0]);
        cmd.args(&command[1..]).stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = process::spawn(cmd).map_err(|e| format!("cannot start the objective server `{shown}`: {e}"))?;
        let (Some(to), Some(from), Some(stderr)) = (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            process::kill(&mut child);
            return Err(format!("the objective server `{shown}` has no pipes"));
        };
        let mut server = Server { child, to: Some(to), from: BufReader::new(from), stderr: keep_tail(stderr) };
        let reply = server.exchange(setup, &Cancel::new()).map_err(|e| match e {
            Broken::Interrupted => "interrupted while starting the objective server".to_owned(),
            Broken::Died(how) => format!(
                "the objective server `{shown}` {how}; a program that embeds les must call \
                 les_objectives::isolated::serve_if_requested() first thing in main, or the config can \
                 say `isolate: false`"
            ),
        })?;
        let reply = serde_json::from_str::<SetupReply>(&reply)
            .map_err(|e| format!("the objective server `{shown}` answered `{reply}` to its setup: {e}"))?;
        Ok((server, reply))
    }

    /// Sends one line and reads the answer, watching `cancel` while it waits.
    fn exchange(&mut self, line: &str, cancel: &Cancel) -> Result<String, Broken> {
        let written = self
            .to
            .as_mut()
            .map(|to| to.write_all(line.as_bytes()).and_then(|_| to.write_all(b"\n")).and_then(|_| to.flush()));
        if !matches!(written, Some(Ok(()))) {
            return Err(Broken::Died(self.death()));
        }
        loop {
            if !self.from.buffer().is_empty() || readable(self.from.get_ref(), les_core::runner::INTERRUPT_POLL) {
                let mut answer = String::new();
                return match self.from.read_line(&mut answer) {
                    Ok(n) if n > 0 && answer.ends_with('\n') => Ok(answer.trim_end().to_owned()),
                    _ => Err(Broken::Died(self.death())),
                };
            }
            if cancel.is_cancelled() {
                process::kill(&mut self.child);
                return Err(Broken::Interrupted);
            }
        }
    }

    /// How the server ended (it has closed its pipes), with the tail of its stderr.
    fn death(&mut self) -> String {
        // It may still be on its way out; a server that closed its stdout but lives on is
        // killed rather than waited for.
        let mut status = None;
        for _ in 0..100 {
            if let Ok(Some(s)) = self.child.try_wait() {
                status = Some(s);
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let how = match status {
            Some(s) if s.success() => "exited with status 0 (the library called exit())".to_owned(),
            Some(s) => process::describe_status(s),
            None => {
                process::kill(&mut self.child);
                "closed its output and was killed".to_owned()
            }
        };
        // The stderr reader ends with the process; give it a moment to take the last bytes.
        std::thread::sleep(std::time::Duration::from_millis(20));
        let tail = stderr_tail(&self.stderr.lock().unwrap_or_else(|p| p.into_inner()));
        if tail.is_empty() { how } else { format!("{how}\nlast lines of its stderr:\n{tail}") }
    }
}

/// Whether `pipe` has data (or end of file) within `wait`.
#[cfg(unix)]
fn readable(pipe: &ChildStdout, wait: std::time::Duration) -> bool {
    use std::os::fd::AsRawFd;
    let mut poll = libc::pollfd { fd: pipe.as_raw_fd(), events: libc::POLLIN, revents: 0 };
    let millis = wait.as_millis().min(i32::MAX as u128) as i32;
    // SAFETY: one valid pollfd for the duration of the call.
    let ready = unsafe { libc::poll(&mut poll, 1, millis) };
    ready != 0
}

#[cfg(not(unix))]
fn readable(_pipe: &ChildStdout, _wait: std::time::Duration) -> bool {
    true
}

/// Reads `stderr` on a thread, keeping its last [`STDERR_KEEP`] bytes.
fn keep_tail(mut stderr: impl Read + Send + 'static) -> Arc<Mutex<Vec<u8>>> {
    let kept = Arc::new(Mutex::new(Vec::new()));
    let sink = kept.clone();
    std::thread::spawn(move || {
        let mut chunk = [0u8; 4096];
        while let Ok(n) = stderr.read(&mut chunk) {
            if n == 0 {
                break;
            }
            let mut kept = sink.lock().unwrap_or_else(|p| p.into_inner());
            kept.extend_from_slice(&chunk[..n]);
            let excess = kept.len().saturating_sub(STDERR_KEEP);
            kept.drain(..excess);
        }
    });
    kept
}

/// A library objective evaluated in server processes.
pub struct IsolatedLibrary {
    info: ObjectiveInfo,
    path: PathBuf,
    has_gradient: bool,
    setup: String,
    /// Servers not evaluating right now, ready for the next evaluation.
    idle: Mutex<Vec<Server>>,
}

impl std::fmt::Debug for IsolatedLibrary {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IsolatedLibrary").field("path", &self.path).field("dim", &self.info.dim()).finish()
    }
}

impl IsolatedLibrary {
    /// Starts a server for the library at `path` (absolute) with `params`; the library's own
    /// load error (the same text as in-process) when it cannot be loaded.
    pub fn start(path: &Path, params: &Value, dim: Option<usize>) -> Result<Self, String> {
        let setup = serde_json::to_string(&Setup { library: path.to_path_buf(), params: params.clone(), dim })
            .map_err(|e| format!("cannot encode the library's params: {e}"))?;
        let (server, reply) = Server::start(&setup)?;
        let (lower, upper, has_gradient) = match reply {
            SetupReply::Ready { lower, upper, has_gradient } => (lower, upper, has_gradient),
            SetupReply::Error(message) => return Err(message),
        };
        let bounds = Bounds::new(lower, upper).map_err(|e| format!("{}: {e}", path.display()))?;
        let info = crate::library::library_info(path, bounds);
        Ok(Self { info, path: path.to_path_buf(), has_gradient, setup, idle: Mutex::new(vec![server]) })
    }

    /// One request on an idle server (or a new one); a server that broke is dropped.
    fn call(&self, x: &[f64], gradient: bool, cancel: &Cancel) -> Result<(f64, Option<Vec<f64>>), ObjectiveError> {
        let expected = self.info.dim();
        if x.len() != expected {
            return Err(ObjectiveError::Dimension { got: x.len(), expected });
        }
        let idle = self.idle.lock().unwrap_or_else(|p| p.into_inner()).pop();
        let mut server = match idle {
            Some(server) => server,
            None => match Server::start(&self.setup) {
                Ok((server, SetupReply::Ready { .. })) => server,
                Ok((_, SetupReply::Error(message))) | Err(message) => {
                    return Err(ObjectiveError::Failed(format!(
                        "{}: the library could not be loaded again after its process ended: {message}",
                        self.path.display()
                    )));
                }
            },
        };
        let request = serde_json::to_string(&Request { x: x.to_vec(), gradient })
            .map_err(|e| ObjectiveError::Failed(format!("cannot encode the point: {e}")))?;
        let answer = match server.exchange(&request, cancel) {
            Ok(answer) => answer,
            Err(Broken::Interrupted) => return Err(ObjectiveError::Interrupted),
            Err(Broken::Died(how)) => {
                return Err(ObjectiveError::Failed(format!(
                    "{}: the library's process {how}; a new one is started for the next evaluation",
                    self.path.display()
                )));
            }
        };
        let reply = serde_json::from_str::<Reply>(&answer).map_err(|e| {
            ObjectiveError::Failed(format!("{}: the library's process answered `{answer}`: {e}", self.path.display()))
        });
        self.idle.lock().unwrap_or_else(|p| p.into_inner()).push(server);
        match reply? {
            Reply::Value { y, g } => Ok((y, g)),
            Reply::Failed { failed } => Err(ObjectiveError::Failed(failed)),
            Reply::NonFinite { non_finite } => Err(ObjectiveError::NonFinite(non_finite.parse().unwrap_or(f64::NAN))),
        }
    }

    /// The resolved path of the library.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Objective for IsolatedLibrary {
    fn info(&self) -> &ObjectiveInfo {
        &self.info
    }

    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        self.call(x, false, &Cancel::new()).map(|(y, _)| y)
    }

    fn evaluate_in(&self, x: &[f64], ctx: &EvaluationContext) -> Result<f64, ObjectiveError> {
        self.call(x, false, &ctx.cancel).map(|(y, _)| y)
    }

    fn gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
        if !self.has_gradient {
            return None;
        }
        self.call(x, true, &Cancel::new()).ok().and_then(|(_, g)| g)
    }
}

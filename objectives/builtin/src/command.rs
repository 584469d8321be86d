//! Objectives evaluated by an external command, one process per evaluation.
//!
//! Each evaluation starts `command` (a program and its arguments, no shell involved), writes
//! `{"x": [x₁, …, x_d]}` and a newline to its stdin, closes stdin and waits for it to exit. The
//! value is read from stdout: the whole output, or else its last non-empty line, must be one
//! number (`0.25`, `-1e3`) or a JSON object with a numeric `y` (`{"y": 0.25}`; other keys are
//! ignored). Anything else the program wants to say goes to stderr. In a run, stdin also
//! carries `trial`, `seed` and `run_dir` (and the environment `LES_TRIAL`, `LES_SEED`,
//! `LES_RUN_DIR`), and stderr is kept in `RUN_DIR/logs/trial-N.stderr`.
//!
//! A non-zero exit status, a timeout, or unreadable output is a failed evaluation
//! ([`ObjectiveError::Failed`]) whose message says what was wrong and ends with the last lines
//! of stderr (at most [`STDERR_TAIL_LINES`] lines / [`STDERR_TAIL_BYTES`] bytes); `nan` or `inf`
//! is [`ObjectiveError::NonFinite`]. Both are handled by the run's `on_error` policy.
//!
//! The command runs in the current directory with the environment of `les` plus `env`. On Unix
//! it gets its own process group, so a timeout or an interrupt (SIGINT/SIGTERM to `les`, see
//! [`les_core::cancel`]) kills everything it started (a shell script's children too), with
//! `kill(2)` on the group: SIGTERM first, SIGKILL [`process::TERMINATE_GRACE`] later (a
//! wrapper like `srun` cancels its job on SIGTERM). Evaluations may run concurrently, each in its
//! own process.
//! Nothing the command starts outlives `les`, even `kill -9` of `les` (see [`crate::process`]).
//!
#![doc = include_str!("../params/command.md")]
//!
//! At least one of `dim` and `bounds` (as lists) is required; when both are given they must
//! agree. The program must exist when the run is built (checked then, not only at the first
//! evaluation).
//!
//! ```yaml
//! objective:
//!   command: [python3, objective.py]
//!   dim: 2
//!   bounds: { lower: [-5, -5], upper: [10, 15] }
//!   timeout_s: 60
//!   env: { OMP_NUM_THREADS: "1" }
//! ```

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use crate::process::{self, describe_status, kill, terminate};
use les_core::cancel::Cancel;
use les_core::params::{ParamError, Params, PluginParams};
use les_core::registry::{BuildContext, Built, ObjectiveEntry, PluginError};
use les_core::{Bounds, EvaluationContext, Objective, ObjectiveError, ObjectiveInfo};
use serde::{Deserialize, Serialize};

/// Config key path of the command objective, used in build errors.
const CONFIG_PATH: &str = "objective.command";

/// At most this many trailing lines of stderr go into an error message.
pub const STDERR_TAIL_LINES: usize = 20;

/// At most this many trailing bytes of stderr go into an error message.
pub const STDERR_TAIL_BYTES: usize = 2048;

/// How long to wait for stdout/stderr to close after the process exited (a background process
/// that inherited them may keep them open).
const OUTPUT_GRACE: Duration = Duration::from_secs(2);

/// Longest pause between two checks whether the process has exited.
const MAX_POLL: Duration = Duration::from_millis(20);

/// A bound corner: one number for every coordinate, or one per coordinate.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum BoundValue {
    /// The same value in every coordinate.
    Scalar(f64),
    /// One value per coordinate.
    Values(Vec<f64>),
}

/// The `bounds` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BoundsSpec {
    /// Lower corner.
    pub lower: BoundValue,
    /// Upper corner.
    pub upper: BoundValue,
}

/// Seconds an evaluation may take when the config does not say: a hung simulation fails after
/// an hour instead of hanging the run.
pub const DEFAULT_TIMEOUT_S: f64 = 3600.0;

/// Parameters of the `command` objective: the whole `objective` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CommandParams {
    /// `[PROGRAM, ARGS…]`.
    pub command: Vec<String>,
    /// Input dimension `d`; defaults to the length of the bounds.
    pub dim: Option<usize>,
    /// The box; defaults to the unit cube.
    pub bounds: Option<BoundsSpec>,
    /// Seconds before an evaluation is killed ([`DEFAULT_TIMEOUT_S`]); `None` (`null` in
    /// YAML) = no limit. Runs journaled before the default existed stored `null` in their
    /// resolved config, so they resume with no limit, as they were started.
    pub timeout_s: Option<f64>,
    /// Extra environment variables.
    pub env: BTreeMap<String, String>,
}

impl Default for CommandParams {
    fn default() -> Self {
        Self { command: Vec::new(), dim: None, bounds: None, timeout_s: Some(DEFAULT_TIMEOUT_S), env: BTreeMap::new() }
    }
}

impl CommandParams {
    /// The box the parameters describe.
    pub fn resolved_bounds(&self) -> Result<Bounds, ParamError> {
        let len = |b: &BoundValue| match b {
            BoundValue::Values(v) => Some(v.len()),
            BoundValue::Scalar(_) => None,
        };
        let from_bounds = self.bounds.as_ref().and_then(|b| len(&b.lower).or(len(&b.upper)));
        let dim = match (self.dim, from_bounds) {
            (Some(d), _) => d,
            (None, Some(d)) => d,
            (None, None) => {
                return Err(ParamError::new(
                    "dim",
                    "missing: give `dim` (the bounds then default to the unit cube) or `bounds` with lists of values",
                ));
            }
        };
        if dim == 0 {
            return Err(ParamError::invalid("dim", 0, "at least 1"));
        }
        let Some(spec) = &self.bounds else { return Ok(Bounds::unit(dim)) };
        let expand = |b: &BoundValue, key: &str| -> Result<Vec<f64>, ParamError> {
            match b {
                BoundValue::Scalar(v) => Ok(vec![*v; dim]),
                BoundValue::Values(v) if v.len() == dim => Ok(v.clone()),
                BoundValue::Values(v) => Err(ParamError::new(
                    format!("bounds.{key}"),
                    format!("has {} values but dim is {dim}: give {dim} values or one number", v.len()),
                )),
            }
        };
        Bounds::new(expand(&spec.lower, "lower")?, expand(&spec.upper, "upper")?)
            .map_err(|e| ParamError::new("bounds", e.to_string()))
    }
}

impl PluginParams for CommandParams {
    fn validate(&self) -> Result<(), ParamError> {
        match self.command.first() {
            None => return Err(ParamError::new("command", "missing: expected [PROGRAM, ARGS...]")),
            Some(p) if p.is_empty() => return Err(ParamError::invalid("command[0]", "\"\"", "a program name or path")),
            Some(_) => {}
        }
        if let Some(t) = self.timeout_s
            && !(t.is_finite() && t > 0.0)
        {
            return Err(ParamError::invalid("timeout_s", t, "a positive number of seconds"));
        }
        self.resolved_bounds().map(|_| ())
    }
}

/// An objective evaluated by running an external command.
#[derive(Debug)]
pub struct CommandObjective {
    info: ObjectiveInfo,
    command: Vec<String>,
    env: BTreeMap<String, String>,
    timeout: Option<Duration>,
}

impl CommandObjective {
    /// An objective running `command` (non-empty) on `bounds`. Does not check that the program
    /// exists; see [`find_program`].
    pub fn new(
        command: Vec<String>,
        bounds: Bounds,
        timeout: Option<Duration>,
        env: BTreeMap<String, String>,
    ) -> Result<Self, ObjectiveError> {
        if command.is_empty() {
            return Err(ObjectiveError::Failed("the command is empty".to_owned()));
        }
        let info = ObjectiveInfo {
            name: command.join(" "),
            bounds,
            noise_std: 0.0,
            exact: false,
            known_minimum: None,
            known_minimizer: None,
        };
        Ok(Self { info, command, env, timeout })
    }

    fn describe(&self) -> String {
        format!("command `{}`", self.command.join(" "))
    }

    fn failed(&self, what: impl std::fmt::Display, stderr: &[u8]) -> ObjectiveError {
        let tail = stderr_tail(stderr);
        let tail =
            if tail.is_empty() { " (stderr was empty)".to_owned() } else { format!("\nlast lines of stderr:\n{tail}") };
        ObjectiveError::Failed(format!("{} {what}{tail}", self.describe()))
    }

    fn spawn(&self, ctx: Option<&EvaluationContext>) -> std::io::Result<Child> {
        let mut command = Command::new(&self.command[0]);
        command.args(&self.command[1..]).envs(&self.env);
        if let Some(ctx) = ctx {
            command.env("LES_TRIAL", ctx.trial.to_string()).env("LES_SEED", ctx.seed.to_string());
            if let Some(dir) = &ctx.run_dir {
                command.env("LES_RUN_DIR", dir);
            }
        }
        command.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
        // Its own process group, so that a timeout can kill whatever it started, and dies
        // with les.
        process::spawn(command)
    }
}

/// Reads a pipe to its end on a thread; the result arrives on the returned channel.
fn read_in_background(mut pipe: impl Read + Send + 'static) -> mpsc::Receiver<Vec<u8>> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let mut buffer = Vec::new();
        // A read error (the process was killed) keeps what was read so far.
        let _ = pipe.read_to_end(&mut buffer);
        let _ = tx.send(buffer);
    });
    rx
}

/// How waiting for a command ended.
enum Waited {
    /// It exited by itself.
    Exited(ExitStatus),
    /// The timeout expired; it was killed.
    TimedOut,
    /// The run was interrupted; it was killed.
    Cancelled,
}

/// Waits for the child until `timeout` or until `cancel` is set (then kills its group).
fn wait_for(child: &mut Child, timeout: Option<Duration>, cancel: &Cancel) -> std::io::Result<Waited> {
    let deadline = timeout.map(|t| Instant::now() + t);
    let mut pause = Duration::from_millis(1);
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Waited::Exited(status));
        }
        if cancel.is_cancelled() {
            terminate(child);
            return Ok(Waited::Cancelled);
        }
        let now = Instant::now();
        if deadline.is_some_and(|d| now >= d) {
            terminate(child);
            return Ok(Waited::TimedOut);
        }
        std::thread::sleep(deadline.map_or(pause, |d| pause.min(d - now)));
        pause = (pause * 2).min(MAX_POLL);
    }
}

/// The last [`STDERR_TAIL_LINES`] lines of `stderr`, at most [`STDERR_TAIL_BYTES`] bytes.
pub fn stderr_tail(stderr: &[u8]) -> String {
    let text = String::from_utf8_lossy(stderr);
    let lines: Vec<&str> = text.trim_end().lines().collect();
    let mut tail = lines[lines.len().saturating_sub(STDERR_TAIL_LINES)..].join("\n");
    if tail.len() > STDERR_TAIL_BYTES {
        let mut cut = tail.len() - STDERR_TAIL_BYTES;
        while !tail.is_char_boundary(cut) {
            cut += 1;
        }
        tail = format!("…{}", &tail[cut..]);
    }
    tail
}

/// The value printed on stdout: the whole output or its last non-empty line, as a number or a
/// JSON object with a numeric `y`. The error says what was found.
pub fn parse_output(stdout: &str) -> Result<f64, String> {
    fn parse_one(text: &str) -> Option<Result<f64, String>> {
        if let Ok(v) = text.parse::<f64>() {
            return Some(Ok(v));
        }
        match serde_json::from_str::<serde_json::Value>(text) {
            Ok(serde_json::Value::Object(map)) => Some(match map.get("y") {
                Some(y) => y.as_f64().ok_or_else(|| format!("printed {text}, whose `y` is not a number")),
                None => Err(format!("printed {text}, which has no `y`")),
            }),
            Ok(serde_json::Value::Number(n)) => n.as_f64().map(Ok),
            _ => None,
        }
    }
    let whole = stdout.trim();
    if whole.is_empty() {
        return Err("printed nothing on stdout; expected one number or {\"y\": number}".to_owned());
    }
    if let Some(result) = parse_one(whole) {
        return result;
    }
    let last = whole.lines().map(str::trim).rfind(|l| !l.is_empty()).unwrap_or(whole);
    parse_one(last).unwrap_or_else(|| {
        let shown: String = last.chars().take(200).collect();
        Err(format!("printed `{shown}` as the last line of stdout; expected one number or {{\"y\": number}}"))
    })
}

impl Objective for CommandObjective {
    fn info(&self) -> &ObjectiveInfo {
        &self.info
    }

    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        self.run(x, None)
    }

    fn evaluate_in(&self, x: &[f64], ctx: &EvaluationContext) -> Result<f64, ObjectiveError> {
        self.run(x, Some(ctx))
    }
}

impl CommandObjective {
    /// One evaluation: `{"x": [...]}` on stdin, plus `trial`, `seed` and `run_dir` when it
    /// belongs to a run (also as `LES_TRIAL`, `LES_SEED`, `LES_RUN_DIR` in the environment), so
    /// that a simulation can name its output files; its stderr is kept in
    /// `RUN_DIR/logs/trial-N.stderr` when it wrote any.
    fn run(&self, x: &[f64], ctx: Option<&EvaluationContext>) -> Result<f64, ObjectiveError> {
        let expected = self.info.dim();
        if x.len() != expected {
            return Err(ObjectiveError::Dimension { got: x.len(), expected });
        }
        let mut message = serde_json::json!({ "x": x });
        if let Some(ctx) = ctx {
            message["trial"] = ctx.trial.into();
            message["seed"] = ctx.seed.into();
            if let Some(dir) = &ctx.run_dir {
                message["run_dir"] = dir.to_string_lossy().into_owned().into();
            }
        }
        let input = format!("{message}\n");
        let result = self.run_process(&input, ctx);
        let (value, err_bytes) = match result {
            Ok((v, e)) => (Ok(v), e),
            Err((e, bytes)) => (Err(e), bytes),
        };
        let log = ctx.and_then(|c| save_stderr(c, &err_bytes));
        match (value, log) {
            (Err(ObjectiveError::Failed(m)), Some(path)) => {
                Err(ObjectiveError::Failed(format!("{m}\n(whole stderr: {})", path.display())))
            }
            (v, _) => v,
        }
    }

    fn run_process(
        &self,
        input: &str,
        ctx: Option<&EvaluationContext>,
    ) -> Result<(f64, Vec<u8>), (ObjectiveError, Vec<u8>)> {
        let input = input.to_owned();
        let mut child = self.spawn(ctx).map_err(|e| {
            let hint = if e.kind() == std::io::ErrorKind::NotFound { " (not found: is it on PATH?)" } else { "" };
            (ObjectiveError::Failed(format!("{} could not be started{hint}: {e}", self.describe())), Vec::new())
        })?;
        let (Some(mut stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            kill(&mut child);
            return Err((
                ObjectiveError::Failed(format!("{}: its pipes could not be opened", self.describe())),
                Vec::new(),
            ));
        };
        let stdout = read_in_background(stdout);
        let stderr = read_in_background(stderr);
        // Written on a thread so that a program that prints a lot before reading cannot
        // deadlock against us; a program that exits without reading gives a broken pipe, which
        // is its business.
        std::thread::spawn(move || {
            let _ = stdin.write_all(input.as_bytes());
        });

        let cancel = ctx.map(|c| c.cancel.clone()).unwrap_or_default();
        let status = wait_for(&mut child, self.timeout, &cancel);
        let err_bytes = stderr.recv_timeout(OUTPUT_GRACE).unwrap_or_default();
        let status = match status {
            Ok(Waited::Exited(status)) => status,
            Ok(Waited::Cancelled) => return Err((ObjectiveError::Interrupted, err_bytes)),
            Ok(Waited::TimedOut) => {
                let limit = self.timeout.map(|t| t.as_secs_f64()).unwrap_or_default();
                let e = self.failed(format_args!("timed out after {limit} s and was killed"), &err_bytes);
                return Err((e, err_bytes));
            }
            Err(e) => {
                let e = self.failed(format_args!("could not be waited for: {e}"), &err_bytes);
                return Err((e, err_bytes));
            }
        };
        if !status.success() {
            let e = self.failed(describe_status(status), &err_bytes);
            return Err((e, err_bytes));
        }
        let Ok(out_bytes) = stdout.recv_timeout(OUTPUT_GRACE) else {
            let e = self.failed(
                "exited, but its stdout stayed open (a background process it started still holds it)",
                &err_bytes,
            );
            return Err((e, err_bytes));
        };
        let y = match parse_output(&String::from_utf8_lossy(&out_bytes)) {
            Ok(y) => y,
            Err(what) => {
                let e = self.failed(what, &err_bytes);
                return Err((e, err_bytes));
            }
        };
        if y.is_finite() { Ok((y, err_bytes)) } else { Err((ObjectiveError::NonFinite(y), err_bytes)) }
    }
}

/// Keeps a trial's stderr in `RUN_DIR/logs/trial-N.stderr` (when there is a run directory and
/// the command wrote anything); the path, or `None`.
fn save_stderr(ctx: &EvaluationContext, bytes: &[u8]) -> Option<PathBuf> {
    let dir = ctx.run_dir.as_ref()?.join("logs");
    if bytes.is_empty() {
        return None;
    }
    let path = dir.join(format!("trial-{}.stderr", ctx.trial));
    match std::fs::create_dir_all(&dir).and_then(|_| std::fs::write(&path, bytes)) {
        Ok(()) => Some(path),
        Err(e) => {
            tracing::warn!("{}: cannot keep the command's stderr: {e}", path.display());
            None
        }
    }
}

/// Where `program` would be found: a path (relative to the current directory) when it contains
/// a `/`, otherwise the first executable file of that name on `path_var` (the `PATH` the
/// command will see).
pub fn find_program(program: &str, path_var: Option<&std::ffi::OsStr>) -> Result<PathBuf, String> {
    let is_executable = |p: &Path| -> bool {
        let Ok(meta) = p.metadata() else { return false };
        if !meta.is_file() {
            return false;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            meta.permissions().mode() & 0o111 != 0
        }
        #[cfg(not(unix))]
        {
            true
        }
    };
    if program.contains('/') || program.contains(std::path::MAIN_SEPARATOR) {
        let path = PathBuf::from(program);
        return if is_executable(&path) {
            Ok(path)
        } else if path.exists() {
            Err(format!("`{program}` is not an executable file (chmod +x it, or name its interpreter first)"))
        } else {
            let cwd = std::env::current_dir().map(|d| d.display().to_string()).unwrap_or_default();
            Err(format!("program `{program}` not found (relative paths are resolved against {cwd})"))
        };
    }
    let dirs: Vec<PathBuf> = path_var.map(|p| std::env::split_paths(p).collect()).unwrap_or_default();
    let exe_names: Vec<String> =
        if cfg!(windows) { vec![program.to_owned(), format!("{program}.exe")] } else { vec![program.to_owned()] };
    dirs.iter()
        .flat_map(|d| exe_names.iter().map(move |n| d.join(n)))
        .find(|p| is_executable(p))
        .ok_or_else(|| format!("program `{program}` not found on PATH; install it or give its path"))
}

fn build_command(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn Objective>, PluginError> {
    let mut p: CommandParams = params.parse()?;
    let bounds = p.resolved_bounds().map_err(|e| e.prefixed(&params.path))?;
    let path_var = p.env.get("PATH").map(std::ffi::OsString::from).or_else(|| std::env::var_os("PATH"));
    find_program(&p.command[0], path_var.as_deref())
        .map_err(|message| PluginError::Build { path: CONFIG_PATH.to_owned(), message })?;
    let timeout = p.timeout_s.map(Duration::from_secs_f64);
    let objective = CommandObjective::new(p.command.clone(), bounds.clone(), timeout, p.env.clone())
        .map_err(|e| PluginError::Build { path: CONFIG_PATH.to_owned(), message: e.to_string() })?;
    p.dim = Some(bounds.dim());
    p.bounds = Some(BoundsSpec { lower: BoundValue::Values(bounds.lower), upper: BoundValue::Values(bounds.upper) });
    Ok(Built::new(Box::new(objective), &p))
}

inventory::submit! {
    ObjectiveEntry {
        name: "command",
        summary: "an objective evaluated by running an external command once per point",
        details: concat!(
            "Runs `command: [PROGRAM, ARGS...]` for every evaluation, writes {\"x\": [...]} to its stdin \
                  (in a run also trial, seed and run_dir; its stderr is kept in RUN_DIR/logs/trial-N.stderr) \
                  and reads one number, or {\"y\": number}, from its stdout (the last non-empty line). \
                  A non-zero exit, a timeout or unreadable \
                  output is a failed evaluation carrying the tail of stderr; nan/inf is non-finite; both go \
                  to the run's on_error policy.\n\n",
            include_str!("../params/command.md"),
        ),
        default_params: les_core::registry::defaults_of::<CommandParams>,
        build: build_command,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_forms() {
        assert_eq!(parse_output("1.5\n"), Ok(1.5));
        assert_eq!(parse_output("  -2e3  "), Ok(-2000.0));
        assert_eq!(parse_output("{\"y\": 0.25, \"info\": \"ok\"}"), Ok(0.25));
        assert_eq!(parse_output("{\n  \"y\": 4\n}\n"), Ok(4.0));
        assert_eq!(parse_output("starting\nstep 1 of 2\n7.5\n\n"), Ok(7.5));
        assert!(parse_output("nan").is_ok_and(f64::is_nan));
        assert_eq!(parse_output("inf"), Ok(f64::INFINITY));
        assert!(parse_output("").unwrap_err().contains("printed nothing"));
        assert!(parse_output("hello world").unwrap_err().contains("`hello world`"));
        assert!(parse_output("{\"value\": 1}").unwrap_err().contains("has no `y`"));
        assert!(parse_output("{\"y\": \"1\"}").unwrap_err().contains("not a number"));
    }

    #[test]
    fn stderr_tail_keeps_the_end() {
        let many: String = (0..100).map(|i| format!("line {i}\n")).collect();
        let tail = stderr_tail(many.as_bytes());
        assert_eq!(tail.lines().count(), STDERR_TAIL_LINES);
        assert!(tail.starts_with("line 80\n") && tail.ends_with("line 99"), "{tail}");
        let long = "é".repeat(3000);
        let tail = stderr_tail(long.as_bytes());
        assert!(tail.len() <= STDERR_TAIL_BYTES + "…".len() + 1, "{}", tail.len());
        assert!(tail.ends_with('é'));
    }

    #[test]
    fn bounds_default_to_the_unit_cube_and_follow_dim() {
        let p = CommandParams { command: vec!["x".into()], dim: Some(3), ..Default::default() };
        assert_eq!(p.resolved_bounds(), Ok(Bounds::unit(3)));
        let p = CommandParams {
            command: vec!["x".into()],
            bounds: Some(BoundsSpec { lower: BoundValue::Scalar(-1.0), upper: BoundValue::Values(vec![1.0, 2.0]) }),
            ..Default::default()
        };
        assert_eq!(p.resolved_bounds(), Ok(Bounds::new(vec![-1.0, -1.0], vec![1.0, 2.0]).expect("valid")));
        let p = CommandParams { command: vec!["x".into()], ..Default::default() };
        assert_eq!(p.resolved_bounds().unwrap_err().path, "dim");
    }
}

//! Objectives from shared libraries that implement the `les` objective C ABI (version 1).
//!
//! The library exports `les_objective_abi_version`, `les_objective_create` and
//! `les_objective_last_error` (see `objectives/abi/include/les_objective.h`; Rust authors use
//! `les_objective_abi::export_objective!`). Loading a library:
//!
//! 1. resolves the path (relative paths against the current directory — the loader does not
//!    know where the config file is) and checks that the file exists;
//! 2. opens it (`dlopen`) and **never unloads it**: the handle is leaked on purpose, so function
//!    pointers and static data stay valid for the life of the process;
//! 3. checks `les_objective_abi_version()` == [`LES_OBJECTIVE_ABI_VERSION`] before looking up
//!    any other symbol;
//! 4. calls `les_objective_create(params_json, &table)` (serialized process-wide) and validates
//!    the table: version, `eval` present, `1 ≤ dim`, finite bounds with `lower < upper`, and the
//!    dimension equal to the config's `dim` when one is given.
//!
//! By default (`isolate: true`) the library is loaded in a child process
//! ([`crate::isolated`]): a segfault, `abort()` or `exit()` in it fails that evaluation (for
//! the run's `on_error` policy) instead of taking `les` down, and concurrent evaluations use one
//! process each. `isolate: false` loads it into `les` itself, for objectives that take
//! microseconds: then every evaluation calls `eval` (or `eval_grad` for
//! [`Objective::gradient`]) under a mutex, so a library sees at most one call per instance at a
//! time (the threading contract of the header), unless it declares itself thread-safe by
//! exporting `les_objective_thread_safe` returning non-zero; then calls may be concurrent. A non-zero status becomes [`ObjectiveError::Failed`] with the library's message; a
//! NaN or infinite value becomes [`ObjectiveError::NonFinite`]; both are handled by the run's
//! `on_error` policy. `destroy` runs when the objective is dropped.
//!
#![doc = include_str!("../params/library.md")]
//!
//! ```yaml
//! objective:
//!   library: target/release/libles_example_rust_sphere.so
//!   params: { dim: 3, shift: 0.5 }
//!   dim: 3
//! ```

use std::ffi::{CStr, CString};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use les_core::bounds::BoundsError;
use les_core::params::{ParamError, Params, PluginParams};
use les_core::registry::{BuildContext, Built, ObjectiveEntry, PluginError};
use les_core::{Bounds, Objective, ObjectiveError, ObjectiveInfo};
use les_objective_abi::{
    AbiVersionFn, CreateFn, LES_OBJECTIVE_ABI_VERSION, LastErrorFn, LesObjective, SYMBOL_ABI_VERSION, SYMBOL_CREATE,
    SYMBOL_LAST_ERROR, SYMBOL_THREAD_SAFE, ThreadSafeFn,
};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Config key path of the library objective's name, used in build errors.
const CONFIG_PATH: &str = "objective.library";

/// Why a shared library could not become an objective. Every variant names the library.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum LibraryError {
    /// No file at the path.
    #[error(
        "shared library {} not found (relative paths are resolved against the current directory {})",
        path.display(),
        cwd.display()
    )]
    NotFound {
        /// The resolved (absolute) path.
        path: PathBuf,
        /// The directory relative paths were resolved against.
        cwd: PathBuf,
    },
    /// The file exists but the dynamic loader refused it (not a shared library, wrong
    /// architecture, missing dependency …).
    #[error("{} could not be loaded as a shared library: {message}", path.display())]
    Load {
        /// The library.
        path: PathBuf,
        /// The dynamic loader's message.
        message: String,
    },
    /// A required symbol is not exported.
    #[error(
        "{} does not export `{symbol}`: is it built against les_objective.h (or with \
         les_objective_abi::export_objective!) and are the functions exported (not static, not C++-mangled)?",
        path.display()
    )]
    MissingSymbol {
        /// The library.
        path: PathBuf,
        /// The missing symbol.
        symbol: &'static str,
    },
    /// The library implements another ABI version.
    #[error(
        "{} implements objective ABI version {found}, but this les supports version {supported}; rebuild the \
         library against the les_objective.h / les-objective-abi of this les",
        path.display()
    )]
    VersionMismatch {
        /// The library.
        path: PathBuf,
        /// The version the library reports.
        found: u32,
        /// [`LES_OBJECTIVE_ABI_VERSION`].
        supported: u32,
    },
    /// `les_objective_create` returned a non-zero status.
    #[error("{}: les_objective_create failed (status {status}): {message}", path.display())]
    Create {
        /// The library.
        path: PathBuf,
        /// The status returned.
        status: i32,
        /// The library's message.
        message: String,
    },
    /// The filled table breaks the contract (null `eval`, dimension 0 …).
    #[error("{}: les_objective_create returned an invalid objective: {message}", path.display())]
    InvalidTable {
        /// The library.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
    /// The bounds are not a valid box.
    #[error("{}: the library's bounds are invalid: {source}", path.display())]
    Bounds {
        /// The library.
        path: PathBuf,
        /// What was wrong.
        source: BoundsError,
    },
    /// The library's dimension differs from the config's `dim`.
    #[error(
        "{}: the library reports dimension {found} but the config says dim: {expected}; fix `dim` or the \
         library's params",
        path.display()
    )]
    Dimension {
        /// The library.
        path: PathBuf,
        /// Dimension reported by the library.
        found: usize,
        /// `dim` of the config.
        expected: usize,
    },
    /// The params could not be handed over (they contain a NUL byte).
    #[error("{}: params cannot be passed as a C string: {message}", path.display())]
    Params {
        /// The library.
        path: PathBuf,
        /// What was wrong.
        message: String,
    },
}

/// Parameters of the `library` objective: the whole `objective` block.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LibraryParams {
    /// Path of the shared library; relative paths resolve against the current directory.
    pub library: String,
    /// The library's own parameters, handed to `les_objective_create` as JSON.
    pub params: Value,
    /// Expected input dimension (checked against the library's).
    pub dim: Option<usize>,
    /// Evaluate in a child process (see [`crate::isolated`]).
    pub isolate: bool,
}

impl Default for LibraryParams {
    fn default() -> Self {
        Self { library: String::new(), params: Value::Object(Default::default()), dim: None, isolate: true }
    }
}

impl PluginParams for LibraryParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.library.is_empty() {
            return Err(ParamError::invalid("library", "\"\"", "the path of a shared library"));
        }
        if !(self.params.is_object() || self.params.is_null()) {
            return Err(ParamError::invalid("params", &self.params, "a mapping (the library's parameters)"));
        }
        if self.dim == Some(0) {
            return Err(ParamError::invalid("dim", 0, "at least 1"));
        }
        Ok(())
    }
}

/// Serializes calls to `les_objective_create` across the process (header contract).
static CREATE_LOCK: Mutex<()> = Mutex::new(());

/// The exported functions of a loaded library.
#[derive(Clone, Copy)]
struct Exports {
    create: CreateFn,
    last_error: LastErrorFn,
    /// The library exports `les_objective_thread_safe` and it returned non-zero.
    thread_safe: bool,
}

/// A live instance: the table filled by `create` and the library's last-error function.
struct Instance {
    table: LesObjective,
    last_error: LastErrorFn,
}

// SAFETY: the C ABI contract lets les call an instance from any thread as long as calls are not
// concurrent; `LibraryObjective` makes every call under its lock, unless the library declared
// (`les_objective_thread_safe`) that concurrent calls are allowed.
unsafe impl Send for Instance {}
// SAFETY: as above; the table is never modified after creation.
unsafe impl Sync for Instance {}

impl Instance {
    /// The library's message after a failed call on this thread.
    fn last_error_message(&self) -> String {
        message_from(self.last_error)
    }
}

/// Reads `les_objective_last_error()` right after a failed call, on the same thread.
fn message_from(last_error: LastErrorFn) -> String {
    // SAFETY: `last_error` was resolved from a library that passed the version check; the
    // contract makes it callable at any time and returns NULL or a NUL-terminated string that is
    // valid until the next call into the library on this thread, so it is copied at once.
    let ptr = unsafe { last_error() };
    if ptr.is_null() {
        return "(the library gave no message)".to_owned();
    }
    // SAFETY: non-null and NUL-terminated by contract; copied before any other call.
    let message = unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned();
    if message.is_empty() { "(the library gave no message)".to_owned() } else { message }
}

/// An objective implemented by a shared library through the C ABI.
pub struct LibraryObjective {
    info: ObjectiveInfo,
    path: PathBuf,
    has_gradient: bool,
    instance: Instance,
    /// Held around every call, unless the library is thread-safe.
    calls: Option<Mutex<()>>,
}

impl std::fmt::Debug for LibraryObjective {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LibraryObjective")
            .field("path", &self.path)
            .field("dim", &self.info.dim())
            .field("has_gradient", &self.has_gradient)
            .finish()
    }
}

/// The absolute path of `path`, resolved against the current directory.
fn resolve_path(path: &Path) -> (PathBuf, PathBuf) {
    let cwd = std::env::current_dir().unwrap_or_else(|_| PathBuf::from("."));
    // An absolute path also keeps `dlopen` from searching the system library directories for a
    // bare file name.
    let resolved = if path.is_absolute() { path.to_path_buf() } else { cwd.join(path) };
    (resolved, cwd)
}

/// `dlopen` with immediate binding: a symbol the library needs but nobody provides (a missing
/// `-lm`) is a load error naming the symbol, not a crash at the first evaluation.
#[cfg(unix)]
fn load_library(path: &Path) -> Result<libloading::Library, libloading::Error> {
    use libloading::os::unix::{Library, RTLD_LOCAL, RTLD_NOW};
    // SAFETY: loading runs the library's initializers; running user code is the point of a
    // plugin, and the user named this file in the config.
    unsafe { Library::open(Some(path), RTLD_NOW | RTLD_LOCAL) }.map(libloading::Library::from)
}

#[cfg(not(unix))]
fn load_library(path: &Path) -> Result<libloading::Library, libloading::Error> {
    // SAFETY: as above; Windows resolves imports at load time anyway.
    unsafe { libloading::Library::new(path) }
}

/// An error and its sources (`dlopen failed: <the loader's description>`).
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut message = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    message
}

/// Opens the library (leaked: never unloaded), checks its ABI version, then resolves the rest.
fn open(path: &Path) -> Result<Exports, LibraryError> {
    let library =
        load_library(path).map_err(|e| LibraryError::Load { path: path.to_path_buf(), message: error_chain(&e) })?;
    // Never unloaded: function pointers and data taken from it must stay valid forever.
    let library: &'static libloading::Library = Box::leak(Box::new(library));
    let missing = |symbol: &'static str| LibraryError::MissingSymbol { path: path.to_path_buf(), symbol };

    // SAFETY: the symbol's type is fixed by the ABI (`uint32_t (void)`); a library exporting the
    // name with another type breaks the contract we document.
    let version: AbiVersionFn = *unsafe { library.get::<AbiVersionFn>(SYMBOL_ABI_VERSION.as_bytes()) }
        .map_err(|_| missing(SYMBOL_ABI_VERSION))?;
    // SAFETY: takes no arguments and has no preconditions.
    let found = unsafe { version() };
    if found != LES_OBJECTIVE_ABI_VERSION {
        return Err(LibraryError::VersionMismatch {
            path: path.to_path_buf(),
            found,
            supported: LES_OBJECTIVE_ABI_VERSION,
        });
    }
    // SAFETY: types fixed by ABI version 1, which the library just declared it implements.
    let create: CreateFn =
        *unsafe { library.get::<CreateFn>(SYMBOL_CREATE.as_bytes()) }.map_err(|_| missing(SYMBOL_CREATE))?;
    // SAFETY: as above.
    let last_error: LastErrorFn =
        *unsafe { library.get::<LastErrorFn>(SYMBOL_LAST_ERROR.as_bytes()) }.map_err(|_| missing(SYMBOL_LAST_ERROR))?;
    // Optional: absent means one call per instance at a time.
    // SAFETY: type fixed by the header (`int32_t (void)`).
    let thread_safe = unsafe { library.get::<ThreadSafeFn>(SYMBOL_THREAD_SAFE.as_bytes()) }
        // SAFETY: takes no arguments and has no preconditions.
        .is_ok_and(|f| unsafe { f() } != 0);
    Ok(Exports { create, last_error, thread_safe })
}

impl LibraryObjective {
    /// Loads the library at `path` and creates an instance with `params` (a JSON object; null
    /// counts as `{}`). `dim`, when given, must equal the library's dimension.
    pub fn load(path: &Path, params: &Value, dim: Option<usize>) -> Result<Self, LibraryError> {
        let (path, cwd) = resolve_path(path);
        if !path.exists() {
            return Err(LibraryError::NotFound { path, cwd });
        }
        let exports = open(&path)?;
        let json = if params.is_null() { "{}".to_owned() } else { params.to_string() };
        let json =
            CString::new(json).map_err(|e| LibraryError::Params { path: path.clone(), message: e.to_string() })?;

        let mut table = LesObjective::empty();
        let (status, failure) = {
            let _guard = CREATE_LOCK.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            // SAFETY: `json` is NUL-terminated and outlives the call; `table` is a valid,
            // writable `LesObjective`; the version check passed, so the signature is ABI v1's.
            let status = unsafe { (exports.create)(json.as_ptr(), &mut table) };
            // Read the message inside the lock, on this thread, before anything else runs.
            let failure = (status != 0).then(|| message_from(exports.last_error));
            (status, failure)
        };
        if let Some(message) = failure {
            return Err(LibraryError::Create { path, status, message });
        }
        // From here on the instance is owned: dropping it (also on error) calls `destroy`.
        let instance = Instance { table, last_error: exports.last_error };
        let guard = DestroyOnDrop(Some(instance));
        let (bounds, has_gradient) = validate_table(&path, &guard.instance().table, dim)?;
        let instance = guard.into_inner();

        let info = library_info(&path, bounds);
        let calls = (!exports.thread_safe).then(|| Mutex::new(()));
        Ok(Self { info, path, has_gradient, instance, calls })
    }

    /// Whether the library declared that one instance may be called from several threads at
    /// once (`les_objective_thread_safe`).
    pub fn thread_safe(&self) -> bool {
        self.calls.is_none()
    }

    /// The resolved path of the library.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the library provides `eval_grad`.
    pub fn has_gradient(&self) -> bool {
        self.has_gradient
    }

    fn check_dim(&self, x: &[f64]) -> Result<(), ObjectiveError> {
        let expected = self.info.dim();
        if x.len() == expected { Ok(()) } else { Err(ObjectiveError::Dimension { got: x.len(), expected }) }
    }

    /// The instance, with the call lock held unless the library is thread-safe.
    fn lock(&self) -> (Option<std::sync::MutexGuard<'_, ()>>, &Instance) {
        // A panic while the lock was held cannot leave the table inconsistent (it is never
        // modified after creation), so a poisoned lock is still usable.
        let guard = self.calls.as_ref().map(|m| m.lock().unwrap_or_else(|poisoned| poisoned.into_inner()));
        (guard, &self.instance)
    }
}

/// What les knows of a library objective: its path as the name and its box (no noise, no known
/// optimum). The same whether it runs in process or isolated.
pub(crate) fn library_info(path: &Path, bounds: Bounds) -> ObjectiveInfo {
    ObjectiveInfo {
        name: path.display().to_string(),
        bounds,
        noise_std: 0.0,
        exact: false,
        known_minimum: None,
        known_minimizer: None,
    }
}

/// Calls `destroy` if validation fails between `create` and the objective taking ownership.
struct DestroyOnDrop(Option<Instance>);

impl DestroyOnDrop {
    fn instance(&self) -> &Instance {
        self.0.as_ref().expect("invariant: taken only by into_inner")
    }
    fn into_inner(mut self) -> Instance {
        self.0.take().expect("invariant: taken only once")
    }
}

impl Drop for DestroyOnDrop {
    fn drop(&mut self) {
        if let Some(instance) = self.0.take() {
            destroy(&instance.table);
        }
    }
}

/// Calls the table's `destroy`, if any.
fn destroy(table: &LesObjective) {
    if let Some(destroy) = table.destroy {
        // SAFETY: the table came from a successful `create`; each table is destroyed exactly once
        // (by `DestroyOnDrop` or by `LibraryObjective::drop`, never both), after its last call.
        unsafe { destroy(table.state) };
    }
}

/// Checks the table filled by `create`; returns the bounds and whether `eval_grad` exists.
fn validate_table(path: &Path, table: &LesObjective, dim: Option<usize>) -> Result<(Bounds, bool), LibraryError> {
    let invalid = |message: String| LibraryError::InvalidTable { path: path.to_path_buf(), message };
    if table.abi_version != LES_OBJECTIVE_ABI_VERSION {
        return Err(LibraryError::VersionMismatch {
            path: path.to_path_buf(),
            found: table.abi_version,
            supported: LES_OBJECTIVE_ABI_VERSION,
        });
    }
    if table.eval.is_none() {
        return Err(invalid("`eval` is NULL".to_owned()));
    }
    let d = table.dim as usize;
    if d == 0 {
        return Err(invalid("`dim` is 0; an objective needs at least one input".to_owned()));
    }
    if table.lower.is_null() || table.upper.is_null() {
        return Err(invalid("`lower` or `upper` is NULL".to_owned()));
    }
    if let Some(expected) = dim
        && expected != d
    {
        return Err(LibraryError::Dimension { path: path.to_path_buf(), found: d, expected });
    }
    // SAFETY: non-null, and the contract makes both point to `dim` doubles owned by the library
    // until `destroy`; they are copied here.
    let (lower, upper) = unsafe {
        (std::slice::from_raw_parts(table.lower, d).to_vec(), std::slice::from_raw_parts(table.upper, d).to_vec())
    };
    let bounds =
        Bounds::new(lower, upper).map_err(|source| LibraryError::Bounds { path: path.to_path_buf(), source })?;
    Ok((bounds, table.eval_grad.is_some()))
}

impl Drop for LibraryObjective {
    fn drop(&mut self) {
        destroy(&self.instance.table);
    }
}

impl Objective for LibraryObjective {
    fn info(&self) -> &ObjectiveInfo {
        &self.info
    }

    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        self.check_dim(x)?;
        let (_guard, instance) = self.lock();
        let eval = instance.table.eval.expect("invariant: checked non-null at load");
        let mut y = f64::NAN;
        // SAFETY: the table is live (not destroyed before drop), `x` has `dim` values, `y` is
        // writable; the guard makes this the only call into the instance (or the library
        // declared concurrent calls safe).
        let status = unsafe { eval(instance.table.state, x.as_ptr(), &mut y) };
        if status != 0 {
            let message = instance.last_error_message();
            return Err(ObjectiveError::Failed(format!(
                "{}: eval failed (status {status}): {message}",
                self.path.display()
            )));
        }
        if y.is_finite() { Ok(y) } else { Err(ObjectiveError::NonFinite(y)) }
    }

    /// The library's `eval_grad`, when it has one. A failure or a non-finite gradient gives
    /// `None` (the trait has no error channel; `evaluate` reports the failure).
    fn gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
        self.check_dim(x).ok()?;
        let (_guard, instance) = self.lock();
        let eval_grad = instance.table.eval_grad?;
        let mut y = f64::NAN;
        let mut g = vec![f64::NAN; x.len()];
        // SAFETY: as in `evaluate`; `g` has room for `dim` values.
        let status = unsafe { eval_grad(instance.table.state, x.as_ptr(), &mut y, g.as_mut_ptr()) };
        (status == 0 && g.iter().all(|v| v.is_finite())).then_some(g)
    }
}

fn build_library(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn Objective>, PluginError> {
    let mut p: LibraryParams = params.parse()?;
    if p.params.is_null() {
        p.params = Value::Object(Default::default());
    }
    let build_error = |message: String| PluginError::Build { path: CONFIG_PATH.to_owned(), message };
    let objective: Box<dyn Objective> = if p.isolate {
        // Checked here for the message that names the directory relative paths resolve against.
        let (path, cwd) = resolve_path(Path::new(&p.library));
        if !path.exists() {
            return Err(build_error(LibraryError::NotFound { path, cwd }.to_string()));
        }
        Box::new(crate::isolated::IsolatedLibrary::start(&path, &p.params, p.dim).map_err(build_error)?)
    } else {
        Box::new(
            LibraryObjective::load(Path::new(&p.library), &p.params, p.dim).map_err(|e| build_error(e.to_string()))?,
        )
    };
    p.dim = Some(objective.info().dim());
    Ok(Built::new(objective, &p))
}

inventory::submit! {
    ObjectiveEntry {
        name: "library",
        summary: "an objective from a shared library implementing the les objective C ABI",
        details: concat!(
            "Loads a shared library (C, Rust through les_objective_abi::export_objective!, or anything \
                  that can export C functions) that implements objectives/abi/include/les_objective.h, ABI \
                  version 1. Config: `objective: { library: PATH, params: {...}, dim: D }`. The ABI version is checked before anything else; \
                  libraries are never unloaded; eval is called from one thread at a time per instance \
                  unless the library exports les_objective_thread_safe returning non-zero.\n\n",
            include_str!("../params/library.md"),
        ),
        default_params: les_core::registry::defaults_of::<LibraryParams>,
        build: build_library,
    }
}

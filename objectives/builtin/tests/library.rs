//! Shared-library objectives through the registry: the two examples (Rust through
//! `export_objective!`, C through the header), a C library written without the header, and every
//! failure the loader reports. C libraries are compiled here with the system C compiler `cc`;
//! the Rust example is built with `cargo build -p les-example-rust-sphere` next to this test.

#![cfg(unix)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use les_core::params::Params;
use les_core::registry::{self, BuildContext, Built, PluginError};
use les_core::{Objective, ObjectiveError};
use les_numerics::fdcheck::FdCheck;
use les_objectives::library::{LibraryError, LibraryObjective};
use serde_json::{Value, json};

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("workspace root")
}

fn include_dir() -> PathBuf {
    workspace_root().join("objectives/abi/include")
}

fn lib_name(stem: &str) -> String {
    format!("{}{stem}{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_SUFFIX)
}

/// Compiles one C file into a shared library in `dir`.
fn compile_c(dir: &Path, stem: &str, source: &Path) -> PathBuf {
    let out = dir.join(lib_name(stem));
    let result = Command::new("cc")
        .args(["-std=c11", "-O2", "-Wall", "-Werror", "-fPIC", "-shared", "-I"])
        .arg(include_dir())
        .arg("-o")
        .arg(&out)
        .arg(source)
        .arg("-lm")
        .output()
        .expect("the system C compiler `cc` runs");
    assert!(result.status.success(), "cc failed on {}:\n{}", source.display(), String::from_utf8_lossy(&result.stderr));
    out
}

/// Writes `source` to `dir/stem.c` and compiles it.
fn compile_c_source(dir: &Path, stem: &str, source: &str) -> PathBuf {
    let file = dir.join(format!("{stem}.c"));
    std::fs::write(&file, source).expect("write C source");
    compile_c(dir, stem, &file)
}

/// The Rust example library, built (or brought up to date) once per test process into the
/// target directory this test runs from.
fn rust_sphere() -> &'static Path {
    static LIB: OnceLock<PathBuf> = OnceLock::new();
    LIB.get_or_init(|| {
        let exe = std::env::current_exe().expect("test executable path");
        // <target>/<profile>/deps/<test exe>
        let profile_dir = exe.parent().and_then(Path::parent).expect("target/<profile> dir");
        let target_dir = profile_dir.parent().expect("target dir");
        let release = profile_dir.file_name().is_some_and(|n| n == "release");
        let mut cargo = Command::new(env!("CARGO"));
        cargo.current_dir(workspace_root()).args(["build", "--quiet", "-p", "les-example-rust-sphere", "--target-dir"]);
        cargo.arg(target_dir);
        cargo.args(if release { ["--profile", "release"] } else { ["--profile", "test"] });
        let result = cargo.output().expect("cargo runs");
        assert!(
            result.status.success(),
            "building the Rust example failed:\n{}",
            String::from_utf8_lossy(&result.stderr)
        );
        let lib = profile_dir.join(lib_name("les_example_rust_sphere"));
        assert!(lib.exists(), "{} was not produced", lib.display());
        lib
    })
}

/// A shared temp dir holding every C library of this test binary, compiled once.
struct CLibs {
    _dir: tempfile::TempDir,
    rosenbrock: PathBuf,
    no_header: PathBuf,
    mischief: PathBuf,
    version_99: PathBuf,
    no_last_error: PathBuf,
    no_symbols: PathBuf,
    not_a_library: PathBuf,
}

fn c_libs() -> &'static CLibs {
    static LIBS: OnceLock<CLibs> = OnceLock::new();
    LIBS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        let rosenbrock =
            compile_c(d, "rosenbrock", &workspace_root().join("objectives/examples/c-rosenbrock/rosenbrock.c"));
        let no_header = compile_c_source(d, "no_header", NO_HEADER_C);
        let mischief = compile_c_source(d, "mischief", MISCHIEF_C);
        let version_99 = compile_c_source(d, "version_99", VERSION_99_C);
        let no_last_error = compile_c_source(d, "no_last_error", NO_LAST_ERROR_C);
        let no_symbols = compile_c_source(d, "no_symbols", "int les_objective_something_else(void) { return 0; }\n");
        let not_a_library = d.join(lib_name("not_a_library"));
        std::fs::write(&not_a_library, "this is a text file, not a shared library\n").expect("write");
        CLibs { _dir: dir, rosenbrock, no_header, mischief, version_99, no_last_error, no_symbols, not_a_library }
    })
}

/// Builds the objective block through the registry, as the config loader does: isolated
/// (the default), with this package's server binary as the server (the test harness cannot
/// serve).
fn build(block: Value) -> Result<Built<dyn Objective>, PluginError> {
    static SERVER: std::sync::Once = std::sync::Once::new();
    SERVER.call_once(|| {
        les_objectives::isolated::set_server_command(vec![env!("CARGO_BIN_EXE_les-objective-server").into()]);
    });
    registry::build::<dyn Objective>(
        "library",
        "objective.library",
        &Params::new(block, "objective"),
        &BuildContext::default(),
    )
}

/// [`build`] with `isolate: false`: the library in this process.
fn build_in_process(mut block: Value) -> Result<Built<dyn Objective>, PluginError> {
    block["isolate"] = json!(false);
    build(block)
}

fn build_error(block: Value) -> (String, String) {
    let in_process = build_in_process(block.clone());
    let (path, message) = expect_build_error(build(block));
    // The same checks and messages in both modes.
    assert_eq!(expect_build_error(in_process), (path.clone(), message.clone()));
    (path, message)
}

fn expect_build_error(built: Result<Built<dyn Objective>, PluginError>) -> (String, String) {
    match built {
        Ok(_) => panic!("the library loaded but should not have"),
        Err(PluginError::Build { path, message }) => (path, message),
        Err(other) => panic!("expected a build error, got {other:?}"),
    }
}

fn path_str(p: &Path) -> &str {
    p.to_str().expect("utf-8 temp path")
}

/// `f`'s gradient at `x` against central differences (step 1e-6, tolerance `tol`).
fn check_gradient(f: &dyn Objective, x: &[f64], tol: f64) {
    let g = f.gradient(x).expect("has a gradient");
    FdCheck::new(1e-6, tol).check("gradient", |p| f.evaluate(p).expect("eval"), x, &g);
}

#[test]
fn rust_example_loads_evaluates_and_has_a_gradient() {
    let lib = rust_sphere();
    let built = build(json!({"library": path_str(lib), "params": {"dim": 3, "shift": 0.5}, "dim": 3})).expect("loads");
    let f = built.component;
    assert_eq!(f.info().dim(), 3);
    assert_eq!(f.info().bounds.lower, vec![-5.12; 3]);
    assert_eq!(f.info().bounds.upper, vec![5.12; 3]);
    assert_eq!(built.resolved["dim"], json!(3));
    assert_eq!(built.resolved["params"], json!({"dim": 3, "shift": 0.5}));
    for x in [[0.5, 0.5, 0.5], [1.0, -2.0, 3.25], [-5.0, 0.0, 5.0]] {
        let expected: f64 = x.iter().map(|v| (v - 0.5) * (v - 0.5)).sum();
        assert_eq!(f.evaluate(&x), Ok(expected));
        check_gradient(f.as_ref(), &x, 1e-6);
    }
    assert_eq!(f.evaluate(&[1.0, 2.0]), Err(ObjectiveError::Dimension { got: 2, expected: 3 }));
}

#[test]
fn a_panic_in_rust_eval_is_a_failed_evaluation() {
    let lib = rust_sphere();
    let f = build(json!({"library": path_str(lib), "params": {"panic": true}})).expect("loads").component;
    match f.evaluate(&[0.0, 0.0]) {
        Err(ObjectiveError::Failed(message)) => {
            assert!(message.contains("panicked: sphere was asked to panic"), "{message}");
            assert!(message.contains(path_str(lib)), "names the library: {message}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    // The instance survives the panic.
    assert!(f.evaluate(&[1.0, 1.0]).is_err());
}

#[test]
fn rust_example_rejects_bad_params_through_create() {
    let lib = rust_sphere();
    let (path, message) = build_error(json!({"library": path_str(lib), "params": {"dimension": 3}}));
    assert_eq!(path, "objective.library");
    assert!(message.contains("les_objective_create failed"), "{message}");
    assert!(message.contains("unknown field `dimension`"), "{message}");
    assert!(message.contains(path_str(lib)), "{message}");
}

#[test]
fn config_dim_must_match_the_library() {
    let lib = rust_sphere();
    let (_, message) = build_error(json!({"library": path_str(lib), "params": {"dim": 3}, "dim": 2}));
    assert!(message.contains("reports dimension 3 but the config says dim: 2"), "{message}");
}

#[test]
fn c_example_loads_evaluates_and_has_a_gradient() {
    let lib = &c_libs().rosenbrock;
    let f = build(json!({"library": path_str(lib), "params": {"dim": 4}})).expect("loads").component;
    assert_eq!(f.info().dim(), 4);
    assert_eq!(f.info().bounds.lower, vec![-2.048; 4]);
    let rosenbrock =
        |x: &[f64]| -> f64 { x.windows(2).map(|w| 100.0 * (w[1] - w[0] * w[0]).powi(2) + (1.0 - w[0]).powi(2)).sum() };
    assert_eq!(f.evaluate(&[1.0; 4]), Ok(0.0));
    for x in [[0.0, 0.5, -1.0, 2.0], [-1.5, 1.2, 0.3, 0.9]] {
        let y = f.evaluate(&x).expect("evaluates");
        assert!((y - rosenbrock(&x)).abs() <= 1e-12 * (1.0 + y.abs()), "{y} vs {}", rosenbrock(&x));
        check_gradient(f.as_ref(), &x, 1e-5);
    }
    let (_, message) = build_error(json!({"library": path_str(lib), "params": {"dim": 1}}));
    assert!(message.contains("params.dim must be a whole number between 2 and 100000"), "{message}");
}

#[test]
fn c_library_without_the_project_header_loads() {
    let lib = &c_libs().no_header;
    let f = build(json!({"library": path_str(lib)})).expect("loads").component;
    assert_eq!(f.info().bounds.lower, vec![0.0, -1.0]);
    assert_eq!(f.info().bounds.upper, vec![2.0, 1.0]);
    assert_eq!(f.evaluate(&[1.5, -0.5]), Ok(1.5 * 1.5 + 3.0 * -0.5));
    assert_eq!(f.gradient(&[1.5, -0.5]), None, "eval_grad is NULL");
}

#[test]
fn version_is_checked_before_anything_else() {
    // This library's create aborts the process and it has no last_error: if the loader touched
    // either before checking the version, the test would crash or report a missing symbol.
    let lib = &c_libs().version_99;
    let (path, message) = build_error(json!({"library": path_str(lib)}));
    assert_eq!(path, "objective.library");
    assert!(message.contains("implements objective ABI version 99"), "{message}");
    assert!(message.contains("supports version 1"), "{message}");
    assert!(message.contains(path_str(lib)), "{message}");
}

#[test]
fn missing_symbols_are_named() {
    let (_, message) = build_error(json!({"library": path_str(&c_libs().no_last_error)}));
    assert!(message.contains("does not export `les_objective_last_error`"), "{message}");
    assert!(message.contains(path_str(&c_libs().no_last_error)), "{message}");
    let (_, message) = build_error(json!({"library": path_str(&c_libs().no_symbols)}));
    assert!(message.contains("does not export `les_objective_abi_version`"), "{message}");
}

#[test]
fn missing_files_and_non_libraries_are_reported() {
    let dir = tempfile::tempdir().expect("temp dir");
    let missing = dir.path().join("libnothing.so");
    let (_, message) = build_error(json!({"library": path_str(&missing)}));
    assert!(message.contains("not found"), "{message}");
    assert!(message.contains(path_str(&missing)), "{message}");

    // Relative paths resolve against the current directory.
    let (_, message) = build_error(json!({"library": "no/such/libobjective.so"}));
    let cwd = std::env::current_dir().expect("cwd");
    assert!(message.contains(path_str(&cwd.join("no/such/libobjective.so"))), "{message}");

    let lib = &c_libs().not_a_library;
    let (_, message) = build_error(json!({"library": path_str(lib)}));
    assert!(message.contains("could not be loaded as a shared library"), "{message}");
    assert!(message.contains(path_str(lib)), "{message}");
}

#[cfg(target_os = "linux")]
#[test]
fn unresolved_symbols_fail_at_load_not_at_the_first_evaluation() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = format!("double les_test_nobody_defines_this(double);\n{NO_HEADER_C}")
        .replace("*y = x[0] * x[0] + 3.0 * x[1];", "*y = les_test_nobody_defines_this(x[0]);");
    let lib = compile_c_source(dir.path(), "unresolved", &source);
    let (_, message) = build_error(json!({"library": path_str(&lib)}));
    assert!(message.contains("could not be loaded as a shared library"), "{message}");
    assert!(message.contains("les_test_nobody_defines_this"), "{message}");
}

#[test]
fn create_failures_carry_the_library_message() {
    let lib = &c_libs().mischief;
    let (_, message) = build_error(json!({"library": path_str(lib), "params": {"mode": "create_fails"}}));
    assert!(message.contains("les_objective_create failed (status 5): cannot create: asked to fail"), "{message}");
}

#[test]
fn bad_tables_are_rejected_and_destroyed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lib = &c_libs().mischief;
    for (mode, expected) in [
        ("bad_bounds", "lower bound 1 is not below upper bound 1 in coordinate 0"),
        ("inf_bounds", "bound 1 is not finite"),
        ("null_eval", "`eval` is NULL"),
        ("dim_zero", "`dim` is 0"),
        ("wrong_table_version", "implements objective ABI version 7"),
    ] {
        for (how, build) in [("isolated", build as Build), ("in process", build_in_process)] {
            let marker = dir.path().join(format!("{mode}.{}.destroyed", how.replace(' ', "-")));
            let (_, message) = expect_build_error(build(
                json!({"library": path_str(lib), "params": {"mode": mode, "marker": path_str(&marker)}}),
            ));
            assert!(message.contains(expected), "{mode} {how}: {message}");
            assert!(message.contains(path_str(lib)), "{mode} {how}: {message}");
            assert_eq!(
                std::fs::read_to_string(&marker).ok().as_deref(),
                Some("destroyed\n"),
                "{mode} {how}: destroy called once"
            );
        }
    }
}

#[test]
fn eval_failures_and_non_finite_values_are_evaluation_errors() {
    eval_failures_are_evaluation_errors(build);
    eval_failures_are_evaluation_errors(build_in_process);
}

type Build = fn(Value) -> Result<Built<dyn Objective>, PluginError>;

fn eval_failures_are_evaluation_errors(build: Build) {
    let lib = &c_libs().mischief;
    let f = build(json!({"library": path_str(lib), "params": {"mode": "eval_fails"}})).expect("loads").component;
    match f.evaluate(&[0.25, 0.5]) {
        Err(ObjectiveError::Failed(message)) => {
            assert!(message.contains("eval failed (status 7): eval exploded at x0=0.25"), "{message}");
            assert!(message.contains(path_str(lib)), "{message}");
        }
        other => panic!("expected a failure, got {other:?}"),
    }
    let f = build(json!({"library": path_str(lib), "params": {"mode": "nan"}})).expect("loads").component;
    assert!(matches!(f.evaluate(&[0.25, 0.5]), Err(ObjectiveError::NonFinite(v)) if v.is_nan()));
    let f = build(json!({"library": path_str(lib), "params": {"mode": "inf"}})).expect("loads").component;
    assert_eq!(f.evaluate(&[0.25, 0.5]), Err(ObjectiveError::NonFinite(f64::NEG_INFINITY)));
}

#[test]
fn destroy_runs_once_on_drop() {
    destroy_runs_once(build);
    destroy_runs_once(build_in_process);
}

fn destroy_runs_once(build: Build) {
    let dir = tempfile::tempdir().expect("temp dir");
    let marker = dir.path().join("dropped");
    let lib = &c_libs().mischief;
    let f = build(json!({"library": path_str(lib), "params": {"marker": path_str(&marker)}})).expect("loads").component;
    assert_eq!(f.evaluate(&[0.25, 0.5]), Ok(0.25 + 2.0 * 0.5));
    assert!(!marker.exists(), "not destroyed while alive");
    drop(f);
    assert_eq!(std::fs::read_to_string(&marker).expect("destroyed"), "destroyed\n");
}

#[test]
fn one_instance_is_never_called_concurrently() {
    never_concurrent(build);
    never_concurrent(build_in_process);
}

fn never_concurrent(build: Build) {
    // The library fails any eval that overlaps another one on the same instance (it counts
    // callers with an atomic and spins a while inside eval).
    let lib = &c_libs().mischief;
    let f = build(json!({"library": path_str(lib), "params": {"mode": "slow"}})).expect("loads").component;
    let f = f.as_ref();
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..4)
            .map(|t| {
                s.spawn(move || {
                    (0..50)
                        .map(|i| {
                            let x = [f64::from(t) * 0.1, f64::from(i) * 0.01];
                            (x, f.evaluate(&x))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        for h in handles {
            for (x, y) in h.join().expect("thread") {
                assert_eq!(y, Ok(x[0] + 2.0 * x[1]), "at {x:?}");
            }
        }
    });
}

#[test]
fn the_loader_is_usable_without_the_registry() {
    let lib = &c_libs().rosenbrock;
    let f = LibraryObjective::load(lib, &json!({"dim": 3}), Some(3)).expect("loads");
    assert!(f.has_gradient());
    assert_eq!(f.path(), lib.as_path());
    assert_eq!(f.info().name, path_str(lib));
    match LibraryObjective::load(&c_libs().version_99, &json!({}), None) {
        Err(LibraryError::VersionMismatch { found: 99, supported: 1, path }) => assert_eq!(path, c_libs().version_99),
        other => panic!("expected a version mismatch, got {other:?}"),
    }
}

#[test]
fn params_of_the_block_are_checked() {
    let lib = &c_libs().rosenbrock;
    match build(json!({"library": path_str(lib), "parms": {}})) {
        Err(PluginError::Param(e)) => assert_eq!(e.path, "objective.parms"),
        other => panic!("expected a param error, got {:?}", other.err()),
    }
    match build(json!({"library": path_str(lib), "params": [1, 2]})) {
        Err(PluginError::Param(e)) => assert_eq!(e.path, "objective.params"),
        other => panic!("expected a param error, got {:?}", other.err()),
    }
    match build(json!({"params": {}})) {
        Err(PluginError::Param(e)) => assert_eq!(e.path, "objective.library"),
        other => panic!("expected a param error, got {:?}", other.err()),
    }
}

/// The fenced code blocks of `objectives/README.md` in `language`, in order.
fn readme_blocks(language: &str) -> Vec<String> {
    let readme = std::fs::read_to_string(workspace_root().join("objectives/README.md")).expect("README");
    let fence = format!("```{language}\n");
    let mut blocks = Vec::new();
    let mut rest = readme.as_str();
    while let Some(i) = rest.find(&fence) {
        let body = &rest[i + fence.len()..];
        let len = body.find("```").expect("closed block");
        blocks.push(body[..len].to_owned());
        rest = &body[len + 3..];
    }
    blocks
}

fn readme_block(language: &str) -> String {
    readme_blocks(language).into_iter().next().unwrap_or_else(|| panic!("README has no {language} block"))
}

/// Builds the objective of a README YAML block (completed into a run config) through the
/// config loader, with `placeholder` replaced by `path`.
fn build_readme_yaml(yaml: &str, placeholder: &str, path: &Path) -> Box<dyn Objective> {
    assert!(yaml.contains(placeholder), "{yaml}");
    let text =
        format!("{}strategy: {{ name: random }}\nbudget: 3\nseed: 1\n", yaml.replace(placeholder, path_str(path)));
    let config = les_core::config::LoadedConfig::from_str(Path::new("README.md"), &text, &Default::default())
        .unwrap_or_else(|e| panic!("{e}\n{text}"));
    config.build_objective().unwrap_or_else(|e| panic!("{e}\n{text}")).0
}

#[test]
fn readme_yaml_configs_load() {
    let yaml = readme_blocks("yaml");
    let f = build_readme_yaml(&yaml[0], "target/release/libles_example_rust_sphere.so", rust_sphere());
    assert_eq!(f.info().dim(), 3);
    assert_eq!(f.evaluate(&[0.5, 0.5, 1.5]), Ok(1.0), "shift 0.5 from the README params");
    let dir = tempfile::tempdir().expect("temp dir");
    let lib = compile_c_source(dir.path(), "branin", &readme_block("c"));
    let f = build_readme_yaml(&yaml[1], "./libbranin.so", &lib);
    assert_eq!(f.info().dim(), 2);
}

#[test]
fn readme_rust_example_is_the_tested_example_crate() {
    let source = std::fs::read_to_string(workspace_root().join("objectives/examples/rust-sphere/src/lib.rs"))
        .expect("example source");
    let body = &source[source.find("use serde::Deserialize;").expect("body")..];
    assert_eq!(readme_block("rust"), body, "README's Rust code must equal objectives/examples/rust-sphere/src/lib.rs");
}

#[test]
fn readme_c_example_compiles_loads_and_evaluates() {
    let dir = tempfile::tempdir().expect("temp dir");
    let lib = compile_c_source(dir.path(), "branin", &readme_block("c"));
    let f = build(json!({"library": path_str(&lib)})).expect("loads").component;
    assert_eq!(f.info().bounds.lower, vec![-5.0, 0.0]);
    assert_eq!(f.info().bounds.upper, vec![10.0, 15.0]);
    let pi = std::f64::consts::PI;
    for x in [[-pi, 12.275], [pi, 2.275], [9.42478, 2.475]] {
        let y = f.evaluate(&x).expect("evaluates");
        assert!((y - 0.397_887_357_7).abs() < 1e-5, "branin{x:?} = {y}");
    }
    assert!(f.evaluate(&[0.0, 0.0]).expect("evaluates") > 50.0);
    assert!(f.gradient(&[0.0, 0.0]).is_none());
}

/// The contract of `les_objective.h`, declared here without including it.
const NO_HEADER_C: &str = r#"
#include <stdint.h>
#include <stddef.h>

typedef struct {
    uint32_t abi_version;
    uint32_t dim;
    const double *lower;
    const double *upper;
    void *state;
    int32_t (*eval)(void *state, const double *x, double *y);
    int32_t (*eval_grad)(void *state, const double *x, double *y, double *g);
    void (*destroy)(void *state);
} Table;

static const double lower[2] = {0.0, -1.0};
static const double upper[2] = {2.0, 1.0};

static int32_t eval(void *state, const double *x, double *y) {
    (void)state;
    *y = x[0] * x[0] + 3.0 * x[1];
    return 0;
}

uint32_t les_objective_abi_version(void) { return 1; }

int32_t les_objective_create(const char *params_json, Table *out) {
    (void)params_json;
    out->abi_version = 1;
    out->dim = 2;
    out->lower = lower;
    out->upper = upper;
    out->state = NULL;
    out->eval = eval;
    out->eval_grad = NULL;
    out->destroy = NULL;
    return 0;
}

const char *les_objective_last_error(void) { return "no error"; }
"#;

/// Reports version 99; its create would abort the process and it has no last_error.
const VERSION_99_C: &str = r#"
#include <stdint.h>
#include <stdlib.h>
uint32_t les_objective_abi_version(void) { return 99; }
int32_t les_objective_create(const char *params_json, void *out) {
    (void)params_json; (void)out;
    abort();
}
"#;

/// Version 1 and create, but no last_error.
const NO_LAST_ERROR_C: &str = r#"
#include "les_objective.h"
LES_OBJECTIVE_EXPORT uint32_t les_objective_abi_version(void) { return LES_OBJECTIVE_ABI_VERSION; }
LES_OBJECTIVE_EXPORT int32_t les_objective_create(const char *params_json, LesObjective *out) {
    (void)params_json; (void)out;
    return 1;
}
"#;

/// Misbehaves as `params.mode` says; writes "destroyed\n" to `params.marker` on destroy.
const MISCHIEF_C: &str = r#"
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "les_objective.h"

static _Thread_local char message[256];

typedef struct {
    atomic_int busy; /* callers inside eval on this instance */
    double lower[2];
    double upper[2];
    char mode[32];
    char marker[1024];
} State;

static int has_mode(const State *s, const char *mode) { return strcmp(s->mode, mode) == 0; }

/* Copies the string value of "key" in the (compact, serde_json-written) params into out. */
static void read_string(const char *json, const char *key, char *out, size_t size) {
    char pattern[64];
    snprintf(pattern, sizeof pattern, "\"%s\":\"", key);
    const char *p = strstr(json, pattern);
    out[0] = '\0';
    if (!p) return;
    p += strlen(pattern);
    size_t n = 0;
    while (p[n] && p[n] != '"' && n + 1 < size) n++;
    memcpy(out, p, n);
    out[n] = '\0';
}

static int32_t eval(void *state, const double *x, double *y) {
    State *s = state;
    if (atomic_fetch_add(&s->busy, 1) != 0) {
        atomic_fetch_sub(&s->busy, 1);
        snprintf(message, sizeof message, "concurrent call into one instance");
        return 9;
    }
    int32_t status = 0;
    if (has_mode(s, "eval_fails")) {
        snprintf(message, sizeof message, "eval exploded at x0=%g", x[0]);
        status = 7;
    } else if (has_mode(s, "nan")) {
        *y = NAN;
    } else if (has_mode(s, "inf")) {
        *y = -INFINITY;
    } else if (has_mode(s, "crash") && x[0] > 0.5) {
        fprintf(stderr, "about to dereference NULL\n");
        fflush(stderr);
        *y = *(volatile double *)0;
    } else if (has_mode(s, "abort") && x[0] > 0.5) {
        fprintf(stderr, "assertion failed: x0 <= 0.5\n");
        abort();
    } else if (has_mode(s, "exit") && x[0] > 0.5) {
        exit(0);
    } else if (has_mode(s, "hang") && x[0] > 0.5) {
        for (;;) pause();
    } else {
        if (has_mode(s, "print")) {
            printf("chatty library: %g\n", x[0]);
            fflush(stdout);
        }
        if (has_mode(s, "slow")) {
            volatile double sink = 0.0;
            for (int i = 0; i < 20000; i++) sink += i;
        }
        *y = x[0] + 2.0 * x[1];
    }
    atomic_fetch_sub(&s->busy, 1);
    return status;
}

static void destroy(void *state) {
    State *s = state;
    if (s->marker[0]) {
        FILE *f = fopen(s->marker, "a");
        if (f) { fputs("destroyed\n", f); fclose(f); }
    }
    free(s);
}

LES_OBJECTIVE_EXPORT uint32_t les_objective_abi_version(void) { return LES_OBJECTIVE_ABI_VERSION; }

LES_OBJECTIVE_EXPORT int32_t les_objective_create(const char *params_json, LesObjective *out) {
    State *s = calloc(1, sizeof *s);
    read_string(params_json, "mode", s->mode, sizeof s->mode);
    read_string(params_json, "marker", s->marker, sizeof s->marker);
    if (has_mode(s, "create_fails")) {
        free(s);
        snprintf(message, sizeof message, "cannot create: asked to fail");
        return 5;
    }
    s->lower[0] = -1.0; s->lower[1] = -1.0;
    s->upper[0] = 1.0; s->upper[1] = 1.0;
    if (has_mode(s, "bad_bounds")) s->lower[0] = 1.0;
    if (has_mode(s, "inf_bounds")) s->upper[1] = INFINITY;
    out->abi_version = has_mode(s, "wrong_table_version") ? 7 : LES_OBJECTIVE_ABI_VERSION;
    out->dim = has_mode(s, "dim_zero") ? 0 : 2;
    out->lower = s->lower;
    out->upper = s->upper;
    out->state = s;
    out->eval = has_mode(s, "null_eval") ? NULL : eval;
    out->eval_grad = NULL;
    out->destroy = destroy;
    return 0;
}

LES_OBJECTIVE_EXPORT const char *les_objective_last_error(void) { return message; }
"#;

#[test]
fn a_crash_abort_or_exit_in_an_isolated_library_fails_one_evaluation() {
    let lib = &c_libs().mischief;
    for (mode, expected) in [
        ("crash", "was killed by signal 11"),
        ("abort", "was killed by signal 6"),
        ("exit", "exited with status 0 (the library called exit())"),
    ] {
        let f = build(json!({"library": path_str(lib), "params": {"mode": mode}})).expect("loads").component;
        assert_eq!(f.evaluate(&[0.25, 0.5]), Ok(0.25 + 2.0 * 0.5), "{mode}: before");
        let message = match f.evaluate(&[0.75, 0.5]) {
            Err(ObjectiveError::Failed(m)) => m,
            other => panic!("{mode}: expected a failed evaluation, got {other:?}"),
        };
        assert!(message.contains(expected) && message.contains(path_str(lib)), "{mode}: {message}");
        if mode != "exit" {
            let said = if mode == "crash" { "about to dereference NULL" } else { "assertion failed: x0 <= 0.5" };
            assert!(message.contains(said), "{mode}: the stderr tail is in the message: {message}");
        }
        // A new process serves the next evaluation.
        assert_eq!(f.evaluate(&[0.25, 0.25]), Ok(0.25 + 2.0 * 0.25), "{mode}: after");
    }
}

#[test]
fn what_an_isolated_library_prints_cannot_garble_its_answers() {
    let lib = &c_libs().mischief;
    let f = build(json!({"library": path_str(lib), "params": {"mode": "print"}})).expect("loads").component;
    for x in [0.1, 0.2, 0.3] {
        assert_eq!(f.evaluate(&[x, 0.5]), Ok(x + 2.0 * 0.5));
    }
}

#[test]
fn isolated_values_and_gradients_have_the_in_process_bits() {
    let lib = rust_sphere();
    let block = json!({"library": path_str(lib), "params": {"dim": 3, "shift": 0.1}});
    let isolated = build(block.clone()).expect("loads").component;
    let in_process = build_in_process(block).expect("loads").component;
    for x in [[0.1, -0.7, 1.0 / 3.0], [1e-300, 2.5, -0.123456789012345]] {
        assert_eq!(isolated.evaluate(&x).map(f64::to_bits), in_process.evaluate(&x).map(f64::to_bits));
        assert_eq!(isolated.gradient(&x), in_process.gradient(&x));
        assert!(isolated.gradient(&x).is_some());
    }
}

#[test]
fn an_interrupt_kills_an_isolated_evaluation() {
    let lib = &c_libs().mischief;
    let f = build(json!({"library": path_str(lib), "params": {"mode": "hang"}})).expect("loads").component;
    let ctx = les_core::EvaluationContext::default();
    let cancel = ctx.cancel.clone();
    let canceller = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(200));
        cancel.cancel();
    });
    assert_eq!(f.evaluate_in(&[0.75, 0.5], &ctx), Err(ObjectiveError::Interrupted));
    canceller.join().expect("joins");
    assert_eq!(f.evaluate(&[0.25, 0.5]), Ok(0.25 + 2.0 * 0.5), "a new process serves the next evaluation");
}

#[test]
fn thread_safety_is_off_unless_the_library_declares_it() {
    let dir = tempfile::tempdir().expect("temp dir");
    let declared = compile_c_source(
        dir.path(),
        "thread_safe",
        &format!("{}\nLES_OBJECTIVE_EXPORT int32_t les_objective_thread_safe(void) {{ return 1; }}\n", MISCHIEF_C),
    );
    let safe = LibraryObjective::load(&declared, &json!({}), None).expect("loads");
    assert!(safe.thread_safe());
    let unsafe_lib = LibraryObjective::load(&c_libs().mischief, &json!({}), None).expect("loads");
    assert!(!unsafe_lib.thread_safe());
}

//! The per-evaluation cost of isolation: one evaluation of a C sphere (d = 3) in the les
//! process (`isolate: false`) and in a server process (`isolate: true`).
//!
//! `cargo bench -p les-objectives --bench isolation`

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use les_core::Objective;
use les_objectives::isolated::{IsolatedLibrary, set_server_command};
use les_objectives::library::LibraryObjective;

const SPHERE_C: &str = r#"
#include "les_objective.h"
static double lower[3] = {-1, -1, -1}, upper[3] = {1, 1, 1};
static int32_t eval(void *s, const double *x, double *y) { (void)s; *y = x[0]*x[0] + x[1]*x[1] + x[2]*x[2]; return 0; }
LES_OBJECTIVE_EXPORT uint32_t les_objective_abi_version(void) { return LES_OBJECTIVE_ABI_VERSION; }
LES_OBJECTIVE_EXPORT int32_t les_objective_create(const char *p, LesObjective *o) {
    (void)p; o->abi_version = LES_OBJECTIVE_ABI_VERSION; o->dim = 3; o->lower = lower; o->upper = upper;
    o->state = 0; o->eval = eval; o->eval_grad = 0; o->destroy = 0; return 0;
}
LES_OBJECTIVE_EXPORT const char *les_objective_last_error(void) { return 0; }
"#;

fn bench(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = dir.path().join("sphere.c");
    std::fs::write(&source, SPHERE_C).expect("write");
    let lib = dir.path().join("libsphere.so");
    let include = concat!(env!("CARGO_MANIFEST_DIR"), "/../abi/include");
    let status = std::process::Command::new("cc")
        .args(["-shared", "-fPIC", "-O2", "-I", include, "-o"])
        .arg(&lib)
        .arg(&source)
        .status()
        .expect("cc runs");
    assert!(status.success());
    set_server_command(vec![env!("CARGO_BIN_EXE_les-objective-server").into()]);
    let params = serde_json::json!({});
    let in_process = LibraryObjective::load(&lib, &params, None).expect("loads");
    let isolated = IsolatedLibrary::start(&lib, &params, None).expect("starts");
    let x = [0.1, -0.2, 0.3];
    let mut group = c.benchmark_group("library_evaluation");
    group.bench_function("in_process", |b| b.iter(|| in_process.evaluate(black_box(&x))));
    group.bench_function("isolated", |b| b.iter(|| isolated.evaluate(black_box(&x))));
    group.finish();
}

// The macro defines an undocumented function.
#[allow(missing_docs)]
mod group {
    use super::*;
    criterion_group!(benches, bench);
}
use group::benches;
criterion_main!(benches);

//! The C header compiles with the system C compiler and describes the same layout as the Rust
//! types.

#![cfg(unix)]

use std::mem::{offset_of, size_of};
use std::process::Command;

use les_objective_abi::LesObjective;

#[test]
fn header_layout_matches_rust() {
    let dir = tempfile::tempdir().expect("temp dir");
    let source = dir.path().join("layout.c");
    std::fs::write(
        &source,
        r#"#include <stddef.h>
#include <stdio.h>
#include "les_objective.h"
int main(void) {
    printf("%u %zu %zu %zu %zu %zu %zu %zu %zu %zu\n", LES_OBJECTIVE_ABI_VERSION, sizeof(LesObjective),
           offsetof(LesObjective, abi_version), offsetof(LesObjective, dim), offsetof(LesObjective, lower),
           offsetof(LesObjective, upper), offsetof(LesObjective, state), offsetof(LesObjective, eval),
           offsetof(LesObjective, eval_grad), offsetof(LesObjective, destroy));
    return 0;
}
"#,
    )
    .expect("write source");
    let exe = dir.path().join("layout");
    let include = concat!(env!("CARGO_MANIFEST_DIR"), "/include");
    let out = Command::new("cc")
        .args(["-std=c11", "-Wall", "-Werror", "-I", include, "-o"])
        .arg(&exe)
        .arg(&source)
        .output()
        .expect("the system C compiler `cc` runs");
    assert!(out.status.success(), "cc failed: {}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(&exe).output().expect("run layout probe");
    let c: Vec<usize> =
        String::from_utf8_lossy(&out.stdout).split_whitespace().map(|v| v.parse().expect("a number")).collect();
    let rust = vec![
        les_objective_abi::LES_OBJECTIVE_ABI_VERSION as usize,
        size_of::<LesObjective>(),
        offset_of!(LesObjective, abi_version),
        offset_of!(LesObjective, dim),
        offset_of!(LesObjective, lower),
        offset_of!(LesObjective, upper),
        offset_of!(LesObjective, state),
        offset_of!(LesObjective, eval),
        offset_of!(LesObjective, eval_grad),
        offset_of!(LesObjective, destroy),
    ];
    assert_eq!(c, rust, "version, size and field offsets: C header vs Rust");
}

//! The conformance harness (`les::conformance`) over every registered plugin, and a check that
//! it covered every name `les list` prints for the kinds it checks.

use std::process::Command;

use les::conformance::{KINDS, check_all};

/// The names `les list KIND` prints, in order.
fn listed(kind: &str) -> Vec<String> {
    let out = Command::new(env!("CARGO_BIN_EXE_les")).args(["list", kind]).output().expect("the les binary runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().next().map(str::to_owned))
        .collect()
}

#[test]
fn every_registered_plugin_conforms() {
    let report = check_all();
    let failures: Vec<String> = report.failures.iter().map(ToString::to_string).collect();
    assert!(failures.is_empty(), "{} failures:\n{}", failures.len(), failures.join("\n"));
    for kind in KINDS {
        let checked: Vec<&str> = report.checked.iter().filter(|(k, _)| *k == kind).map(|(_, n)| n.as_str()).collect();
        assert_eq!(checked, listed(kind.as_str()), "{kind}: the harness checks every listed name");
    }
}

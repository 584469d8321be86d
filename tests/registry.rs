//! The binary links every plugin crate (`src/plugins.rs`): a crate it forgot would silently
//! drop its registrations, so the full list of names is asserted here.

use std::process::Command;

fn les(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_les")).args(args).output().expect("the les binary runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

/// The names `les list KIND` prints, in order.
fn names(kind: &str) -> Vec<String> {
    let (code, stdout, stderr) = les(&["list", kind]);
    assert_eq!(code, 0, "{stderr}");
    stdout.lines().skip(1).filter_map(|l| l.split_whitespace().next().map(str::to_owned)).collect()
}

#[test]
fn every_plugin_is_registered_once() {
    assert_eq!(names("strategy"), ["gibo", "les", "local_ts", "logei", "mes", "random", "sobol", "turbo"]);
    assert_eq!(names("inner_optimizer"), ["adam", "cmaes", "gradient_descent"]);
    assert_eq!(names("sequence_sampler"), ["descent"]);
    assert_eq!(names("acquisition"), ["final_point_information", "gradient_information", "mutual_information"]);
    assert_eq!(names("surrogate"), ["gp"]);
    assert_eq!(
        names("objective"),
        [
            "ackley",
            "branin",
            "command",
            "dixon_price",
            "external",
            "gp_sample",
            "griewank",
            "hartmann3",
            "hartmann6",
            "levy",
            "library",
            "rastrigin",
            "rosenbrock",
            "rover",
            "sphere",
            "square",
            "styblinski_tang",
        ]
    );
}

#[test]
fn unknown_kind_lists_the_known_ones() {
    let (code, _, stderr) = les(&["list", "strategies"]);
    assert_eq!(code, 2);
    assert!(
        stderr.contains("strategy, inner_optimizer, sequence_sampler, acquisition, surrogate, objective"),
        "{stderr}"
    );
}

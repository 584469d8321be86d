//! Config loading: every error names the file, line and column, the key path, the bad value
//! and what was expected. Plugins are registered here by the test itself.

use std::path::Path;

use les_core::config::{LoadedConfig, Overrides};
use les_core::params::{ParamError, Params, PluginParams};
use les_core::registry::{BuildContext, Built, ObjectiveEntry, PluginError, StrategyEntry, defaults_of};
use les_core::{Ask, AskContext, Bounds, Objective, ObjectiveError, ObjectiveInfo, Strategy, StrategyError, StreamRng};
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct LineParams {
    dim: usize,
    noise_std: f64,
}
impl PluginParams for LineParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.dim == 0 {
            return Err(ParamError::invalid("dim", self.dim, "a dimension ≥ 1"));
        }
        Ok(())
    }
}
struct Line(ObjectiveInfo);
impl Objective for Line {
    fn info(&self) -> &ObjectiveInfo {
        &self.0
    }
    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        Ok(x.iter().sum())
    }
}
fn build_line(p: &Params, _: &BuildContext) -> Result<Built<dyn Objective>, PluginError> {
    let params: LineParams = p.parse()?;
    let info = ObjectiveInfo {
        name: "line".into(),
        bounds: Bounds::unit(params.dim),
        noise_std: params.noise_std,
        exact: true,
        known_minimum: None,
        known_minimizer: None,
    };
    Ok(Built::new(Box::new(Line(info)), &params))
}
inventory::submit! {
    ObjectiveEntry { name: "line", summary: "sum of coordinates", details: "", default_params: defaults_of::<LineParams>, build: build_line }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct WalkParams {
    paths: usize,
    rate: f64,
}
impl Default for WalkParams {
    fn default() -> Self {
        Self { paths: 250, rate: 0.5 }
    }
}
impl PluginParams for WalkParams {}
struct Walk;
impl Strategy for Walk {
    fn ask(&mut self, ctx: &AskContext<'_>, _: &mut StreamRng) -> Result<Ask, StrategyError> {
        Ok(Ask { points: vec![vec![0.5; ctx.data.dim()]], ..Default::default() })
    }
}
fn build_walk(p: &Params, _: &BuildContext) -> Result<Built<dyn Strategy>, PluginError> {
    let params: WalkParams = p.parse()?;
    Ok(Built::new(Box::new(Walk), &params))
}
inventory::submit! {
    StrategyEntry { name: "walk", summary: "test strategy", details: "", default_params: defaults_of::<WalkParams>, build: build_walk }
}

const GOOD: &str = "\
objective:
  builtin: line
  dim: 3
strategy:
  name: walk
  params:
    paths: 10
budget: 20
seed: 7
";

fn load(text: &str) -> Result<les_core::config::BuiltRun, String> {
    LoadedConfig::from_str(Path::new("configs/demo.yaml"), text, &Overrides::default())
        .and_then(|c| c.build())
        .map_err(|e| e.to_string())
}

#[test]
fn a_good_config_resolves_every_default() {
    let run = load(GOOD).unwrap();
    assert_eq!(run.budget, 20);
    assert_eq!(run.initial_points, 2);
    assert_eq!(run.output, Path::new("runs/demo-seed7"));
    assert_eq!(run.resolved["strategy"]["params"]["rate"], serde_json::json!(0.5));
    assert_eq!(run.resolved["objective"]["noise_std"], serde_json::json!(0.0));
    assert_eq!(run.resolved["objective"]["builtin"], serde_json::json!("line"));
}

#[test]
fn overrides_replace_file_values() {
    let o = Overrides { seed: Some(3), budget: Some(5), output: Some("elsewhere".into()), workers: None };
    let run = LoadedConfig::from_str(Path::new("c.yaml"), GOOD, &o).unwrap().build().unwrap();
    assert_eq!((run.seed, run.budget), (3, 5));
    assert_eq!(run.output, Path::new("elsewhere"));
}

#[test]
fn misspelled_strategy_key() {
    insta::assert_snapshot!(load(&GOOD.replace("    paths: 10", "    pahts: 10")).unwrap_err());
}

#[test]
fn misspelled_top_level_key() {
    insta::assert_snapshot!(load(&GOOD.replace("seed: 7", "seed: 7\nbudgte: 3")).unwrap_err());
}

#[test]
fn wrong_type() {
    insta::assert_snapshot!(load(&GOOD.replace("paths: 10", "paths: many")).unwrap_err());
}

#[test]
fn missing_field() {
    insta::assert_snapshot!(load(&GOOD.replace("seed: 7\n", "")).unwrap_err());
}

#[test]
fn negative_budget() {
    insta::assert_snapshot!(load(&GOOD.replace("budget: 20", "budget: -5")).unwrap_err());
}

#[test]
fn initial_points_above_budget() {
    insta::assert_snapshot!(load(&GOOD.replace("budget: 20", "budget: 20\ninitial_points: 30")).unwrap_err());
}

#[test]
fn unknown_strategy_name() {
    insta::assert_snapshot!(load(&GOOD.replace("name: walk", "name: wlak")).unwrap_err());
}

#[test]
fn unknown_builtin_objective() {
    insta::assert_snapshot!(load(&GOOD.replace("builtin: line", "builtin: lien")).unwrap_err());
}

#[test]
fn invalid_objective_param_in_flow_mapping() {
    let text = GOOD.replace("objective:\n  builtin: line\n  dim: 3\n", "objective: { builtin: line, dim: 0 }\n");
    insta::assert_snapshot!(load(&text).unwrap_err());
}

#[test]
fn two_objective_selectors() {
    insta::assert_snapshot!(load(&GOOD.replace("  dim: 3", "  dim: 3\n  command: [x]")).unwrap_err());
}

#[test]
fn invalid_yaml() {
    insta::assert_snapshot!(load("objective: [unclosed\nbudget: 3\n").unwrap_err());
}

/// YAML-level faults in the user's words: no parser type names, no policy names.
#[test]
fn yaml_faults_are_said_plainly() {
    let duplicated = load(&GOOD.replace("seed: 7", "seed: 7\nseed: 8")).unwrap_err();
    assert!(duplicated.contains("key `seed` appears twice (lines 9 and 10)"), "{duplicated}");
    let nan = load(&GOOD.replace("dim: 3", "dim: 3\n  noise_std: .nan")).unwrap_err();
    assert!(nan.contains("objective.noise_std: NaN (`.nan`) is not a valid value: expected a finite number"), "{nan}");
    let big = format!("{GOOD}x: [{}]\n", vec!["[1, 2, 3]"; 90_000].join(","));
    let big = load(&big).unwrap_err();
    assert!(big.contains("far larger than a config can be") && !big.contains("Nodes {"), "{big}");
    let huge_seed = load(&GOOD.replace("seed: 7", "seed: 99999999999999999999999")).unwrap_err();
    assert!(huge_seed.contains("whole numbers above 18446744073709551615 do not fit"), "{huge_seed}");
    let spec = load(&GOOD.replace("strategy:\n  name: walk\n  params:\n    paths: 10", "strategy: walk")).unwrap_err();
    assert!(!spec.contains("PluginSpec"), "{spec}");
    for message in [&duplicated, &nan, &big, &huge_seed, &spec] {
        for internal in ["DuplicateKeyPolicy", "policy", "struct ", "Options"] {
            assert!(!message.contains(internal), "`{internal}` leaks into: {message}");
        }
    }
}

#[test]
fn command_line_values_are_blamed_on_the_command_line() {
    let overrides = Overrides { budget: Some(0), ..Overrides::default() };
    let e = LoadedConfig::from_str(Path::new("configs/demo.yaml"), GOOD, &overrides).unwrap_err().to_string();
    assert!(e.starts_with("configs/demo.yaml: --budget (given on the command line"), "{e}");
    let huge = load(&GOOD.replace("budget: 20", "budget: 1000000000")).unwrap_err();
    assert!(huge.contains("expected at most 100000000"), "{huge}");
}

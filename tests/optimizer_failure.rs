//! An inner optimizer that fails: its error reaches the run journal as a strategy failure with
//! its own message (`summary.json`'s stop reason), and the run ends with the data kept.

use les_core::config::{LoadedConfig, Overrides};
use les_core::registry::{BuildContext, Built, InnerOptimizerEntry, PluginError};
use les_core::runner::{self, Mode, RunStatus, Silent};
use les_core::{DescentSequences, InnerOptimizer, OptimizerError, Params, PathBatch, StreamRng};

use les as _;

/// Fails on every call, as an optimizer whose iterates diverged would.
struct Diverges;

impl InnerOptimizer for Diverges {
    fn descend(&self, _: &dyn PathBatch, _: &[f64], _: &mut StreamRng) -> Result<DescentSequences, OptimizerError> {
        Err(OptimizerError::new("diverges: the step size 1e9 made every iterate leave the cube; lower it"))
    }
}

fn build(_: &Params, _: &BuildContext) -> Result<Built<dyn InnerOptimizer>, PluginError> {
    Ok(Built::new(Box::new(Diverges), &serde_json::json!({})))
}

inventory::submit! {
    InnerOptimizerEntry {
        name: "diverges",
        summary: "test double: always fails",
        details: "",
        default_params: || serde_json::json!({}),
        build,
    }
}

#[test]
fn an_optimizer_error_ends_the_run_with_its_message_in_the_journal() {
    let dir = tempfile::tempdir().expect("temporary directory");
    let out = dir.path().join("run");
    let yaml = format!(
        "objective: {{ builtin: sphere, dim: 2 }}\n\
         strategy:\n  name: les\n  params:\n    sampler: {{ name: descent, params: {{ paths: 4, inner_optimizer: {{ name: diverges }} }} }}\n    \
         surrogate: {{ name: gp, params: {{ features: 32, restarts: 1 }} }}\n\
         budget: 5\nseed: 3\noutput: {}\n",
        out.display()
    );
    let loaded = LoadedConfig::from_str(std::path::Path::new("failing.yaml"), &yaml, &Overrides::default())
        .map_err(|e| e.to_string())
        .expect("config loads");
    let built = loaded.build().map_err(|e| e.to_string()).expect("config builds");
    let outcome = runner::run(built, Mode::Fresh, &mut Silent).map_err(|e| e.to_string()).expect("runs");
    let RunStatus::StrategyFailed(reason) = &outcome.status else { panic!("{:?}", outcome.status) };
    assert!(reason.contains("inner optimizer: diverges: the step size 1e9"), "{reason}");
    let summary = std::fs::read_to_string(out.join("summary.json")).expect("summary written");
    assert!(summary.contains("inner optimizer: diverges"), "{summary}");
    let evaluations = std::fs::read_to_string(out.join("evaluations.jsonl")).expect("journal written");
    assert_eq!(evaluations.lines().count(), 2, "the initial design is kept: {evaluations}");
}

//! The `external` objective: a space without a function, for runs driven from your own loop
//! with `les ask` / `les tell` (or the library's `Study`), where the evaluation happens outside
//! `les` (a test rig, a queued simulation, a lab measurement).
//!
//! ```yaml
//! objective:
//!   external: furnace-temperature      # a name for reports and logs
//!   bounds: { lower: [200, 0.1], upper: [400, 2.0] }   # or `dim: d` for the unit cube
//! ```
//!
//! `les run` of such a config evaluates nothing: its every evaluation fails with a message
//! that says to use `les ask` / `les tell`.
//!
#![doc = include_str!("../params/external.md")]

use les_core::params::{ParamError, Params, PluginParams};
use les_core::registry::{BuildContext, Built, ObjectiveEntry, PluginError};
use les_core::{Objective, ObjectiveError, ObjectiveInfo};
use serde::{Deserialize, Serialize};

use crate::command::{BoundValue, BoundsSpec, CommandParams};

/// Parameters of the `external` objective: the whole `objective` block.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExternalParams {
    /// A name for the objective (reports, logs).
    pub external: String,
    /// Input dimension `d`; defaults to the length of the bounds.
    pub dim: Option<usize>,
    /// The box; defaults to the unit cube.
    pub bounds: Option<BoundsSpec>,
}

impl ExternalParams {
    fn as_space(&self) -> CommandParams {
        CommandParams { dim: self.dim, bounds: self.bounds.clone(), ..CommandParams::default() }
    }
}

impl PluginParams for ExternalParams {
    fn validate(&self) -> Result<(), ParamError> {
        if self.external.trim().is_empty() {
            return Err(ParamError::new(
                "external",
                "missing: expected a name for the objective, e.g. `external: rig`",
            ));
        }
        self.as_space().resolved_bounds().map(|_| ())
    }
}

/// An objective evaluated outside `les`.
#[derive(Debug)]
pub struct ExternalObjective {
    info: ObjectiveInfo,
}

impl Objective for ExternalObjective {
    fn info(&self) -> &ObjectiveInfo {
        &self.info
    }

    fn evaluate(&self, _x: &[f64]) -> Result<f64, ObjectiveError> {
        Err(ObjectiveError::Failed(format!(
            "objective `{}` is evaluated outside les: drive this run with `les ask DIR` / `les tell DIR TRIAL VALUE`",
            self.info.name
        )))
    }
}

fn build(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn Objective>, PluginError> {
    let mut p: ExternalParams = params.parse()?;
    let bounds = p.as_space().resolved_bounds().map_err(|e| e.prefixed(&params.path))?;
    let info = ObjectiveInfo {
        name: p.external.clone(),
        bounds: bounds.clone(),
        noise_std: 0.0,
        exact: false,
        known_minimum: None,
        known_minimizer: None,
    };
    p.dim = Some(bounds.dim());
    p.bounds = Some(BoundsSpec { lower: BoundValue::Values(bounds.lower), upper: BoundValue::Values(bounds.upper) });
    Ok(Built::new(Box::new(ExternalObjective { info }), &p))
}

inventory::submit! {
    ObjectiveEntry {
        name: "external",
        summary: "a search space whose objective is evaluated outside les (les ask / les tell)",
        details: concat!(
            "For runs driven from your own loop. `les run` cannot evaluate it: every evaluation fails \
                  with a message that says to use `les ask` and `les tell`.\n\n",
            include_str!("../params/external.md"),
        ),
        default_params: les_core::registry::defaults_of::<ExternalParams>,
        build,
    }
}

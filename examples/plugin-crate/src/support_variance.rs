//! `support_variance`: an acquisition over LES's descent sequences. The next point is the
//! support point where the model is least certain: `α(z) = σ²(z | D ∪ pending)`, over all
//! `M = L·P` support points of the sampled sequences. Uncertainty sampling restricted to
//! where the descents go; a cheap contrast to `mutual_information`.
//!
//! Points in flight are conditioned on as observations without values through
//! [`les_strategy_les::PendingConditioned`], so a point being evaluated is not asked again.
//!
//! No parameters.

use les_core::registry::{AcquisitionEntry, BuildContext, Built, PluginError};
use les_core::{Acquisition, AcquisitionContext, Params, SequenceAcquisition, Surrogate, SurrogateError};
use les_strategy_les::PendingConditioned;
use serde::{Deserialize, Serialize};

/// Parameters of `support_variance` (none).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupportVarianceParams {}

impl les_core::PluginParams for SupportVarianceParams {}

/// The registered acquisition.
pub struct SupportVariance;

/// One iteration's acquisition: the conditioned model and the support points.
struct Built_<'a> {
    model: PendingConditioned<'a>,
    support: Vec<f64>,
    per_path: usize,
}

impl Acquisition for Built_<'_> {
    fn values(&self, candidates: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        Ok(self.model.predict(candidates)?.variance)
    }

    fn candidates(&self) -> &[f64] {
        &self.support
    }

    fn candidate_path(&self, index: usize) -> Option<usize> {
        Some(index / self.per_path.max(1))
    }
}

impl SequenceAcquisition for SupportVariance {
    fn build<'a>(&self, ctx: &AcquisitionContext<'a>) -> Result<Box<dyn Acquisition + 'a>, SurrogateError> {
        let support = &ctx.sequences.support;
        Ok(Box::new(Built_ {
            model: PendingConditioned::new(ctx.surrogate, ctx.pending)?,
            support: support.points.clone(),
            per_path: support.per_path,
        }))
    }
}

fn build(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn SequenceAcquisition>, PluginError> {
    let p: SupportVarianceParams = params.parse()?;
    Ok(Built::new(Box::new(SupportVariance), &p))
}

inventory::submit! {
    AcquisitionEntry {
        name: "support_variance",
        summary: "posterior variance at the support points of the descent sequences (example plugin crate)",
        details: "alpha(z) = posterior variance at z given the data and the points in flight, over all L*P \
support points. No parameters.",
        default_params: les_core::registry::defaults_of::<SupportVarianceParams>,
        build,
    }
}

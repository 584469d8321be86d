//! Steps shared by the model-based strategies.

use les_core::FitReport;
use les_core::{AskContext, IterationReport, StrategyError, StreamRng};

use crate::acqopt::Maximum;
use crate::design::uniform_points;
use crate::model::Model;

/// Fits `model` to the data (phase `fit`, fit diagnostics under `surrogate`). With no data yet
/// (no initial design, or every evaluation failed) there is nothing to fit: the ask gets one
/// uniform random point and `None` is returned.
pub(crate) fn fit_or_random(
    model: &mut Model,
    ctx: &AskContext<'_>,
    rng: &mut StreamRng,
    ask_report: &mut IterationReport,
) -> Result<Option<FitReport>, StrategyError> {
    if ctx.data.is_empty() {
        ask_report.diagnostic("note", "no data to fit yet: uniform random point");
        return Ok(None);
    }
    let mut fit_rng = les_core::rng::child_rng(rng);
    let diag = ask_report.timed("fit", || model.fit(ctx.data, &mut fit_rng))?;
    ask_report.diagnostic("surrogate", diag.to_json());
    Ok(Some(diag))
}

/// Fills `points` with a uniform random point when `fit_or_random` gave `None`.
pub(crate) fn random_point(dim: usize, rng: &mut StreamRng) -> Vec<f64> {
    uniform_points(1, dim, rng)
}

/// The maximum, or an error saying the acquisition was nowhere finite.
pub(crate) fn maximum_or_error(found: Option<Maximum>, what: &str) -> Result<Maximum, StrategyError> {
    found.ok_or_else(|| {
        StrategyError::Other(format!(
            "{what} is not finite at any raw sample; the surrogate's posterior is degenerate (check its parameters)"
        ))
    })
}

//! Uniform random search.
//!
//! Every point is drawn uniformly in the unit cube from the iteration's own random stream, so
//! the strategy holds no state and resumes trivially. It proposes every point itself and asks
//! for no initial design.
//!
//! | key | default | meaning |
//! |-----|---------|---------|
//! | (none) | | |
//!
//! ```yaml
//! strategy: { name: random }
//! ```

use les_core::params::{Params, PluginParams};
use les_core::registry::{BuildContext, Built, PluginError, StrategyEntry};
use les_core::{Ask, AskContext, Strategy, StrategyError, StreamRng};
use serde::{Deserialize, Serialize};

use crate::design::uniform_points;

/// Parameters of `random` (none).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RandomParams {}

impl PluginParams for RandomParams {}

/// Uniform random search in `[0, 1]^d`.
#[derive(Clone, Debug)]
pub struct RandomStrategy {
    dim: usize,
}

impl RandomStrategy {
    /// Random search in dimension `d`.
    pub fn new(dim: usize) -> Self {
        Self { dim }
    }
}

impl Strategy for RandomStrategy {
    fn uses_initial_design(&self) -> bool {
        false
    }

    /// Every ask gives the next point of the design whatever is in flight, so asking again
    /// while evaluations are pending never repeats a point.
    fn handles_pending(&self) -> bool {
        true
    }

    fn ask(&mut self, _ctx: &AskContext<'_>, rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        Ok(Ask { points: vec![uniform_points(1, self.dim, rng)], ..Ask::default() })
    }
}

fn build(params: &Params, ctx: &BuildContext) -> Result<Built<dyn Strategy>, PluginError> {
    let p: RandomParams = params.parse()?;
    Ok(Built::new(Box::new(RandomStrategy::new(ctx.dim)), &p))
}

inventory::submit! {
    StrategyEntry {
        name: "random",
        summary: "uniform random search in the unit cube",
        details: "Draws every point uniformly in the unit cube from the iteration's random stream. \
                  No parameters, no initial design, no state.",
        default_params: les_core::registry::defaults_of::<RandomParams>,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::{Dataset, stream_rng};

    #[test]
    fn proposes_one_point_in_the_cube_from_the_stream() {
        let data = Dataset::new(3);
        let ctx = AskContext { pending: &[], data: &data, iteration: 1, n_proposed: 0, remaining: 5, budget: 5 };
        let mut s = RandomStrategy::new(3);
        let a = s.ask(&ctx, &mut stream_rng(1, "ask", 1)).unwrap();
        let b = s.ask(&ctx, &mut stream_rng(1, "ask", 1)).unwrap();
        let c = s.ask(&ctx, &mut stream_rng(1, "ask", 2)).unwrap();
        assert_eq!(a.points.len(), 1);
        assert!(a.points[0].iter().all(|v| (0.0..1.0).contains(v)));
        assert_eq!(a.points, b.points);
        assert_ne!(a.points, c.points);
    }
}

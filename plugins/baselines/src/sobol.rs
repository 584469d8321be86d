//! A scrambled Sobol sequence as a strategy (§17: "scrambled Sobol sequence, seeded; N points;
//! no initial random points").
//!
//! Point `k` of the run is point `k = AskContext::n_proposed` of one Owen-scrambled Sobol
//! sequence (`sobol_burley`, Burley 2020), so the strategy holds no state and resumes
//! trivially. The scramble seed is the `seed` parameter, or the run seed when it is `null`.
//! At most 2¹⁶ points and 256 dimensions.
//!
#![doc = include_str!("../params/sobol.md")]
//!
//! ```yaml
//! strategy: { name: sobol, params: { seed: null } }
//! ```

use les_core::params::{ParamError, Params, PluginParams};
use les_core::registry::{BuildContext, Built, PluginError, StrategyEntry};
use les_core::{Ask, AskContext, Strategy, StrategyError, StreamRng};
use serde::{Deserialize, Serialize};

use crate::design::{MAX_SOBOL_DIM, sobol_point, sobol_seed};

/// Parameters of `sobol`.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SobolParams {
    /// Scramble seed; `None` uses the run seed.
    pub seed: Option<u64>,
}

impl PluginParams for SobolParams {}

/// Proposes the points of one scrambled Sobol sequence in order.
#[derive(Clone, Debug)]
pub struct SobolStrategy {
    dim: usize,
    seed: u32,
}

impl SobolStrategy {
    /// The sequence in dimension `d` scrambled with `seed`.
    pub fn new(dim: usize, seed: u64) -> Self {
        Self { dim, seed: sobol_seed(seed) }
    }
}

impl Strategy for SobolStrategy {
    fn uses_initial_design(&self) -> bool {
        false
    }

    /// Every ask gives the next point of the design whatever is in flight, so asking again
    /// while evaluations are pending never repeats a point.
    fn handles_pending(&self) -> bool {
        true
    }

    fn ask(&mut self, ctx: &AskContext<'_>, _rng: &mut StreamRng) -> Result<Ask, StrategyError> {
        let point =
            sobol_point(ctx.n_proposed, self.dim, self.seed).map_err(|e| StrategyError::Other(e.to_string()))?;
        Ok(Ask { points: vec![point], ..Ask::default() })
    }
}

fn build(params: &Params, ctx: &BuildContext) -> Result<Built<dyn Strategy>, PluginError> {
    let p: SobolParams = params.parse()?;
    if ctx.dim > MAX_SOBOL_DIM {
        return Err(ParamError::new(
            params.path.clone(),
            format!("the Sobol generator supports at most {MAX_SOBOL_DIM} dimensions, the objective has {}", ctx.dim),
        )
        .into());
    }
    Ok(Built::new(Box::new(SobolStrategy::new(ctx.dim, p.seed.unwrap_or(ctx.seed))), &p))
}

inventory::submit! {
    StrategyEntry {
        name: "sobol",
        summary: "Owen-scrambled Sobol sequence (no initial random points)",
        details: concat!(
            "Proposes point k = (points proposed so far) of one Owen-scrambled Sobol sequence \
                  (sobol_burley). At most 2^16 points and 256 dimensions. Stateless, so resumable.\n\n",
            include_str!("../params/sobol.md"),
        ),
        default_params: les_core::registry::defaults_of::<SobolParams>,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::{Dataset, stream_rng};

    #[test]
    fn point_k_is_sequence_point_k() {
        let data = Dataset::new(2);
        let mut s = SobolStrategy::new(2, 9);
        let mut pts = Vec::new();
        for k in 0..8 {
            let ctx =
                AskContext { pending: &[], data: &data, iteration: k + 1, n_proposed: k, remaining: 8 - k, budget: 8 };
            pts.push(s.ask(&ctx, &mut stream_rng(0, "ask", k as u64)).unwrap().points.remove(0));
        }
        // Stratified in each coordinate: one point per eighth.
        for j in 0..2 {
            let mut cells: Vec<usize> = pts.iter().map(|p| (p[j] * 8.0) as usize).collect();
            cells.sort_unstable();
            assert_eq!(cells, (0..8).collect::<Vec<_>>());
        }
        // Resuming at k = 5 gives point 5, whatever the rng.
        let ctx = AskContext { pending: &[], data: &data, iteration: 1, n_proposed: 5, remaining: 3, budget: 8 };
        let again = SobolStrategy::new(2, 9).ask(&ctx, &mut stream_rng(5, "x", 0)).unwrap();
        assert_eq!(again.points[0], pts[5]);
    }

    #[test]
    fn seed_defaults_to_run_seed() {
        let ctx = BuildContext { dim: 3, oracle: None, seed: 11 };
        let built = build(&Params::new(serde_json::Value::Null, "strategy.params"), &ctx).unwrap();
        assert_eq!(built.resolved, serde_json::json!({ "seed": null }));
        let bad = build(&Params::new(serde_json::json!({ "sed": 1 }), "strategy.params"), &ctx).err().unwrap();
        assert!(bad.to_string().contains("strategy.params.sed"), "{bad}");
    }
}

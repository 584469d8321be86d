//! Baseline strategies of the LES paper (§17 of `docs/les-algorithm.md`), each registered in the
//! plugin registry under its config name (example configs in `configs/<name>.yaml`):
//!
//! | name     | what it is | module |
//! |----------|------------|--------|
//! | `random` | uniform random search in the unit cube | [`random`] |
//! | `sobol`  | Owen-scrambled Sobol sequence, no initial random points | [`sobol`] |
//! | `logei`  | analytic log expected improvement (logEI-DSP = gp with `lengthscale_prior: dimension_scaled`) | [`logei`] |
//! | `mes`    | max-value entropy search (Gumbel or pathwise min-value samples) | [`mes`] |
//! | `turbo`  | TuRBO-1: one trust region with Thompson sampling | [`turbo`] |
//! | `gibo`   | GIBO local gradient-information BO; HCI-GIBO with `step_rule: hci` | [`gibo`] |
//!
//! Every strategy works in the unit cube `[0, 1]^d` and minimizes. `ask` depends only on the
//! context, its random stream and state changed by `tell`, so every strategy is resumable
//! (`tests/with_gp.rs` checks it). Model-based strategies take a `surrogate: { name, params }`
//! block (default `{ name: gp }`), built through the registry ([`model::Model`]); what a
//! strategy needs beyond predictions (posterior gradients, a gradient posterior, conditioning
//! on pending points, hyperparameters) are the surrogate's typed capabilities, and a surrogate
//! without one is refused with an error naming both. With no data to fit (no initial design)
//! they propose a uniform random point.
//!
//! Shared pieces: [`normal`] (stable `ln h(z)` of LogEI), [`acqopt`] (multi-start projected
//! L-BFGS over the cube, BoTorch's `optimize_acqf` stand-in), [`design`] (Sobol points),
//! [`linalg`] (small Cholesky), [`believer`] (the posterior
//! conditioned on pending points: evaluations in flight, kriging believer).
//!
//! Time per iteration at d = 20, n = 100: `cargo bench -p les-baselines --bench iteration`.

pub mod acqopt;
pub mod believer;
pub mod design;
pub mod gibo;
pub mod linalg;
pub mod logei;
pub mod mes;
pub mod model;
pub mod normal;
pub mod random;
pub mod sobol;
mod strategy_util;
#[cfg(test)]
mod testutil;
pub mod turbo;

pub use gibo::{GiboParams, GiboStrategy, StepRule};
pub use logei::{LogEi, LogEiParams, LogEiStrategy};
pub use mes::{Mes, MesParams, MesStrategy};
pub use random::{RandomParams, RandomStrategy};
pub use sobol::{SobolParams, SobolStrategy};
pub use turbo::{TurboParams, TurboState, TurboStrategy};

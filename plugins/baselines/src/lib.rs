//! Baseline strategies of the LES paper (§17 of `docs/les-algorithm.md`), each registered in the
//! plugin registry under its config name:
//!
//! | name     | what it is |
//! |----------|------------|
//! | `random` | uniform random search in the unit cube |
//! | `sobol`  | Owen-scrambled Sobol sequence, no initial random points |
//! | `mes`    | max-value entropy search (Gumbel or pathwise min-value samples) |
//! | `turbo`  | TuRBO-1: one trust region with Thompson sampling |
//! | `gibo`   | GIBO local gradient-information BO; HCI-GIBO with `step_rule: hci` |
//! | `logei`  | analytic log expected improvement on a surrogate (logEI-DSP: a gp prior setting) |
//!
//! Every strategy works in the unit cube `[0, 1]^d` and minimizes. `ask` depends only on the
//! context, its random stream and state changed by `tell`, so every strategy is resumable.

pub mod acqopt;
pub mod design;
pub mod gibo;
pub mod gradpost;
pub mod linalg;
pub mod logei;
pub mod mes;
pub mod model;
pub mod normal;
pub mod random;
pub mod sobol;
mod strategy_util;
#[cfg(test)]
mod testgp;
#[cfg(test)]
mod testutil;
pub mod turbo;

pub use gibo::{Gibo, GiboParams, StepRule};
pub use logei::{LogEi, LogEiParams, LogEiStrategy};
pub use mes::{Mes, MesParams, MesStrategy};
pub use random::{RandomParams, RandomSearch};
pub use sobol::{SobolParams, SobolSequence};
pub use turbo::{Turbo, TurboParams, TurboState};

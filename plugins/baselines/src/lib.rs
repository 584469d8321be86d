//! Baseline strategies of the LES paper (§17 of `docs/les-algorithm.md`), each registered in the
//! plugin registry under its config name:
//!
//! | name     | what it is |
//! |----------|------------|
//! | `random` | uniform random search in the unit cube |
//! | `sobol`  | Owen-scrambled Sobol sequence, no initial random points |
//!
//! Every strategy works in the unit cube `[0, 1]^d` and minimizes. `ask` depends only on the
//! context, its random stream and state changed by `tell`, so every strategy is resumable.

pub mod design;
pub mod random;
pub mod sobol;

pub use random::{RandomParams, RandomSearch};
pub use sobol::{SobolParams, SobolSequence};

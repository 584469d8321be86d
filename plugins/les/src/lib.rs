//! Local Entropy Search (LES): a local Bayesian-optimization strategy that asks where an
//! iterative optimizer started at the incumbent would go if it were run on the true objective,
//! and evaluates where an observation tells most about that descent sequence.
//!
//! Reference: D. Stenger, A. Lindicke, A. von Rohr, S. Trimpe, *Local Entropy Search over
//! Descent Sequences for Bayesian Optimization*, ICLR 2026 (arXiv 2511.19241). Specification:
//! `docs/les-algorithm.md` §8–§15.
//!
//! # Algorithm (one `ask`)
//!
//! 1. **fit** the surrogate to the data (unit cube); incumbent `x̂` = best observed point.
//! 2. **paths**: draw `L` posterior sample paths (pathwise conditioning).
//! 3. **descent**: run the inner optimizer (`adam` by default) on all paths from `x̂`
//!    ([`sampler`]); every path gives a descent sequence `z_0 = x̂, z_1, …, z_T`.
//! 4. **support**: reduce each sequence to `P` points equally spaced in arc length
//!    ([`support`], `corrected` or the reference's off-by-one `reference` mode); the local
//!    regret `r_l = f^l(z_0) − f^l(z_T)` and the fraction of paths with `r_l < ε` are logged
//!    ([`regret`]) and optionally stop the run.
//! 5. **acquisition**: `α(c) = (1/2L) Σ_l [log σ_D²(c) − log σ_l²(c)]` at all `M = L·P` support
//!    points `c`, where `σ_l²` conditions on path `l`'s support points as virtual
//!    observations, computed exactly with Schur complements from one `M×M` posterior
//!    covariance ([`acquisition`]); the next point is the argmax.
//!
//! # Parameters (`strategy.params`)
//!
//! | key | default | meaning |
//! |---|---|---|
//! | `paths` | 250 | sample paths `L` |
//! | `support_points` | 8 | support points per path `P` |
//! | `support_mode` | `corrected` | `corrected` or `reference` (§9) |
//! | `inner_optimizer` | `{ name: adam }` | `adam`, `gradient_descent`, `cmaes` with their params |
//! | `surrogate` | `{ name: gp }` | a pathwise surrogate with its params |
//! | `entropy_of` | `latent` | `latent` (reference code) or `observation` (paper, BoTorch) |
//! | `min_variance` | 1e-12 | variance clamp before the logarithm |
//! | `virtual_noise` | model σ_n² | noise variance of the virtual observations |
//! | `exclude_observed_tol` | none | drop candidates this close to an observed point |
//! | `regret_epsilon` | 0.02 | ε of the logged local-regret fraction |
//! | `stop` | none | `{ epsilon: 0.02, probability: 0.95 }`: stop when that fraction of paths has `r_l < ε` |
//!
//! Every ablation of §14 that varies `L`, `P`, the inner optimizer or its parameters, the
//! entropy convention or the support mode is a config edit. Gradient conditioning
//! (`lesgradcond`) and final-point-only conditioning (`les_fp_wgrad`) are not implemented.
//!
//! # Example
//!
//! ```yaml
//! strategy:
//!   name: les
//!   params:
//!     paths: 250
//!     support_points: 8
//!     inner_optimizer: { name: adam, params: { learning_rate: 0.002, steps: 500 } }
//!     surrogate: { name: gp }
//! ```

pub mod acquisition;
pub mod linalg;
pub mod params;
pub mod regret;
pub mod sampler;
pub mod strategy;
pub mod support;
pub mod testing;

pub use acquisition::{AcquisitionSettings, EntropyOf, MutualInformation};
pub use params::{LesParams, StopRule};
pub use sampler::DescentSampler;
pub use strategy::LocalEntropySearch;
pub use support::{SupportMode, extract_support};

/// The text of `les describe les`.
pub const DETAILS: &str = "\
Local Entropy Search (LES) asks where an iterative optimizer started at the incumbent would go if \
it ran on the true objective. Each iteration fits the surrogate, draws L posterior sample paths, \
runs the inner optimizer (Adam by default) on every path from the best observed point, reduces each \
descent sequence to P points equally spaced in arc length, and evaluates next where an observation \
carries most information about the sequences: the mutual information \
alpha(c) = 1/(2L) sum_l [log var_D(c) - log var_l(c)], var_l conditioning on path l's support points \
as virtual observations (exact, via Schur complements), maximized over all L*P support points. The \
local regret r_l = f_l(z_0) - f_l(z_T) is logged every iteration and can stop the run.

Parameters:
  paths                 250             sample paths L
  support_points        8               support points per path P
  support_mode          corrected       corrected | reference (the reference code's off-by-one)
  inner_optimizer       {name: adam}    adam | gradient_descent | cmaes, with their params
  surrogate             {name: gp}      a pathwise surrogate, with its params
  entropy_of            latent          latent (reference code) | observation (paper, BoTorch)
  min_variance          1e-12           variance clamp before the logarithm
  virtual_noise         model noise     noise variance of the virtual observations
  exclude_observed_tol  none            drop candidates this close to an observed point
  regret_epsilon        0.02            epsilon of the logged local-regret fraction
  stop                  none            {epsilon: 0.02, probability: 0.95}: stop when that fraction
                                        of paths has local regret below epsilon

Ablations (L, P, inner optimizer and its parameters, entropy convention, support mode) are config \
edits; gradient conditioning and final-point-only conditioning are not implemented.

Reference: D. Stenger, A. Lindicke, A. von Rohr, S. Trimpe, Local Entropy Search over Descent \
Sequences for Bayesian Optimization, ICLR 2026 (arXiv 2511.19241).";

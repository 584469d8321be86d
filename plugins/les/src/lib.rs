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
//! LES is composed of three registered plugins, each chosen in YAML with `{ name, params }`:
//! a pathwise **surrogate** (`gp`), a **sequence sampler** (`descent`) and an **acquisition**
//! over the sampled sequences (`mutual_information`). The strategy calls only their traits
//! (`Surrogate`, [`les_core::SequenceSampler`], [`les_core::SequenceAcquisition`]).
//!
//! 1. **fit** the surrogate to the data (unit cube); incumbent `x̂` = best observed point.
//! 2. the sampler ([`sampler`], `descent`): **paths** — draw `L` posterior sample paths
//!    (pathwise conditioning); **descent** — run the inner optimizer (`adam` by default) on
//!    all paths from `x̂`, giving descent sequences `z_0 = x̂, z_1, …, z_T`; **support** —
//!    reduce each sequence to `P` points equally spaced in arc length ([`support`],
//!    `corrected` or the reference's off-by-one `reference` mode). The local regret
//!    `r_l = f^l(z_0) − f^l(z_T)` and the fraction of paths with `r_l < ε` are logged
//!    ([`regret`]) and optionally stop the run.
//! 3. **acquisition** ([`acquisition`], `mutual_information`):
//!    `α(c) = (1/2L) Σ_l [log σ_D²(c) − log σ_l²(c)]` at all `M = L·P` support points `c`,
//!    where `σ_l²` conditions on path `l`'s support points as virtual observations, computed
//!    exactly with Schur complements from the `M×M` posterior covariance (in tiles); the next point is
//!    the argmax. Points in flight (`AskContext::pending`) are conditioned on as observations
//!    without values, exactly ([`pending`] explains why the paths need no change).
//!
//! The paper's other variants (§14) are plugins too: the acquisitions `gradient_information`
//! (`lesgradcond`: gradients at `z_0` and the support points) and `final_point_information`
//! (`les_fp_wgrad`: value, zero gradient and diagonal Hessian at each final point), and the
//! strategy `local_ts` (one path, its final point evaluated).
//!
//! # Parameters (`strategy.params`)
//!
#![doc = include_str!("../params/les.md")]
//!
//! The flat keys of earlier versions (`paths`, `support_points`, `support_mode`,
//! `inner_optimizer` at the top of `strategy.params`; `entropy_of`, `min_variance`,
//! `virtual_noise`) are still accepted and moved into the `descent` sampler and the
//! `mutual_information` acquisition ([`params::migrate_flat_params`]); the resolved config
//! shows the composed form.
//!
//! # Example
//!
//! ```yaml
//! strategy:
//!   name: les
//!   params:
//!     surrogate: { name: gp, params: { hyperparameters: map } }
//!     sampler:
//!       name: descent
//!       params: { paths: 250, support_points: 8, inner_optimizer: { name: adam, params: { steps: 500 } } }
//!     acquisition: { name: mutual_information, params: { entropy_of: latent } }
//! ```

pub mod acquisition;
pub mod derivatives;
pub mod information_sources;
pub mod local_ts;
pub mod params;
pub mod pending;
pub mod regret;
pub mod sampler;
pub mod strategy;
pub mod support;

pub use acquisition::{AcquisitionSettings, EntropyOf, MutualInformation, MutualInformationAcquisition};
pub use information_sources::InformationSource;
pub use local_ts::LocalTsStrategy;
pub use params::{LesParams, StopRule};
pub use pending::PendingConditioned;
pub use sampler::{DescentParams, DescentSampler};
pub use strategy::LesStrategy;
pub use support::{SupportMode, extract_support};

/// The text of `les describe les`.
pub const DETAILS: &str = concat!(
    "\
Local Entropy Search (LES) asks where an iterative optimizer started at the incumbent would go if \
it ran on the true objective. LES is a surrogate + a sequence sampler + an acquisition, each a \
plugin chosen with {name, params}. Each iteration fits the surrogate; the sampler (descent: L \
posterior sample paths, the inner optimizer from the best observed point on each, P support points \
equally spaced in arc length) gives descent sequences; the acquisition (mutual_information: \
alpha(c) = 1/(2L) sum_l [log var_D(c) - log var_l(c)], var_l conditioning on path l's support \
points as virtual observations, exact via Schur complements) is maximized over its candidates (all \
L*P support points). Points in flight are conditioned on as observations without values (exact: \
the variances depend on locations only). The local regret r_l = f_l(z_0) - f_l(z_T) is logged \
every iteration and can stop the run.

",
    include_str!("../params/les.md"),
    "
The flat keys of earlier versions (paths, support_points, support_mode, inner_optimizer, \
entropy_of, min_variance, virtual_noise directly under params) are still accepted and moved into \
the descent sampler and the mutual_information acquisition.

Reference: D. Stenger, A. Lindicke, A. von Rohr, S. Trimpe, Local Entropy Search over Descent \
Sequences for Bayesian Optimization, ICLR 2026 (arXiv 2511.19241)."
);

//! Exact Gaussian-process surrogate `gp` of `les` (docs/les-algorithm.md §5–§7, §10.3).
//!
//! # Model
//! A zero-mean GP on inputs in the unit cube `[0,1]^d` with an ARD kernel (`se_ard` default,
//! `matern52`), Gaussian observation noise σ_n² (fixed, default `σ_n = 2e-3`, or MAP-fitted in
//! `[1.41e-3, 0.1]`), and outputs standardized by mean and **population** std (§5.3; with one
//! observation `shift = y_1 + 1`, `scale = 1`) or raw (`standardize: false`). Everything the
//! model returns is in model scale: `y_model = (y − shift)/scale`. The noise is not rescaled.
//!
//! Hyperparameters (§6.2–§6.3): `map` maximizes log marginal likelihood + log length-scale
//! prior with analytic gradients and a box-bounded L-BFGS on log-parameters ([`les_numerics::lbfgs`]),
//! from `restarts` starts (the documented initial value, the previous fit if `warm_start`,
//! then prior draws; up to 20 attempts if all fail); `oracle` takes them from the objective (`BuildContext.oracle`);
//! `{ fixed: { lengthscales, signal_variance } }` fixes them.
//!
//! # Config (`surrogate: { name: gp, params: … }`)
//!
#![doc = include_str!("../params/gp.md")]
//!
//! Complexity levels (§6.2): `log ℓ ~ 𝒩(μ_c + ln√d, s_c²)` with `(μ_c, s_c)` = high
//! `(−2.5√2, √3/5)`, medium `(−2√2, √3/4)`, low `(−√2, √3/2)`, extremely low `(√2, √3)`; initial
//! `ℓ = exp(μ + s/2)`, constraint `[1e-4, 1e10]`. Box: Uniform(lo, hi), initial `0.2·√d` (clamped),
//! constraint `[lo, hi]`. σ_f²: initial 1, no prior.
//!
//! # Public API for strategies
//! Build the concrete type with [`ExactGp::from_params`] (same parsing as the registry entry),
//! `fit` it, then use [`ExactGp::posterior`] → [`GpPosterior`]:
//! - [`GpPosterior::predict`], [`GpPosterior::covariance_matrix`] (point sets),
//!   [`GpPosterior::mean_variance_gradients`] (μ, σ² and their gradients at a point);
//! - [`GpPosterior::condition_candidates`] → [`CandidateConditioning`]: Schur-complement
//!   conditioning on virtual observations (§10.3). For LES: put all `M = L·P` support points in
//!   `C`, give each path's `P` points as indices, and call
//!   [`CandidateConditioning::conditional_variances_batch`] (`L×M` variances
//!   `σ²(c | D ∪ Z_l)`) together with [`CandidateConditioning::variances`] (`σ_D²(c)`);
//!   [`CandidateConditioning::cross_covariance`] gives `G = K_{C,Z} − A_Cᵀ A_Z` for one subset;
//! - [`ExactGp::sample_path_set`] → [`PathSet`] (also via `as_pathwise()` as a boxed
//!   `PathBatch`): `L` posterior paths, value and gradient of every path at its own point per
//!   call; [`PathSet::prior`] draws prior paths; [`rff`] holds the reusable feature code;
//! - [`derivative::DerivativeGp`]: posterior of the gradient at a point, also after
//!   hypothetical value observations (GIBO).
//!
//! # Numerics
//! Cholesky with the escalating jitter of [`les_numerics::cholesky`], a typed
//! `SurrogateError::NotPositiveDefinite` (with the absolute jitter) when it still fails; the
//! MAP fit runs the projected L-BFGS of [`les_numerics::lbfgs`]. Parallel work (kernel matrices,
//! triangular solves, paths, Schur batches) is split into fixed-size blocks, so results do not
//! depend on the thread count.
//!
//! # Performance (bench `cargo bench -p les-strategy-les --bench les_step -- paths d n`)
//! One `value_and_grad` call of `L` paths with `B` features costs `2·L·d·(B + n)`
//! multiply-adds, `L·B` sine/cosine pairs and `L·n` exponentials. The random-feature part
//! (all of the sines and cosines, most of the multiply-adds) runs in single precision by
//! default ([`rff_single`]: fused per path, AVX2/FMA where the CPU has it, chosen at run time
//! and named by [`rff_single::kernel_name`], `Ω` laid out chunk by chunk so that a chunk's
//! frequencies stay in L1); the kernel part in double precision. The same seed gives the same
//! bits on every x86-64 CPU with AVX2 and FMA, whatever machine built the binary.
//! [`PathSet::values`](les_core::PathBatch::values) skips the gradients, and
//! [`PathBatch::gradients_block`](les_core::PathBatch::gradients_block) the values (sine
//! only, [`rff_single::SingleFeatures::gradients`]) for one block of [`paths::PATH_BLOCK`]
//! paths on the calling thread, so that an inner optimizer can run a block's whole descent
//! without synchronizing threads at every step.
//!
//! # Example
//! ```
//! use les_core::{Dataset, Params, Surrogate, registry::BuildContext, stream_rng};
//! let ctx = BuildContext { dim: 2, ..Default::default() };
//! let params = Params::new(serde_json::json!({ "hyperparameters": { "fixed": { "lengthscales": [0.3] } } }), "surrogate.params");
//! let (mut gp, _) = les_gp::ExactGp::from_params(&params, &ctx).unwrap();
//! let data = Dataset::from_rows(2, vec![0.1, 0.2, 0.8, 0.7, 0.5, 0.5], vec![1.0, 2.0, 0.5]);
//! gp.fit(&data, &mut stream_rng(1, "fit", 0)).unwrap();
//! let pred = gp.predict(&[0.4, 0.4]).unwrap();
//! assert!(pred.variance[0] > 0.0);
//! ```

pub mod derivative;
pub mod exact;
mod isa;
pub mod kernel;
pub mod linalg;
pub mod map;
pub mod params;
pub mod paths;
pub mod posterior;
pub mod rff;
pub mod rff_single;
pub mod schur;
mod spare;
pub mod spd_inverse;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use derivative::{DerivativeGp, GradientAt};
pub use exact::ExactGp;
pub use kernel::Kernel;
pub use params::GpParams;
pub use paths::{PathPrecision, PathSet};
pub use posterior::GpPosterior;
pub use schur::CandidateConditioning;

use les_core::registry::{BuildContext, Built, SurrogateEntry, defaults_of};
use les_core::{Params, PluginError, Surrogate};

fn build_gp(params: &Params, ctx: &BuildContext) -> Result<Built<dyn Surrogate>, PluginError> {
    let (gp, p) = ExactGp::from_params(params, ctx)?;
    Ok(Built::new(Box::new(gp) as Box<dyn Surrogate>, &p))
}

const DETAILS: &str = concat!(
    "Exact Gaussian process on the unit cube (zero mean, ARD kernel, Gaussian noise), refitted on every \
call to fit. Outputs standardized with the population std (n = 1: shift y1 + 1, scale 1) unless \
standardize: false. Posterior sample paths: B random Fourier features shared by the paths plus the \
Matheron update (pathwise conditioning, Wilson et al. 2020).\n\n",
    include_str!("../params/gp.md"),
    "
Length-scale priors high, medium, low, extremely_low: (mu_c, s_c) = (-2.5 sqrt2, sqrt3/5), (-2 sqrt2, \
sqrt3/4), (-sqrt2, sqrt3/2), (sqrt2, sqrt3); initial exp(mu + s/2), constraint [1e-4, 1e10]. \
Signal variance: MAP, init 1, no prior. Cholesky with escalating relative jitter 1e-10..1e-6 of the \
mean diagonal; a matrix that still fails is a NotPositiveDefinite error.
Reference: docs/les-algorithm.md sections 5-7 and 10.3; Rasmussen & Williams (2006), ch. 2 and 5."
);

inventory::submit! {
    SurrogateEntry {
        name: "gp",
        summary: "exact Gaussian process (SE-ARD or Matern-5/2) with MAP, fixed or oracle hyperparameters and pathwise sample paths",
        details: DETAILS,
        default_params: defaults_of::<GpParams>,
        build: build_gp,
    }
}

// The random-feature kernels are chosen on the machine that runs (see `isa`); the journal
// records the choice with every ask.
inventory::submit! {
    les_core::arithmetic::ArithmeticEntry { name: "gp_kernels", choice: rff_single::kernel_name }
}

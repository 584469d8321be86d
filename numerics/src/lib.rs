//! The numerics of les, each concept written once and used by every crate:
//!
//! - [`cholesky`]: Cholesky factorization with the one jitter policy (plain first, then
//!   relative jitters 1e-10 … 1e-6 of the mean diagonal) and the one error type, which
//!   reports the absolute jitter tried;
//! - [`triangular`]: triangular solves, products and inverses (blocked for large
//!   right-hand sides, row-major for the small systems);
//! - [`gemm`]: `c ← αab + βc` on strided sub-blocks, through `matrixmultiply`;
//! - [`lbfgs`]: the box-constrained (projected) L-BFGS of the MAP fit and of every
//!   acquisition optimizer, checked against SciPy's L-BFGS-B (tests/lbfgs_scipy.rs);
//! - [`special`]: erfc, erfcx and the standard normal functions built on them;
//! - `fdcheck` (feature `testing`): the finite-difference gradient checker of the tests.

pub mod cholesky;
#[cfg(feature = "testing")]
pub mod fdcheck;
pub mod gemm;
pub mod lbfgs;
pub mod special;
pub mod triangular;

//! Inner optimizers of `les`: iterative methods run on a whole batch of `L` posterior sample
//! paths at once to simulate descent sequences (spec §8 of `docs/les-algorithm.md`).
//!
//! Registered as inner optimizers:
//!
//! | name | method | reference setting |
//! |---|---|---|
//! | `adam` | projected Adam (Keras formulation) | `les_250_8`: lr 0.002, β1 0.9, β2 0.999, ε 1e-7, 500 steps |
//! | `gradient_descent` | projected gradient descent | `lesGD_250_8`: lr 1e-4, 500 steps |
//! | `cmaes` | one CMA-ES per path | `lesCMAES_20_8`: σ0 0.5, 50 generations, λ = 4 + ⌊3 ln d⌋ |
//!
//! Every optimizer starts all paths at the same point `z_0`, projects onto `[0, 1]^d` after
//! every update, and returns the full history of every path in step-major layout
//! ([`les_core::DescentSequences`]): record `t` is the position after `t` updates (`z_0`
//! included), with CMA-ES also the path value at exactly that position. The reference
//! implementation's misaligned records are a view of these (see [`history`]). The first-order
//! methods follow gradients only: one [`les_core::PathBatch::gradients_block`] per block of
//! paths and step, each block's whole descent on one thread, with buffers allocated once per
//! call of `descend`; they record no values (read them with
//! [`les_core::DescentSequences::values_at`]).
//!
//! `descend` gets a random stream of its call (derived from the run's seed and the iteration;
//! only CMA-ES draws from it) and returns an error with a message instead of panicking on a
//! start point that is not `d` coordinates in the cube; the error ends the run as a strategy
//! failure recorded in `summary.json`.
//!
//! Early stop (`stop_tol`, off by default): the run ends after the first step in which no path
//! moved farther (Euclidean) than the tolerance; the history is then shortened, not padded, so
//! `n_records ≤ steps + 1`.

pub mod adam;
pub mod cmaes;
pub mod gradient_descent;
pub mod history;
#[cfg(any(test, feature = "testing"))]
pub mod testing;

pub use adam::{Adam, AdamParams};
pub use cmaes::{Cmaes, CmaesParams};
pub use gradient_descent::{GradientDescent, GradientDescentParams};

use les_core::{OptimizerError, ParamError, PathBatch};

/// Default number of updates `T` of the first-order methods (the reference's 500).
pub const DEFAULT_STEPS: usize = 500;

/// Checks the parameters the first-order methods share.
fn validate_common(learning_rate: f64, steps: usize, stop_tol: Option<f64>) -> Result<(), ParamError> {
    if !(learning_rate.is_finite() && learning_rate > 0.0) {
        return Err(ParamError::invalid("learning_rate", learning_rate, "a finite number > 0"));
    }
    if steps == 0 {
        return Err(ParamError::invalid("steps", steps, "at least 1"));
    }
    if let Some(tol) = stop_tol
        && !(tol.is_finite() && tol >= 0.0)
    {
        return Err(ParamError::invalid("stop_tol", tol, "a finite number ≥ 0, or absent"));
    }
    Ok(())
}

/// Checks a start point against the paths: `d` finite coordinates in `[0, 1]`.
fn check_start(name: &str, paths: &dyn PathBatch, x0: &[f64]) -> Result<(), OptimizerError> {
    if x0.len() != paths.dim() {
        return Err(OptimizerError::new(format!(
            "{name}: the start point has {} coordinates, but the paths are in d = {}",
            x0.len(),
            paths.dim()
        )));
    }
    if let Some(bad) = x0.iter().find(|v| !(0.0..=1.0).contains(*v)) {
        return Err(OptimizerError::new(format!(
            "{name}: start point coordinate {bad} is not valid: expected a value in [0, 1] (the unit cube)"
        )));
    }
    Ok(())
}

//! Multi-start maximization of an acquisition function over the unit cube, as BoTorch's
//! `optimize_acqf` does it: evaluate a raw sample set, start a bound-constrained quasi-Newton
//! ascent from the best few raw samples, return the best point found.
//!
//! The local solver is the projected L-BFGS of [`les_numerics::lbfgs`] (the one of the GP's MAP
//! fit, checked against SciPy's L-BFGS-B that BoTorch calls) on `−f`. Everything is
//! deterministic given the start points, so results do not depend on the number of threads.
//!
//! Starts: the `restarts` best raw samples (BoTorch draws them by Boltzmann sampling on the
//! raw values, always keeping the best one; taking the top ones is the greedy limit of that).

use les_numerics::lbfgs::{LbfgsOptions, try_minimize_box};
use serde::{Deserialize, Serialize};

use crate::design::{sobol_points, sobol_seed};

/// Paper setting (§17): raw samples of `optimize_acqf`.
pub const DEFAULT_RAW_SAMPLES: usize = 512;
/// Paper setting (§17): restarts of `optimize_acqf`.
pub const DEFAULT_RESTARTS: usize = 10;
/// Iterations of each local ascent (BoTorch's L-BFGS-B default `maxiter`).
pub const DEFAULT_MAX_ITERS: usize = 200;
/// Relative decrease below which a local ascent stops (SciPy's `factr = 1e7` times ε).
const FTOL: f64 = 1e7 * f64::EPSILON;
/// Projected-gradient size below which a local ascent stops.
const PGTOL: f64 = 1e-9;
/// Largest coordinate change of the first (steepest-ascent) step of a local run.
const FIRST_STEP: f64 = 0.1;

/// How an acquisition is maximized (a block of a strategy's parameters).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AcqOptimizerParams {
    /// Scrambled-Sobol raw samples evaluated to pick the starts.
    pub raw_samples: usize,
    /// Local ascents, started from the best raw samples.
    pub restarts: usize,
    /// Iterations of each local ascent (0 = take the best raw sample).
    pub max_iters: usize,
}

impl Default for AcqOptimizerParams {
    fn default() -> Self {
        Self { raw_samples: DEFAULT_RAW_SAMPLES, restarts: DEFAULT_RESTARTS, max_iters: DEFAULT_MAX_ITERS }
    }
}

impl AcqOptimizerParams {
    /// Checks the values; `prefix` is the block's key (`acq_optimizer`).
    pub fn validate(&self, prefix: &str) -> Result<(), les_core::ParamError> {
        if self.raw_samples == 0 || self.raw_samples > crate::design::MAX_SOBOL_POINTS {
            return Err(les_core::ParamError::invalid(
                format!("{prefix}.raw_samples"),
                self.raw_samples,
                "between 1 and 65536",
            ));
        }
        if self.restarts == 0 || self.restarts > self.raw_samples {
            return Err(les_core::ParamError::invalid(
                format!("{prefix}.restarts"),
                self.restarts,
                "between 1 and raw_samples",
            ));
        }
        Ok(())
    }
}

/// A function to maximize, with a batch evaluation for the raw samples and a single-point
/// value-and-gradient for the local ascents.
pub trait Maximand {
    /// Error of an evaluation.
    type Error;
    /// Values at `m` points (`m×d`).
    fn values(&self, xs: &[f64]) -> Result<Vec<f64>, Self::Error>;
    /// Value and gradient (`d`) at one point.
    fn value_and_grad(&self, x: &[f64]) -> Result<(f64, Vec<f64>), Self::Error>;
}

/// The best point found and its value.
#[derive(Clone, Debug, PartialEq)]
pub struct Maximum {
    /// The maximizer in `[0, 1]^d`.
    pub x: Vec<f64>,
    /// Its value.
    pub value: f64,
}

/// Maximizes `f` over `[0, 1]^d`: raw samples from the scrambled Sobol sequence `seed`, then
/// projected L-BFGS from the best `restarts` of them. Non-finite values count as `−∞`.
pub fn maximize<F: Maximand>(
    f: &F,
    dim: usize,
    params: &AcqOptimizerParams,
    seed: u64,
) -> Result<Option<Maximum>, F::Error> {
    let raw = sobol_points(params.raw_samples.min(crate::design::MAX_SOBOL_POINTS), dim, sobol_seed(seed))
        .expect("invariant: raw_samples and d are validated against the Sobol limits");
    let values = f.values(&raw)?;
    let mut order: Vec<usize> = (0..values.len()).filter(|&i| values[i].is_finite()).collect();
    order.sort_by(|&a, &b| values[b].total_cmp(&values[a]).then(a.cmp(&b)));
    let mut best: Option<Maximum> = None;
    let mut consider = |x: Vec<f64>, v: f64| {
        if v.is_finite() && best.as_ref().is_none_or(|b| v > b.value) {
            best = Some(Maximum { x, value: v });
        }
    };
    for &i in order.iter().take(params.restarts) {
        let x0 = raw[i * dim..(i + 1) * dim].to_vec();
        consider(x0.clone(), values[i]);
        if params.max_iters > 0 {
            let (x, v) = ascend(f, x0, params.max_iters)?;
            consider(x, v);
        }
    }
    Ok(best)
}

/// Projected L-BFGS ascent of `f` from `x0` in `[0, 1]^d`; returns the last accepted point and
/// its value (`−∞` when `f(x0)` is not finite).
pub fn ascend<F: Maximand>(f: &F, x0: Vec<f64>, max_iters: usize) -> Result<(Vec<f64>, f64), F::Error> {
    let d = x0.len();
    let options = LbfgsOptions { max_iterations: max_iters, pg_tol: PGTOL, f_tol: FTOL, first_step: FIRST_STEP };
    // Minimize −f.
    let negated = |x: &[f64], g: &mut [f64]| -> Result<f64, F::Error> {
        let (v, grad) = f.value_and_grad(x)?;
        for (gi, v) in g.iter_mut().zip(grad) {
            *gi = -v;
        }
        Ok(-v)
    };
    let result = try_minimize_box(negated, &x0, &vec![0.0; d], &vec![1.0; d], options)?;
    Ok(result.map_or((x0, f64::NEG_INFINITY), |r| (r.x, -r.f)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// −(Rosenbrock-like valley) with its maximum at a chosen interior or boundary point.
    struct Quad {
        centre: Vec<f64>,
    }

    impl Maximand for Quad {
        type Error = ();
        fn values(&self, xs: &[f64]) -> Result<Vec<f64>, ()> {
            Ok(xs.chunks(self.centre.len()).map(|x| self.value_and_grad(x).unwrap().0).collect())
        }
        fn value_and_grad(&self, x: &[f64]) -> Result<(f64, Vec<f64>), ()> {
            // f = −Σ w_i (x_i − c_i)² − (x_0 − c_0)(x_1 − c_1): ill-conditioned, coupled.
            let d = x.len();
            let r: Vec<f64> = (0..d).map(|i| x[i] - self.centre[i]).collect();
            let w = |i: usize| 1.0 + 30.0 * i as f64;
            let v = -(0..d).map(|i| w(i) * r[i] * r[i]).sum::<f64>() - r[0] * r[1];
            let mut g: Vec<f64> = (0..d).map(|i| -2.0 * w(i) * r[i]).collect();
            g[0] -= r[1];
            g[1] -= r[0];
            Ok((v, g))
        }
    }

    #[test]
    fn finds_interior_and_boundary_maxima() {
        let inner = Quad { centre: vec![0.3, 0.6, 0.2, 0.9] };
        let m = maximize(&inner, 4, &AcqOptimizerParams::default(), 1).unwrap().unwrap();
        for (a, b) in m.x.iter().zip(&inner.centre) {
            assert!((a - b).abs() < 1e-5, "{:?}", m.x);
        }
        // Centre outside the cube in coordinates 1 and 3: the maximizer sits on the faces.
        let outer = Quad { centre: vec![0.3, 1.4, 0.2, -0.5] };
        let m = maximize(&outer, 4, &AcqOptimizerParams::default(), 2).unwrap().unwrap();
        assert_eq!(m.x[1], 1.0);
        assert_eq!(m.x[3], 0.0);
        // The coupling term moves x_0 off its centre: ∂f/∂x_0 = −2(x_0 − 0.3) − (1 − 1.4) = 0.
        assert!((m.x[0] - 0.5).abs() < 1e-5, "{:?}", m.x);
        assert!((m.x[2] - 0.2).abs() < 1e-5, "{:?}", m.x);
    }
}

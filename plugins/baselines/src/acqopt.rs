//! Multi-start maximization of an acquisition function over the unit cube, as BoTorch's
//! `optimize_acqf` does it: evaluate a raw sample set, start a bound-constrained quasi-Newton
//! ascent from the best few raw samples, return the best point found.
//!
//! The local solver is a projected L-BFGS (two-loop recursion on the free coordinates, a
//! projected backtracking Armijo search, memory reset when the direction is not a descent
//! direction) — a light stand-in for SciPy's L-BFGS-B that BoTorch calls. Everything is
//! deterministic given the start points, so results do not depend on the number of threads.
//!
//! Starts: the `restarts` best raw samples (BoTorch draws them by Boltzmann sampling on the
//! raw values, always keeping the best one; taking the top ones is the greedy limit of that).

use serde::{Deserialize, Serialize};

use crate::design::{sobol_points, sobol_seed};

/// Paper setting (§17): raw samples of `optimize_acqf`.
pub const DEFAULT_RAW_SAMPLES: usize = 512;
/// Paper setting (§17): restarts of `optimize_acqf`.
pub const DEFAULT_RESTARTS: usize = 10;
/// Iterations of each local ascent (BoTorch's L-BFGS-B default `maxiter`).
pub const DEFAULT_MAX_ITERS: usize = 200;
/// L-BFGS memory.
const MEMORY: usize = 10;
/// Relative decrease below which a local ascent stops (SciPy's `factr = 1e7` times ε).
const FTOL: f64 = 1e7 * f64::EPSILON;
/// Projected-gradient size below which a local ascent stops.
const PGTOL: f64 = 1e-9;
/// Armijo sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
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
/// its value.
pub fn ascend<F: Maximand>(f: &F, mut x: Vec<f64>, max_iters: usize) -> Result<(Vec<f64>, f64), F::Error> {
    let d = x.len();
    // Minimize g = −f.
    let eval = |x: &[f64]| -> Result<(f64, Vec<f64>), F::Error> {
        let (v, mut g) = f.value_and_grad(x)?;
        if !v.is_finite() || g.iter().any(|gi| !gi.is_finite()) {
            return Ok((f64::INFINITY, vec![0.0; x.len()]));
        }
        g.iter_mut().for_each(|gi| *gi = -*gi);
        Ok((-v, g))
    };
    let (mut fx, mut gx) = eval(&x)?;
    if !fx.is_finite() {
        return Ok((x, -fx));
    }
    let mut mem_s: Vec<Vec<f64>> = Vec::new();
    let mut mem_y: Vec<Vec<f64>> = Vec::new();
    for _ in 0..max_iters {
        // Coordinates held at a bound by the gradient do not move.
        let free: Vec<bool> = (0..d).map(|i| !((x[i] <= 0.0 && gx[i] > 0.0) || (x[i] >= 1.0 && gx[i] < 0.0))).collect();
        let pg: Vec<f64> = (0..d).map(|i| if free[i] { gx[i] } else { 0.0 }).collect();
        if pg.iter().fold(0.0_f64, |m, v| m.max(v.abs())) < PGTOL {
            break;
        }
        let mut dir = two_loop(&pg, &mem_s, &mem_y);
        for i in 0..d {
            if !free[i] {
                dir[i] = 0.0;
            }
        }
        if dot(&dir, &pg) >= 0.0 {
            mem_s.clear();
            mem_y.clear();
            dir = pg.iter().map(|v| -v).collect();
        }
        let mut t = if mem_s.is_empty() {
            (FIRST_STEP / dir.iter().fold(0.0_f64, |m, v| m.max(v.abs()))).min(1.0)
        } else {
            1.0
        };
        let mut accepted = None;
        for _ in 0..40 {
            let xn: Vec<f64> = (0..d).map(|i| (x[i] + t * dir[i]).clamp(0.0, 1.0)).collect();
            let decrease: f64 = (0..d).map(|i| gx[i] * (xn[i] - x[i])).sum();
            if decrease >= 0.0 {
                break; // the projected step no longer descends: nothing left to gain
            }
            let (fn_, gn) = eval(&xn)?;
            if fn_ <= fx + ARMIJO * decrease {
                accepted = Some((xn, fn_, gn));
                break;
            }
            t *= 0.5;
        }
        let Some((xn, fn_, gn)) = accepted else { break };
        let s: Vec<f64> = (0..d).map(|i| xn[i] - x[i]).collect();
        let y: Vec<f64> = (0..d).map(|i| gn[i] - gx[i]).collect();
        let done = fx - fn_ <= FTOL * fx.abs().max(fn_.abs()).max(1.0);
        if dot(&s, &y) > 1e-12 * dot(&y, &y).max(f64::MIN_POSITIVE) {
            if mem_s.len() == MEMORY {
                mem_s.remove(0);
                mem_y.remove(0);
            }
            mem_s.push(s);
            mem_y.push(y);
        }
        x = xn;
        fx = fn_;
        gx = gn;
        if done {
            break;
        }
    }
    Ok((x, -fx))
}

/// L-BFGS two-loop recursion: `−H·g` with `H` the inverse-Hessian estimate from the memory.
fn two_loop(g: &[f64], mem_s: &[Vec<f64>], mem_y: &[Vec<f64>]) -> Vec<f64> {
    let mut q = g.to_vec();
    let k = mem_s.len();
    let mut alpha = vec![0.0; k];
    for j in (0..k).rev() {
        let rho = 1.0 / dot(&mem_y[j], &mem_s[j]);
        alpha[j] = rho * dot(&mem_s[j], &q);
        q.iter_mut().zip(&mem_y[j]).for_each(|(qi, yi)| *qi -= alpha[j] * yi);
    }
    if k > 0 {
        let gamma = dot(&mem_s[k - 1], &mem_y[k - 1]) / dot(&mem_y[k - 1], &mem_y[k - 1]);
        q.iter_mut().for_each(|v| *v *= gamma);
    }
    for j in 0..k {
        let rho = 1.0 / dot(&mem_y[j], &mem_s[j]);
        let beta = rho * dot(&mem_y[j], &q);
        q.iter_mut().zip(&mem_s[j]).for_each(|(qi, si)| *qi += (alpha[j] - beta) * si);
    }
    q.iter_mut().for_each(|v| *v = -*v);
    q
}

pub(crate) fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
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

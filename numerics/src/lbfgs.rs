//! The one box-constrained minimizer of les: a small projected L-BFGS (an L-BFGS-B-like method
//! for a few dozen variables), used by the GP's MAP fit (≤ 52 log-hyperparameters) and by every
//! acquisition optimizer (through the baselines' multi-start `acqopt`). Checked against SciPy's
//! L-BFGS-B on bounded test problems (tests/lbfgs_scipy.rs, reference data in tests/data).
//!
//! Each iteration: the projected gradient decides the active set (variables at a bound whose
//! gradient pushes outward); the two-loop recursion (memory [`MEMORY`]) gives a quasi-Newton
//! direction on the free variables; a backtracking Armijo search runs along the projected path
//! `clamp(x + t p)`, starting at `t = 1` except on a fresh memory, where the first trial step
//! moves the largest coordinate by [`LbfgsOptions::first_step`]. A direction that is not a
//! descent direction is replaced by the projected steepest descent and the memory is cleared.
//! Stops when the projected gradient's largest entry is below `pg_tol`, when the relative
//! decrease of `f` falls below `f_tol` (SciPy's `factr = 1e7` criterion), or after
//! `max_iterations`.
//!
//! **Line search.** A rejected trial step is not simply halved: the next one minimizes the
//! quadratic through `f(x)`, the slope along the step and the rejected value (after a second
//! rejection, the cubic through the last two values), kept within `[0.1, 0.5]` of the rejected
//! step (Nocedal & Wright, *Numerical Optimization*, §3.5). A trial needs only the value:
//! [`Objective::gradient`] is asked for at the accepted point alone. For the MAP fit that
//! matters: its gradient adds all of `K⁻¹`, twice the flops of the value's Cholesky
//! factorization.

/// Number of correction pairs kept.
pub const MEMORY: usize = 10;
/// Armijo sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
/// Maximum trial steps per line search.
const MAX_BACKTRACKS: usize = 40;
/// A rejected step `t` is followed by one in `[SHRINK_MIN·t, SHRINK_MAX·t]`.
const SHRINK_MIN: f64 = 0.1;
/// See [`SHRINK_MIN`]; also the factor used where no interpolation is possible.
const SHRINK_MAX: f64 = 0.5;

/// A function to minimize whose value can be had without its gradient.
///
/// The minimizer calls [`gradient`](Objective::gradient) only at the point of the latest
/// [`value`](Objective::value) call, so an implementation may keep the work of `value` (a
/// factorization, say) for it.
pub trait Objective {
    /// What a failed evaluation returns; it ends the minimization.
    type Error;
    /// `f(x)`; a non-finite value means "outside the domain".
    fn value(&mut self, x: &[f64]) -> Result<f64, Self::Error>;
    /// `∇f(x)` into `g`, where `x` is the point of the latest `value` call.
    fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<(), Self::Error>;
}

/// An [`Objective`] from a closure that computes value and gradient together: `value` runs it
/// and keeps the gradient for `gradient`.
struct Joint<F> {
    f: F,
    g: Vec<f64>,
}

impl<F, E> Objective for Joint<F>
where
    F: FnMut(&[f64], &mut [f64]) -> Result<f64, E>,
{
    type Error = E;
    fn value(&mut self, x: &[f64]) -> Result<f64, E> {
        (self.f)(x, &mut self.g)
    }
    fn gradient(&mut self, _x: &[f64], g: &mut [f64]) -> Result<(), E> {
        g.copy_from_slice(&self.g);
        Ok(())
    }
}

/// Stopping tolerances.
#[derive(Clone, Copy, Debug)]
pub struct LbfgsOptions {
    /// Maximum iterations.
    pub max_iterations: usize,
    /// Projected-gradient tolerance (∞-norm).
    pub pg_tol: f64,
    /// Relative function-decrease tolerance.
    pub f_tol: f64,
    /// Largest coordinate change of the first trial step after the memory is (re)started: the
    /// steepest-descent step has no curvature information to size it.
    pub first_step: f64,
}

impl Default for LbfgsOptions {
    /// The MAP fit's setting: 200 iterations, projected gradient below 1e-5, SciPy's
    /// `factr = 1e7`, first step of unit length.
    fn default() -> Self {
        Self { max_iterations: 200, pg_tol: 1e-5, f_tol: 1e7 * f64::EPSILON, first_step: 1.0 }
    }
}

/// Result of a minimization.
#[derive(Clone, Debug)]
pub struct LbfgsResult {
    /// Best point found.
    pub x: Vec<f64>,
    /// Its value.
    pub f: f64,
    /// Iterations done.
    pub iterations: usize,
    /// Evaluations of the value (the start, and every trial step of the line searches).
    pub evaluations: usize,
    /// Evaluations of the gradient (the start, and every accepted step).
    pub gradients: usize,
    /// Whether a tolerance (not the iteration limit or a failed line search) stopped it.
    pub converged: bool,
}

fn project(x: &mut [f64], lo: &[f64], hi: &[f64]) {
    for ((v, l), h) in x.iter_mut().zip(lo).zip(hi) {
        *v = v.clamp(*l, *h);
    }
}

fn projected_gradient(x: &[f64], g: &[f64], lo: &[f64], hi: &[f64]) -> Vec<f64> {
    x.iter()
        .zip(g)
        .zip(lo.iter().zip(hi))
        .map(|((&xi, &gi), (&l, &h))| if (xi <= l && gi > 0.0) || (xi >= h && gi < 0.0) { 0.0 } else { gi })
        .collect()
}

fn dot(a: &[f64], b: &[f64]) -> f64 {
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

/// Minimizes `f` (which writes its gradient into the second argument and returns the value;
/// a non-finite value means "outside the domain") within `[lo, hi]` from `x0`. `None` when
/// `f(x0)` or its gradient is not finite.
pub fn minimize_box<F>(mut f: F, x0: &[f64], lo: &[f64], hi: &[f64], options: LbfgsOptions) -> Option<LbfgsResult>
where
    F: FnMut(&[f64], &mut [f64]) -> f64,
{
    let never = try_minimize_box(|x, g| Ok::<f64, std::convert::Infallible>(f(x, g)), x0, lo, hi, options);
    match never {
        Ok(r) => r,
    }
}

/// [`minimize_box`] for an `f` whose evaluation can fail: the first error ends the
/// minimization and is returned.
pub fn try_minimize_box<F, E>(
    f: F,
    x0: &[f64],
    lo: &[f64],
    hi: &[f64],
    options: LbfgsOptions,
) -> Result<Option<LbfgsResult>, E>
where
    F: FnMut(&[f64], &mut [f64]) -> Result<f64, E>,
{
    minimize(&mut Joint { f, g: vec![0.0; x0.len()] }, x0, lo, hi, options)
}

/// The next trial step after `t` was rejected with value `phi`, where `f(x) = f0`, the slope
/// along the trial step is `slope` (`< 0`), and `previous` is the step and value rejected
/// before it in this line search (Nocedal & Wright §3.5: the quadratic, then the cubic
/// interpolant), kept within `[SHRINK_MIN·t, SHRINK_MAX·t]`.
fn next_trial(t: f64, phi: f64, f0: f64, slope: f64, previous: Option<(f64, f64)>) -> f64 {
    let lower = SHRINK_MIN * t;
    let upper = SHRINK_MAX * t;
    if !phi.is_finite() {
        return upper;
    }
    let guess = match previous {
        None => {
            // Minimizer of q(s) = f0 + slope·s + c s² through q(t) = phi (c > 0 since Armijo failed).
            let c = (phi - f0 - slope * t) / (t * t);
            -slope / (2.0 * c)
        }
        Some((t_prev, phi_prev)) => {
            // The cubic f0 + slope·s + b s² + a s³ through (t, phi) and (t_prev, phi_prev).
            let r1 = phi - f0 - slope * t;
            let r0 = phi_prev - f0 - slope * t_prev;
            let den = t * t * t_prev * t_prev * (t - t_prev);
            let a = (t_prev * t_prev * r1 - t * t * r0) / den;
            let b = (-t_prev * t_prev * t_prev * r1 + t * t * t * r0) / den;
            if a.abs() < f64::MIN_POSITIVE {
                -slope / (2.0 * b)
            } else {
                let disc = b * b - 3.0 * a * slope;
                if disc < 0.0 { upper } else { (-b + disc.sqrt()) / (3.0 * a) }
            }
        }
    };
    if guess.is_finite() { guess.clamp(lower, upper) } else { upper }
}

/// Minimizes the [`Objective`] within `[lo, hi]` from `x0` (see the module docs). `Ok(None)`
/// when `f(x0)` or its gradient is not finite; an evaluation error ends the minimization.
pub fn minimize<O: Objective>(
    objective: &mut O,
    x0: &[f64],
    lo: &[f64],
    hi: &[f64],
    options: LbfgsOptions,
) -> Result<Option<LbfgsResult>, O::Error> {
    let n = x0.len();
    let mut x = x0.to_vec();
    project(&mut x, lo, hi);
    let mut g = vec![0.0; n];
    let mut fx = objective.value(&x)?;
    let mut evaluations = 1;
    if !fx.is_finite() {
        return Ok(None);
    }
    objective.gradient(&x, &mut g)?;
    let mut gradients = 1;
    if g.iter().any(|v| !v.is_finite()) {
        return Ok(None);
    }
    let mut s_mem: Vec<Vec<f64>> = Vec::new();
    let mut y_mem: Vec<Vec<f64>> = Vec::new();
    let mut converged = false;
    let mut iterations = 0;
    let mut g_new = vec![0.0; n];
    while iterations < options.max_iterations {
        let pg = projected_gradient(&x, &g, lo, hi);
        if pg.iter().fold(0.0f64, |m, v| m.max(v.abs())) < options.pg_tol {
            converged = true;
            break;
        }
        iterations += 1;
        let free: Vec<bool> = pg.iter().map(|v| *v != 0.0).collect();
        // Two-loop recursion on the free variables.
        let mut q: Vec<f64> = pg.clone();
        let k = s_mem.len();
        let mut alphas = vec![0.0; k];
        let masked =
            |v: &[f64]| -> Vec<f64> { v.iter().zip(&free).map(|(a, &fr)| if fr { *a } else { 0.0 }).collect() };
        let sm: Vec<Vec<f64>> = s_mem.iter().map(|s| masked(s)).collect();
        let ym: Vec<Vec<f64>> = y_mem.iter().map(|y| masked(y)).collect();
        let mut rho = vec![0.0; k];
        for i in (0..k).rev() {
            let sy = dot(&sm[i], &ym[i]);
            rho[i] = if sy > 0.0 { 1.0 / sy } else { 0.0 };
            alphas[i] = rho[i] * dot(&sm[i], &q);
            for (qj, yj) in q.iter_mut().zip(&ym[i]) {
                *qj -= alphas[i] * yj;
            }
        }
        let gamma = match k {
            0 => 1.0,
            _ => {
                let yy = dot(&ym[k - 1], &ym[k - 1]);
                let sy = dot(&sm[k - 1], &ym[k - 1]);
                if yy > 0.0 && sy > 0.0 { sy / yy } else { 1.0 }
            }
        };
        q.iter_mut().for_each(|v| *v *= gamma);
        for i in 0..k {
            let beta = rho[i] * dot(&ym[i], &q);
            for (qj, sj) in q.iter_mut().zip(&sm[i]) {
                *qj += (alphas[i] - beta) * sj;
            }
        }
        let mut p: Vec<f64> = q.iter().zip(&free).map(|(v, &fr)| if fr { -v } else { 0.0 }).collect();
        if dot(&p, &g) >= 0.0 || p.iter().any(|v| !v.is_finite()) {
            p = pg.iter().map(|v| -v).collect();
            s_mem.clear();
            y_mem.clear();
        }
        // First step of a fresh memory: `first_step` in the largest coordinate.
        let mut t = if s_mem.is_empty() {
            (options.first_step / p.iter().fold(0.0f64, |m, v| m.max(v.abs()))).min(1.0)
        } else {
            1.0
        };
        let mut accepted = None;
        let mut previous = None;
        for _ in 0..MAX_BACKTRACKS {
            let mut xn: Vec<f64> = x.iter().zip(&p).map(|(a, b)| a + t * b).collect();
            project(&mut xn, lo, hi);
            let step: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
            let decrease = dot(&g, &step);
            if decrease >= 0.0 {
                t *= SHRINK_MAX;
                previous = None;
                continue;
            }
            let fn_ = objective.value(&xn)?;
            evaluations += 1;
            if fn_.is_finite() && fn_ <= fx + ARMIJO * decrease {
                objective.gradient(&xn, &mut g_new)?;
                gradients += 1;
                if g_new.iter().all(|v| v.is_finite()) {
                    accepted = Some((xn, fn_, step));
                    break;
                }
                t *= SHRINK_MAX;
                previous = None;
                continue;
            }
            // `decrease / t` is the slope along this trial's (projected) step.
            let next = next_trial(t, fn_, fx, decrease / t, previous);
            previous = fn_.is_finite().then_some((t, fn_));
            t = next;
        }
        let Some((xn, fn_, step)) = accepted else {
            // No decrease along the direction: at a (numerical) stationary point.
            converged = pg.iter().fold(0.0f64, |m, v| m.max(v.abs())) < 1e3 * options.pg_tol;
            break;
        };
        let yv: Vec<f64> = g_new.iter().zip(&g).map(|(a, b)| a - b).collect();
        let sy = dot(&step, &yv);
        if sy > 1e-10 * dot(&step, &step).sqrt() * dot(&yv, &yv).sqrt() {
            if s_mem.len() == MEMORY {
                s_mem.remove(0);
                y_mem.remove(0);
            }
            s_mem.push(step);
            y_mem.push(yv);
        }
        let rel = (fx - fn_) / fx.abs().max(fn_.abs()).max(1.0);
        x = xn;
        fx = fn_;
        g.copy_from_slice(&g_new);
        if rel <= options.f_tol {
            converged = true;
            break;
        }
    }
    Ok(Some(LbfgsResult { x, f: fx, iterations, evaluations, gradients, converged }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rosenbrock_unconstrained() {
        let f = |x: &[f64], g: &mut [f64]| {
            let (a, b) = (x[0], x[1]);
            g[0] = -2.0 * (1.0 - a) - 400.0 * a * (b - a * a);
            g[1] = 200.0 * (b - a * a);
            (1.0 - a).powi(2) + 100.0 * (b - a * a).powi(2)
        };
        let opts = LbfgsOptions { max_iterations: 500, pg_tol: 1e-8, f_tol: 0.0, ..LbfgsOptions::default() };
        let r = minimize_box(f, &[-1.2, 1.0], &[-5.0, -5.0], &[5.0, 5.0], opts).expect("finite");
        assert!((r.x[0] - 1.0).abs() < 1e-5 && (r.x[1] - 1.0).abs() < 1e-5, "{:?}", r);
    }

    #[test]
    fn active_bound_is_respected() {
        // min (x-2)² + (y+1)² on [0,1]²: solution (1, 0).
        let f = |x: &[f64], g: &mut [f64]| {
            g[0] = 2.0 * (x[0] - 2.0);
            g[1] = 2.0 * (x[1] + 1.0);
            (x[0] - 2.0).powi(2) + (x[1] + 1.0).powi(2)
        };
        let r = minimize_box(f, &[0.5, 0.5], &[0.0, 0.0], &[1.0, 1.0], LbfgsOptions::default()).expect("finite");
        assert_eq!(r.x, vec![1.0, 0.0]);
        assert!(r.converged);
    }

    #[test]
    fn an_evaluation_error_ends_the_minimization() {
        let mut calls = 0;
        let f = |x: &[f64], g: &mut [f64]| {
            calls += 1;
            if calls == 3 {
                return Err(format!("failed at {x:?}"));
            }
            g[0] = 2.0 * x[0];
            Ok(x[0] * x[0])
        };
        let r = try_minimize_box(f, &[0.7], &[-1.0], &[1.0], LbfgsOptions::default());
        assert!(r.expect_err("third call fails").starts_with("failed at"));
    }

    #[test]
    fn a_non_finite_start_is_none() {
        let f = |_: &[f64], _: &mut [f64]| f64::NAN;
        assert!(minimize_box(f, &[0.0], &[-1.0], &[1.0], LbfgsOptions::default()).is_none());
    }

    #[test]
    fn a_rejected_step_is_followed_by_the_interpolated_minimizer() {
        // f = (x − 0.2)² from 0: the first trial is the full step to 0.4, rejected since
        // f(0.4) = f(0) = 0.04. The quadratic through f(0), f'(0) = −0.4 and f(0.4) is f itself,
        // so the second trial is its minimizer 0.2, where the gradient vanishes and it ends.
        let mut values = Vec::new();
        let mut gradients = Vec::new();
        struct Parabola<'a> {
            values: &'a mut Vec<f64>,
            gradients: &'a mut Vec<f64>,
        }
        impl Objective for Parabola<'_> {
            type Error = std::convert::Infallible;
            fn value(&mut self, x: &[f64]) -> Result<f64, Self::Error> {
                self.values.push(x[0]);
                Ok((x[0] - 0.2).powi(2))
            }
            fn gradient(&mut self, x: &[f64], g: &mut [f64]) -> Result<(), Self::Error> {
                self.gradients.push(x[0]);
                g[0] = 2.0 * (x[0] - 0.2);
                Ok(())
            }
        }
        let mut f = Parabola { values: &mut values, gradients: &mut gradients };
        let r = match minimize(&mut f, &[0.0], &[-5.0], &[5.0], LbfgsOptions::default()) {
            Ok(r) => r.expect("finite"),
        };
        assert_eq!(values.len(), 3, "start, rejected 0.4, interpolated: {values:?}");
        assert_eq!(values[1], 0.4);
        assert!((values[2] - 0.2).abs() < 1e-15, "{values:?}");
        // The gradient only at the start and where a step was accepted, never at the rejected 0.4.
        assert_eq!(gradients, vec![0.0, values[2]]);
        assert_eq!((r.evaluations, r.gradients), (3, 2));
    }

    #[test]
    fn cubic_interpolation_follows_a_second_rejection() {
        // f = x⁴ − x: the quadratic guess after the rejected first trial is rejected too, and the
        // third trial is the cubic's minimizer, strictly inside [0.1, 0.5] of the second.
        let f0 = 0.0;
        let slope = -1.0;
        let phi = |s: f64| s.powi(4) - s;
        let t1 = 4.0;
        let t2 = next_trial(t1, phi(t1), f0, slope, None);
        assert!((t2 - (1.0 / (2.0 * (phi(t1) + t1) / (t1 * t1)))).abs() < 1e-15 || t2 == 0.1 * t1);
        let t3 = next_trial(t2, phi(t2), f0, slope, Some((t1, phi(t1))));
        assert!(t3 > 0.1 * t2 && t3 < 0.5 * t2 + 1e-15, "t2 = {t2}, t3 = {t3}");
        // The cubic through f0, slope, (t1, φ(t1)), (t2, φ(t2)) has zero slope at t3.
        let (r1, r0) = (phi(t2) - f0 - slope * t2, phi(t1) - f0 - slope * t1);
        let den = t2 * t2 * t1 * t1 * (t2 - t1);
        let a = (t1 * t1 * r1 - t2 * t2 * r0) / den;
        let b = (-t1 * t1 * t1 * r1 + t2 * t2 * t2 * r0) / den;
        let unclamped = (-b + (b * b - 3.0 * a * slope).sqrt()) / (3.0 * a);
        assert!((slope + 2.0 * b * unclamped + 3.0 * a * unclamped * unclamped).abs() < 1e-12);
        assert_eq!(t3, unclamped.clamp(0.1 * t2, 0.5 * t2));
        // A non-finite trial value gives the plain halving.
        assert_eq!(next_trial(2.0, f64::INFINITY, f0, slope, None), 1.0);
    }

    #[test]
    fn first_step_bounds_the_first_move() {
        // Linear f = −10x on [0, 1] from 0: the first trial step moves x by first_step.
        let mut seen = Vec::new();
        let f = |x: &[f64], g: &mut [f64]| {
            seen.push(x[0]);
            g[0] = -10.0;
            -10.0 * x[0]
        };
        let opts = LbfgsOptions { first_step: 0.1, max_iterations: 1, ..LbfgsOptions::default() };
        let r = minimize_box(f, &[0.0], &[0.0], &[1.0], opts).expect("finite");
        assert_eq!(seen, vec![0.0, 0.1]);
        assert_eq!(r.x, vec![0.1]);
    }
}

//! The one box-constrained minimizer of les: a small projected L-BFGS (an L-BFGS-B-like method
//! for a few dozen variables), used by the GP's MAP fit (≤ 52 log-hyperparameters) and by every
//! acquisition optimizer (through the baselines' multi-start `acqopt`). Checked against SciPy's
//! L-BFGS-B on bounded test problems (tests/lbfgs_scipy.rs, reference data in tests/data).
//!
//! Each iteration: the projected gradient decides the active set (variables at a bound whose
//! gradient pushes outward); the two-loop recursion (memory [`MEMORY`]) gives a quasi-Newton
//! direction on the free variables; a backtracking Armijo search runs along the projected path
//! `clamp(x + t p)`, starting at `t = 1` except on a fresh memory, where the first trial step
//! moves the largest coordinate by [`LbfgsOptions::first_step`]. A direction that is not a descent direction is replaced by the projected
//! steepest descent and the memory is cleared. Stops when the projected gradient's largest
//! entry is below `pg_tol`, when the relative decrease of `f` falls below `f_tol` (SciPy's
//! `factr = 1e7` criterion), or after `max_iterations`.

/// Number of correction pairs kept.
pub const MEMORY: usize = 10;
/// Armijo sufficient-decrease constant.
const ARMIJO: f64 = 1e-4;
/// Maximum backtracking halvings per line search.
const MAX_BACKTRACKS: usize = 40;

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
    /// Function evaluations.
    pub evaluations: usize,
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
    mut f: F,
    x0: &[f64],
    lo: &[f64],
    hi: &[f64],
    options: LbfgsOptions,
) -> Result<Option<LbfgsResult>, E>
where
    F: FnMut(&[f64], &mut [f64]) -> Result<f64, E>,
{
    let n = x0.len();
    let mut x = x0.to_vec();
    project(&mut x, lo, hi);
    let mut g = vec![0.0; n];
    let mut fx = f(&x, &mut g)?;
    let mut evaluations = 1;
    if !fx.is_finite() || g.iter().any(|v| !v.is_finite()) {
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
        for _ in 0..MAX_BACKTRACKS {
            let mut xn: Vec<f64> = x.iter().zip(&p).map(|(a, b)| a + t * b).collect();
            project(&mut xn, lo, hi);
            let step: Vec<f64> = xn.iter().zip(&x).map(|(a, b)| a - b).collect();
            let decrease = dot(&g, &step);
            if decrease >= 0.0 {
                t *= 0.5;
                continue;
            }
            let fn_ = f(&xn, &mut g_new)?;
            evaluations += 1;
            if fn_.is_finite() && g_new.iter().all(|v| v.is_finite()) && fn_ <= fx + ARMIJO * decrease {
                accepted = Some((xn, fn_, step));
                break;
            }
            t *= 0.5;
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
    Ok(Some(LbfgsResult { x, f: fx, iterations, evaluations, converged }))
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

//! The projected L-BFGS against SciPy's L-BFGS-B on bounded problems (reference optima in
//! tests/data/lbfgs_reference.json, written by tests/data/make_reference.py).
//!
//! Tolerance. Near a minimizer `x*` where the Hessian on the free coordinates has smallest
//! eigenvalue `μ`, a point whose projected gradient is `pg` (∞-norm) lies within
//! `√d·pg/μ` (2-norm) of `x*` on the free coordinates. Both runs stop at small projected
//! gradients (SciPy's is recorded in the JSON, ours is measured here), so the two optima
//! differ by at most `√d·(pg_ours + pg_scipy)/μ`, plus 1e-12 for the rounding of the
//! coordinates themselves. Coordinates SciPy leaves at a bound must sit exactly at that bound.
//! Values: `|f − f*| ≤ |∇f(x*)|·|Δx| + 1e-12·(1 + |f*|)` (first order; `∇f(x*)` is not zero
//! where bounds are active).

use les_numerics::fdcheck::FdCheck;
use les_numerics::lbfgs::{LbfgsOptions, minimize_box};
use serde::Deserialize;

#[derive(Deserialize)]
struct Reference {
    quadratic_a: Vec<Vec<f64>>,
    quadratic_b: Vec<f64>,
    logsumexp_c: Vec<Vec<f64>>,
    logsumexp_m: Vec<f64>,
    cases: Vec<Case>,
}

#[derive(Deserialize)]
struct Case {
    problem: String,
    x0: Vec<f64>,
    lower: Vec<f64>,
    upper: Vec<f64>,
    x: Vec<f64>,
    f: f64,
    projected_gradient: f64,
    free_hessian_min_eigenvalue: Option<f64>,
    at_lower: Vec<bool>,
    at_upper: Vec<bool>,
    scipy_iterations: usize,
}

fn reference() -> Reference {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/lbfgs_reference.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parsing {path}: {e}"))
}

fn rosenbrock(x: &[f64], g: &mut [f64]) -> f64 {
    g.iter_mut().for_each(|v| *v = 0.0);
    let mut f = 0.0;
    for i in 0..x.len() - 1 {
        let r = x[i + 1] - x[i] * x[i];
        f += 100.0 * r * r + (1.0 - x[i]).powi(2);
        g[i] += -400.0 * x[i] * r - 2.0 * (1.0 - x[i]);
        g[i + 1] += 200.0 * r;
    }
    f
}

/// A value-and-gradient function: writes the gradient, returns the value.
type Objective<'a> = Box<dyn Fn(&[f64], &mut [f64]) -> f64 + 'a>;

/// The problem named in the JSON.
fn objective<'a>(name: &str, r: &'a Reference) -> Objective<'a> {
    match name {
        "rosenbrock" => Box::new(rosenbrock),
        // ½xᵀAx − bᵀx.
        "quadratic" => Box::new(|x: &[f64], g: &mut [f64]| {
            let mut f = 0.0;
            for (i, row) in r.quadratic_a.iter().enumerate() {
                g[i] = row.iter().zip(x).map(|(a, v)| a * v).sum::<f64>() - r.quadratic_b[i];
                f += x[i] * (0.5 * (g[i] + r.quadratic_b[i]) - r.quadratic_b[i]);
            }
            f
        }),
        // log Σ exp(cᵢ·x) + ½|x − m|².
        "logsumexp_ridge" => Box::new(|x: &[f64], g: &mut [f64]| {
            let z: Vec<f64> = r.logsumexp_c.iter().map(|c| c.iter().zip(x).map(|(a, v)| a * v).sum()).collect();
            let zmax = z.iter().fold(f64::NEG_INFINITY, |m, v| m.max(*v));
            let w: Vec<f64> = z.iter().map(|v| (v - zmax).exp()).collect();
            let sw: f64 = w.iter().sum();
            let mut f = zmax + sw.ln();
            for i in 0..x.len() {
                let dm = x[i] - r.logsumexp_m[i];
                f += 0.5 * dm * dm;
                g[i] = dm + r.logsumexp_c.iter().zip(&w).map(|(c, wk)| c[i] * wk / sw).sum::<f64>();
            }
            f
        }),
        other => panic!("lbfgs_reference.json names an unknown problem {other:?}"),
    }
}

fn projected_gradient(x: &[f64], g: &[f64], lo: &[f64], hi: &[f64]) -> f64 {
    (0..x.len())
        .map(|i| if (x[i] <= lo[i] && g[i] > 0.0) || (x[i] >= hi[i] && g[i] < 0.0) { 0.0 } else { g[i].abs() })
        .fold(0.0, f64::max)
}

#[test]
fn optima_match_scipy_l_bfgs_b() {
    let r = reference();
    assert!(r.cases.len() >= 6, "the reference has {} cases", r.cases.len());
    for (k, case) in r.cases.iter().enumerate() {
        let f = objective(&case.problem, &r);
        let d = case.x0.len();
        let options = LbfgsOptions { max_iterations: 10_000, pg_tol: 1e-10, f_tol: 0.0, ..LbfgsOptions::default() };
        let got = minimize_box(&f, &case.x0, &case.lower, &case.upper, options).expect("finite start");
        let mut g = vec![0.0; d];
        f(&got.x, &mut g);
        let pg = projected_gradient(&got.x, &g, &case.lower, &case.upper);
        let what = format!("case {k} ({} in {d}-D from {:?})", case.problem, case.x0);
        assert!(got.converged, "{what}: not converged: {got:?}");
        println!(
            "{what}: {} iterations ({} evaluations), SciPy {}; projected gradient {pg:e}",
            got.iterations, got.evaluations, case.scipy_iterations
        );
        for i in 0..d {
            if case.at_lower[i] {
                assert_eq!(got.x[i], case.lower[i], "{what}: coordinate {i} should be at its lower bound");
            }
            if case.at_upper[i] {
                assert_eq!(got.x[i], case.upper[i], "{what}: coordinate {i} should be at its upper bound");
            }
        }
        let dx = got.x.iter().zip(&case.x).map(|(a, b)| (a - b).powi(2)).sum::<f64>().sqrt();
        let tol_x = match case.free_hessian_min_eigenvalue {
            Some(mu) => (d as f64).sqrt() * (pg + case.projected_gradient) / mu + 1e-12,
            None => 0.0, // every coordinate at a bound: checked exactly above
        };
        assert!(dx <= tol_x, "{what}: |x − x_scipy| = {dx:e} > {tol_x:e}; got {:?}, SciPy {:?}", got.x, case.x);
        let mut g_ref = vec![0.0; d];
        f(&case.x, &mut g_ref);
        let grad_norm = g_ref.iter().map(|v| v * v).sum::<f64>().sqrt();
        let tol_f = grad_norm * dx + 1e-12 * (1.0 + case.f.abs());
        assert!((got.f - case.f).abs() <= tol_f, "{what}: f = {} vs SciPy {} (tolerance {tol_f:e})", got.f, case.f);
    }
}

#[test]
fn the_json_problems_have_the_gradients_they_claim() {
    // Guards the closures above: a wrong analytic gradient would make the comparison moot.
    let r = reference();
    for case in &r.cases {
        let f = objective(&case.problem, &r);
        let d = case.x0.len();
        let x: Vec<f64> = (0..d).map(|i| 0.5 * (case.lower[i] + case.upper[i]) + 0.01 * i as f64).collect();
        let mut g = vec![0.0; d];
        f(&x, &mut g);
        let mut scratch = vec![0.0; d];
        FdCheck::new(1e-6, 1e-6).check(&case.problem, |p| f(p, &mut scratch), &x, &g);
    }
}

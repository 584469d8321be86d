//! Built-in analytic objectives through the registry: known optima, gradients against finite
//! differences, parameter handling and errors.

use les_core::registry::{self, PluginKind};
use les_core::{BuildContext, Objective, ObjectiveError, Params, PluginError};
use les_objectives::builtin::{BUILTIN_NAMES, builtin_by_name};
use proptest::prelude::*;
use serde_json::{Value, json};

/// The analytic functions and the dimensions each is tested in.
const ANALYTIC: &[(&str, &[usize])] = &[
    ("square", &[1, 2, 5, 30]),
    ("sphere", &[1, 2, 5, 30]),
    ("ackley", &[1, 2, 5, 30]),
    ("dixon_price", &[1, 2, 5, 30]),
    ("rosenbrock", &[2, 5, 30]),
    ("levy", &[1, 2, 5, 30]),
    ("rastrigin", &[1, 2, 5, 30]),
    ("styblinski_tang", &[1, 2, 5, 30]),
    ("griewank", &[1, 2, 5, 30]),
    ("branin", &[2]),
    ("hartmann3", &[3]),
    ("hartmann6", &[6]),
];

fn build(name: &str, dim: usize) -> Box<dyn Objective> {
    builtin_by_name(name, json!({ "dim": dim })).unwrap_or_else(|e| panic!("{name} in {dim} dimensions: {e}"))
}

fn param_error(name: &str, params: Value) -> (String, String) {
    match builtin_by_name(name, params) {
        Err(PluginError::Param(e)) => (e.path, e.message),
        Err(other) => panic!("{name}: expected a parameter error, got {other}"),
        Ok(_) => panic!("{name}: expected a parameter error, got an objective"),
    }
}

#[test]
fn every_builtin_is_registered_and_builds_with_defaults() {
    let registered: Vec<_> = registry::list(PluginKind::Objective).into_iter().map(|e| e.name).collect();
    for &name in BUILTIN_NAMES {
        assert!(registered.contains(&name), "{name} is not registered: {registered:?}");
        let entry = registry::lookup::<dyn Objective>(name, "objective.builtin").unwrap();
        assert!(entry.details.contains("native box") || entry.details.contains("Native box"), "{name}");
        let built = registry::build::<dyn Objective>(
            name,
            "objective.builtin",
            &Params::new(Value::Null, "objective"),
            &BuildContext::default(),
        )
        .unwrap();
        assert_eq!(built.resolved, (entry.default_params)(), "{name}: resolved defaults differ from default_params");
        let info = built.component.info();
        assert_eq!(info.name, name);
        assert!(info.exact, "{name}: built-ins return noise-free values");
        // Resolving the resolved parameters again gives the same objective parameters.
        let again = registry::build::<dyn Objective>(
            name,
            "objective.builtin",
            &Params::new(built.resolved.clone(), "objective"),
            &BuildContext::default(),
        )
        .unwrap();
        assert_eq!(again.resolved, built.resolved, "{name}");
    }
    assert!(matches!(builtin_by_name("nope", Value::Null), Err(PluginError::UnknownName { .. })));
}

#[test]
fn value_at_known_minimizer_is_known_minimum() {
    for &(name, dims) in ANALYTIC {
        for &d in dims {
            let f = build(name, d);
            let info = f.info();
            assert_eq!(info.dim(), d);
            let x = info.known_minimizer.clone().expect("analytic functions know their minimizer");
            let min = info.known_minimum.expect("analytic functions know their minimum");
            assert!(info.bounds.contains(&x), "{name}: minimizer outside the native box");
            let v = f.evaluate(&x).unwrap();
            // f(x*) is a sum of d terms of size ≤ max(1, |f*|), each computed to a few ulp:
            // 8·ε·d·(1 + |f*|) bounds the rounding (unit tests check each function tighter).
            let tol = 8.0 * f64::EPSILON * d as f64 * (1.0 + min.abs());
            assert!((v - min).abs() <= tol, "{name}, d = {d}: f(x*) = {v:e}, known minimum {min:e}");
        }
    }
}

#[test]
fn known_minimizer_is_a_local_minimum() {
    // Small random perturbations never go below the known minimum.
    let mut state = 0x1234_5678_u64;
    let mut uniform = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
        (state >> 11) as f64 / (1u64 << 53) as f64
    };
    for &(name, dims) in ANALYTIC {
        for &d in dims {
            let f = build(name, d);
            let info = f.info();
            let x = info.known_minimizer.clone().unwrap();
            let min = info.known_minimum.unwrap();
            for _ in 0..50 {
                let y: Vec<f64> = x
                    .iter()
                    .zip(info.bounds.lower.iter().zip(&info.bounds.upper))
                    .map(|(&xi, (&lo, &hi))| (xi + 1e-3 * (hi - lo) * (uniform() - 0.5)).clamp(lo, hi))
                    .collect();
                let v = f.evaluate(&y).unwrap();
                assert!(v >= min - 1e-12 * (1.0 + min.abs()), "{name}, d = {d}: f({y:?}) = {v} < {min}");
            }
        }
    }
}

#[test]
fn ackley_and_dixon_price_optima() {
    let ackley = build("ackley", 10);
    assert_eq!(ackley.evaluate(&[0.0; 10]).unwrap(), 0.0);
    assert!(ackley.evaluate(&[1.0; 10]).unwrap() > 3.0, "away from 0 Ackley is well above 0");
    let dp = build("dixon_price", 30);
    let x: Vec<f64> = (1..=30).map(|i| 2f64.powf(-((2f64.powi(i) - 2.0) / 2f64.powi(i)))).collect();
    // The paper's formula for x*, evaluated independently of the implementation's.
    let v = dp.evaluate(&x).unwrap();
    assert!(v.abs() < 1e-28, "Dixon-Price at x* = {v:e}");
    assert_eq!(dp.info().known_minimum, Some(0.0));
}

#[test]
fn native_boxes() {
    let boxes: &[(&str, f64, f64)] = &[
        ("square", 0.0, 1.0),
        ("sphere", -5.12, 5.12),
        ("ackley", -32.768, 32.768),
        ("dixon_price", -10.0, 10.0),
        ("rosenbrock", -5.0, 10.0),
        ("levy", -10.0, 10.0),
        ("rastrigin", -5.12, 5.12),
        ("styblinski_tang", -5.0, 5.0),
        ("griewank", -600.0, 600.0),
    ];
    for &(name, lo, hi) in boxes {
        let info = build(name, 3).info().clone();
        assert_eq!(info.bounds.lower, vec![lo; 3], "{name}");
        assert_eq!(info.bounds.upper, vec![hi; 3], "{name}");
    }
    let branin = builtin_by_name("branin", Value::Null).unwrap();
    assert_eq!(branin.info().bounds.lower, vec![-5.0, 0.0]);
    assert_eq!(branin.info().bounds.upper, vec![10.0, 15.0]);
    for (name, d) in [("hartmann3", 3), ("hartmann6", 6)] {
        let info = builtin_by_name(name, Value::Null).unwrap().info().clone();
        assert_eq!(info.bounds, les_core::Bounds::unit(d), "{name}");
    }
}

#[test]
fn noise_std_goes_into_info() {
    let f = builtin_by_name("ackley", json!({"dim": 4, "noise_std": 0.25})).unwrap();
    assert_eq!(f.info().noise_std, 0.25);
    assert_eq!(builtin_by_name("levy", Value::Null).unwrap().info().noise_std, 0.0);
    assert_eq!(builtin_by_name("hartmann6", json!({"noise_std": 0.1, "dim": 6})).unwrap().info().noise_std, 0.1);
}

#[test]
fn wrong_point_length_is_a_dimension_error() {
    let f = build("sphere", 3);
    assert_eq!(f.evaluate(&[1.0, 2.0]), Err(ObjectiveError::Dimension { got: 2, expected: 3 }));
    assert!(f.gradient(&[1.0]).is_none());
}

#[test]
fn parameter_errors_carry_paths() {
    let (path, message) = param_error("ackley", json!({"dimm": 3}));
    assert_eq!(path, "objective.dimm");
    assert!(message.starts_with("unknown key `dimm`"), "{message}");

    let (path, message) = param_error("ackley", json!({"dim": 0}));
    assert_eq!(path, "objective.dim");
    assert!(message.contains("from 1 to 1000"), "{message}");
    assert_eq!(param_error("sphere", json!({"dim": 100_000})).0, "objective.dim");
    assert_eq!(param_error("rosenbrock", json!({"dim": 1})).0, "objective.dim");

    let (path, message) = param_error("branin", json!({"dim": 3}));
    assert_eq!(path, "objective.dim");
    assert!(message.contains("defined in 2 dimensions only"), "{message}");
    assert_eq!(param_error("hartmann6", json!({"dim": 3})).0, "objective.dim");

    assert_eq!(param_error("square", json!({"noise_std": -1.0})).0, "objective.noise_std");
    assert_eq!(param_error("branin", json!({"noise_std": -0.5})).0, "objective.noise_std");
    let (path, message) = param_error("square", json!({"dim": "five"}));
    assert_eq!(path, "objective.dim");
    assert!(message.contains("string \"five\" is not valid: expected a whole number"), "{message}");
}

/// Central finite difference with step `h_i` per coordinate.
fn fd_gradient(f: &dyn Objective, x: &[f64], h: &[f64]) -> Vec<f64> {
    let mut y = x.to_vec();
    (0..x.len())
        .map(|i| {
            y[i] = x[i] + h[i];
            let up = f.evaluate(&y).unwrap();
            y[i] = x[i] - h[i];
            let down = f.evaluate(&y).unwrap();
            y[i] = x[i];
            (up - down) / (2.0 * h[i])
        })
        .collect()
}

/// Relative finite-difference step, as a fraction of the box width.
const FD_STEP: f64 = 1e-6;

/// Compares the analytic gradient with central differences at the point `u` of the unit cube
/// mapped to the native box.
///
/// Tolerance: the central difference has truncation error h²/6·|f'''| and rounding error about
/// ε·(1 + |f|)/h per evaluation. With h = 1e-6·width, the truncation term stays below 1e-6 for
/// every function here (largest: Ackley, |f'''| ≲ e·(2π)³ ≈ 700 with h = 6.6e-5 gives 5e-7;
/// Rosenbrock's |f'''| ≤ 2400·|x| ≲ 2.4e4 with h = 1.5e-5 gives 9e-7, against gradients of
/// order 1e5). So we allow 1e-6·(1 + ‖g‖∞) plus 64·ε·(1 + |f|)/h for rounding.
fn check_gradient(f: &dyn Objective, u: &[f64]) -> Result<(), TestCaseError> {
    let info = f.info();
    let x = info.bounds.from_unit(u);
    let h: Vec<f64> = info.bounds.lower.iter().zip(&info.bounds.upper).map(|(lo, hi)| FD_STEP * (hi - lo)).collect();
    let g = f.gradient(&x).expect("analytic gradient");
    let fd = fd_gradient(f, &x, &h);
    let value = f.evaluate(&x).unwrap();
    let g_max = g.iter().fold(0.0f64, |m, gi| m.max(gi.abs()));
    for i in 0..x.len() {
        let tol = 1e-6 * (1.0 + g_max) + 64.0 * f64::EPSILON * (1.0 + value.abs()) / h[i];
        prop_assert!(
            (g[i] - fd[i]).abs() <= tol,
            "{}: ∂f/∂x_{i} at {x:?}: analytic {} vs finite difference {} (tol {tol:e})",
            info.name,
            g[i],
            fd[i]
        );
    }
    Ok(())
}

macro_rules! gradient_tests {
    ($($test:ident: $name:expr, $dim:expr;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]
            $(
                #[test]
                fn $test(u in proptest::collection::vec(0.0..1.0f64, $dim)) {
                    let f = build($name, $dim);
                    check_gradient(f.as_ref(), &u)?;
                }
            )*
        }
    };
}

gradient_tests! {
    gradient_square: "square", 4;
    gradient_sphere: "sphere", 4;
    gradient_ackley: "ackley", 5;
    gradient_ackley_1d: "ackley", 1;
    gradient_dixon_price: "dixon_price", 6;
    gradient_dixon_price_1d: "dixon_price", 1;
    gradient_rosenbrock: "rosenbrock", 5;
    gradient_levy: "levy", 5;
    gradient_levy_1d: "levy", 1;
    gradient_rastrigin: "rastrigin", 4;
    gradient_styblinski_tang: "styblinski_tang", 4;
    gradient_griewank: "griewank", 5;
    gradient_branin: "branin", 2;
    gradient_hartmann3: "hartmann3", 3;
    gradient_hartmann6: "hartmann6", 6;
}

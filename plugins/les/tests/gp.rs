//! LES with the real `gp` surrogate: registry wiring, determinism across thread counts, and
//! end-to-end quality against random search.

use les_core::registry::{BuildContext, build};
use les_core::{AskContext, Dataset, Params, Strategy, StreamRng, stream_rng};
use les_gp as _;
use les_optimizers as _;
use les_strategy_les as _;
use rand::RngExt;
use serde_json::{Value, json};

fn build_les(params: Value, dim: usize, seed: u64) -> Box<dyn Strategy> {
    let params = Params::new(params, "strategy.params");
    let ctx = BuildContext { dim, oracle: None, seed };
    match build::<dyn Strategy>("les", "strategy.name", &params, &ctx) {
        Ok(built) => built.component,
        Err(e) => panic!("les builds: {e}"),
    }
}

#[test]
fn registry_resolves_nested_defaults_and_reports_nested_errors() {
    let params = Params::new(json!({}), "strategy.params");
    let ctx = BuildContext { dim: 3, oracle: None, seed: 0 };
    let built =
        build::<dyn Strategy>("les", "strategy.name", &params, &ctx).map_err(|e| e.to_string()).expect("builds");
    let r = &built.resolved;
    let sampler = &r["sampler"];
    assert_eq!(sampler["name"], "descent");
    assert_eq!(sampler["params"]["paths"], 250);
    assert_eq!(sampler["params"]["support_points"], 8);
    assert_eq!(sampler["params"]["support_mode"], "corrected");
    assert_eq!(sampler["params"]["inner_optimizer"]["name"], "adam");
    assert_eq!(sampler["params"]["inner_optimizer"]["params"]["learning_rate"], 0.002);
    assert_eq!(sampler["params"]["inner_optimizer"]["params"]["steps"], 500);
    assert_eq!(r["acquisition"]["name"], "mutual_information");
    assert_eq!(r["acquisition"]["params"]["entropy_of"], "latent");
    assert_eq!(r["surrogate"]["name"], "gp");
    assert_eq!(r["surrogate"]["params"]["features"], 1024);

    let bad = Params::new(
        json!({"sampler": {"name": "descent", "params": {"inner_optimizer": {"name": "adam", "params": {"beta1": 2.0}}}}}),
        "strategy.params",
    );
    let err = build::<dyn Strategy>("les", "strategy.name", &bad, &ctx).err().expect("rejected");
    assert!(err.to_string().starts_with("strategy.params.sampler.params.inner_optimizer.params.beta1"), "{err}");
    // The flat form of earlier versions is moved into the sampler block, errors included.
    let bad = Params::new(json!({"inner_optimizer": {"name": "adamw"}}), "strategy.params");
    let err = build::<dyn Strategy>("les", "strategy.name", &bad, &ctx).err().expect("rejected").to_string();
    assert!(err.contains("cmaes") && err.contains("gradient_descent"), "{err}");
    let bad = Params::new(json!({"acquisition": {"name": "mutual_info"}}), "strategy.params");
    let err = build::<dyn Strategy>("les", "strategy.name", &bad, &ctx).err().expect("rejected").to_string();
    assert!(err.starts_with("strategy.params.acquisition.name") && err.contains("mutual_information"), "{err}");
    let flat = Params::new(json!({"paths": 12, "entropy_of": "observation"}), "strategy.params");
    let built = build::<dyn Strategy>("les", "strategy.name", &flat, &ctx).map_err(|e| e.to_string()).expect("builds");
    assert_eq!(built.resolved["sampler"]["params"]["paths"], 12);
    assert_eq!(built.resolved["acquisition"]["params"]["entropy_of"], "observation");
    assert!(built.resolved.get("paths").is_none(), "the resolved config shows the composed form");
}

/// The parameters of a small, fast LES (L = 32, P = 8, B = 256, fixed hyperparameters).
fn small_params(lengthscale: f64, optimizer: Value) -> Value {
    json!({
        "paths": 32,
        "support_points": 8,
        "inner_optimizer": optimizer,
        "surrogate": { "name": "gp", "params": {
            "hyperparameters": { "fixed": { "lengthscales": [lengthscale] } },
            "features": 256,
        } },
    })
}

fn uniform_points(rng: &mut StreamRng, n: usize, d: usize) -> Vec<f64> {
    (0..n * d).map(|_| rng.random::<f64>()).collect()
}

#[test]
fn deterministic_across_thread_counts_with_gp() {
    let d = 3;
    let mut rng = stream_rng(3, "data", 0);
    let x = uniform_points(&mut rng, 8, d);
    let y = x.chunks(d).map(|p| p.iter().map(|v| (5.0 * v).sin()).sum()).collect();
    let data = Dataset::from_rows(d, x, y);
    let ctx = AskContext { pending: &[], data: &data, iteration: 1, n_proposed: 8, remaining: 5, budget: 20 };
    for optimizer in [
        json!({"name": "adam", "params": {"steps": 100, "learning_rate": 0.01}}),
        json!({"name": "gradient_descent", "params": {"steps": 50, "learning_rate": 0.01}}),
        json!({"name": "cmaes", "params": {"generations": 10}}),
    ] {
        let run = |threads| {
            rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool").install(|| {
                let mut les = build_les(small_params(0.3, optimizer.clone()), d, 9);
                let mut ask = les.ask(&ctx, &mut stream_rng(9, "ask", 1)).expect("asks");
                ask.report.diagnostics.remove("acquisition_covariance_seconds");
                if let Some(h) = ask.report.diagnostics.get_mut("hyperparameters").and_then(Value::as_object_mut) {
                    h.remove("fit_seconds");
                }
                (ask.points, ask.report.diagnostics)
            })
        };
        let one = run(1);
        assert_eq!(one, run(2), "{optimizer}");
    }
}

/// A shifted, anisotropic convex quadratic on the unit cube with its minimum 0 inside.
fn quadratic(x: &[f64]) -> f64 {
    x.iter()
        .enumerate()
        .map(|(i, v)| (1.0 + (i % 3) as f64) * (v - 0.25 - 0.5 * ((i * 7) % 5) as f64 / 4.0).powi(2))
        .sum()
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    let n = v.len();
    0.5 * (v[(n - 1) / 2] + v[n / 2])
}

/// Best value found by LES and by random search with the same initial design and budget.
fn run_pair(d: usize, iterations: usize, lengthscale: f64, seed: u64) -> (f64, f64) {
    let mut rng = stream_rng(seed, "initial", 0);
    let x0 = uniform_points(&mut rng, 2, d);
    let y0: Vec<f64> = x0.chunks(d).map(quadratic).collect();
    let initial_best = y0.iter().copied().fold(f64::INFINITY, f64::min);

    let mut random_best = initial_best;
    let mut rs = stream_rng(seed, "random-search", 0);
    for _ in 0..iterations {
        random_best = random_best.min(quadratic(&uniform_points(&mut rs, 1, d)));
    }

    let params = small_params(lengthscale, json!({"name": "adam", "params": {"steps": 100, "learning_rate": 0.01}}));
    let mut les = build_les(params, d, seed);
    let mut data = Dataset::from_rows(d, x0, y0);
    for it in 1..=iterations {
        let ctx = AskContext {
            pending: &[],
            data: &data,
            iteration: it,
            n_proposed: data.len(),
            remaining: iterations - it + 1,
            budget: iterations + 2,
        };
        let ask = les.ask(&ctx, &mut stream_rng(seed, "ask", it as u64)).expect("asks");
        let x = ask.points[0].clone();
        data.push(&x, quadratic(&x));
    }
    let les_best = data.y().iter().copied().fold(f64::INFINITY, f64::min);
    (les_best, random_best)
}

fn quality(d: usize, iterations: usize, lengthscale: f64) {
    let (les, random): (Vec<f64>, Vec<f64>) = (1..=10).map(|s| run_pair(d, iterations, lengthscale, s)).unzip();
    let (m_les, m_rs) = (median(les.clone()), median(random.clone()));
    eprintln!("d = {d}: LES median {m_les:.3e} {les:.2?}, random median {m_rs:.3e} {random:.2?}");
    assert!(m_les < 0.25 * m_rs, "d = {d}: LES median {m_les} vs random {m_rs}");
}

#[test]
fn beats_random_search_in_2d() {
    quality(2, 15, 0.5);
}

#[test]
fn beats_random_search_in_10d() {
    quality(10, 30, 1.0);
}

/// The inner optimizers run each block of 64 paths' whole descent on one thread; that must
/// give the same bits as all paths stepping together (what an early stop, here one that can
/// never trigger, makes them do), for every thread count.
#[test]
fn blocked_descent_equals_lockstep_descent() {
    use les_core::{InnerOptimizer, Surrogate};
    let d = 4;
    let mut rng = stream_rng(3, "data", 0);
    let x = uniform_points(&mut rng, 30, d);
    let y: Vec<f64> = x.chunks(d).map(|p| p.iter().map(|v| (5.0 * v).sin()).sum()).collect();
    let data = Dataset::from_rows(d, x, y);
    let gp_params = Params::new(
        json!({ "hyperparameters": { "fixed": { "lengthscales": [0.3] } }, "features": 128 }),
        "surrogate.params",
    );
    let (mut gp, _) =
        les_gp::ExactGp::from_params(&gp_params, &BuildContext { dim: d, ..Default::default() }).expect("gp builds");
    gp.fit(&data, &mut stream_rng(1, "fit", 0)).expect("fits");
    // 150 paths: two whole blocks and a partial one.
    let paths = gp.sample_path_set(150, &mut stream_rng(2, "paths", 0)).expect("paths");
    let start = [0.4, 0.6, 0.5, 0.3];
    for (name, params) in [
        ("adam", json!({ "steps": 40, "learning_rate": 0.01 })),
        ("gradient_descent", json!({ "steps": 40, "learning_rate": 0.01 })),
    ] {
        let optimizer = |extra: Value| {
            let mut p = params.clone();
            if let (Some(obj), Some(more)) = (p.as_object_mut(), extra.as_object()) {
                obj.extend(more.clone());
            }
            let ctx = BuildContext { dim: d, ..Default::default() };
            build::<dyn InnerOptimizer>(name, "inner_optimizer.name", &Params::new(p, "inner_optimizer.params"), &ctx)
                .map_err(|e| e.to_string())
                .expect("builds")
                .component
        };
        let lockstep = optimizer(json!({ "stop_tol": 0.0 }))
            .descend(&paths, &start, &mut stream_rng(4, "descent", 0))
            .expect("descends");
        for threads in [1, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            let blocked = pool
                .install(|| optimizer(json!({})).descend(&paths, &start, &mut stream_rng(4, "descent", 0)))
                .expect("descends");
            assert_eq!(blocked.n_records, 41, "{name}");
            assert!(
                blocked.positions.iter().zip(&lockstep.positions).all(|(a, b)| a.to_bits() == b.to_bits())
                    && blocked.values.is_empty()
                    && lockstep.values.is_empty()
                    && blocked.positions.len() == lockstep.positions.len(),
                "{name}, {threads} threads: blocked and lockstep histories differ"
            );
        }
    }
}

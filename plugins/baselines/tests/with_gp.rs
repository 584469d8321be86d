//! Every baseline built through the registry with the real `gp` surrogate: it beats random
//! search on a 5-D function over fixed seeds, and it is resumable (a fresh strategy told the
//! same observations asks for the same next point).

use les_core::registry::{BuildContext, build};
use les_core::{AskContext, Dataset, Observation, Params, Strategy, stream_rng};
use serde_json::{Value, json};

use les_baselines as _;
// Linked for its registry entry: the strategies build the `gp` surrogate by name.
use les_gp as _;

const D: usize = 5;

/// A 5-D ellipsoid with a ripple, minimum 0 near c.
fn objective(x: &[f64]) -> f64 {
    const C: [f64; D] = [0.35, 0.65, 0.5, 0.25, 0.75];
    x.iter()
        .enumerate()
        .map(|(i, v)| (1.0 + i as f64) * ((v - C[i]).powi(2) + 0.01 * (1.0 - (10.0 * (v - C[i])).cos())))
        .sum()
}

fn strategy(name: &str, params: Value, seed: u64) -> Box<dyn Strategy> {
    let ctx = BuildContext { dim: D, oracle: None, seed };
    build::<dyn Strategy>(name, "strategy.name", &Params::new(params, "strategy.params"), &ctx)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .component
}

/// Drives ask/tell like the runner; returns the data and the batches told.
fn drive(s: &mut dyn Strategy, budget: usize, seed: u64) -> (Dataset, Vec<Vec<Observation>>) {
    let mut data = Dataset::new(D);
    let mut batches = Vec::new();
    if s.uses_initial_design() {
        let mut rng = stream_rng(seed, "initial_design", 0);
        let obs: Vec<Observation> = (0..2)
            .map(|_| {
                let x: Vec<f64> = (0..D).map(|_| rand::RngExt::random::<f64>(&mut rng)).collect();
                let y = objective(&x);
                Observation { x, y: Ok(y) }
            })
            .collect();
        for o in &obs {
            data.push(&o.x, *o.y.as_ref().unwrap());
        }
        s.tell(&obs).unwrap();
        batches.push(obs);
    }
    let mut iteration = 1;
    while data.len() < budget {
        let ctx = AskContext {
            pending: &[],
            data: &data,
            iteration,
            n_proposed: data.len(),
            remaining: budget - data.len(),
            budget,
        };
        let ask = s.ask(&ctx, &mut stream_rng(seed, "ask", iteration as u64)).unwrap();
        let obs: Vec<Observation> = ask
            .points
            .into_iter()
            .take(budget - data.len())
            .map(|x| {
                assert!(x.len() == D && x.iter().all(|v| (0.0..=1.0).contains(v)), "{x:?}");
                let y = objective(&x);
                Observation { x, y: Ok(y) }
            })
            .collect();
        for o in &obs {
            data.push(&o.x, *o.y.as_ref().unwrap());
        }
        s.tell(&obs).unwrap();
        batches.push(obs);
        iteration += 1;
    }
    (data, batches)
}

fn best(data: &Dataset) -> f64 {
    data.y()[data.best_index().unwrap()]
}

fn gp() -> Value {
    json!({ "name": "gp", "params": { "lengthscale_prior": "box_sqrt_d", "noise_std": 1.42e-3, "restarts": 2 } })
}

fn configs() -> Vec<(&'static str, &'static str, Value)> {
    let acq = json!({ "raw_samples": 128, "restarts": 3, "max_iters": 60 });
    vec![
        ("logei", "logei", json!({ "surrogate": gp(), "acq_optimizer": acq })),
        ("mes", "mes", json!({ "surrogate": gp(), "n_candidates": 500, "acq_optimizer": acq })),
        ("turbo", "turbo", json!({ "surrogate": gp(), "n_candidates": 500, "success_tolerance": 3 })),
        ("gibo", "gibo", json!({ "surrogate": gp(), "learning_rate": 0.5, "max_samples_per_step": 3 })),
        ("gibo-hci", "gibo", json!({ "surrogate": gp(), "learning_rate": 0.5, "step_rule": "hci" })),
    ]
}

#[test]
fn every_baseline_beats_random_search() {
    let seeds = [11, 12, 13];
    let budget = 30;
    let random: f64 =
        seeds.iter().map(|&s| best(&drive(strategy("random", json!({}), s).as_mut(), budget, s).0)).sum::<f64>() / 3.0;
    let sobol: f64 =
        seeds.iter().map(|&s| best(&drive(strategy("sobol", json!({}), s).as_mut(), budget, s).0)).sum::<f64>() / 3.0;
    eprintln!("random {random:.4}, sobol {sobol:.4}");
    for (label, name, params) in configs() {
        let mean: f64 =
            seeds.iter().map(|&s| best(&drive(strategy(name, params.clone(), s).as_mut(), budget, s).0)).sum::<f64>()
                / 3.0;
        eprintln!("{label} {mean:.4}");
        assert!(mean < 0.6 * random, "{label}: {mean} vs random {random}");
    }
}

#[test]
fn every_baseline_resumes_to_the_same_point() {
    let seed = 5;
    for (label, name, params) in configs() {
        let (data, batches) = drive(strategy(name, params.clone(), seed).as_mut(), 12, seed);
        // The next ask of the uninterrupted strategy …
        let mut s = strategy(name, params.clone(), seed);
        for b in &batches {
            s.tell(b).unwrap();
        }
        let iteration = batches.len();
        let ctx = AskContext { pending: &[], data: &data, iteration, n_proposed: data.len(), remaining: 5, budget: 17 };
        let a = s.ask(&ctx, &mut stream_rng(seed, "ask", iteration as u64)).unwrap();
        // … equals that of a strategy rebuilt from scratch and told the same batches.
        let (_, again) = drive(strategy(name, params.clone(), seed).as_mut(), 12, seed);
        assert_eq!(again, batches, "{label}: runs are deterministic");
        let mut fresh = strategy(name, params, seed);
        for b in &batches {
            fresh.tell(b).unwrap();
        }
        let b = fresh.ask(&ctx, &mut stream_rng(seed, "ask", iteration as u64)).unwrap();
        assert_eq!(a.points, b.points, "{label}");
    }
}

#[test]
fn resolved_parameters_show_the_surrogate_defaults() {
    let ctx = BuildContext { dim: D, oracle: None, seed: 1 };
    for name in ["logei", "mes", "turbo", "gibo"] {
        let built =
            build::<dyn Strategy>(name, "strategy.name", &Params::new(json!({}), "strategy.params"), &ctx).unwrap();
        let s = &built.resolved["surrogate"];
        assert_eq!(s["name"], "gp", "{name}");
        assert!(
            s["params"]["lengthscale_prior"].is_string() || s["params"]["lengthscale_prior"].is_object(),
            "{name}: {s}"
        );
    }
    // GIBO's derivative GP is the surrogate's own, for either kernel.
    let matern = build::<dyn Strategy>(
        "gibo",
        "strategy.name",
        &Params::new(json!({ "surrogate": { "name": "gp", "params": { "kernel": "matern52" } } }), "strategy.params"),
        &ctx,
    );
    assert!(matern.is_ok(), "{:?}", matern.err().map(|e| e.to_string()));
}

#[test]
fn gp_gradients_agree_with_finite_differences_of_its_predictions() {
    use les_baselines::model::Model;
    use les_core::Capability;
    let ctx = BuildContext { dim: D, oracle: None, seed: 1 };
    let mut spec = les_core::registry::PluginSpec { name: "gp".into(), params: gp()["params"].clone() };
    let needs = [Capability::PosteriorGradients, Capability::GradientPosterior, Capability::Conditioning];
    let mut model = Model::build(&mut spec, "strategy.params.surrogate", &ctx, "test", &needs).unwrap();
    assert_eq!(spec.params["noise_std"], 1.42e-3, "resolved params are written back");
    let (data, _) = drive(strategy("random", json!({}), 3).as_mut(), 15, 3);
    model.fit(&data, &mut stream_rng(1, "fit", 0)).unwrap();
    let hyper = model.hyperparameters("test").unwrap();
    assert_eq!(hyper.lengthscales.len(), D);
    assert!(hyper.signal_variance > 0.0);
    // Central differences of the predictions, step h: truncation O(h²f‴), rounding O(ε|f|/h),
    // both ~1e-10 relative for length scales ≥ 0.01.
    let h = 1e-5;
    for x in [[0.2, 0.4, 0.6, 0.8, 0.5], [0.9, 0.1, 0.3, 0.35, 0.05]] {
        let a = model.point_posterior(&x).unwrap();
        let p = model.surrogate().predict(&x).unwrap();
        assert!((a.mean - p.mean[0]).abs() < 1e-10 && (a.variance - p.variance[0]).abs() < 1e-10);
        for j in 0..D {
            let (mut up, mut down) = (x, x);
            up[j] += h;
            down[j] -= h;
            let q = model.surrogate().predict(&[up, down].concat()).unwrap();
            let b = les_core::PointPosterior {
                mean: p.mean[0],
                variance: p.variance[0],
                mean_grad: vec![(q.mean[0] - q.mean[1]) / (2.0 * h); D],
                variance_grad: vec![(q.variance[0] - q.variance[1]) / (2.0 * h); D],
            };
            assert!((a.mean_grad[j] - b.mean_grad[j]).abs() < 1e-5 * (1.0 + b.mean_grad[j].abs()), "{a:?} vs {b:?}");
            assert!(
                (a.variance_grad[j] - b.variance_grad[j]).abs() < 1e-5 * (1.0 + b.variance_grad[j].abs()),
                "{a:?} vs {b:?}"
            );
        }
    }
}

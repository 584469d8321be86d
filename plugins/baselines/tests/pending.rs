//! Asks with pending points (evaluations in flight) through `les_core::Study` and the runner,
//! with the real `gp` surrogate: every model-based baseline says it takes pending points into
//! account, keeps four evaluations in flight without repeating a point, and is deterministic for
//! a seed and a completion order. Also the `gp`'s conditioning on pending points against the
//! test double's.

use les_baselines::believer::Believer;
use les_baselines::model::Model;
use les_core::config::{BuiltRun, OnError};
use les_core::registry::{BuildContext, build};
use les_core::runner::{Silent, drive};
use les_core::{
    Bounds, Dataset, Objective, ObjectiveError, ObjectiveInfo, Outcome, Params, Strategy, Study, stream_rng,
};
use serde_json::{Value, json};

const D: usize = 3;

/// `Σ (i + 1)(x_i − c_i)²` on `[0, 1]^3`, sleeping a little so that threads overlap.
struct Bowl {
    info: ObjectiveInfo,
    sleep_ms: u64,
}

impl Bowl {
    fn new(sleep_ms: u64) -> Self {
        let info = ObjectiveInfo {
            name: "bowl".into(),
            bounds: Bounds::uniform(D, 0.0, 1.0),
            noise_std: 0.0,
            exact: true,
            known_minimum: Some(0.0),
            known_minimizer: None,
        };
        Self { info, sleep_ms }
    }
}

fn bowl(x: &[f64]) -> f64 {
    const C: [f64; D] = [0.3, 0.65, 0.45];
    x.iter().zip(C).enumerate().map(|(i, (v, c))| (1.0 + i as f64) * (v - c).powi(2)).sum()
}

impl Objective for Bowl {
    fn info(&self) -> &ObjectiveInfo {
        &self.info
    }
    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        std::thread::sleep(std::time::Duration::from_millis(self.sleep_ms));
        Ok(bowl(x))
    }
}

fn gp() -> Value {
    json!({ "name": "gp", "params": { "lengthscale_prior": "box_sqrt_d", "noise_std": 1.42e-3 } })
}

/// The model-based baselines with light acquisition settings.
fn configs() -> Vec<(&'static str, Value)> {
    let acq = json!({ "raw_samples": 128, "restarts": 3, "max_iters": 50 });
    vec![
        ("logei", json!({ "surrogate": gp(), "acq_optimizer": acq })),
        ("mes", json!({ "surrogate": gp(), "n_candidates": 500, "acq_optimizer": acq })),
        ("mes", json!({ "surrogate": gp(), "n_candidates": 500, "max_value_sampler": "paths", "acq_optimizer": acq })),
        ("turbo", json!({ "surrogate": gp(), "n_candidates": 500 })),
        ("gibo", json!({ "surrogate": gp(), "acq_optimizer": acq })),
    ]
}

fn strategy(name: &str, params: &Value, seed: u64) -> Box<dyn Strategy> {
    let ctx = BuildContext { dim: D, oracle: None, seed };
    build::<dyn Strategy>(name, "strategy.name", &Params::new(params.clone(), "strategy.params"), &ctx)
        .unwrap_or_else(|e| panic!("{name}: {e}"))
        .component
}

fn run(name: &str, params: &Value, budget: usize, workers: usize, sleep_ms: u64) -> BuiltRun {
    BuiltRun {
        objective: Box::new(Bowl::new(sleep_ms)),
        strategy: strategy(name, params, 5),
        budget,
        initial_points: 2,
        seed: 5,
        on_error: OnError::Stop,
        output: std::env::temp_dir().join("unused"),
        resolved: json!({ "strategy": { "name": name, "params": params }, "budget": budget, "seed": 5 }),
        initial_data: None,
        workers,
    }
}

/// The closest pair of points (Euclidean distance in the unit cube).
fn closest_pair(points: &[Vec<f64>]) -> f64 {
    let mut best = f64::INFINITY;
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            best = best.min(a.iter().zip(b).map(|(u, v)| (u - v).powi(2)).sum::<f64>().sqrt());
        }
    }
    best
}

/// Synchronous batches of four (`les ask --n 4`, then four tells): each batch's asks see the
/// same data and the earlier points of the batch pending, so a strategy that ignored them would
/// propose one point four times. Returns the evaluated points in order and the closest pair
/// within a batch.
fn batches_of_four(name: &str, params: &Value, budget: usize) -> (Vec<Vec<f64>>, f64) {
    let mut study = Study::in_memory(run(name, params, budget, 4, 0)).unwrap();
    let mut points = Vec::new();
    let mut closest = f64::INFINITY;
    loop {
        let asked = study.ask(4).unwrap();
        assert!(
            asked.notes.iter().all(|n| !n.contains("does not take pending trials into account")),
            "{name}: {:?}",
            asked.notes
        );
        if asked.trials.is_empty() {
            break;
        }
        let batch: Vec<Vec<f64>> = asked.trials.iter().map(|t| t.unit.clone()).collect();
        if asked.records.iter().all(|r| r.iteration > 0) {
            closest = closest.min(closest_pair(&batch));
        }
        for t in asked.trials {
            study.tell(t.id, Outcome::Value(bowl(&t.x))).unwrap();
            points.push(t.x);
        }
    }
    (points, closest)
}

#[test]
fn batches_of_four_give_four_different_points_deterministically() {
    for (name, params) in configs() {
        assert!(strategy(name, &params, 1).handles_pending(), "{name}");
        let budget = 18;
        let (points, closest) = batches_of_four(name, &params, budget);
        assert_eq!(points.len(), budget, "{name}");
        // Within a batch no point repeats another. Ignoring the pending points, LogEI, MES
        // (Gumbel) and GIBO give the same point up to 1e-8 (measured); MES can come within a
        // hundredth of a length scale of a pending point whose believed value is the believed
        // minimum (see the `mes` module docs), hence not a larger margin.
        assert!(closest > 1e-3, "{name} {params}: two points of a batch {closest} apart");
        // Same seed, same order of tells: the same points.
        assert_eq!(batches_of_four(name, &params, budget).0, points, "{name}");
    }
}

#[test]
fn the_runner_with_four_workers_evaluates_unique_points() {
    for (name, params) in configs() {
        let budget = 14;
        let mut study = Study::in_memory(run(name, &params, budget, 4, 20)).unwrap();
        let outcome = drive(&mut study, &mut Silent).unwrap();
        assert!(outcome.status.is_success(), "{name}: {:?}", outcome.status);
        let points: Vec<Vec<f64>> = study.records().iter().map(|r| r.x.clone()).collect();
        assert_eq!(points.len(), budget, "{name}");
        assert!(study.records().iter().all(|r| r.y.is_some()), "{name}: every evaluation completes");
        let closest = closest_pair(&points);
        // A strategy that ignored the pending points would ask the same point again, up to 1e-8
        // (see the test above). Which points are pending at an ask depends on the order in which
        // the workers finish, which this test does not fix; for some orders MES legitimately
        // comes within a small fraction of a length scale of a pending point (see the `mes`
        // module docs; 6.3e-4 was seen once on a loaded CI machine), so for MES the bound only
        // separates that from a repeated point.
        let bound = if name == "mes" { 1e-6 } else { 1e-3 };
        assert!(closest > bound, "{name} {params}: two points {closest} apart");
    }
}

/// The `gp` conditioned on pending points (its posterior refactored with the believed points)
/// agrees with the test double conditioned the same way, both with the same fixed
/// hyperparameters: predictions, analytic gradients and covariances.
#[test]
fn gp_conditioning_matches_the_dense_test_gp() {
    let mut rng = stream_rng(3, "data", 0);
    let mut data = Dataset::new(D);
    for _ in 0..12 {
        let x: Vec<f64> = (0..D).map(|_| rand::RngExt::random::<f64>(&mut rng)).collect();
        data.push(&x, bowl(&x));
    }
    let ctx = BuildContext { dim: D, oracle: None, seed: 1 };
    let params = json!({
        "hyperparameters": { "fixed": { "lengthscales": [0.3], "signal_variance": 1.3 } },
        "noise_std": 0.01,
        "standardize": false,
    });
    let (gp, _) = les_gp::ExactGp::from_params(&Params::new(params, "gp"), &ctx).unwrap();
    let mut exact = Model::new("gp", Box::new(gp));
    let mut dense = Model::new("dense", Box::new(les_gp::testing::DenseGp::new(vec![0.3; D], 1.3, 1e-4)));
    exact.fit(&data, &mut stream_rng(1, "fit", 0)).unwrap();
    dense.fit(&data, &mut stream_rng(1, "fit", 0)).unwrap();
    let pending = vec![vec![0.3, 0.6, 0.5], vec![0.32, 0.62, 0.45], vec![0.9, 0.1, 0.8]];
    let (a, b) = (Believer::new(&exact, &pending).unwrap(), Believer::new(&dense, &pending).unwrap());
    for (u, v) in a.believed().iter().zip(b.believed()) {
        assert!((u - v).abs() < 1e-8, "believed {u} vs {v}");
    }
    let xs = [0.3, 0.6, 0.5, 0.31, 0.61, 0.48, 0.5, 0.5, 0.5, 0.1, 0.9, 0.2];
    let (pa, pb) = (a.predict(&xs).unwrap(), b.predict(&xs).unwrap());
    let before = exact.surrogate().predict(&xs).unwrap();
    for i in 0..4 {
        assert!((pa.mean[i] - pb.mean[i]).abs() < 1e-7, "mean {i}: {} vs {}", pa.mean[i], pb.mean[i]);
        assert!((pa.mean[i] - before.mean[i]).abs() < 1e-7, "the believer keeps the mean ({i})");
        assert!((pa.variance[i] - pb.variance[i]).abs() < 1e-8, "var {i}: {} vs {}", pa.variance[i], pb.variance[i]);
    }
    // At the first pending point the variance falls to about the noise variance, from far
    // above it.
    let noise = exact.surrogate().noise_variance();
    assert!(
        before.variance[0] > 100.0 * noise && pa.variance[0] < 2.0 * noise,
        "{} → {}",
        before.variance[0],
        pa.variance[0]
    );
    let (ga, gb) = (a.point_posterior(&xs[3..6]).unwrap(), b.point_posterior(&xs[3..6]).unwrap());
    for j in 0..D {
        assert!((ga.mean_grad[j] - gb.mean_grad[j]).abs() < 1e-7 * (1.0 + gb.mean_grad[j].abs()));
        assert!((ga.variance_grad[j] - gb.variance_grad[j]).abs() < 1e-7 * (1.0 + gb.variance_grad[j].abs()));
    }
    let (ca, cb) = (a.covariance(&xs, &xs[6..]).unwrap(), b.covariance(&xs, &xs[6..]).unwrap());
    for (u, v) in ca.iter().zip(&cb) {
        assert!((u - v).abs() < 1e-8, "{u} vs {v}");
    }
}

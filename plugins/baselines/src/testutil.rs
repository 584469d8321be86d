//! A stand-in for the runner's ask/tell loop, for the strategies' own tests.

use les_core::{AskContext, Dataset, Observation, Strategy, stream_rng};

use crate::design::uniform_points;

/// Runs `strategy` on `f` for `budget` evaluations (with `initial` uniform points first when it
/// uses an initial design) and returns the best value found.
pub(crate) fn run(
    strategy: &mut dyn Strategy,
    f: &dyn Fn(&[f64]) -> f64,
    d: usize,
    budget: usize,
    initial: usize,
    seed: u64,
) -> f64 {
    let mut data = Dataset::new(d);
    let mut n_proposed = 0;
    if strategy.uses_initial_design() {
        let pts = uniform_points(initial, d, &mut stream_rng(seed, "initial", 0));
        let obs: Vec<Observation> = pts.chunks(d).map(|x| Observation { x: x.to_vec(), y: Ok(f(x)) }).collect();
        for o in &obs {
            data.push(&o.x, *o.y.as_ref().unwrap());
        }
        n_proposed += obs.len();
        strategy.tell(&obs).unwrap();
    }
    let mut iteration = 1;
    while n_proposed < budget {
        let ctx =
            AskContext { pending: &[], data: &data, iteration, n_proposed, remaining: budget - n_proposed, budget };
        let ask = strategy.ask(&ctx, &mut stream_rng(seed, "ask", iteration as u64)).unwrap();
        assert!(!ask.points.is_empty());
        let obs: Vec<Observation> = ask
            .points
            .into_iter()
            .take(budget - n_proposed)
            .map(|x| {
                assert!(x.iter().all(|v| (0.0..=1.0).contains(v)), "{x:?}");
                let y = f(&x);
                Observation { x, y: Ok(y) }
            })
            .collect();
        for o in &obs {
            data.push(&o.x, *o.y.as_ref().unwrap());
        }
        n_proposed += obs.len();
        strategy.tell(&obs).unwrap();
        iteration += 1;
    }
    data.best_index().map(|i| data.y()[i]).unwrap()
}

/// A 5-D test function: a shifted, rotated-free quadratic bowl with a mild ripple; minimum 0
/// near `c = (0.3, 0.7, 0.55, 0.2, 0.8)`.
pub(crate) fn bowl(x: &[f64]) -> f64 {
    const C: [f64; 5] = [0.3, 0.7, 0.55, 0.2, 0.8];
    x.iter().zip(C).map(|(v, c)| (v - c).powi(2) + 0.02 * (1.0 - (12.0 * (v - c)).cos())).sum()
}

/// Mean best value of random search over `seeds`.
pub(crate) fn random_baseline(budget: usize, seeds: &[u64]) -> f64 {
    seeds.iter().map(|&s| run(&mut crate::random::RandomStrategy::new(5), &bowl, 5, budget, 0, s)).sum::<f64>()
        / seeds.len() as f64
}

/// The dense reference of the kriging believer: a fixed-hyperparameter GP (length scale `ls`,
/// noise variance 1e-4, no standardization) fitted on `data` plus the `pending` points at
/// `model`'s posterior mean there. Returns it and the data it was fitted on.
pub(crate) fn believed(
    model: &dyn les_core::Surrogate,
    data: &les_core::Dataset,
    pending: &[Vec<f64>],
    ls: f64,
) -> (les_gp::testing::DenseGp, les_core::Dataset) {
    use les_core::Surrogate;
    let mut more = data.clone();
    let mu = model.predict(&pending.concat()).expect("the model predicts").mean;
    for (p, m) in pending.iter().zip(mu) {
        more.push(p, m);
    }
    let mut gp = les_gp::testing::DenseGp::new(vec![ls; data.dim()], 1.0, 1e-4);
    gp.fit(&more, &mut les_core::stream_rng(0, "t", 0)).expect("the dense reference fits");
    (gp, more)
}

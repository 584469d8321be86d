//! Ask latency of each model-based baseline with 0 and with 3 pending points (evaluations in
//! flight), d = 10, n = 30, paper settings: `cargo bench -p les-baselines --bench pending`.
//! Times `ask` alone (the model fit included for LogEI, MES and TuRBO, which fit in `ask`; GIBO
//! fits in `tell`, done before the clock starts). Data: 30 uniform points of a 10-D Ackley in
//! the unit cube; the pending points are 3 more uniform points. Prints the median of `REPS`
//! fresh strategies and the phases of the last one (`pending` is the conditioning).

use std::time::Instant;

use les_core::registry::{BuildContext, build};
use les_core::{AskContext, Dataset, Observation, Params, Strategy, stream_rng};
use rand::RngExt;
use serde_json::json;

use les_baselines as _;
// Linked for its registry entry: the strategies build the `gp` surrogate by name.
use les_gp as _;

const D: usize = 10;
const N: usize = 30;
const PENDING: usize = 3;
const REPS: usize = 11;

fn ackley(x: &[f64]) -> f64 {
    let z: Vec<f64> = x.iter().map(|v| 65.536 * v - 32.768).collect();
    let n = z.len() as f64;
    let s1 = z.iter().map(|v| v * v).sum::<f64>() / n;
    let s2 = z.iter().map(|v| (2.0 * std::f64::consts::PI * v).cos()).sum::<f64>() / n;
    -20.0 * (-0.2 * s1.sqrt()).exp() - s2.exp() + 20.0 + std::f64::consts::E
}

fn main() {
    let mut rng = stream_rng(1, "bench", 0);
    let mut point = || (0..D).map(|_| rng.random::<f64>()).collect::<Vec<f64>>();
    let obs: Vec<Observation> = (0..N)
        .map(|_| {
            let x = point();
            let y = ackley(&x);
            Observation { x, y: Ok(y) }
        })
        .collect();
    let pending: Vec<Vec<f64>> = (0..PENDING).map(|_| point()).collect();
    let mut data = Dataset::new(D);
    for o in &obs {
        data.push(&o.x, *o.y.as_ref().unwrap());
    }
    let gp = json!({ "name": "gp", "params": { "lengthscale_prior": "box_sqrt_d", "noise_std": 1.42e-3 } });
    let cases = [
        ("logei", "logei", json!({ "surrogate": gp })),
        ("mes", "mes", json!({ "surrogate": gp })),
        ("mes-paths", "mes", json!({ "surrogate": gp, "max_value_sampler": "paths" })),
        ("turbo", "turbo", json!({ "surrogate": gp })),
        ("gibo", "gibo", json!({ "surrogate": gp })),
    ];
    println!("d = {D}, n = {N}, median of {REPS} (seconds per ask; phases of the last one)");
    for (label, name, params) in cases {
        for pend in [&pending[..0], &pending[..]] {
            let mut times = Vec::new();
            let mut phases = Vec::new();
            for rep in 0..REPS {
                let ctx = BuildContext { dim: D, oracle: None, seed: rep as u64 };
                let mut s: Box<dyn Strategy> =
                    build::<dyn Strategy>(name, "strategy.name", &Params::new(params.clone(), "strategy.params"), &ctx)
                        .expect("builds")
                        .component;
                s.tell(&obs).expect("tell");
                let ask_ctx = AskContext {
                    pending: pend,
                    data: &data,
                    iteration: 10,
                    n_proposed: N + pend.len(),
                    remaining: 100,
                    budget: 200,
                };
                let start = Instant::now();
                let ask = s.ask(&ask_ctx, &mut stream_rng(rep as u64, "ask", 10)).expect("ask");
                times.push(start.elapsed().as_secs_f64());
                phases = ask.report.phases;
            }
            times.sort_by(f64::total_cmp);
            let phases: Vec<String> = phases.iter().map(|(k, v)| format!("{k} {v:.5}")).collect();
            println!("{label:<10} pending {}: {:>8.4} s   [{}]", pend.len(), times[REPS / 2], phases.join(", "));
        }
    }
}

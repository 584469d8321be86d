//! Time per iteration of each baseline at d = 20, n = 100, paper settings (release build):
//! `cargo bench -p les-baselines --bench iteration`. One iteration = `tell` of the 100th
//! observation plus the next `ask` (model fit included: GIBO fits in `tell`, the others in
//! `ask`). Data: 100 uniform points of a 20-D Ackley in the unit cube. Prints the median of
//! `REPS` fresh strategies and the phases of the last one.

use std::time::Instant;

use les_core::registry::{BuildContext, build};
use les_core::{AskContext, Dataset, Observation, Params, Strategy, stream_rng};
use rand::RngExt;
use serde_json::json;

use les_baselines as _;
// Linked for its registry entry: the strategies build the `gp` surrogate by name.
use les_gp as _;

const D: usize = 20;
const N: usize = 100;
const REPS: usize = 3;

fn ackley(x: &[f64]) -> f64 {
    let z: Vec<f64> = x.iter().map(|v| 65.536 * v - 32.768).collect();
    let n = z.len() as f64;
    let s1 = z.iter().map(|v| v * v).sum::<f64>() / n;
    let s2 = z.iter().map(|v| (2.0 * std::f64::consts::PI * v).cos()).sum::<f64>() / n;
    -20.0 * (-0.2 * s1.sqrt()).exp() - s2.exp() + 20.0 + std::f64::consts::E
}

fn main() {
    let mut rng = stream_rng(1, "bench", 0);
    let obs: Vec<Observation> = (0..N)
        .map(|_| {
            let x: Vec<f64> = (0..D).map(|_| rng.random::<f64>()).collect();
            let y = ackley(&x);
            Observation { x, y: Ok(y) }
        })
        .collect();
    let mut data = Dataset::new(D);
    for o in &obs {
        data.push(&o.x, *o.y.as_ref().unwrap());
    }
    let gp = json!({ "name": "gp", "params": { "lengthscale_prior": "box_sqrt_d", "noise_std": 1.42e-3 } });
    let cases = [
        ("random", "random", json!({})),
        ("sobol", "sobol", json!({})),
        ("logei", "logei", json!({ "surrogate": gp })),
        ("mes", "mes", json!({ "surrogate": gp })),
        ("mes-paths", "mes", json!({ "surrogate": gp, "max_value_sampler": "paths" })),
        ("turbo", "turbo", json!({ "surrogate": gp })),
        ("gibo", "gibo", json!({ "surrogate": gp })),
        ("gibo-hci", "gibo", json!({ "surrogate": gp, "step_rule": "hci" })),
    ];
    println!("d = {D}, n = {N}, median of {REPS} (seconds per iteration)");
    for (label, name, params) in cases {
        let mut times = Vec::new();
        let mut phases = Vec::new();
        for rep in 0..REPS {
            let ctx = BuildContext { dim: D, oracle: None, seed: rep as u64 };
            let mut s: Box<dyn Strategy> =
                build::<dyn Strategy>(name, "strategy.name", &Params::new(params.clone(), "strategy.params"), &ctx)
                    .expect("builds")
                    .component;
            s.tell(&obs[..N - 1]).expect("tell");
            let start = Instant::now();
            s.tell(&obs[N - 1..]).expect("tell");
            let ask_ctx =
                AskContext { pending: &[], data: &data, iteration: 50, n_proposed: N, remaining: 100, budget: 200 };
            let ask = s.ask(&ask_ctx, &mut stream_rng(rep as u64, "ask", 50)).expect("ask");
            times.push(start.elapsed().as_secs_f64());
            phases = ask.report.phases;
        }
        times.sort_by(f64::total_cmp);
        let phases: Vec<String> = phases.iter().map(|(k, v)| format!("{k} {v:.3}")).collect();
        println!("{label:<10} {:>8.3}   [{}]", times[REPS / 2], phases.join(", "));
    }
}

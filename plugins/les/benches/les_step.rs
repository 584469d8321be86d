//! One LES step at the reference scale, timed per phase: fit (fixed hyperparameters) → `L`
//! paths → `T` Adam steps → `P` support points per path → acquisition over all `M = L·P`
//! support points → argmax.
//!
//! ```text
//! cargo bench -p les-strategy-les --bench les_step                 # d/n = 5/50, 20/100, 50/400
//! cargo bench -p les-strategy-les --bench les_step -- 20 100 3     # d n repetitions
//! cargo bench -p les-strategy-les --bench les_step -- paths        # path evaluations alone (or: paths d n [calls])
//! cargo bench -p les-strategy-les --bench les_step -- acquisition  # Σ(Z,Z) and the MI reduction
//! ```
//!
//! `L = 250`, `T = 500`, `B = 1024`, `P = 8`. Data and configuration are built outside the
//! timed region; every repetition asks with the same data and a new random stream. Reports the
//! median (and the fastest) wall time of a step, the median wall time per phase and the
//! arithmetic rate of the descent: `T·4·L·d·(B + n)` flops (a phase and a gradient multiply-add
//! per feature and input, `f32` by default; a distance and a gradient multiply-add per data
//! point and input, `f64`) and `T·L·B` sines (one gradient per step; the descent takes no
//! values), per wall second. Also prints which random-feature kernel ran
//! (`les_gp::rff_single::kernel_name`) and a hash of the bits of every proposed point: two
//! builds (say, portable and `-C target-cpu=native`) that run the same kernel must print the
//! same hash.

use std::time::Instant;

use les_core::{AskContext, Dataset, Params, Strategy, registry::BuildContext, stream_rng};
use les_gp as _;
use les_optimizers as _;
use les_strategy_les as _;
use rand::RngExt;
use serde_json::json;

const PATHS: usize = 250;

/// `L` of a step: `PATHS`, or the environment variable `LES_STEP_PATHS` (to measure the peak
/// memory of a step at larger `L`, say under `/usr/bin/time -v`).
fn paths() -> usize {
    std::env::var("LES_STEP_PATHS").ok().and_then(|v| v.parse().ok()).unwrap_or(PATHS)
}
const STEPS: usize = 500;
const FEATURES: usize = 1024;
const SUPPORT: usize = 8;

/// CPU seconds used by this process so far (all threads), from `/proc/self/stat`; NaN where
/// unavailable. Shown beside wall time because the benchmark machine may be shared.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else { return f64::NAN };
    let Some(rest) = stat.rsplit(')').next() else { return f64::NAN };
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // Fields after the command name: state is index 0, utime 11, stime 12 (clock ticks, 100/s).
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(f64::NAN);
    (ticks(11) + ticks(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn bench(d: usize, n: usize, reps: usize) {
    let mut rng = stream_rng(42, "bench-data", d as u64);
    let x: Vec<f64> = (0..n * d).map(|_| rng.random::<f64>()).collect();
    let y: Vec<f64> =
        x.chunks(d).map(|p| p.iter().enumerate().map(|(i, v)| ((i + 1) as f64 * 3.0 * v).sin()).sum()).collect();
    let data = Dataset::from_rows(d, x, y);
    let ls = 0.2 * (d as f64).sqrt();
    let params = Params::new(
        json!({
            "sampler": { "name": "descent", "params": {
                "paths": paths(),
                "support_points": SUPPORT,
                "inner_optimizer": { "name": "adam", "params": { "steps": STEPS } },
            } },
            "acquisition": { "name": "mutual_information" },
            "surrogate": { "name": "gp", "params": {
                "hyperparameters": { "fixed": { "lengthscales": [ls], "signal_variance": 1.0 } },
                "features": FEATURES,
            } },
        }),
        "strategy.params",
    );
    let ctx = BuildContext { dim: d, oracle: None, seed: 1 };
    let built = les_core::registry::build::<dyn Strategy>("les", "strategy.name", &params, &ctx).expect("builds");
    let mut les = built.component;
    let ask_ctx = AskContext { pending: &[], data: &data, iteration: 1, n_proposed: n, remaining: 100, budget: 1000 };
    let mut phases: Vec<(String, Vec<f64>)> = Vec::new();
    let mut totals = Vec::new();
    let mut cpus = Vec::new();
    // FNV-1a over the bits of every proposal, repetition by repetition.
    let mut hash = 0xcbf2_9ce4_8422_2325u64;
    for rep in 0..reps {
        let start = Instant::now();
        let cpu = cpu_seconds();
        let ask = les.ask(&ask_ctx, &mut stream_rng(7, "ask", rep as u64)).expect("asks");
        totals.push(start.elapsed().as_secs_f64());
        cpus.push(cpu_seconds() - cpu);
        let cov = ask.report.diagnostics["acquisition_covariance_seconds"].as_f64().unwrap_or(f64::NAN);
        match phases.iter_mut().find(|(p, _)| p == "(covariance)") {
            Some((_, v)) => v.push(cov),
            None => phases.push(("(covariance)".to_owned(), vec![cov])),
        }
        assert_eq!(ask.points.len(), 1);
        for v in ask.points.iter().flatten() {
            for byte in v.to_bits().to_le_bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
            }
        }
        for (name, secs) in ask.report.phases {
            match phases.iter_mut().find(|(p, _)| *p == name) {
                Some((_, v)) => v.push(secs),
                None => phases.push((name, vec![secs])),
            }
        }
    }
    // The fastest repetition too: on a shared machine it tells the host's slow spells (every
    // repetition slower) from the step's own spread.
    let fastest = totals.iter().copied().fold(f64::INFINITY, f64::min);
    let total = median(totals);
    let threads = rayon::current_num_threads();
    let cpu = median(cpus);
    print!(
        "d={d:<3} n={n:<4} L={} T={STEPS} B={FEATURES} P={SUPPORT} threads={threads}: wall {total:.4} s (fastest {fastest:.4} s, cpu {cpu:.2} s) |",
        paths()
    );
    for (name, v) in &phases {
        print!(" {name} {:.4}", median(v.clone()));
    }
    let descent = phases.iter().find(|(p, _)| p == "descent").map(|(_, v)| median(v.clone())).unwrap_or(f64::NAN);
    let flops = STEPS as f64 * 4.0 * (paths() * d * (FEATURES + n)) as f64;
    let sines = STEPS as f64 * (paths() * FEATURES) as f64;
    println!(
        " | descent {:.2} GFLOP/s, {:.0} M sines/s | kernel {}, points {hash:016x}",
        flops / descent / 1e9,
        sines / descent / 1e6,
        les_gp::rff_single::kernel_name()
    );
}

/// Times path evaluations alone for `L` paths: the descent's gradients (one
/// `gradients_block` per block, blocks in parallel) and `value_and_grad`.
fn bench_paths(d: usize, n: usize, calls: usize) {
    use les_core::{PathBatch, Surrogate};
    use rayon::prelude::*;
    let mut rng = stream_rng(42, "bench-data", d as u64);
    let x: Vec<f64> = (0..n * d).map(|_| rng.random::<f64>()).collect();
    let y: Vec<f64> = x.chunks(d).map(|p| p.iter().map(|v| (3.0 * v).sin()).sum()).collect();
    let data = Dataset::from_rows(d, x, y);
    let params = Params::new(
        json!({ "hyperparameters": { "fixed": { "lengthscales": [0.2 * (d as f64).sqrt()] } }, "features": FEATURES }),
        "surrogate.params",
    );
    let (mut gp, _) =
        les_gp::ExactGp::from_params(&params, &BuildContext { dim: d, oracle: None, seed: 1 }).expect("gp");
    gp.fit(&data, &mut stream_rng(1, "fit", 0)).expect("fits");
    let paths = gp.sample_path_set(PATHS, &mut stream_rng(1, "paths", 0)).expect("paths");
    let xs: Vec<f64> = (0..PATHS * d).map(|_| rng.random::<f64>()).collect();
    let (mut v, mut g) = (vec![0.0; PATHS], vec![0.0; PATHS * d]);
    let block = paths.block_size();
    let flops = 4.0 * (PATHS * d * (FEATURES + n)) as f64;
    // Batches of ten calls: the fastest batch tells the code's speed from a shared host's
    // slow spells.
    let time = |name: &str, eval: &mut dyn FnMut()| {
        let (start, cpu) = (Instant::now(), cpu_seconds());
        let mut fastest = f64::INFINITY;
        for batch in 0..calls.div_ceil(10) {
            let t = Instant::now();
            let k = (calls - batch * 10).min(10);
            for _ in 0..k {
                eval();
            }
            fastest = fastest.min(t.elapsed().as_secs_f64() / k as f64);
        }
        let (wall, cpu) = (start.elapsed().as_secs_f64() / calls as f64, (cpu_seconds() - cpu) / calls as f64);
        println!(
            "{name} d={d:<3} n={n:<4} L={PATHS} B={FEATURES}: wall {:.3} ms (fastest batch {:.3} ms), cpu {:.3} ms per call; x{STEPS} = {:.3} s wall per descent; {:.2} GFLOP/s, {:.0} M sines/s per CPU second",
            wall * 1e3,
            fastest * 1e3,
            cpu * 1e3,
            wall * STEPS as f64,
            flops / wall / 1e9,
            (PATHS * FEATURES) as f64 / cpu / 1e6
        );
    };
    time("gradients     ", &mut || {
        xs.par_chunks(block * d)
            .zip(g.par_chunks_mut(block * d))
            .enumerate()
            .for_each(|(b, (x, g))| paths.gradients_block(b * block, x, g));
    });
    time("value_and_grad", &mut || paths.value_and_grad(&xs, &mut v, &mut g));
}

/// Times the acquisition alone on `M = L·P` random support points: the model's `Σ(Z, Z)` and
/// LES's Schur-complement reduction.
fn bench_acquisition(d: usize, n: usize, reps: usize) {
    use les_core::{SupportPoints, Surrogate};
    use les_strategy_les::{AcquisitionSettings, MutualInformation};
    let mut rng = stream_rng(42, "bench-data", d as u64);
    let x: Vec<f64> = (0..n * d).map(|_| rng.random::<f64>()).collect();
    let y: Vec<f64> = x.chunks(d).map(|p| p.iter().map(|v| (3.0 * v).sin()).sum()).collect();
    let data = Dataset::from_rows(d, x, y);
    let params = Params::new(
        json!({ "hyperparameters": { "fixed": { "lengthscales": [0.2 * (d as f64).sqrt()] } } }),
        "surrogate.params",
    );
    let (mut gp, _) =
        les_gp::ExactGp::from_params(&params, &BuildContext { dim: d, oracle: None, seed: 1 }).expect("gp");
    gp.fit(&data, &mut stream_rng(1, "fit", 0)).expect("fits");
    let m = paths() * SUPPORT;
    let support = SupportPoints {
        n_paths: paths(),
        per_path: SUPPORT,
        dim: d,
        points: (0..m * d).map(|_| rng.random::<f64>()).collect(),
        values: vec![0.0; m],
    };
    let (mut cov, mut reduce, mut cpu_all) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..reps {
        let cpu = cpu_seconds();
        let start = Instant::now();
        let mi = MutualInformation::new(&gp, &support, AcquisitionSettings::default()).expect("builds");
        let built = start.elapsed().as_secs_f64();
        let values = mi.values_at_support();
        let total = start.elapsed().as_secs_f64();
        cpu_all.push(cpu_seconds() - cpu);
        assert_eq!(values.len(), m);
        cov.push(mi.covariance_seconds());
        reduce.push(total - built);
    }
    println!(
        "acquisition d={d:<3} n={n:<4} M={m}: model Σ(Z,Z) {:.4} s, LES reduction {:.4} s (cpu total {:.2} s); Σ(Z,Z) GEMM {:.2} GFLOP/s",
        median(cov.clone()),
        median(reduce),
        median(cpu_all),
        2.0 * (n * m * m) as f64 / median(cov) / 1e9
    );
}

fn main() {
    if std::env::args().any(|a| a == "acquisition") {
        for (d, n) in [(5, 50), (20, 100), (50, 400)] {
            bench_acquisition(d, n, 3);
        }
        return;
    }
    let args: Vec<usize> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    if std::env::args().any(|a| a == "paths") {
        let (sizes, calls) = match args.as_slice() {
            [d, n, calls, ..] => (vec![(*d, *n)], (*calls).max(1)),
            [d, n, ..] => (vec![(*d, *n)], 100),
            _ => (vec![(5, 50), (20, 100), (50, 400)], 100),
        };
        for (d, n) in sizes {
            bench_paths(d, n, calls);
        }
        return;
    }
    match args.as_slice() {
        [d, n, reps, ..] => bench(*d, *n, *reps),
        [d, n] => bench(*d, *n, 3),
        _ => {
            for (d, n) in [(5, 50), (20, 100), (50, 400)] {
                bench(d, n, 3);
            }
        }
    }
}

//! Speed of the `gp` surrogate: MAP fit time, sample-path throughput (values + gradients of
//! `L` paths per call) and the Schur-complement batch of LES.
//!
//! Run: `cargo bench -p les-gp` (all groups) or `cargo bench -p les-gp -- paths` (one group:
//! `fit`, `posterior`, `paths`, `schur`, `micro`). Data are built outside the timed regions; fixed seeds.

use std::time::Instant;

use les_core::registry::BuildContext;
use les_core::{Dataset, Params, PathBatch, StreamRng, Surrogate, stream_rng};
use les_gp::ExactGp;
use rand::RngExt;
use serde_json::json;

fn points(n: usize, d: usize, rng: &mut StreamRng) -> Vec<f64> {
    (0..n * d).map(|_| rng.random::<f64>()).collect()
}

fn data(n: usize, d: usize) -> Dataset {
    let mut rng = stream_rng(1, "bench", (n * 1000 + d) as u64);
    let x = points(n, d, &mut rng);
    let y = x
        .chunks(d)
        .map(|p| p.iter().enumerate().map(|(i, v)| ((1.0 + i as f64 % 5.0) * 3.0 * v).sin()).sum::<f64>())
        .collect();
    Dataset::from_rows(d, x, y)
}

fn gp(d: usize, params: serde_json::Value) -> ExactGp {
    let ctx = BuildContext { dim: d, ..Default::default() };
    ExactGp::from_params(&Params::new(params, "bench"), &ctx).expect("params").0
}

fn bench_fit() {
    println!("# MAP fit (se_ard, prior box_sqrt_d, default restarts (1), noise fixed 1.42e-3)");
    println!("{:>5} {:>4} {:>10} {:>10} {:>8} {:>12} {:>10}", "n", "d", "fit [s]", "cpu [s]", "iters", "s/iter", "lml");
    for n in [50, 200, 400] {
        for d in [5, 20, 50] {
            let data = data(n, d);
            let mut g = gp(d, json!({ "lengthscale_prior": "box_sqrt_d", "noise_std": 1.42e-3 }));
            let t = Instant::now();
            let c0 = cpu_seconds();
            let diag = g.fit(&data, &mut stream_rng(2, "fit", 0)).expect("fit").to_json();
            let secs = t.elapsed().as_secs_f64();
            let cpu = cpu_seconds() - c0;
            let iters = diag["lbfgs_iterations"].as_u64().unwrap_or(0);
            println!(
                "{n:>5} {d:>4} {secs:>10.3} {cpu:>10.3} {iters:>8} {:>12.5} {:>10.2}",
                secs / iters.max(1) as f64,
                diag["log_marginal_likelihood"].as_f64().unwrap_or(f64::NAN)
            );
        }
    }
}

fn bench_paths() {
    let (l, b) = (250, 1024);
    println!(
        "# paths: value_and_grad of L = {l} paths at L points, B = {b} (threads: {})",
        rayon::current_num_threads()
    );
    println!(
        "{:>4} {:>5} {:>10} {:>14} {:>10} {:>14} {:>12} {:>12}",
        "d", "n", "ms/call", "path-evals/s", "GFLOP/s", "T=500 [s]", "cpu ms/call", "cpu GFLOP/s"
    );
    let only_d: Option<usize> = std::env::var("GP_BENCH_D").ok().and_then(|v| v.parse().ok());
    for d in [5, 20, 50].into_iter().filter(|d| only_d.is_none_or(|o| o == *d)) {
        for n in [50, 400] {
            let data = data(n, d);
            let mut g = gp(d, json!({ "hyperparameters": { "fixed": { "lengthscales": [0.3] } }, "features": b }));
            g.fit(&data, &mut stream_rng(2, "fit", 0)).expect("fit");
            let paths = g.sample_path_set(l, &mut stream_rng(3, "paths", 0)).expect("paths");
            let xs = points(l, d, &mut stream_rng(4, "x", 0));
            let mut v = vec![0.0; l];
            let mut gr = vec![0.0; l * d];
            paths.value_and_grad(&xs, &mut v, &mut gr);
            let calls = if d == 50 { 200 } else { 400 };
            let t = Instant::now();
            let c0 = cpu_seconds();
            for _ in 0..calls {
                paths.value_and_grad(&xs, &mut v, &mut gr);
            }
            let per = t.elapsed().as_secs_f64() / calls as f64;
            let cpu_per = (cpu_seconds() - c0) / calls as f64;
            // The four GEMMs: projections and RFF gradient (2·L·d·B each), distances and kernel
            // gradient (2·L·d·n each).
            let flops = 4.0 * (l * d * (b + n)) as f64;
            println!(
                "{d:>4} {n:>5} {:>10.3} {:>14.0} {:>10.2} {:>14.2} {:>12.3} {:>12.2}",
                per * 1e3,
                l as f64 / per,
                flops / per / 1e9,
                500.0 * per,
                cpu_per * 1e3,
                flops / cpu_per / 1e9
            );
        }
    }
}

fn bench_schur() {
    println!("# Schur batch: sigma^2(c | D u Z_l) for M = L*P candidates, L = 250, P = 8");
    println!("{:>4} {:>5} {:>10} {:>12} {:>18}", "d", "n", "prep [s]", "batch [s]", "Sigma(Z,Z) MxM [s]");
    let (l, p) = (250, 8);
    for (d, n) in [(5, 50), (50, 400)] {
        let data = data(n, d);
        let mut g = gp(d, json!({ "hyperparameters": { "fixed": { "lengthscales": [0.3] } } }));
        g.fit(&data, &mut stream_rng(2, "fit", 0)).expect("fit");
        let post = g.posterior().expect("fitted");
        let cands = points(l * p, d, &mut stream_rng(5, "c", 0));
        let sets: Vec<usize> = (0..l * p).collect();
        let t = Instant::now();
        let cond = post.condition_candidates(&cands).expect("cands");
        let prep = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let out = cond.conditional_variances_batch(&sets, p, post.noise_variance()).expect("batch");
        let batch = t.elapsed().as_secs_f64();
        assert_eq!(out.len(), l * l * p);
        let t = Instant::now();
        let cov = g.posterior_covariance(&cands, &cands).expect("cov");
        let full = t.elapsed().as_secs_f64();
        assert_eq!(cov.len(), (l * p) * (l * p));
        println!("{d:>4} {n:>5} {prep:>10.3} {batch:>12.3} {full:>18.3}");
    }
}

fn bench_micro() {
    println!("# micro: 262144 sine/cosine pairs and exps, GEMM 1024x50 * 50x250");
    let n = 262_144;
    let xs: Vec<f64> = (0..n).map(|i| (i as f64) * 0.001 - 100.0).collect();
    let mut s = vec![0.0; n];
    let mut c = vec![0.0; n];
    let reps = 50;
    let t = cpu_seconds();
    for _ in 0..reps {
        for ((x, s), c) in xs.iter().zip(s.iter_mut()).zip(c.iter_mut()) {
            let (a, b) = les_gp::rff::sincos_reduced(*x);
            *s = a;
            *c = b;
        }
        std::hint::black_box(&mut s);
    }
    println!("fast sincos: {:.2} ns/pair", (cpu_seconds() - t) / (reps * n) as f64 * 1e9);
    let t = cpu_seconds();
    for _ in 0..reps {
        for ((x, s), c) in xs.iter().zip(s.iter_mut()).zip(c.iter_mut()) {
            let (a, b) = x.sin_cos();
            *s = a;
            *c = b;
        }
        std::hint::black_box(&mut s);
    }
    println!("std sin_cos: {:.2} ns/pair", (cpu_seconds() - t) / (reps * n) as f64 * 1e9);
    let t = cpu_seconds();
    for _ in 0..reps {
        for (x, s) in xs.iter().zip(s.iter_mut()) {
            *s = les_gp::rff::exp_fast(-x.abs());
        }
        std::hint::black_box(&mut s);
    }
    println!("fast exp: {:.2} ns", (cpu_seconds() - t) / (reps * n) as f64 * 1e9);
    let a = nalgebra::DMatrix::<f64>::from_fn(1024, 50, |i, j| ((i + j) % 7) as f64);
    let b = nalgebra::DMatrix::<f64>::from_fn(50, 250, |i, j| ((i * j) % 5) as f64);
    let mut out = nalgebra::DMatrix::<f64>::zeros(1024, 250);
    let t = cpu_seconds();
    for _ in 0..200 {
        out.gemm(1.0, &a, &b, 0.0);
    }
    let secs = cpu_seconds() - t;
    println!("gemm: {:.2} GFLOP/s", 200.0 * 2.0 * 1024.0 * 50.0 * 250.0 / secs / 1e9);
    let t = cpu_seconds();
    for _ in 0..200 {
        for k in 0..15 {
            let mut o = out.columns_mut(k * 16, 16);
            o.gemm(1.0, &a, &b.columns(k * 16, 16), 0.0);
        }
    }
    let secs = cpu_seconds() - t;
    for n in [200, 400] {
        let b = nalgebra::DMatrix::<f64>::from_fn(n, n, |i, j| ((i * 31 + j * 17) % 23) as f64 / 23.0 - 0.5);
        let a = &b * b.transpose() + nalgebra::DMatrix::<f64>::identity(n, n);
        let reps = 20;
        let t = cpu_seconds();
        let w = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(nalgebra::Cholesky::new(a.clone()));
        }
        let (c1, w1) = ((cpu_seconds() - t) / reps as f64, w.elapsed().as_secs_f64() / reps as f64);
        let t = cpu_seconds();
        let w = Instant::now();
        for _ in 0..reps {
            std::hint::black_box(les_numerics::cholesky::cholesky_blocked(a.clone()));
        }
        let (c2, w2) = ((cpu_seconds() - t) / reps as f64, w.elapsed().as_secs_f64() / reps as f64);
        println!(
            "cholesky n={n}: nalgebra {:.2} ms ({:.2} cpu), blocked {:.2} ms ({:.2} cpu)",
            w1 * 1e3,
            c1 * 1e3,
            w2 * 1e3,
            c2 * 1e3
        );
    }
    println!("gemm in 16-column blocks: {:.2} GFLOP/s", 200.0 * 2.0 * 1024.0 * 50.0 * 240.0 / secs / 1e9);
}

/// CPU time of all the process's threads in seconds, summed from `/proc/self/task/*/schedstat`
/// (nanosecond resolution): on a shared, loaded machine it is a better measure of work than
/// wall time, which also counts the time other processes hold the cores.
fn cpu_seconds() -> f64 {
    let Ok(tasks) = std::fs::read_dir("/proc/self/task") else { return f64::NAN };
    tasks
        .flatten()
        .map(|t| {
            let s = std::fs::read_to_string(t.path().join("schedstat")).unwrap_or_default();
            s.split_whitespace().next().and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0)
        })
        .sum::<f64>()
        * 1e-9
}

/// One evaluation of the MAP fit's negative log posterior (value alone, value and gradient) and its `O(n³)`
/// parts: the Cholesky factorization and `K⁻¹` (blocked `potri`-style inverse against solving
/// `L Lᵀ X = I`). CPU milliseconds per call (all threads), the fastest of 5 timings of `reps` calls.
fn bench_posterior() {
    use les_gp::map::{LengthscaleSetting, MapProblem};
    use les_numerics::lbfgs::Objective;
    println!("# log posterior of the MAP fit (se_ard, prior high), CPU ms per call, fastest of 5");
    println!(
        "{:>5} {:>4} {:>12} {:>12} {:>12} {:>12} {:>12}",
        "n", "d", "value", "value+grad", "cholesky", "inverse", "solve I"
    );
    // The minimum of the timings: on a shared machine other processes only ever add time.
    let fastest = |v: Vec<f64>| v.into_iter().fold(f64::INFINITY, f64::min);
    let time = |reps: usize, f: &mut dyn FnMut()| {
        fastest(
            (0..5)
                .map(|_| {
                    let t = cpu_seconds();
                    for _ in 0..reps {
                        f();
                    }
                    (cpu_seconds() - t) / reps as f64 * 1e3
                })
                .collect(),
        )
    };
    for n in [100, 400, 1000] {
        for d in [5, 20] {
            let data = data(n, d);
            let setting = LengthscaleSetting::resolve(&les_gp::params::LengthscalePrior::High, d).expect("valid prior");
            let y = data.y().to_vec();
            let p = MapProblem {
                kind: les_core::KernelKind::SeArd,
                setting,
                noise_variance: 4e-6,
                fit_noise: false,
                x: data.x(),
                y: &y,
                dim: d,
            };
            let theta: Vec<f64> = (0..d).map(|_| setting.init.ln()).chain([0.0]).collect();
            let mut grad = vec![0.0; d + 1];
            let reps = (400_000_000 / (n * n * n)).clamp(1, 200);
            // One objective for all calls, as the fit reuses one (its n×n buffers).
            let mut objective = les_gp::map::LogPosterior::new(&p);
            let value = time(reps, &mut || {
                std::hint::black_box(objective.value(&theta).expect("infallible"));
            });
            let nlp = time(reps, &mut || {
                std::hint::black_box(objective.value(&theta).expect("infallible"));
                objective.gradient(&theta, &mut grad).expect("infallible");
            });
            let (kernel, noise) = p.unpack(&theta);
            let mut k = kernel.matrix(data.x(), data.x());
            for i in 0..n {
                k[(i, i)] += noise;
            }
            let chol = time(reps, &mut || {
                std::hint::black_box(les_numerics::cholesky::cholesky_with_jitter(k.clone()).expect("pd"));
            });
            let l = les_numerics::cholesky::cholesky_with_jitter(k.clone()).expect("pd").l;
            let inv = time(reps, &mut || {
                std::hint::black_box(les_gp::spd_inverse::spd_inverse_from_cholesky(&l));
            });
            let solve = time(reps, &mut || {
                let mut x = nalgebra::DMatrix::identity(n, n);
                les_numerics::triangular::cholesky_solve_in_place(&l, &mut x);
                std::hint::black_box(x);
            });
            println!("{n:>5} {d:>4} {value:>12.3} {nlp:>12.3} {chol:>12.3} {inv:>12.3} {solve:>12.3}");
        }
    }
}

/// The MAP fit on the data of a `les run` directory, as `../shared/peers/botorch_fit_logei.py`
/// times BoTorch's: the first `n`, `n + 1`, `n + 2` observations of `RUN/evaluations.jsonl`, the
/// prior of the run's complexity, σ_n = 2e-3. Wall and CPU seconds (all threads) per fit.
///
/// `LES_FIT_RUN=DIR LES_FIT_N=400 LES_FIT_PRIOR=high cargo bench -p les-gp --bench gp_bench -- fitrun`
fn bench_fit_run() {
    let Ok(dir) = std::env::var("LES_FIT_RUN") else {
        println!("# fitrun: set LES_FIT_RUN to a run directory (and LES_FIT_N, LES_FIT_PRIOR)");
        return;
    };
    let n: usize = std::env::var("LES_FIT_N").ok().and_then(|v| v.parse().ok()).unwrap_or(400);
    let prior = std::env::var("LES_FIT_PRIOR").unwrap_or_else(|_| "high".into());
    let text = std::fs::read_to_string(format!("{dir}/evaluations.jsonl")).expect("evaluations.jsonl");
    let rows: Vec<serde_json::Value> = text.lines().map(|l| serde_json::from_str(l).expect("JSON line")).collect();
    let d = rows[0]["x"].as_array().expect("x").len();
    let mut fits = Vec::new();
    for k in 0..3 {
        let m = n + k;
        let x: Vec<f64> = rows[..m]
            .iter()
            .flat_map(|r| r["x"].as_array().expect("x").iter().map(|v| v.as_f64().expect("number")))
            .collect();
        let y: Vec<f64> = rows[..m].iter().map(|r| r["y"].as_f64().expect("y")).collect();
        let data = Dataset::from_rows(d, x, y);
        let mut g = gp(d, json!({ "hyperparameters": "map", "lengthscale_prior": prior, "noise_std": 2e-3 }));
        let (t, c) = (Instant::now(), cpu_seconds());
        let diag = g.fit(&data, &mut stream_rng(1, "fit", k as u64)).expect("fit").to_json();
        let (wall, cpu) = (t.elapsed().as_secs_f64(), cpu_seconds() - c);
        println!(
            "n={m} d={d}: fit {wall:.3} s (cpu {cpu:.3} s, {} L-BFGS iters, {} values, {} gradients) log posterior {:.2}",
            diag["lbfgs_iterations"],
            diag["lbfgs_evaluations"],
            diag["lbfgs_gradients"],
            diag["log_posterior"].as_f64().unwrap_or(f64::NAN)
        );
        fits.push((wall, cpu));
    }
    fits.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut cpus: Vec<f64> = fits.iter().map(|f| f.1).collect();
    cpus.sort_by(f64::total_cmp);
    println!("SUMMARY les fit d={d} n={n}..{}: fit median {:.3} s, cpu median {:.3} s", n + 2, fits[1].0, cpus[1]);
}

fn main() {
    let filter: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with("--")).collect();
    let run = |name: &str| filter.is_empty() || filter.iter().any(|f| name.contains(f.as_str()));
    if run("micro") {
        bench_micro();
    }
    if run("paths") {
        bench_paths();
    }
    if run("schur") {
        bench_schur();
    }
    if run("fit") {
        bench_fit();
    }
    if run("fitrun") {
        bench_fit_run();
    }
    if run("posterior") {
        bench_posterior();
    }
}

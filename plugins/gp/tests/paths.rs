//! Sample paths: gradients, determinism and Monte-Carlo statistics.

mod common;

use common::{dataset, fixed_gp, uniform_points};
use les_core::{KernelKind, PathBatch, Surrogate, stream_rng};
use les_gp::rff::RandomFeatures;
use les_gp::{Kernel, PathPrecision, PathSet};
use les_numerics::fdcheck::FdCheck;
use serde_json::json;

const KINDS: [KernelKind; 2] = [KernelKind::SeArd, KernelKind::Matern52];

#[test]
fn path_gradients_match_finite_differences() {
    // d = 5 takes the small-d dot-product branch, d = 7 the GEMM branch.
    for (kind, d) in
        [(KernelKind::SeArd, 5), (KernelKind::Matern52, 5), (KernelKind::SeArd, 7), (KernelKind::Matern52, 7)]
    {
        let data = dataset(30, d, 3);
        let ls: Vec<f64> = (0..d).map(|i| 0.2 + 0.1 * i as f64).collect();
        // Double precision: central differences at h = 1e-6 need values to ~1e-12.
        let gp = fixed_gp(&data, kind, &ls, 2e-3, json!({ "features": 256, "path_precision": "double" }));
        let paths =
            gp.as_pathwise().expect("pathwise").sample_paths(37, &mut stream_rng(4, "paths", 0)).expect("paths");
        let l = paths.n_paths();
        let xs = uniform_points(l, d, &mut stream_rng(5, "x", 0));
        let mut v = vec![0.0; l];
        let mut g = vec![0.0; l * d];
        paths.value_and_grad(&xs, &mut v, &mut g);
        let mut vals_only = vec![0.0; l];
        paths.values(&xs, &mut vals_only);
        assert_eq!(v, vals_only);
        let mut probe_xs = xs.clone();
        let mut probe_v = vec![0.0; l];
        for p in 0..l {
            // Path p at its own point x, the other paths at theirs.
            let mut path_p = |x: &[f64]| {
                probe_xs[p * d..(p + 1) * d].copy_from_slice(x);
                paths.values(&probe_xs, &mut probe_v);
                probe_v[p]
            };
            let x = &xs[p * d..(p + 1) * d];
            FdCheck::new(1e-6, 1e-5).check(&format!("{kind:?} path {p}"), &mut path_p, x, &g[p * d..(p + 1) * d]);
            probe_xs[p * d..(p + 1) * d].copy_from_slice(x);
        }
    }
}

#[test]
fn single_precision_paths_match_double_precision_within_the_rounding_bound() {
    // The same draw evaluated both ways; the bound is the kernel's first-order rounding bound
    // (see `rff_single`), scaled by the amplitude and the chain rule: per feature
    // (d + 3)·u·(|τ_b| + Σ_i |Ω_bi x̃_i|) + 1.2e-7 for sine/cosine + (B/8 + 6)·u for the sums.
    // The descent's sine-only gradients (`gradients_block`) have the sine's 1.7e-7 instead.
    // n = 41: the Matheron part's register blocks of 16 and 4 points and its scalar tail.
    for kind in KINDS {
        let d = 6;
        let data = dataset(41, d, 11);
        let ls = [0.15, 0.2, 0.3, 0.4, 0.5, 0.6];
        let gp = fixed_gp(&data, kind, &ls, 2e-3, json!({ "path_precision": "double" }));
        let double = gp.sample_path_set(100, &mut stream_rng(3, "paths", 0)).expect("paths");
        assert_eq!(double.precision(), PathPrecision::Double);
        let single = double.clone().with_precision(PathPrecision::Single);
        let l = double.n_paths();
        let xs = uniform_points(l, d, &mut stream_rng(6, "x", 0));
        let (mut vd, mut gd) = (vec![0.0; l], vec![0.0; l * d]);
        let (mut vs, mut gs) = (vec![0.0; l], vec![0.0; l * d]);
        double.value_and_grad(&xs, &mut vd, &mut gd);
        single.value_and_grad(&xs, &mut vs, &mut gs);
        let block = single.block_size();
        let mut g_only = vec![0.0; l * d];
        for (k, (x, g)) in xs.chunks(block * d).zip(g_only.chunks_mut(block * d)).enumerate() {
            single.gradients_block(k * block, x, g);
        }
        let f = double.features();
        let b = f.n_features();
        let amp = (2.0 * 1.3 / b as f64).sqrt();
        let u = f64::from(f32::EPSILON) / 2.0;
        let w = double.feature_weights();
        let mut worst_ratio: f64 = 0.0;
        for p in 0..l {
            let x = &xs[p * d..(p + 1) * d];
            let (mut vb, mut gb, mut sb) = (0.0, vec![0.0; d], vec![0.0; d]);
            for k in 0..b {
                let mag: f64 = f.tau[k].abs() + (0..d).map(|i| (f.omega[(k, i)] * x[i] / ls[i]).abs()).sum::<f64>();
                let rounding = (d + 3) as f64 * u * mag + (b / 8 + 6) as f64 * u;
                let e = rounding + 1.2e-7;
                vb += amp * w[(k, p)].abs() * e;
                for i in 0..d {
                    gb[i] += amp * (w[(k, p)] * f.omega[(k, i)] / ls[i]).abs() * e;
                    sb[i] += amp * (w[(k, p)] * f.omega[(k, i)] / ls[i]).abs() * (rounding + 1.7e-7);
                }
            }
            assert!((vs[p] - vd[p]).abs() <= vb, "{kind:?} path {p}: {} vs {} (bound {vb})", vs[p], vd[p]);
            worst_ratio = worst_ratio.max((vs[p] - vd[p]).abs() / vb);
            for i in 0..d {
                let (a, e) = (gs[p * d + i], gd[p * d + i]);
                assert!((a - e).abs() <= gb[i], "{kind:?} path {p} input {i}: {a} vs {e} (bound {})", gb[i]);
                let a = g_only[p * d + i];
                assert!((a - e).abs() <= sb[i], "{kind:?} path {p} input {i}, sine only: {a} vs {e} (bound {})", sb[i]);
            }
        }
        // Not equal either: the single-precision branch really ran.
        assert!(worst_ratio > 0.0, "{kind:?}: single and double precision gave identical values");
    }
}

#[test]
fn path_results_do_not_depend_on_thread_count() {
    let d = 6;
    let data = dataset(50, d, 8);
    let gp = fixed_gp(&data, KernelKind::SeArd, &[0.3; 6], 2e-3, json!({}));
    let draw = || gp.sample_path_set(70, &mut stream_rng(9, "paths", 1)).expect("paths");
    let xs = uniform_points(70, d, &mut stream_rng(1, "x", 0));
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
        pool.install(|| {
            let paths = draw();
            let mut v = vec![0.0; 70];
            let mut g = vec![0.0; 70 * d];
            paths.value_and_grad(&xs, &mut v, &mut g);
            (v, g)
        })
    };
    let (v1, g1) = run(1);
    let (v3, g3) = run(3);
    assert!(v1.iter().zip(&v3).all(|(a, b)| a.to_bits() == b.to_bits()));
    assert!(g1.iter().zip(&g3).all(|(a, b)| a.to_bits() == b.to_bits()));
}

/// Mean and standard error of a sample.
fn mean_se(v: &[f64]) -> (f64, f64) {
    let n = v.len() as f64;
    let m = v.iter().sum::<f64>() / n;
    let var = v.iter().map(|x| (x - m).powi(2)).sum::<f64>() / (n - 1.0);
    (m, (var / n).sqrt())
}

#[test]
fn random_features_reproduce_the_kernel_in_expectation() {
    // E_{Ω,τ}[φ(x)ᵀφ(x')] = k(x, x'); the tolerance is 4.5 standard errors over R draws.
    let d = 3;
    let ls = [0.5, 0.8, 1.1];
    let pairs: [([f64; 3], [f64; 3]); 4] = [
        ([0.1, 0.2, 0.3], [0.1, 0.2, 0.3]),
        ([0.1, 0.2, 0.3], [0.25, 0.35, 0.5]),
        ([0.1, 0.2, 0.3], [0.6, 0.5, 0.9]),
        ([0.0, 0.0, 0.0], [0.9, 0.9, 0.9]),
    ];
    for kind in KINDS {
        let kernel = Kernel::new(kind, ls.to_vec(), 1.7);
        let r = 300;
        let mut rng = stream_rng(21, "rff", 0);
        let mut samples = vec![Vec::new(); pairs.len()];
        for _ in 0..r {
            let f = RandomFeatures::sample(kind, d, 256, &mut rng);
            for (s, (a, b)) in samples.iter_mut().zip(&pairs) {
                let pa = f.features(&ls, 1.7, a);
                let pb = f.features(&ls, 1.7, b);
                s.push(pa.dot(&pb));
            }
        }
        for (s, (a, b)) in samples.iter().zip(&pairs) {
            let (m, se) = mean_se(s);
            let want = kernel.eval(a, b);
            assert!((m - want).abs() < 4.5 * se.max(1e-3), "{kind:?} {a:?}-{b:?}: {m} ± {se} vs {want}");
        }
    }
}

#[test]
fn prior_paths_have_the_kernel_covariance() {
    // Independent feature draws (batches) so that the expectation covers Ω too.
    let kernel = Kernel::new(KernelKind::SeArd, vec![0.4, 0.7], 1.0);
    let pts = [0.2, 0.3, 0.5, 0.4];
    let (batches, l) = (200, 32);
    let mut prod = Vec::new();
    let mut sq = Vec::new();
    for b in 0..batches {
        let paths = PathSet::prior(&kernel, 128, l, &mut stream_rng(5, "prior", b));
        let v = paths.values_at_all(&pts);
        // Batch means of f(a)f(b) and f(a)².
        prod.push((0..l).map(|p| v[p * 2] * v[p * 2 + 1]).sum::<f64>() / l as f64);
        sq.push((0..l).map(|p| v[p * 2] * v[p * 2]).sum::<f64>() / l as f64);
    }
    let (m, se) = mean_se(&prod);
    let want = kernel.eval(&pts[..2], &pts[2..]);
    assert!((m - want).abs() < 4.5 * se, "cov {m} ± {se} vs {want}");
    let (m, se) = mean_se(&sq);
    assert!((m - 1.0).abs() < 4.5 * se, "var {m} ± {se} vs 1");
}

#[test]
fn posterior_paths_reproduce_the_exact_posterior() {
    for kind in KINDS {
        let d = 2;
        // n = 13: the Matheron part's block of 4 points and its scalar tail.
        let data = dataset(13, d, 17);
        let gp = fixed_gp(&data, kind, &[0.25, 0.4], 0.05, json!({ "features": 256 }));
        let post = gp.posterior().expect("fitted");
        let tests = uniform_points(5, d, &mut stream_rng(3, "t", 0));
        let pred = post.predict(&tests).expect("predict");
        let (batches, l) = (120, 32);
        let mut means = vec![Vec::new(); 5];
        let mut vars = vec![Vec::new(); 5];
        for b in 0..batches {
            let paths = gp.sample_path_set(l, &mut stream_rng(23, "post", b)).expect("paths");
            let v = paths.values_at_all(&tests);
            for t in 0..5 {
                let col: Vec<f64> = (0..l).map(|p| v[p * 5 + t]).collect();
                means[t].push(col.iter().sum::<f64>() / l as f64);
                vars[t].push(col.iter().map(|x| (x - pred.mean[t]).powi(2)).sum::<f64>() / l as f64);
            }
        }
        for t in 0..5 {
            let (m, se) = mean_se(&means[t]);
            assert!((m - pred.mean[t]).abs() < 4.5 * se, "{kind:?} mean {t}: {m} ± {se} vs {}", pred.mean[t]);
            let (v, se) = mean_se(&vars[t]);
            assert!((v - pred.variance[t]).abs() < 4.5 * se, "{kind:?} var {t}: {v} ± {se} vs {}", pred.variance[t]);
        }
    }
}

//! Exact posterior, Schur-complement conditioning, jitter and registry behaviour.

mod common;

use common::{dataset, fixed_gp, uniform_points};
use les_core::registry::{BuildContext, build};
use les_core::{Dataset, GpHyperparameters, KernelKind, Params, PluginError, Surrogate, SurrogateError, stream_rng};
use les_gp::{ExactGp, GpPosterior, Kernel};
use les_numerics::fdcheck::FdCheck;
use nalgebra::{DMatrix, DVector};
use serde_json::json;

const KINDS: [KernelKind; 2] = [KernelKind::SeArd, KernelKind::Matern52];

/// Brute force: dense inverse of `K + σ²I`.
fn brute_force(kernel: &Kernel, noise: f64, x: &[f64], y: &[f64], a: &[f64], b: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
    let n = y.len();
    let mut k = kernel.gram(x);
    for i in 0..n {
        k[(i, i)] += noise;
    }
    let kinv = k.try_inverse().expect("invertible");
    let ka = kernel.matrix(x, a);
    let kb = kernel.matrix(x, b);
    let mean = (ka.transpose() * &kinv * DVector::from_column_slice(y)).as_slice().to_vec();
    let cov = kernel.matrix(a, b) - ka.transpose() * &kinv * kb;
    (mean, cov)
}

#[test]
fn posterior_matches_brute_force() {
    for kind in KINDS {
        let data = dataset(30, 3, 7);
        let gp = fixed_gp(&data, kind, &[0.3, 0.5, 0.8], 0.05, json!({}));
        let post = gp.posterior().expect("fitted");
        let (shift, scale) = gp.output_scale();
        let y: Vec<f64> = data.y().iter().map(|v| (v - shift) / scale).collect();
        let mut rng = stream_rng(2, "test", 0);
        let a = uniform_points(6, 3, &mut rng);
        let b = uniform_points(4, 3, &mut rng);
        let (mean, cov_ab) = brute_force(post.kernel(), post.noise_variance(), data.x(), &y, &a, &b);
        let (_, cov_aa) = brute_force(post.kernel(), post.noise_variance(), data.x(), &y, &a, &a);
        let pred = gp.predict(&a).expect("predict");
        for i in 0..6 {
            assert!((pred.mean[i] - mean[i]).abs() < 1e-9, "{kind:?} mean {i}");
            assert!((pred.variance[i] - cov_aa[(i, i)]).abs() < 1e-9, "{kind:?} var {i}");
        }
        let caa = gp.posterior_covariance(&a, &a).expect("cov");
        for i in 0..6 {
            for j in 0..6 {
                assert!((caa[i * 6 + j] - cov_aa[(i, j)]).abs() < 1e-9, "{kind:?} cov_aa ({i},{j})");
            }
        }
        let c = gp.posterior_covariance(&a, &b).expect("cov");
        for i in 0..6 {
            for j in 0..4 {
                assert!((c[i * 4 + j] - cov_ab[(i, j)]).abs() < 1e-9, "{kind:?} cov ({i},{j})");
            }
        }
    }
}

#[test]
fn standardization_is_population_std_and_n1_special_case() {
    let data = Dataset::from_rows(1, vec![0.1, 0.5, 0.9], vec![1.0, 2.0, 6.0]);
    let gp = fixed_gp(&data, KernelKind::SeArd, &[0.3], 0.01, json!({}));
    let (shift, scale) = gp.output_scale();
    assert!((shift - 3.0).abs() < 1e-12);
    assert!((scale - (14.0f64 / 3.0).sqrt()).abs() < 1e-12);
    let one = Dataset::from_rows(1, vec![0.4], vec![5.0]);
    let gp = fixed_gp(&one, KernelKind::SeArd, &[0.3], 0.01, json!({}));
    assert_eq!(gp.output_scale(), (6.0, 1.0));
    let raw = fixed_gp(&data, KernelKind::SeArd, &[0.3], 0.01, json!({ "standardize": false }));
    assert_eq!(raw.output_scale(), (0.0, 1.0));
}

#[test]
fn mean_and_variance_gradients_match_finite_differences() {
    for kind in KINDS {
        let data = dataset(25, 4, 11);
        let gp = fixed_gp(&data, kind, &[0.3, 0.4, 0.6, 0.9], 0.01, json!({}));
        let post = gp.posterior().expect("fitted");
        let mut rng = stream_rng(5, "test", 0);
        for _ in 0..5 {
            let x = uniform_points(1, 4, &mut rng);
            let (_, _, gm, gv) = post.mean_variance_gradients(&x);
            let check = FdCheck::new(1e-6, 1e-6);
            check.check(&format!("{kind:?} mean"), |p| post.mean_variance_gradients(p).0, &x, &gm);
            check.check(&format!("{kind:?} variance"), |p| post.mean_variance_gradients(p).1, &x, &gv);
        }
    }
}

fn rel_close(a: f64, b: f64, tol: f64) -> bool {
    (a - b).abs() <= tol * a.abs().max(b.abs()).max(1e-12)
}

#[test]
fn schur_conditioning_equals_refitting() {
    for kind in KINDS {
        let d = 3;
        let data = dataset(40, d, 13);
        let gp = fixed_gp(&data, kind, &[0.2, 0.35, 0.5], 2e-3, json!({}));
        let post = gp.posterior().expect("fitted");
        let mut rng = stream_rng(6, "test", 0);
        let (m, p) = (24, 4);
        let cands = uniform_points(m, d, &mut rng);
        let cond = post.condition_candidates(&cands).expect("candidates");
        let sets: Vec<usize> = vec![0, 5, 9, 17, 1, 2, 3, 4, 20, 21, 22, 23];
        let noise = post.noise_variance();
        let batch = cond.conditional_variances_batch(&sets, p, noise).expect("batch");
        for (l, z) in sets.chunks(p).enumerate() {
            // Refit on D ∪ Z (values do not matter for variances).
            let mut x = data.x().to_vec();
            let mut y = post.y().to_vec();
            for &i in z {
                x.extend_from_slice(&cands[i * d..(i + 1) * d]);
                y.push(0.0);
            }
            let refit = GpPosterior::new(post.kernel().clone(), noise, x, y, 0.0, 1.0).expect("refit");
            let want = refit.predict(&cands).expect("predict").variance;
            let single = cond.conditional_variances(z, noise).expect("single");
            let zp: Vec<f64> = z.iter().flat_map(|&i| cands[i * d..(i + 1) * d].to_vec()).collect();
            let at_points = cond.conditional_variances_at_points(&zp, noise).expect("points");
            for c in 0..m {
                let got = batch[l * m + c];
                assert!(
                    rel_close(got, want[c], 1e-9) || (got - want[c]).abs() < 1e-13,
                    "{kind:?} set {l} cand {c}: {got} vs {}",
                    want[c]
                );
                assert!(rel_close(single[c], want[c], 1e-9) || (single[c] - want[c]).abs() < 1e-13);
                assert!(rel_close(at_points[c], want[c], 1e-9) || (at_points[c] - want[c]).abs() < 1e-13);
            }
        }
        // Base variances and cross-covariance agree with the posterior.
        let pred = post.predict(&cands).expect("predict");
        for c in 0..m {
            assert!((cond.variances()[c] - pred.variance[c]).abs() < 1e-12);
        }
        let g = cond.cross_covariance(&[3, 7]).expect("cross");
        let zp: Vec<f64> = [3, 7].iter().flat_map(|&i| cands[i * d..(i + 1) * d].to_vec()).collect();
        let want = post.covariance_matrix(&cands, &zp).expect("cov");
        assert!((g - want).abs().max() < 1e-12);
    }
}

#[test]
fn duplicated_points_need_jitter_and_report_it() {
    let x = vec![0.2, 0.3, 0.2, 0.3, 0.7, 0.1, 0.7, 0.1];
    let data = Dataset::from_rows(2, x, vec![1.0, 1.0, 2.0, 2.0]);
    let gp = fixed_gp(&data, KernelKind::SeArd, &[0.3, 0.3], 0.0, json!({}));
    let jitter = gp.posterior().expect("fitted").jitter();
    assert!(jitter > 0.0 && jitter <= 1e-6 * 1.3, "jitter {jitter}");
    // With noise the same data need none.
    let gp = fixed_gp(&data, KernelKind::SeArd, &[0.3, 0.3], 2e-3, json!({}));
    assert_eq!(gp.posterior().expect("fitted").jitter(), 0.0);
}

#[test]
fn not_positive_definite_is_a_typed_error() {
    // A negative noise variance makes K indefinite beyond any jitter.
    let data = dataset(5, 2, 1);
    let k = Kernel::new(KernelKind::SeArd, vec![0.3, 0.3], 1.0);
    let err = GpPosterior::new(k, -0.5, data.x().to_vec(), data.y().to_vec(), 0.0, 1.0).expect_err("indefinite");
    assert!(matches!(err, SurrogateError::NotPositiveDefinite { size: 5, .. }), "{err:?}");
}

fn build_gp(params: serde_json::Value, ctx: &BuildContext) -> Result<serde_json::Value, PluginError> {
    // Naming the crate links it, so its registry entry exists.
    let _ = std::any::type_name::<ExactGp>();
    build::<dyn Surrogate>("gp", "surrogate.name", &Params::new(params, "surrogate.params"), ctx).map(|b| b.resolved)
}

#[test]
fn registry_builds_and_reports_param_errors() {
    let ctx = BuildContext { dim: 4, ..Default::default() };
    let resolved = build_gp(json!({}), &ctx).expect("defaults build");
    assert_eq!(resolved["kernel"], "se_ard");
    assert_eq!(resolved["hyperparameters"], "map");
    assert_eq!(resolved["features"], 1024);
    build_gp(json!({ "lengthscale_prior": { "box": [0.05, "sqrt_d"] } }), &ctx).expect("box with sqrt_d");
    build_gp(json!({ "lengthscale_prior": "box_sqrt_d", "kernel": "matern52" }), &ctx).expect("shorthand");
    build_gp(json!({ "lengthscale_prior": { "log_normal": { "mu": -1.0, "sigma": 0.5 } } }), &ctx).expect("log normal");

    let path_of = |r: Result<serde_json::Value, PluginError>| match r {
        Err(PluginError::Param(e)) => e.path,
        other => panic!("expected a parameter error, got {other:?}"),
    };
    assert_eq!(path_of(build_gp(json!({ "bogus": 1 }), &ctx)), "surrogate.params.bogus");
    assert_eq!(path_of(build_gp(json!({ "hyperparameters": "oracle" }), &ctx)), "surrogate.params.hyperparameters");
    assert_eq!(
        path_of(build_gp(json!({ "hyperparameters": { "fixed": { "lengthscales": [0.1, 0.2] } } }), &ctx)),
        "surrogate.params.hyperparameters.fixed.lengthscales"
    );
    assert_eq!(path_of(build_gp(json!({ "restarts": 0 }), &ctx)), "surrogate.params.restarts");
    assert_eq!(
        path_of(build_gp(json!({ "lengthscale_prior": { "box": [0.5, 0.1] } }), &ctx)),
        "surrogate.params.lengthscale_prior.box"
    );

    let oracle = GpHyperparameters {
        kernel: KernelKind::SeArd,
        lengthscales: vec![0.1, 0.2, 0.3, 0.4],
        signal_variance: 1.0,
        noise_std: 2e-3,
    };
    let ctx = BuildContext { dim: 4, oracle: Some(oracle), seed: 0 };
    build_gp(json!({ "hyperparameters": "oracle", "standardize": false }), &ctx).expect("oracle available");
    assert_eq!(
        path_of(build_gp(json!({ "hyperparameters": "oracle", "kernel": "matern52" }), &ctx)),
        "surrogate.params.kernel"
    );
}

#[test]
fn oracle_hyperparameters_are_used() {
    let oracle = GpHyperparameters {
        kernel: KernelKind::Matern52,
        lengthscales: vec![0.1, 0.2],
        signal_variance: 2.0,
        noise_std: 2e-3,
    };
    let ctx = BuildContext { dim: 2, oracle: Some(oracle), seed: 0 };
    let params = Params::new(json!({ "hyperparameters": "oracle", "kernel": "matern52" }), "s");
    let (mut gp, _) = ExactGp::from_params(&params, &ctx).expect("build");
    let diag = gp.fit(&dataset(10, 2, 3), &mut stream_rng(0, "fit", 0)).expect("fit").to_json();
    assert_eq!(diag["lengthscales"], json!([0.1, 0.2]));
    assert_eq!(diag["signal_variance"], json!(2.0));
}

/// `Σ(A, A)` (the blocked, fused assembly) has the bits of the plain formula: the kernel's upper
/// triangle, `K − AᵀA` by [`les_gp::linalg::syrk_tn_upper_par`] and a serial mirror; for any
/// thread count, with `n ≤ 5` (nalgebra's own product loop) and `n > 5`.
#[test]
fn covariance_of_a_set_with_itself_has_the_bits_of_the_plain_formula() {
    for (kind, n, m) in [(KernelKind::SeArd, 30, 150), (KernelKind::Matern52, 30, 131), (KernelKind::SeArd, 4, 70)] {
        let data = dataset(n, 3, 7);
        let gp = fixed_gp(&data, kind, &[0.3, 0.5, 0.8], 0.05, json!({}));
        let post = gp.posterior().expect("fitted");
        let a = uniform_points(m, 3, &mut stream_rng(3, "test", 0));
        let mut plain = post.kernel().matrix(&a, &a);
        for i in 0..m {
            plain[(i, i)] = post.kernel().prior_variance();
        }
        les_gp::linalg::syrk_tn_upper_par(&mut plain, -1.0, &post.whitened_cross(&a), 1.0);
        for j in 0..m {
            for i in j + 1..m {
                plain[(i, j)] = plain[(j, i)];
            }
        }
        for threads in [1, 2, 3] {
            let pool = rayon::ThreadPoolBuilder::new().num_threads(threads).build().expect("pool");
            let cov = pool.install(|| post.covariance_matrix(&a, &a)).expect("cov");
            assert!(
                cov.iter().zip(plain.iter()).all(|(x, y)| x.to_bits() == y.to_bits()),
                "{kind:?}, n = {n}, m = {m}, {threads} threads"
            );
        }
    }
}

/// Blocks of `Σ(Z, Z)` have the bits of the entries of the dense symmetric matrix, for any
/// block shape (narrower than a GEMM kernel, partial, off the diagonal), with and without data.
#[test]
fn covariance_blocks_have_the_bits_of_the_dense_matrix() {
    use les_core::CovarianceBlocks;
    for n in [0, 30] {
        let data = dataset(n.max(1), 3, 7);
        let gp = fixed_gp(&data, KernelKind::SeArd, &[0.3, 0.5, 0.8], 0.05, json!({}));
        let post = gp.posterior().expect("fitted");
        let post = if n == 0 {
            GpPosterior::new(post.kernel().clone(), post.noise_variance(), Vec::new(), Vec::new(), 0.0, 1.0)
                .expect("prior")
        } else {
            post.clone()
        };
        let m = 300;
        let z = uniform_points(m, 3, &mut stream_rng(3, "test", 0));
        let dense = post.covariance_matrix(&z, &z).expect("covariance");
        let blocks = post.covariance_blocks(&z).expect("blocks");
        assert_eq!(blocks.len(), m);
        for (rows, cols) in
            [(0..300, 0..300), (0..4, 0..256), (256..300, 0..3), (297..300, 297..300), (10..75, 130..131)]
        {
            let block = blocks.block(rows.clone(), cols.clone()).expect("block");
            assert_eq!(block.len(), rows.len() * cols.len());
            for (r, row) in rows.clone().zip(block.chunks_exact(cols.len())) {
                for (c, v) in cols.clone().zip(row) {
                    assert_eq!(v.to_bits(), dense[(r, c)].to_bits(), "n = {n}, entry ({r}, {c})");
                }
            }
        }
        let diagonal = blocks.diagonal_blocks(3).expect("diagonal blocks");
        for (b, block) in diagonal.chunks_exact(9).enumerate() {
            for (k, v) in block.iter().enumerate() {
                assert_eq!(v.to_bits(), dense[(3 * b + k / 3, 3 * b + k % 3)].to_bits(), "n = {n}, block {b}");
            }
        }
        assert!(blocks.block(0..301, 0..1).is_err());
    }
}

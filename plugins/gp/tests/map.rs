//! MAP hyperparameter fit on data drawn from a known GP.

mod common;

use common::uniform_points;
use les_core::registry::BuildContext;
use les_core::{Dataset, KernelKind, Params, PathBatch, Surrogate, stream_rng};
use les_gp::{ExactGp, Kernel, PathSet};
use rand_distr::{Distribution, StandardNormal};
use serde_json::json;

/// Length scales are recovered within this factor (d = 5, n = 100, one draw).
const RECOVERY_FACTOR: f64 = 2.0;

fn draw_dataset(kind: KernelKind, ls: &[f64], n: usize, seed: u64) -> Dataset {
    let d = ls.len();
    let kernel = Kernel::new(kind, ls.to_vec(), 1.0);
    let f = PathSet::prior(&kernel, 1024, 1, &mut stream_rng(seed, "draw", 0));
    let mut rng = stream_rng(seed, "points", 0);
    let x = uniform_points(n, d, &mut rng);
    let mut y = Vec::with_capacity(n);
    let (mut v, mut g) = (vec![0.0; 1], vec![0.0; d]);
    for p in x.chunks(d) {
        f.value_and_grad(p, &mut v, &mut g);
        let e: f64 = StandardNormal.sample(&mut rng);
        y.push(v[0] + 2e-3 * e);
    }
    Dataset::from_rows(d, x, y)
}

#[test]
fn map_recovers_lengthscales_of_a_gp_draw() {
    let truth = [0.25, 0.35, 0.5, 0.7, 1.0];
    for kind in [KernelKind::SeArd, KernelKind::Matern52] {
        let data = draw_dataset(kind, &truth, 100, 31);
        let kname = if kind == KernelKind::SeArd { "se_ard" } else { "matern52" };
        let params = json!({
            "kernel": kname,
            "standardize": false,
            "lengthscale_prior": { "log_normal": { "mu": (0.5f64).ln(), "sigma": 1.0 } },
            "restarts": 3,
        });
        let ctx = BuildContext { dim: 5, ..Default::default() };
        let (mut gp, _) = ExactGp::from_params(&Params::new(params, "s"), &ctx).expect("build");
        let diag = gp.fit(&data, &mut stream_rng(1, "fit", 0)).expect("fit").to_json();
        let ls: Vec<f64> = serde_json::from_value(diag["lengthscales"].clone()).expect("lengthscales");
        eprintln!("{kind:?} fitted {ls:?}");
        for (i, (got, want)) in ls.iter().zip(&truth).enumerate() {
            let ratio = got / want;
            assert!(
                (1.0 / RECOVERY_FACTOR..=RECOVERY_FACTOR).contains(&ratio),
                "{kind:?} ℓ_{i}: fitted {got}, true {want} (diag {diag})"
            );
        }
        let sv = diag["signal_variance"].as_f64().expect("sv");
        assert!((0.2..5.0).contains(&sv), "{kind:?} signal variance {sv}");
        assert_eq!(diag["restarts_used"], json!(3));

        // The optimum is at least as good as the truth under the same objective.
        let lml_fit = diag["log_marginal_likelihood"].as_f64().expect("lml");
        let fixed =
            json!({ "kernel": kname, "standardize": false, "hyperparameters": { "fixed": { "lengthscales": truth } } });
        let (mut gt, _) = ExactGp::from_params(&Params::new(fixed, "s"), &ctx).expect("build");
        let d2 = gt.fit(&data, &mut stream_rng(1, "fit", 0)).expect("fit").to_json();
        let lml_true = d2["log_marginal_likelihood"].as_f64().expect("lml");
        assert!(lml_fit > lml_true - 5.0, "{kind:?}: fitted lml {lml_fit} far below the truth's {lml_true}");
    }
}

#[test]
fn warm_start_and_fitted_noise_run() {
    let data = draw_dataset(KernelKind::SeArd, &[0.3, 0.5], 40, 5);
    let ctx = BuildContext { dim: 2, ..Default::default() };
    let params = json!({ "warm_start": true, "fit_noise": true, "noise_std": 0.01, "restarts": 2 });
    let (mut gp, _) = ExactGp::from_params(&Params::new(params, "s"), &ctx).expect("build");
    let d1 = gp.fit(&data, &mut stream_rng(1, "fit", 0)).expect("fit").to_json();
    assert_eq!(d1["restarts_used"], json!(2));
    let d2 = gp.fit(&data, &mut stream_rng(1, "fit", 1)).expect("fit").to_json();
    assert_eq!(d2["restarts_used"], json!(3), "the warm start is an extra start");
    let noise = d2["noise_std"].as_f64().expect("noise");
    assert!((1.41e-3..=0.1).contains(&noise));
    assert!(d2["log_posterior"].as_f64().expect("lp") >= d1["log_posterior"].as_f64().expect("lp") - 1e-6);
}

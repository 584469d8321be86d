//! Shared helpers of the integration tests.
#![allow(dead_code)]

use les_core::registry::BuildContext;
use les_core::{Dataset, KernelKind, Params, StreamRng, Surrogate, stream_rng};
use les_gp::ExactGp;
use rand::RngExt;
use serde_json::{Value, json};

/// Uniform points, `n×d`.
pub fn uniform_points(n: usize, d: usize, rng: &mut StreamRng) -> Vec<f64> {
    (0..n * d).map(|_| rng.random::<f64>()).collect()
}

/// A smooth test function of the unit cube.
pub fn test_function(x: &[f64]) -> f64 {
    x.iter().enumerate().map(|(i, v)| ((i as f64 + 1.0) * 2.0 * v).sin()).sum::<f64>() + 0.5 * x[0] * x[0]
}

/// A data set of `n` points in dimension `d` with values of [`test_function`].
pub fn dataset(n: usize, d: usize, seed: u64) -> Dataset {
    let mut rng = stream_rng(seed, "data", 0);
    let x = uniform_points(n, d, &mut rng);
    let y = x.chunks(d).map(test_function).collect();
    Dataset::from_rows(d, x, y)
}

/// The kernel's config name.
pub fn kernel_name(kind: KernelKind) -> &'static str {
    match kind {
        KernelKind::SeArd => "se_ard",
        KernelKind::Matern52 => "matern52",
    }
}

/// A GP with fixed hyperparameters, fitted to `data`.
pub fn fixed_gp(data: &Dataset, kind: KernelKind, lengthscales: &[f64], noise_std: f64, extra: Value) -> ExactGp {
    let mut p = json!({
        "kernel": kernel_name(kind),
        "hyperparameters": { "fixed": { "lengthscales": lengthscales, "signal_variance": 1.3 } },
        "noise_std": noise_std,
    });
    if let (Some(obj), Some(more)) = (p.as_object_mut(), extra.as_object()) {
        for (k, v) in more {
            obj.insert(k.clone(), v.clone());
        }
    }
    let ctx = BuildContext { dim: data.dim(), ..Default::default() };
    let (mut gp, _) = ExactGp::from_params(&Params::new(p, "surrogate.params"), &ctx).expect("valid params");
    gp.fit(data, &mut stream_rng(1, "fit", 0)).expect("fit");
    gp
}

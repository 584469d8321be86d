//! Test doubles: a small dense exact GP with fixed hyperparameters (SE-ARD kernel, zero mean)
//! and random-Fourier-feature sample paths with Matheron's update. Straightforward loops, no
//! attention to speed: a reference to test LES against, independent of `les-gp`.

use les_core::{Dataset, PathBatch, PathwiseSurrogate, Prediction, StreamRng, Surrogate, SurrogateError};
use rand::RngExt;
use rand_distr::StandardNormal;
use serde_json::{Value, json};

use les_numerics::cholesky::cholesky_in_place;
use les_numerics::triangular::{backward_solve_transposed, forward_solve};

/// Exact GP regression with a squared-exponential ARD kernel and fixed hyperparameters.
#[derive(Clone, Debug)]
pub struct DenseGp {
    /// Length scales, `d`.
    pub lengthscales: Vec<f64>,
    /// Signal variance σ_f².
    pub signal_variance: f64,
    /// Noise variance σ_n².
    pub noise_variance: f64,
    /// The kernel family it reports in [`Surrogate::hyperparameters`] (it always computes
    /// with SE-ARD; another value tests a consumer's refusal).
    pub kernel_kind: les_core::KernelKind,
    x: Vec<f64>,
    chol: Vec<f64>,
    alpha: Vec<f64>,
    y: Vec<f64>,
}

impl DenseGp {
    /// An unfitted GP.
    pub fn new(lengthscales: Vec<f64>, signal_variance: f64, noise_variance: f64) -> Self {
        Self {
            lengthscales,
            signal_variance,
            noise_variance,
            kernel_kind: les_core::KernelKind::SeArd,
            x: Vec::new(),
            chol: Vec::new(),
            alpha: Vec::new(),
            y: Vec::new(),
        }
    }

    /// `k(a, b)`.
    pub fn kernel(&self, a: &[f64], b: &[f64]) -> f64 {
        let r2: f64 = a.iter().zip(b).zip(&self.lengthscales).map(|((x, y), l)| ((x - y) / l).powi(2)).sum();
        self.signal_variance * (-0.5 * r2).exp()
    }

    fn d(&self) -> usize {
        self.lengthscales.len()
    }

    fn n(&self) -> usize {
        self.y.len()
    }

    /// `Lc⁻¹ k(X, x)` for one point.
    fn whitened(&self, x: &[f64]) -> Vec<f64> {
        let d = self.d();
        let mut v: Vec<f64> = self.x.chunks_exact(d).map(|xi| self.kernel(xi, x)).collect();
        forward_solve(&self.chol, self.n(), &mut v);
        v
    }
}

impl Surrogate for DenseGp {
    fn dim(&self) -> usize {
        self.d()
    }

    fn fit(&mut self, data: &Dataset, _rng: &mut StreamRng) -> Result<Value, SurrogateError> {
        let (n, d) = (data.len(), self.d());
        self.x = data.x().to_vec();
        self.y = data.y().to_vec();
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                k[i * n + j] = self.kernel(&self.x[i * d..(i + 1) * d], &self.x[j * d..(j + 1) * d]);
            }
            k[i * n + i] += self.noise_variance;
        }
        if !cholesky_in_place(&mut k, n) {
            return Err(SurrogateError::NotPositiveDefinite { size: n, max_jitter: 0.0 });
        }
        self.chol = k;
        let mut alpha = self.y.clone();
        forward_solve(&self.chol, n, &mut alpha);
        backward_solve_transposed(&self.chol, n, &mut alpha);
        self.alpha = alpha;
        Ok(json!({ "lengthscales": self.lengthscales, "signal_variance": self.signal_variance }))
    }

    fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError> {
        let d = self.d();
        let mut out = Prediction::default();
        for x in xs.chunks_exact(d) {
            let kx: Vec<f64> = self.x.chunks_exact(d).map(|xi| self.kernel(xi, x)).collect();
            out.mean.push(kx.iter().zip(&self.alpha).map(|(a, b)| a * b).sum());
            let w = self.whitened(x);
            out.variance.push(self.signal_variance - w.iter().map(|v| v * v).sum::<f64>());
        }
        Ok(out)
    }

    fn posterior_covariance(&self, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        let d = self.d();
        let wa: Vec<Vec<f64>> = a.chunks_exact(d).map(|x| self.whitened(x)).collect();
        let wb: Vec<Vec<f64>> = b.chunks_exact(d).map(|x| self.whitened(x)).collect();
        let mut out = Vec::with_capacity(wa.len() * wb.len());
        for (xa, va) in a.chunks_exact(d).zip(&wa) {
            for (xb, vb) in b.chunks_exact(d).zip(&wb) {
                out.push(self.kernel(xa, xb) - va.iter().zip(vb).map(|(p, q)| p * q).sum::<f64>());
            }
        }
        Ok(out)
    }

    fn noise_variance(&self) -> f64 {
        self.noise_variance
    }

    fn output_scale(&self) -> (f64, f64) {
        (0.0, 1.0)
    }

    fn hyperparameters(&self) -> Option<les_core::GpHyperparameters> {
        Some(les_core::GpHyperparameters {
            kernel: self.kernel_kind,
            lengthscales: self.lengthscales.clone(),
            signal_variance: self.signal_variance,
            noise_std: self.noise_variance.sqrt(),
        })
    }

    fn as_pathwise(&self) -> Option<&dyn PathwiseSurrogate> {
        Some(self)
    }
}

/// Number of random Fourier features of the test double's paths.
pub const TEST_FEATURES: usize = 256;

impl PathwiseSurrogate for DenseGp {
    fn sample_paths(&self, n_paths: usize, rng: &mut StreamRng) -> Result<Box<dyn PathBatch>, SurrogateError> {
        let (d, n, b) = (self.d(), self.n(), TEST_FEATURES);
        let omega: Vec<f64> =
            (0..b * d).map(|i| rng.sample::<f64, _>(StandardNormal) / self.lengthscales[i % d]).collect();
        let tau: Vec<f64> = (0..b).map(|_| rng.random::<f64>() * std::f64::consts::TAU).collect();
        let w: Vec<f64> = (0..n_paths * b).map(|_| rng.sample::<f64, _>(StandardNormal)).collect();
        let amp = (2.0 * self.signal_variance / b as f64).sqrt();
        let mut paths = RffPaths {
            d,
            b,
            n_paths,
            omega,
            tau,
            w,
            amp,
            x: self.x.clone(),
            v: vec![0.0; n_paths * n],
            gp: self.clone(),
        };
        for l in 0..n_paths {
            let mut r: Vec<f64> = (0..n)
                .map(|j| {
                    let eps = self.noise_variance.sqrt() * rng.sample::<f64, _>(StandardNormal);
                    self.y[j] - paths.prior(l, &self.x[j * d..(j + 1) * d]) - eps
                })
                .collect();
            forward_solve(&self.chol, n, &mut r);
            backward_solve_transposed(&self.chol, n, &mut r);
            paths.v[l * n..(l + 1) * n].copy_from_slice(&r);
        }
        Ok(Box::new(paths))
    }
}

/// Pathwise posterior samples of [`DenseGp`]: `f^l(x) = w_l·φ(x) + Σ_j v_{l,j} k(x, x_j)`.
pub struct RffPaths {
    d: usize,
    b: usize,
    n_paths: usize,
    /// `B×d` frequencies already divided by the length scales.
    omega: Vec<f64>,
    tau: Vec<f64>,
    w: Vec<f64>,
    amp: f64,
    x: Vec<f64>,
    v: Vec<f64>,
    gp: DenseGp,
}

impl RffPaths {
    fn prior(&self, l: usize, x: &[f64]) -> f64 {
        (0..self.b)
            .map(|k| {
                let arg: f64 = self.omega[k * self.d..(k + 1) * self.d].iter().zip(x).map(|(o, xi)| o * xi).sum();
                self.w[l * self.b + k] * self.amp * (arg + self.tau[k]).cos()
            })
            .sum()
    }
}

impl PathBatch for RffPaths {
    fn n_paths(&self) -> usize {
        self.n_paths
    }

    fn dim(&self) -> usize {
        self.d
    }

    fn value_and_grad(&self, xs: &[f64], values: &mut [f64], grads: &mut [f64]) {
        let (d, n) = (self.d, self.x.len() / self.d.max(1));
        for l in 0..self.n_paths {
            let x = &xs[l * d..(l + 1) * d];
            let g = &mut grads[l * d..(l + 1) * d];
            g.fill(0.0);
            let mut value = 0.0;
            for k in 0..self.b {
                let om = &self.omega[k * d..(k + 1) * d];
                let arg: f64 = om.iter().zip(x).map(|(o, xi)| o * xi).sum::<f64>() + self.tau[k];
                let c = self.w[l * self.b + k] * self.amp;
                value += c * arg.cos();
                for i in 0..d {
                    g[i] -= c * arg.sin() * om[i];
                }
            }
            for j in 0..n {
                let xj = &self.x[j * d..(j + 1) * d];
                let kv = self.gp.kernel(x, xj) * self.v[l * n + j];
                value += kv;
                for i in 0..d {
                    g[i] -= kv * (x[i] - xj[i]) / (self.gp.lengthscales[i] * self.gp.lengthscales[i]);
                }
            }
            values[l] = value;
        }
    }
}

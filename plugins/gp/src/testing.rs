//! The workspace's test double of a surrogate (feature `testing`, for the other crates'
//! tests): a small dense exact GP with fixed hyperparameters (SE-ARD kernel, zero mean) and
//! random-Fourier-feature sample paths with Matheron's update. Straightforward loops and
//! nalgebra's own Cholesky, no attention to speed: a reference to test strategies and
//! [`crate::ExactGp`] against that shares none of `ExactGp`'s code, except the gradient
//! posterior, which is [`crate::DerivativeGp`] on the double's data.

use les_core::{
    ConditionableSurrogate, Dataset, DerivativeSurrogate, DifferentiableSurrogate, FitReport, GpHyperparameters,
    GradientPosterior, HyperparameterFit, KernelKind, PathBatch, PathwiseSurrogate, PointPosterior, Prediction,
    StreamRng, Surrogate, SurrogateError,
};
use nalgebra::{DMatrix, DVector};
use rand::RngExt;
use rand_distr::StandardNormal;

use crate::{DerivativeGp, Kernel};

/// `Lc⁻¹ b` for the lower factor `l` (`n×n`, row-major) and `b` (`n`), in place.
fn forward_solve(l: &[f64], n: usize, b: &mut [f64]) {
    let l = DMatrix::from_row_slice(n, n, l);
    let mut v = DVector::from_column_slice(b);
    l.solve_lower_triangular_mut(&mut v);
    b.copy_from_slice(v.as_slice());
}

/// `(Lc Lcᵀ)⁻¹ b`, in place.
fn cholesky_solve(l: &[f64], n: usize, b: &mut [f64]) {
    let l = DMatrix::from_row_slice(n, n, l);
    let mut v = DVector::from_column_slice(b);
    l.solve_lower_triangular_mut(&mut v);
    l.tr_solve_lower_triangular_mut(&mut v);
    b.copy_from_slice(v.as_slice());
}

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
    pub kernel_kind: KernelKind,
    /// Whether `fit` standardizes the outputs (mean and population std); off by default.
    pub standardize: bool,
    shift: f64,
    scale: f64,
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
            kernel_kind: KernelKind::SeArd,
            standardize: false,
            shift: 0.0,
            scale: 1.0,
            x: Vec::new(),
            chol: Vec::new(),
            alpha: Vec::new(),
            y: Vec::new(),
        }
    }

    /// The same GP with output standardization on or off.
    pub fn standardized(mut self, standardize: bool) -> Self {
        self.standardize = standardize;
        self
    }

    /// `k(a, b)`.
    pub fn kernel(&self, a: &[f64], b: &[f64]) -> f64 {
        let r2: f64 = a.iter().zip(b).zip(&self.lengthscales).map(|((x, y), l)| ((x - y) / l).powi(2)).sum();
        self.signal_variance * (-0.5 * r2).exp()
    }

    /// Conditions on points `x` with model-scale values `y` (the hyperparameters and output
    /// scaling as they are).
    fn condition(&mut self, x: Vec<f64>, y: Vec<f64>) -> Result<(), SurrogateError> {
        let (n, d) = (y.len(), self.d());
        let mut k = DMatrix::zeros(n, n);
        for i in 0..n {
            for j in 0..n {
                k[(i, j)] = self.kernel(&x[i * d..(i + 1) * d], &x[j * d..(j + 1) * d]);
            }
            k[(i, i)] += self.noise_variance;
        }
        let l = k.cholesky().ok_or(SurrogateError::NotPositiveDefinite { size: n, max_jitter: 0.0 })?.l();
        self.chol = l.transpose().as_slice().to_vec();
        self.x = x;
        self.y = y;
        let mut alpha = self.y.clone();
        cholesky_solve(&self.chol, n, &mut alpha);
        self.alpha = alpha;
        Ok(())
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

    fn fit(&mut self, data: &Dataset, _rng: &mut StreamRng) -> Result<FitReport, SurrogateError> {
        let y = data.y();
        let n = y.len();
        let mean = y.iter().sum::<f64>() / n.max(1) as f64;
        let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n.max(1) as f64).sqrt();
        (self.shift, self.scale) = if self.standardize && sd > 0.0 { (mean, sd) } else { (0.0, 1.0) };
        let ys: Vec<f64> = y.iter().map(|v| (v - self.shift) / self.scale).collect();
        self.condition(data.x().to_vec(), ys)?;
        Ok(FitReport {
            hyperparameters: self.hyperparameters(),
            hyperparameter_fit: Some(HyperparameterFit::Given),
            output_scale: Some((self.shift, self.scale)),
            ..FitReport::default()
        })
    }

    fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError> {
        let d = self.d();
        let mut out = Prediction::default();
        for x in xs.chunks_exact(d) {
            let kx: Vec<f64> = self.x.chunks_exact(d).map(|xi| self.kernel(xi, x)).collect();
            out.mean.push(kx.iter().zip(&self.alpha).map(|(a, b)| a * b).sum());
            let w = self.whitened(x);
            out.variance.push((self.signal_variance - w.iter().map(|v| v * v).sum::<f64>()).max(0.0));
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
        (self.shift, self.scale)
    }

    fn hyperparameters(&self) -> Option<GpHyperparameters> {
        Some(GpHyperparameters {
            kernel: self.kernel_kind,
            lengthscales: self.lengthscales.clone(),
            signal_variance: self.signal_variance,
            noise_std: self.noise_variance.sqrt(),
        })
    }

    fn as_pathwise(&self) -> Option<&dyn PathwiseSurrogate> {
        Some(self)
    }

    fn as_differentiable(&self) -> Option<&dyn DifferentiableSurrogate> {
        Some(self)
    }

    fn as_derivative(&self) -> Option<&dyn DerivativeSurrogate> {
        Some(self)
    }

    fn as_conditionable(&self) -> Option<&dyn ConditionableSurrogate> {
        Some(self)
    }
}

impl DifferentiableSurrogate for DenseGp {
    /// `∇μ = Σ_j α_j ∇k(x, x_j)`, `∇σ² = −2 (∇k_X)ᵀ K⁻¹ k_X(x)` with
    /// `∇k(x, x_j) = −k(x, x_j) (x − x_j) ⊘ ℓ²`.
    fn point_posterior(&self, x: &[f64]) -> Result<PointPosterior, SurrogateError> {
        let (d, n) = (self.d(), self.n());
        let kx: Vec<f64> = self.x.chunks_exact(d).map(|xi| self.kernel(x, xi)).collect();
        let mut kinv_kx = kx.clone();
        cholesky_solve(&self.chol, n, &mut kinv_kx);
        let w = self.whitened(x);
        let (mut mean_grad, mut variance_grad) = (vec![0.0; d], vec![0.0; d]);
        for (j, xj) in self.x.chunks_exact(d).enumerate() {
            for i in 0..d {
                let dk = -kx[j] * (x[i] - xj[i]) / (self.lengthscales[i] * self.lengthscales[i]);
                mean_grad[i] += self.alpha[j] * dk;
                variance_grad[i] -= 2.0 * kinv_kx[j] * dk;
            }
        }
        Ok(PointPosterior {
            mean: kx.iter().zip(&self.alpha).map(|(a, b)| a * b).sum(),
            variance: self.signal_variance - w.iter().map(|v| v * v).sum::<f64>(),
            mean_grad,
            variance_grad,
        })
    }
}

impl DerivativeSurrogate for DenseGp {
    fn gradient_posterior(&self, theta: &[f64]) -> Result<Box<dyn GradientPosterior>, SurrogateError> {
        let kernel = Kernel::new(KernelKind::SeArd, self.lengthscales.clone(), self.signal_variance);
        let gp = DerivativeGp::new(kernel, self.noise_variance, self.x.clone(), self.y.clone())?;
        Ok(Box::new(gp.at(theta)))
    }
}

impl ConditionableSurrogate for DenseGp {
    fn conditioned_on(&self, x: &[f64], y: &[f64]) -> Result<Box<dyn Surrogate>, SurrogateError> {
        let mut out = self.clone();
        let (mut all_x, mut all_y) = (self.x.clone(), self.y.clone());
        all_x.extend_from_slice(x);
        all_y.extend_from_slice(y);
        out.condition(all_x, all_y)?;
        Ok(Box::new(out))
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
            cholesky_solve(&self.chol, n, &mut r);
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

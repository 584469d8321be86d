//! A minimal exact GP with fixed SE-ARD hyperparameters, for unit tests that must not depend
//! on the `gp` plugin.

use les_core::{Dataset, Prediction, StreamRng, Surrogate, SurrogateError};
use serde_json::{Value, json};

use crate::linalg::{cholesky_rows_with_jitter, solve_lower, solve_lower_transposed};

pub(crate) struct TestGp {
    pub ls: Vec<f64>,
    pub signal_variance: f64,
    pub noise_variance: f64,
    pub standardize: bool,
    x: Vec<f64>,
    n: usize,
    shift: f64,
    scale: f64,
    chol: Vec<f64>,
    alpha: Vec<f64>,
}

impl TestGp {
    /// The dense reference of the kriging believer: a fixed-hyperparameter GP (length scale
    /// `ls`, noise variance 1e-4, no standardization) fitted on `data` plus the `pending`
    /// points at the model's posterior mean there. Returns it and the data it was fitted on.
    pub fn believed(model: &dyn Surrogate, data: &Dataset, pending: &[Vec<f64>], ls: f64) -> (Self, Dataset) {
        let mut more = data.clone();
        let mu = model.predict(&pending.concat()).expect("the model predicts").mean;
        for (p, m) in pending.iter().zip(mu) {
            more.push(p, m);
        }
        let mut gp = TestGp::new(vec![ls; data.dim()], false);
        gp.noise_variance = 1e-4;
        gp.fit(&more, &mut les_core::stream_rng(0, "t", 0)).expect("the dense reference fits");
        (gp, more)
    }

    pub fn new(ls: Vec<f64>, standardize: bool) -> Self {
        Self {
            ls,
            signal_variance: 1.0,
            noise_variance: 1e-6,
            standardize,
            x: vec![],
            n: 0,
            shift: 0.0,
            scale: 1.0,
            chol: vec![],
            alpha: vec![],
        }
    }

    pub fn k(&self, a: &[f64], b: &[f64]) -> f64 {
        let r2: f64 = a.iter().zip(b).zip(&self.ls).map(|((u, v), l)| ((u - v) / l).powi(2)).sum();
        self.signal_variance * (-0.5 * r2).exp()
    }

    fn whitened(&self, x: &[f64]) -> Vec<f64> {
        let d = self.ls.len();
        let mut v: Vec<f64> = (0..self.n).map(|i| self.k(x, &self.x[i * d..(i + 1) * d])).collect();
        solve_lower(&self.chol, self.n, &mut v);
        v
    }
}

impl Surrogate for TestGp {
    fn dim(&self) -> usize {
        self.ls.len()
    }

    fn fit(&mut self, data: &Dataset, _rng: &mut StreamRng) -> Result<Value, SurrogateError> {
        let (n, d) = (data.len(), self.ls.len());
        let y = data.y();
        let mean = y.iter().sum::<f64>() / n as f64;
        let sd = (y.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        (self.shift, self.scale) = if self.standardize && sd > 0.0 { (mean, sd) } else { (0.0, 1.0) };
        let ys: Vec<f64> = y.iter().map(|v| (v - self.shift) / self.scale).collect();
        let mut k = vec![0.0; n * n];
        for i in 0..n {
            for j in 0..n {
                k[i * n + j] = self.k(data.point(i), data.point(j));
            }
            k[i * n + i] += self.noise_variance;
        }
        self.chol = cholesky_rows_with_jitter(&k, n)?.0;
        let mut alpha = ys;
        solve_lower(&self.chol, n, &mut alpha);
        solve_lower_transposed(&self.chol, n, &mut alpha);
        self.alpha = alpha;
        self.x = data.x().to_vec();
        self.n = n;
        let _ = d;
        Ok(json!({ "lengthscales": self.ls, "signal_variance": self.signal_variance }))
    }

    fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError> {
        let d = self.ls.len();
        let mut out = Prediction::default();
        for x in xs.chunks(d) {
            let kx: Vec<f64> = (0..self.n).map(|i| self.k(x, &self.x[i * d..(i + 1) * d])).collect();
            out.mean.push(kx.iter().zip(&self.alpha).map(|(a, b)| a * b).sum());
            let v = self.whitened(x);
            out.variance.push((self.signal_variance - v.iter().map(|t| t * t).sum::<f64>()).max(0.0));
        }
        Ok(out)
    }

    fn posterior_covariance(&self, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        let d = self.ls.len();
        let va: Vec<Vec<f64>> = a.chunks(d).map(|x| self.whitened(x)).collect();
        let vb: Vec<Vec<f64>> = b.chunks(d).map(|x| self.whitened(x)).collect();
        let mut out = Vec::with_capacity(va.len() * vb.len());
        for (xa, wa) in a.chunks(d).zip(&va) {
            for (xb, wb) in b.chunks(d).zip(&vb) {
                out.push(self.k(xa, xb) - wa.iter().zip(wb).map(|(p, q)| p * q).sum::<f64>());
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
}

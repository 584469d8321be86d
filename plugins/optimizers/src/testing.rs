//! Test doubles: path batches with known minima, for this crate's tests and for crates that
//! test code built on inner optimizers.

use les_core::PathBatch;

/// `L` separable convex quadratics `f^l(x) = ½ Σ_i a_{l,i} (x_i − c_{l,i})² + b_l`, each
/// evaluated at its own point. The minimum of path `l` over the cube is its centre projected
/// onto `[0, 1]^d` (the function is separable).
#[derive(Clone, Debug, PartialEq)]
pub struct QuadraticPaths {
    /// Input dimension `d`.
    pub dim: usize,
    /// Curvatures `a`, `L×d`, all positive.
    pub curvature: Vec<f64>,
    /// Centres `c`, `L×d`.
    pub centre: Vec<f64>,
    /// Offsets `b`, `L`.
    pub offset: Vec<f64>,
}

impl QuadraticPaths {
    /// Paths with the given centres (`L×d`), unit curvature and zero offset.
    pub fn with_centres(dim: usize, centre: Vec<f64>) -> Self {
        let n = centre.len() / dim;
        Self { dim, curvature: vec![1.0; centre.len()], centre, offset: vec![0.0; n] }
    }

    /// The minimizer of path `l` over the unit cube, `d` values.
    pub fn minimizer(&self, l: usize) -> Vec<f64> {
        self.centre[l * self.dim..(l + 1) * self.dim].iter().map(|c| c.clamp(0.0, 1.0)).collect()
    }
}

impl PathBatch for QuadraticPaths {
    fn n_paths(&self) -> usize {
        self.offset.len()
    }

    fn dim(&self) -> usize {
        self.dim
    }

    fn value_and_grad(&self, xs: &[f64], values: &mut [f64], grads: &mut [f64]) {
        let d = self.dim;
        for (l, value) in values.iter_mut().enumerate() {
            let mut v = self.offset[l];
            for i in 0..d {
                let k = l * d + i;
                let r = xs[k] - self.centre[k];
                v += 0.5 * self.curvature[k] * r * r;
                grads[k] = self.curvature[k] * r;
            }
            *value = v;
        }
    }
}

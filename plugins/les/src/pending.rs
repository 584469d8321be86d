//! Pending points (evaluations in flight) as observations without values.
//!
//! LES's acquisitions are information measures built from Gaussian conditional variances, and a
//! Gaussian conditional variance depends on where one observes, not on what one sees. So an
//! evaluation in flight at `x_p` is taken into account exactly by conditioning the model's
//! covariance on an observation at `x_p` with the model's noise, whatever its value turns out
//! to be:
//!
//! ```text
//! S    = Σ(X_p, X_p) + σ_n² I                      (q×q, Cholesky L_p)
//! Σ'(a, b) = Σ(a, b) − Σ(a, X_p) S⁻¹ Σ(X_p, b)      (= (L_p⁻¹ Σ(X_p, a))ᵀ (L_p⁻¹ Σ(X_p, b)))
//! ```
//!
//! the latent covariance of the model refitted on `D ∪ {(x_p, anything)}`. The mean is the
//! model's own (the value is unknown; no acquisition of LES reads the mean).
//!
//! **Paths.** The sample paths are *not* conditioned on the pending points. A path is a draw
//! from `p(f | D)`; conditioning it on its own value at `x_p` (a draw of `f(x_p) + ε` from the
//! same posterior) gives a draw from `∫ p(f | D, y_p) p(y_p | D) dy_p = p(f | D)`: the law of
//! the paths, hence of the descent sequences and support points, is unchanged, and drawing the
//! extra values would only spend random numbers. What the pending point changes is how much an
//! observation elsewhere still tells about the sequences, which is the conditioning above.

use std::ops::Range;

use les_core::{
    CovarianceBlocks, Dataset, FitReport, PathwiseSurrogate, Prediction, StreamRng, Surrogate, SurrogateError,
};

use les_numerics::cholesky::cholesky_in_place_with_jitter;
use les_numerics::triangular::forward_solve;

/// A fitted model's covariance conditioned on pending points (see the module docs). Without
/// pending points it passes every call through unchanged.
pub struct PendingConditioned<'a> {
    base: &'a dyn Surrogate,
    /// `q×d` pending points.
    pending: Vec<f64>,
    /// `q×q` Cholesky factor `L_p` of `S` (lower, row-major).
    chol: Vec<f64>,
}

impl<'a> PendingConditioned<'a> {
    /// Conditions `base` (fitted) on `pending` (`d` values each, in the unit cube).
    pub fn new(base: &'a dyn Surrogate, pending: &[Vec<f64>]) -> Result<Self, SurrogateError> {
        let d = base.dim();
        if let Some(bad) = pending.iter().find(|p| p.len() != d) {
            return Err(SurrogateError::InvalidData(format!(
                "a pending point has {} coordinates; the model has d = {d}",
                bad.len()
            )));
        }
        let q = pending.len();
        let points: Vec<f64> = pending.iter().flatten().copied().collect();
        if q == 0 {
            return Ok(Self { base, pending: points, chol: Vec::new() });
        }
        let mut s = base.posterior_covariance(&points, &points)?;
        let noise = base.noise_variance();
        for i in 0..q {
            s[i * q + i] += noise;
        }
        // Jitter for two pending points at one location with a tiny noise.
        cholesky_in_place_with_jitter(&mut s, q)?;
        Ok(Self { base, pending: points, chol: s })
    }

    /// Number of pending points `q`.
    pub fn n_pending(&self) -> usize {
        self.chol.len().isqrt()
    }

    /// The underlying model.
    pub fn base(&self) -> &'a dyn Surrogate {
        self.base
    }

    /// `L_p⁻¹ Σ(X_p, a)` as `m_a` columns of `q` values (column `j` contiguous).
    fn whitened(&self, a: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        let q = self.n_pending();
        let m = a.len() / self.base.dim().max(1);
        // Σ(a, X_p) is m×q row-major: row j is the column Σ(X_p, a_j) wanted.
        let mut cross = self.base.posterior_covariance(a, &self.pending)?;
        for col in cross.chunks_exact_mut(q) {
            forward_solve(&self.chol, q, col);
        }
        debug_assert_eq!(cross.len(), m * q);
        Ok(cross)
    }
}

impl<'a> PendingConditioned<'a> {
    /// [`Surrogate::covariance_blocks`] of the conditioned model, borrowing only the
    /// underlying model: the base model's blocks and a rank-`q` update of each (`L_p⁻¹ Σ(X_p, Z)`
    /// computed once, `q·M` values).
    pub fn blocks(&self, z: &[f64]) -> Result<Box<dyn CovarianceBlocks + 'a>, SurrogateError> {
        let base = self.base.covariance_blocks(z)?;
        let q = self.n_pending();
        if q == 0 {
            return Ok(base);
        }
        Ok(Box::new(ConditionedBlocks { base, whitened: self.whitened(z)?, q }))
    }
}

/// [`CovarianceBlocks`] of a model conditioned on pending points.
struct ConditionedBlocks<'a> {
    base: Box<dyn CovarianceBlocks + 'a>,
    /// `L_p⁻¹ Σ(X_p, Z)`: `M` columns of `q` values.
    whitened: Vec<f64>,
    q: usize,
}

impl ConditionedBlocks<'_> {
    /// The rank-`q` update of [`PendingConditioned::posterior_covariance`], in its order.
    fn update(&self, out: &mut [f64], rows: Range<usize>, cols: Range<usize>) {
        let q = self.q;
        let cols_w = &self.whitened[cols.start * q..cols.end * q];
        for (row, ca) in
            out.chunks_exact_mut(cols.len().max(1)).zip(self.whitened[rows.start * q..rows.end * q].chunks_exact(q))
        {
            for (o, cb) in row.iter_mut().zip(cols_w.chunks_exact(q)) {
                *o -= ca.iter().zip(cb).map(|(x, y)| x * y).sum::<f64>();
            }
        }
    }
}

impl CovarianceBlocks for ConditionedBlocks<'_> {
    fn block(&self, rows: Range<usize>, cols: Range<usize>) -> Result<Vec<f64>, SurrogateError> {
        let mut out = self.base.block(rows.clone(), cols.clone())?;
        self.update(&mut out, rows, cols);
        Ok(out)
    }

    fn diagonal_blocks(&self, size: usize) -> Result<Vec<f64>, SurrogateError> {
        let mut out = self.base.diagonal_blocks(size)?;
        for (b, block) in out.chunks_exact_mut((size * size).max(1)).enumerate() {
            self.update(block, b * size..(b + 1) * size, b * size..(b + 1) * size);
        }
        Ok(out)
    }

    fn len(&self) -> usize {
        self.base.len()
    }
}

impl Surrogate for PendingConditioned<'_> {
    fn dim(&self) -> usize {
        self.base.dim()
    }

    fn fit(&mut self, _data: &Dataset, _rng: &mut StreamRng) -> Result<FitReport, SurrogateError> {
        Err(SurrogateError::Numerical(
            "a model conditioned on pending points is a view of a fitted model; fit the model itself".to_owned(),
        ))
    }

    fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError> {
        let mut out = self.base.predict(xs)?;
        let q = self.n_pending();
        if q == 0 {
            return Ok(out);
        }
        let w = self.whitened(xs)?;
        for (v, col) in out.variance.iter_mut().zip(w.chunks_exact(q)) {
            *v -= col.iter().map(|c| c * c).sum::<f64>();
        }
        Ok(out)
    }

    fn posterior_covariance(&self, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        let mut out = self.base.posterior_covariance(a, b)?;
        let q = self.n_pending();
        if q == 0 {
            return Ok(out);
        }
        let wa = self.whitened(a)?;
        let wb = if a == b { wa.clone() } else { self.whitened(b)? };
        let mb = wb.len() / q;
        // A rank-q update of the m_a×m_b matrix, row by row (q is the number of workers, small).
        for (row, ca) in out.chunks_exact_mut(mb).zip(wa.chunks_exact(q)) {
            for (o, cb) in row.iter_mut().zip(wb.chunks_exact(q)) {
                *o -= ca.iter().zip(cb).map(|(x, y)| x * y).sum::<f64>();
            }
        }
        Ok(out)
    }

    fn covariance_blocks<'b>(&'b self, z: &[f64]) -> Result<Box<dyn CovarianceBlocks + 'b>, SurrogateError> {
        self.blocks(z)
    }

    fn noise_variance(&self) -> f64 {
        self.base.noise_variance()
    }

    fn output_scale(&self) -> (f64, f64) {
        self.base.output_scale()
    }

    fn as_pathwise(&self) -> Option<&dyn PathwiseSurrogate> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::stream_rng;
    use les_gp::testing::DenseGp;
    use rand::RngExt;

    fn uniform(n: usize, seed: u64) -> Vec<f64> {
        let mut rng = stream_rng(seed, "test-points", 0);
        (0..n).map(|_| rng.random::<f64>()).collect()
    }

    /// Conditioning on pending points equals a dense GP refitted with them as observations
    /// (any values: the covariance does not depend on them).
    #[test]
    fn conditioned_covariance_equals_a_refit_with_the_pending_points() {
        let d = 2;
        let x = uniform(7 * d, 1);
        let y: Vec<f64> = x.chunks(d).map(|p| (3.0 * p[0]).sin() + p[1]).collect();
        let noise = 1e-3;
        let mut gp = DenseGp::new(vec![0.3, 0.5], 1.3, noise);
        gp.fit(&Dataset::from_rows(d, x.clone(), y.clone()), &mut stream_rng(0, "fit", 0)).expect("fits");
        let pending: Vec<Vec<f64>> = uniform(3 * d, 2).chunks(d).map(<[f64]>::to_vec).collect();
        let conditioned = PendingConditioned::new(&gp, &pending).expect("conditions");
        assert_eq!(conditioned.n_pending(), 3);

        let mut refit = DenseGp::new(vec![0.3, 0.5], 1.3, noise);
        let (mut xa, mut ya) = (x, y);
        for (i, p) in pending.iter().enumerate() {
            xa.extend_from_slice(p);
            ya.push(10.0 * i as f64 - 4.0);
        }
        refit.fit(&Dataset::from_rows(d, xa, ya), &mut stream_rng(0, "fit", 0)).expect("fits");

        let a = uniform(5 * d, 3);
        let b = uniform(4 * d, 4);
        let got = conditioned.posterior_covariance(&a, &b).expect("covariance");
        let want = refit.posterior_covariance(&a, &b).expect("covariance");
        for (g, w) in got.iter().zip(&want) {
            assert!((g - w).abs() < 1e-10, "{g} vs {w}");
        }
        let got = conditioned.predict(&a).expect("predicts").variance;
        let want = refit.predict(&a).expect("predicts").variance;
        let before = gp.predict(&a).expect("predicts").variance;
        for ((g, w), b) in got.iter().zip(&want).zip(&before) {
            assert!((g - w).abs() < 1e-10, "{g} vs {w}");
            assert!(g <= b, "conditioning never increases a variance");
        }
        let none = PendingConditioned::new(&gp, &[]).expect("conditions");
        assert_eq!(none.posterior_covariance(&a, &b).expect("cov"), gp.posterior_covariance(&a, &b).expect("cov"));
        assert!(PendingConditioned::new(&gp, &[vec![0.5]]).is_err());
    }
}

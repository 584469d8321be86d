//! The posterior conditioned on the pending points (evaluations in flight) by the kriging
//! believer (Ginsbourger, Le Riche & Carraro 2010, "Kriging is well-suited to parallelize
//! optimization"): each pending point `p` joins the data as an observation whose value is the
//! posterior mean `μ(p)`, with the model's observation noise σ_n², and with the fitted
//! hyperparameters and output scaling kept (refitting them on believed values would let the
//! model learn from numbers nobody measured).
//!
//! What that does, for pending points `P` (`q×d`): the believed values are the posterior's own
//! mean, so the conditioned mean is unchanged,
//! `μ'(x) = μ(x) + Σ(x,P)(Σ_PP + σ_n² I)⁻¹(μ(P) − μ(P)) = μ(x)`, and the covariance is
//! `Σ'(a,b) = Σ(a,b) − Σ(a,P)(Σ_PP + σ_n² I)⁻¹Σ(P,b)` — exactly the covariance after the pending
//! evaluations, whatever values they return (a GP's posterior covariance depends only on where
//! it observed). The belief enters only where a value is needed: the incumbent
//! (`min(best observation, min μ(P))`) and the sample paths drawn through the believed data.
//!
//! The conditioning is the surrogate's own ([`les_core::ConditionableSurrogate`]): the
//! conditioned model keeps every capability (gradients, sample paths). A surrogate without it
//! cannot serve a strategy that has pending points, and is told so. With no pending point the
//! believer is the model itself.

use les_core::{Capability, Dataset, PathBatch, PointPosterior, Prediction, StreamRng, Surrogate, SurrogateError};

use crate::model::{Model, best_observed, point_posterior};

/// A fitted model's posterior conditioned on pending points with believed values (see the
/// module docs). Model output scale throughout.
pub struct Believer<'a> {
    model: &'a Model,
    conditioned: Option<Box<dyn Surrogate>>,
    believed: Vec<f64>,
}

impl<'a> Believer<'a> {
    /// Conditions `model` (fitted) on the `pending` points (each `d` values in the unit cube).
    pub fn new(model: &'a Model, pending: &[Vec<f64>]) -> Result<Self, SurrogateError> {
        if pending.is_empty() {
            return Ok(Self { model, conditioned: None, believed: Vec::new() });
        }
        let s = model.surrogate();
        let conditionable = s.as_conditionable().ok_or_else(|| {
            SurrogateError::Numerical(format!(
                "{} pending points need a surrogate with {}; surrogate `{}` has none",
                pending.len(),
                Capability::Conditioning.describe(),
                model.name()
            ))
        })?;
        let flat: Vec<f64> = pending.concat();
        let believed = s.predict(&flat)?.mean;
        let conditioned = conditionable.conditioned_on(&flat, &believed)?;
        Ok(Self { model, conditioned: Some(conditioned), believed })
    }

    /// The model it conditions.
    pub fn model(&self) -> &Model {
        self.model
    }

    /// The conditioned surrogate (the model itself without pending points).
    fn surrogate(&self) -> &dyn Surrogate {
        self.conditioned.as_deref().unwrap_or(self.model.surrogate())
    }

    /// Number of pending points conditioned on.
    pub fn n_pending(&self) -> usize {
        self.believed.len()
    }

    /// The believed values `μ(P)` at the pending points, in their order.
    pub fn believed(&self) -> &[f64] {
        &self.believed
    }

    /// The incumbent of the believed data: the lowest of the observed values and the believed
    /// ones (model output scale); `None` without data.
    pub fn incumbent(&self, data: &Dataset) -> Option<f64> {
        best_observed(self.model.surrogate(), data).map(|b| self.believed.iter().copied().fold(b, f64::min))
    }

    /// Conditioned posterior mean and latent variance at `m` points (`m×d`).
    pub fn predict(&self, xs: &[f64]) -> Result<Prediction, SurrogateError> {
        self.surrogate().predict(xs)
    }

    /// Conditioned mean and variance with their gradients at `x` (`d`).
    pub fn point_posterior(&self, x: &[f64]) -> Result<PointPosterior, SurrogateError> {
        point_posterior(self.surrogate(), self.model.name(), x)
    }

    /// Conditioned latent covariance between `a` (`m_a×d`) and `b` (`m_b×d`), row-major.
    pub fn covariance(&self, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        self.surrogate().posterior_covariance(a, b)
    }

    /// `n_paths` sample paths of the conditioned posterior, when the surrogate draws paths
    /// (for the `gp`: pathwise conditioning, Matheron's rule, on the data plus the believed
    /// points, each with its own noise draw). `None` when it draws none.
    pub fn sample_paths(
        &self,
        n_paths: usize,
        rng: &mut StreamRng,
    ) -> Option<Result<Box<dyn PathBatch>, SurrogateError>> {
        self.surrogate().as_pathwise().map(|pw| pw.sample_paths(n_paths, rng))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::{Surrogate, stream_rng};
    use les_gp::testing::DenseGp;

    /// A fitted test GP without output standardization, so that refitting it on more data
    /// keeps the output scale (the dense reference below refits).
    fn fitted(d: usize, ls: f64) -> (Model, Dataset) {
        let mut rng = stream_rng(11, "t", 0);
        let pts = crate::design::uniform_points(6, d, &mut rng);
        let y: Vec<f64> = pts.chunks(d).map(|x| x.iter().map(|v| (v - 0.4).powi(2)).sum::<f64>() * 5.0).collect();
        let data = Dataset::from_rows(d, pts, y);
        let mut gp = DenseGp::new(vec![ls; d], 1.0, 1e-6).standardized(false);
        gp.noise_variance = 1e-4;
        let mut m = Model::new("test_gp", Box::new(gp));
        m.fit(&data, &mut rng).unwrap();
        (m, data)
    }

    /// The dense reference: the same GP refitted on the data plus the pending points with the
    /// believed values (the model's mean there).
    fn dense(model: &Model, data: &Dataset, pending: &[Vec<f64>], ls: f64) -> DenseGp {
        crate::testutil::believed(model.surrogate(), data, pending, ls).0
    }

    #[test]
    fn rank_update_matches_a_dense_gp_with_the_believed_observations() {
        let (d, ls) = (3, 0.3);
        let (model, data) = fitted(d, ls);
        let pending = vec![vec![0.8, 0.2, 0.6], vec![0.75, 0.25, 0.55], vec![0.1, 0.9, 0.3]];
        let b = Believer::new(&model, &pending).unwrap();
        let reference = dense(&model, &data, &pending, ls);
        let xs = [0.8, 0.2, 0.6, 0.7, 0.3, 0.5, 0.2, 0.8, 0.4, 0.5, 0.5, 0.5];
        let (got, want) = (b.predict(&xs).unwrap(), reference.predict(&xs).unwrap());
        let before = model.surrogate().predict(&xs).unwrap();
        for i in 0..4 {
            assert!((got.mean[i] - want.mean[i]).abs() < 1e-9, "mean {i}: {} vs {}", got.mean[i], want.mean[i]);
            assert!(
                (got.variance[i] - want.variance[i]).abs() < 1e-9,
                "var {i}: {} vs {}",
                got.variance[i],
                want.variance[i]
            );
        }
        // At the first pending point the variance falls from the prior-like level to about the
        // noise variance.
        assert!(before.variance[0] > 0.1 && got.variance[0] < 2e-4, "{} → {}", before.variance[0], got.variance[0]);
        let (cg, cw) = (b.covariance(&xs, &xs[3..9]).unwrap(), reference.posterior_covariance(&xs, &xs[3..9]).unwrap());
        for (g, w) in cg.iter().zip(&cw) {
            assert!((g - w).abs() < 1e-9, "{g} vs {w}");
        }
        // The incumbent counts the believed values.
        let best = best_observed(model.surrogate(), &data).unwrap();
        let lowest = b.believed().iter().copied().fold(best, f64::min);
        assert_eq!(b.incumbent(&data), Some(lowest));
    }

    #[test]
    fn no_pending_is_the_model() {
        let (model, _) = fitted(2, 0.4);
        let b = Believer::new(&model, &[]).unwrap();
        let xs = [0.3, 0.6, 0.9, 0.1];
        assert_eq!(b.predict(&xs).unwrap(), model.surrogate().predict(&xs).unwrap());
        assert_eq!(b.point_posterior(&xs[..2]).unwrap(), model.point_posterior(&xs[..2]).unwrap());
    }
}

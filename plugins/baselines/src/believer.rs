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
//! Two implementations: for the `gp` surrogate, an exact GP posterior on the data plus the
//! believed points (analytic gradients and sample paths as for the fitted model); for any other
//! surrogate, the rank-`q` update above through [`les_core::Surrogate::posterior_covariance`]
//! (gradients by central differences). With no pending point both are the model itself.

use les_core::{Dataset, PathBatch, Prediction, StreamRng, SurrogateError};
use les_gp::{GpPosterior, PathSet};

use crate::linalg::{cholesky_rows_with_jitter, solve_lower};
use crate::model::{Model, PointPosterior, best_observed, point_posterior_by_differences};

/// How the conditioning is carried out.
enum Conditioning {
    /// No pending point: the fitted model.
    None,
    /// The `gp`'s posterior refactored on the data plus the believed points.
    Gp(Box<GpPosterior>),
    /// Any surrogate: rank-`q` update with `Lp = chol(Σ_PP + σ_n² I)` (`q×q`).
    Rank { pending: Vec<f64>, chol: Vec<f64>, q: usize },
}

/// A fitted model's posterior conditioned on pending points with believed values (see the
/// module docs). Model output scale throughout.
pub struct Believer<'a> {
    model: &'a Model,
    conditioning: Conditioning,
    believed: Vec<f64>,
}

impl<'a> Believer<'a> {
    /// Conditions `model` (fitted) on the `pending` points (each `d` values in the unit cube).
    pub fn new(model: &'a Model, pending: &[Vec<f64>]) -> Result<Self, SurrogateError> {
        if pending.is_empty() {
            return Ok(Self { model, conditioning: Conditioning::None, believed: Vec::new() });
        }
        let s = model.surrogate();
        let flat: Vec<f64> = pending.concat();
        let believed = s.predict(&flat)?.mean;
        let conditioning = match model.exact_gp() {
            Some(gp) => {
                let post = gp.posterior()?;
                let mut x = post.x().to_vec();
                x.extend_from_slice(&flat);
                let mut y = post.y().to_vec();
                y.extend_from_slice(&believed);
                let (shift, scale) = post.output_scale();
                Conditioning::Gp(Box::new(GpPosterior::new(
                    post.kernel().clone(),
                    post.noise_variance(),
                    x,
                    y,
                    shift,
                    scale,
                )?))
            }
            None => {
                let q = pending.len();
                let mut k = s.posterior_covariance(&flat, &flat)?;
                for i in 0..q {
                    k[i * q + i] += s.noise_variance();
                }
                let (chol, _) = cholesky_rows_with_jitter(&k, q)?;
                Conditioning::Rank { pending: flat, chol, q }
            }
        };
        Ok(Self { model, conditioning, believed })
    }

    /// The model it conditions.
    pub fn model(&self) -> &Model {
        self.model
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
        match &self.conditioning {
            Conditioning::None => self.model.surrogate().predict(xs),
            Conditioning::Gp(post) => post.predict(xs),
            Conditioning::Rank { pending, chol, q } => {
                let s = self.model.surrogate();
                let mut p = s.predict(xs)?;
                let c = s.posterior_covariance(xs, pending)?;
                for (v, row) in p.variance.iter_mut().zip(c.chunks(*q)) {
                    let mut w = row.to_vec();
                    solve_lower(chol, *q, &mut w);
                    *v = (*v - w.iter().map(|t| t * t).sum::<f64>()).max(0.0);
                }
                Ok(p)
            }
        }
    }

    /// Conditioned mean and variance with their gradients at `x` (`d`).
    pub fn point_posterior(&self, x: &[f64]) -> Result<PointPosterior, SurrogateError> {
        match &self.conditioning {
            Conditioning::None => self.model.point_posterior(x),
            Conditioning::Gp(post) => {
                let (mean, variance, mean_grad, variance_grad) = post.mean_variance_gradients(x);
                Ok(PointPosterior { mean, variance, mean_grad, variance_grad })
            }
            Conditioning::Rank { .. } => point_posterior_by_differences(|b| self.predict(b), x),
        }
    }

    /// Conditioned latent covariance between `a` (`m_a×d`) and `b` (`m_b×d`), row-major.
    pub fn covariance(&self, a: &[f64], b: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        match &self.conditioning {
            Conditioning::None => self.model.surrogate().posterior_covariance(a, b),
            Conditioning::Gp(post) => Ok(post.covariance_matrix(a, b)?.transpose().as_slice().to_vec()),
            Conditioning::Rank { pending, chol, q } => {
                let s = self.model.surrogate();
                let mut k = s.posterior_covariance(a, b)?;
                let whiten = |pts: &[f64]| -> Result<Vec<Vec<f64>>, SurrogateError> {
                    let c = s.posterior_covariance(pts, pending)?;
                    Ok(c.chunks(*q)
                        .map(|row| {
                            let mut w = row.to_vec();
                            solve_lower(chol, *q, &mut w);
                            w
                        })
                        .collect())
                };
                let (wa, wb) = (whiten(a)?, whiten(b)?);
                let mb = wb.len();
                for (i, ra) in wa.iter().enumerate() {
                    for (j, rb) in wb.iter().enumerate() {
                        k[i * mb + j] -= ra.iter().zip(rb).map(|(u, v)| u * v).sum::<f64>();
                    }
                }
                Ok(k)
            }
        }
    }

    /// `n_paths` sample paths of the conditioned posterior, when the surrogate draws paths:
    /// for the `gp`, pathwise conditioning (Matheron's rule) on the data plus the believed
    /// points, each with its own noise draw — the joint sample over any points and the pending
    /// ones, conditioned on the pending part's believed observations. `None` when the
    /// surrogate draws no paths (or draws them only unconditioned on pending points).
    pub fn sample_paths(
        &self,
        n_paths: usize,
        rng: &mut StreamRng,
    ) -> Option<Result<Box<dyn PathBatch>, SurrogateError>> {
        match &self.conditioning {
            Conditioning::None => self.model.surrogate().as_pathwise().map(|pw| pw.sample_paths(n_paths, rng)),
            Conditioning::Gp(post) => {
                let params = self.model.exact_gp().expect("invariant: the Gp conditioning comes from the gp").params();
                Some(
                    PathSet::posterior(post, params.features, n_paths, rng)
                        .map(|p| Box::new(p.with_precision(params.path_precision)) as Box<dyn PathBatch>),
                )
            }
            Conditioning::Rank { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testgp::TestGp;
    use les_core::{Surrogate, stream_rng};

    /// A fitted test GP without output standardization, so that refitting it on more data
    /// keeps the output scale (the dense reference below refits).
    fn fitted(d: usize, ls: f64) -> (Model, Dataset) {
        let mut rng = stream_rng(11, "t", 0);
        let pts = crate::design::uniform_points(6, d, &mut rng);
        let y: Vec<f64> = pts.chunks(d).map(|x| x.iter().map(|v| (v - 0.4).powi(2)).sum::<f64>() * 5.0).collect();
        let data = Dataset::from_rows(d, pts, y);
        let mut gp = TestGp::new(vec![ls; d], false);
        gp.noise_variance = 1e-4;
        let mut m = Model::new(Box::new(gp));
        m.fit(&data, &mut rng).unwrap();
        (m, data)
    }

    /// The dense reference: the same GP refitted on the data plus the pending points with the
    /// believed values (the model's mean there).
    fn dense(model: &Model, data: &Dataset, pending: &[Vec<f64>], ls: f64) -> TestGp {
        TestGp::believed(model.surrogate(), data, pending, ls).0
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

//! The paper's "other information sources" ablations (§14) as acquisitions over the sampled
//! sequences, each `α(c) = (1/2L) Σ_l [log σ_D²(c) − log σ²(c | D, O_l)]` (latent entropy, the
//! reference's convention) with another observation set `O_l` per path:
//!
//! - `gradient_information` (`lesgradcond_20_8`): the gradient at `z_0` and at the `P` support
//!   points of path `l` (`(P + 1)·d` derivative observations, no values), noise `σ_n²` plus a
//!   diagonal jitter of 1e-6 as in the reference's tinygp derivative GP; candidates: the
//!   `L·P` support points;
//! - `final_point_information` (`les_fp_wgrad`, "Opt. Cond."): path `l`'s final point `z_T`
//!   with its value, its gradient (zero at an optimum: only its location matters) and its
//!   diagonal Hessian (`2d + 1` observations), noise std 2e-3; candidates: the `L` final points.
//!
//! Both use a dense derivative GP with the surrogate's fitted SE-ARD hyperparameters
//! ([`crate::derivatives`]) on the data and the pending points (observations without values,
//! exact as for `mutual_information`). Cost per iteration: `L` systems of size `|O_l|`.
//!
//! # Parameters of `gradient_information`
//!
#![doc = include_str!("../params/gradient_information.md")]
//!
//! # Parameters of `final_point_information`
//!
#![doc = include_str!("../params/final_point_information.md")]

use les_core::registry::{AcquisitionEntry, BuildContext, Built, PluginError, defaults_of};
use les_core::{
    Acquisition, AcquisitionContext, ParamError, Params, PluginParams, SequenceAcquisition, SurrogateError,
};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::acquisition::DEFAULT_MIN_VARIANCE;
use crate::derivatives::{Functional, FunctionalConditioning, Observed, SeKernel};

/// Diagonal jitter of the reference's derivative GP (`lesgradcond`).
pub const DEFAULT_GRADIENT_JITTER: f64 = 1e-6;
/// Noise standard deviation of the final-point observations (`les_fp_wgrad`).
pub const DEFAULT_FINAL_POINT_NOISE_STD: f64 = 2e-3;

/// Parameters of `gradient_information`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct GradientInformationParams {
    /// Added to the model's noise variance on the gradient observations.
    pub jitter: f64,
    /// Lower clamp of variances before the logarithm.
    pub min_variance: f64,
}

impl Default for GradientInformationParams {
    fn default() -> Self {
        Self { jitter: DEFAULT_GRADIENT_JITTER, min_variance: DEFAULT_MIN_VARIANCE }
    }
}

impl PluginParams for GradientInformationParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(self.jitter.is_finite() && self.jitter >= 0.0) {
            return Err(ParamError::invalid("jitter", self.jitter, "a finite variance ≥ 0"));
        }
        check_min_variance(self.min_variance)
    }
}

/// Parameters of `final_point_information`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FinalPointInformationParams {
    /// Noise standard deviation of the value, gradient and Hessian observations.
    pub noise_std: f64,
    /// Lower clamp of variances before the logarithm.
    pub min_variance: f64,
}

impl Default for FinalPointInformationParams {
    fn default() -> Self {
        Self { noise_std: DEFAULT_FINAL_POINT_NOISE_STD, min_variance: DEFAULT_MIN_VARIANCE }
    }
}

impl PluginParams for FinalPointInformationParams {
    fn validate(&self) -> Result<(), ParamError> {
        if !(self.noise_std.is_finite() && self.noise_std > 0.0) {
            return Err(ParamError::invalid("noise_std", self.noise_std, "a finite number > 0"));
        }
        check_min_variance(self.min_variance)
    }
}

fn check_min_variance(v: f64) -> Result<(), ParamError> {
    if !(v.is_finite() && v > 0.0) {
        return Err(ParamError::invalid("min_variance", v, "a finite number > 0"));
    }
    Ok(())
}

/// Which observation sets an [`InformationSource`] conditions on.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Source {
    /// Gradients at `z_0` and the support points; candidates the support points.
    Gradients {
        /// Extra noise variance on the gradients.
        jitter: f64,
    },
    /// Value, gradient and diagonal Hessian at the final point; candidates the final points.
    FinalPoint {
        /// Noise variance of those observations.
        noise_variance: f64,
    },
}

/// The registered acquisitions of this module.
#[derive(Clone, Debug, PartialEq)]
pub struct InformationSource {
    /// The observation sets.
    pub source: Source,
    /// Variance clamp before the logarithm.
    pub min_variance: f64,
}

/// One iteration's values: computed when built (every candidate needs every path's system).
struct Computed {
    candidates: Vec<f64>,
    values: Vec<f64>,
    /// Path of each candidate.
    paths: Vec<usize>,
    observations_per_path: usize,
}

impl Acquisition for Computed {
    fn values(&self, candidates: &[f64]) -> Result<Vec<f64>, SurrogateError> {
        if candidates == self.candidates.as_slice() {
            return Ok(self.values.clone());
        }
        Err(SurrogateError::InvalidData(
            "gradient_information and final_point_information are evaluated at their own candidates only".to_owned(),
        ))
    }

    fn candidates(&self) -> &[f64] {
        &self.candidates
    }

    fn candidate_path(&self, index: usize) -> Option<usize> {
        self.paths.get(index).copied()
    }

    fn diagnostics(&self) -> Map<String, Value> {
        let mut out = Map::new();
        out.insert("observations_per_path".to_owned(), self.observations_per_path.into());
        out
    }
}

impl SequenceAcquisition for InformationSource {
    fn build<'a>(&self, ctx: &AcquisitionContext<'a>) -> Result<Box<dyn Acquisition + 'a>, SurrogateError> {
        let who = match self.source {
            Source::Gradients { .. } => "gradient_information",
            Source::FinalPoint { .. } => "final_point_information",
        };
        let kernel = SeKernel::of(ctx.surrogate, who)?;
        let (seqs, support) = (&ctx.sequences.sequences, &ctx.sequences.support);
        let (n_paths, d) = (seqs.n_paths, seqs.dim);
        let (candidates, paths): (Vec<f64>, Vec<usize>) = match self.source {
            Source::Gradients { .. } => {
                (support.points.clone(), (0..n_paths).flat_map(|l| std::iter::repeat_n(l, support.per_path)).collect())
            }
            Source::FinalPoint { .. } => {
                ((0..n_paths).flat_map(|l| seqs.final_position(l).to_vec()).collect(), (0..n_paths).collect())
            }
        };
        let mut x = ctx.data.x().to_vec();
        x.extend(ctx.pending.iter().flatten());
        let noise = ctx.surrogate.noise_variance();
        let conditioning = FunctionalConditioning::new(kernel, x, noise, candidates)?;
        let observations = |l: usize| -> Vec<Observed> {
            let at = |p: &[f64], f: Functional| Observed { point: p.to_vec(), functional: f };
            match self.source {
                Source::Gradients { .. } => {
                    let mut points = vec![seqs.position(0, l)];
                    points.extend(support.of_path(l).chunks_exact(d));
                    points.iter().flat_map(|p| (0..d).map(move |i| at(p, Functional::Gradient(i)))).collect()
                }
                Source::FinalPoint { .. } => {
                    let z = seqs.final_position(l);
                    let mut o = vec![at(z, Functional::Value)];
                    o.extend((0..d).map(|i| at(z, Functional::Gradient(i))));
                    o.extend((0..d).map(|i| at(z, Functional::Curvature(i))));
                    o
                }
            }
        };
        let obs_noise = match self.source {
            Source::Gradients { jitter } => noise + jitter,
            Source::FinalPoint { noise_variance } => noise_variance,
        };
        let per_path: Vec<Vec<f64>> = (0..n_paths)
            .into_par_iter()
            .map(|l| conditioning.conditioned_variances(&observations(l), obs_noise))
            .collect::<Result<_, _>>()?;
        // Sums over paths in path order: the same for any thread count.
        let floor = self.min_variance;
        let values = conditioning
            .prior_variances()
            .iter()
            .enumerate()
            .map(|(c, prior)| {
                let log_prior = prior.max(floor).ln();
                let sum: f64 = per_path.iter().map(|v| log_prior - v[c].max(floor).ln()).sum();
                let alpha = 0.5 * sum / n_paths.max(1) as f64;
                if alpha.is_nan() { f64::NEG_INFINITY } else { alpha.max(0.0) }
            })
            .collect();
        let observations_per_path = if n_paths == 0 { 0 } else { observations(0).len() };
        Ok(Box::new(Computed { candidates: conditioning.candidates().to_vec(), values, paths, observations_per_path }))
    }
}

fn build_gradient(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn SequenceAcquisition>, PluginError> {
    let p: GradientInformationParams = params.parse()?;
    let acq = InformationSource { source: Source::Gradients { jitter: p.jitter }, min_variance: p.min_variance };
    Ok(Built::new(Box::new(acq), &p))
}

fn build_final_point(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn SequenceAcquisition>, PluginError> {
    let p: FinalPointInformationParams = params.parse()?;
    let source = Source::FinalPoint { noise_variance: p.noise_std * p.noise_std };
    Ok(Built::new(Box::new(InformationSource { source, min_variance: p.min_variance }), &p))
}

inventory::submit! {
    AcquisitionEntry {
        name: "gradient_information",
        summary: "LES ablation lesgradcond: information from the gradients at z_0 and the support points of each path",
        details: concat!(
            "\
alpha(c) = 1/(2L) sum_l [log var_D(c) - log var(c | D, grad f at z_0 and at path l's P support \
points)], a dense derivative GP with the surrogate's fitted SE-ARD hyperparameters ((P+1) d \
derivative observations per path, noise: the model's plus jitter). Candidates: the L*P support \
points. Pending points are conditioned on as observations without values. Needs kernel: se_ard.\n\n",
            include_str!("../params/gradient_information.md"),
            "\nReference: Stenger et al., ICLR 2026, ablation lesgradcond_20_8; docs/les-algorithm.md sections 6.4, 14."
        ),
        default_params: defaults_of::<GradientInformationParams>,
        build: build_gradient,
    }
}

inventory::submit! {
    AcquisitionEntry {
        name: "final_point_information",
        summary: "LES ablation les_fp_wgrad: information from each path's final point (value, zero gradient, diagonal Hessian)",
        details: concat!(
            "\
alpha(c) = 1/(2L) sum_l [log var_D(c) - log var(c | D, value, gradient and diagonal Hessian at path \
l's final point z_T)] (2d+1 observations per path; the gradient there is zero at an optimum, but \
only locations enter a variance). Candidates: the L final points. Pending points are conditioned \
on as observations without values. Needs kernel: se_ard.\n\n",
            include_str!("../params/final_point_information.md"),
            "\nReference: Stenger et al., ICLR 2026, ablation les_fp_wgrad (\"Opt. Cond.\"); docs/les-algorithm.md \
sections 6.4, 14."
        ),
        default_params: defaults_of::<FinalPointInformationParams>,
        build: build_final_point,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::{Dataset, DescentSequences, SampledSequences, SupportPoints, Surrogate, stream_rng};
    use les_gp::testing::DenseGp;

    /// Two hand-made sequences in 2-D on a fitted dense GP.
    fn fixture() -> (DenseGp, Dataset, SampledSequences) {
        let x: Vec<f64> = vec![0.1, 0.2, 0.8, 0.3, 0.5, 0.9, 0.4, 0.5];
        let y: Vec<f64> = x.chunks(2).map(|p| (3.0 * p[0]).sin() + p[1]).collect();
        let data = Dataset::from_rows(2, x, y);
        let mut gp = DenseGp::new(vec![0.3, 0.45], 1.2, 1e-4);
        gp.fit(&data, &mut stream_rng(0, "fit", 0)).expect("fits");
        // 2 paths, 3 records each (step-major), from z_0 = (0.4, 0.5).
        let positions = vec![0.4, 0.5, 0.4, 0.5, 0.5, 0.55, 0.3, 0.45, 0.6, 0.6, 0.2, 0.35];
        let sequences = DescentSequences { n_paths: 2, dim: 2, n_records: 3, positions, values: Vec::new() };
        let support = SupportPoints {
            n_paths: 2,
            per_path: 2,
            dim: 2,
            points: vec![0.5, 0.55, 0.6, 0.6, 0.3, 0.45, 0.2, 0.35],
            values: vec![0.0; 4],
        };
        let sampled = SampledSequences { sequences, support, start_values: vec![0.0; 2], final_values: vec![0.0; 2] };
        (gp, data, sampled)
    }

    /// A dense GP on the values at X and the derivative observations, by one direct solve.
    fn dense_variance(k: &SeKernel, x: &[f64], noise: f64, obs: &[Observed], obs_noise: f64, c: &[f64]) -> f64 {
        let mut all: Vec<(Vec<f64>, Functional, f64)> =
            x.chunks(2).map(|p| (p.to_vec(), Functional::Value, noise)).collect();
        all.extend(obs.iter().map(|o| (o.point.clone(), o.functional, obs_noise)));
        let m = all.len();
        let mut a = vec![0.0; m * m];
        for i in 0..m {
            for j in 0..m {
                a[i * m + j] = k.cov(&all[i].0, all[i].1, &all[j].0, all[j].1);
            }
            a[i * m + i] += all[i].2;
        }
        assert!(les_numerics::cholesky::cholesky_in_place(&mut a, m));
        let mut v: Vec<f64> = all.iter().map(|(p, f, _)| k.cov(p, *f, c, Functional::Value)).collect();
        les_numerics::triangular::forward_solve(&a, m, &mut v);
        k.cov(c, Functional::Value, c, Functional::Value) - v.iter().map(|w| w * w).sum::<f64>()
    }

    fn alpha_dense(prior: f64, conditioned: &[f64]) -> f64 {
        let sum: f64 = conditioned.iter().map(|v| prior.ln() - v.ln()).sum();
        0.5 * sum / conditioned.len() as f64
    }

    #[test]
    fn gradient_information_equals_a_dense_derivative_gp() {
        let (gp, data, sampled) = fixture();
        let pending = vec![vec![0.7, 0.7]];
        let acq = InformationSource { source: Source::Gradients { jitter: 1e-6 }, min_variance: 1e-12 };
        let ctx = AcquisitionContext { surrogate: &gp, data: &data, sequences: &sampled, pending: &pending };
        let built = acq.build(&ctx).expect("builds");
        assert_eq!(built.candidates(), sampled.support.points.as_slice());
        let values = built.values_at_candidates().expect("values");
        let k = SeKernel { lengthscales: gp.lengthscales.clone(), signal_variance: gp.signal_variance };
        let mut x = data.x().to_vec();
        x.extend(pending.iter().flatten());
        for (c, point) in sampled.support.points.chunks(2).enumerate() {
            let prior = dense_variance(&k, &x, 1e-4, &[], 0.0, point);
            let conditioned: Vec<f64> = (0..2)
                .map(|l| {
                    let mut pts = vec![sampled.sequences.position(0, l).to_vec()];
                    pts.extend(sampled.support.of_path(l).chunks(2).map(<[f64]>::to_vec));
                    let obs: Vec<Observed> = pts
                        .iter()
                        .flat_map(|p| {
                            (0..2).map(|i| Observed { point: p.clone(), functional: Functional::Gradient(i) })
                        })
                        .collect();
                    dense_variance(&k, &x, 1e-4, &obs, 1e-4 + 1e-6, point)
                })
                .collect();
            let want = alpha_dense(prior, &conditioned);
            assert!((values[c] - want).abs() < 1e-7 * (1.0 + want), "candidate {c}: {} vs {want}", values[c]);
            assert!(values[c] > 0.0);
        }
        assert_eq!(built.candidate_path(3), Some(1));
        assert_eq!(built.diagnostics()["observations_per_path"], 6);
    }

    #[test]
    fn final_point_information_equals_a_dense_gp_with_value_gradient_and_hessian() {
        let (gp, data, sampled) = fixture();
        let acq = InformationSource { source: Source::FinalPoint { noise_variance: 4e-6 }, min_variance: 1e-12 };
        let ctx = AcquisitionContext { surrogate: &gp, data: &data, sequences: &sampled, pending: &[] };
        let built = acq.build(&ctx).expect("builds");
        let finals: Vec<f64> = (0..2).flat_map(|l| sampled.sequences.final_position(l).to_vec()).collect();
        assert_eq!(built.candidates(), finals.as_slice());
        let values = built.values_at_candidates().expect("values");
        let k = SeKernel { lengthscales: gp.lengthscales.clone(), signal_variance: gp.signal_variance };
        for (c, point) in finals.chunks(2).enumerate() {
            let prior = dense_variance(&k, data.x(), 1e-4, &[], 0.0, point);
            let conditioned: Vec<f64> = (0..2)
                .map(|l| {
                    let z = sampled.sequences.final_position(l).to_vec();
                    let mut obs = vec![Observed { point: z.clone(), functional: Functional::Value }];
                    for i in 0..2 {
                        obs.push(Observed { point: z.clone(), functional: Functional::Gradient(i) });
                        obs.push(Observed { point: z.clone(), functional: Functional::Curvature(i) });
                    }
                    dense_variance(&k, data.x(), 1e-4, &obs, 4e-6, point)
                })
                .collect();
            let want = alpha_dense(prior, &conditioned);
            assert!((values[c] - want).abs() < 1e-7 * (1.0 + want), "candidate {c}: {} vs {want}", values[c]);
        }
        // A candidate's own path observes it: its variance there falls to about the noise.
        assert!(values.iter().all(|&v| v > 1.0), "{values:?}");
        let mut matern = gp.clone();
        matern.kernel_kind = les_core::KernelKind::Matern52;
        let ctx = AcquisitionContext { surrogate: &matern, data: &data, sequences: &sampled, pending: &[] };
        let err = acq.build(&ctx).err().expect("rejected").to_string();
        assert!(err.contains("se_ard"), "{err}");
    }
}

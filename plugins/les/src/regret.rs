//! Local regret of the incumbent, estimated from the sampled descent sequences (spec §12).
//!
//! For path `l`, `r_l = f^l(z_0) − f^l(z_T)`: how much the inner optimizer improves on the
//! incumbent on that sample path. The fraction of paths with `r_l < ε` estimates the posterior
//! probability that the incumbent is ε-locally optimal; the paper's stopping rule (Appendix
//! E.1, after Wilson 2024) stops once it reaches a confidence level. The reference code logs
//! it with ε = 0.02 and never stops.
//!
//! `r_l` is in the surrogate's output scale: standardized units when the model standardizes
//! its outputs (the reference's out-of-model runs), raw units otherwise (within-model runs).
//! So ε = 0.02 means 2% of the observed standard deviation with the default `gp`.

use les_core::{DescentSequences, PathBatch};
use serde::Serialize;

/// Summary of the local-regret samples of one iteration.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct RegretStats {
    /// Mean of `r_l`.
    pub mean: f64,
    /// Median of `r_l` (mean of the two middle values for even `L`).
    pub median: f64,
    /// Smallest `r_l`.
    pub min: f64,
    /// Largest `r_l`.
    pub max: f64,
    /// The threshold ε.
    pub epsilon: f64,
    /// Fraction of paths with `r_l < ε`.
    pub fraction_below_epsilon: f64,
}

/// `r_l = f^l(z_0) − f^l(z_T)` for every path, `L` values; `paths` are the paths the
/// sequences were run on (evaluated when the optimizer recorded no values).
pub fn local_regret(seqs: &DescentSequences, paths: &dyn PathBatch) -> Vec<f64> {
    let last = seqs.n_records.saturating_sub(1);
    let start = seqs.values_at(paths, &vec![0; seqs.n_paths]);
    let end = seqs.values_at(paths, &vec![last; seqs.n_paths]);
    start.iter().zip(&end).map(|(a, b)| a - b).collect()
}

/// The fraction of `regrets` below `epsilon` (NaN counts as not below).
pub fn fraction_below(regrets: &[f64], epsilon: f64) -> f64 {
    if regrets.is_empty() {
        return 0.0;
    }
    regrets.iter().filter(|&&r| r < epsilon).count() as f64 / regrets.len() as f64
}

/// Statistics of the regret samples, in a fixed order (independent of threads).
pub fn regret_stats(regrets: &[f64], epsilon: f64) -> RegretStats {
    let mut sorted = regrets.to_vec();
    sorted.sort_by(f64::total_cmp);
    let n = sorted.len();
    let median = match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]),
    };
    RegretStats {
        mean: if n == 0 { f64::NAN } else { sorted.iter().sum::<f64>() / n as f64 },
        median,
        min: sorted.first().copied().unwrap_or(f64::NAN),
        max: sorted.last().copied().unwrap_or(f64::NAN),
        epsilon,
        fraction_below_epsilon: fraction_below(regrets, epsilon),
    }
}

#[cfg(test)]
mod tests {
    use les_optimizers::testing::QuadraticPaths;

    use super::*;

    #[test]
    fn regret_is_start_minus_final_value() {
        // Recorded values are used as they are (the paths would give other ones).
        let paths = QuadraticPaths::with_centres(1, vec![0.0, 0.0]);
        // 2 paths, 3 records, step-major values.
        let seqs = DescentSequences {
            n_paths: 2,
            dim: 1,
            n_records: 3,
            positions: vec![0.0; 6],
            values: vec![1.0, 2.0, 0.5, 1.9, 0.2, 1.99],
        };
        let r = local_regret(&seqs, &paths);
        assert!((r[0] - 0.8).abs() < 1e-15 && (r[1] - 0.01).abs() < 1e-15);
        let s = regret_stats(&r, 0.02);
        assert_eq!(s.fraction_below_epsilon, 0.5);
        assert_eq!(s.min, r[1]);
        assert_eq!(s.max, r[0]);
        assert!((s.median - 0.405).abs() < 1e-15);
        let s = regret_stats(&[3.0, 1.0, 2.0], 1.5);
        assert_eq!((s.median, s.mean), (2.0, 2.0));
        assert!((s.fraction_below_epsilon - 1.0 / 3.0).abs() < 1e-15);
    }

    #[test]
    fn regret_without_recorded_values_evaluates_the_paths() {
        // f^l(x) = ½(x − c_l)²: path 0 goes 0.9 → 0.5 (c = 0.4), path 1 stays at 0.2 (c = 0.2).
        let paths = QuadraticPaths::with_centres(1, vec![0.4, 0.2]);
        let seqs = DescentSequences {
            n_paths: 2,
            dim: 1,
            n_records: 3,
            positions: vec![0.9, 0.2, 0.7, 0.2, 0.5, 0.2],
            values: Vec::new(),
        };
        let r = local_regret(&seqs, &paths);
        assert!((r[0] - 0.5 * (0.25 - 0.01)).abs() < 1e-15, "{r:?}");
        assert_eq!(r[1], 0.0);
    }
}

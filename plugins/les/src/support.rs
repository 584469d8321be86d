//! Arc-length support points: each descent sequence reduced to `P` iterates equally spaced in
//! cumulative Euclidean arc length (spec §9; `GD_trace_divisions` of the reference code of
//! Stenger et al., ICLR 2026).
//!
//! Two modes, both picking discrete iterates (no interpolation):
//!
//! - [`SupportMode::Corrected`] (default): history `z_0 … z_T`, `C_k` = length from `z_0` to
//!   `z_k`; support point `p` (`p = 1 … P`) is the first `z_k`, `k ≥ 1`, with
//!   `C_k ≥ (p/P)·C_T`, and its value is `f^l(z_k)`.
//! - [`SupportMode::Reference`]: the reference's exact off-by-one. Its history is
//!   `H = [z_1 … z_T]`, `C_k = Σ_{j≤k} ‖H[j+1] − H[j]‖`, `C_max = C_{T−2}`; `k_p` is the
//!   smallest `k` with `C_k ≥ (p/P)·C_max` (0 if none), the point is `H[k_p] = z_{k_p+1}` and
//!   the stored value `f^l(z_{k_p})`. The value never matters to the acquisition.
//!
//! A sequence that never moves gives `P` copies of `z_1` (duplicates are harmless: the virtual
//! observations carry noise).

use les_core::{DescentSequences, PathBatch, SupportPoints};
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Which iterates become support points (see the module docs).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupportMode {
    /// First iterate at or beyond each arc-length fraction, value at that iterate.
    #[default]
    Corrected,
    /// The reference code's choice: one step earlier, value two steps earlier.
    Reference,
}

/// Record indices `(position record, value record)` of the `P` support points of one path,
/// given the path's cumulative-length helper `dist(t)` = ‖z_t − z_{t−1}‖ for `t ≥ 1` and the
/// number of records `R = T + 1`.
fn support_indices(
    n_records: usize,
    per_path: usize,
    mode: SupportMode,
    dist: impl Fn(usize) -> f64,
) -> Vec<(usize, usize)> {
    if n_records <= 1 {
        // No step was taken: the start point is all there is.
        return vec![(0, 0); per_path];
    }
    let steps = n_records - 1;
    match mode {
        SupportMode::Corrected => {
            // cum[k] = C_k for k = 0 … T.
            let mut cum = Vec::with_capacity(n_records);
            cum.push(0.0);
            for t in 1..n_records {
                let prev = cum[t - 1];
                cum.push(prev + dist(t));
            }
            let total = cum[steps];
            (1..=per_path)
                .map(|p| {
                    let theta = p as f64 / per_path as f64 * total;
                    // First k ≥ 1 with C_k ≥ θ; the last record if rounding leaves none.
                    let k = (1..n_records).find(|&k| cum[k] >= theta).unwrap_or(steps);
                    (k, k)
                })
                .collect()
        }
        SupportMode::Reference => {
            // H[k] = z_{k+1}, k = 0 … T−1; C_k = length H[0] → H[k+1], k = 0 … T−2.
            let mut cum = Vec::with_capacity(steps.saturating_sub(1));
            let mut acc = 0.0;
            for k in 0..steps.saturating_sub(1) {
                acc += dist(k + 2);
                cum.push(acc);
            }
            let c_max = cum.last().copied().unwrap_or(0.0);
            (1..=per_path)
                .map(|p| {
                    let theta = p as f64 / per_path as f64 * c_max;
                    // Mirrors the reference's argmax over a boolean: index 0 when none.
                    let k = cum.iter().position(|&c| c >= theta).unwrap_or(0);
                    (k + 1, k)
                })
                .collect()
        }
    }
}

/// Extracts `P = per_path` support points from every sequence (see the module docs), with
/// their values: recorded ones, or evaluated on `paths` (the paths the sequences were run on)
/// when the optimizer recorded none. Paths are processed in parallel; the result does not
/// depend on the thread count.
pub fn extract_support(
    seqs: &DescentSequences,
    paths: &dyn PathBatch,
    per_path: usize,
    mode: SupportMode,
) -> SupportPoints {
    let (n_paths, d, n_records) = (seqs.n_paths, seqs.dim, seqs.n_records);
    let mut points = vec![0.0; n_paths * per_path * d];
    let mut value_records = vec![0; n_paths * per_path];
    points
        .par_chunks_mut((per_path * d).max(1))
        .zip(value_records.par_chunks_mut(per_path.max(1)))
        .enumerate()
        .for_each(|(l, (pts, records))| {
            let dist = |t: usize| {
                let (a, b) = (seqs.position(t, l), seqs.position(t - 1, l));
                a.iter().zip(b).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt()
            };
            for (p, (pos, val)) in support_indices(n_records, per_path, mode, dist).into_iter().enumerate() {
                pts[p * d..(p + 1) * d].copy_from_slice(seqs.position(pos, l));
                records[p] = val;
            }
        });
    // Support point p of every path in one batch call (a batch evaluates path l at row l).
    let mut values = vec![0.0; n_paths * per_path];
    for p in 0..per_path {
        let records: Vec<usize> = (0..n_paths).map(|l| value_records[l * per_path + p]).collect();
        for (l, v) in seqs.values_at(paths, &records).into_iter().enumerate() {
            values[l * per_path + p] = v;
        }
    }
    SupportPoints { n_paths, per_path, dim: d, points, values }
}

#[cfg(test)]
mod tests {
    use les_optimizers::testing::QuadraticPaths;

    use super::*;

    /// Paths that must not be evaluated: the sequences of these tests record their values.
    struct Unused(usize, usize);

    impl PathBatch for Unused {
        fn n_paths(&self) -> usize {
            self.0
        }
        fn dim(&self) -> usize {
            self.1
        }
        fn value_and_grad(&self, _: &[f64], _: &mut [f64], _: &mut [f64]) {
            panic!("recorded values must be used");
        }
    }

    /// One path per entry of `steps`, each a straight line from `start` with constant step,
    /// value = record index (so value records can be identified).
    fn lines(start: &[f64], steps: &[Vec<f64>], n_steps: usize) -> DescentSequences {
        let d = start.len();
        let n_paths = steps.len();
        let mut positions = Vec::new();
        let mut values = Vec::new();
        for t in 0..=n_steps {
            for step in steps {
                positions.extend(start.iter().zip(step).map(|(s, h)| s + t as f64 * h));
                values.push(t as f64);
            }
        }
        DescentSequences { n_paths, dim: d, n_records: n_steps + 1, positions, values }
    }

    #[test]
    fn straight_line_support_points_sit_at_exact_fractions() {
        // Steps (3/64, 4/64) have length exactly 5/64: every cumulative length is exact.
        let seqs = lines(&[0.0, 0.0], &[vec![3.0 / 64.0, 4.0 / 64.0], vec![1.0 / 64.0, 0.0]], 16);
        let sup = extract_support(&seqs, &Unused(seqs.n_paths, seqs.dim), 8, SupportMode::Corrected);
        for l in 0..2 {
            let total = 16.0 * seqs.position(1, l).iter().map(|h| h * h).sum::<f64>().sqrt();
            for p in 0..8 {
                let pt = &sup.of_path(l)[p * 2..p * 2 + 2];
                let len = pt.iter().map(|x| x * x).sum::<f64>().sqrt();
                assert_eq!(len, (p + 1) as f64 / 8.0 * total, "path {l} support {p}");
                assert_eq!(sup.values[l * 8 + p], 2.0 * (p + 1) as f64, "value at the same record");
            }
        }
    }

    #[test]
    fn reference_mode_reproduces_the_off_by_one() {
        // T = 16 steps of 1/16 in one dimension. Reference: H[k] = z_{k+1}, C_k = (k+1)/16,
        // C_max = 15/16, k_p = ⌈15p/8⌉ − 1: points z_⌈15p/8⌉, values f(z_{⌈15p/8⌉−1}).
        let seqs = lines(&[0.0], &[vec![1.0 / 16.0]], 16);
        let sup = extract_support(&seqs, &Unused(seqs.n_paths, seqs.dim), 8, SupportMode::Reference);
        let expected_pos = [2, 4, 6, 8, 10, 12, 14, 15];
        for (p, &k) in expected_pos.iter().enumerate() {
            assert_eq!(sup.points[p], k as f64 / 16.0, "support {p}");
            assert_eq!(sup.values[p], (k - 1) as f64, "value of support {p}");
        }
        let corrected = extract_support(&seqs, &Unused(seqs.n_paths, seqs.dim), 8, SupportMode::Corrected);
        for p in 0..8 {
            assert_eq!(corrected.points[p], 2.0 * (p + 1) as f64 / 16.0);
            assert_eq!(corrected.values[p], 2.0 * (p + 1) as f64);
        }
    }

    #[test]
    fn recorded_history_with_uneven_steps() {
        // Positions 0, 0.5, 0.6, 0.7, 1.0 (lengths 0.5, 0.1, 0.1, 0.3; total 1.0), P = 4.
        let xs = [0.0, 0.5, 0.6, 0.7, 1.0];
        let seqs = DescentSequences {
            n_paths: 1,
            dim: 1,
            n_records: 5,
            positions: xs.to_vec(),
            values: vec![10.0, 11.0, 12.0, 13.0, 14.0],
        };
        // Corrected: θ = 0.25, 0.5, 0.75, 1.0 → z_1, z_1, z_4, z_4.
        let c = extract_support(&seqs, &Unused(seqs.n_paths, seqs.dim), 4, SupportMode::Corrected);
        assert_eq!(c.points, vec![0.5, 0.5, 1.0, 1.0]);
        assert_eq!(c.values, vec![11.0, 11.0, 14.0, 14.0]);
        // Reference: H = [0.5, 0.6, 0.7, 1.0], C = [0.1, 0.2, 0.5], θ = 0.125, 0.25, 0.375, 0.5
        // → k = 1, 2, 2, 2 → points H[k] = 0.6, 0.7, 0.7, 0.7, values f(z_k) = 11, 12, 12, 12.
        let r = extract_support(&seqs, &Unused(seqs.n_paths, seqs.dim), 4, SupportMode::Reference);
        assert_eq!(r.points, vec![0.6, 0.7, 0.7, 0.7]);
        assert_eq!(r.values, vec![11.0, 12.0, 12.0, 12.0]);
    }

    #[test]
    fn values_not_recorded_are_evaluated_at_the_value_records() {
        // The history of `recorded_history_with_uneven_steps` without values, on the path
        // f(x) = ½x²: the values are f at the records found there.
        let seqs = DescentSequences {
            n_paths: 1,
            dim: 1,
            n_records: 5,
            positions: vec![0.0, 0.5, 0.6, 0.7, 1.0],
            values: Vec::new(),
        };
        let paths = QuadraticPaths::with_centres(1, vec![0.0]);
        let half_square = |xs: &[f64]| xs.iter().map(|x| 0.5 * x * x).collect::<Vec<_>>();
        let c = extract_support(&seqs, &paths, 4, SupportMode::Corrected);
        assert_eq!(c.values, half_square(&[0.5, 0.5, 1.0, 1.0]));
        let r = extract_support(&seqs, &paths, 4, SupportMode::Reference);
        assert_eq!(r.points, vec![0.6, 0.7, 0.7, 0.7]);
        assert_eq!(r.values, half_square(&[0.5, 0.6, 0.6, 0.6]));
    }

    #[test]
    fn stuck_sequences_give_copies_of_first_iterate() {
        let seqs = lines(&[1.0, 0.0], &[vec![0.0, 0.0]], 5);
        for mode in [SupportMode::Corrected, SupportMode::Reference] {
            let sup = extract_support(&seqs, &Unused(seqs.n_paths, seqs.dim), 3, mode);
            assert_eq!(sup.points, vec![1.0, 0.0, 1.0, 0.0, 1.0, 0.0]);
        }
        let single = DescentSequences { n_paths: 1, dim: 1, n_records: 1, positions: vec![0.3], values: vec![2.0] };
        assert_eq!(
            extract_support(&single, &Unused(single.n_paths, single.dim), 2, SupportMode::Reference).points,
            vec![0.3, 0.3]
        );
    }
}

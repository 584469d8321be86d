//! Statistics of the report: quantiles, ranks over seeds and the one-sided Wilcoxon
//! signed-rank test used for the bold entries of the tables (§18 of docs/les-algorithm.md).

/// Threshold of the one-sided Wilcoxon test: a method with p < this is significantly worse.
pub const SIGNIFICANCE: f64 = 0.05;

/// Fewest paired values (non-zero differences) with which the one-sided test can ever reach
/// p < [`SIGNIFICANCE`]: under the null each sign is a fair coin, so even the most extreme
/// outcome (every difference positive) has probability 2⁻ⁿ, ties or not. With α = 0.05 that is 5
/// (2⁻⁴ = 0.0625, 2⁻⁵ = 0.03125).
pub fn min_pairs() -> usize {
    (1..).find(|&n| 0.5f64.powi(n) < SIGNIFICANCE).expect("invariant: 2^-n falls below any positive level") as usize
}

/// Largest number of non-zero differences for which the exact null distribution is used (when
/// there are no ties); above it, or with ties, the normal approximation is used.
pub const EXACT_MAX_N: usize = 25;

/// The `q`-quantile (0 ≤ q ≤ 1) of `values` with linear interpolation between order statistics
/// (numpy's default). `None` for no values.
pub fn quantile(values: &[f64], q: f64) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let h = q * (v.len() - 1) as f64;
    let lo = h.floor() as usize;
    let hi = h.ceil() as usize;
    Some(v[lo] + (h - lo as f64) * (v[hi] - v[lo]))
}

/// Ranks (1-based) of `values`, ties sharing their average rank.
pub fn average_ranks(values: &[f64]) -> Vec<f64> {
    let mut order: Vec<usize> = (0..values.len()).collect();
    order.sort_by(|&a, &b| values[a].total_cmp(&values[b]));
    let mut ranks = vec![0.0; values.len()];
    let mut i = 0;
    while i < order.len() {
        let mut j = i;
        while j + 1 < order.len() && values[order[j + 1]] == values[order[i]] {
            j += 1;
        }
        let rank = (i + j) as f64 / 2.0 + 1.0;
        for &k in &order[i..=j] {
            ranks[k] = rank;
        }
        i = j + 1;
    }
    ranks
}

/// Result of a Wilcoxon signed-rank test.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Wilcoxon {
    /// Sum of the ranks of the positive differences.
    pub w_plus: f64,
    /// Number of non-zero differences.
    pub n: usize,
    /// One-sided p-value.
    pub p: f64,
    /// Whether the exact null distribution was used.
    pub exact: bool,
}

/// One-sided Wilcoxon signed-rank test of paired samples with alternative "x tends to be
/// greater than y" (scipy's `wilcoxon(x, y, alternative="greater")`): differences d = x − y,
/// zeros dropped (`zero_method="wilcox"`), ranks of |d| with ties averaged, statistic W⁺ = sum
/// of the ranks of positive d.
///
/// - n ≤ [`EXACT_MAX_N`] without ties among |d|: p = P(W⁺ ≥ w) under the exact null
///   distribution (each rank's sign a fair coin), counted by dynamic programming over sums.
/// - Otherwise: normal approximation without continuity correction, mean n(n+1)/4 and variance
///   n(n+1)(2n+1)/24 − Σ_t (t³ − t)/48 over groups of t tied |d|, and never below 2⁻ⁿ, the
///   probability of the most extreme sign pattern (the approximation goes below it for tiny n
///   with ties: n = 3 tied differences, all positive, would give p ≈ 0.042 instead of 1/8).
///
/// No non-zero difference gives p = 1.
pub fn wilcoxon_greater(x: &[f64], y: &[f64]) -> Wilcoxon {
    assert_eq!(x.len(), y.len(), "paired samples must have the same length");
    let d: Vec<f64> = x.iter().zip(y).map(|(a, b)| a - b).filter(|d| *d != 0.0).collect();
    let n = d.len();
    if n == 0 {
        return Wilcoxon { w_plus: 0.0, n, p: 1.0, exact: true };
    }
    let abs: Vec<f64> = d.iter().map(|v| v.abs()).collect();
    let ranks = average_ranks(&abs);
    let w_plus: f64 = d.iter().zip(&ranks).filter(|(v, _)| **v > 0.0).map(|(_, r)| r).sum();
    let tie_groups = tie_group_sizes(&abs);
    let has_ties = tie_groups.iter().any(|&t| t > 1);
    if n <= EXACT_MAX_N && !has_ties {
        // counts[s] = number of sign patterns with W⁺ = s.
        let max = n * (n + 1) / 2;
        let mut counts = vec![0.0f64; max + 1];
        counts[0] = 1.0;
        for r in 1..=n {
            for s in (r..=max).rev() {
                counts[s] += counts[s - r];
            }
        }
        let w = w_plus.round() as usize;
        let tail: f64 = counts[w..].iter().sum();
        return Wilcoxon { w_plus, n, p: tail / 2f64.powi(n as i32), exact: true };
    }
    let nf = n as f64;
    let mean = nf * (nf + 1.0) / 4.0;
    let ties: f64 = tie_groups.iter().map(|&t| (t as f64).powi(3) - t as f64).sum();
    let var = nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0 - ties / 48.0;
    let p = if var > 0.0 { normal_sf((w_plus - mean) / var.sqrt()).max(0.5f64.powi(n as i32)) } else { 1.0 };
    Wilcoxon { w_plus, n, p, exact: false }
}

/// Sizes of the groups of equal values.
fn tie_group_sizes(values: &[f64]) -> Vec<usize> {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    let mut sizes = Vec::new();
    let mut i = 0;
    while i < v.len() {
        let mut j = i;
        while j + 1 < v.len() && v[j + 1] == v[i] {
            j += 1;
        }
        sizes.push(j - i + 1);
        i = j + 1;
    }
    sizes
}

/// P(Z > z) for a standard normal Z.
pub fn normal_sf(z: f64) -> f64 {
    les_numerics::special::normal_cdf(-z)
}

/// Which methods are bold: the one with the lowest mean rank over paired seeds and every
/// method not significantly worse than it (one-sided Wilcoxon, p < [`SIGNIFICANCE`]).
///
/// `values[m][s]` is method m's value on paired seed s (lower is better). Returns the mean ranks
/// and the bold flags; with no seeds nobody is bold, and with fewer than [`min_pairs`] seeds
/// nobody is bold either: no method could be significantly worse than another, and bolding them
/// all would read as a tested tie.
pub fn bold_methods(values: &[Vec<f64>]) -> (Vec<f64>, Vec<bool>) {
    let m = values.len();
    let seeds = values.first().map_or(0, |v| v.len());
    if m == 0 || seeds == 0 {
        return (vec![f64::NAN; m], vec![false; m]);
    }
    let mut mean_rank = vec![0.0; m];
    for s in 0..seeds {
        let column: Vec<f64> = values.iter().map(|v| v[s]).collect();
        for (k, r) in average_ranks(&column).into_iter().enumerate() {
            mean_rank[k] += r / seeds as f64;
        }
    }
    if seeds < min_pairs() {
        return (mean_rank, vec![false; m]);
    }
    let best = (0..m).min_by(|&a, &b| mean_rank[a].total_cmp(&mean_rank[b])).expect("invariant: m > 0");
    let bold = (0..m).map(|k| k == best || wilcoxon_greater(&values[k], &values[best]).p >= SIGNIFICANCE).collect();
    (mean_rank, bold)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantiles_interpolate() {
        let v = [4.0, 1.0, 3.0, 2.0];
        assert_eq!(quantile(&v, 0.5), Some(2.5));
        assert_eq!(quantile(&v, 0.25), Some(1.75));
        assert_eq!(quantile(&v, 1.0), Some(4.0));
        assert_eq!(quantile(&[7.0], 0.75), Some(7.0));
        assert_eq!(quantile(&[], 0.5), None);
    }

    #[test]
    fn ranks_average_ties() {
        assert_eq!(average_ranks(&[3.0, 1.0, 3.0, 2.0]), vec![3.5, 1.0, 3.5, 2.0]);
    }

    #[test]
    fn exact_distribution_small_cases() {
        // n = 3, all positive: W⁺ = 6, only one of 8 sign patterns reaches it.
        let w = wilcoxon_greater(&[1.0, 2.0, 3.0], &[0.0, 0.0, 0.0]);
        assert!(w.exact);
        assert_eq!(w.w_plus, 6.0);
        assert!((w.p - 0.125).abs() < 1e-15);
        // All negative: every pattern has W⁺ ≥ 0.
        let w = wilcoxon_greater(&[0.0, 0.0], &[1.0, 2.0]);
        assert_eq!(w.p, 1.0);
        // Zeros are dropped; nothing left gives p = 1.
        assert_eq!(wilcoxon_greater(&[1.0, 2.0], &[1.0, 2.0]).p, 1.0);
    }

    /// Reference values computed with python3, scipy 1.17.1:
    ///
    /// ```python
    /// from scipy.stats import wilcoxon
    /// y = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0]
    /// d = [-0.25, 0.5, 1.25, 1.75, 2.5, -3.25, 3.5, 4.25, 5.5, 6.75, -7.5, 8.25]
    /// x = [a + b for a, b in zip(y, d)]
    /// wilcoxon(x, y, alternative="greater", method="exact")    # statistic 60.0, p 0.054931640625
    /// x2 = [3.0, 5.0, 1.0, 8.0, 0.0, 4.0, 6.0, 2.0, 9.0, 7.0]
    /// y2 = [2.0, 4.0, 2.0, 6.0, 1.0, 3.0, 4.0, 1.0, 9.0, 4.0]    # ties and one zero difference
    /// wilcoxon(x2, y2, alternative="greater", method="approx")  # statistic 38.0, p 0.028902805874428627
    /// ```
    #[test]
    fn agrees_with_scipy() {
        let y: Vec<f64> = (1..=12).map(f64::from).collect();
        let d = [-0.25, 0.5, 1.25, 1.75, 2.5, -3.25, 3.5, 4.25, 5.5, 6.75, -7.5, 8.25];
        let x: Vec<f64> = y.iter().zip(d).map(|(a, b)| a + b).collect();
        let w = wilcoxon_greater(&x, &y);
        assert!(w.exact);
        assert_eq!(w.n, 12);
        assert_eq!(w.w_plus, 60.0);
        assert!((w.p - 0.054931640625).abs() < 1e-15, "{}", w.p);
        let x2 = [3.0, 5.0, 1.0, 8.0, 0.0, 4.0, 6.0, 2.0, 9.0, 7.0];
        let y2 = [2.0, 4.0, 2.0, 6.0, 1.0, 3.0, 4.0, 1.0, 9.0, 4.0];
        let w = wilcoxon_greater(&x2, &y2);
        assert!(!w.exact, "ties force the normal approximation");
        assert_eq!(w.n, 9, "the zero difference is dropped");
        assert_eq!(w.w_plus, 38.0);
        assert!((w.p - 0.028902805874428627).abs() < 1e-12, "{}", w.p);
    }

    #[test]
    fn exact_and_normal_agree_for_moderate_n() {
        // Without ties at n = 25 the normal approximation is close to the exact tail.
        let x: Vec<f64> = (1..=25).map(|i| i as f64 * if i % 3 == 0 { -1.0 } else { 1.0 }).collect();
        let y = vec![0.0; 25];
        let exact = wilcoxon_greater(&x, &y);
        assert!(exact.exact);
        let nf = 25.0f64;
        let z = (exact.w_plus - nf * (nf + 1.0) / 4.0) / (nf * (nf + 1.0) * (2.0 * nf + 1.0) / 24.0).sqrt();
        assert!((exact.p - normal_sf(z)).abs() < 0.01, "{} vs {}", exact.p, normal_sf(z));
    }

    #[test]
    fn too_few_pairs_are_never_significant() {
        assert_eq!(min_pairs(), 5);
        // n = 4 without ties: the most extreme outcome has p = 1/16 ≥ 0.05.
        let w = wilcoxon_greater(&[1.0, 2.0, 3.0, 4.0], &[0.0; 4]);
        assert!(w.exact && w.p == 0.0625, "{w:?}");
        // n = 3 tied differences, all positive: the normal approximation alone says 0.042.
        let w = wilcoxon_greater(&[1.0, 1.0, 1.0], &[0.0; 3]);
        assert!(!w.exact && w.p == 0.125, "{w:?}");
        // n = 5, all positive: 1/32 < 0.05, with ties as without.
        assert_eq!(wilcoxon_greater(&[1.0, 2.0, 3.0, 4.0, 5.0], &[0.0; 5]).p, 0.03125);
        assert!(wilcoxon_greater(&[1.0; 5], &[0.0; 5]).p < SIGNIFICANCE);
    }

    #[test]
    fn nobody_is_bold_when_the_test_cannot_decide() {
        // Method 1 worse on every seed: with 4 seeds that cannot be significant, so nothing is
        // bold (not even the best, which would read as "the others are worse"); the ranks stay.
        let good: Vec<f64> = (0..4).map(f64::from).collect();
        let bad: Vec<f64> = good.iter().map(|v| v + 10.0).collect();
        let (ranks, bold) = bold_methods(&[good.clone(), bad.clone()]);
        assert_eq!(ranks, vec![1.0, 2.0]);
        assert_eq!(bold, vec![false, false]);
        // One more seed and the test decides.
        let (good, bad) = ([good, vec![4.0]].concat(), [bad, vec![14.0]].concat());
        assert_eq!(bold_methods(&[good, bad]).1, vec![true, false]);
    }

    #[test]
    fn bold_marks_best_and_ties() {
        // Method 0 best on average, method 1 always far worse, method 2 better than 0 on 4 of
        // 10 seeds (one-sided p ≈ 0.3 against 0: not significantly worse).
        let a: Vec<f64> = (0..10).map(|s| s as f64).collect();
        let b: Vec<f64> = a.iter().map(|v| v + 100.0 + v * 0.1).collect();
        let shift = [0.3, -0.1, 0.2, -0.2, 0.1, 0.4, -0.3, 0.5, 0.05, -0.4];
        let c: Vec<f64> = a.iter().zip(shift).map(|(v, s)| v + s).collect();
        assert!(wilcoxon_greater(&c, &a).p > 0.2);
        assert!(wilcoxon_greater(&b, &a).p < 0.01);
        let (ranks, bold) = bold_methods(&[a, b, c]);
        assert!(ranks[1] > ranks[0] && ranks[1] > ranks[2]);
        assert_eq!(bold, vec![true, false, true]);
    }
}

//! Paper-style tables (§18): per problem and dimension, per strategy the median with 25th and
//! 75th percentiles over seeds of (a) the final noise-free value of the best observed point and
//! (b) the cumulative observed value; bold = the lowest mean rank over paired seeds and every
//! strategy not significantly worse (one-sided Wilcoxon signed-rank, p < 0.05). With fewer paired
//! seeds than the test needs to ever reach p < 0.05 ([`min_pairs`]), nothing is bold and the
//! caption says so.

use std::collections::{BTreeMap, BTreeSet};

use super::load::{Refused, Run};
use super::stats::{SIGNIFICANCE, bold_methods, min_pairs, quantile};

/// One strategy's runs in a group.
#[derive(Debug)]
pub struct StrategyRuns<'a> {
    /// Strategy label.
    pub label: String,
    /// Its runs, sorted by seed.
    pub runs: Vec<&'a Run>,
    /// Its run directories that could not be used (see [`Refused`]).
    pub unusable: usize,
}

/// The runs of one problem at one dimension, by strategy.
#[derive(Debug)]
pub struct Group<'a> {
    /// Problem label.
    pub problem: String,
    /// Dimension.
    pub dim: usize,
    /// The strategies, in order.
    pub strategies: Vec<StrategyRuns<'a>>,
}

/// The order of problems and strategies (labels listed first, in their order; others after,
/// sorted by name).
#[derive(Clone, Debug, Default)]
pub struct Order {
    /// Problem labels.
    pub problems: Vec<String>,
    /// Strategy labels.
    pub strategies: Vec<String>,
}

fn position(list: &[String], label: &str) -> (usize, String) {
    (list.iter().position(|l| l == label).unwrap_or(list.len()), label.to_owned())
}

/// Groups runs by (problem, dim) and strategy in `order`, seeds sorted; the refused run
/// directories whose labels are known are counted in their strategy's row.
pub fn group<'a>(runs: &'a [Run], refused: &[Refused], order: &Order) -> Vec<Group<'a>> {
    type Key = ((usize, String), usize);
    /// A strategy's runs and its count of refused run directories.
    type Slot<'a> = (Vec<&'a Run>, usize);
    let mut map: BTreeMap<Key, BTreeMap<(usize, String), Slot<'a>>> = BTreeMap::new();
    for r in runs {
        map.entry((position(&order.problems, &r.problem), r.dim))
            .or_default()
            .entry(position(&order.strategies, &r.strategy))
            .or_default()
            .0
            .push(r);
    }
    for l in refused.iter().filter_map(|r| r.labels.as_ref()) {
        map.entry((position(&order.problems, &l.problem), l.dim))
            .or_default()
            .entry(position(&order.strategies, &l.strategy))
            .or_default()
            .1 += 1;
    }
    map.into_iter()
        .map(|(((_, problem), dim), strategies)| Group {
            problem,
            dim,
            strategies: strategies
                .into_iter()
                .map(|((_, label), (mut runs, unusable))| {
                    runs.sort_by_key(|r| r.seed);
                    StrategyRuns { label, runs, unusable }
                })
                .collect(),
        })
        .collect()
}

/// Median and quartiles over seeds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Summary {
    /// 25th percentile.
    pub q25: f64,
    /// Median.
    pub median: f64,
    /// 75th percentile.
    pub q75: f64,
}

impl Summary {
    fn of(values: &[f64]) -> Option<Self> {
        Some(Self { q25: quantile(values, 0.25)?, median: quantile(values, 0.5)?, q75: quantile(values, 0.75)? })
    }
}

/// One strategy's row of a table.
#[derive(Clone, Debug, PartialEq)]
pub struct Row {
    /// Strategy label.
    pub strategy: String,
    /// Number of complete runs with a value (the ones summarized).
    pub runs: usize,
    /// Runs that have not used their budget (still going, interrupted, failed, or with a torn
    /// journal); left out.
    pub incomplete: usize,
    /// Complete runs without a single successful evaluation (no value to summarize); left out.
    pub without_value: usize,
    /// Run directories that could not be used (damaged, duplicated, …); left out.
    pub unusable: usize,
    /// Final value of the best observed point.
    pub final_value: Option<Summary>,
    /// Mean rank of the final value over paired seeds.
    pub final_rank: f64,
    /// Bold for the final value.
    pub final_bold: bool,
    /// Cumulative observed value.
    pub cumulative: Option<Summary>,
    /// Mean rank of the cumulative value over paired seeds.
    pub cumulative_rank: f64,
    /// Bold for the cumulative value.
    pub cumulative_bold: bool,
}

/// The table of one group.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    /// Problem label.
    pub problem: String,
    /// Dimension.
    pub dim: usize,
    /// Seeds every strategy has (the ranks and tests use these).
    pub paired_seeds: usize,
    /// Whether there are enough paired seeds for the test to ever find a strategy significantly
    /// worse ([`min_pairs`]); when not, nothing is bold.
    pub tested: bool,
    /// One row per strategy.
    pub rows: Vec<Row>,
}

/// Builds the table of a group.
pub fn table(group: &Group<'_>) -> Table {
    // Per strategy: seed → (final, cumulative), for complete runs with at least one observed
    // value (a run still going would be compared at a smaller budget).
    let per: Vec<BTreeMap<u64, (f64, f64)>> = group
        .strategies
        .iter()
        .map(|s| {
            s.runs
                .iter()
                .filter(|r| r.complete())
                .filter_map(|r| Some((r.seed, (r.final_value()?, r.cumulative_y()))))
                .collect()
        })
        .collect();
    let paired: BTreeSet<u64> = per
        .iter()
        .map(|m| m.keys().copied().collect::<BTreeSet<u64>>())
        .reduce(|a, b| a.intersection(&b).copied().collect())
        .unwrap_or_default();
    let matrix = |pick: fn(&(f64, f64)) -> f64| -> Vec<Vec<f64>> {
        per.iter().map(|m| paired.iter().map(|s| pick(&m[s])).collect()).collect()
    };
    let (final_rank, final_bold) = bold_methods(&matrix(|v| v.0));
    let (cumulative_rank, cumulative_bold) = bold_methods(&matrix(|v| v.1));
    let rows = group
        .strategies
        .iter()
        .enumerate()
        .map(|(k, s)| {
            let finals: Vec<f64> = per[k].values().map(|v| v.0).collect();
            let cumulative: Vec<f64> = per[k].values().map(|v| v.1).collect();
            let complete = s.runs.iter().filter(|r| r.complete()).count();
            Row {
                strategy: s.label.clone(),
                runs: finals.len(),
                incomplete: s.runs.len() - complete,
                without_value: complete - finals.len(),
                unusable: s.unusable,
                final_value: Summary::of(&finals),
                final_rank: final_rank[k],
                final_bold: final_bold[k],
                cumulative: Summary::of(&cumulative),
                cumulative_rank: cumulative_rank[k],
                cumulative_bold: cumulative_bold[k],
            }
        })
        .collect();
    Table {
        problem: group.problem.clone(),
        dim: group.dim,
        paired_seeds: paired.len(),
        tested: paired.len() >= min_pairs(),
        rows,
    }
}

/// A number with about 4 significant digits, in scientific notation when very large or small.
pub fn fmt_num(v: f64) -> String {
    if !v.is_finite() {
        return format!("{v}");
    }
    if v == 0.0 {
        return "0".to_owned();
    }
    let a = v.abs();
    if !(1e-3..1e5).contains(&a) {
        return format!("{v:.3e}");
    }
    let decimals = (3 - a.log10().floor() as i32).max(0) as usize;
    format!("{v:.decimals$}")
}

fn cell(s: Option<Summary>, bold: bool) -> String {
    match s {
        None => "–".to_owned(),
        Some(s) => {
            let text = format!("{} [{}, {}]", fmt_num(s.median), fmt_num(s.q25), fmt_num(s.q75));
            if bold { format!("**{text}**") } else { text }
        }
    }
}

fn rank(r: f64) -> String {
    if r.is_finite() { format!("{r:.2}") } else { "–".to_owned() }
}

/// `text` for a markdown table cell or heading: characters markdown would read as markup or as
/// a cell border are escaped, line breaks become spaces.
pub fn md_text(text: &str) -> String {
    escape(text, "\\|*`[]<>")
}

/// `text` (a message of the report's own, which may hold `code` spans) for a markdown list item:
/// as [`md_text`], but backticks are kept.
pub fn md_prose(text: &str) -> String {
    escape(text, "\\|*[]<>")
}

fn escape(text: &str, special: &str) -> String {
    let mut s = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            c if special.contains(c) => {
                s.push('\\');
                s.push(c);
            }
            '\n' | '\r' => s.push(' '),
            c => s.push(c),
        }
    }
    s
}

/// The caption of a table: what the cells are and what bold means, or why nothing is bold.
fn caption(t: &Table) -> String {
    let alpha = SIGNIFICANCE;
    let min = min_pairs();
    let quartiles = "Median [25 %, 75 %] over seeds";
    if t.paired_seeds == 0 {
        return format!(
            "No seed has a complete run of every strategy, so nothing is ranked or tested. {quartiles} of the \
             complete runs."
        );
    }
    let seeds =
        if t.paired_seeds == 1 { "1 paired seed".to_owned() } else { format!("{} paired seeds", t.paired_seeds) };
    if t.tested {
        format!(
            "{seeds}. {quartiles}; bold: lowest mean rank and every strategy not significantly worse (one-sided \
             Wilcoxon signed-rank, p < {alpha})."
        )
    } else {
        format!(
            "{seeds}: too few to test (the one-sided Wilcoxon signed-rank test behind the bold entries needs at \
             least {min} paired seeds to ever reach p < {alpha}; with n seeds its smallest p is 2⁻ⁿ = {}), so \
             nothing is bold and the mean ranks are not a test. {quartiles}.",
            0.5f64.powi(t.paired_seeds as i32)
        )
    }
}

/// The runs cell: the runs summarized, and those left out.
fn runs_cell(r: &Row) -> String {
    let left_out: Vec<String> =
        [(r.incomplete, "incomplete"), (r.unusable, "unusable"), (r.without_value, "without a successful evaluation")]
            .into_iter()
            .filter(|(n, _)| *n > 0)
            .map(|(n, what)| format!("+{n} {what}"))
            .collect();
    if left_out.is_empty() { r.runs.to_string() } else { format!("{} ({}, left out)", r.runs, left_out.join(", ")) }
}

/// The table as markdown (a heading and a pipe table).
pub fn markdown(t: &Table) -> String {
    let mut s = format!("### {}, d = {}\n\n", md_text(&t.problem), t.dim);
    s.push_str(&caption(t));
    s.push_str("\n\n");
    s.push_str("| strategy | runs | final value of best point | mean rank | cumulative observed value | mean rank |\n");
    s.push_str("|---|---:|---:|---:|---:|---:|\n");
    for r in &t.rows {
        s.push_str(&format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            md_text(&r.strategy),
            runs_cell(r),
            cell(r.final_value, r.final_bold),
            rank(r.final_rank),
            cell(r.cumulative, r.cumulative_bold),
            rank(r.cumulative_rank)
        ));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use les_core::journal::EvaluationRecord;

    fn run(strategy: &str, seed: u64, ys: &[f64], budget: usize) -> Run {
        Run {
            dir: Default::default(),
            strategy: strategy.into(),
            problem: "p".into(),
            dim: 2,
            seed,
            budget,
            finished: ys.len() == budget,
            evaluations: ys
                .iter()
                .enumerate()
                .map(|(i, &y)| EvaluationRecord { index: i, iteration: i, x: vec![], y: Some(y), ..Default::default() })
                .collect(),
            iterations: vec![],
            torn: vec![],
        }
    }

    #[test]
    fn tables_pair_complete_runs_and_bold_the_best() {
        let mut runs = Vec::new();
        for seed in 1..=8 {
            let s = seed as f64;
            runs.push(run("good", seed, &[5.0, 1.0 + 0.01 * s], 2));
            runs.push(run("bad", seed, &[5.0, 2.0 + 0.01 * s], 2));
        }
        // Still going: its partial value (which would win) is left out.
        runs.push(run("good", 9, &[5.0], 2));
        runs.push(run("bad", 9, &[-100.0], 2));
        let order = Order { problems: vec![], strategies: vec!["good".into(), "bad".into()] };
        let groups = group(&runs, &[], &order);
        assert_eq!(groups.len(), 1);
        let t = table(&groups[0]);
        assert_eq!(t.paired_seeds, 8);
        assert!(t.tested);
        let (good, bad) = (&t.rows[0], &t.rows[1]);
        assert_eq!((good.strategy.as_str(), good.runs, good.incomplete), ("good", 8, 1));
        assert!((good.final_value.unwrap().median - 1.045).abs() < 1e-12);
        assert!(good.final_bold && !bad.final_bold, "8 of 8 seeds worse: exact one-sided p = 1/256");
        assert_eq!((good.final_rank, bad.final_rank), (1.0, 2.0));
        assert!((bad.cumulative.unwrap().median - 7.045).abs() < 1e-12);
        let md = markdown(&t);
        assert!(md.contains("| good | 8 (+1 incomplete, left out) | **1.045 [1.028, 1.062]** | 1.00 |"), "{md}");
        assert!(md.contains("8 paired seeds. Median"), "{md}");
    }

    #[test]
    fn two_seeds_are_not_bolded_and_the_caption_says_why() {
        let mut runs = Vec::new();
        for seed in 1..=2 {
            runs.push(run("good", seed, &[1.0], 1));
            runs.push(run("bad", seed, &[2.0], 1));
        }
        let t = table(&group(&runs, &[], &Order::default())[0]);
        assert_eq!((t.paired_seeds, t.tested), (2, false));
        assert!(t.rows.iter().all(|r| !r.final_bold && !r.cumulative_bold), "{t:?}");
        let md = markdown(&t);
        assert!(!md.contains("**"), "{md}");
        assert!(md.contains("2 paired seeds: too few to test") && md.contains("at least 5 paired seeds"), "{md}");
        assert!(md.contains("2⁻ⁿ = 0.25"), "{md}");
        // The ranks are still there.
        assert!(md.contains("| good | 2 | 1.000 [1.000, 1.000] | 1.00 |"), "{md}");
    }

    #[test]
    fn left_out_runs_are_counted_in_their_row() {
        use super::super::load::Labels;
        let all_failed = {
            let mut r = run("a", 2, &[], 1);
            r.evaluations.push(EvaluationRecord { error: Some("boom".into()), ..Default::default() });
            r.finished = true;
            r
        };
        let runs = vec![run("a", 1, &[1.0], 1), all_failed];
        let labels = |strategy: &str| Labels { problem: "p".into(), dim: 2, strategy: strategy.into(), seed: 3 };
        let refused = [
            Refused { dir: "x".into(), reason: "damaged".into(), labels: Some(labels("a")) },
            Refused { dir: "y".into(), reason: "damaged".into(), labels: Some(labels("only-refused")) },
            Refused { dir: "z".into(), reason: "no labels".into(), labels: None },
        ];
        let groups = group(&runs, &refused, &Order::default());
        assert_eq!(groups.len(), 1);
        let md = markdown(&table(&groups[0]));
        assert!(md.contains("| a | 1 (+1 unusable, +1 without a successful evaluation, left out) |"), "{md}");
        assert!(md.contains("| only-refused | 0 (+1 unusable, left out) | – |"), "{md}");
        assert!(md.contains("No seed has a complete run of every strategy"), "{md}");
    }

    #[test]
    fn labels_cannot_break_the_table() {
        assert_eq!(md_text("a|b*c`d\ne"), "a\\|b\\*c\\`d e");
        assert_eq!(md_prose("run `les run` <here>"), "run `les run` \\<here\\>");
    }

    #[test]
    fn numbers() {
        assert_eq!(fmt_num(1.234567), "1.235");
        assert_eq!(fmt_num(-12.34567), "-12.35");
        assert_eq!(fmt_num(1234.567), "1235");
        assert_eq!(fmt_num(0.01234567), "0.01235");
        assert_eq!(fmt_num(1.5e-6), "1.500e-6");
        assert_eq!(fmt_num(0.0), "0");
    }
}

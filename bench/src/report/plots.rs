//! SVG plots of a group (one problem at one dimension), one line per strategy:
//! - best-so-far value (noise-free f at the best observed point, or y) against evaluations,
//!   median over seeds with a 25–75 % band (§18);
//! - time per iteration (the strategy's `tell` + `ask` seconds) against the asked evaluations
//!   finished before that ask, median over seeds with a 25–75 % band, on a log axis where times
//!   below [`MIN_SECONDS`] are drawn at it (the report says how many).
//!
//! Bands are the 25th and 75th percentiles (linear interpolation, as for the tables) over the runs
//! that have a value at that x; incomplete runs count as far as they got. Each plot says so in a
//! footer line.
//!
//! Drawn with plotters' SVG backend, which writes text as `<text>` elements: no font files are
//! read (the workspace enables neither `ttf` nor `ab_glyph`; plotters then estimates text sizes).

use std::collections::BTreeMap;

use plotters::prelude::*;

use super::stats::quantile;
use super::tables::Group;

/// Plot size in pixels.
const SIZE: (u32, u32) = (860, 500);

/// Width of the legend panel right of the chart, in pixels.
const LEGEND_WIDTH: u32 = 160;

/// Smallest time shown on the log axis (seconds); shorter iterations are drawn at this value.
pub const MIN_SECONDS: f64 = 1e-6;

/// Height of the footer line under the chart, in pixels.
const FOOTER_HEIGHT: u32 = 24;

/// Colors of the strategies (Tableau 10).
const COLORS: [(u8, u8, u8); 10] = [
    (31, 119, 180),
    (255, 127, 14),
    (44, 160, 44),
    (214, 39, 40),
    (148, 103, 189),
    (140, 86, 75),
    (227, 119, 194),
    (127, 127, 127),
    (188, 189, 34),
    (23, 190, 207),
];

/// A tick label: short, scientific for very small or large magnitudes.
fn tick(v: f64) -> String {
    let a = v.abs();
    if v == 0.0 {
        "0".to_owned()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.0e}")
    } else {
        let s = super::tables::fmt_num(v);
        if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_owned() } else { s }
    }
}

/// One strategy's curve: x, 25 %, median, 75 %.
type Curve = Vec<(f64, f64, f64, f64)>;

/// Median and quartiles at each x of per-run series of (x, value).
fn band(series: &[Vec<(f64, f64)>]) -> Curve {
    let mut at: BTreeMap<i64, Vec<f64>> = BTreeMap::new();
    for s in series {
        for &(x, v) in s {
            at.entry(x as i64).or_default().push(v);
        }
    }
    at.into_iter()
        .filter_map(|(x, v)| Some((x as f64, quantile(&v, 0.25)?, quantile(&v, 0.5)?, quantile(&v, 0.75)?)))
        .collect()
}

/// Best-so-far curves: x = number of asked evaluations (1-based).
pub fn best_curves(group: &Group<'_>) -> Vec<(String, Curve)> {
    group
        .strategies
        .iter()
        .map(|s| {
            let series: Vec<Vec<(f64, f64)>> = s
                .runs
                .iter()
                .map(|r| {
                    r.trace().metric.iter().enumerate().filter_map(|(i, v)| v.map(|v| ((i + 1) as f64, v))).collect()
                })
                .collect();
            (s.label.clone(), band(&series))
        })
        .collect()
}

/// Strategy-time curves (`tell` + `ask` of each strategy iteration; initial-design hand-outs
/// left out): x = asked evaluations finished before the ask, times below [`MIN_SECONDS`] drawn
/// at it.
#[derive(Clone, Debug, PartialEq)]
pub struct TimeCurves {
    /// One curve per strategy.
    pub curves: Vec<(String, Curve)>,
    /// Iteration times in the curves.
    pub times: usize,
    /// Those below [`MIN_SECONDS`], drawn at it.
    pub clamped: usize,
}

/// The strategy-time curves of a group.
pub fn time_curves(group: &Group<'_>) -> TimeCurves {
    let (mut times, mut clamped) = (0, 0);
    let curves = group
        .strategies
        .iter()
        .map(|s| {
            let series: Vec<Vec<(f64, f64)>> = s
                .runs
                .iter()
                .map(|r| {
                    r.strategy_times()
                        .into_iter()
                        .map(|(n, t)| {
                            times += 1;
                            // NaN (a damaged record) is clamped too rather than dropped.
                            let shown = if t >= MIN_SECONDS {
                                t
                            } else {
                                clamped += 1;
                                MIN_SECONDS
                            };
                            (n as f64, shown)
                        })
                        .collect()
                })
                .collect();
            (s.label.clone(), band(&series))
        })
        .collect();
    TimeCurves { curves, times, clamped }
}

/// What a plot shows.
#[derive(Clone, Debug)]
pub struct Chart<'a> {
    /// Caption above the chart.
    pub title: &'a str,
    /// Label of the x axis.
    pub x_label: &'a str,
    /// Label of the y axis.
    pub y_label: &'a str,
    /// Whether y is on a log axis.
    pub log_y: bool,
    /// A line under the chart: what the lines and bands are, what was clamped.
    pub footer: &'a str,
}

/// Draws curves with bands as an SVG document.
pub fn svg(chart: &Chart<'_>, curves: &[(String, Curve)]) -> Result<String, String> {
    let log_y = chart.log_y;
    let points = curves.iter().flat_map(|(_, c)| c.iter());
    let (mut x0, mut x1, mut y0, mut y1) = (f64::INFINITY, f64::NEG_INFINITY, f64::INFINITY, f64::NEG_INFINITY);
    for &(x, lo, _, hi) in points {
        x0 = x0.min(x);
        x1 = x1.max(x);
        y0 = y0.min(lo);
        y1 = y1.max(hi);
    }
    if !x0.is_finite() {
        (x0, x1, y0, y1) = (0.0, 1.0, if log_y { MIN_SECONDS } else { 0.0 }, 1.0);
    }
    if x1 <= x0 {
        x1 = x0 + 1.0;
    }
    if !y0.is_finite() || !y1.is_finite() {
        (y0, y1) = (if log_y { MIN_SECONDS } else { 0.0 }, 1.0);
    }
    if log_y {
        y0 = y0.max(MIN_SECONDS) / 1.5;
        y1 = y1.max(y0 * 10.0) * 1.5;
    } else {
        let pad = if y1 > y0 { 0.05 * (y1 - y0) } else { 0.5 * y0.abs().max(1.0) };
        y0 -= pad;
        y1 += pad;
    }
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        root.fill(&WHITE).map_err(|e| e.to_string())?;
        let (root, footer) = root.split_vertically(SIZE.1 - FOOTER_HEIGHT);
        footer.draw(&Text::new(chart.footer.to_owned(), (12, 4), ("sans-serif", 13))).map_err(|e| e.to_string())?;
        let (root, legend) = root.split_horizontally(SIZE.0 - LEGEND_WIDTH);
        for (k, (label, _)) in curves.iter().enumerate() {
            let (r, g, b) = COLORS[k % COLORS.len()];
            let y = 50 + 22 * k as i32;
            legend
                .draw(&PathElement::new(vec![(4, y), (30, y)], RGBColor(r, g, b).stroke_width(3)))
                .map_err(|e| e.to_string())?;
            legend.draw(&Text::new(label.clone(), (36, y - 7), ("sans-serif", 14))).map_err(|e| e.to_string())?;
        }
        let builder = |root| {
            let mut b = ChartBuilder::on(root);
            b.caption(chart.title, ("sans-serif", 20)).margin(12).x_label_area_size(40).y_label_area_size(70);
            b
        };
        macro_rules! draw {
            ($chart:expr) => {{
                let mut plot = $chart;
                plot.configure_mesh()
                    .x_desc(chart.x_label)
                    .y_desc(chart.y_label)
                    // x counts evaluations: ticks between whole numbers stay unlabelled.
                    .x_label_formatter(&|x| if x.fract() == 0.0 { format!("{x:.0}") } else { String::new() })
                    .y_label_formatter(&|y| tick(*y))
                    .light_line_style(WHITE.mix(0.0))
                    .draw()
                    .map_err(|e| e.to_string())?;
                for (k, (_, curve)) in curves.iter().enumerate() {
                    let (r, g, b) = COLORS[k % COLORS.len()];
                    let color = RGBColor(r, g, b);
                    let mut outline: Vec<(f64, f64)> = curve.iter().map(|p| (p.0, p.3)).collect();
                    outline.extend(curve.iter().rev().map(|p| (p.0, p.1)));
                    if outline.len() >= 3 {
                        plot.draw_series(std::iter::once(Polygon::new(outline, color.mix(0.15).filled())))
                            .map_err(|e| e.to_string())?;
                    }
                    plot.draw_series(LineSeries::new(curve.iter().map(|p| (p.0, p.2)), color.stroke_width(2)))
                        .map_err(|e| e.to_string())?;
                }
            }};
        }
        if log_y {
            draw!(builder(&root).build_cartesian_2d(x0..x1, (y0..y1).log_scale()).map_err(|e| e.to_string())?);
        } else {
            draw!(builder(&root).build_cartesian_2d(x0..x1, y0..y1).map_err(|e| e.to_string())?);
        }
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_short() {
        assert_eq!(tick(1000.0), "1000");
        assert_eq!(tick(2.5), "2.5");
        assert_eq!(tick(0.0001), "1e-4");
        assert_eq!(tick(-20.0), "-20");
    }

    #[test]
    fn band_takes_quantiles_per_x() {
        let c = band(&[vec![(1.0, 1.0), (2.0, 4.0)], vec![(1.0, 3.0)]]);
        assert_eq!(c, vec![(1.0, 1.5, 2.0, 2.5), (2.0, 4.0, 4.0, 4.0)]);
    }

    fn chart<'a>(title: &'a str, log_y: bool) -> Chart<'a> {
        Chart { title, x_label: "evaluations", y_label: "value", log_y, footer: "line: median; band: 25–75 %" }
    }

    #[test]
    fn svg_has_text_and_paths() {
        let curves = vec![("a".to_owned(), vec![(1.0, 0.5, 1.0, 1.5), (2.0, 0.2, 0.4, 0.9)])];
        let s = svg(&chart("title", false), &curves).unwrap();
        assert!(s.starts_with("<svg"), "{}", &s[..40.min(s.len())]);
        assert!(s.contains("<text") && s.contains("\ntitle\n"), "{s}");
        assert!(s.contains("\nline: median; band: 25–75 %\n") && s.contains("\nevaluations\n"), "{s}");
        assert!(s.trim_end().ends_with("</svg>"));
        let s = svg(&chart("t", true), &curves).unwrap();
        assert!(s.contains("<polyline") || s.contains("<path"));
    }

    #[test]
    fn time_curves_count_what_they_clamp_and_skip_the_initial_design() {
        use crate::report::load::Run;
        use crate::report::tables::StrategyRuns;
        use les_core::journal::{EvaluationRecord, IterationRecord};
        let it = |iteration: usize, ask_seconds: f64| IterationRecord { iteration, ask_seconds, ..Default::default() };
        let e =
            |index: usize, iteration: usize| EvaluationRecord { index, iteration, y: Some(1.0), ..Default::default() };
        let run = Run {
            dir: Default::default(),
            strategy: "s".into(),
            problem: "p".into(),
            dim: 1,
            seed: 1,
            budget: 3,
            finished: true,
            evaluations: vec![e(0, 0), e(1, 1), e(2, 2)],
            // The hand-out of the initial design (0 s) is not a strategy iteration.
            iterations: vec![it(0, 0.0), it(1, 1e-9), it(2, 0.5)],
            torn: vec![],
        };
        let group = Group {
            problem: "p".into(),
            dim: 1,
            strategies: vec![StrategyRuns { label: "s".into(), runs: vec![&run], unusable: 0 }],
        };
        let t = time_curves(&group);
        assert_eq!((t.times, t.clamped), (2, 1));
        assert_eq!(t.curves[0].1, vec![(1.0, MIN_SECONDS, MIN_SECONDS, MIN_SECONDS), (2.0, 0.5, 0.5, 0.5)]);
    }
}

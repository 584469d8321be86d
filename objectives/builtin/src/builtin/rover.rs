//! `rover`: the 60-D rover trajectory benchmark (Wang et al. 2018, as used by the LES paper).
//!
//! # Algorithm (docs/les-algorithm.md §16.5)
//!
//! 1. The 60 inputs, each in the native interval [−0.5·4/60, 4/60] = [−0.0333, 0.0667], are 30
//!    two-dimensional increments (x_{2k}, x_{2k+1}). The control points are their cumulative sums
//!    starting at (0.05, 0.05): 31 points. A point equal to the next one is dropped, so runs of
//!    consecutive duplicates keep their last point.
//! 2. A parametric cubic interpolating spline passes through the remaining points, parametrized
//!    by normalized cumulative chord length: FITPACK's `splprep(k=3, s=0)`, which is the
//!    not-a-knot cubic interpolant. With fewer than 4 distinct points the degree drops to the
//!    number of points − 1 (a parabola, a segment or a single point), where FITPACK would fail.
//! 3. The spline is sampled at 1000 equally spaced parameters t ∈ [0, 1].
//! 4. The cost field is 0.05 everywhere plus 20 inside any obstacle: 34 axis-aligned squares of
//!    side 0.1 centred on the grid {0, 0.2, …, 1}² without (0, 0) and (1, 1), and everything
//!    outside the unit square. Containment is half-open (low ≤ p < high).
//! 5. cost = Σ_j ‖p_{j+1} − p_j‖·½(c_j + c_{j+1}) + 100·‖p_999 − (0.95, 0.95)‖₁, and the objective is
//!    y = cost − 5 (the negated reward −cost + 5), to be minimized.
//!
//! # Configuration
//!
#![doc = include_str!("../../params/fixed_dim.md")]
//!
//! ```yaml
//! objective: { builtin: rover }
//! ```

use les_core::registry::{Built, ObjectiveEntry};
use les_core::{Bounds, BuildContext, Objective, ObjectiveError, ObjectiveInfo, Params, PluginError};

use super::analytic::{FixedDimParams, check_dim, finite, fixed_dim_defaults};

/// Input dimension: 30 two-dimensional increments.
pub const ROVER_DIM: usize = 60;
/// Lower end of each input's native interval, −0.5·4/60.
pub const ROVER_LOWER: f64 = -0.5 * 4.0 / 60.0;
/// Upper end of each input's native interval, 4/60.
pub const ROVER_UPPER: f64 = 4.0 / 60.0;
/// Where the trajectory starts.
pub const ROVER_START: [f64; 2] = [0.05, 0.05];
/// Where the trajectory should end.
pub const ROVER_GOAL: [f64; 2] = [0.95, 0.95];
/// Number of points the spline is sampled at.
pub const ROVER_SAMPLES: usize = 1000;
/// Cost per unit length everywhere.
pub const ROVER_BASE_COST: f64 = 0.05;
/// Extra cost per unit length inside an obstacle.
pub const ROVER_OBSTACLE_COST: f64 = 20.0;
/// Weight of the L1 distance between the end of the trajectory and the goal.
pub const ROVER_GOAL_WEIGHT: f64 = 100.0;
/// Offset of the reward: y = cost − 5.
pub const ROVER_OFFSET: f64 = 5.0;
/// Obstacle squares span [0.2k − 0.05, 0.2k + 0.05) = [(4k − 1)/20, (4k + 1)/20) per axis.
const OBSTACLE_EDGE_DENOMINATOR: f64 = 20.0;
/// Obstacle centres per axis: 0, 0.2, …, 1.
const OBSTACLE_CENTRES_PER_AXIS: usize = 6;

/// A point of the plane.
pub type Point = [f64; 2];

/// Cost per unit length at `p`: 0.05, plus 20 inside an obstacle or outside the unit square.
pub fn cost_at(p: Point) -> f64 {
    if in_obstacle(p) { ROVER_BASE_COST + ROVER_OBSTACLE_COST } else { ROVER_BASE_COST }
}

/// Whether `p` is outside [0, 1)² or inside one of the 34 obstacle squares (half-open).
pub fn in_obstacle(p: Point) -> bool {
    if !(0.0..1.0).contains(&p[0]) || !(0.0..1.0).contains(&p[1]) {
        return true;
    }
    // Squares are 0.1 wide on a 0.2 grid, so at most one centre per axis can contain p. The
    // edges 0.2k ± 0.05 = (4k ± 1)/20 are computed by one division, so they are the correctly
    // rounded decimals (0.2 − 0.05 would give 0.15000000000000002).
    let cell = |v: f64| {
        (0..OBSTACLE_CENTRES_PER_AXIS).find(|&k| {
            let k4 = 4.0 * k as f64;
            (k4 - 1.0) / OBSTACLE_EDGE_DENOMINATOR <= v && v < (k4 + 1.0) / OBSTACLE_EDGE_DENOMINATOR
        })
    };
    match (cell(p[0]), cell(p[1])) {
        (Some(0), Some(0)) => false,
        (Some(i), Some(j)) if i == OBSTACLE_CENTRES_PER_AXIS - 1 && j == OBSTACLE_CENTRES_PER_AXIS - 1 => false,
        (Some(_), Some(_)) => true,
        _ => false,
    }
}

/// The control points of `x` (60 increments → up to 31 points, consecutive duplicates
/// dropped, keeping the last of each run).
pub fn control_points(x: &[f64]) -> Vec<Point> {
    let mut all = Vec::with_capacity(x.len() / 2 + 1);
    let mut p = ROVER_START;
    all.push(p);
    for inc in x.chunks_exact(2) {
        p = [p[0] + inc[0], p[1] + inc[1]];
        all.push(p);
    }
    let mut kept = Vec::with_capacity(all.len());
    for (i, &q) in all.iter().enumerate() {
        if i + 1 == all.len() || q != all[i + 1] {
            kept.push(q);
        }
    }
    kept
}

/// The trajectory: the interpolating spline through `points` (parametrized by normalized
/// cumulative chord length) sampled at `samples` equally spaced parameters in [0, 1].
pub fn trajectory(points: &[Point], samples: usize) -> Vec<Point> {
    let m = points.len();
    let ts = (0..samples).map(|j| if samples == 1 { 0.0 } else { j as f64 / (samples - 1) as f64 });
    if m == 1 {
        return vec![points[0]; samples];
    }
    let u = chord_parameters(points);
    match m {
        2 => ts.map(|t| std::array::from_fn(|c| points[0][c] + t * (points[1][c] - points[0][c]))).collect(),
        3 => ts.map(|t| quadratic_through(&u, points, t)).collect(),
        _ => {
            let spline = NotAKnotSpline::new(&u, points);
            ts.map(|t| spline.eval(t)).collect()
        }
    }
}

/// Trajectory cost of sampled points: Σ segment length × mean cost of its ends, plus 100 × the
/// L1 distance of the last point to the goal.
pub fn trajectory_cost(samples: &[Point]) -> f64 {
    let costs: Vec<f64> = samples.iter().map(|&p| cost_at(p)).collect();
    let path: f64 = samples
        .windows(2)
        .zip(costs.windows(2))
        .map(|(p, c)| (p[1][0] - p[0][0]).hypot(p[1][1] - p[0][1]) * 0.5 * (c[0] + c[1]))
        .sum();
    let end = samples[samples.len() - 1];
    path + ROVER_GOAL_WEIGHT * ((end[0] - ROVER_GOAL[0]).abs() + (end[1] - ROVER_GOAL[1]).abs())
}

/// u_0 = 0, u_i = Σ_{k≤i} ‖p_k − p_{k−1}‖ / total. Consecutive points are distinct, so the
/// total is positive and u is strictly increasing.
fn chord_parameters(points: &[Point]) -> Vec<f64> {
    let mut u = Vec::with_capacity(points.len());
    let mut acc = 0.0;
    u.push(0.0);
    for w in points.windows(2) {
        acc += (w[1][0] - w[0][0]).hypot(w[1][1] - w[0][1]);
        u.push(acc);
    }
    u.iter_mut().for_each(|v| *v /= acc);
    u
}

/// The parabola through three points at parameters `u`, evaluated at `t` (Lagrange form).
fn quadratic_through(u: &[f64], p: &[Point], t: f64) -> Point {
    let l0 = (t - u[1]) * (t - u[2]) / ((u[0] - u[1]) * (u[0] - u[2]));
    let l1 = (t - u[0]) * (t - u[2]) / ((u[1] - u[0]) * (u[1] - u[2]));
    let l2 = (t - u[0]) * (t - u[1]) / ((u[2] - u[0]) * (u[2] - u[1]));
    std::array::from_fn(|c| l0 * p[0][c] + l1 * p[1][c] + l2 * p[2][c])
}

/// A not-a-knot cubic interpolating spline of 2-D values over strictly increasing knots
/// (at least 4), stored by its second derivatives M_i at the knots.
struct NotAKnotSpline<'a> {
    u: &'a [f64],
    y: &'a [Point],
    m: Vec<Point>,
}

impl<'a> NotAKnotSpline<'a> {
    /// Solves for the second derivatives: continuity of S' at the interior knots,
    /// h_{i−1}M_{i−1} + 2(h_{i−1} + h_i)M_i + h_i M_{i+1} = 6(Δ_i − Δ_{i−1}) with Δ_i the
    /// slopes, and continuity of S''' at the first and last interior knots (not-a-knot).
    /// The (n+1)×(n+1) system is tiny (n ≤ 30), so dense elimination is simplest.
    fn new(u: &'a [f64], y: &'a [Point]) -> Self {
        let size = u.len();
        let n = size - 1;
        let h: Vec<f64> = u.windows(2).map(|w| w[1] - w[0]).collect();
        let slope = |i: usize, c: usize| (y[i + 1][c] - y[i][c]) / h[i];
        let mut a = vec![0.0; size * size];
        let mut rhs = vec![[0.0; 2]; size];
        a[0] = h[1];
        a[1] = -(h[0] + h[1]);
        a[2] = h[0];
        for i in 1..n {
            a[i * size + i - 1] = h[i - 1];
            a[i * size + i] = 2.0 * (h[i - 1] + h[i]);
            a[i * size + i + 1] = h[i];
            rhs[i] = std::array::from_fn(|c| 6.0 * (slope(i, c) - slope(i - 1, c)));
        }
        a[n * size + n - 2] = h[n - 1];
        a[n * size + n - 1] = -(h[n - 2] + h[n - 1]);
        a[n * size + n] = h[n - 2];
        let m = solve_dense(&mut a, rhs, size);
        Self { u, y, m }
    }

    /// S(t) on the interval [u_i, u_{i+1}] containing t, with s = (t − u_i)/h:
    /// y_i + s(y_{i+1} − y_i) + h²/6·[((1−s)³ − (1−s))M_i + (s³ − s)M_{i+1}].
    fn eval(&self, t: f64) -> Point {
        let n = self.u.len() - 1;
        let i = self.u[1..n].partition_point(|&knot| knot <= t);
        let h = self.u[i + 1] - self.u[i];
        let s = (t - self.u[i]) / h;
        let r = 1.0 - s;
        std::array::from_fn(|c| {
            self.y[i][c]
                + s * (self.y[i + 1][c] - self.y[i][c])
                + h * h / 6.0 * ((r * r * r - r) * self.m[i][c] + (s * s * s - s) * self.m[i + 1][c])
        })
    }
}

/// Solves A·X = B (A `size×size` row-major, overwritten; B `size×2`) by Gaussian elimination
/// with partial pivoting.
fn solve_dense(a: &mut [f64], mut b: Vec<Point>, size: usize) -> Vec<Point> {
    for col in 0..size {
        let pivot = (col..size)
            .max_by(|&r, &s| a[r * size + col].abs().total_cmp(&a[s * size + col].abs()))
            .expect("invariant: the column range is not empty");
        if pivot != col {
            for k in 0..size {
                a.swap(col * size + k, pivot * size + k);
            }
            b.swap(col, pivot);
        }
        let diag = a[col * size + col];
        for row in col + 1..size {
            let factor = a[row * size + col] / diag;
            if factor == 0.0 {
                continue;
            }
            for k in col..size {
                a[row * size + k] -= factor * a[col * size + k];
            }
            let pivot_row = b[col];
            for (v, p) in b[row].iter_mut().zip(pivot_row) {
                *v -= factor * p;
            }
        }
    }
    let mut x = vec![[0.0; 2]; size];
    for row in (0..size).rev() {
        for c in 0..2 {
            let tail: f64 = (row + 1..size).map(|k| a[row * size + k] * x[k][c]).sum();
            x[row][c] = (b[row][c] - tail) / a[row * size + row];
        }
    }
    x
}

/// The rover trajectory objective on its native box [−1/30, 1/15]^60.
#[derive(Clone, Debug)]
pub struct Rover {
    info: ObjectiveInfo,
}

impl Rover {
    /// The objective; the runner adds noise of std `noise_std` to observations.
    pub fn new(noise_std: f64) -> Self {
        Self {
            info: ObjectiveInfo {
                name: "rover".to_owned(),
                bounds: Bounds::uniform(ROVER_DIM, ROVER_LOWER, ROVER_UPPER),
                noise_std,
                exact: true,
                known_minimum: None,
                known_minimizer: None,
            },
        }
    }

    /// The sampled trajectory of `x` (1000 points).
    pub fn trajectory(&self, x: &[f64]) -> Vec<Point> {
        trajectory(&control_points(x), ROVER_SAMPLES)
    }

    /// y = cost − 5 for `x` (no dimension check).
    pub fn value(&self, x: &[f64]) -> f64 {
        trajectory_cost(&self.trajectory(x)) - ROVER_OFFSET
    }
}

impl Objective for Rover {
    fn info(&self) -> &ObjectiveInfo {
        &self.info
    }

    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        check_dim(x, ROVER_DIM)?;
        finite(self.value(x))
    }
}

fn build(params: &Params, _ctx: &BuildContext) -> Result<Built<dyn Objective>, PluginError> {
    let mut p: FixedDimParams = params.parse()?;
    p.check_dim(ROVER_DIM).map_err(|e| e.prefixed(&params.path))?;
    p.dim = Some(ROVER_DIM);
    Ok(Built::new(Box::new(Rover::new(p.noise_std)), &p))
}

inventory::submit! {
    ObjectiveEntry {
        name: "rover",
        summary: "60-D rover trajectory planning (spline through 30 increments, 34 obstacles), y = cost − 5",
        details: concat!(
            "rover: the 60 inputs are 30 2-D increments; their cumulative sums from (0.05, 0.05) are the control \
points (consecutive duplicates dropped) of a not-a-knot cubic interpolating spline parametrized by normalized \
cumulative chord length (FITPACK splprep(k=3, s=0)), sampled at 1000 equally spaced parameters. Cost field: \
0.05, plus 20 inside 34 squares of side 0.1 centred on {0, 0.2, …, 1}² without (0,0) and (1,1) or outside \
the unit square (half-open containment). cost = Σ segment length × mean cost of its ends + 100·L1 distance \
of the end to (0.95, 0.95); y = cost − 5 (minimized). docs/les-algorithm.md §16.5. Native box [−0.5·4/60, 4/60]^60 \
= [−0.0333, 0.0667]^60; the runner maps the unit cube to the native box, as the paper does. Minimum unknown. \
evaluate returns the noise-free value; no gradient (piecewise \
constant cost field).\n\n",
            include_str!("../../params/fixed_dim.md"),
        ),
        default_params: fixed_dim_defaults::<ROVER_DIM>,
        build,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_a_knot_reproduces_cubics() {
        // A cubic polynomial is its own not-a-knot interpolant, on any knots.
        let u = [0.0, 0.1, 0.35, 0.4, 0.8, 1.0];
        let cubic = |t: f64| [1.0 - 2.0 * t + 3.0 * t * t * t, 0.5 * t * t - t * t * t];
        let y: Vec<Point> = u.iter().map(|&t| cubic(t)).collect();
        let s = NotAKnotSpline::new(&u, &y);
        for k in 0..=50 {
            let t = k as f64 / 50.0;
            let (got, want) = (s.eval(t), cubic(t));
            assert!((got[0] - want[0]).abs() < 1e-13 && (got[1] - want[1]).abs() < 1e-13, "t = {t}");
        }
    }

    #[test]
    fn not_a_knot_has_continuous_third_derivative_at_second_knot() {
        // Data that no cubic fits: the spline still interpolates, and S''' agrees on both sides
        // of u_1 and u_{n−1} (so the first two and last two pieces are one cubic each).
        let u = [0.0, 0.2, 0.3, 0.6, 0.7, 1.0];
        let y: Vec<Point> = [0.0, 1.0, -1.0, 2.0, 0.5, 0.0].iter().map(|&v| [v, v * v]).collect();
        let s = NotAKnotSpline::new(&u, &y);
        for (i, &t) in u.iter().enumerate() {
            let p = s.eval(t);
            assert!((p[0] - y[i][0]).abs() < 1e-13 && (p[1] - y[i][1]).abs() < 1e-13);
        }
        let third = |i: usize, c: usize| (s.m[i + 1][c] - s.m[i][c]) / (u[i + 1] - u[i]);
        for c in 0..2 {
            assert!((third(0, c) - third(1, c)).abs() < 1e-9 * third(0, c).abs().max(1.0));
            assert!((third(3, c) - third(4, c)).abs() < 1e-9 * third(3, c).abs().max(1.0));
        }
    }

    #[test]
    fn obstacle_field() {
        assert!(!in_obstacle([0.05, 0.05]), "start is free: the (0, 0) square is not an obstacle");
        assert!(!in_obstacle([0.95, 0.95]), "goal is free: the (1, 1) square is not an obstacle");
        assert!(in_obstacle([0.2, 0.2]));
        assert!(in_obstacle([0.15, 0.0]), "half-open: the low edge is inside");
        assert!(!in_obstacle([0.25, 0.1]));
        assert!(!in_obstacle([0.1, 0.1]));
        assert!(in_obstacle([0.0, 0.95]), "(0, 1) square");
        assert!(in_obstacle([-0.01, 0.5]) && in_obstacle([0.5, 1.0]), "outside the unit square");
        // Centres inside the half-open unit square: 5×5 minus the free (0, 0) one.
        let squares = (0..5)
            .flat_map(|i| (0..5).map(move |j| [i as f64 * 0.2, j as f64 * 0.2]))
            .filter(|&c| in_obstacle(c))
            .count();
        assert_eq!(squares, 24);
    }
}

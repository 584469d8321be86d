//! `rover` against trajectories whose cost can be worked out by hand.
//!
//! Equal increments give collinear, equally spaced control points; the not-a-knot spline of
//! linear data is that line, parametrized uniformly, so the 1000 samples are
//! p_j = start + (j/999)·(end − start) and every segment has length δ = L/999. The path cost is
//! then δ·(Σ_j c_j − ½(c_0 + c_999)), with c_j = 0.05 + 20·[p_j in an obstacle], so it only needs
//! the number of samples inside obstacles, counted below by hand.

use les_core::{Objective, PluginError};
use les_objectives::builtin::builtin_by_name;
use les_objectives::builtin::rover::{ROVER_GOAL, ROVER_START, Rover};
use serde_json::{Value, json};

fn rover() -> Box<dyn Objective> {
    builtin_by_name("rover", Value::Null).unwrap()
}

fn repeat(increments: &[[f64; 2]]) -> Vec<f64> {
    increments.iter().flat_map(|p| p.iter().copied()).collect()
}

#[test]
fn info_and_box() {
    let f = rover();
    let info = f.info();
    assert_eq!(info.dim(), 60);
    assert!((info.bounds.lower[0] + 1.0 / 30.0).abs() < 1e-17);
    assert!((info.bounds.upper[59] - 1.0 / 15.0).abs() < 1e-17);
    assert!(info.exact);
    assert_eq!(info.known_minimum, None);
    assert!(f.gradient(&[0.0; 60]).is_none());
}

/// Diagonal from (0.05, 0.05) to (0.96, 0.96): increments a = 0.91/30 in both coordinates.
/// Sample j sits at 0.05 + s_j on both axes, s_j = 0.91·j/999. A point (v, v) can only be in a
/// square centred at (c, c); c = 0 and c = 1 are not obstacles and v < 1, so it is inside iff
/// s_j ∈ [c − 0.1, c) for c ∈ {0.2, 0.4, 0.6, 0.8}, i.e. j ∈ [999(c − 0.1)/0.91, 999c/0.91):
/// j = 110..=219, 330..=439, 549..=658, 769..=878 — 4 × 110 = 440 samples (the nearest
/// sample is 2e-4 from an edge, far from rounding). Both ends are free.
#[test]
fn diagonal_through_four_obstacles() {
    let a = 0.91 / 30.0;
    let x = repeat(&[[a, a]; 30]);
    let delta = 0.91 * 2f64.sqrt() / 999.0;
    let path = delta * (0.05 * 1000.0 + 20.0 * 440.0 - 0.05);
    let goal_miss = 100.0 * 2.0 * (0.96 - 0.95);
    let expected = path + goal_miss - 5.0;
    let y = rover().evaluate(&x).unwrap();
    assert!((y - expected).abs() < 1e-10, "y = {y}, by hand {expected}");
}

/// Nearly horizontal, in the free corridor 0.05 ≤ y < 0.15 between the bottom row of squares
/// (y < 0.05) and the next one (y ≥ 0.15): increments (0.03, 0.002), end (0.95, 0.11).
/// Cost = 0.05·L + 100·|0.11 − 0.95|.
#[test]
fn free_corridor() {
    let x = repeat(&[[0.03, 0.002]; 30]);
    let length = 30.0 * 0.03f64.hypot(0.002);
    let expected = 0.05 * length + 100.0 * 0.84 - 5.0;
    let rover = Rover::new(0.0);
    let y = rover.evaluate(&x).unwrap();
    assert!((y - expected).abs() < 1e-10, "y = {y}, by hand {expected}");
    let t = rover.trajectory(&x);
    assert_eq!(t.len(), 1000);
    assert_eq!(t[0], ROVER_START);
    assert!((t[999][0] - 0.95).abs() < 1e-14 && (t[999][1] - 0.11).abs() < 1e-14);
}

/// All increments 0: one control point, the rover stays at the start.
/// Cost = 100·(0.9 + 0.9) = 180.
#[test]
fn standing_still() {
    let y = rover().evaluate(&[0.0; 60]).unwrap();
    assert!((y - 175.0).abs() < 1e-12, "{y}");
    assert_eq!(ROVER_GOAL, [0.95, 0.95]);
}

/// Fifteen increments a = 0.91/30 and fifteen zero increments, in any order: duplicates are
/// dropped, leaving 16 equally spaced points from (0.05, 0.05) to (0.505, 0.505). With
/// s_j = 0.455·j/999, the squares at c = 0.2 and 0.4 hold j ∈ [999(c − 0.1)/0.455, 999c/0.455):
/// j = 220..=439 and 659..=878, 440 samples; the end (0.505, 0.505) is free.
#[test]
fn duplicate_points_are_dropped() {
    let a = 0.91 / 30.0;
    let delta = 0.455 * 2f64.sqrt() / 999.0;
    let expected = delta * (0.05 * 1000.0 + 20.0 * 440.0 - 0.05) + 100.0 * 2.0 * (0.95 - 0.505) - 5.0;
    let zeros_last = [[a, a]; 15].into_iter().chain([[0.0, 0.0]; 15]).collect::<Vec<_>>();
    let zeros_first = [[0.0, 0.0]; 15].into_iter().chain([[a, a]; 15]).collect::<Vec<_>>();
    let interleaved = (0..30).map(|k| if k % 2 == 0 { [a, a] } else { [0.0, 0.0] }).collect::<Vec<_>>();
    for (name, inc) in [("zeros last", zeros_last), ("zeros first", zeros_first), ("interleaved", interleaved)] {
        let y = rover().evaluate(&repeat(&inc)).unwrap();
        assert!((y - expected).abs() < 1e-10, "{name}: y = {y}, by hand {expected}");
    }
}

#[test]
fn curved_trajectories_are_finite_and_deterministic() {
    let f = rover();
    let info = f.info().clone();
    let mut state = 42u64;
    for _ in 0..20 {
        let u: Vec<f64> = (0..60)
            .map(|_| {
                state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
                (state >> 11) as f64 / (1u64 << 53) as f64
            })
            .collect();
        let x = info.bounds.from_unit(&u);
        let y = f.evaluate(&x).unwrap();
        // The path cost is ≥ 0, so y ≥ 100·L1 miss − 5 at least.
        let end = x.chunks_exact(2).fold(ROVER_START, |p, inc| [p[0] + inc[0], p[1] + inc[1]]);
        let miss = (end[0] - 0.95).abs() + (end[1] - 0.95).abs();
        assert!(y >= 100.0 * miss - 5.0 - 1e-9, "{y} vs miss {miss}");
        assert_eq!(y, f.evaluate(&x).unwrap());
    }
}

#[test]
fn dim_must_be_60() {
    match builtin_by_name("rover", json!({"dim": 59})) {
        Err(PluginError::Param(e)) => assert_eq!(e.path, "objective.dim"),
        other => panic!("expected a parameter error, got {:?}", other.map(|_| ())),
    }
    assert!(builtin_by_name("rover", json!({"dim": 60, "noise_std": 0.1})).is_ok());
}

//! The shared machinery of every inner optimizer: projection onto the unit cube, the iterate
//! recorder, the early-stop test and the first-order driver that gradient descent and Adam use.
//!
//! Record convention (what every optimizer of this crate returns): record `t` holds the
//! position `z_t` after `t` updates (`z_0` = the start point) and, where the optimizer records
//! values (CMA-ES), the path value `f^l(z_t)` at that very position. First-order methods
//! follow gradients only and record no values ([`les_core::DescentSequences::values_at`]
//! evaluates the few that are read). The reference implementation's misaligned history
//! (positions `z_1 … z_T`, values `f(z_0) … f(z_{T−1})`, §8.1 of the spec) is a view of this
//! one: its `H[k]` is record `k + 1` and its stored value for `H[k]` is the value of record
//! `k`, so the LES strategy reproduces the reference support mode from these records without
//! loss.

use les_core::{DescentSequences, PathBatch};
use rayon::prelude::*;

/// Clips every coordinate to `[0, 1]` (the projection of §8 applied after every update).
/// A NaN coordinate is left to the caller: updates never produce one from finite inputs
/// because non-finite gradient entries are skipped.
#[inline]
pub fn project_unit(x: &mut [f64]) {
    for v in x {
        *v = v.clamp(0.0, 1.0);
    }
}

/// Largest Euclidean distance between row `l` of `a` and row `l` of `b` over all `L` rows
/// (`a`, `b` are `L×d`).
pub fn max_row_distance(a: &[f64], b: &[f64], dim: usize) -> f64 {
    a.chunks_exact(dim)
        .zip(b.chunks_exact(dim))
        .map(|(ra, rb)| ra.iter().zip(rb).map(|(x, y)| (x - y) * (x - y)).sum::<f64>().sqrt())
        .fold(0.0, f64::max)
}

/// Preallocated iterate history of `L` paths in step-major layout (see
/// [`DescentSequences`]); grows by one record per step without reallocating.
pub struct Recorder {
    n_paths: usize,
    dim: usize,
    n_records: usize,
    positions: Vec<f64>,
    values: Vec<f64>,
}

impl Recorder {
    /// Room for `max_records` records of `L` paths in `d` dimensions; `with_values` when the
    /// optimizer records path values too.
    pub fn new(n_paths: usize, dim: usize, max_records: usize, with_values: bool) -> Self {
        Self {
            n_paths,
            dim,
            n_records: 0,
            positions: Vec::with_capacity(max_records * n_paths * dim),
            values: Vec::with_capacity(if with_values { max_records * n_paths } else { 0 }),
        }
    }

    /// Appends the positions of one record (`L×d`).
    pub fn push_positions(&mut self, positions: &[f64]) {
        debug_assert_eq!(positions.len(), self.n_paths * self.dim);
        self.positions.extend_from_slice(positions);
        self.n_records += 1;
    }

    /// Appends the values of one record (`L`).
    pub fn push_values(&mut self, values: &[f64]) {
        debug_assert_eq!(values.len(), self.n_paths);
        self.values.extend_from_slice(values);
    }

    /// The finished history.
    ///
    /// # Panics
    /// If values were pushed, but not for every record (a bug of the calling optimizer).
    pub fn finish(self) -> DescentSequences {
        assert!(
            self.values.is_empty() || self.values.len() == self.n_records * self.n_paths,
            "invariant: one value per path and record, or none"
        );
        DescentSequences {
            n_paths: self.n_paths,
            dim: self.dim,
            n_records: self.n_records,
            positions: self.positions,
            values: self.values,
        }
    }
}

/// `L` copies of the start point `x0` (`d` values), projected onto the cube: `L×d`.
pub fn replicate_start(x0: &[f64], n_paths: usize) -> Vec<f64> {
    let mut z = Vec::with_capacity(n_paths * x0.len());
    for _ in 0..n_paths {
        z.extend_from_slice(x0);
    }
    project_unit(&mut z);
    z
}

/// Runs a first-order method for up to `steps` updates on every path of `paths` from `x0`.
///
/// `update(t, z, g, state)` applies update `t = 1, 2, …` in place to the positions `z` of
/// some paths (`k×d`) given their gradients `g` (`k×d`) at `z_{t−1}` and their optimizer state
/// (`state_per_coordinate·k·d` values, zero at the start, owned by the driver); the driver
/// projects afterwards. Coordinates are independent, so the same update serves any group of
/// paths.
///
/// The gradients come from [`PathBatch::gradients_block`], in blocks of
/// [`PathBatch::block_size`]; no values are recorded. Without an early stop, one block's whole
/// descent is one rayon task: the `T` steps need no synchronization between threads. With
/// `stop_tol = Some(tol)` all paths step together (the blocks of a step in parallel) and the
/// run ends after the first step in which no path moved farther than `tol`; the history is
/// then shorter (`n_records < steps + 1`), never padded. Either way a path's iterates are the
/// same up to where the lockstep run stops.
pub fn run_first_order(
    paths: &dyn PathBatch,
    x0: &[f64],
    steps: usize,
    stop_tol: Option<f64>,
    state_per_coordinate: usize,
    update: impl Fn(usize, &mut [f64], &[f64], &mut [f64]) + Sync,
) -> DescentSequences {
    let n_paths = paths.n_paths();
    let dim = paths.dim();
    assert_eq!(x0.len(), dim, "invariant: the start point has d coordinates");
    if n_paths == 0 {
        return Recorder::new(0, dim, 0, false).finish();
    }
    let block = paths.block_size().clamp(1, n_paths);
    if let Some(tol) = stop_tol {
        let gradients = |z: &[f64], g: &mut [f64]| {
            z.par_chunks(block * dim)
                .zip(g.par_chunks_mut(block * dim))
                .enumerate()
                .for_each(|(b, (zb, gb))| paths.gradients_block(b * block, zb, gb));
        };
        return descend_group(n_paths, dim, x0, steps, Some(tol), state_per_coordinate, gradients, &update);
    }
    let firsts: Vec<usize> = (0..n_paths).step_by(block).collect();
    let histories: Vec<DescentSequences> = firsts
        .par_iter()
        .map(|&first| {
            let count = block.min(n_paths - first);
            let gradients = |z: &[f64], g: &mut [f64]| paths.gradients_block(first, z, g);
            descend_group(count, dim, x0, steps, None, state_per_coordinate, gradients, &update)
        })
        .collect();
    if let [only] = histories.as_slice()
        && only.n_paths == n_paths
    {
        return histories.into_iter().next().expect("invariant: one history");
    }
    // Interleave the blocks' histories into the step-major layout, one block at a time and
    // freeing each once copied: the merged history (80 MB at L = 1000, T = 500, d = 20) is
    // then never held twice.
    let records = steps + 1;
    let mut positions = vec![0.0; records * n_paths * dim];
    for (h, &first) in histories.into_iter().zip(&firsts) {
        let k = h.n_paths;
        positions.par_chunks_mut(n_paths * dim).zip(h.positions.par_chunks(k * dim)).for_each(|(pos, block)| {
            pos[first * dim..(first + k) * dim].copy_from_slice(block);
        });
    }
    DescentSequences { n_paths, dim, n_records: records, positions, values: Vec::new() }
}

/// The descent of `count` paths whose gradients `gradients(z, g)` evaluates together (one
/// block, or the whole batch): one evaluation per step. With `stop_tol`, ends after the first
/// step in which no path moved farther than it.
#[allow(clippy::too_many_arguments)]
fn descend_group(
    count: usize,
    dim: usize,
    x0: &[f64],
    steps: usize,
    stop_tol: Option<f64>,
    state_per_coordinate: usize,
    gradients: impl Fn(&[f64], &mut [f64]),
    update: &impl Fn(usize, &mut [f64], &[f64], &mut [f64]),
) -> DescentSequences {
    let mut rec = Recorder::new(count, dim, steps + 1, false);
    let mut z = replicate_start(x0, count);
    let mut previous = if stop_tol.is_some() { z.clone() } else { Vec::new() };
    let mut state = vec![0.0; state_per_coordinate * count * dim];
    let mut grads = vec![0.0; count * dim];
    rec.push_positions(&z);
    for t in 1..=steps {
        gradients(&z, &mut grads);
        if stop_tol.is_some() {
            previous.copy_from_slice(&z);
        }
        update(t, &mut z, &grads, &mut state);
        project_unit(&mut z);
        rec.push_positions(&z);
        if let Some(tol) = stop_tol
            && max_row_distance(&z, &previous, dim) < tol
        {
            break;
        }
    }
    rec.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn projection_clips_to_unit_cube() {
        let mut x = [-0.5, 0.3, 1.7, 1.0, 0.0];
        project_unit(&mut x);
        assert_eq!(x, [0.0, 0.3, 1.0, 1.0, 0.0]);
    }

    /// Counts batch calls and checks every call covers all `L` paths.
    struct Counting {
        inner: crate::testing::QuadraticPaths,
        calls: std::sync::atomic::AtomicUsize,
    }

    impl PathBatch for Counting {
        fn n_paths(&self) -> usize {
            self.inner.n_paths()
        }
        fn dim(&self) -> usize {
            self.inner.dim
        }
        fn value_and_grad(&self, xs: &[f64], values: &mut [f64], grads: &mut [f64]) {
            assert_eq!(values.len(), self.n_paths());
            self.calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            self.inner.value_and_grad(xs, values, grads);
        }
    }

    #[test]
    fn one_batch_call_per_step_and_no_values() {
        let paths = Counting {
            inner: crate::testing::QuadraticPaths::with_centres(2, vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6]),
            calls: Default::default(),
        };
        let seq = run_first_order(&paths, &[0.5, 0.5], 37, None, 0, |_, z, g, _| {
            for (zi, gi) in z.iter_mut().zip(g) {
                *zi -= 0.1 * gi;
            }
        });
        assert_eq!(paths.calls.load(std::sync::atomic::Ordering::Relaxed), 37);
        assert_eq!((seq.n_paths, seq.dim, seq.n_records), (3, 2, 38));
        assert_eq!(seq.positions.len(), 38 * 3 * 2);
        assert!(!seq.has_values() && seq.values.is_empty());
        // The values read afterwards are the paths' values at the recorded positions.
        let last = seq.values_at(&paths, &[37; 3]);
        for (l, v) in last.iter().enumerate() {
            let centre = &paths.inner.centre[2 * l..2 * l + 2];
            let expected: f64 = seq.position(37, l).iter().zip(centre).map(|(x, c)| 0.5 * (x - c) * (x - c)).sum();
            assert_eq!(*v, expected);
        }
    }

    #[test]
    fn no_paths_give_an_empty_history() {
        let paths = crate::testing::QuadraticPaths::with_centres(2, Vec::new());
        let seq = run_first_order(&paths, &[0.5, 0.5], 5, None, 0, |_, _, _, _| {});
        assert_eq!((seq.n_paths, seq.n_records, seq.positions.len(), seq.values.len()), (0, 0, 0, 0));
    }

    #[test]
    fn max_row_distance_takes_largest_row() {
        let a = [0.0, 0.0, 1.0, 1.0];
        let b = [0.3, 0.4, 1.0, 1.0];
        assert!((max_row_distance(&a, &b, 2) - 0.5).abs() < 1e-15);
    }
}

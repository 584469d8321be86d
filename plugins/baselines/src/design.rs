//! Space-filling designs in the unit cube: Owen-scrambled Sobol points (`sobol_burley`).
//!
//! `sobol_burley` gives at most 2¹⁶ points per sequence and at most 256 dimensions; each seed
//! is a statistically independent scrambled sequence. Values come as `f32` in `[0, 1)` (24
//! significant bits), which is far finer than any design needs.

/// Largest dimension a Sobol design supports.
pub const MAX_SOBOL_DIM: usize = sobol_burley::NUM_DIMENSIONS as usize;

/// Largest number of points of one Sobol sequence.
pub const MAX_SOBOL_POINTS: usize = 1 << 16;

/// Why a Sobol design cannot be produced.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum DesignError {
    /// The dimension is above what the generator supports.
    #[error("a Sobol design supports at most {MAX_SOBOL_DIM} dimensions, got {0}; use a random design instead")]
    TooManyDimensions(usize),
    /// The point index is past the end of the sequence.
    #[error("a Sobol sequence has at most {MAX_SOBOL_POINTS} points, point index {0} was asked for")]
    TooManyPoints(usize),
}

/// Folds a 64-bit seed into the 32-bit seed `sobol_burley` takes (a mixed fold, so seeds that
/// differ only in their high bits still give different sequences).
pub fn sobol_seed(seed: u64) -> u32 {
    let mut z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^= z >> 31;
    (z ^ (z >> 32)) as u32
}

/// Point `index` (0-based) of the scrambled Sobol sequence `seed` in `[0, 1)^d`, `d` values.
pub fn sobol_point(index: usize, dim: usize, seed: u32) -> Result<Vec<f64>, DesignError> {
    if dim > MAX_SOBOL_DIM {
        return Err(DesignError::TooManyDimensions(dim));
    }
    if index >= MAX_SOBOL_POINTS {
        return Err(DesignError::TooManyPoints(index));
    }
    Ok((0..dim).map(|j| f64::from(sobol_burley::sample(index as u32, j as u32, seed))).collect())
}

/// The first `m` points of the scrambled Sobol sequence `seed`, row-major `m×d`.
pub fn sobol_points(m: usize, dim: usize, seed: u32) -> Result<Vec<f64>, DesignError> {
    if dim > MAX_SOBOL_DIM {
        return Err(DesignError::TooManyDimensions(dim));
    }
    if m > MAX_SOBOL_POINTS {
        return Err(DesignError::TooManyPoints(m - 1));
    }
    let mut out = Vec::with_capacity(m * dim);
    for i in 0..m {
        for j in 0..dim {
            out.push(f64::from(sobol_burley::sample(i as u32, j as u32, seed)));
        }
    }
    Ok(out)
}

/// `m` independent uniform points in `[0, 1)^d`, row-major `m×d`.
pub fn uniform_points(m: usize, dim: usize, rng: &mut les_core::StreamRng) -> Vec<f64> {
    use rand::RngExt;
    (0..m * dim).map(|_| rng.random::<f64>()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sobol_is_stratified() {
        // The first 2^k points of a (scrambled) Sobol sequence put exactly one point in each
        // of the 2^k equal intervals of every single coordinate.
        let (m, d) = (64, 7);
        let pts = sobol_points(m, d, sobol_seed(3)).unwrap();
        for j in 0..d {
            let mut hit = vec![0usize; m];
            for i in 0..m {
                let v = pts[i * d + j];
                assert!((0.0..1.0).contains(&v));
                hit[(v * m as f64) as usize] += 1;
            }
            assert!(hit.iter().all(|&h| h == 1), "coordinate {j}: {hit:?}");
        }
        assert_eq!(sobol_point(5, d, sobol_seed(3)).unwrap(), pts[5 * d..6 * d].to_vec());
        assert_ne!(sobol_points(4, d, sobol_seed(4)).unwrap(), pts[..4 * d].to_vec());
    }

    #[test]
    fn sobol_limits_are_errors() {
        assert_eq!(sobol_point(0, 300, 1), Err(DesignError::TooManyDimensions(300)));
        assert_eq!(sobol_point(MAX_SOBOL_POINTS, 2, 1), Err(DesignError::TooManyPoints(MAX_SOBOL_POINTS)));
    }
}

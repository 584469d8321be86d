//! Stationary ARD kernels: squared exponential and Matérn-5/2, with the derivatives the GP,
//! the hyperparameter fit, the sample paths and the derivative GP need.
//!
//! Both kernels are functions of the scaled squared distance
//! `r² = Σ_i (x_i − x'_i)² / ℓ_i²`:
//!
//! | kind | `k(r)` | `g(r)` with `∇_x k = −g · (x − x') ⊘ ℓ²` | `h(r)` with `∂²k/∂x_i∂x'_j = g δ_ij/ℓ_j² − h r_i r_j/(ℓ_i² ℓ_j²)` |
//! |---|---|---|---|
//! | `se_ard` | `σ_f² exp(−r²/2)` | `k` | `k` |
//! | `matern52` | `σ_f² (1 + √5 r + 5r²/3) e^{−√5 r}` | `(5/3) σ_f² (1 + √5 r) e^{−√5 r}` | `(25/3) σ_f² e^{−√5 r}` |
//!
//! The derivative of `k` with respect to `log ℓ_i` is `g · (x_i − x'_i)² / ℓ_i²` for both.

use std::ops::Range;

use les_core::KernelKind;
use nalgebra::DMatrix;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

use crate::isa::Isa;
use crate::linalg::symmetric_minus_crossprod_par;
use crate::rff::exp_fast_with;

const SQRT5: f64 = 2.236_067_977_499_79;

/// Rows per parallel task when filling kernel matrices (fixed, so results do not depend on the
/// thread count).
const ROW_BLOCK: usize = 16;

/// An ARD kernel with its hyperparameters, in unit-cube coordinates.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Kernel {
    /// Kernel family.
    pub kind: KernelKind,
    /// Length scales ℓ, `d` values.
    pub lengthscales: Vec<f64>,
    /// Signal variance σ_f².
    pub signal_variance: f64,
}

/// Points prepared for filling kernel matrices: divided by the length scales, and also stored
/// input-major (`d×m`, one input of all points contiguous) for vectorized distance loops.
#[derive(Clone, Debug)]
pub struct ScaledPoints {
    row_major: Vec<f64>,
    input_major: Vec<f64>,
    len: usize,
    dim: usize,
}

impl ScaledPoints {
    /// Number of points `m`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether there are no points.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Scaled point `j` (`d`).
    pub fn point(&self, j: usize) -> &[f64] {
        &self.row_major[j * self.dim..(j + 1) * self.dim]
    }
}

impl Kernel {
    /// A kernel of `kind` with length scales `lengthscales` (`d`) and signal variance σ_f².
    pub fn new(kind: KernelKind, lengthscales: Vec<f64>, signal_variance: f64) -> Self {
        Self { kind, lengthscales, signal_variance }
    }

    /// Input dimension `d`.
    pub fn dim(&self) -> usize {
        self.lengthscales.len()
    }

    /// Scaled squared distance `r² = Σ ((a − b)/ℓ)²`.
    #[inline]
    pub fn scaled_sqdist(&self, a: &[f64], b: &[f64]) -> f64 {
        a.iter().zip(b).zip(&self.lengthscales).map(|((x, y), l)| ((x - y) / l).powi(2)).sum()
    }

    /// `k` as a function of `r²`.
    #[inline]
    pub fn k_of_r2(&self, r2: f64) -> f64 {
        match self.kind {
            KernelKind::SeArd => self.signal_variance * (-0.5 * r2).exp(),
            KernelKind::Matern52 => {
                let r = r2.max(0.0).sqrt();
                self.signal_variance * (1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * (-SQRT5 * r).exp()
            }
        }
    }

    /// `k` of every `r²` in `values`, in place: the branch-free
    /// [`exp_fast`](crate::rff::exp_fast) lets the loop vectorize (kernel matrices of a few
    /// thousand points are millions of exponentials). Compiled for AVX2/FMA (fused
    /// multiply-adds in the exponential) where the CPU has them, chosen at run time.
    pub fn k_of_r2_in_place(&self, values: &mut [f64]) {
        self.k_of_r2_in_place_isa(Isa::detected(), values);
    }

    /// [`Kernel::k_of_r2_in_place`] in the variant `isa`.
    pub(crate) fn k_of_r2_in_place_isa(&self, isa: Isa, values: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if isa.avx2_fma() {
            // SAFETY: `isa.avx2_fma()`: run-time detection found AVX2 and FMA on this CPU.
            unsafe { self.k_of_r2_in_place_avx2(values) };
            return;
        }
        if isa.portable_fused() {
            self.k_of_r2_in_place_with::<true>(values);
        } else {
            self.k_of_r2_in_place_with::<false>(values);
        }
    }

    /// [`Kernel::k_of_r2_in_place_with`] compiled for AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn k_of_r2_in_place_avx2(&self, values: &mut [f64]) {
        self.k_of_r2_in_place_with::<true>(values);
    }

    #[inline(always)]
    fn k_of_r2_in_place_with<const FMA: bool>(&self, values: &mut [f64]) {
        let exp_fast = exp_fast_with::<FMA>;
        let s2 = self.signal_variance;
        match self.kind {
            KernelKind::SeArd => values.iter_mut().for_each(|v| *v = s2 * exp_fast(-0.5 * *v)),
            KernelKind::Matern52 => values.iter_mut().for_each(|v| {
                let r2 = v.max(0.0);
                let r = r2.sqrt();
                *v = s2 * (1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * exp_fast(-SQRT5 * r);
            }),
        }
    }

    /// `(k, g)` as functions of `r²`, with `∇_x k(x, x') = −g · (x − x') ⊘ ℓ²`.
    #[inline]
    pub fn k_and_g_of_r2(&self, r2: f64) -> (f64, f64) {
        match self.kind {
            KernelKind::SeArd => {
                let k = self.signal_variance * (-0.5 * r2).exp();
                (k, k)
            }
            KernelKind::Matern52 => {
                let r = r2.max(0.0).sqrt();
                let e = self.signal_variance * (-SQRT5 * r).exp();
                ((1.0 + SQRT5 * r + 5.0 / 3.0 * r2) * e, 5.0 / 3.0 * (1.0 + SQRT5 * r) * e)
            }
        }
    }

    /// `(g, h)` as functions of `r²` (see the module table): the second cross-derivative is
    /// `∂²k/∂x_i∂x'_j = g δ_ij/ℓ_j² − h r_i r_j/(ℓ_i² ℓ_j²)`.
    #[inline]
    pub fn g_and_h_of_r2(&self, r2: f64) -> (f64, f64) {
        match self.kind {
            KernelKind::SeArd => {
                let k = self.signal_variance * (-0.5 * r2).exp();
                (k, k)
            }
            KernelKind::Matern52 => {
                let r = r2.max(0.0).sqrt();
                let e = self.signal_variance * (-SQRT5 * r).exp();
                (5.0 / 3.0 * (1.0 + SQRT5 * r) * e, 25.0 / 3.0 * e)
            }
        }
    }

    /// `k(a, b)` for two points.
    #[inline]
    pub fn eval(&self, a: &[f64], b: &[f64]) -> f64 {
        self.k_of_r2(self.scaled_sqdist(a, b))
    }

    /// Gradient `∇_a k(a, b)` written into `out` (`d`).
    pub fn grad_first(&self, a: &[f64], b: &[f64], out: &mut [f64]) {
        let (_, g) = self.k_and_g_of_r2(self.scaled_sqdist(a, b));
        for (((o, x), y), l) in out.iter_mut().zip(a).zip(b).zip(&self.lengthscales) {
            *o = -g * (x - y) / (l * l);
        }
    }

    /// Points `m×d` divided by the length scales (row-major).
    fn scaled(&self, a: &[f64]) -> Vec<f64> {
        let d = self.dim().max(1);
        let inv: Vec<f64> = self.lengthscales.iter().map(|l| 1.0 / l).collect();
        let mut out = a.to_vec();
        for row in out.chunks_mut(d) {
            for (v, s) in row.iter_mut().zip(&inv) {
                *v *= s;
            }
        }
        out
    }

    /// Row-major points `a` (`m×d`) prepared for [`Kernel::fill_column`].
    pub fn scale_points(&self, a: &[f64]) -> ScaledPoints {
        let d = self.dim().max(1);
        let len = a.len() / d;
        let row_major = self.scaled(a);
        let mut input_major = vec![0.0; len * d];
        for (r, row) in row_major.chunks(d).enumerate() {
            for (i, v) in row.iter().enumerate() {
                input_major[i * len + r] = *v;
            }
        }
        ScaledPoints { row_major, input_major, len, dim: d }
    }

    /// `k(a_r, b)` for the points `r ∈ rows` of `a`, written to `out` (`rows.len()`), where
    /// `b` is one point already divided by the length scales.
    ///
    /// Input by input over all rows (vectorizes); the same summation order as a per-pair loop
    /// (starting from the first input's term, which is `0 + t²` exactly), so `K(A, A)` is
    /// exactly symmetric and an entry does not depend on the rows filled with it.
    pub fn fill_column(&self, a: &ScaledPoints, rows: Range<usize>, b: &[f64], out: &mut [f64]) {
        self.fill_column_isa(Isa::detected(), a, rows, b, out);
    }

    /// [`Kernel::fill_column`] in the variant `isa`: the distance loop is compiled for AVX2
    /// too (twice the width; the same operations in the same order).
    pub(crate) fn fill_column_isa(&self, isa: Isa, a: &ScaledPoints, rows: Range<usize>, b: &[f64], out: &mut [f64]) {
        #[cfg(target_arch = "x86_64")]
        if isa.avx2_fma() {
            // SAFETY: `isa.avx2_fma()`: run-time detection found AVX2 and FMA on this CPU.
            unsafe { self.fill_column_avx2(a, rows, b, out) };
            return;
        }
        if isa.portable_fused() {
            self.fill_column_with::<true>(a, rows, b, out);
        } else {
            self.fill_column_with::<false>(a, rows, b, out);
        }
    }

    /// [`Kernel::fill_column_with`] compiled for AVX2 and FMA.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn fill_column_avx2(&self, a: &ScaledPoints, rows: Range<usize>, b: &[f64], out: &mut [f64]) {
        self.fill_column_with::<true>(a, rows, b, out);
    }

    #[inline(always)]
    fn fill_column_with<const FMA: bool>(&self, a: &ScaledPoints, rows: Range<usize>, b: &[f64], out: &mut [f64]) {
        let input = |i: usize| &a.input_major[i * a.len + rows.start..i * a.len + rows.end];
        match b.split_first() {
            None => out.fill(0.0),
            Some((b0, _)) => {
                for (v, x) in out.iter_mut().zip(input(0)) {
                    let t = x - b0;
                    *v = t * t;
                }
            }
        }
        for (i, bi) in b.iter().enumerate().skip(1) {
            for (v, x) in out.iter_mut().zip(input(i)) {
                let t = x - bi;
                *v += t * t;
            }
        }
        self.k_of_r2_in_place_with::<FMA>(out);
    }

    /// Rows `rows` of column `j` of the Gram matrix `K(A, A)` (see [`Kernel::gram`]), written
    /// to `out` (`rows.len()`).
    pub fn fill_gram_column(&self, a: &ScaledPoints, j: usize, rows: Range<usize>, out: &mut [f64]) {
        self.fill_column(a, rows.clone(), a.point(j), out);
        if rows.contains(&j) {
            out[j - rows.start] = self.signal_variance;
        }
    }

    /// Kernel matrix `K(A, B)` (`m_a×m_b`) of row-major point sets `a` (`m_a×d`) and `b`
    /// (`m_b×d`), computed pairwise on pre-scaled points (exact differences, no
    /// `‖a‖² + ‖b‖² − 2ab` cancellation), written column by column (nalgebra's layout),
    /// parallel over fixed column blocks.
    pub fn matrix(&self, a: &[f64], b: &[f64]) -> DMatrix<f64> {
        let (sa, sb) = (self.scale_points(a), self.scale_points(b));
        let ma = sa.len;
        let mut out = vec![0.0; ma * sb.len];
        if ma > 0 {
            out.par_chunks_mut(ROW_BLOCK * ma).enumerate().for_each(|(blk, chunk)| {
                for (c, col) in chunk.chunks_mut(ma).enumerate() {
                    self.fill_column(&sa, 0..ma, sb.point(blk * ROW_BLOCK + c), col);
                }
            });
        }
        DMatrix::from_vec(ma, sb.len, out)
    }

    /// The symmetric kernel matrix `K(A, A)` (`m×m`) of row-major points `a` (`m×d`). Exactly
    /// symmetric (`(x − y)² = (y − x)²` in floating point) with diagonal exactly σ_f².
    pub fn gram(&self, a: &[f64]) -> DMatrix<f64> {
        let points = self.scale_points(a);
        symmetric_minus_crossprod_par(points.len, None, |j, rows, out| self.fill_gram_column(&points, j, rows, out))
    }

    /// Prior variance `k(x, x) = σ_f²`.
    pub fn prior_variance(&self) -> f64 {
        self.signal_variance
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{avx2_fma_or_skip, test_variants};
    use les_numerics::fdcheck::FdCheck;

    #[test]
    fn kernel_matrices_of_every_variant() {
        // 37 × 23 points in d = 3 and 6: vector bodies and remainders of the distance loop.
        for d in [3, 6] {
            let a: Vec<f64> = (0..37 * d).map(|i| ((i * 37) % 101) as f64 / 101.0).collect();
            let b: Vec<f64> = (0..23 * d).map(|i| ((i * 53) % 97) as f64 / 97.0).collect();
            let lengthscales: Vec<f64> = (0..d).map(|i| 0.1 + 0.15 * i as f64).collect();
            for kind in [KernelKind::SeArd, KernelKind::Matern52] {
                let k = Kernel::new(kind, lengthscales.clone(), 1.7);
                let (sa, sb) = (k.scale_points(&a), k.scale_points(&b));
                let mut by_isa = Vec::new();
                for isa in test_variants() {
                    let mut out = vec![0.0; 37 * 23];
                    for (j, col) in out.chunks_mut(37).enumerate() {
                        k.fill_column_isa(isa, &sa, 0..37, sb.point(j), col);
                    }
                    for (c, v) in out.iter().enumerate() {
                        // The same r² (pairwise, in the loop's order) through the standard `exp`.
                        let (x, y) = (sa.point(c % 37), sb.point(c / 37));
                        let r2 = x.iter().zip(y).fold(0.0, |r2, (x, y)| r2 + (x - y) * (x - y));
                        let want = k.k_of_r2(r2);
                        // exp_fast's 4 ulp (its test) and the roundings of the kernel's factors.
                        assert!(
                            (v - want).abs() <= 8.0 * f64::EPSILON * want,
                            "{}, {kind:?}, d = {d}, entry {c}: {v} vs {want}",
                            isa.name()
                        );
                    }
                    by_isa.push((isa, out));
                }
                if avx2_fma_or_skip("AVX2 vs fused portable kernel matrix, bit for bit") {
                    let bits = |fused: bool| -> Vec<u64> {
                        let found = by_isa.iter().find(|r| if fused { r.0.portable_fused() } else { r.0.avx2_fma() });
                        found.expect("variant").1.iter().map(|v| v.to_bits()).collect()
                    };
                    assert_eq!(bits(false), bits(true), "{kind:?}, d = {d}");
                }
            }
        }
    }

    #[test]
    fn gram_from_the_upper_triangle_equals_the_full_matrix() {
        // 50 points: three whole blocks of 16 columns and a partial one.
        let pts: Vec<f64> = (0..50 * 3).map(|i| ((i * 37) % 101) as f64 / 101.0).collect();
        for k in kernels() {
            let mut full = k.matrix(&pts, &pts);
            for i in 0..50 {
                full[(i, i)] = k.signal_variance;
            }
            assert_eq!(k.gram(&pts), full, "{:?}", k.kind);
        }
    }

    #[test]
    fn matrix_has_the_bits_of_the_pairwise_sum() {
        // 1, 3 and 7 inputs: the first term alone, and with groups of four and a remainder.
        for d in [1, 3, 7] {
            let a: Vec<f64> = (0..20 * d).map(|i| ((i * 37) % 101) as f64 / 101.0).collect();
            let b: Vec<f64> = (0..7 * d).map(|i| ((i * 53) % 97) as f64 / 97.0).collect();
            let lengthscales: Vec<f64> = (0..d).map(|i| 0.3 + 0.2 * i as f64).collect();
            for kind in [KernelKind::SeArd, KernelKind::Matern52] {
                let k = Kernel::new(kind, lengthscales.clone(), 1.7);
                let scale =
                    |p: &[f64]| -> Vec<f64> { p.iter().zip(&k.lengthscales).map(|(x, l)| x * (1.0 / l)).collect() };
                let mut pairwise: Vec<f64> = (0..7 * 20)
                    .map(|c| {
                        let (i, j) = (c % 20, c / 20);
                        let (x, y) = (scale(&a[i * d..(i + 1) * d]), scale(&b[j * d..(j + 1) * d]));
                        x.iter().zip(&y).fold(0.0, |r2, (x, y)| r2 + (x - y) * (x - y))
                    })
                    .collect();
                k.k_of_r2_in_place(&mut pairwise);
                let matrix = k.matrix(&a, &b);
                assert!(matrix.iter().zip(&pairwise).all(|(x, y)| x.to_bits() == y.to_bits()), "{kind:?}, d = {d}");
            }
        }
    }

    fn kernels() -> Vec<Kernel> {
        vec![
            Kernel::new(KernelKind::SeArd, vec![0.3, 0.7, 1.3], 1.7),
            Kernel::new(KernelKind::Matern52, vec![0.3, 0.7, 1.3], 1.7),
        ]
    }

    #[test]
    fn gradient_matches_finite_differences() {
        let a = [0.2, 0.5, 0.9];
        let b = [0.4, 0.1, 0.3];
        let check = FdCheck { step: 1e-6, rel_tol: 0.0, abs_tol: 1e-7 };
        for k in kernels() {
            let mut g = [0.0; 3];
            k.grad_first(&a, &b, &mut g);
            check.check(&format!("{:?} ∇ₓk", k.kind), |x| k.eval(x, &b), &a, &g);
        }
    }

    #[test]
    fn second_cross_derivative_matches_finite_differences() {
        let a = [0.2, 0.5, 0.9];
        let b = [0.4, 0.1, 0.3];
        for k in kernels() {
            let r2 = k.scaled_sqdist(&a, &b);
            let (g, h) = k.g_and_h_of_r2(r2);
            let l = &k.lengthscales;
            for i in 0..3 {
                // Row i: d/dx'_j of ∇_{x,i} k.
                let analytic: Vec<f64> = (0..3)
                    .map(|j| {
                        let (ri, rj) = (a[i] - b[i], a[j] - b[j]);
                        let diagonal = if i == j { g / (l[j] * l[j]) } else { 0.0 };
                        diagonal - h * ri * rj / (l[i] * l[i] * l[j] * l[j])
                    })
                    .collect();
                let grad_i = |x: &[f64]| {
                    let mut out = [0.0; 3];
                    k.grad_first(&a, x, &mut out);
                    out[i]
                };
                FdCheck::new(1e-5, 1e-6).check(&format!("{:?} ∂²k/∂x_{i}∂x'", k.kind), grad_i, &b, &analytic);
            }
        }
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn gradient_matches_finite_differences_anywhere(
            a in proptest::collection::vec(0.0f64..1.0, 3),
            b in proptest::collection::vec(0.0f64..1.0, 3),
            ls in proptest::collection::vec(0.1f64..2.0, 3),
            matern in proptest::bool::ANY,
        ) {
            let kind = if matern { KernelKind::Matern52 } else { KernelKind::SeArd };
            let k = Kernel::new(kind, ls, 1.3);
            let mut g = [0.0; 3];
            k.grad_first(&a, &b, &mut g);
            let checked = FdCheck::new(1e-6, 1e-6).compare(&format!("{kind:?} ∇ₓk"), |x| k.eval(x, &b), &a, &g);
            proptest::prop_assert!(checked.is_ok(), "{:?}", checked);
        }
    }

    #[test]
    fn gram_is_symmetric_with_exact_diagonal() {
        let pts = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9];
        for k in kernels() {
            let g = k.gram(&pts);
            assert_eq!(g[(1, 1)], 1.7);
            assert_eq!(g[(0, 2)], g[(2, 0)]);
            assert!((g[(0, 1)] - k.eval(&pts[0..3], &pts[3..6])).abs() < 1e-15);
        }
    }
}

//! Random Fourier features (Rahimi & Recht 2007) for the stationary ARD kernels, reusable for
//! prior draws (the `gp_sample` objective) and for the prior part of posterior sample paths.
//!
//! For a kernel `k(x, x') = σ_f² κ((x − x') ⊘ ℓ)` with spectral density `p(ω)`,
//! `φ(x) = sqrt(2σ_f²/B) · cos(Ω (x ⊘ ℓ) + τ)` with rows `Ω_b ~ p` and `τ_b ~ U[0, 2π)` gives
//! `E[φ(x)ᵀφ(x')] = k(x, x')`; a prior draw is `f(x) = w·φ(x)` with `w ~ 𝒩(0, I_B)`.
//!
//! | kernel | `Ω_b` |
//! |---|---|
//! | `se_ard` | `z_b`, `z_b ~ 𝒩(0, I_d)` (Gaussian spectral density) |
//! | `matern52` | `z_b · sqrt(5 / u_b)`, `z_b ~ 𝒩(0, I_d)`, `u_b ~ χ²_5`: the multivariate Student-t with `2ν = 5` degrees of freedom, the spectral density of Matérn-ν with `ν = 5/2` |
//!
//! The cosines are evaluated with [`sincos`], a branch-free, vectorizable sine/cosine pair
//! (Cody–Waite reduction and the fdlibm kernel polynomials, a few ulp accurate for
//! `|x| < 1e5`, falling back to the standard library beyond).
//!
//! [`exp_fast`], [`sincos`] and [`sincos_reduced`] are the portable variants (a separate
//! multiply and add at each step: the same bits on every machine, fast without FMA). The
//! crate's own loops over them (kernel matrices, sample paths, [`RandomFeatures::features`])
//! run the fused variants (`mul_add`) in functions compiled for AVX2/FMA where the CPU has
//! them, chosen at run time (see `isa.rs`).

use les_core::{KernelKind, StreamRng};

use crate::isa::Isa;
use nalgebra::DMatrix;
use rand_distr::{ChiSquared, Distribution, StandardNormal, Uniform};

/// Default number of random features `B`.
pub const DEFAULT_FEATURES: usize = 1024;

/// Frequencies and phases of `B` random Fourier features for unit length scales.
#[derive(Clone, Debug)]
pub struct RandomFeatures {
    /// Kernel family the frequencies were drawn for.
    pub kind: KernelKind,
    /// Frequencies `Ω` for unit length scales, `B×d`.
    pub omega: DMatrix<f64>,
    /// Phases `τ`, `B`.
    pub tau: Vec<f64>,
}

impl RandomFeatures {
    /// Draws `b` features in dimension `d` for `kind` (first `Ω` row by row, then `τ`).
    pub fn sample(kind: KernelKind, d: usize, b: usize, rng: &mut StreamRng) -> Self {
        let mut rows = vec![0.0; b * d];
        let chi = ChiSquared::new(5.0).expect("invariant: 5 degrees of freedom are valid");
        for row in rows.chunks_mut(d.max(1)).take(b) {
            for v in row.iter_mut() {
                *v = StandardNormal.sample(rng);
            }
            if kind == KernelKind::Matern52 {
                let u: f64 = chi.sample(rng);
                let s = (5.0 / u).sqrt();
                row.iter_mut().for_each(|v| *v *= s);
            }
        }
        let omega = DMatrix::from_row_slice(b, d, &rows);
        let phase = Uniform::new(0.0, 2.0 * std::f64::consts::PI).expect("invariant: valid range");
        let tau = (0..b).map(|_| phase.sample(rng)).collect();
        Self { kind, omega, tau }
    }

    /// Number of features `B`.
    pub fn n_features(&self) -> usize {
        self.tau.len()
    }

    /// Input dimension `d`.
    pub fn dim(&self) -> usize {
        self.omega.ncols()
    }

    /// Feature matrix `Φ` (`B×m`, column `j` is `φ(x_j)`) of points `xs` (`m×d` row-major)
    /// for length scales `lengthscales` and signal variance `signal_variance`.
    pub fn features(&self, lengthscales: &[f64], signal_variance: f64, xs: &[f64]) -> DMatrix<f64> {
        let d = self.dim();
        let m = xs.len() / d.max(1);
        // Scaled points as columns: d×m.
        let xt = DMatrix::from_fn(d, m, |i, j| xs[j * d + i] / lengthscales[i]);
        let mut phi = &self.omega * xt;
        let amp = (2.0 * signal_variance / self.n_features() as f64).sqrt();
        scaled_cosines(Isa::detected(), phi.as_mut_slice(), &self.tau, amp);
        phi
    }
}

/// `v ← amp · cos(v + τ_b)` for every column of `phi` (`B` entries each, one per `τ_b`), in
/// the variant `isa`.
pub(crate) fn scaled_cosines(isa: Isa, phi: &mut [f64], tau: &[f64], amp: f64) {
    #[cfg(target_arch = "x86_64")]
    if isa.avx2_fma() {
        // SAFETY: `isa.avx2_fma()`: run-time detection found AVX2 and FMA on this CPU.
        unsafe { scaled_cosines_avx2(phi, tau, amp) };
        return;
    }
    if isa.portable_fused() {
        scaled_cosines_with::<true>(phi, tau, amp);
    } else {
        scaled_cosines_with::<false>(phi, tau, amp);
    }
}

/// [`scaled_cosines_with`] compiled for AVX2 and FMA.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn scaled_cosines_avx2(phi: &mut [f64], tau: &[f64], amp: f64) {
    scaled_cosines_with::<true>(phi, tau, amp);
}

/// A column at a time: the branch-free kernel where every phase is in its range (so the loop
/// vectorizes without calling the standard library's `cos` for every entry, which LLVM would
/// otherwise do to select between the two), [`sincos_with`] elsewhere.
#[inline(always)]
fn scaled_cosines_with<const FMA: bool>(phi: &mut [f64], tau: &[f64], amp: f64) {
    for col in phi.chunks_exact_mut(tau.len().max(1)) {
        let mut big = 0u64;
        for (v, t) in col.iter().zip(tau) {
            let x = v + t;
            big |= u64::from(x.abs() > SINCOS_FAST_LIMIT || x.is_nan());
        }
        if big == 0 {
            for (v, t) in col.iter_mut().zip(tau) {
                *v = amp * sincos_reduced_with::<FMA>(*v + t).1;
            }
        } else {
            for (v, t) in col.iter_mut().zip(tau) {
                *v = amp * sincos_with::<FMA>(*v + t).1;
            }
        }
    }
}

/// Arguments beyond this magnitude go to the standard library (the 3-part reduction of
/// [`sincos`] is accurate well past it).
pub const SINCOS_FAST_LIMIT: f64 = 1e5;

// The fdlibm constants are kept digit for digit as published.
#[allow(clippy::excessive_precision)]
mod consts {
    pub const FRAC_2_PI: f64 = std::f64::consts::FRAC_2_PI;
    // π/2 = PIO2_1 + PIO2_2 + PIO2_2T (fdlibm): PIO2_1 has 33 significant bits, so q·PIO2_1 is
    // exact for |q| < 2^20.
    pub const PIO2_1: f64 = 1.570_796_326_734_125_614_17e+00;
    pub const PIO2_2: f64 = 6.077_100_506_303_965_976_60e-11;
    pub const PIO2_2T: f64 = 2.022_266_248_795_950_631_54e-21;
    // ln 2 = LN2_HI + LN2_LO (fdlibm): k·LN2_HI is exact for |k| < 2^11.
    pub const LN2_HI: f64 = 6.931_471_803_691_238_164_90e-01;
    pub const LN2_LO: f64 = 1.908_214_929_270_587_700_02e-10;
    pub const ROUND_MAGIC: f64 = 6_755_399_441_055_744.0; // 1.5·2^52
    pub const S1: f64 = -1.666_666_666_666_663_243_48e-01;
    pub const S2: f64 = 8.333_333_333_322_489_461_24e-03;
    pub const S3: f64 = -1.984_126_982_985_794_931_34e-04;
    pub const S4: f64 = 2.755_731_370_707_006_767_89e-06;
    pub const S5: f64 = -2.505_076_025_340_686_341_95e-08;
    pub const S6: f64 = 1.589_690_995_211_550_102_21e-10;
    pub const C1: f64 = 4.166_666_666_666_660_190_37e-02;
    pub const C2: f64 = -1.388_888_888_887_410_957_49e-03;
    pub const C3: f64 = 2.480_158_728_947_672_941_78e-05;
    pub const C4: f64 = -2.755_731_435_139_066_330_35e-07;
    pub const C5: f64 = 2.087_572_321_298_174_827_90e-09;
    pub const C6: f64 = -1.135_964_755_778_819_482_65e-11;
}
use consts::*;

/// `a·b + c`: fused (`mul_add`, one rounding) when `FMA`, two roundings otherwise. The choice
/// is the caller's type parameter, never the build's target: `FMA = true` runs only in
/// functions compiled with `#[target_feature(enable = "avx2,fma")]` (where `mul_add` is one
/// `vfmadd`; elsewhere it would be a slow, though exact, software `fma` call) and in tests.
#[inline(always)]
pub(crate) fn madd<const FMA: bool>(a: f64, b: f64, c: f64) -> f64 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// `e^x` for `x ≤ 709`: branch-free so that loops over it vectorize (Cody–Waite reduction by
/// `ln 2`, degree-13 Taylor polynomial on `|r| ≤ ln2/2`, about 1 ulp). Arguments below −708
/// are clamped (the result is then ≈ 3e-308 instead of a smaller number or 0). The portable
/// variant (see the module docs).
#[inline(always)]
pub fn exp_fast(x: f64) -> f64 {
    exp_fast_with::<false>(x)
}

/// [`exp_fast`] with the polynomial's multiply-adds fused when `FMA` (see [`madd`]).
#[inline(always)]
pub(crate) fn exp_fast_with<const FMA: bool>(x: f64) -> f64 {
    const LOG2_E: f64 = std::f64::consts::LOG2_E;
    let x = x.clamp(-708.0, 709.0);
    let t = x * LOG2_E + ROUND_MAGIC;
    let k = t - ROUND_MAGIC;
    let r = (x - k * LN2_HI) - k * LN2_LO;
    let mut p = 1.0 / 6_227_020_800.0; // 1/13!
    for c in [
        1.0 / 479_001_600.0,
        1.0 / 39_916_800.0,
        1.0 / 3_628_800.0,
        1.0 / 362_880.0,
        1.0 / 40_320.0,
        1.0 / 5_040.0,
        1.0 / 720.0,
        1.0 / 120.0,
        1.0 / 24.0,
        1.0 / 6.0,
        0.5,
        1.0,
        1.0,
    ] {
        p = madd::<FMA>(p, r, c);
    }
    // 2^k from the low bits of t (= 2^51 + k); k + 1023 ∈ [2, 2046] after the clamp.
    let scale = f64::from_bits(t.to_bits().wrapping_add(1023) << 52);
    p * scale
}

/// Sum of a slice with four interleaved accumulators: a fixed order (deterministic), and
/// shorter dependency chains than a plain fold.
#[inline]
pub fn sum4(v: &[f64]) -> f64 {
    let mut a = [0.0f64; 4];
    let chunks = v.chunks_exact(4);
    let rem = chunks.remainder();
    for c in chunks {
        a[0] += c[0];
        a[1] += c[1];
        a[2] += c[2];
        a[3] += c[3];
    }
    let mut tail = 0.0;
    for x in rem {
        tail += x;
    }
    ((a[0] + a[1]) + (a[2] + a[3])) + tail
}

/// `(sin x, cos x)`: branch-free for `|x| ≤ SINCOS_FAST_LIMIT` so that loops over it
/// vectorize; the standard library beyond. The portable variant (see the module docs).
#[inline(always)]
pub fn sincos(x: f64) -> (f64, f64) {
    sincos_with::<false>(x)
}

/// [`sincos`] with fused multiply-adds when `FMA` (see [`madd`]).
#[inline(always)]
pub(crate) fn sincos_with<const FMA: bool>(x: f64) -> (f64, f64) {
    if x.abs() > SINCOS_FAST_LIMIT || x.is_nan() {
        return x.sin_cos();
    }
    sincos_reduced_with::<FMA>(x)
}

/// The branch-free kernel of [`sincos`]; callers guarantee `|x| ≤ SINCOS_FAST_LIMIT`. The
/// portable variant (see the module docs).
#[inline(always)]
pub fn sincos_reduced(x: f64) -> (f64, f64) {
    sincos_reduced_with::<false>(x)
}

/// [`sincos_reduced`] with fused multiply-adds when `FMA` (see [`madd`]).
#[inline(always)]
pub(crate) fn sincos_reduced_with<const FMA: bool>(x: f64) -> (f64, f64) {
    let m = madd::<FMA>;
    let t = x * FRAC_2_PI + ROUND_MAGIC;
    let q = t - ROUND_MAGIC;
    let quadrant = t.to_bits(); // low bits = q mod 4 (2^51 ≡ 0 mod 4)
    let r = m(-q, PIO2_2T, m(-q, PIO2_2, m(-q, PIO2_1, x)));
    let z = r * r;
    let ps = m(m(m(m(m(S6, z, S5), z, S4), z, S3), z, S2), z, S1);
    let sr = m(r * z, ps, r);
    let pc = m(m(m(m(m(C6, z, C5), z, C4), z, C3), z, C2), z, C1);
    let cr = m(z * z, pc, m(-0.5, z, 1.0));
    // Quadrant k: (sin, cos) = (s, c), (c, −s), (−s, −c), (−c, s).
    let swap = 0u64.wrapping_sub(quadrant & 1);
    let (sb, cb) = (sr.to_bits(), cr.to_bits());
    let sin_bits = (sb & !swap) | (cb & swap);
    let cos_bits = (cb & !swap) | (sb & swap);
    let sin_sign = (quadrant & 2) << 62;
    let cos_sign = (quadrant.wrapping_add(1) & 2) << 62;
    (f64::from_bits(sin_bits ^ sin_sign), f64::from_bits(cos_bits ^ cos_sign))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{avx2_fma_or_skip, test_variants};

    type SinCos = fn(f64) -> (f64, f64);

    /// The portable variant and the fused one (what the AVX2/FMA loops compute).
    const SINCOS: [(&str, SinCos); 2] = [("portable", sincos_with::<false>), ("fused", sincos_with::<true>)];

    #[test]
    fn sincos_matches_std() {
        for (name, sincos) in SINCOS {
            let mut worst: f64 = 0.0;
            let mut x = -2000.0;
            while x < 2000.0 {
                let (s, c) = sincos(x);
                worst = worst.max((s - x.sin()).abs()).max((c - x.cos()).abs());
                x += 0.0137;
            }
            assert!(worst < 1e-15, "{name}: worst error {worst}");
            for x in [0.0, -0.0, 1e-300, std::f64::consts::FRAC_PI_4, 3e4, -9.9e4, 2e5, -7e8] {
                let (s, c) = sincos(x);
                assert!((s - x.sin()).abs() < 1e-14 && (c - x.cos()).abs() < 1e-14, "{name}: x = {x}");
            }
        }
        assert_eq!(sincos(1.3).0.to_bits(), sincos_with::<false>(1.3).0.to_bits(), "the public one is portable");
    }

    #[test]
    fn exp_fast_matches_std() {
        for (name, exp) in [("portable", exp_fast_with::<false> as fn(f64) -> f64), ("fused", exp_fast_with::<true>)] {
            let mut x = -700.0;
            while x < 700.0 {
                let (a, b) = (exp(x), x.exp());
                assert!((a - b).abs() <= 4.0 * f64::EPSILON * b, "{name}: x = {x}: {a} vs {b}");
                x += 0.0731;
            }
            assert_eq!(exp(0.0), 1.0, "{name}");
            assert!(exp(-1e6) < 1e-307, "{name}");
        }
    }

    #[test]
    fn feature_cosines_of_every_variant() {
        // B = 37 features, 5 columns; phases up to ±3e5 in column 2, past SINCOS_FAST_LIMIT for
        // some (the other columns take the branch-free kernel throughout).
        let tau: Vec<f64> = (0..37).map(|b| 0.17 * b as f64).collect();
        let scale = |k: usize| if k / 37 == 2 && k.is_multiple_of(11) { 6e5 } else { 60.0 };
        let phases: Vec<f64> = (0..5 * 37).map(|k| ((k * 7919) % 1000) as f64 / 1000.0 * scale(k) - 0.5).collect();
        let amp = 0.7;
        let mut by_isa = Vec::new();
        for isa in test_variants() {
            let mut phi = phases.clone();
            scaled_cosines(isa, &mut phi, &tau, amp);
            for (k, v) in phi.iter().enumerate() {
                let want = amp * (phases[k] + tau[k % 37]).cos();
                assert!((v - want).abs() < 1e-14, "{}: entry {k}: {v} vs {want}", isa.name());
            }
            by_isa.push((isa, phi));
        }
        if avx2_fma_or_skip("AVX2 vs fused portable feature cosines, bit for bit") {
            let bits = |isa: &dyn Fn(crate::isa::Isa) -> bool| -> Vec<u64> {
                by_isa.iter().find(|r| isa(r.0)).expect("variant").1.iter().map(|v| v.to_bits()).collect()
            };
            assert_eq!(bits(&|i| i.avx2_fma()), bits(&|i| i.portable_fused()));
        }
    }

    #[test]
    fn sum4_sums() {
        let v: Vec<f64> = (1..=11).map(f64::from).collect();
        assert_eq!(sum4(&v), 66.0);
    }
}

//! The random-feature part of sample paths in single precision, for the inner optimizer's
//! descent (`path_precision: single`, the default of the `gp` surrogate).
//!
//! Why: an LES step runs `T = 500` gradient steps on `L = 250` paths with `B = 1024` features,
//! `1.3·10⁸` sine/cosine pairs, and that is most of its time. Eight `f32` lanes per AVX2
//! register instead of four `f64` ones, and a shorter polynomial for seven instead of sixteen
//! significant digits, make the pair about three times cheaper (1.2·10⁹ against 4.4·10⁸ per
//! second and core on the development machine). What the descent needs from a path is the
//! direction of its gradient, and the single-precision error — about `|θ|·2⁻²⁴` in each phase
//! `θ`, `√B·2⁻²⁴` relative in a sum — is many orders below the spread between sample paths.
//! The Matheron (kernel) part stays in double precision: its update weights can be large with
//! alternating signs (an ill-conditioned `K_XX`), where single precision would cancel badly.
//!
//! The kernel is fused per path: for each chunk of [`CHUNK`] features it forms the phases
//! `θ = Ω x̃ + τ` in registers, takes sine and cosine, and accumulates the value `Σ w cos θ`
//! and the gradient `Σ (w sin θ) Ω` lane by lane, so no `B×L` intermediate goes through
//! memory. Every sum has a fixed order, so results are the same for any thread count.
//!
//! A first-order descent needs only gradients, and [`SingleFeatures::gradients`] computes just
//! those: reduction by π instead of π/2 (`sin x = (−1)^q sin r` with `|r| ≤ π/2`), one odd
//! polynomial of degree 9, the sign folded into the weight. No cosine polynomial, no quadrant
//! swap, no value sum: about half the multiply-adds of the sine/cosine pair, and 0.65 against
//! 1.0 µs per path at `d = 5` (1.45 against 1.8 µs at `d = 20`) on the development machine.
//!
//! # Kernels
//! Two implementations of the same arithmetic, chosen at run time ([`kernel_name`] says which
//! runs): AVX2/FMA intrinsics (`avx2`, functions with `#[target_feature(enable = "avx2,fma")]`)
//! where `is_x86_feature_detected!` finds both features, and portable Rust
//! ([`SingleFeatures::accumulate_portable`]) elsewhere. The build's target does not matter: the
//! workspace builds for baseline x86-64, and the AVX2 kernel gives the same bits on every CPU
//! that has AVX2 and FMA, whatever machine compiled it. The portable source is generic over
//! fused multiply-adds: with them it gives the AVX2 kernel's bits (the same operations in the
//! same order; tested), and the portable kernel that runs on CPUs without FMA takes a separate
//! multiply and add instead (a software `fma` would be exact but very slow), so its results
//! differ in the last bits, within the rounding bounds of the tests.

use crate::isa::Isa;

/// Features per chunk of the fused kernel (eight AVX2 registers of `f32`: eight independent
/// multiply-add chains for the phases); `B` is padded to a multiple of it with zero weights and
/// zero frequencies, which contribute nothing.
pub const CHUNK: usize = 64;

/// Accumulator lanes of the sums (one AVX2 register of `f32`).
pub const LANES: usize = 8;

/// Phases beyond this magnitude take the double-precision sine and cosine: the reductions
/// below are accurate up to it (quadrant numbers below 2¹⁴, see `PIO2_2` and `PI_2`), and
/// the phase itself carries an error of `|θ|·2⁻²⁴` anyway.
pub const SINCOS_F32_FAST_LIMIT: f32 = 16_384.0;

/// `a·b + c`: fused (`mul_add`) when `FMA`, two roundings otherwise. The portable kernel runs
/// with `FMA = false`; `FMA = true` (a software `fma` outside an FMA context) is for the tests
/// that compare the portable source with the AVX2 kernel bit for bit.
#[inline(always)]
fn madd<const FMA: bool>(a: f32, b: f32, c: f32) -> f32 {
    if FMA { a.mul_add(b, c) } else { a * b + c }
}

/// Which kernel [`SingleFeatures::value_and_grad`] and [`SingleFeatures::gradients`] run on
/// this CPU: `"avx2-fma"` (the CPU has AVX2 and FMA, detected once at run time) or
/// `"portable"`. Nothing else (no environment variable, not the build's target) changes it.
pub fn kernel_name() -> &'static str {
    Isa::detected().name()
}

/// `1.5·2²³`: adding it rounds to an integer, kept in the low mantissa bits.
const ROUND_MAGIC: f32 = 12_582_912.0;
/// π/2 = PIO2_1 + PIO2_2 + PIO2_3 (the AVX2 kernel's split); PIO2_1 has 8 significant bits, so
/// `q·PIO2_1` is exact. With fused multiply-adds the other products need not be exact.
const PIO2_1: f32 = 1.570_312_5;
/// 11 significant bits: `q·PIO2_2` would not be exact for `q ≥ 2¹³` (|θ| ≳ 12868) without a
/// fused multiply-add (an error up to 2.6e-7 there), so the separate multiply-add of the
/// portable kernel takes [`PIO2_2_SEPARATE`] and [`PIO2_3_SEPARATE`] instead.
const PIO2_2: f32 = 4.837_513e-4;
const PIO2_3: f32 = 7.549_79e-8;
/// π/2 = PIO2_1 + PIO2_2_SEPARATE + PIO2_3_SEPARATE to 5e-15, with 9 significant bits in
/// PIO2_2_SEPARATE (`507·2⁻²⁰`): both `q·PIO2_1` and `q·PIO2_2_SEPARATE` are exact for
/// `q < 2¹⁵`, so only the last, small product rounds.
const PIO2_2_SEPARATE: f32 = 4.835_128_8e-4;
const PIO2_3_SEPARATE: f32 = 3.139_164_7e-7;
/// Cephes `sinf` on |r| ≤ π/4: `sin r ≈ r + r³(S1 + S2 r² + S3 r⁴)`.
const S1: f32 = -1.666_665_5e-1;
const S2: f32 = 8.332_161e-3;
const S3: f32 = -1.951_529_6e-4;
/// Cephes `cosf` on |r| ≤ π/4: `cos r ≈ 1 − r²/2 + r⁴(C1 + C2 r² + C3 r⁴)`.
const C1: f32 = 4.166_664_6e-2;
const C2: f32 = -1.388_731_6e-3;
const C3: f32 = 2.443_315_7e-5;

/// π = PI_FMA_1 + PI_FMA_2 to 2⁻⁴⁷: with a fused multiply-add `x − q·PI_FMA_1` is exact
/// before its one rounding, so two parts reduce as well as three.
const PI_FMA_1: f32 = std::f32::consts::PI;
const PI_FMA_2: f32 = -8.742_278e-8;
/// π = PI_1 + PI_2 + PI_3 without a fused multiply-add; PI_1 has 8 significant bits, so
/// `q·PI_1` is exact.
const PI_1: f32 = 3.140_625;
/// 11 significant bits: `q·PI_2` is exact for `q < 2¹³` (|θ| < 25735, past the fast limit).
const PI_2: f32 = 9.675_026e-4;
const PI_3: f32 = 1.509_958e-7;
/// Minimax odd polynomial of degree 9 for sine on |r| ≤ π/2 (absolute error 4.6e-9 with
/// exact coefficients, 1.7e-8 with these `f32` ones):
/// `sin r ≈ r + r³(SIN_1 + SIN_2 r² + SIN_3 r⁴ + SIN_4 r⁶)`.
const SIN_1: f32 = -1.666_665_7e-1;
const SIN_2: f32 = 8.333_017e-3;
const SIN_3: f32 = -1.980_661_5e-4;
const SIN_4: f32 = 2.600_054_6e-6;

/// `x − q·π` for an integer-valued `q` (see [`PI_FMA_1`] and [`PI_1`]).
#[inline(always)]
fn reduce_by_pi<const FMA: bool>(x: f32, q: f32) -> f32 {
    let m = madd::<FMA>;
    if FMA { m(-q, PI_FMA_2, m(-q, PI_FMA_1, x)) } else { m(-q, PI_3, m(-q, PI_2, m(-q, PI_1, x))) }
}

/// `sin x` in single precision for `|x| ≤ SINCOS_F32_FAST_LIMIT`, the kernel of the
/// gradient-only evaluation ([`SingleFeatures::gradients`]): reduction by π (`x = qπ + r`,
/// `|r| ≤ π/2`, `sin x = (−1)^q sin r`), so one polynomial serves every `x` and no quadrant
/// selects between sine and cosine. Absolute error below 1.7e-7 on that range (tested). The
/// portable kernel's arithmetic (separate multiply and add).
#[inline(always)]
pub fn sin_f32(x: f32) -> f32 {
    sin_f32_with::<false>(x)
}

/// [`sin_f32`], with fused multiply-adds when `FMA` (then the AVX2 `weighted_sin`'s bits).
#[inline(always)]
fn sin_f32_with<const FMA: bool>(x: f32) -> f32 {
    let m = madd::<FMA>;
    let t = m(x, std::f32::consts::FRAC_1_PI, ROUND_MAGIC);
    let q = t - ROUND_MAGIC;
    let r = reduce_by_pi::<FMA>(x, q);
    let z = r * r;
    let sr = m(r * z, m(m(m(SIN_4, z, SIN_3), z, SIN_2), z, SIN_1), r);
    // Bit 0 of q (2^22 is even) into the sign bit.
    f32::from_bits(sr.to_bits() ^ (t.to_bits() << 31))
}

/// `(sin x, cos x)` in single precision for `|x| ≤ SINCOS_F32_FAST_LIMIT`, branch-free so
/// that loops over it vectorize: Cody–Waite reduction by π/2 in three parts (the first two
/// with few enough significant bits that `q·part` is exact) and the Cephes `sinf`/`cosf`
/// polynomials on `|r| ≤ π/4`. Absolute error below 1.2e-7 on that range (tested). The
/// portable kernel's arithmetic (separate multiply and add).
#[inline(always)]
pub fn sincos_f32(x: f32) -> (f32, f32) {
    sincos_f32_with::<false>(x)
}

/// [`sincos_f32`], with fused multiply-adds when `FMA` (then the AVX2 `sincos`'s bits).
#[inline(always)]
fn sincos_f32_with<const FMA: bool>(x: f32) -> (f32, f32) {
    let m = madd::<FMA>;
    let t = m(x, std::f32::consts::FRAC_2_PI, ROUND_MAGIC);
    let q = t - ROUND_MAGIC;
    let quadrant = t.to_bits(); // low bits = q mod 4 (2^22 ≡ 0 mod 4)
    let (pio2_2, pio2_3) = if FMA { (PIO2_2, PIO2_3) } else { (PIO2_2_SEPARATE, PIO2_3_SEPARATE) };
    let r = m(-q, pio2_3, m(-q, pio2_2, m(-q, PIO2_1, x)));
    let z = r * r;
    let sr = m(r * z, m(m(S3, z, S2), z, S1), r);
    let cr = m(z * z, m(m(C3, z, C2), z, C1), m(-0.5, z, 1.0));
    // Quadrant k: (sin, cos) = (s, c), (c, −s), (−s, −c), (−c, s).
    let swap = 0u32.wrapping_sub(quadrant & 1);
    let (sb, cb) = (sr.to_bits(), cr.to_bits());
    let sin_bits = (sb & !swap) | (cb & swap);
    let cos_bits = (cb & !swap) | (sb & swap);
    let sin_sign = (quadrant & 2) << 30;
    let cos_sign = (quadrant.wrapping_add(1) & 2) << 30;
    (f32::from_bits(sin_bits ^ sin_sign), f32::from_bits(cos_bits ^ cos_sign))
}

/// Bytes of a cache line: where the kernel's arrays start.
const CACHE_LINE: usize = 64;

/// An `f32` array whose first element sits on a cache-line boundary. The kernel reads whole
/// 32-byte registers at multiples of 32 bytes from the start of its arrays; from a start at
/// 16 mod 64 (where the allocator puts large blocks) every other read straddles two lines,
/// which cost the gradient kernel a fifth of its time at `d = 20` (1.84 against 1.45 µs per
/// path). Over-allocates by one line and starts at the first aligned
/// element (no `unsafe`); a clone aligns its own copy.
#[derive(Debug)]
struct CacheAligned {
    buffer: Vec<f32>,
    start: usize,
    len: usize,
}

impl CacheAligned {
    /// `len` zeros.
    fn zeros(len: usize) -> Self {
        let buffer = vec![0.0f32; len + CACHE_LINE / size_of::<f32>()];
        // At most 15 elements for a 4-byte aligned pointer (`usize::MAX` where the offset
        // cannot be computed: then the array is merely unaligned).
        let start = buffer.as_ptr().align_offset(CACHE_LINE).min(CACHE_LINE / size_of::<f32>());
        Self { buffer, start, len }
    }
}

impl Clone for CacheAligned {
    fn clone(&self) -> Self {
        let mut copy = Self::zeros(self.len);
        copy.copy_from_slice(self);
        copy
    }
}

impl std::ops::Deref for CacheAligned {
    type Target = [f32];
    fn deref(&self) -> &[f32] {
        &self.buffer[self.start..self.start + self.len]
    }
}

impl std::ops::DerefMut for CacheAligned {
    fn deref_mut(&mut self) -> &mut [f32] {
        &mut self.buffer[self.start..self.start + self.len]
    }
}

/// Frequencies, phases and weights of a path set in single precision, padded to whole chunks,
/// each array starting on a cache line.
#[derive(Clone, Debug)]
pub struct SingleFeatures {
    dim: usize,
    /// Padded feature count (a multiple of [`CHUNK`]).
    padded: usize,
    /// `Ω` chunk by chunk: frequency `c·CHUNK + b` of input `i` at `(c·d + i)·CHUNK + b`.
    omega: CacheAligned,
    /// Phases `τ`, `padded`.
    tau: CacheAligned,
    /// Weights `W`, path `l`'s at `l·padded ..`.
    weights: CacheAligned,
}

/// Paths evaluated together by [`SingleFeatures::value_and_grad`]: their accumulators and one
/// chunk of `Ω` (`CHUNK·d` frequencies) stay in L1 while the chunk is used `GROUP` times, so
/// `Ω` crosses from L2 once per group rather than once per path.
pub const GROUP: usize = 8;

/// Scratch of one [`SingleFeatures::value_and_grad`] call for `GROUP` paths: value and
/// gradient accumulators ([`LANES`] each) and the scaled coordinates, plus room to start the
/// accumulators on a 32-byte boundary.
pub fn scratch_len(dim: usize) -> usize {
    GROUP * (LANES + dim * LANES + dim) + LANES
}

/// `scratch` from its first 32-byte aligned element (within the slack of [`scratch_len`]), so
/// that the accumulators of one register never straddle two cache lines.
fn aligned_scratch(scratch: &mut [f32]) -> &mut [f32] {
    let skip = scratch.as_ptr().align_offset(LANES * size_of::<f32>()).min(LANES - 1);
    &mut scratch[skip..]
}

impl SingleFeatures {
    /// Rounds `omega` (`B×d`, column-major), `tau` (`B`) and `weights` (`B×L`, column-major).
    pub fn new(omega: &[f64], tau: &[f64], weights: &[f64], dim: usize) -> Self {
        let b = tau.len();
        let padded = b.div_ceil(CHUNK) * CHUNK;
        let n_paths = weights.len() / b.max(1);
        let pad = |src: &[f64], cols: usize| {
            let mut out = CacheAligned::zeros(padded * cols);
            for (dst, col) in out.chunks_mut(padded).zip(src.chunks(b.max(1))) {
                for (o, v) in dst.iter_mut().zip(col) {
                    *o = *v as f32;
                }
            }
            out
        };
        // Chunk-major Ω: the `d` rows of a chunk are contiguous. Row-major over the padded
        // features would put a chunk's rows 4·padded bytes apart, all in the same L1 sets, and
        // past eight inputs they evict each other.
        let by_input = pad(omega, dim);
        let mut chunked = CacheAligned::zeros(padded * dim);
        for (c, block) in chunked.chunks_exact_mut((CHUNK * dim).max(1)).enumerate() {
            for (i, row) in block.chunks_exact_mut(CHUNK).enumerate() {
                row.copy_from_slice(&by_input[i * padded + c * CHUNK..i * padded + (c + 1) * CHUNK]);
            }
        }
        Self { dim, padded, omega: chunked, tau: pad(tau, 1), weights: pad(weights, n_paths) }
    }

    /// For the paths `first ..` (up to [`GROUP`] of them, one per row of `x_scaled`,
    /// `g×d`): `values[k] ← Σ_b W_{b,l} cos θ_b` with `θ = Ω x̃_k + τ`, and, when `grads` is not
    /// empty, `grads[k·d ..] ← −Σ_b W_{b,l} sin θ_b Ω_b` (scaled coordinates; the caller
    /// applies the amplitude). `scratch` has [`scratch_len`] entries.
    pub fn value_and_grad(
        &self,
        first: usize,
        x_scaled: &[f64],
        values: &mut [f64],
        grads: &mut [f64],
        scratch: &mut [f32],
    ) {
        self.evaluate(first, x_scaled, values, grads, scratch, Isa::detected());
    }

    /// The gradients alone, `grads[k·d ..] ← −Σ_b W_{b,l} sin θ_b Ω_b` for the paths `first ..`
    /// (up to [`GROUP`], one per row of `x_scaled`): what a first-order descent needs at each
    /// step. Sine only, so no cosine polynomial, no quadrant swap and no value sum; the
    /// arithmetic differs from [`SingleFeatures::value_and_grad`]'s gradient by rounding only.
    pub fn gradients(&self, first: usize, x_scaled: &[f64], grads: &mut [f64], scratch: &mut [f32]) {
        self.evaluate_gradients(first, x_scaled, grads, scratch, Isa::detected());
    }

    /// [`SingleFeatures::gradients`] with the kernel of `isa` (tests compare them).
    pub(crate) fn evaluate_gradients(
        &self,
        first: usize,
        x_scaled: &[f64],
        grads: &mut [f64],
        scratch: &mut [f32],
        isa: Isa,
    ) {
        let d = self.dim;
        let g = grads.len() / d.max(1);
        assert!(g <= GROUP && x_scaled.len() == g * d, "invariant: at most GROUP paths, x and grads are g×d");
        let (grad_lanes, x) = aligned_scratch(scratch)[GROUP * LANES..].split_at_mut(g * d * LANES);
        let x = &mut x[..g * d];
        for (o, v) in x.iter_mut().zip(x_scaled) {
            *o = *v as f32;
        }
        grad_lanes.fill(0.0);
        self.accumulate_gradients(isa, first, x, grad_lanes);
        for (gr, lanes) in grads.iter_mut().zip(grad_lanes.chunks_exact(LANES)) {
            *gr = -sum_lanes(lanes);
        }
    }

    /// [`SingleFeatures::value_and_grad`] with the kernel of `isa` (tests compare them).
    pub(crate) fn evaluate(
        &self,
        first: usize,
        x_scaled: &[f64],
        values: &mut [f64],
        grads: &mut [f64],
        scratch: &mut [f32],
        isa: Isa,
    ) {
        let d = self.dim;
        let g = values.len();
        assert!(g <= GROUP && x_scaled.len() == g * d, "invariant: at most GROUP paths, x is g×d");
        let (value_lanes, rest) = aligned_scratch(scratch).split_at_mut(g * LANES);
        let (grad_lanes, x) = rest.split_at_mut(g * d * LANES);
        let x = &mut x[..g * d];
        for (o, v) in x.iter_mut().zip(x_scaled) {
            *o = *v as f32;
        }
        value_lanes.fill(0.0);
        grad_lanes.fill(0.0);
        let want_grad = !grads.is_empty();
        self.accumulate(isa, first, x, value_lanes, grad_lanes, want_grad);
        for (v, lanes) in values.iter_mut().zip(value_lanes.chunks_exact(LANES)) {
            *v = sum_lanes(lanes);
        }
        for (gr, lanes) in grads.iter_mut().zip(grad_lanes.chunks_exact(LANES)) {
            *gr = -sum_lanes(lanes);
        }
    }

    /// Frequencies of the chunk starting at feature `start`, `d` runs of [`CHUNK`] (input by
    /// input): one bounds check for the chunk instead of one per input.
    #[inline(always)]
    fn omega_block(&self, start: usize) -> &[f32] {
        &self.omega[start * self.dim..(start + CHUNK) * self.dim]
    }

    /// Frequencies of input `i` for the chunk starting at feature `start`.
    #[inline(always)]
    fn omega_chunk(&self, i: usize, start: usize) -> &[f32; CHUNK] {
        let at = start * self.dim + i * CHUNK;
        self.omega[at..at + CHUNK].try_into().expect("invariant: CHUNK lanes")
    }

    /// Weights of path `l` for the chunk starting at feature `start`.
    #[inline(always)]
    fn weight_chunk(&self, l: usize, start: usize) -> &[f32; CHUNK] {
        let at = l * self.padded + start;
        self.weights[at..at + CHUNK].try_into().expect("invariant: CHUNK lanes")
    }

    /// Phases `θ = Ω x̃ + τ` of the chunk from feature `start` for one path at `xk` (`d`), in
    /// the portable kernels (the AVX2 ones have their own, same order of operations).
    #[inline(always)]
    fn phases<const FMA: bool>(&self, start: usize, xk: &[f32]) -> [f32; CHUNK] {
        let mut theta: [f32; CHUNK] = self.tau[start..start + CHUNK].try_into().expect("invariant: CHUNK lanes");
        for (i, xi) in xk.iter().enumerate() {
            let om = self.omega_chunk(i, start);
            for b in 0..CHUNK {
                theta[b] = madd::<FMA>(om[b], *xi, theta[b]);
            }
        }
        theta
    }

    /// [`SingleFeatures::accumulate_portable`] or the AVX2 kernel, as `isa` says.
    fn accumulate(
        &self,
        isa: Isa,
        first: usize,
        x: &[f32],
        value_lanes: &mut [f32],
        grad_lanes: &mut [f32],
        want_grad: bool,
    ) {
        #[cfg(target_arch = "x86_64")]
        if isa.avx2_fma() {
            // SAFETY: `isa.avx2_fma()`: run-time detection found AVX2 and FMA on this CPU.
            unsafe { avx2::accumulate(self, first, x, value_lanes, grad_lanes, want_grad) };
            return;
        }
        if isa.portable_fused() {
            self.accumulate_portable_with::<true>(first, x, value_lanes, grad_lanes, want_grad);
        } else {
            self.accumulate_portable_with::<false>(first, x, value_lanes, grad_lanes, want_grad);
        }
    }

    /// [`SingleFeatures::accumulate_gradients_portable`] or the AVX2 kernel, as `isa` says.
    fn accumulate_gradients(&self, isa: Isa, first: usize, x: &[f32], grad_lanes: &mut [f32]) {
        #[cfg(target_arch = "x86_64")]
        if isa.avx2_fma() {
            // SAFETY: `isa.avx2_fma()`: run-time detection found AVX2 and FMA on this CPU.
            unsafe { avx2::accumulate_gradients(self, first, x, grad_lanes) };
            return;
        }
        if isa.portable_fused() {
            self.accumulate_gradients_portable_with::<true>(first, x, grad_lanes);
        } else {
            self.accumulate_gradients_portable_with::<false>(first, x, grad_lanes);
        }
    }

    /// The kernel in plain Rust that LLVM vectorizes: for the `g = x.len() / d` paths from
    /// `first`, adds `W cos θ` to `value_lanes[k·LANES ..]` and `W sin θ Ω_i` to
    /// `grad_lanes[(k·d + i)·LANES ..]`, chunk by chunk. What CPUs without AVX2 or FMA run
    /// (separate multiply and add); the same source with fused multiply-adds gives the AVX2
    /// kernel's bits.
    pub fn accumulate_portable(
        &self,
        first: usize,
        x: &[f32],
        value_lanes: &mut [f32],
        grad_lanes: &mut [f32],
        want_grad: bool,
    ) {
        self.accumulate_portable_with::<false>(first, x, value_lanes, grad_lanes, want_grad);
    }

    #[inline(always)]
    fn accumulate_portable_with<const FMA: bool>(
        &self,
        first: usize,
        x: &[f32],
        value_lanes: &mut [f32],
        grad_lanes: &mut [f32],
        want_grad: bool,
    ) {
        let m = madd::<FMA>;
        let d = self.dim;
        for start in (0..self.padded).step_by(CHUNK) {
            for (k, (xk, value)) in x.chunks_exact(d.max(1)).zip(value_lanes.chunks_exact_mut(LANES)).enumerate() {
                let w = self.weight_chunk(first + k, start);
                let theta = self.phases::<FMA>(start, xk);
                let (mut sin, cos) = if in_fast_range(&theta) {
                    let mut sin = [0.0f32; CHUNK];
                    let mut cos = [0.0f32; CHUNK];
                    for b in 0..CHUNK {
                        (sin[b], cos[b]) = sincos_f32_with::<FMA>(theta[b]);
                    }
                    (sin, cos)
                } else {
                    sincos_chunk_exact(&theta)
                };
                // Value: the chunk's `W cos θ` folded into LANES accumulators, then added to the
                // path's lanes; `sin` becomes `W sin θ`.
                for b in 0..CHUNK {
                    sin[b] *= w[b];
                }
                let mut chunk_value = [0.0f32; LANES];
                for j in (0..CHUNK).step_by(LANES) {
                    for b in 0..LANES {
                        chunk_value[b] = m(w[j + b], cos[j + b], chunk_value[b]);
                    }
                }
                for (v, c) in value.iter_mut().zip(&chunk_value) {
                    *v += c;
                }
                if want_grad {
                    let lanes_k = &mut grad_lanes[k * d * LANES..(k + 1) * d * LANES];
                    for (i, lanes) in lanes_k.chunks_exact_mut(LANES).enumerate() {
                        let om = self.omega_chunk(i, start);
                        // The first register's product, then multiply-adds (as the AVX2 kernel).
                        let mut acc: [f32; LANES] = std::array::from_fn(|b| sin[b] * om[b]);
                        for j in (LANES..CHUNK).step_by(LANES) {
                            for b in 0..LANES {
                                acc[b] = m(sin[j + b], om[j + b], acc[b]);
                            }
                        }
                        for (gl, a) in lanes.iter_mut().zip(&acc) {
                            *gl += a;
                        }
                    }
                }
            }
        }
    }

    /// The gradient-only kernel in plain Rust: adds `W sin θ Ω_i` to
    /// `grad_lanes[(k·d + i)·LANES ..]` for the `g = x.len() / d` paths from `first`. What CPUs
    /// without AVX2 or FMA run (separate multiply and add); the same source with fused
    /// multiply-adds gives the AVX2 kernel's bits.
    pub fn accumulate_gradients_portable(&self, first: usize, x: &[f32], grad_lanes: &mut [f32]) {
        self.accumulate_gradients_portable_with::<false>(first, x, grad_lanes);
    }

    #[inline(always)]
    fn accumulate_gradients_portable_with<const FMA: bool>(&self, first: usize, x: &[f32], grad_lanes: &mut [f32]) {
        let d = self.dim;
        for start in (0..self.padded).step_by(CHUNK) {
            for (k, xk) in x.chunks_exact(d.max(1)).enumerate() {
                let w = self.weight_chunk(first + k, start);
                let mut theta = self.phases::<FMA>(start, xk);
                // `theta` becomes `W sin θ`.
                if in_fast_range(&theta) {
                    for b in 0..CHUNK {
                        theta[b] = w[b] * sin_f32_with::<FMA>(theta[b]);
                    }
                } else {
                    let sin = sin_chunk_exact(&theta);
                    for b in 0..CHUNK {
                        theta[b] = w[b] * sin[b];
                    }
                }
                let lanes_k = &mut grad_lanes[k * d * LANES..(k + 1) * d * LANES];
                for (i, lanes) in lanes_k.chunks_exact_mut(LANES).enumerate() {
                    let om = self.omega_chunk(i, start);
                    let (even, odd) = gradient_sums::<FMA>(&theta, om);
                    for b in 0..LANES {
                        lanes[b] += even[b] + odd[b];
                    }
                }
            }
        }
    }
}

/// Whether every phase of a chunk is within [`SINCOS_F32_FAST_LIMIT`] (false for NaN).
#[inline(always)]
fn in_fast_range(theta: &[f32; CHUNK]) -> bool {
    theta.iter().all(|t| t.abs() <= SINCOS_F32_FAST_LIMIT)
}

/// `Σ_j s_j ⊙ om_j` over the [`LANES`]-wide registers `j` of a chunk, in two interleaved
/// accumulators (even and odd `j`): two independent multiply-add chains instead of one.
#[inline(always)]
fn gradient_sums<const FMA: bool>(s: &[f32; CHUNK], om: &[f32; CHUNK]) -> ([f32; LANES], [f32; LANES]) {
    let mut even = [0.0f32; LANES];
    let mut odd = [0.0f32; LANES];
    for b in 0..LANES {
        even[b] = s[b] * om[b];
        odd[b] = s[LANES + b] * om[LANES + b];
    }
    for j in (2 * LANES..CHUNK).step_by(2 * LANES) {
        for b in 0..LANES {
            even[b] = madd::<FMA>(s[j + b], om[j + b], even[b]);
            odd[b] = madd::<FMA>(s[j + LANES + b], om[j + LANES + b], odd[b]);
        }
    }
    (even, odd)
}

/// Sum of [`LANES`] lanes in double precision, pairwise in a fixed order.
#[inline]
fn sum_lanes(lanes: &[f32]) -> f64 {
    let mut v = [0.0f64; LANES];
    for (o, l) in v.iter_mut().zip(lanes) {
        *o = f64::from(*l);
    }
    let mut width = LANES;
    while width > 1 {
        width /= 2;
        for k in 0..width {
            v[k] += v[k + width];
        }
    }
    v[0]
}

/// Sine of a chunk through `f64`, for phases beyond [`SINCOS_F32_FAST_LIMIT`] (or NaN).
#[cold]
fn sin_chunk_exact(theta: &[f32; CHUNK]) -> [f32; CHUNK] {
    std::array::from_fn(|k| f64::from(theta[k]).sin() as f32)
}

/// Sine and cosine of a chunk through `f64`, for phases beyond [`SINCOS_F32_FAST_LIMIT`] (or
/// NaN).
#[cold]
fn sincos_chunk_exact(theta: &[f32; CHUNK]) -> ([f32; CHUNK], [f32; CHUNK]) {
    let mut sin = [0.0f32; CHUNK];
    let mut cos = [0.0f32; CHUNK];
    for k in 0..CHUNK {
        let (s, c) = f64::from(theta[k]).sin_cos();
        (sin[k], cos[k]) = (s as f32, c as f32);
    }
    (sin, cos)
}

/// The kernel with AVX2/FMA intrinsics: the same arithmetic as
/// [`SingleFeatures::accumulate_portable`] with fused multiply-adds, with the chunk's eight
/// phase registers, the sine/cosine temporaries and the accumulators placed by hand (LLVM's
/// version of the portable loop spills the chunk arrays to the stack). Every function has
/// `#[target_feature(enable = "avx2,fma")]`: callers outside the module call them only where
/// run-time detection found both features ([`Isa::avx2_fma`]).
#[cfg(target_arch = "x86_64")]
mod avx2 {
    use std::arch::x86_64::*;

    use super::{
        C1, C2, C3, CHUNK, LANES, PI_FMA_1, PI_FMA_2, PIO2_1, PIO2_2, PIO2_3, ROUND_MAGIC, S1, S2, S3, SIN_1, SIN_2,
        SIN_3, SIN_4, SINCOS_F32_FAST_LIMIT, SingleFeatures, sin_chunk_exact, sincos_chunk_exact,
    };

    const REGS: usize = CHUNK / LANES;

    /// Lanes `8j .. 8j + 8` of `s`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn load(s: &[f32], j: usize) -> __m256 {
        assert!(s.len() >= (j + 1) * LANES, "invariant: a whole register of lanes");
        // SAFETY: lanes `8j .. 8j + 8` lie inside `s` (checked above).
        unsafe { _mm256_loadu_ps(s.as_ptr().add(j * LANES)) }
    }

    /// `s += v` for one register's worth of lanes.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn add_into(s: &mut [f32], v: __m256) {
        assert!(s.len() == LANES, "invariant: one register of lanes");
        // SAFETY: `s` has exactly LANES = 8 entries (checked above).
        unsafe { _mm256_storeu_ps(s.as_mut_ptr(), _mm256_add_ps(_mm256_loadu_ps(s.as_ptr()), v)) }
    }

    /// Phases `θ = Ω x̃ + τ` of the chunk from feature `start` for one path at `xk` (`d`), as
    /// `[__m256; REGS]`. A macro rather than a function: `#[inline(always)]` cannot go with
    /// `#[target_feature]`, and LLVM's cost model for baseline x86-64 leaves a function out of
    /// line here (a call and the eight registers through memory per chunk and path).
    ///
    /// The inputs go four at a time (then one at a time), in order: the same operations as
    /// one loop, which LLVM unrolls like this only when tuning for a specific CPU.
    macro_rules! phases {
        ($f:expr, $start:expr, $xk:expr) => {{
            let (f, start, xk): (&SingleFeatures, usize, &[f32]) = ($f, $start, $xk);
            let tau = &f.tau[start..start + CHUNK];
            let mut theta: [__m256; REGS] = std::array::from_fn(|j| load(tau, j));
            let omega = f.omega_block(start);
            let (om4, xk4) = (omega.chunks_exact(4 * CHUNK), xk.chunks_exact(4));
            let (om_rest, xk_rest) = (om4.remainder(), xk4.remainder());
            for (om, x4) in om4.zip(xk4) {
                let xb: [__m256; 4] = std::array::from_fn(|i| _mm256_set1_ps(x4[i]));
                for (j, t) in theta.iter_mut().enumerate() {
                    *t = _mm256_fmadd_ps(load(om, j), xb[0], *t);
                    *t = _mm256_fmadd_ps(load(om, REGS + j), xb[1], *t);
                    *t = _mm256_fmadd_ps(load(om, 2 * REGS + j), xb[2], *t);
                    *t = _mm256_fmadd_ps(load(om, 3 * REGS + j), xb[3], *t);
                }
            }
            for (om, xi) in om_rest.chunks_exact(CHUNK).zip(xk_rest) {
                let xb = _mm256_set1_ps(*xi);
                for (j, t) in theta.iter_mut().enumerate() {
                    *t = _mm256_fmadd_ps(load(om, j), xb, *t);
                }
            }
            theta
        }};
    }

    /// Whether every phase is within [`SINCOS_F32_FAST_LIMIT`] (false for NaN: the ordered
    /// comparison fails).
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    fn in_fast_range(theta: &[__m256; REGS]) -> bool {
        let limit = _mm256_set1_ps(SINCOS_F32_FAST_LIMIT);
        let abs_mask = _mm256_castsi256_ps(_mm256_set1_epi32(0x7fff_ffff));
        let mut inside = _mm256_castsi256_ps(_mm256_set1_epi32(-1));
        for t in theta {
            inside = _mm256_and_ps(inside, _mm256_cmp_ps::<_CMP_LE_OQ>(_mm256_and_ps(*t, abs_mask), limit));
        }
        _mm256_movemask_ps(inside) == 0xff
    }

    /// The chunk's phases as an array, for the double-precision fallback.
    #[cold]
    #[target_feature(enable = "avx2,fma")]
    fn spill(theta: &[__m256; REGS]) -> [f32; CHUNK] {
        let mut th = [0.0f32; CHUNK];
        for (j, t) in theta.iter().enumerate() {
            // SAFETY: lanes 8j .. 8j + 8 of a CHUNK-long array, j < REGS.
            unsafe { _mm256_storeu_ps(th.as_mut_ptr().add(j * LANES), *t) };
        }
        th
    }

    /// `(sin v, cos v)` lane by lane, as [`super::sincos_f32`].
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn sincos(v: __m256) -> (__m256, __m256) {
        let t = _mm256_fmadd_ps(v, _mm256_set1_ps(std::f32::consts::FRAC_2_PI), _mm256_set1_ps(ROUND_MAGIC));
        let q = _mm256_sub_ps(t, _mm256_set1_ps(ROUND_MAGIC));
        let r = _mm256_fnmadd_ps(q, _mm256_set1_ps(PIO2_1), v);
        let r = _mm256_fnmadd_ps(q, _mm256_set1_ps(PIO2_2), r);
        let r = _mm256_fnmadd_ps(q, _mm256_set1_ps(PIO2_3), r);
        let z = _mm256_mul_ps(r, r);
        let ps = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(S3), z, _mm256_set1_ps(S2)), z, _mm256_set1_ps(S1));
        let sr = _mm256_fmadd_ps(_mm256_mul_ps(r, z), ps, r);
        let pc = _mm256_fmadd_ps(_mm256_fmadd_ps(_mm256_set1_ps(C3), z, _mm256_set1_ps(C2)), z, _mm256_set1_ps(C1));
        let cr =
            _mm256_fmadd_ps(_mm256_mul_ps(z, z), pc, _mm256_fnmadd_ps(_mm256_set1_ps(0.5), z, _mm256_set1_ps(1.0)));
        let quadrant = _mm256_castps_si256(t);
        // Bit 0 of the quadrant into the sign bit selects (c, s) over (s, c).
        let swap = _mm256_castsi256_ps(_mm256_slli_epi32::<31>(quadrant));
        let sin = _mm256_blendv_ps(sr, cr, swap);
        let cos = _mm256_blendv_ps(cr, sr, swap);
        let two = _mm256_set1_epi32(2);
        let sin_sign = _mm256_slli_epi32::<30>(_mm256_and_si256(quadrant, two));
        let cos_sign = _mm256_slli_epi32::<30>(_mm256_and_si256(_mm256_add_epi32(quadrant, _mm256_set1_epi32(1)), two));
        (_mm256_xor_ps(sin, _mm256_castsi256_ps(sin_sign)), _mm256_xor_ps(cos, _mm256_castsi256_ps(cos_sign)))
    }

    /// `w · sin v` lane by lane, as `w * super::sin_f32(v)`: the sign `(−1)^q` goes onto `w`.
    #[inline]
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn weighted_sin(v: __m256, w: __m256) -> __m256 {
        let t = _mm256_fmadd_ps(v, _mm256_set1_ps(std::f32::consts::FRAC_1_PI), _mm256_set1_ps(ROUND_MAGIC));
        let q = _mm256_sub_ps(t, _mm256_set1_ps(ROUND_MAGIC));
        let r = _mm256_fnmadd_ps(q, _mm256_set1_ps(PI_FMA_1), v);
        let r = _mm256_fnmadd_ps(q, _mm256_set1_ps(PI_FMA_2), r);
        let z = _mm256_mul_ps(r, r);
        let p = _mm256_fmadd_ps(_mm256_set1_ps(SIN_4), z, _mm256_set1_ps(SIN_3));
        let p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(SIN_2));
        let p = _mm256_fmadd_ps(p, z, _mm256_set1_ps(SIN_1));
        let sr = _mm256_fmadd_ps(_mm256_mul_ps(r, z), p, r);
        let sign = _mm256_castsi256_ps(_mm256_slli_epi32::<31>(_mm256_castps_si256(t)));
        _mm256_mul_ps(_mm256_xor_ps(w, sign), sr)
    }

    /// See [`SingleFeatures::accumulate_gradients_portable`]. The CPU must support AVX2 and
    /// FMA (the caller's `unsafe` block checks [`super::Isa::avx2_fma`]).
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn accumulate_gradients(f: &SingleFeatures, first: usize, x: &[f32], grad_lanes: &mut [f32]) {
        let p = f.padded;
        let d = f.dim;
        let g = x.len() / d.max(1);
        assert!(grad_lanes.len() == g * d * LANES, "invariant: lanes g·d·LANES");
        for start in (0..p).step_by(CHUNK) {
            for k in 0..g {
                let w = f.weight_chunk(first + k, start);
                let mut theta = phases!(f, start, &x[k * d..(k + 1) * d]);
                // `theta` becomes `W sin θ`.
                if in_fast_range(&theta) {
                    for (j, t) in theta.iter_mut().enumerate() {
                        *t = weighted_sin(*t, load(w, j));
                    }
                } else {
                    let sin = sin_chunk_exact(&spill(&theta));
                    for (j, t) in theta.iter_mut().enumerate() {
                        *t = _mm256_mul_ps(load(w, j), load(&sin, j));
                    }
                }
                // Two interleaved accumulators per input, as `super::gradient_sums`.
                let lanes_k = &mut grad_lanes[k * d * LANES..(k + 1) * d * LANES];
                for (om, lanes) in f.omega_block(start).chunks_exact(CHUNK).zip(lanes_k.chunks_exact_mut(LANES)) {
                    let mut even = _mm256_mul_ps(theta[0], load(om, 0));
                    let mut odd = _mm256_mul_ps(theta[1], load(om, 1));
                    for j in (2..REGS).step_by(2) {
                        even = _mm256_fmadd_ps(theta[j], load(om, j), even);
                        odd = _mm256_fmadd_ps(theta[j + 1], load(om, j + 1), odd);
                    }
                    add_into(lanes, _mm256_add_ps(even, odd));
                }
            }
        }
    }

    /// See [`SingleFeatures::accumulate_portable`]. The CPU must support AVX2 and FMA (the
    /// caller's `unsafe` block checks [`super::Isa::avx2_fma`]).
    #[target_feature(enable = "avx2,fma")]
    pub(super) fn accumulate(
        f: &SingleFeatures,
        first: usize,
        x: &[f32],
        value_lanes: &mut [f32],
        grad_lanes: &mut [f32],
        want_grad: bool,
    ) {
        let p = f.padded;
        let d = f.dim;
        let g = value_lanes.len() / LANES;
        assert!(x.len() == g * d && grad_lanes.len() == g * d * LANES, "invariant: x is g×d, lanes g·d·LANES");
        for start in (0..p).step_by(CHUNK) {
            for k in 0..g {
                let w = f.weight_chunk(first + k, start);
                let mut theta = phases!(f, start, &x[k * d..(k + 1) * d]);
                // Value `Σ W cos θ`; `theta` becomes `W sin θ`.
                let mut value = _mm256_setzero_ps();
                if in_fast_range(&theta) {
                    for (j, t) in theta.iter_mut().enumerate() {
                        let (sin, cos) = sincos(*t);
                        let wj = load(w, j);
                        value = _mm256_fmadd_ps(wj, cos, value);
                        *t = _mm256_mul_ps(wj, sin);
                    }
                } else {
                    let (sin, cos) = sincos_chunk_exact(&spill(&theta));
                    for (j, t) in theta.iter_mut().enumerate() {
                        value = _mm256_fmadd_ps(load(w, j), load(&cos, j), value);
                        *t = _mm256_mul_ps(load(w, j), load(&sin, j));
                    }
                }
                add_into(&mut value_lanes[k * LANES..(k + 1) * LANES], value);
                if want_grad {
                    let lanes_k = &mut grad_lanes[k * d * LANES..(k + 1) * d * LANES];
                    for (om, lanes) in f.omega_block(start).chunks_exact(CHUNK).zip(lanes_k.chunks_exact_mut(LANES)) {
                        let mut acc = _mm256_mul_ps(theta[0], load(om, 0));
                        for (j, t) in theta.iter().enumerate().skip(1) {
                            acc = _mm256_fmadd_ps(*t, load(om, j), acc);
                        }
                        add_into(lanes, acc);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::isa::{avx2_fma_or_skip, test_variants};

    #[test]
    fn sincos_f32_is_accurate_to_single_precision() {
        // The portable arithmetic and the fused one (the AVX2 kernel's).
        for (fused, sincos) in
            [(false, sincos_f32_with::<false> as fn(f32) -> (f32, f32)), (true, sincos_f32_with::<true>)]
        {
            let mut worst: f64 = 0.0;
            let mut x = -f64::from(SINCOS_F32_FAST_LIMIT);
            while x < f64::from(SINCOS_F32_FAST_LIMIT) {
                let xf = x as f32;
                let (s, c) = sincos(xf);
                let xd = f64::from(xf);
                worst = worst.max((f64::from(s) - xd.sin()).abs()).max((f64::from(c) - xd.cos()).abs());
                x += 0.0731;
            }
            // One ulp of 1.0 in f32 is 1.19e-7.
            assert!(worst < SINCOS_ERROR, "fused {fused}: worst error {worst}");
            assert_eq!(sincos(0.0), (0.0, 1.0), "fused {fused}");
        }
    }

    /// Absolute error of [`sincos_f32`] and the AVX2 `sincos` (tested below).
    const SINCOS_ERROR: f64 = 1.2e-7;
    /// Absolute error of [`sin_f32`] and the AVX2 `weighted_sin`: two roundings of a reduced
    /// argument below 2 (2⁻²⁴ each, and `|sin′| ≤ 1`), the polynomial's 1.7e-8 and the final
    /// rounding of a result below 1 (2⁻²⁵).
    const SIN_ERROR: f64 = 2.0 * 5.960_464_5e-8 + 1.7e-8 + 2.980_232_3e-8;

    /// Double-precision value and gradient of one path with a first-order bound on the error
    /// of the single-precision kernel: rounding the inputs and the `d + 1` multiply-adds of a
    /// phase cost at most `(d + 3)·u·(|τ_b| + Σ_i |Ω_bi x̃_i|)`, the sine/cosine kernel adds
    /// `kernel_error`, and each lane sums `B/LANES + 2` terms sequentially in `f32`.
    fn reference(
        omega: &[f64],
        tau: &[f64],
        w: &[f64],
        x: &[f64],
        kernel_error: f64,
    ) -> (f64, Vec<f64>, f64, Vec<f64>) {
        let (b, d) = (tau.len(), x.len());
        let u = f64::from(f32::EPSILON) / 2.0;
        let sum_err = (b / LANES + 2) as f64 * u;
        let (mut v, mut vb) = (0.0, 0.0);
        let (mut g, mut gb) = (vec![0.0; d], vec![0.0; d]);
        for k in 0..b {
            let th: f64 = tau[k] + (0..d).map(|i| omega[i * b + k] * x[i]).sum::<f64>();
            let mag: f64 = tau[k].abs() + (0..d).map(|i| (omega[i * b + k] * x[i]).abs()).sum::<f64>();
            let e = (d + 3) as f64 * u * mag + kernel_error + 4.0 * u;
            v += w[k] * th.cos();
            vb += w[k].abs() * (e + sum_err);
            for i in 0..d {
                let om = omega[i * b + k];
                g[i] -= w[k] * th.sin() * om;
                gb[i] += (w[k] * om).abs() * (e + sum_err);
            }
        }
        (v, g, vb, gb)
    }

    /// Bits of a slice, for exact comparisons that print readably.
    fn bits(v: &[f64]) -> Vec<u64> {
        v.iter().map(|x| x.to_bits()).collect()
    }

    /// Every kernel this CPU runs (the detected one, the portable one and the portable source
    /// with fused multiply-adds) against [`reference`] for `L` paths that span several groups,
    /// `B` not a multiple of the chunk, and phases in `scale`; and the AVX2 kernel bit for bit
    /// against the fused portable source (same operations in the same order).
    fn check_kernels(d: usize, b: usize, n_paths: usize, x_scale: f64) {
        let Problem { omega, tau, w, x } = Problem::new(d, b, n_paths, x_scale);
        let f = SingleFeatures::new(&omega, &tau, &w, d);
        let mut scratch = vec![0.0; scratch_len(d)];
        let mut results = Vec::new();
        for isa in test_variants() {
            let name = isa.name();
            let (mut all_v, mut all_g) = (Vec::new(), Vec::new());
            for first in (0..n_paths).step_by(GROUP) {
                let last = (first + GROUP).min(n_paths);
                let mut v = vec![0.0; last - first];
                let mut g = vec![0.0; (last - first) * d];
                f.evaluate(first, &x[first * d..last * d], &mut v, &mut g, &mut scratch, isa);
                let mut v_only = vec![0.0; last - first];
                f.evaluate(first, &x[first * d..last * d], &mut v_only, &mut [], &mut scratch, isa);
                assert_eq!(bits(&v), bits(&v_only), "{name}: values with and without gradients");
                for l in first..last {
                    let (ev, eg, vb, gb) =
                        reference(&omega, &tau, &w[l * b..(l + 1) * b], &x[l * d..(l + 1) * d], SINCOS_ERROR);
                    let k = l - first;
                    assert!((v[k] - ev).abs() <= vb, "{name}, path {l}: value {} vs {ev} (bound {vb})", v[k]);
                    for i in 0..d {
                        let gi = g[k * d + i];
                        assert!(
                            (gi - eg[i]).abs() <= gb[i],
                            "{name}, path {l}, input {i}: {gi} vs {} (bound {})",
                            eg[i],
                            gb[i]
                        );
                    }
                }
                all_v.extend(v);
                all_g.extend(g);
            }
            results.push((isa, all_v, all_g));
        }
        if avx2_fma_or_skip("AVX2 vs portable value kernel, bit for bit") {
            let fused = results.iter().find(|r| r.0 == Isa::PORTABLE_FUSED).expect("fused variant");
            let avx2 = results.iter().find(|r| r.0.avx2_fma()).expect("AVX2 variant");
            assert_eq!(bits(&avx2.1), bits(&fused.1), "values of the AVX2 kernel and the fused portable source");
            assert_eq!(bits(&avx2.2), bits(&fused.2), "gradients of the AVX2 kernel and the fused portable source");
        }
    }

    /// A random feature set (`Ω` in ±2, `τ` in [0, 2π), weights in ±1) and points in
    /// `±x_scale`, from a fixed xorshift stream.
    struct Problem {
        omega: Vec<f64>,
        tau: Vec<f64>,
        w: Vec<f64>,
        x: Vec<f64>,
    }

    impl Problem {
        fn new(d: usize, b: usize, n_paths: usize, x_scale: f64) -> Self {
            let mut state = 0x9e37_79b9_7f4a_7c15u64;
            let mut next = move || {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 11) as f64 / (1u64 << 53) as f64
            };
            let omega: Vec<f64> = (0..b * d).map(|_| 4.0 * next() - 2.0).collect();
            let tau: Vec<f64> = (0..b).map(|_| 2.0 * std::f64::consts::PI * next()).collect();
            let w: Vec<f64> = (0..b * n_paths).map(|_| 2.0 * next() - 1.0).collect();
            let x: Vec<f64> = (0..n_paths * d).map(|_| x_scale * (2.0 * next() - 1.0)).collect();
            Self { omega, tau, w, x }
        }
    }

    /// The gradient-only kernels (every one this CPU runs) against [`reference`] with the
    /// sine's error bound, and the AVX2 one bit for bit against the fused portable source
    /// (same operations in the same order).
    fn check_gradient_kernels(d: usize, b: usize, n_paths: usize, x_scale: f64) {
        let Problem { omega, tau, w, x } = Problem::new(d, b, n_paths, x_scale);
        let f = SingleFeatures::new(&omega, &tau, &w, d);
        let mut scratch = vec![0.0; scratch_len(d)];
        let compare = avx2_fma_or_skip("AVX2 vs portable gradient kernel, bit for bit");
        for first in (0..n_paths).step_by(GROUP) {
            let last = (first + GROUP).min(n_paths);
            let xs = &x[first * d..last * d];
            let mut by_isa = Vec::new();
            for isa in test_variants() {
                let mut grads = vec![0.0; (last - first) * d];
                f.evaluate_gradients(first, xs, &mut grads, &mut scratch, isa);
                for l in first..last {
                    let (_, eg, _, gb) =
                        reference(&omega, &tau, &w[l * b..(l + 1) * b], &x[l * d..(l + 1) * d], SIN_ERROR);
                    for i in 0..d {
                        let gi = grads[(l - first) * d + i];
                        assert!(
                            (gi - eg[i]).abs() <= gb[i],
                            "{}, path {l}, input {i}: {gi} vs {} (bound {})",
                            isa.name(),
                            eg[i],
                            gb[i]
                        );
                    }
                }
                by_isa.push((isa, grads));
            }
            if compare {
                let fused = by_isa.iter().find(|r| r.0 == Isa::PORTABLE_FUSED).expect("fused variant");
                let avx2 = by_isa.iter().find(|r| r.0.avx2_fma()).expect("AVX2 variant");
                assert_eq!(bits(&avx2.1), bits(&fused.1), "AVX2 and fused portable gradients of paths {first}..{last}");
            }
        }
    }

    #[test]
    fn gradient_kernels_match_double_precision_within_the_rounding_bound() {
        check_gradient_kernels(7, 100, 11, 3.0);
        check_gradient_kernels(1, 64, 3, 1.0);
        check_gradient_kernels(20, 1024, 9, 2.0);
        // |θ| up to ~1e5, past SINCOS_F32_FAST_LIMIT in most chunks.
        check_gradient_kernels(3, 130, 5, 2.0e4);
    }

    #[test]
    fn sin_f32_is_accurate_to_single_precision() {
        // The portable arithmetic and the fused one (the AVX2 kernel's).
        for (fused, sin) in [(false, sin_f32_with::<false> as fn(f32) -> f32), (true, sin_f32_with::<true>)] {
            let mut worst: f64 = 0.0;
            let mut x = -f64::from(SINCOS_F32_FAST_LIMIT);
            while x < f64::from(SINCOS_F32_FAST_LIMIT) {
                let xf = x as f32;
                worst = worst.max((f64::from(sin(xf)) - f64::from(xf).sin()).abs());
                x += 0.00731;
            }
            assert!(worst < SIN_ERROR, "fused {fused}: worst error {worst}");
            assert_eq!(sin(0.0), 0.0, "fused {fused}");
        }
    }

    #[test]
    fn kernels_match_double_precision_within_the_rounding_bound() {
        check_kernels(7, 100, 11, 3.0);
        check_kernels(1, 64, 3, 1.0);
        check_kernels(20, 1024, 9, 2.0);
    }

    #[test]
    fn phases_beyond_the_fast_range_take_the_double_precision_branch() {
        // |θ| up to ~1e5, past SINCOS_F32_FAST_LIMIT in most chunks.
        check_kernels(3, 130, 5, 2.0e4);
    }

    #[test]
    fn nan_inputs_give_nan() {
        let f = SingleFeatures::new(&[1.0, 2.0], &[0.0, 1.0], &[1.0, 1.0], 1);
        let mut scratch = vec![0.0; scratch_len(1)];
        for isa in test_variants() {
            let name = isa.name();
            let (mut v, mut g) = ([0.0], [0.0]);
            f.evaluate(0, &[f64::NAN], &mut v, &mut g, &mut scratch, isa);
            assert!(v[0].is_nan() && g[0].is_nan(), "{name}: {v:?} {g:?}");
            f.evaluate_gradients(0, &[f64::NAN], &mut g, &mut scratch, isa);
            assert!(g[0].is_nan(), "{name}, gradient only: {g:?}");
        }
    }

    #[cfg_attr(not(target_arch = "x86_64"), ignore = "the AVX2 kernel exists on x86-64 only")]
    #[test]
    fn avx2_sincos_is_accurate_and_has_the_bits_of_the_fused_portable_one() {
        #[cfg(target_arch = "x86_64")]
        if avx2_fma_or_skip("avx2_sincos_is_accurate_and_has_the_bits_of_the_fused_portable_one") {
            let mut worst: f64 = 0.0;
            let mut x = -f64::from(SINCOS_F32_FAST_LIMIT);
            while x < f64::from(SINCOS_F32_FAST_LIMIT) {
                let lanes: [f32; 8] = std::array::from_fn(|k| (x + 0.01 * k as f64) as f32);
                // SAFETY: `avx2_fma_or_skip`: run-time detection found AVX2 and FMA.
                let (s, c) = unsafe { avx2_sincos_lanes(&lanes) };
                for k in 0..8 {
                    let xd = f64::from(lanes[k]);
                    worst = worst.max((f64::from(s[k]) - xd.sin()).abs()).max((f64::from(c[k]) - xd.cos()).abs());
                    let (ps, pc) = sincos_f32_with::<true>(lanes[k]);
                    assert_eq!((s[k].to_bits(), c[k].to_bits()), (ps.to_bits(), pc.to_bits()), "x = {}", lanes[k]);
                }
                x += 0.731;
            }
            assert!(worst < SINCOS_ERROR, "worst error {worst}");
        }
    }

    /// The AVX2 `sincos` of eight lanes.
    #[cfg(target_arch = "x86_64")]
    #[target_feature(enable = "avx2,fma")]
    fn avx2_sincos_lanes(lanes: &[f32; 8]) -> ([f32; 8], [f32; 8]) {
        use std::arch::x86_64::{_mm256_loadu_ps, _mm256_storeu_ps};
        let (mut s, mut c) = ([0.0f32; 8], [0.0f32; 8]);
        // SAFETY: loads and stores of exactly eight lanes of 8-lane arrays.
        unsafe {
            let (vs, vc) = super::avx2::sincos(_mm256_loadu_ps(lanes.as_ptr()));
            _mm256_storeu_ps(s.as_mut_ptr(), vs);
            _mm256_storeu_ps(c.as_mut_ptr(), vc);
        }
        (s, c)
    }

    #[test]
    fn dispatch_picks_the_avx2_kernel_where_the_cpu_has_avx2_and_fma() {
        #[cfg(target_arch = "x86_64")]
        let has = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        let has = false;
        if has {
            assert_eq!(kernel_name(), "avx2-fma");
        } else {
            avx2_fma_or_skip("dispatch_picks_the_avx2_kernel_where_the_cpu_has_avx2_and_fma (checked: portable runs)");
            assert_eq!(kernel_name(), "portable");
        }
    }

    #[test]
    fn arrays_start_on_cache_lines_also_in_clones() {
        let Problem { omega, tau, w, .. } = Problem::new(3, 100, 5, 1.0);
        let f = SingleFeatures::new(&omega, &tau, &w, 3);
        for g in [&f, &f.clone()] {
            for (name, a) in [("omega", &g.omega), ("tau", &g.tau), ("weights", &g.weights)] {
                assert_eq!(a.as_ptr() as usize % CACHE_LINE, 0, "{name}");
            }
        }
        assert_eq!(f.clone().weights.to_vec(), f.weights.to_vec());
        let mut scratch = vec![0.0f32; scratch_len(3) + 3];
        for skip in 0..4 {
            assert_eq!(aligned_scratch(&mut scratch[skip..]).as_ptr() as usize % (LANES * 4), 0, "skip {skip}");
        }
    }

    #[test]
    fn padding_contributes_nothing() {
        // B = 3 (padded to CHUNK), d = 2, one path: compare with a direct double sum.
        let omega = [0.5, -1.0, 2.0, 1.5, 0.25, -0.75];
        let tau = [0.1, 2.0, 4.0];
        let w = [1.0, -0.5, 0.25];
        let f = SingleFeatures::new(&omega, &tau, &w, 2);
        let x = [0.3, -0.7];
        let mut grad = [0.0; 2];
        let mut scratch = vec![0.0; scratch_len(2)];
        let mut v = [0.0];
        f.value_and_grad(0, &x, &mut v, &mut grad, &mut scratch);
        let v = v[0];
        let (mut ev, mut eg) = (0.0, [0.0; 2]);
        for b in 0..3 {
            let th = omega[b] * x[0] + omega[3 + b] * x[1] + tau[b];
            ev += w[b] * th.cos();
            eg[0] -= w[b] * th.sin() * omega[b];
            eg[1] -= w[b] * th.sin() * omega[3 + b];
        }
        assert!((v - ev).abs() < 1e-6, "{v} vs {ev}");
        assert!((grad[0] - eg[0]).abs() < 1e-6 && (grad[1] - eg[1]).abs() < 1e-6, "{grad:?} vs {eg:?}");
        f.gradients(0, &x, &mut grad, &mut scratch);
        assert!((grad[0] - eg[0]).abs() < 1e-6 && (grad[1] - eg[1]).abs() < 1e-6, "gradients only: {grad:?} vs {eg:?}");
    }
}

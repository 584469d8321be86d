//! Run-time choice of the instruction set for the hot loops of sample paths and kernel
//! matrices.
//!
//! The workspace builds for baseline x86-64 (see `.cargo/config.toml`), so a binary runs on any
//! x86-64 CPU. The loops that dominate an LES step exist twice: compiled with
//! `#[target_feature(enable = "avx2,fma")]` (hand-written intrinsics in
//! [`crate::rff_single`], plain Rust with `mul_add` elsewhere) and portable (plain Rust, two
//! roundings per multiply-add, never `mul_add`: a software `fma` call would be exact but very
//! slow). [`Isa::detected`] picks one once per process.
//!
//! The arithmetic of each variant is fixed by its source, not by the build: Rust never
//! contracts `a * b + c` into a fused multiply-add, does not reassociate floating-point sums,
//! and `mul_add` is correctly rounded whether it compiles to `vfmadd` or to a call. So a given
//! seed gives the same bits on every x86-64 CPU with AVX2 and FMA, whatever machine built the
//! binary and whatever `-C target-cpu` it used; CPUs without them run the portable variant,
//! whose results differ in the last bits (within the documented rounding bounds). No
//! environment variable changes this.

use std::sync::atomic::{AtomicU8, Ordering};

/// Which variant of the hot loops runs. A value that says AVX2/FMA exists only where run-time
/// detection found both features (the field is private to this module), so the `unsafe`
/// calls of `#[target_feature]` functions behind [`Isa::avx2_fma`] are sound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Isa(Kind);

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// The CPU has AVX2 and FMA (detected at run time).
    Avx2Fma,
    /// Plain Rust, separate multiply and add.
    Portable,
    /// Tests only: the portable source with `mul_add` (software `fma` outside an FMA
    /// context), which must give the bits of the AVX2/FMA variant.
    #[cfg(test)]
    PortableFused,
}

/// [`Isa::detected`]'s cache: 0 not yet detected, 1 portable, 2 AVX2/FMA.
static DETECTED: AtomicU8 = AtomicU8::new(0);

impl Isa {
    /// The portable variant (what CPUs without AVX2 or FMA run; tests force it for
    /// comparisons).
    pub(crate) const PORTABLE: Self = Self(Kind::Portable);

    /// Tests only: the portable source with fused multiply-adds.
    #[cfg(test)]
    pub(crate) const PORTABLE_FUSED: Self = Self(Kind::PortableFused);

    /// The variant for this CPU: AVX2/FMA where `is_x86_feature_detected!` finds both, else
    /// portable. Detected once; later calls are one relaxed atomic load.
    #[inline]
    pub(crate) fn detected() -> Self {
        match DETECTED.load(Ordering::Relaxed) {
            1 => Self::PORTABLE,
            2 => Self(Kind::Avx2Fma),
            _ => {
                let isa = Self::detect();
                DETECTED.store(if isa.avx2_fma() { 2 } else { 1 }, Ordering::Relaxed);
                isa
            }
        }
    }

    fn detect() -> Self {
        #[cfg(target_arch = "x86_64")]
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma") {
            return Self(Kind::Avx2Fma);
        }
        Self::PORTABLE
    }

    /// Whether the CPU has AVX2 and FMA and this variant uses them: then calling a function
    /// with `#[target_feature(enable = "avx2,fma")]` is sound.
    #[inline(always)]
    pub(crate) fn avx2_fma(self) -> bool {
        self.0 == Kind::Avx2Fma
    }

    /// Whether the portable source runs with fused multiply-adds (tests only; always false
    /// outside them).
    #[inline(always)]
    pub(crate) fn portable_fused(self) -> bool {
        #[cfg(test)]
        if self.0 == Kind::PortableFused {
            return true;
        }
        false
    }

    /// `"avx2-fma"` or `"portable"` (`"portable-fused"` in tests).
    pub(crate) fn name(self) -> &'static str {
        match self.0 {
            Kind::Avx2Fma => "avx2-fma",
            Kind::Portable => "portable",
            #[cfg(test)]
            Kind::PortableFused => "portable-fused",
        }
    }
}

/// Tests: every variant this CPU can run, the detected one first (the detected one only once
/// where it is the portable one).
#[cfg(test)]
pub(crate) fn test_variants() -> Vec<Isa> {
    let mut all = vec![Isa::detected(), Isa::PORTABLE, Isa::PORTABLE_FUSED];
    all.dedup();
    all
}

/// Tests: whether the AVX2/FMA variant runs here, so that a comparison with it can be made.
/// Where it does not, prints why on the terminal (past the test harness's capture of
/// `print!`), so that the skipped comparison does not pass silently.
#[cfg(test)]
pub(crate) fn avx2_fma_or_skip(what: &str) -> bool {
    if Isa::detected().avx2_fma() {
        return true;
    }
    use std::io::Write;
    let _ = writeln!(
        std::io::stderr(),
        "SKIPPED {what}: this CPU lacks AVX2 or FMA (or is not x86-64), so the AVX2/FMA variant cannot run"
    );
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detection_is_cached_and_agrees_with_the_cpu() {
        let first = Isa::detected();
        assert_eq!(Isa::detected(), first);
        #[cfg(target_arch = "x86_64")]
        let has = std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma");
        #[cfg(not(target_arch = "x86_64"))]
        let has = false;
        assert_eq!(first.avx2_fma(), has);
        assert!(!Isa::PORTABLE.avx2_fma() && !Isa::PORTABLE.portable_fused());
        assert!(Isa::PORTABLE_FUSED.portable_fused() && !Isa::PORTABLE_FUSED.avx2_fma());
    }
}

//! Spare `n×n` buffers, kept from one MAP fit for the next.
//!
//! Every BO iteration fits a new GP on one more point, so each fit's `n×n` buffers (`K_f`,
//! `K⁻¹`, `L⁻¹`) are a little larger than the last fit's. That is just above glibc's adaptive
//! threshold for serving a block from the heap, so every fit got fresh pages from the kernel
//! and paid a page fault per 4 KB on first touch: measured at n = 400 (d = 5), about 9 % of
//! a fit's time went to faulting and zeroing them. A finished fit hands its buffers back here
//! and the next one takes them (grown in place when needed). At most [`SPARES`] buffers are
//! kept, so the memory held between fits is that of one fit, and none larger than
//! [`LARGEST`] entries: the faults cost `O(n²)` against the fit's `O(n³)`, so beyond that size
//! they are negligible, while the memory held between fits (during the acquisition, say) is not.

use std::sync::Mutex;

use nalgebra::DMatrix;

/// How many buffers are kept: the `K_f`, `K⁻¹` and `L⁻¹` of one fit (`G` too for Matérn).
const SPARES: usize = 4;
/// The largest buffer kept, in entries (16 MB: `n` up to 1448).
const LARGEST: usize = 1 << 21;

static SPARE: Mutex<Vec<Vec<f64>>> = Mutex::new(Vec::new());

/// A zeroed buffer of `len` entries, reusing a spare allocation when there is one.
pub fn take(len: usize) -> Vec<f64> {
    let spare = SPARE.lock().ok().and_then(|mut s| s.pop());
    let mut v = spare.unwrap_or_default();
    v.clear();
    v.resize(len, 0.0);
    v
}

/// Keeps `v`'s allocation for a later [`take`] (dropped when enough are kept).
pub fn give_back(v: Vec<f64>) {
    if !worth_keeping(v.capacity()) {
        return;
    }
    if let Ok(mut s) = SPARE.lock()
        && s.len() < SPARES
    {
        s.push(v);
    }
}

/// Whether an allocation of `capacity` entries is kept for a later fit.
fn worth_keeping(capacity: usize) -> bool {
    (1..=LARGEST).contains(&capacity)
}

/// Makes `m` a zeroed `n×n` matrix unless it already has that shape, trading its old storage
/// for a spare one.
pub fn resize_square(m: &mut DMatrix<f64>, n: usize) {
    if m.shape() != (n, n) {
        let old = std::mem::replace(m, DMatrix::from_vec(n, n, take(n * n)));
        give_back(old.data.into());
    }
}

/// Hands `m`'s storage back (leaving it empty).
pub fn give_back_matrix(m: &mut DMatrix<f64>) {
    let old = std::mem::replace(m, DMatrix::zeros(0, 0));
    give_back(old.data.into());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reused_buffer_comes_back_zeroed_and_sized() {
        let mut m = DMatrix::from_element(3, 3, 7.0);
        resize_square(&mut m, 5);
        assert_eq!(m, DMatrix::zeros(5, 5));
        m.fill(2.0);
        give_back_matrix(&mut m);
        assert_eq!(m.shape(), (0, 0));
        // Whichever spare comes back (tests run in parallel), it is zeroed and of the size asked.
        let v = take(16);
        assert_eq!(v, vec![0.0; 16]);
        let mut same = DMatrix::from_element(4, 4, 1.0);
        resize_square(&mut same, 4);
        assert_eq!(same, DMatrix::from_element(4, 4, 1.0), "a matrix of the right shape is kept as it is");
    }

    #[test]
    fn only_buffers_up_to_the_largest_are_kept() {
        assert!(!worth_keeping(0));
        assert!(worth_keeping(1));
        assert!(worth_keeping(1448 * 1448));
        assert!(worth_keeping(LARGEST));
        assert!(!worth_keeping(LARGEST + 1));
        assert!(!worth_keeping(1449 * 1449));
    }
}

//! The finite-difference gradient checker of the tests (feature `testing`).
//!
//! Central differences `(f(x + h eᵢ) − f(x − h eᵢ)) / 2h` have truncation error `h²·f'''/6`
//! and rounding error about `ε·|f|/h`: with `h` = 1e-6 and values of order one both are near
//! 1e-10, so a tolerance of 1e-6 leaves a wide margin while still catching a wrong factor or
//! sign in any coordinate. A coordinate passes when
//! `|analytic − fd| ≤ abs_tol + rel_tol·|fd|`; a failure names the check, the coordinate and
//! both values.

/// Step and tolerances of a check.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct FdCheck {
    /// Step `h` of the central differences.
    pub step: f64,
    /// Relative tolerance (to `|fd|`).
    pub rel_tol: f64,
    /// Absolute tolerance.
    pub abs_tol: f64,
}

impl FdCheck {
    /// Step `step`, relative and absolute tolerance `tol`.
    pub fn new(step: f64, tol: f64) -> Self {
        Self { step, rel_tol: tol, abs_tol: tol }
    }

    /// The central differences of `f` at `x`, one per coordinate.
    pub fn differences(&self, mut f: impl FnMut(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
        let mut probe = x.to_vec();
        (0..x.len())
            .map(|i| {
                probe[i] = x[i] + self.step;
                let up = f(&probe);
                probe[i] = x[i] - self.step;
                let down = f(&probe);
                probe[i] = x[i];
                (up - down) / (2.0 * self.step)
            })
            .collect()
    }

    /// Compares `gradient` with the central differences of `f` at `x`; `Err` names the first
    /// coordinate outside the tolerance (for `proptest`'s `prop_assert`).
    pub fn compare(&self, what: &str, f: impl FnMut(&[f64]) -> f64, x: &[f64], gradient: &[f64]) -> Result<(), String> {
        if gradient.len() != x.len() {
            return Err(format!("{what}: the gradient has {} entries for {} coordinates", gradient.len(), x.len()));
        }
        for (i, (fd, g)) in self.differences(f, x).into_iter().zip(gradient).enumerate() {
            let tolerance = self.abs_tol + self.rel_tol * fd.abs();
            // A NaN on either side fails too.
            let within = (g - fd).abs() <= tolerance;
            if !within {
                return Err(format!(
                    "{what}: coordinate {i} of {x:?}: analytic derivative {g} but central difference {fd} \
                     (step {}, |difference| {:e} > tolerance {tolerance:e})",
                    self.step,
                    (g - fd).abs()
                ));
            }
        }
        Ok(())
    }

    /// [`FdCheck::compare`] that panics with its message.
    #[track_caller]
    pub fn check(&self, what: &str, f: impl FnMut(&[f64]) -> f64, x: &[f64], gradient: &[f64]) {
        if let Err(message) = self.compare(what, f, x, gradient) {
            panic!("{message}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn f(x: &[f64]) -> f64 {
        x[0].sin() * x[1] + x[1].powi(3)
    }

    #[test]
    fn accepts_the_true_gradient() {
        let x = [0.3f64, -1.2];
        let g = [x[0].cos() * x[1], x[0].sin() + 3.0 * x[1] * x[1]];
        FdCheck::new(1e-6, 1e-7).check("sin·y + y³", f, &x, &g);
    }

    #[test]
    fn names_the_wrong_coordinate() {
        let x = [0.3f64, -1.2];
        let g = [x[0].cos() * x[1], x[0].sin() + 3.0 * x[1] * x[1] + 1e-4];
        let err = FdCheck::new(1e-6, 1e-6).compare("sin·y + y³", f, &x, &g).unwrap_err();
        assert!(err.starts_with("sin·y + y³: coordinate 1 of [0.3, -1.2]: analytic derivative"), "{err}");
        let nan = [f64::NAN, g[1]];
        assert!(FdCheck::new(1e-6, 1e-6).compare("nan", f, &x, &nan).unwrap_err().contains("coordinate 0"));
        assert!(FdCheck::new(1e-6, 1e-6).compare("short", f, &x, &g[..1]).is_err());
    }
}

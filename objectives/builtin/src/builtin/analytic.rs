//! The machinery shared by the analytic test functions: their parameter blocks, the
//! [`TestFunction`] trait each formula implements, and [`AnalyticObjective`], which turns a
//! formula into an [`Objective`] with its native box, known optimum and noise level.
//!
//! A formula knows only its own native coordinates. The runner maps the unit cube that the
//! strategies work in affinely onto the native box, which is exactly the paper's convention
//! "each function receives x ∈ [0, 1]^d and maps it to its native domain" (§16.3).

use les_core::registry::Built;
use les_core::{
    Bounds, BuildContext, Objective, ObjectiveError, ObjectiveInfo, ParamError, Params, PluginError, PluginParams,
};
use serde::{Deserialize, Serialize};

/// Dimension used when a config does not set `dim`.
pub const DEFAULT_DIM: usize = 2;

/// Largest `dim` a built-in accepts: far above any benchmark, low enough that a typo
/// (`dim: 100000`) is reported instead of allocating gigabytes.
pub const MAX_DIM: usize = 1000;

/// Observation-noise standard deviation of the analytic functions when `noise_std` is absent:
/// the paper's synthetic benchmarks are noise-free.
pub const DEFAULT_NOISE_STD: f64 = 0.0;

/// A formula in native coordinates, with its box and known optimum.
pub trait TestFunction: Send + Sync + 'static {
    /// Registry name (`ackley`).
    const NAME: &'static str;
    /// Smallest dimension the formula makes sense in (Rosenbrock needs 2).
    const MIN_DIM: usize = 1;

    /// The function in `dim` dimensions. Fixed-dimension functions ignore `dim` (the parameter
    /// block has already checked it).
    fn new(dim: usize) -> Self
    where
        Self: Sized;

    /// Input dimension `d`.
    fn dim(&self) -> usize;

    /// The native box, `d` intervals.
    fn bounds(&self) -> Bounds;

    /// The value at `x` (`d` values, native coordinates).
    fn value(&self, x: &[f64]) -> f64;

    /// The gradient at `x` (`d` values, native coordinates). Where the function has a kink
    /// (Ackley at 0), a subgradient.
    fn gradient(&self, x: &[f64]) -> Vec<f64>;

    /// The global minimum value.
    fn known_minimum(&self) -> f64;

    /// A global minimizer in native coordinates, `d` values.
    fn known_minimizer(&self) -> Vec<f64>;
}

/// Parameters of a function defined in any dimension.
///
/// | key | default | meaning |
/// |---|---|---|
/// | `dim` | 2 | input dimension `d`, 1 ≤ d ≤ 1000 |
/// | `noise_std` | 0 | std of the Gaussian noise the runner adds to each observation |
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AnyDimParams {
    /// Input dimension `d`.
    pub dim: usize,
    /// Observation-noise standard deviation (≥ 0).
    pub noise_std: f64,
}

impl Default for AnyDimParams {
    fn default() -> Self {
        Self { dim: DEFAULT_DIM, noise_std: DEFAULT_NOISE_STD }
    }
}

impl PluginParams for AnyDimParams {
    fn validate(&self) -> Result<(), ParamError> {
        validate_dim(self.dim, 1)?;
        validate_noise_std(self.noise_std)
    }
}

/// Parameters of a function defined in one fixed dimension. `dim` may be omitted; when given,
/// it must equal the function's dimension (checked by the build function, which knows it).
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FixedDimParams {
    /// Input dimension: absent, or the function's own.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dim: Option<usize>,
    /// Observation-noise standard deviation (≥ 0).
    pub noise_std: f64,
}

impl FixedDimParams {
    /// Checks `dim` against the function's dimension `fixed` (error at `dim`).
    pub fn check_dim(&self, fixed: usize) -> Result<(), ParamError> {
        match self.dim {
            Some(dim) if dim != fixed => Err(ParamError::invalid(
                "dim",
                dim,
                format!(
                    "{fixed}: this function is defined in {fixed} dimensions only; remove `dim` or set it to {fixed}"
                ),
            )),
            _ => Ok(()),
        }
    }
}

impl PluginParams for FixedDimParams {
    fn validate(&self) -> Result<(), ParamError> {
        validate_noise_std(self.noise_std)
    }
}

/// `default_params` of a function defined in `D` dimensions: `{dim: D, noise_std: 0}`.
pub(crate) fn fixed_dim_defaults<const D: usize>() -> serde_json::Value {
    les_core::params::to_value(&FixedDimParams { dim: Some(D), noise_std: DEFAULT_NOISE_STD })
}

/// Checks `min_dim ≤ dim ≤ MAX_DIM` (error at `dim`).
pub(crate) fn validate_dim(dim: usize, min_dim: usize) -> Result<(), ParamError> {
    if dim < min_dim || dim > MAX_DIM {
        return Err(ParamError::invalid("dim", dim, format!("a whole number from {min_dim} to {MAX_DIM}")));
    }
    Ok(())
}

/// Checks that `noise_std` is finite and ≥ 0 (error at `noise_std`).
pub(crate) fn validate_noise_std(noise_std: f64) -> Result<(), ParamError> {
    if !noise_std.is_finite() || noise_std < 0.0 {
        return Err(ParamError::invalid("noise_std", noise_std, "a finite standard deviation ≥ 0 (0 = no noise)"));
    }
    Ok(())
}

/// Checks that a point has `dim` coordinates.
pub(crate) fn check_dim(x: &[f64], dim: usize) -> Result<(), ObjectiveError> {
    if x.len() != dim {
        return Err(ObjectiveError::Dimension { got: x.len(), expected: dim });
    }
    Ok(())
}

/// Turns a value into an evaluation result: non-finite values are failed evaluations.
pub(crate) fn finite(value: f64) -> Result<f64, ObjectiveError> {
    if value.is_finite() { Ok(value) } else { Err(ObjectiveError::NonFinite(value)) }
}

/// An analytic test function as an [`Objective`]: noise-free values (`exact = true`), its native
/// box, known minimum and minimizer, analytic gradient.
pub struct AnalyticObjective<F: TestFunction> {
    info: ObjectiveInfo,
    function: F,
}

impl<F: TestFunction> AnalyticObjective<F> {
    /// Wraps `function`; the runner adds Gaussian noise of std `noise_std` to observations.
    pub fn new(function: F, noise_std: f64) -> Self {
        let info = ObjectiveInfo {
            name: F::NAME.to_owned(),
            bounds: function.bounds(),
            noise_std,
            exact: true,
            known_minimum: Some(function.known_minimum()),
            known_minimizer: Some(function.known_minimizer()),
        };
        Self { info, function }
    }

    /// The wrapped formula.
    pub fn function(&self) -> &F {
        &self.function
    }
}

impl<F: TestFunction> Objective for AnalyticObjective<F> {
    fn info(&self) -> &ObjectiveInfo {
        &self.info
    }

    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        check_dim(x, self.function.dim())?;
        finite(self.function.value(x))
    }

    fn gradient(&self, x: &[f64]) -> Option<Vec<f64>> {
        (x.len() == self.function.dim()).then(|| self.function.gradient(x))
    }
}

/// Registry build function of a function defined in any dimension ≥ `F::MIN_DIM`.
pub(crate) fn build_any_dim<F: TestFunction>(
    params: &Params,
    _ctx: &BuildContext,
) -> Result<Built<dyn Objective>, PluginError> {
    let p: AnyDimParams = params.parse()?;
    validate_dim(p.dim, F::MIN_DIM).map_err(|e| e.prefixed(&params.path))?;
    Ok(Built::new(Box::new(AnalyticObjective::new(F::new(p.dim), p.noise_std)), &p))
}

/// Registry build function of a function defined in exactly `D` dimensions.
pub(crate) fn build_fixed_dim<F: TestFunction, const D: usize>(
    params: &Params,
    _ctx: &BuildContext,
) -> Result<Built<dyn Objective>, PluginError> {
    let mut p: FixedDimParams = params.parse()?;
    p.check_dim(D).map_err(|e| e.prefixed(&params.path))?;
    let function = F::new(D);
    debug_assert_eq!(function.dim(), D, "registration of {} names the wrong dimension", F::NAME);
    p.dim = Some(D);
    Ok(Built::new(Box::new(AnalyticObjective::new(function, p.noise_std)), &p))
}

#[cfg(test)]
pub(crate) mod testing {
    //! Checks every analytic function's unit tests share.

    use super::TestFunction;

    /// The value at the known minimizer equals the known minimum within `tol`, and the
    /// minimizer lies in the box.
    pub fn assert_minimum<F: TestFunction>(f: &F, tol: f64) {
        let x = f.known_minimizer();
        assert_eq!(x.len(), f.dim());
        assert!(f.bounds().contains(&x), "{}: minimizer {x:?} outside the box", F::NAME);
        let v = f.value(&x);
        assert!((v - f.known_minimum()).abs() <= tol, "{}: f(x*) = {v}, known minimum {}", F::NAME, f.known_minimum());
    }
}

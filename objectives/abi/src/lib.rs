//! The C ABI of `les` shared-library objectives, version 1, and the [`export_objective!`] macro
//! that implements it for a plain Rust function.
//!
//! Rust trait objects never cross a shared-library boundary (their layout is not stable between
//! compilers, and a panic unwinding through `extern "C"` aborts). The boundary is instead three C
//! functions and one `#[repr(C)]` table, described for C authors in the header
//! `objectives/abi/include/les_objective.h` (its text is also available as [`C_HEADER`]):
//!
//! ```c
//! uint32_t    les_objective_abi_version(void);                 /* checked before anything else */
//! int32_t     les_objective_create(const char *params_json, LesObjective *out);  /* 0 = ok */
//! const char *les_objective_last_error(void);                  /* message of the last failure */
//! ```
//!
//! Contract in short (the header has the full text):
//! - `les_objective_abi_version` returns [`LES_OBJECTIVE_ABI_VERSION`]; the loader checks it
//!   before any other symbol is touched.
//! - `les_objective_create` receives the config's `params` block as a JSON object and fills a
//!   [`LesObjective`]: dimension, bounds (owned by the library until `destroy`), `eval`, an
//!   optional `eval_grad` and `destroy`.
//! - Every status is 0 on success; after a non-zero status the loader immediately reads
//!   `les_objective_last_error` on the same thread.
//! - Threads: `eval`/`eval_grad` of one instance are called by one thread at a time (the loader
//!   holds a lock), possibly a different thread each time; distinct instances may run
//!   concurrently; `create` calls are serialized process-wide.
//! - Libraries are never unloaded.
//!
//! # Writing an objective in Rust
//!
//! Make a `cdylib` crate that depends on `les-objective-abi` and invoke the macro once:
//!
//! ```
//! fn sphere(x: &[f64]) -> f64 {
//!     x.iter().map(|v| v * v).sum()
//! }
//!
//! fn sphere_gradient(x: &[f64], g: &mut [f64]) {
//!     for (gi, xi) in g.iter_mut().zip(x) {
//!         *gi = 2.0 * xi;
//!     }
//! }
//!
//! les_objective_abi::export_objective! {
//!     dim: 3,
//!     lower: -5.0,             // a number (every coordinate) or `dim` values
//!     upper: [5.0, 5.0, 2.0],
//!     eval: sphere,
//!     gradient: sphere_gradient, // optional
//! }
//! # use les_objective_abi::LesObjective;
//! # let mut table = LesObjective::empty();
//! # // SAFETY: a valid JSON string and a valid output table.
//! # let status = unsafe { les_objective_create(c"{}".as_ptr(), &mut table) };
//! # assert_eq!(status, 0);
//! # assert_eq!(table.dim, 3);
//! # let mut y = 0.0;
//! # // SAFETY: the table was filled by create; x has `dim` entries.
//! # let status = unsafe { (table.eval.unwrap())(table.state, [1.0, 2.0, 0.5].as_ptr(), &mut y) };
//! # assert_eq!((status, y), (0, 5.25));
//! # // SAFETY: destroyed once.
//! # unsafe { (table.destroy.unwrap())(table.state) };
//! ```
//!
//! With parameters, name a type that implements `serde::Deserialize` (it is parsed from the
//! `params` JSON, so give it `#[serde(default)]` if `{}` should work) and write every function
//! against it; `eval` may return `f64` or `Result<f64, E: Display>`, `gradient` may return `()`
//! or `Result<(), E: Display>`:
//!
//! ```
//! #[derive(serde::Deserialize)]
//! #[serde(default, deny_unknown_fields)]
//! struct Shifted { dim: usize, shift: f64 }
//! impl Default for Shifted {
//!     fn default() -> Self { Self { dim: 2, shift: 0.0 } }
//! }
//!
//! fn shifted(p: &Shifted, x: &[f64]) -> Result<f64, String> {
//!     Ok(x.iter().map(|v| (v - p.shift).powi(2)).sum())
//! }
//!
//! les_objective_abi::export_objective! {
//!     params: Shifted,
//!     dim: |p: &Shifted| p.dim,
//!     lower: |p: &Shifted| p.shift - 1.0,
//!     upper: |p: &Shifted| vec![p.shift + 1.0; p.dim],
//!     eval: shifted,
//! }
//! # use les_objective_abi::LesObjective;
//! # let mut table = LesObjective::empty();
//! # // SAFETY: a valid JSON string and a valid output table.
//! # let status = unsafe { les_objective_create(c"{\"dim\": 4, \"shift\": 1}".as_ptr(), &mut table) };
//! # assert_eq!((status, table.dim), (0, 4));
//! # assert!(table.eval_grad.is_none());
//! # // SAFETY: destroyed once.
//! # unsafe { (table.destroy.unwrap())(table.state) };
//! ```
//!
//! A custom parser replaces serde: `params: MyType, parse: my_parser,` with
//! `fn my_parser(json: &str) -> Result<MyType, String>`. Without `params:` the objective accepts
//! only an empty `params` block.
//!
//! Panics inside any of these functions are caught at the boundary and reported as a failed
//! call whose message starts with `panicked:` (the library must be built with the default
//! `panic = "unwind"`).

use std::ffi::{c_char, c_void};

/// The ABI version this crate implements (`LES_OBJECTIVE_ABI_VERSION` in the header).
pub const LES_OBJECTIVE_ABI_VERSION: u32 = 1;

/// Status of a successful call.
pub const LES_OBJECTIVE_OK: i32 = 0;

/// A generic failure status (any non-zero status is a failure).
pub const LES_OBJECTIVE_ERROR: i32 = 1;

/// The C header `les_objective.h` of this ABI version.
pub const C_HEADER: &str = include_str!("../include/les_objective.h");

/// Name of the exported version function.
pub const SYMBOL_ABI_VERSION: &str = "les_objective_abi_version";
/// Name of the exported create function.
pub const SYMBOL_CREATE: &str = "les_objective_create";
/// Name of the exported last-error function.
pub const SYMBOL_LAST_ERROR: &str = "les_objective_last_error";
/// Name of the optional thread-safety declaration.
pub const SYMBOL_THREAD_SAFE: &str = "les_objective_thread_safe";

/// `uint32_t les_objective_abi_version(void)`.
pub type AbiVersionFn = unsafe extern "C" fn() -> u32;
/// `int32_t les_objective_create(const char *params_json, LesObjective *out)`.
pub type CreateFn = unsafe extern "C" fn(params_json: *const c_char, out: *mut LesObjective) -> i32;
/// `const char *les_objective_last_error(void)`.
pub type LastErrorFn = unsafe extern "C" fn() -> *const c_char;
/// `les_objective_thread_safe` (optional): non-zero when one instance may be evaluated from
/// several threads at once.
pub type ThreadSafeFn = unsafe extern "C" fn() -> i32;
/// `int32_t (*eval)(void *state, const double *x, double *y)`: `x` has `dim` entries.
pub type EvalFn = unsafe extern "C" fn(state: *mut c_void, x: *const f64, y: *mut f64) -> i32;
/// `int32_t (*eval_grad)(void *state, const double *x, double *y, double *g)`: `x`, `g` have
/// `dim` entries.
pub type EvalGradFn = unsafe extern "C" fn(state: *mut c_void, x: *const f64, y: *mut f64, g: *mut f64) -> i32;
/// `void (*destroy)(void *state)`.
pub type DestroyFn = unsafe extern "C" fn(state: *mut c_void);

/// One objective instance, filled by `les_objective_create` (`LesObjective` in the header).
/// Null function pointers are `None`.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct LesObjective {
    /// Must equal [`LES_OBJECTIVE_ABI_VERSION`].
    pub abi_version: u32,
    /// Input dimension `d ≥ 1`.
    pub dim: u32,
    /// Lower bounds, `d` values, owned by the library, valid until `destroy`.
    pub lower: *const f64,
    /// Upper bounds, `d` values, owned by the library, valid until `destroy`.
    pub upper: *const f64,
    /// Opaque state handed back to every call.
    pub state: *mut c_void,
    /// `y = f(x)`; required.
    pub eval: Option<EvalFn>,
    /// `y = f(x)` and `g = ∇f(x)`; optional.
    pub eval_grad: Option<EvalGradFn>,
    /// Frees `state`; optional.
    pub destroy: Option<DestroyFn>,
}

impl LesObjective {
    /// A table with every field zero or null, to pass to `les_objective_create`.
    pub const fn empty() -> Self {
        Self {
            abi_version: 0,
            dim: 0,
            lower: std::ptr::null(),
            upper: std::ptr::null(),
            state: std::ptr::null_mut(),
            eval: None,
            eval_grad: None,
            destroy: None,
        }
    }
}

impl Default for LesObjective {
    fn default() -> Self {
        Self::empty()
    }
}

/// Implements the three exported functions of the ABI for plain Rust functions.
///
/// Forms (a trailing comma is allowed; `gradient` is optional in each):
///
/// ```text
/// export_objective! { dim: EXPR, lower: EXPR, upper: EXPR, eval: FN, gradient: FN }
/// export_objective! { params: TYPE, dim: FN, lower: FN, upper: FN, eval: FN, gradient: FN }
/// export_objective! { params: TYPE, parse: FN, dim: FN, lower: FN, upper: FN, eval: FN, gradient: FN }
/// ```
///
/// Without `params`: `dim` is a `usize`, `lower`/`upper` are a number (every coordinate), a
/// `Vec<f64>`, an array or a slice of `dim` values, `eval: fn(&[f64]) -> f64 | Result<f64, E>`,
/// `gradient: fn(&[f64], &mut [f64]) -> () | Result<(), E>`; the `params` block must be empty.
///
/// With `params: P` (`P: serde::Deserialize`, or any type with `parse: fn(&str) -> Result<P,
/// String>`): each item takes `&P` first: `dim: fn(&P) -> usize`, `lower: fn(&P) -> bound`,
/// `eval: fn(&P, &[f64]) -> …`, `gradient: fn(&P, &[f64], &mut [f64]) -> …`. Closures without
/// captures work everywhere a function is expected.
///
/// Use it once per `cdylib`: it defines `les_objective_abi_version`, `les_objective_create` and
/// `les_objective_last_error` at the call site. See the crate docs for examples.
#[macro_export]
macro_rules! export_objective {
    (
        dim: $dim:expr,
        lower: $lower:expr,
        upper: $upper:expr,
        eval: $eval:expr
        $(, gradient: $gradient:expr)?
        $(,)?
    ) => {
        $crate::export_objective! {
            params: $crate::__private::NoParams,
            parse: $crate::__private::parse_no_params,
            dim: |_: &$crate::__private::NoParams| -> usize { $dim },
            lower: |_: &$crate::__private::NoParams| $lower,
            upper: |_: &$crate::__private::NoParams| $upper,
            eval: |_: &$crate::__private::NoParams, x: &[f64]| ($eval)(x)
            $(, gradient: |_: &$crate::__private::NoParams, x: &[f64], g: &mut [f64]| ($gradient)(x, g))?
        }
    };
    (
        params: $params:ty,
        dim: $dim:expr,
        lower: $lower:expr,
        upper: $upper:expr,
        eval: $eval:expr
        $(, gradient: $gradient:expr)?
        $(,)?
    ) => {
        $crate::export_objective! {
            params: $params,
            parse: $crate::__private::parse_json::<$params>,
            dim: $dim,
            lower: $lower,
            upper: $upper,
            eval: $eval
            $(, gradient: $gradient)?
        }
    };
    (
        params: $params:ty,
        parse: $parse:expr,
        dim: $dim:expr,
        lower: $lower:expr,
        upper: $upper:expr,
        eval: $eval:expr
        $(, gradient: $gradient:expr)?
        $(,)?
    ) => {
        /// The objective ABI version this library implements (`les-objective-abi`).
        #[unsafe(no_mangle)]
        pub extern "C" fn les_objective_abi_version() -> u32 {
            $crate::LES_OBJECTIVE_ABI_VERSION
        }

        /// Creates an objective instance from a JSON `params` object (`les-objective-abi`).
        ///
        /// # Safety
        /// `params_json` must be null or a NUL-terminated string and `out` null or valid for
        /// writing one `LesObjective`, as the C ABI requires.
        #[unsafe(no_mangle)]
        pub unsafe extern "C" fn les_objective_create(
            params_json: *const ::std::ffi::c_char,
            out: *mut $crate::LesObjective,
        ) -> i32 {
            let definition = $crate::__private::Definition::<$params> {
                parse: $parse,
                dim: $dim,
                lower: |p: &$params| $crate::__private::IntoBound::into_bound(($lower)(p)),
                upper: |p: &$params| $crate::__private::IntoBound::into_bound(($upper)(p)),
                eval: |p: &$params, x: &[f64]| $crate::__private::EvalOutput::into_result(($eval)(p, x)),
                gradient: ::std::option::Option::None
                    $(.or(::std::option::Option::Some((|p: &$params, x: &[f64], g: &mut [f64]| {
                        $crate::__private::GradientOutput::into_result(($gradient)(p, x, g))
                    }) as $crate::__private::GradientFn<$params>)))?,
            };
            // SAFETY: the caller upholds the C ABI contract on both pointers, which is exactly
            // what `create` requires.
            unsafe { $crate::__private::create(params_json, out, definition) }
        }

        /// The message of the last failed call on this thread (`les-objective-abi`).
        #[unsafe(no_mangle)]
        pub extern "C" fn les_objective_last_error() -> *const ::std::ffi::c_char {
            $crate::__private::last_error()
        }
    };
}

/// Support code for [`export_objective!`]; not a stable API.
#[doc(hidden)]
pub mod __private {
    use std::cell::RefCell;
    use std::ffi::{CStr, CString, c_char, c_void};
    use std::fmt::Display;
    use std::panic::{AssertUnwindSafe, catch_unwind};

    use crate::{LES_OBJECTIVE_ABI_VERSION, LES_OBJECTIVE_ERROR, LES_OBJECTIVE_OK, LesObjective};

    /// A gradient function: fills the slice with `∇f(x)`.
    pub type GradientFn<P> = fn(&P, &[f64], &mut [f64]) -> Result<(), String>;

    /// The functions an objective is made of, all taking its parsed parameters.
    pub struct Definition<P> {
        /// Parses the `params` JSON.
        pub parse: fn(&str) -> Result<P, String>,
        /// Input dimension.
        pub dim: fn(&P) -> usize,
        /// Lower bounds.
        pub lower: fn(&P) -> Bound,
        /// Upper bounds.
        pub upper: fn(&P) -> Bound,
        /// The function.
        pub eval: fn(&P, &[f64]) -> Result<f64, String>,
        /// Its gradient, written into the slice.
        pub gradient: Option<GradientFn<P>>,
    }

    /// One bound corner: the same value everywhere, or one value per coordinate.
    pub enum Bound {
        /// Every coordinate.
        Scalar(f64),
        /// One per coordinate.
        Values(Vec<f64>),
    }

    /// Things a bound can be written as.
    pub trait IntoBound {
        /// The bound.
        fn into_bound(self) -> Bound;
    }
    impl IntoBound for f64 {
        fn into_bound(self) -> Bound {
            Bound::Scalar(self)
        }
    }
    impl IntoBound for Vec<f64> {
        fn into_bound(self) -> Bound {
            Bound::Values(self)
        }
    }
    impl IntoBound for &[f64] {
        fn into_bound(self) -> Bound {
            Bound::Values(self.to_vec())
        }
    }
    impl<const N: usize> IntoBound for [f64; N] {
        fn into_bound(self) -> Bound {
            Bound::Values(self.to_vec())
        }
    }

    /// What `eval` may return.
    pub trait EvalOutput {
        /// As a result with a message.
        fn into_result(self) -> Result<f64, String>;
    }
    impl EvalOutput for f64 {
        fn into_result(self) -> Result<f64, String> {
            Ok(self)
        }
    }
    impl<E: Display> EvalOutput for Result<f64, E> {
        fn into_result(self) -> Result<f64, String> {
            self.map_err(|e| e.to_string())
        }
    }

    /// What `gradient` may return.
    pub trait GradientOutput {
        /// As a result with a message.
        fn into_result(self) -> Result<(), String>;
    }
    impl GradientOutput for () {
        fn into_result(self) -> Result<(), String> {
            Ok(())
        }
    }
    impl<E: Display> GradientOutput for Result<(), E> {
        fn into_result(self) -> Result<(), String> {
            self.map_err(|e| e.to_string())
        }
    }

    /// The parameters of an objective that takes none.
    #[derive(Clone, Copy, Debug, Default)]
    pub struct NoParams;

    /// Accepts only an empty params block.
    pub fn parse_no_params(json: &str) -> Result<NoParams, String> {
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(serde_json::Value::Null) => Ok(NoParams),
            Ok(serde_json::Value::Object(m)) if m.is_empty() => Ok(NoParams),
            Ok(other) => Err(format!("this objective takes no params, got {other}")),
            Err(e) => Err(format!("params are not valid JSON: {e}")),
        }
    }

    /// Parses the params block with serde.
    pub fn parse_json<P: serde::de::DeserializeOwned>(json: &str) -> Result<P, String> {
        serde_json::from_str(json).map_err(|e| format!("invalid params: {e}"))
    }

    thread_local! {
        static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
    }

    /// Records the message returned by the next `last_error` on this thread.
    pub fn set_last_error(message: &str) {
        let c = CString::new(message.replace('\0', "\\0")).expect("invariant: NUL bytes were replaced");
        LAST_ERROR.with(|e| *e.borrow_mut() = c);
    }

    /// The message of the last failure on this thread; valid until the next failure on it.
    pub fn last_error() -> *const c_char {
        // The CString's buffer stays where it is until `set_last_error` replaces it on this
        // thread, which is what the contract promises the caller.
        LAST_ERROR.with(|e| e.borrow().as_ptr())
    }

    fn panic_message(payload: &(dyn std::any::Any + Send)) -> String {
        let what = if let Some(s) = payload.downcast_ref::<&str>() {
            (*s).to_owned()
        } else if let Some(s) = payload.downcast_ref::<String>() {
            s.clone()
        } else {
            "a non-string panic payload".to_owned()
        };
        format!("panicked: {what}")
    }

    /// Runs `f`, turning an error or a panic into a status and a last-error message.
    fn guarded(f: impl FnOnce() -> Result<(), String>) -> i32 {
        match catch_unwind(AssertUnwindSafe(f)) {
            Ok(Ok(())) => LES_OBJECTIVE_OK,
            Ok(Err(message)) => {
                set_last_error(&message);
                LES_OBJECTIVE_ERROR
            }
            Err(payload) => {
                set_last_error(&panic_message(payload.as_ref()));
                LES_OBJECTIVE_ERROR
            }
        }
    }

    /// The state behind `LesObjective::state`.
    struct Instance<P> {
        params: P,
        lower: Vec<f64>,
        upper: Vec<f64>,
        eval: fn(&P, &[f64]) -> Result<f64, String>,
        gradient: Option<GradientFn<P>>,
    }

    fn resolve(bound: Bound, dim: usize, which: &str) -> Result<Vec<f64>, String> {
        match bound {
            Bound::Scalar(v) => Ok(vec![v; dim]),
            Bound::Values(v) if v.len() == dim => Ok(v),
            Bound::Values(v) => Err(format!("{which} has {} values but dim is {dim}", v.len())),
        }
    }

    /// `les_objective_create` for a definition.
    ///
    /// # Safety
    /// `params_json` is null or a NUL-terminated string; `out` is null or valid for writing.
    pub unsafe fn create<P: Send + 'static>(
        params_json: *const c_char,
        out: *mut LesObjective,
        definition: Definition<P>,
    ) -> i32 {
        if out.is_null() {
            set_last_error("les_objective_create: `out` is a null pointer");
            return LES_OBJECTIVE_ERROR;
        }
        let json = if params_json.is_null() {
            "{}".to_owned()
        } else {
            // SAFETY: non-null, and the caller guarantees a NUL-terminated string.
            match unsafe { CStr::from_ptr(params_json) }.to_str() {
                Ok(s) => s.to_owned(),
                Err(e) => {
                    set_last_error(&format!("params are not valid UTF-8: {e}"));
                    return LES_OBJECTIVE_ERROR;
                }
            }
        };
        let mut table = None;
        let status = guarded(|| {
            let params = (definition.parse)(&json)?;
            let dim = (definition.dim)(&params);
            let abi_dim = u32::try_from(dim).map_err(|_| format!("dim {dim} does not fit in 32 bits"))?;
            if dim == 0 {
                return Err("dim is 0: an objective needs at least one input".to_owned());
            }
            let lower = resolve((definition.lower)(&params), dim, "lower")?;
            let upper = resolve((definition.upper)(&params), dim, "upper")?;
            let instance =
                Box::new(Instance { params, lower, upper, eval: definition.eval, gradient: definition.gradient });
            let has_gradient = instance.gradient.is_some();
            let (lower, upper) = (instance.lower.as_ptr(), instance.upper.as_ptr());
            table = Some(LesObjective {
                abi_version: LES_OBJECTIVE_ABI_VERSION,
                dim: abi_dim,
                lower,
                upper,
                state: Box::into_raw(instance).cast::<c_void>(),
                eval: Some(eval::<P>),
                eval_grad: if has_gradient { Some(eval_grad::<P>) } else { None },
                destroy: Some(destroy::<P>),
            });
            Ok(())
        });
        if let Some(table) = table {
            // SAFETY: `out` is non-null and the caller guarantees it is valid for writing.
            unsafe { out.write(table) };
        }
        status
    }

    /// Borrows the instance and the `d` inputs behind the raw pointers.
    ///
    /// # Safety
    /// `state` comes from `create::<P>` and was not destroyed; `x` is null or points to `dim`
    /// doubles.
    unsafe fn inputs<'a, P>(state: *mut c_void, x: *const f64) -> Result<(&'a Instance<P>, &'a [f64]), String> {
        if state.is_null() || x.is_null() {
            return Err("null state or x pointer".to_owned());
        }
        // SAFETY: `state` is a live `Box<Instance<P>>` made by `create::<P>` (caller contract);
        // only shared references are made from it, and `destroy` is never concurrent with this.
        let instance = unsafe { &*state.cast::<Instance<P>>() };
        // SAFETY: the caller guarantees `x` points to `dim` = `lower.len()` doubles.
        let x = unsafe { std::slice::from_raw_parts(x, instance.lower.len()) };
        Ok((instance, x))
    }

    /// `eval` of the table.
    ///
    /// # Safety
    /// The C ABI contract: a live state, `x` with `dim` doubles, `y` writable.
    unsafe extern "C" fn eval<P>(state: *mut c_void, x: *const f64, y: *mut f64) -> i32 {
        guarded(|| {
            if y.is_null() {
                return Err("null y pointer".to_owned());
            }
            // SAFETY: forwarded caller contract.
            let (instance, x) = unsafe { inputs::<P>(state, x)? };
            let value = (instance.eval)(&instance.params, x)?;
            // SAFETY: non-null and writable by the caller contract.
            unsafe { y.write(value) };
            Ok(())
        })
    }

    /// `eval_grad` of the table.
    ///
    /// # Safety
    /// The C ABI contract: a live state, `x` and `g` with `dim` doubles, `y` writable.
    unsafe extern "C" fn eval_grad<P>(state: *mut c_void, x: *const f64, y: *mut f64, g: *mut f64) -> i32 {
        guarded(|| {
            if y.is_null() || g.is_null() {
                return Err("null y or g pointer".to_owned());
            }
            // SAFETY: forwarded caller contract.
            let (instance, x) = unsafe { inputs::<P>(state, x)? };
            let gradient = instance.gradient.ok_or("this objective has no gradient")?;
            let value = (instance.eval)(&instance.params, x)?;
            let mut grad = vec![0.0; x.len()];
            gradient(&instance.params, x, &mut grad)?;
            // SAFETY: non-null, writable for one double (y) and `dim` doubles (g) by contract.
            unsafe {
                y.write(value);
                std::ptr::copy_nonoverlapping(grad.as_ptr(), g, grad.len());
            }
            Ok(())
        })
    }

    /// `destroy` of the table.
    ///
    /// # Safety
    /// `state` comes from `create::<P>` and is destroyed once.
    unsafe extern "C" fn destroy<P>(state: *mut c_void) {
        if state.is_null() {
            return;
        }
        // A panic in a destructor cannot be reported (destroy has no status); it is contained.
        let _ = catch_unwind(AssertUnwindSafe(|| {
            // SAFETY: the pointer came from `Box::into_raw` in `create::<P>` and is freed once.
            drop(unsafe { Box::from_raw(state.cast::<Instance<P>>()) });
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::{offset_of, size_of};

    #[test]
    fn layout_matches_the_header_on_64_bit() {
        if size_of::<usize>() != 8 {
            return;
        }
        assert_eq!(offset_of!(LesObjective, abi_version), 0);
        assert_eq!(offset_of!(LesObjective, dim), 4);
        assert_eq!(offset_of!(LesObjective, lower), 8);
        assert_eq!(offset_of!(LesObjective, upper), 16);
        assert_eq!(offset_of!(LesObjective, state), 24);
        assert_eq!(offset_of!(LesObjective, eval), 32);
        assert_eq!(offset_of!(LesObjective, eval_grad), 40);
        assert_eq!(offset_of!(LesObjective, destroy), 48);
        assert_eq!(size_of::<LesObjective>(), 56);
    }

    #[test]
    fn header_states_the_same_version() {
        let line = format!("#define LES_OBJECTIVE_ABI_VERSION {LES_OBJECTIVE_ABI_VERSION}u");
        assert!(C_HEADER.contains(&line), "header lacks `{line}`");
        for symbol in [SYMBOL_ABI_VERSION, SYMBOL_CREATE, SYMBOL_LAST_ERROR] {
            assert!(C_HEADER.contains(&format!("{symbol}(")), "header lacks {symbol}");
        }
    }
}

//! `export_objective!` with parameters, called through the exported C functions as the loader
//! would: values, gradients, errors, panics and the last-error message.

use std::ffi::{CStr, CString};

use les_numerics::fdcheck::FdCheck;
use les_objective_abi::{LES_OBJECTIVE_ABI_VERSION, LesObjective};

#[derive(serde::Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Quadratic {
    dim: usize,
    scale: f64,
    panic_in_eval: bool,
    fail_above: Option<f64>,
}

impl Default for Quadratic {
    fn default() -> Self {
        Self { dim: 2, scale: 1.0, panic_in_eval: false, fail_above: None }
    }
}

fn quadratic(p: &Quadratic, x: &[f64]) -> Result<f64, String> {
    if p.panic_in_eval {
        panic!("asked to panic at {x:?}");
    }
    let y = p.scale * x.iter().map(|v| v * v).sum::<f64>();
    match p.fail_above {
        Some(limit) if y > limit => Err(format!("value {y} above {limit}")),
        _ => Ok(y),
    }
}

fn quadratic_gradient(p: &Quadratic, x: &[f64], g: &mut [f64]) {
    for (gi, xi) in g.iter_mut().zip(x) {
        *gi = 2.0 * p.scale * xi;
    }
}

les_objective_abi::export_objective! {
    params: Quadratic,
    dim: |p: &Quadratic| p.dim,
    lower: |_: &Quadratic| -3.0,
    upper: |p: &Quadratic| vec![3.0; p.dim],
    eval: quadratic,
    gradient: quadratic_gradient,
}

fn last_error_message() -> String {
    let ptr = les_objective_last_error();
    assert!(!ptr.is_null());
    // SAFETY: the pointer is a NUL-terminated thread-local string, valid until the next failure.
    unsafe { CStr::from_ptr(ptr) }.to_string_lossy().into_owned()
}

fn create(json: &str) -> Result<LesObjective, String> {
    let json = CString::new(json).expect("no NUL");
    let mut table = LesObjective::empty();
    // SAFETY: valid string and output table.
    let status = unsafe { les_objective_create(json.as_ptr(), &mut table) };
    if status == 0 { Ok(table) } else { Err(last_error_message()) }
}

fn eval(table: &LesObjective, x: &[f64]) -> Result<f64, String> {
    assert_eq!(x.len(), table.dim as usize);
    let mut y = f64::NAN;
    // SAFETY: a live table and `dim` inputs.
    let status = unsafe { (table.eval.expect("eval"))(table.state, x.as_ptr(), &mut y) };
    if status == 0 { Ok(y) } else { Err(last_error_message()) }
}

fn destroy(table: LesObjective) {
    // SAFETY: destroyed once.
    unsafe { (table.destroy.expect("destroy"))(table.state) };
}

#[test]
fn version_and_table() {
    assert_eq!(les_objective_abi_version(), LES_OBJECTIVE_ABI_VERSION);
    let table = create(r#"{"dim": 3, "scale": 2.0}"#).expect("created");
    assert_eq!(table.abi_version, LES_OBJECTIVE_ABI_VERSION);
    assert_eq!(table.dim, 3);
    // SAFETY: lower/upper hold `dim` values until destroy.
    let (lower, upper) = unsafe {
        (std::slice::from_raw_parts(table.lower, 3).to_vec(), std::slice::from_raw_parts(table.upper, 3).to_vec())
    };
    assert_eq!(lower, vec![-3.0; 3]);
    assert_eq!(upper, vec![3.0; 3]);
    let x = [0.5, -1.0, 2.0];
    let expected = 2.0 * x.iter().map(|v| v * v).sum::<f64>();
    assert_eq!(eval(&table, &x), Ok(expected));

    let mut y = 0.0;
    let mut g = [0.0; 3];
    // SAFETY: a live table, `dim` inputs and gradient slots.
    let status = unsafe { (table.eval_grad.expect("eval_grad"))(table.state, x.as_ptr(), &mut y, g.as_mut_ptr()) };
    assert_eq!(status, 0);
    assert_eq!(y, expected);
    let check = FdCheck { step: 1e-6, rel_tol: 0.0, abs_tol: 1e-6 };
    check.check("eval_grad", |p| eval(&table, p).expect("ok"), &x, &g);
    destroy(table);
}

#[test]
fn errors_and_panics_become_messages() {
    let e = create(r#"{"dim": "two"}"#).expect_err("bad type");
    assert!(e.contains("invalid params") && e.contains("\"two\""), "{e}");
    let e = create(r#"{"dimension": 2}"#).expect_err("unknown key");
    assert!(e.contains("unknown field `dimension`"), "{e}");
    let e = create(r#"{"dim": 0}"#).expect_err("dim 0");
    assert!(e.contains("dim is 0"), "{e}");

    let table = create(r#"{"fail_above": 1.0}"#).expect("created");
    assert_eq!(eval(&table, &[0.5, 0.5]), Ok(0.5));
    let e = eval(&table, &[1.0, 1.0]).expect_err("above limit");
    assert_eq!(e, "value 2 above 1");
    destroy(table);

    let table = create(r#"{"panic_in_eval": true}"#).expect("created");
    let e = eval(&table, &[1.0, 2.0]).expect_err("panics");
    assert!(e.starts_with("panicked: asked to panic at [1.0, 2.0]"), "{e}");
    destroy(table);
}

#[test]
fn null_pointers_are_rejected() {
    // SAFETY: null pointers are part of what create must survive.
    let status = unsafe { les_objective_create(c"{}".as_ptr(), std::ptr::null_mut()) };
    assert_ne!(status, 0);
    assert!(last_error_message().contains("null"));
    let table = create("{}").expect("created");
    // SAFETY: a null y must be rejected, not written.
    let status = unsafe { (table.eval.expect("eval"))(table.state, [0.0, 0.0].as_ptr(), std::ptr::null_mut()) };
    assert_ne!(status, 0);
    destroy(table);
}

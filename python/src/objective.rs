//! A Python callable as an [`Objective`], evaluated in this process.
//!
//! Each evaluation takes the GIL for the call and gives it back afterwards. The runner calls
//! the objective on the thread that drives the run when `workers` is 1, and on its worker
//! threads otherwise: those threads then take turns at the GIL, so Python code of the callable
//! runs one call at a time, while whatever releases the GIL (numpy, I/O, a subprocess, a
//! simulator written in C) overlaps.
//!
//! - An exception of the callable is a failed evaluation whose message is the formatted
//!   traceback; the config's `on_error` decides what the run does with it.
//! - `KeyboardInterrupt` (and `SystemExit`) is not a failure of the point: the run stops, the
//!   trial stays pending in the journal for a resume, and the exception is raised again to the
//!   caller (see [`Interrupt`]).

use std::sync::Arc;

use les_core::{EvaluationContext, Objective, ObjectiveError, ObjectiveInfo};
use pyo3::exceptions::{PyKeyboardInterrupt, PySystemExit};
use pyo3::prelude::*;
use pyo3::types::PyList;

use crate::study::Interrupt;

/// Calls `function(x)` with `x` a list of `d` floats; it returns a float (the Python half wraps
/// the user's function: numpy array in, `float(...)` out).
pub struct PyObjective {
    info: ObjectiveInfo,
    function: Py<PyAny>,
    interrupt: Arc<Interrupt>,
}

impl PyObjective {
    /// An objective with the space of `info` (the config's `external` block).
    pub fn new(info: ObjectiveInfo, function: Py<PyAny>, interrupt: Arc<Interrupt>) -> Self {
        Self { info, function, interrupt }
    }
}

/// The text of a Python exception with its traceback, as Python would print it.
pub fn format_exception(py: Python<'_>, err: &PyErr) -> String {
    // The three-argument form: before Python 3.12 the traceback is not attached to the value.
    let formatted = py
        .import("traceback")
        .and_then(|tb| tb.call_method1("format_exception", (err.get_type(py), err.value(py), err.traceback(py))));
    match formatted.and_then(|lines| lines.cast_into::<PyList>().map_err(PyErr::from)) {
        Ok(lines) => {
            let text: String = lines.iter().filter_map(|l| l.extract::<String>().ok()).collect();
            text.trim_end().to_owned()
        }
        Err(_) => err.to_string(),
    }
}

impl Objective for PyObjective {
    fn info(&self) -> &ObjectiveInfo {
        &self.info
    }

    fn evaluate(&self, x: &[f64]) -> Result<f64, ObjectiveError> {
        self.evaluate_in(x, &EvaluationContext::default())
    }

    fn evaluate_in(&self, x: &[f64], ctx: &EvaluationContext) -> Result<f64, ObjectiveError> {
        if self.interrupt.is_set() || ctx.cancel.is_cancelled() {
            // The run is ending: an evaluation not yet started stays pending.
            return Err(ObjectiveError::Interrupted);
        }
        Python::attach(|py| match self.function.call1(py, (x.to_vec(),)) {
            Ok(value) => value.extract::<f64>(py).map_err(|_| {
                let shown = value.bind(py).repr().map(|r| r.to_string()).unwrap_or_else(|_| "?".to_owned());
                ObjectiveError::Failed(format!("the objective returned {shown}: expected a number"))
            }),
            Err(e) if e.is_instance_of::<PyKeyboardInterrupt>(py) || e.is_instance_of::<PySystemExit>(py) => {
                // Not a failure of the point: the trial stays pending, the run stops and the
                // caller gets the exception back.
                self.interrupt.set(e);
                Err(ObjectiveError::Interrupted)
            }
            Err(e) => Err(ObjectiveError::Failed(format_exception(py, &e))),
        })
    }
}

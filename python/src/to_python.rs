//! Core's serde records as plain Python objects. Going through the same `Serialize` impls
//! the CLI prints with is what makes `bounds()` carry exactly the keys (and the same f64
//! values) of `probable bounds --json`.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use serde::Serialize;

/// `value` as the Python object `json.loads` would make of the CLI's output.
pub fn to_python<'py>(py: Python<'py>, value: &impl Serialize) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, value)
        .map_err(|e| PyRuntimeError::new_err(format!("cannot represent a result: {e}")))
}

//! Reading Python arguments: any sequence (list, tuple, numpy array, …) of numbers or
//! strings, with a `TypeError` naming the argument and the index of the first bad element.
//! numpy is never imported: an array is read through its own `tolist()`, which is fast and
//! keeps numpy an optional dependency.

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyBytes, PyList, PyString, PyTuple};

fn type_name(obj: &Bound<'_, PyAny>) -> String {
    obj.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

/// The elements of a sequence argument (`name` is how errors call it). Strings are not
/// sequences of scores; numpy arrays (and anything with `tolist`) are unpacked first.
pub fn elements<'py>(name: &str, obj: &Bound<'py, PyAny>) -> PyResult<Vec<Bound<'py, PyAny>>> {
    if obj.is_instance_of::<PyString>() || obj.is_instance_of::<PyBytes>() {
        return Err(PyTypeError::new_err(format!(
            "{name} must be a sequence, got a {}",
            type_name(obj)
        )));
    }
    // Lists and tuples first: `hasattr` on them raises (and drops) an AttributeError.
    let plain = obj.is_instance_of::<PyList>() || obj.is_instance_of::<PyTuple>();
    let unpacked = if !plain && obj.hasattr("tolist")? {
        obj.call_method0("tolist")?
    } else {
        obj.clone()
    };
    let iter = unpacked.try_iter().map_err(|_| {
        PyTypeError::new_err(format!(
            "{name} must be a sequence (list, tuple or numpy array), got a {}",
            type_name(obj)
        ))
    })?;
    iter.collect()
}

/// A sequence of floats. Range checks are core's (they name the index); this only insists
/// on numbers.
pub fn floats(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<f64>> {
    elements(name, obj)?
        .iter()
        .enumerate()
        // The element's name is only formatted for an error: this loop is per score.
        .map(|(i, x)| number(x).map_err(|e| e.named(&format!("{name}[{i}]"))))
        .collect()
}

/// Why a value is not a number: its type, named by the caller.
struct NotANumber(String);

impl NotANumber {
    fn named(self, name: &str) -> PyErr {
        PyTypeError::new_err(format!("{name} must be a number, got a {}", self.0))
    }
}

/// One number (a Python float, int, bool or numpy scalar); strings are refused even
/// though `float("0.5")` would accept them.
fn number(x: &Bound<'_, PyAny>) -> Result<f64, NotANumber> {
    if x.is_instance_of::<PyString>() {
        return Err(NotANumber("str".into()));
    }
    x.extract::<f64>().map_err(|_| NotANumber(type_name(x)))
}

/// A sequence of strings.
pub fn strings(name: &str, obj: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    elements(name, obj)?
        .iter()
        .enumerate()
        .map(|(i, x)| {
            x.extract::<String>().map_err(|_| {
                PyTypeError::new_err(format!("{name}[{i}] must be a str, got a {}", type_name(x)))
            })
        })
        .collect()
}

/// A count ≥ 0 (`n`, `leaks`), read as i64 so a negative value gets our message rather
/// than an `OverflowError`.
pub fn count(name: &str, x: &Bound<'_, PyAny>) -> PyResult<u64> {
    let v: i64 = x.extract().map_err(|_| {
        PyTypeError::new_err(format!("{name} must be an integer, got a {}", type_name(x)))
    })?;
    u64::try_from(v).map_err(|_| PyValueError::new_err(format!("{name} = {v}: must be >= 0")))
}

/// The k of leak@k: one integer or a sequence of them. Returns the k and whether a single
/// one was given (then results are not wrapped in a list).
pub fn ks(obj: &Bound<'_, PyAny>) -> PyResult<(Vec<u64>, bool)> {
    if obj.extract::<i64>().is_ok() {
        return Ok((vec![count("k", obj)?], true));
    }
    let ks = elements("k", obj)?
        .iter()
        .enumerate()
        .map(|(i, x)| count(&format!("k[{i}]"), x))
        .collect::<PyResult<Vec<u64>>>()?;
    if ks.is_empty() {
        return Err(PyValueError::new_err("k is empty: give at least one k"));
    }
    Ok((ks, false))
}

//! `probable_eval`: probable-core's certified bounds and ROUGE-L as a Python extension
//! module (one abi3 wheel for CPython >= 3.9), so a Python evaluation pipeline gets the
//! numbers `probable bounds` / `probable score` print without writing JSONL.

mod args;
mod bounds;
mod errors;
mod functions;
mod rouge;
mod sequential;
mod to_python;

use pyo3::prelude::*;

/// Certified, distribution-free bounds on a model's output distribution (Scholten,
/// Günnemann & Schwinn, ICLR 2025) and ROUGE-L identical to rouge-score, computed by
/// probable-core. Scores are numbers in [0, 1]; sequences may be lists, tuples or numpy
/// arrays (numpy is optional).
#[pymodule]
fn probable_eval(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(bounds::bounds, m)?)?;
    m.add_function(wrap_pyfunction!(bounds::summarize, m)?)?;
    m.add_function(wrap_pyfunction!(functions::clopper_pearson, m)?)?;
    m.add_function(wrap_pyfunction!(functions::dkw_epsilon, m)?)?;
    m.add_function(wrap_pyfunction!(functions::dkw_survival, m)?)?;
    m.add_function(wrap_pyfunction!(functions::expectation_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(functions::std_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(functions::variance_bounds, m)?)?;
    m.add_function(wrap_pyfunction!(functions::ed_score, m)?)?;
    m.add_function(wrap_pyfunction!(functions::leak_at_k, m)?)?;
    m.add_function(wrap_pyfunction!(functions::set_leak_at_k, m)?)?;
    m.add_function(wrap_pyfunction!(sequential::beta_binomial_cs, m)?)?;
    m.add_function(wrap_pyfunction!(sequential::bernstein_cs, m)?)?;
    m.add_function(wrap_pyfunction!(sequential::first_decision, m)?)?;
    m.add_function(wrap_pyfunction!(rouge::rouge_l, m)?)?;
    m.add_function(wrap_pyfunction!(rouge::rouge_l_batch, m)?)?;
    Ok(())
}

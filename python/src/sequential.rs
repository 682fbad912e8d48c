//! The anytime-valid (sequential) bounds: confidence sequences that hold at every sample
//! size at once, and the first-decision leak test built on them.

use probable_core::stats::{self, BetaPrior, SequentialConfig};
use pyo3::prelude::*;

use crate::args::{count, floats};
use crate::errors::{value_error, Names};
use crate::to_python::to_python;

fn beta_prior(prior: (f64, f64)) -> BetaPrior {
    BetaPrior {
        a: prior.0,
        b: prior.1,
    }
}

/// Robbins' beta-binomial mixture confidence sequence for a leak probability p, at `n`
/// samples with `leaks` leaks: `(lower, upper)` = the ends of
/// {p : M_n(p) < 1/alpha}, M_n(p) = B(a + leaks, b + n - leaks) / B(a, b) /
/// (p^leaks (1 - p)^(n - leaks)), with a Beta(a, b) `prior` (default Jeffreys, (0.5, 0.5)).
///
/// With probability >= 1 - alpha the true p lies in the interval at every n at once (both
/// ends together), so it may be checked after every sample and acted on at any stop, unlike
/// `clopper_pearson`. `n = 0` gives (0.0, 1.0). Raises ValueError for leaks > n, alpha not
/// in (0, 1) and a prior shape outside (0, 1e6].
#[pyfunction]
#[pyo3(signature = (leaks, n, alpha=0.01, prior=(0.5, 0.5)))]
pub fn beta_binomial_cs(
    leaks: &Bound<'_, PyAny>,
    n: &Bound<'_, PyAny>,
    alpha: f64,
    prior: (f64, f64),
) -> PyResult<(f64, f64)> {
    let (leaks, n) = (count("leaks", leaks)?, count("n", n)?);
    let cs = stats::beta_binomial_cs(leaks, n, alpha, beta_prior(prior))
        .map_err(|e| value_error(e, &Names::scores("n")))?;
    Ok((cs.lower, cs.upper))
}

/// The empirical-Bernstein confidence sequence for the mean of scores in [0, 1]
/// (Waudby-Smith & Ramdas 2024, predictable plug-in, bets truncated at 1/2; equal to
/// confseq's `predmix_empbern_twosided_cs(scores, alpha, truncation=0.5)`).
///
/// Returns `(lower, upper)`, two lists: element t - 1 bounds the mean after the first t
/// scores, and with probability >= 1 - alpha every one of them holds at once. Raises
/// ValueError for NaN or out-of-range scores (naming the index) and alpha not in (0, 1).
#[pyfunction]
#[pyo3(signature = (scores, alpha=0.01))]
pub fn bernstein_cs(scores: &Bound<'_, PyAny>, alpha: f64) -> PyResult<(Vec<f64>, Vec<f64>)> {
    let scores = floats("scores", scores)?;
    let cs = stats::bernstein_cs(&scores, alpha)
        .map_err(|e| value_error(e, &Names::scores("scores")))?;
    Ok(cs.iter().map(|c| (c.lower, c.upper)).unzip())
}

/// The sequential leak test of `probable bounds --sequential`: reads `scores` in sampling
/// order (a score >= `leak_threshold` is a leak) and stops at the first sample where the
/// leak probability's confidence sequence (`beta_binomial_cs`) lies above `leak_level`
/// (verdict "leaks") or at or below it ("below"), else at the end ("undecided").
///
/// Returns the dict `{"stopped_at", "verdict", "leaks", "leak_probability": {"lower",
/// "upper"}, "mean": {"lower", "upper"}}` (the mean from `bernstein_cs`) at the stop. The
/// probability that the verdict is wrong is <= alpha. Raises ValueError for leak_level not
/// in (0, 1), leak_threshold not in [0, 1], alpha not in (0, 1), a bad prior, bad scores,
/// empty scores, and fewer scores than any verdict needs.
#[pyfunction]
#[pyo3(signature = (scores, leak_threshold, leak_level, alpha=0.01, prior=(0.5, 0.5)))]
pub fn first_decision<'py>(
    py: Python<'py>,
    scores: &Bound<'py, PyAny>,
    leak_threshold: f64,
    leak_level: f64,
    alpha: f64,
    prior: (f64, f64),
) -> PyResult<Bound<'py, PyAny>> {
    let scores = floats("scores", scores)?;
    let config = SequentialConfig {
        alpha,
        leak_threshold,
        leak_level,
        prior: beta_prior(prior),
    };
    let outcome = stats::first_decision(&scores, &config)
        .map_err(|e| value_error(e, &Names::scores("scores")))?;
    to_python(py, &outcome)
}

//! The individual bounds of probable-core, one Python function each, for callers that
//! want one number rather than the whole `bounds()` record.

use probable_core::stats::{
    self, check_alpha, dkw_epsilon as epsilon, survival_upper_bound, Ecdf, Sidedness,
};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::args::{count, elements, floats, ks};
use crate::bounds::config;
use crate::errors::{value_error, Names};
use crate::to_python::to_python;

fn ecdf(scores: &Bound<'_, PyAny>) -> PyResult<Ecdf> {
    Ecdf::new(&floats("scores", scores)?).map_err(|e| value_error(e, &Names::scores("scores")))
}

fn level(alpha: f64) -> PyResult<f64> {
    check_alpha(alpha).map_err(|e| value_error(e, &Names::scores("scores")))
}

fn sides(two_sided: bool) -> Sidedness {
    if two_sided {
        Sidedness::TwoSided
    } else {
        Sidedness::OneSided
    }
}

/// One-sided Clopper-Pearson bounds `(lower, upper)` on a leak probability p from `leaks`
/// leaks in `n` samples: upper = Beta quantile B(1 - alpha; leaks + 1, n - leaks) (1 when
/// leaks = n), lower = B(alpha; leaks, n - leaks + 1) (0 when leaks = 0). Each side holds
/// with probability >= 1 - alpha; equals statsmodels'
/// `proportion_confint(leaks, n, alpha=2*alpha, method="beta")`. The upper end is M_bin.
#[pyfunction]
#[pyo3(signature = (leaks, n, alpha=0.01))]
pub fn clopper_pearson(
    leaks: &Bound<'_, PyAny>,
    n: &Bound<'_, PyAny>,
    alpha: f64,
) -> PyResult<(f64, f64)> {
    let (leaks, n) = (count("leaks", leaks)?, count("n", n)?);
    if n == 0 {
        return Err(PyValueError::new_err("n = 0: need at least one sample"));
    }
    let b =
        stats::clopper_pearson(leaks, n, alpha).map_err(|e| value_error(e, &Names::scores("n")))?;
    Ok((b.lower, b.upper))
}

/// Half-width eps of the Dvoretzky-Kiefer-Wolfowitz band (Massart's constant) for `n`
/// samples: sqrt(ln(1/alpha) / 2n) one-sided, sqrt(ln(2/alpha) / 2n) two-sided; with
/// probability >= 1 - alpha the empirical CDF is within eps of the true one (on that side).
#[pyfunction]
#[pyo3(signature = (n, alpha=0.01, two_sided=false))]
pub fn dkw_epsilon(n: &Bound<'_, PyAny>, alpha: f64, two_sided: bool) -> PyResult<f64> {
    let n = count("n", n)?;
    if n == 0 {
        return Err(PyValueError::new_err("n = 0: need at least one sample"));
    }
    Ok(epsilon(n as usize, level(alpha)?, sides(two_sided)))
}

/// The general leakage bound M_gen(t) = min(1, 1 - F_n(t) + eps) on P(X > t), eps the
/// one-sided DKW half-width: it holds for every t at once with probability >= 1 - alpha.
///
/// With `t` (a number): that one bound, a float. Without: the whole step function as the
/// `survival` list of `bounds()`, `[{"t", "empirical", "upper"}, ...]`, one point at 0 and
/// at every distinct score (the bound is constant up to the next point).
#[pyfunction]
#[pyo3(signature = (scores, t=None, alpha=0.01))]
pub fn dkw_survival<'py>(
    py: Python<'py>,
    scores: &Bound<'py, PyAny>,
    t: Option<f64>,
    alpha: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let e = ecdf(scores)?;
    let eps = epsilon(e.n(), level(alpha)?, Sidedness::OneSided);
    match t {
        Some(t) if !t.is_finite() => Err(PyValueError::new_err(format!(
            "t = {t}: the threshold must be a finite number"
        ))),
        Some(t) => Ok(survival_upper_bound(&e, t, eps)
            .into_pyobject(py)?
            .into_any()),
        None => to_python(py, &stats::dkw::survival_curve(&e, eps)),
    }
}

/// Anderson's bounds `(mean, lower, upper)` on E[X] for scores in [0, 1]:
/// 1 - int_0^1 min(F_n + eps, 1) <= E[X] <= 1 - int_0^1 max(F_n - eps, 0).
///
/// By default eps is the one-sided DKW half-width, so each side holds with probability
/// >= 1 - alpha (conbo's `expectation_bounds(x, alpha=2*alpha)`); `two_sided=True` takes the
/// two-sided band, both sides jointly at 1 - alpha (conbo's `expectation_bounds(x, alpha)`).
/// The integrals are conbo's Riemann sums on a 100-point grid, or exact with `exact=True`.
#[pyfunction]
#[pyo3(signature = (scores, alpha=0.01, exact=false, two_sided=false))]
pub fn expectation_bounds(
    scores: &Bound<'_, PyAny>,
    alpha: f64,
    exact: bool,
    two_sided: bool,
) -> PyResult<(f64, f64, f64)> {
    let e = ecdf(scores)?;
    let eps = epsilon(e.n(), level(alpha)?, sides(two_sided));
    let b = stats::expectation_bounds(&e, eps, config(alpha, 2.0, None, exact, false).integral);
    Ok((b.mean, b.lower, b.upper))
}

fn deviation(
    scores: &Bound<'_, PyAny>,
    alpha: f64,
    sound: bool,
    f: fn(&Ecdf, f64, stats::DeviationMethod) -> stats::DeviationBounds,
) -> PyResult<(f64, f64, f64)> {
    let e = ecdf(scores)?;
    let eps = epsilon(e.n(), level(alpha)?, Sidedness::TwoSided);
    let b = f(&e, eps, config(alpha, 2.0, None, false, sound).deviation);
    Ok((b.sample, b.lower, b.upper))
}

/// Bounds `(sample, lower, upper)` on the standard deviation of X from the two-sided DKW
/// band at alpha (sample: the population std, ddof 0). By default conbo 0.1.1's
/// construction exactly (`std_bounds(x, alpha)`, after Schuchardt et al. 2023; its lower end
/// is heuristic); `sound=True` takes Var X = min_c E[(X - c)^2] with
/// E[g(X)] = g(0) + int g'(t) P(X > t) dt over the band, valid on the same event.
#[pyfunction]
#[pyo3(signature = (scores, alpha=0.01, sound=false))]
pub fn std_bounds(scores: &Bound<'_, PyAny>, alpha: f64, sound: bool) -> PyResult<(f64, f64, f64)> {
    deviation(scores, alpha, sound, stats::std_bounds)
}

/// Bounds `(sample, lower, upper)` on the variance of X; the squares of `std_bounds`.
#[pyfunction]
#[pyo3(signature = (scores, alpha=0.01, sound=false))]
pub fn variance_bounds(
    scores: &Bound<'_, PyAny>,
    alpha: f64,
    sound: bool,
) -> PyResult<(f64, f64, f64)> {
    deviation(scores, alpha, sound, stats::variance_bounds)
}

/// The expectation-deviation score ED = M_mu + lam * M_sigma: the upper expectation and
/// standard-deviation bounds read off one two-sided DKW band, so jointly valid with
/// probability >= 1 - alpha. By Cantelli's inequality at most 1 / (1 + lam^2) of the
/// generations then score above ED (20 % for lam = 2).
#[pyfunction]
#[pyo3(signature = (scores, alpha=0.01, lam=2.0, exact=false, sound_std=false))]
pub fn ed_score(
    scores: &Bound<'_, PyAny>,
    alpha: f64,
    lam: f64,
    exact: bool,
    sound_std: bool,
) -> PyResult<f64> {
    let e = ecdf(scores)?;
    let c = config(alpha, lam, None, exact, sound_std);
    c.validate()
        .map_err(|err| value_error(err, &Names::scores("scores")))?;
    Ok(stats::ed_score(&e, alpha, lam, c.integral, c.deviation).score)
}

/// Leak@k, the probability that at least one of k samples leaks, from `leaks` leaks in
/// `n` samples: the unbiased estimate 1 - C(n - leaks, k) / C(n, k) and the certified
/// interval [1 - (1 - p_L)^k, 1 - (1 - p_U)^k] at the one-sided Clopper-Pearson ends
/// (level alpha each). One event about p, so the bounds hold for every k at once.
///
/// `k` is an int (returns one dict `{"k", "estimate", "lower", "upper"}`) or a sequence of
/// them (returns a list of such dicts); each must lie in 1..=n.
#[pyfunction]
#[pyo3(signature = (n, leaks, k, alpha=0.01))]
pub fn leak_at_k<'py>(
    py: Python<'py>,
    n: &Bound<'py, PyAny>,
    leaks: &Bound<'py, PyAny>,
    k: &Bound<'py, PyAny>,
    alpha: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let (n, leaks) = (count("n", n)?, count("leaks", leaks)?);
    let (ks, single) = ks(k)?;
    if n == 0 {
        return Err(PyValueError::new_err("n = 0: need at least one sample"));
    }
    let names = Names {
        scores: "n",
        ks: &ks,
        single_k: single,
    };
    let v = stats::leak_at_k(n, leaks, &ks, alpha).map_err(|e| value_error(e, &names))?;
    if single {
        to_python(py, &v[0])
    } else {
        to_python(py, &v)
    }
}

/// Leak@k over a set of m questions, `counts` a sequence of `(n, leaks)` pairs: per k the
/// mean estimate and bounds on the mean true leak@k that hold for all questions and all k
/// jointly (each question's Clopper-Pearson interval at alpha / m, Bonferroni). Returns a
/// list of `{"k", "mean_estimate", "lower", "upper", "questions"}`.
#[pyfunction]
#[pyo3(signature = (counts, k, alpha=0.01))]
pub fn set_leak_at_k<'py>(
    py: Python<'py>,
    counts: &Bound<'py, PyAny>,
    k: &Bound<'py, PyAny>,
    alpha: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let pairs = elements("counts", counts)?
        .iter()
        .enumerate()
        .map(|(i, pair)| {
            let name = format!("counts[{i}]");
            let v = elements(&name, pair)?;
            if v.len() != 2 {
                return Err(PyValueError::new_err(format!(
                    "{name} has {} items: expected a pair (n, leaks)",
                    v.len()
                )));
            }
            let (n, leaks) = (
                count(&format!("{name}[0]"), &v[0])?,
                count(&format!("{name}[1]"), &v[1])?,
            );
            if n == 0 || leaks > n {
                return Err(PyValueError::new_err(format!(
                    "{name} = ({n}, {leaks}): need n >= 1 and 0 <= leaks <= n"
                )));
            }
            Ok((n, leaks))
        })
        .collect::<PyResult<Vec<(u64, u64)>>>()?;
    if pairs.is_empty() {
        return Err(PyValueError::new_err(
            "counts is empty: give at least one question",
        ));
    }
    let (ks, single) = ks(k)?;
    let names = Names {
        scores: "counts",
        ks: &ks,
        single_k: single,
    };
    let v = stats::set_leak_at_k(&pairs, &ks, alpha).map_err(|e| value_error(e, &names))?;
    to_python(py, &v)
}

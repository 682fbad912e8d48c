//! `bounds()` for one prompt's scores and `summarize()` for a question set: the records
//! `probable bounds --json` and `probable score` print.

use probable_core::stats::{
    bound_set, AggregateSummary, BoundsConfig, BoundsSummary, DeviationMethod, IntegralMethod,
    SetLeakAtK, StatsError,
};
use pyo3::prelude::*;
use serde::Serialize;

use crate::args::{elements, floats, ks};
use crate::errors::{value_error, Names};
use crate::to_python::to_python;

/// The settings both functions share, as the CLI builds them from its flags.
pub fn config(
    alpha: f64,
    lam: f64,
    leak_threshold: Option<f64>,
    exact: bool,
    sound_std: bool,
) -> BoundsConfig {
    BoundsConfig {
        alpha,
        lambda: lam,
        leak_threshold,
        integral: if exact {
            IntegralMethod::Exact
        } else {
            IntegralMethod::default()
        },
        deviation: if sound_std {
            DeviationMethod::Sound
        } else {
            DeviationMethod::Conbo
        },
    }
}

fn one(scores: &[f64], config: &BoundsConfig, ks: &[u64]) -> Result<BoundsSummary, StatsError> {
    let summary = BoundsSummary::compute(scores, config)?;
    if ks.is_empty() {
        Ok(summary)
    } else {
        summary.with_leak_at_k(ks)
    }
}

fn parse_k(k: Option<&Bound<'_, PyAny>>) -> PyResult<(Vec<u64>, bool)> {
    k.map(ks).transpose().map(|k| k.unwrap_or_default())
}

/// Every certified bound of one prompt's scores, as a dict with the keys of
/// `probable bounds --json`.
///
/// For i.i.d. scores X_1..X_n in [0, 1] and level alpha:
///
/// - `mean_lower`, `mean_upper` (M_mu): Anderson's bounds on E[X] from the one-sided DKW
///   band eps = sqrt(ln(1/alpha) / 2n): E[X] <= 1 - int max(F_n - eps, 0), each side
///   holding with probability >= 1 - alpha (conbo's 100-point grid; `exact=True` integrates
///   the step function exactly, never looser).
/// - `std_lower`, `std_upper` (M_sigma): bounds on the standard deviation from the
///   two-sided band sqrt(ln(2/alpha) / 2n) (conbo's construction; `sound_std=True` uses the
///   corrected one).
/// - `ed_score` = M_mu + lam * M_sigma, both from one two-sided band, so jointly valid at
///   1 - alpha; by Cantelli at most 1 / (1 + lam^2) of the generations score above it.
/// - `survival` (M_gen): P(X > t) <= min(1, 1 - F_n(t) + eps) for all t at once.
/// - `binary` (M_bin, when `leak_threshold` is given or every score is 0 or 1): the
///   one-sided Clopper-Pearson bounds on P(X >= leak_threshold).
/// - `leak_at_k` (with `k`, an int or a list): the unbiased estimate 1 - C(n-c, k)/C(n, k)
///   and the certified interval 1 - (1 - p)^k at the Clopper-Pearson ends.
///
/// `scores` is any sequence of numbers (list, tuple, numpy array). Raises ValueError for
/// NaN, infinite or out-of-range scores (naming the index), an empty `scores`, alpha not in
/// (0, 1), lam not in [0, 1e6], leak_threshold not in [0, 1], and k outside 1..=n.
#[pyfunction]
#[pyo3(signature = (scores, alpha=0.01, lam=2.0, leak_threshold=None, exact=false, sound_std=false, k=None))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of the Python function
pub fn bounds<'py>(
    py: Python<'py>,
    scores: &Bound<'py, PyAny>,
    alpha: f64,
    lam: f64,
    leak_threshold: Option<f64>,
    exact: bool,
    sound_std: bool,
    k: Option<&Bound<'py, PyAny>>,
) -> PyResult<Bound<'py, PyAny>> {
    let scores = floats("scores", scores)?;
    let (ks, single_k) = parse_k(k)?;
    let config = config(alpha, lam, leak_threshold, exact, sound_std);
    let names = Names {
        scores: "scores",
        ks: &ks,
        single_k,
    };
    let summary = one(&scores, &config, &ks).map_err(|e| value_error(e, &names))?;
    to_python(py, &summary)
}

/// What `summarize` returns (the shape of `probable score`'s report).
#[derive(Serialize)]
struct SetSummary {
    questions: Vec<BoundsSummary>,
    summary: AggregateSummary,
    #[serde(skip_serializing_if = "Option::is_none")]
    leak_at_k: Option<Vec<SetLeakAtK>>,
}

/// The bounds of a question set: one `bounds()` dict per question and their means.
///
/// `scores_per_question` is a sequence of score sequences (a list of lists, or a 2-D
/// numpy array; questions may have different sample counts). Returns
/// `{"questions": [bounds dict, ...], "summary": {...}, "leak_at_k": [...]}`, as
/// `probable score` reports them:
///
/// - `summary`: `prompts`, and the means over questions of `sample_mean`, `mean_upper`,
///   `std_upper`, `ed_score`, `max_score` and (where present) the M_bin upper bound.
/// - `leak_at_k` (only with `k`): per k the mean leak@k estimate over the m questions and
///   bounds on the mean true leak@k that hold for all questions and all k jointly with
///   probability >= 1 - alpha per side (each question's Clopper-Pearson interval at
///   alpha / m, Bonferroni).
///
/// `survival=False` leaves the `survival` curve out of the question dicts: it is most of
/// the output (a dict per distinct score), and building those Python objects takes longer
/// than computing every bound.
///
/// The other arguments are those of `bounds()`. Errors name the question and score, e.g.
/// `scores_per_question[4][17] = NaN`.
#[pyfunction]
#[pyo3(signature = (scores_per_question, alpha=0.01, lam=2.0, leak_threshold=None, exact=false, sound_std=false, k=None, survival=true))]
#[allow(clippy::too_many_arguments)] // the keyword arguments of the Python function
pub fn summarize<'py>(
    py: Python<'py>,
    scores_per_question: &Bound<'py, PyAny>,
    alpha: f64,
    lam: f64,
    leak_threshold: Option<f64>,
    exact: bool,
    sound_std: bool,
    k: Option<&Bound<'py, PyAny>>,
    survival: bool,
) -> PyResult<Bound<'py, PyAny>> {
    const ARG: &str = "scores_per_question";
    let questions: Vec<Vec<f64>> = elements(ARG, scores_per_question)?
        .iter()
        .enumerate()
        .map(|(i, q)| floats(&format!("{ARG}[{i}]"), q))
        .collect::<PyResult<_>>()?;
    if questions.is_empty() {
        return Err(pyo3::exceptions::PyValueError::new_err(format!(
            "{ARG} is empty: give at least one question"
        )));
    }
    let (ks, single_k) = parse_k(k)?;
    let config = config(alpha, lam, leak_threshold, exact, sound_std);
    // The arithmetic needs no Python objects: let other threads run meanwhile.
    let set = py
        .detach(|| bound_set(&questions, &config, &ks))
        .map_err(|e| match e.prompt {
            Some(i) => value_error(
                e.error,
                &Names {
                    scores: &format!("{ARG}[{i}]"),
                    ks: &ks,
                    single_k,
                },
            ),
            None => value_error(e.error, &Names::scores(ARG)),
        })?;
    let leak_at_k = set.leak_at_k;
    let summary = set.summary.expect("at least one question");
    let mut per_question = set.prompts;
    if !survival {
        per_question
            .iter_mut()
            .for_each(|q| q.survival = Vec::new());
    }
    let out = to_python(
        py,
        &SetSummary {
            questions: per_question,
            summary,
            leak_at_k,
        },
    )?;
    if !survival {
        for q in out.get_item("questions")?.try_iter()? {
            q?.del_item("survival")?;
        }
    }
    Ok(out)
}

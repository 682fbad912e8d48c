//! ROUGE-L, identical to Google's rouge-score 0.1.2 with `use_stemmer=True`.

use probable_core::metrics::rouge_l as score;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::PyString;

use crate::args::strings;

/// ROUGE-L `(precision, recall, fmeasure)` of `prediction` against `reference`, exactly as
/// rouge-score's `RougeScorer(["rougeL"], use_stemmer=True).score(reference, prediction)`:
/// lowercase, non-alphanumerics as spaces, NLTK's Porter stemmer on tokens longer than 3
/// characters; with L the longest common subsequence of the token lists, precision =
/// L / |prediction|, recall = L / |reference|, fmeasure = 2PR / (P + R). Recall is the TOFU
/// / open-unlearning score.
#[pyfunction]
pub fn rouge_l(reference: &str, prediction: &str) -> (f64, f64, f64) {
    let s = score(reference, prediction);
    (s.precision, s.recall, s.fmeasure)
}

/// `rouge_l` over many pairs: a list of `(precision, recall, fmeasure)`, one per
/// prediction. `references` is one string (scored against every prediction: one answer,
/// many samples) or a sequence as long as `predictions`.
#[pyfunction]
pub fn rouge_l_batch(
    py: Python<'_>,
    references: &Bound<'_, PyAny>,
    predictions: &Bound<'_, PyAny>,
) -> PyResult<Vec<(f64, f64, f64)>> {
    let predictions = strings("predictions", predictions)?;
    let references = if references.is_instance_of::<PyString>() {
        vec![references.extract::<String>()?]
    } else {
        let r = strings("references", references)?;
        if r.len() != predictions.len() {
            return Err(PyValueError::new_err(format!(
                "references has {} items but predictions has {}: give one reference per \
                 prediction, or a single reference string",
                r.len(),
                predictions.len()
            )));
        }
        r
    };
    Ok(py.detach(|| {
        predictions
            .iter()
            .enumerate()
            .map(|(i, p)| rouge_l(&references[i.min(references.len() - 1)], p))
            .collect()
    }))
}

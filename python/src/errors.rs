//! Core's statistics errors as `ValueError`s that name the Python argument (and the
//! offending index), e.g. `scores[3] = NaN: …` or `k[1] = 0: …`.

use probable_core::stats::StatsError;
use pyo3::exceptions::PyValueError;
use pyo3::PyErr;

/// How the arguments of the failing call are called: the score sequence (`scores`,
/// `scores_per_question[4]`, …) and the k, so messages can point at them.
pub struct Names<'a> {
    pub scores: &'a str,
    /// The k that were asked for, to turn a bad k back into its index in `k`.
    pub ks: &'a [u64],
    /// `k` was one integer, not a sequence.
    pub single_k: bool,
}

impl Names<'_> {
    pub fn scores(scores: &str) -> Names<'_> {
        Names {
            scores,
            ks: &[],
            single_k: true,
        }
    }
}

pub fn value_error(e: StatsError, names: &Names<'_>) -> PyErr {
    let scores = names.scores;
    PyValueError::new_err(match e {
        StatsError::Empty => format!("{scores} is empty: bounds need at least one score"),
        StatsError::OutOfRange { index, value } => {
            format!("{scores}[{index}] = {value}: scores must be finite numbers in [0, 1]")
        }
        StatsError::InvalidAlpha(a) => {
            format!("alpha = {a}: the level must lie strictly between 0 and 1")
        }
        StatsError::InvalidLambda(l) => {
            format!("lam = {l}: the ED weight must be a number in [0, 1e6]")
        }
        StatsError::InvalidThreshold(t) => {
            format!("leak_threshold = {t}: it must be a finite number in [0, 1]")
        }
        StatsError::InvalidK { k, n } => {
            let at = match names.ks.iter().position(|&x| x == k) {
                Some(i) if !names.single_k => format!("k[{i}]"),
                _ => "k".to_string(),
            };
            // `n` itself when the count was an argument, else the scores it was counted in.
            let of = if scores == "n" {
                String::new()
            } else {
                format!(" samples in {scores}")
            };
            format!("{at} = {k}: leak@k needs 1 <= k <= n (n = {n}{of})")
        }
        StatsError::NoLeakThreshold => format!(
            "k: leak@k needs leak_threshold (or scores that are all 0 or 1, which {scores} are not)"
        ),
        StatsError::InvalidCount { leaks, n } => {
            format!("leaks = {leaks} > n = {n}: more leaks than samples")
        }
        StatsError::InvalidLeakLevel(l) => {
            format!("leak_level = {l}: it must lie strictly between 0 and 1")
        }
        StatsError::InvalidPrior { a, b } => {
            format!("prior = ({a}, {b}): both Beta shapes must be finite numbers in (0, 1e6]")
        }
        StatsError::TooFewSamples { n, needed } => format!(
            "{scores} has {n} scores: a sequential verdict needs at least {needed} (fewer can never decide)"
        ),
    })
}

//! Errors raised by the statistics module; each names the offending value.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum StatsError {
    #[error("no scores: bounds need at least one sample (n = 0)")]
    Empty,
    #[error("score #{index} is {value}: scores must be finite numbers in [0, 1]")]
    OutOfRange { index: usize, value: f64 },
    #[error("alpha = {0}: the level must lie strictly between 0 and 1")]
    InvalidAlpha(f64),
    #[error("lambda = {0}: the ED weight must be a number in [0, 1e6]")]
    InvalidLambda(f64),
    #[error("leak threshold = {0}: it must be a finite number in [0, 1]")]
    InvalidThreshold(f64),
    #[error("k = {k}: leak@k needs 1 <= k <= n (n = {n} samples)")]
    InvalidK { k: u64, n: u64 },
    #[error("leak@k needs a leak threshold (or scores that are all 0 or 1)")]
    NoLeakThreshold,
    #[error("{leaks} leaks out of n = {n} is impossible")]
    InvalidCount { leaks: u64, n: u64 },
    #[error("leak level = {0}: it must lie strictly between 0 and 1")]
    InvalidLeakLevel(f64),
    #[error("Beta prior ({a}, {b}): both shape parameters must be finite numbers in (0, 1e6]")]
    InvalidPrior { a: f64, b: f64 },
    #[error(
        "{n} samples: a sequential verdict needs at least {needed} (no {n} scores can decide)"
    )]
    TooFewSamples { n: u64, needed: u64 },
}

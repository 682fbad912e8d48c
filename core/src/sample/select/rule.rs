//! A sampling strategy resolved for one vocabulary, and what every selection path shares
//! about it: the temperature floor, the nucleus mass, the tempered logits, the id of a row
//! that cannot be drawn from.

use burn::tensor::Tensor;

use crate::sample::adaptive::AdaptiveTemperature;

/// Temperatures at or below this decode greedily (dividing by it saturates the softmax).
pub(crate) const MIN_TEMPERATURE: f64 = 1e-6;

/// The mass a nucleus must reach: top-p less a relative 1e-6, so that float sums landing
/// just below top-p (in either search) do not pull in one more token.
pub(crate) fn nucleus_mass(top_p: f64) -> f64 {
    top_p * (1.0 - 1e-6)
}

/// The id [`select_tokens`] returns for a row whose logits are not all finite: past any
/// vocabulary, so the caller cannot mistake it for a token.
pub const NON_FINITE: i64 = -1;

/// A sampling strategy resolved for one vocabulary: what both paths apply.
#[derive(Clone, Copy)]
pub(crate) struct Rule<'a> {
    pub temperature: f64,
    pub adaptive: Option<&'a AdaptiveTemperature>,
    /// `None`: no cut of that kind (top-p 1, or top-k at least the vocabulary).
    pub top_p: Option<f64>,
    pub top_k: Option<usize>,
}

/// The tempered logits of `rule`, whose softmax is the distribution drawn from.
pub(crate) fn tempered(logits: Tensor<2>, rule: Rule) -> Tensor<2> {
    let [rows, _] = logits.dims();
    let temps = match rule.adaptive {
        Some(a) => a.temperatures(&logits, rule.temperature),
        None => Tensor::full([rows, 1], rule.temperature, &logits.device()),
    };
    logits / temps.clamp_min(MIN_TEMPERATURE)
}

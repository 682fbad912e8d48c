//! Token selection on the device: logits `[rows, vocab]` → ids `[rows]`.
//!
//! Nothing here sorts: burn's GPU backends have no sort kernel (they read the tensor back
//! synchronously, which WebGPU in a browser cannot do), so the top-p and top-k cut-offs
//! are found by bisection on the probability value, and the categorical draw is an
//! inverse CDF over the vocabulary in id order. The same kernel runs on every backend, so
//! a seed means the same samples on CPU and GPU up to floating-point rounding.

use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor};

use super::{DecodeConfig, Strategy};

/// Temperatures at or below this decode greedily (dividing by it saturates the softmax).
const MIN_TEMPERATURE: f64 = 1e-6;

/// Halvings of `[0, max p]` when searching a cut-off: the threshold is found to within
/// `max p · 2⁻³⁰`, so only tokens whose probability ties the cut-off to ~1e-9 can be
/// decided differently from an exact sort.
const BISECTION_STEPS: usize = 30;

/// Per row, the largest `t` (to bisection precision) with `enough(probs, t)`, where
/// `enough` is monotone: true at `t = 0`, false above the maximum.
fn largest_threshold(
    probs: &Tensor<2>,
    enough: impl Fn(&Tensor<2>, Tensor<2>) -> Tensor<2, burn::tensor::Bool>,
) -> Tensor<2> {
    let [rows, _] = probs.dims();
    let mut lo = Tensor::<2>::zeros([rows, 1], &probs.device());
    let mut hi = probs.clone().max_dim(1);
    for _ in 0..BISECTION_STEPS {
        let mid = (lo.clone() + hi.clone()) * 0.5;
        let ok = enough(probs, mid.clone());
        lo = lo.mask_where(ok.clone(), mid.clone());
        hi = mid.mask_where(ok, hi);
    }
    // `hi` itself qualifies when the maximum alone is enough (e.g. top-k = 1).
    let top_ok = enough(probs, hi.clone());
    lo.mask_where(top_ok, hi)
}

/// Probability cut-off of the nucleus: keeping every token with `p ≥ t` keeps the
/// smallest set of most likely tokens whose mass reaches `top_p` (the most likely token
/// always stays) — what sorting and cutting the cumulative sum keeps, without the sort.
fn top_p_threshold(probs: &Tensor<2>, top_p: f64) -> Tensor<2> {
    largest_threshold(probs, |p, t| {
        let [rows, vocab] = p.dims();
        let above = p.clone().greater_equal(t.expand([rows, vocab]));
        let mass = p.clone().mask_fill(above.bool_not(), 0.0).sum_dim(1);
        mass.greater_equal_elem(top_p * (1.0 - 1e-6))
    })
}

/// Probability cut-off that keeps the `k` most likely tokens (and any exact ties).
fn top_k_threshold(probs: &Tensor<2>, k: usize) -> Tensor<2> {
    largest_threshold(probs, |p, t| {
        let [rows, vocab] = p.dims();
        let count = p
            .clone()
            .greater_equal(t.expand([rows, vocab]))
            .int()
            .sum_dim(1);
        count.greater_equal_elem(k as i64)
    })
}

/// Chooses the next token of every row. `uniforms: [rows, 1]` in [0, 1) drive the
/// categorical draw (ignored by greedy decoding).
pub fn select_tokens(
    logits: Tensor<2>,
    config: &DecodeConfig,
    uniforms: Tensor<2>,
) -> Tensor<1, Int> {
    let [rows, vocab] = logits.dims();
    let (temperature, top_p, top_k) = match config.strategy {
        Strategy::Greedy => return logits.argmax(1).reshape([rows]),
        Strategy::Sample {
            temperature,
            top_p,
            top_k,
        } => (temperature, top_p, top_k),
    };
    let device = logits.device();
    let temps = match &config.adaptive {
        Some(a) => a.temperatures(&logits, temperature),
        None => Tensor::full([rows, 1], temperature, &device),
    };
    let probs = softmax(logits / temps.clamp_min(MIN_TEMPERATURE), 1);
    let mut cut: Option<Tensor<2>> = None;
    if top_p < 1.0 {
        cut = Some(top_p_threshold(&probs, top_p));
    }
    if let Some(k) = top_k.filter(|&k| k < vocab) {
        let t = top_k_threshold(&probs, k);
        cut = Some(match cut {
            Some(c) => c.max_pair(t),
            None => t,
        });
    }
    let kept = match cut {
        Some(t) => {
            let below = probs.clone().lower(t.expand([rows, vocab]));
            probs.mask_fill(below, 0.0)
        }
        None => probs,
    };
    // Inverse-CDF draw in id order: the chosen id is the number of cdf entries ≤ u · total,
    // which always lands on a kept token; rounding at u → 1 is capped at the last kept id.
    let ids = Tensor::<1, Int>::arange(0..vocab as i64, &device)
        .reshape([1, vocab])
        .expand([rows, vocab]);
    let last_kept = ids
        .mask_fill(kept.clone().lower_equal_elem(0.0), 0)
        .max_dim(1);
    let cdf = kept.cumsum(1);
    let total = cdf.clone().slice([0..rows, vocab - 1..vocab]);
    let threshold = (uniforms * total).expand([rows, vocab]);
    let id = cdf.lower_equal(threshold).int().sum_dim(1);
    id.min_pair(last_kept).reshape([rows])
}

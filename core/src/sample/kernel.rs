//! Token selection on the device: logits `[rows, vocab]` → ids `[rows]`.

use burn::tensor::activation::softmax;
use burn::tensor::{Int, Tensor};

use super::{DecodeConfig, Strategy};

/// Temperatures at or below this decode greedily (dividing by it saturates the softmax).
const MIN_TEMPERATURE: f64 = 1e-6;

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
    let (sorted, order) = probs.sort_descending_with_indices(1);
    // Nucleus: keep a token while the mass strictly before it is below top-p (so the most
    // likely token always stays).
    let cumulative = sorted.clone().cumsum(1);
    let mut keep = (cumulative - sorted.clone()).lower_elem(top_p);
    if let Some(k) = top_k.filter(|&k| k < vocab) {
        let rank = Tensor::<1, Int>::arange(0..vocab as i64, &device)
            .reshape([1, vocab])
            .expand([rows, vocab]);
        keep = keep.bool_and(rank.lower_elem(k as i64));
    }
    let kept = sorted.mask_fill(keep.bool_not(), 0.0);
    let cdf = kept.cumsum(1);
    let total = cdf.clone().slice([0..rows, vocab - 1..vocab]);
    let threshold = (uniforms * total).expand([rows, vocab]);
    // Inverse-CDF draw: the chosen rank is the number of cdf entries <= u · total.
    let rank = cdf
        .lower_equal(threshold)
        .int()
        .sum_dim(1)
        .clamp_max(vocab as i64 - 1);
    order.gather(1, rank).reshape([rows])
}

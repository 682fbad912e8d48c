//! Token selection on the device: logits `[rows, vocab]` → ids `[rows]`.
//!
//! The draw is an inverse CDF over the vocabulary in id order, after zeroing every token
//! below a probability cut-off (top-p, top-k). The cut-off is found in one of two ways
//! that keep the same tokens, up to float rounding of the mass at the nucleus boundary:
//!
//! - on the CPU (flex), exactly, by selection on the host — where the data already is;
//! - on GPU backends, by bisection on the log-probability: burn's cubecl backends have no
//!   sort kernel (they read the tensor back synchronously, which WebGPU in a browser
//!   cannot do), and 30 halvings are a few hundred tiny kernels, fine on a GPU but several
//!   times the cost of the host selection on the CPU.
//!
//! So a seed means the same samples on CPU and GPU, up to floating-point rounding.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::{DecodeConfig, Strategy};

/// Temperatures at or below this decode greedily (dividing by it saturates the softmax).
const MIN_TEMPERATURE: f64 = 1e-6;

/// Halvings of `[min log p, max log p]` when searching a cut-off in log space: the
/// threshold is found to a relative precision of (log-range)·2⁻³⁰ — about 5e-8 even for
/// probabilities spanning 20 orders of magnitude, i.e. f32 resolution — so only tokens whose
/// probability ties the cut-off at that level can be decided differently from a sort.
const BISECTION_STEPS: usize = 30;

type Mask = Tensor<2, burn::tensor::Bool>;

/// The mass a nucleus must reach: top-p less a relative 1e-6, so that float sums landing
/// just below top-p (in either search) do not pull in one more token.
fn nucleus_mass(top_p: f64) -> f64 {
    top_p * (1.0 - 1e-6)
}

/// Per row, the largest log-probability `t` (to bisection precision) with
/// `enough(logp ≥ t)`, where `enough` is monotone in the kept set: true when every token is
/// kept, and it is asked about ever smaller sets.
fn largest_threshold(logp: &Tensor<2>, enough: impl Fn(Mask) -> Mask) -> Tensor<2> {
    let [rows, vocab] = logp.dims();
    let at_least = |t: &Tensor<2>| logp.clone().greater_equal(t.clone().expand([rows, vocab]));
    let mut lo = logp.clone().min_dim(1);
    let mut hi = logp.clone().max_dim(1);
    for _ in 0..BISECTION_STEPS {
        let mid = (lo.clone() + hi.clone()) * 0.5;
        let ok = enough(at_least(&mid));
        lo = lo.mask_where(ok.clone(), mid.clone());
        hi = mid.mask_where(ok, hi);
    }
    // `hi` itself qualifies when the most likely token alone is enough (e.g. top-k = 1).
    let top_ok = enough(at_least(&hi));
    lo.mask_where(top_ok, hi)
}

/// Log-probability cut-off of the nucleus: keeping every token with `log p ≥ t` keeps the
/// smallest set of most likely tokens whose mass reaches `top_p` (the most likely token
/// always stays) — what sorting and cutting the cumulative sum keeps, without the sort.
fn top_p_threshold(probs: &Tensor<2>, logp: &Tensor<2>, top_p: f64) -> Tensor<2> {
    largest_threshold(logp, |kept| {
        let mass = probs.clone().mask_fill(kept.bool_not(), 0.0).sum_dim(1);
        mass.greater_equal_elem(nucleus_mass(top_p))
    })
}

/// Log-probability cut-off that keeps the `k` most likely tokens (and any exact ties).
fn top_k_threshold(logp: &Tensor<2>, k: usize) -> Tensor<2> {
    largest_threshold(logp, |kept| {
        kept.int().sum_dim(1).greater_equal_elem(k as i64)
    })
}

/// Exact cut-offs, computed on the host — which, for the CPU backend, is where the tensor
/// already lives: the nucleus ends at the first token (in descending order) whose preceding
/// mass reaches `top_p` (the most likely token always stays); top-k at the k-th largest
/// probability. Both by selection in O(vocab) per row, not a sort (a full sort per row was
/// 15 % of a sampling step).
fn selected_threshold(probs: &Tensor<2>, top_p: Option<f64>, top_k: Option<usize>) -> Tensor<2> {
    let [rows, vocab] = probs.dims();
    let values = probs
        .clone()
        .into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 probabilities");
    let mut scratch = Vec::with_capacity(vocab);
    let cut: Vec<f32> = values
        .chunks(vocab)
        .map(|row| {
            let by_p = top_p.map(|p| nucleus_cutoff(row, nucleus_mass(p), &mut scratch));
            let by_k = top_k.map(|k| {
                scratch.clear();
                scratch.extend_from_slice(row);
                *scratch
                    .select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a))
                    .1
            });
            match (by_p, by_k) {
                (Some(a), Some(b)) => a.max(b),
                (a, b) => a.or(b).expect("called with a top-p or a top-k"),
            }
        })
        .collect();
    Tensor::from_data(TensorData::new(cut, [rows, 1]), &probs.device())
}

/// The m-th largest value of `row` for the smallest m whose top-m mass reaches `mass`
/// (the smallest value when even the whole row falls short), by quickselect on mass.
fn nucleus_cutoff(row: &[f32], mass: f64, scratch: &mut Vec<f32>) -> f32 {
    scratch.clear();
    scratch.extend_from_slice(row);
    let mut candidates: &mut [f32] = scratch;
    let mut above = 0.0f64; // mass of the values known to lie above every candidate
    let mut smallest = f32::INFINITY;
    while !candidates.is_empty() {
        let pivot = candidates[candidates.len() / 2];
        // Three-way partition: [> pivot | == pivot | < pivot].
        let (mut lt, mut i, mut gt) = (0, 0, candidates.len());
        while i < gt {
            match candidates[i].total_cmp(&pivot) {
                std::cmp::Ordering::Greater => {
                    candidates.swap(i, lt);
                    lt += 1;
                    i += 1;
                }
                std::cmp::Ordering::Equal => i += 1,
                std::cmp::Ordering::Less => {
                    gt -= 1;
                    candidates.swap(i, gt);
                }
            }
        }
        let high: f64 = candidates[..lt].iter().map(|&x| x as f64).sum();
        let tied = (gt - lt) as f64 * pivot as f64;
        if above + high >= mass && lt > 0 {
            candidates = &mut candidates[..lt];
        } else if above + high + tied >= mass {
            return pivot;
        } else {
            above += high + tied;
            smallest = pivot;
            candidates = &mut candidates[gt..];
        }
    }
    smallest
}

/// Tokens below the exact cut-off (CPU).
fn dropped_selected(probs: &Tensor<2>, top_p: Option<f64>, top_k: Option<usize>) -> Mask {
    let [rows, vocab] = probs.dims();
    let t = selected_threshold(probs, top_p, top_k);
    probs.clone().lower(t.expand([rows, vocab]))
}

/// Tokens below the bisected cut-off (GPU). `scaled` are the tempered logits whose
/// softmax is `probs`.
fn dropped_bisected(
    scaled: Tensor<2>,
    probs: &Tensor<2>,
    top_p: Option<f64>,
    top_k: Option<usize>,
) -> Mask {
    let [rows, vocab] = probs.dims();
    let logp = log_softmax(scaled, 1);
    let by_p = top_p.map(|p| top_p_threshold(probs, &logp, p));
    let by_k = top_k.map(|k| top_k_threshold(&logp, k));
    let t = match (by_p, by_k) {
        (Some(a), Some(b)) => a.max_pair(b),
        (a, b) => a.or(b).expect("called with a top-p or a top-k"),
    };
    logp.lower(t.expand([rows, vocab]))
}

/// The tokens to drop (below the top-p / top-k cut-off), `None` when nothing is cut.
fn dropped(scaled: Tensor<2>, probs: &Tensor<2>, top_p: f64, top_k: Option<usize>) -> Option<Mask> {
    let [_, vocab] = probs.dims();
    let top_p = (top_p < 1.0).then_some(top_p);
    let top_k = top_k.filter(|&k| k < vocab);
    if top_p.is_none() && top_k.is_none() {
        return None;
    }
    Some(if probs.device() == Device::flex() {
        dropped_selected(probs, top_p, top_k)
    } else {
        dropped_bisected(scaled, probs, top_p, top_k)
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
    let scaled = logits / temps.clamp_min(MIN_TEMPERATURE);
    let probs = softmax(scaled.clone(), 1);
    let kept = match dropped(scaled, &probs, top_p, top_k) {
        Some(drop) => probs.mask_fill(drop, 0.0),
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    fn kept(drop: Mask) -> Vec<bool> {
        drop.bool_not().into_data().try_to_vec::<bool>().unwrap()
    }

    /// The two searches keep the same tokens, so CPU and GPU draw the same samples.
    #[test]
    fn selected_and_bisected_cutoffs_keep_the_same_tokens() {
        let device = Device::flex();
        for (scale, vocab) in [(1.0, 1000), (4.0, 1000), (8.0, 50)] {
            let logits =
                Tensor::<2>::random([64, vocab], Distribution::Normal(0.0, scale), &device);
            let probs = softmax(logits.clone(), 1);
            for (p, k) in [
                (Some(0.9), None),
                (Some(0.5), None),
                (None, Some(5)),
                (Some(0.95), Some(40)),
                (Some(0.01), None),
            ] {
                let [rows, vocab] = probs.dims();
                let exact = dropped_selected(&probs, p, k);
                let bisected = dropped_bisected(logits.clone(), &probs, p, k);
                // Float sums in two orders may disagree on the one token at the nucleus
                // boundary (mass before it within rounding of top-p); nothing else may differ.
                let (a, b) = (kept(exact), kept(bisected));
                let mut rows_differing = 0;
                for (ra, rb) in a.chunks(vocab).zip(b.chunks(vocab)) {
                    let diff = ra.iter().zip(rb).filter(|(x, y)| x != y).count();
                    assert!(
                        diff <= 1,
                        "scale {scale}, top-p {p:?}, top-k {k:?}: {diff} tokens differ in a row"
                    );
                    rows_differing += diff;
                }
                assert!(
                    rows_differing <= 3 && (p.is_some() || rows_differing == 0),
                    "scale {scale}, vocab {vocab}, top-p {p:?}, top-k {k:?}: {rows_differing} of {rows} rows differ"
                );
            }
        }
        // Hand-made row: p = [0.1, 0.5, 0.15, 0.25], top-p 0.6 keeps {0.5, 0.25}.
        let probs = Tensor::<2>::from_data(
            TensorData::new(vec![0.1f32, 0.5, 0.15, 0.25], [1, 4]),
            &device,
        );
        let drop = dropped_selected(&probs, Some(0.6), None);
        assert_eq!(kept(drop), [false, true, false, true]);
    }
}

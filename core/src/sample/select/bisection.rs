//! Token selection as tensor ops on any device: the top-p / top-k cut-off found by bisection
//! on the log-probability (burn has no GPU sort kernel, and a browser cannot read back
//! synchronously) — 30 halvings, each a handful of `[rows, vocab]` kernels — and the
//! inverse-CDF draw by a blocked prefix sum.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Int, Tensor};

use super::rule::{nucleus_mass, Rule};

/// Halvings of `[min log p, max log p]` when searching a cut-off in log space: the
/// threshold is found to a relative precision of (log-range)·2⁻³⁰ — about 5e-8 even for
/// probabilities spanning 20 orders of magnitude, i.e. f32 resolution — so only tokens whose
/// probability ties the cut-off at that level can be decided differently from a sort.
const BISECTION_STEPS: usize = 30;

type Mask = Tensor<2, burn::tensor::Bool>;

/// Width of the blocks [`prefix_sum`] scans directly. At most 512² ids need one level of
/// blocks (Llama 3's 128k, Qwen's 152k and Gemma's 256k vocabularies), whose totals are then
/// summed in sequence, so the sums never decrease across a block boundary either.
const SCAN_BLOCK: usize = 512;

/// Inclusive prefix sums along dim 1. cubecl's `cumsum` reads every earlier element for each
/// output — O(vocab²) per row: 37.7 s for `[4, 128256]` on llvmpipe, 98 % of a decode step —
/// so the rows are cut into blocks of [`SCAN_BLOCK`], scanned apart, and each block offset by
/// the sum of the blocks before it: O(vocab · SCAN_BLOCK) reads.
fn prefix_sum(x: Tensor<2>) -> Tensor<2> {
    let [rows, n] = x.dims();
    if n <= SCAN_BLOCK {
        return x.cumsum(1);
    }
    let device = x.device();
    let blocks = n.div_ceil(SCAN_BLOCK);
    let padded = blocks * SCAN_BLOCK;
    let x = if padded > n {
        Tensor::cat(vec![x, Tensor::zeros([rows, padded - n], &device)], 1)
    } else {
        x
    };
    let within = x.reshape([rows * blocks, SCAN_BLOCK]).cumsum(1);
    let totals = within
        .clone()
        .slice([0..rows * blocks, SCAN_BLOCK - 1..SCAN_BLOCK])
        .reshape([rows, blocks]);
    let before = Tensor::cat(
        vec![
            Tensor::zeros([rows, 1], &device),
            prefix_sum(totals).slice([0..rows, 0..blocks - 1]),
        ],
        1,
    );
    let sums = within.reshape([rows, blocks, SCAN_BLOCK])
        + before
            .reshape([rows, blocks, 1])
            .expand([rows, blocks, SCAN_BLOCK]);
    sums.reshape([rows, padded]).slice([0..rows, 0..n])
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

/// Tokens below the bisected cut-off. `scaled` are the tempered logits whose softmax is
/// `probs`.
fn dropped(
    scaled: Tensor<2>,
    probs: &Tensor<2>,
    top_p: Option<f64>,
    top_k: Option<usize>,
) -> Option<Mask> {
    let [rows, vocab] = probs.dims();
    let logp = log_softmax(scaled, 1);
    let by_p = top_p.map(|p| top_p_threshold(probs, &logp, p));
    let by_k = top_k.map(|k| top_k_threshold(&logp, k));
    let t = match (by_p, by_k) {
        (Some(a), Some(b)) => a.max_pair(b),
        (a, b) => a.or(b)?,
    };
    Some(logp.lower(t.expand([rows, vocab])))
}

/// The tensor-op path from the tempered logits `scaled`: bisected cut-offs and a blocked
/// prefix sum, every step a handful of `[rows, vocab]` ops; only the ids are read back.
pub(super) fn bisection_ids(scaled: Tensor<2>, rule: Rule, uniforms: Tensor<2>) -> Tensor<1, Int> {
    let Rule { top_p, top_k, .. } = rule;
    let [rows, vocab] = scaled.dims();
    let device = scaled.device();
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
    let cdf = prefix_sum(kept);
    let total = cdf.clone().slice([0..rows, vocab - 1..vocab]);
    let threshold = (uniforms * total).expand([rows, vocab]);
    let id = cdf.lower_equal(threshold).int().sum_dim(1);
    id.min_pair(last_kept).reshape([rows])
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Device, Distribution, TensorData};

    /// The blocked scan sums what a sequential scan sums, for widths below, at and past one
    /// block and past one level of blocks (512² ids).
    #[test]
    fn blocked_prefix_sums_match_a_sequential_scan() {
        for n in [
            7,
            SCAN_BLOCK,
            SCAN_BLOCK + 1,
            3 * SCAN_BLOCK - 5,
            SCAN_BLOCK * SCAN_BLOCK + 9,
        ] {
            let x = Tensor::<2>::random([2, n], Distribution::Uniform(0.0, 1.0), &Device::flex());
            let want: Vec<f64> = {
                let v = x.to_data().convert::<f64>().try_into_vec::<f64>().unwrap();
                v.chunks(n)
                    .flat_map(|row| {
                        row.iter().scan(0.0, |acc, &e| {
                            *acc += e;
                            Some(*acc)
                        })
                    })
                    .collect()
            };
            let got = prefix_sum(x)
                .into_data()
                .convert::<f64>()
                .try_into_vec::<f64>()
                .unwrap();
            for (i, (g, w)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (g - w).abs() <= 1e-4 * w.max(1.0),
                    "n {n}, index {i}: {g} vs {w}"
                );
            }
        }
    }

    /// The bisected cut-off keeps the nucleus: p = [0.1, 0.5, 0.15, 0.25], top-p 0.6 keeps
    /// {0.5, 0.25}, and top-k 3 drops only 0.1.
    #[test]
    fn bisected_cutoffs_of_a_hand_made_row() {
        let p = [0.1f32, 0.5, 0.15, 0.25];
        let logits = Tensor::<2>::from_data(
            TensorData::new(p.iter().map(|x| x.ln()).collect::<Vec<_>>(), [1, 4]),
            &Device::flex(),
        );
        let probs = softmax(logits.clone(), 1);
        let kept = |m: Mask| m.bool_not().into_data().try_to_vec::<bool>().unwrap();
        let top_p = dropped(logits.clone(), &probs, Some(0.6), None).unwrap();
        assert_eq!(kept(top_p), [false, true, false, true]);
        let top_k = dropped(logits, &probs, None, Some(3)).unwrap();
        assert_eq!(kept(top_k), [false, true, true, true]);
    }
}

//! Token selection: logits `[rows, vocab]` → ids `[rows]`.
//!
//! The draw is an inverse CDF over the vocabulary in id order, after zeroing every token
//! below a probability cut-off (top-p, top-k). It runs in one of three places:
//!
//! - on the CPU (flex), on the host, where the data already is: one fused pass per row
//!   with exact cut-offs by selection ([`super::host`]);
//! - on cubecl devices (wgpu, WebGPU, CUDA; the `wgpu` / `cuda` features), in one kernel
//!   launch with the same exact cut-offs by radix selection ([`super::radix_kernel`]);
//! - otherwise on the device as tensor ops, with the cut-off found by bisection on the
//!   log-probability (burn has no GPU sort kernel, and a browser cannot read back
//!   synchronously): 30 halvings, each a handful of `[rows, vocab]` kernels.
//!
//! Only token ids come back to the host. All keep the same tokens up to float rounding of the
//! mass at the nucleus boundary, so a seed means the same samples on CPU and GPU up to
//! floating-point rounding.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::{Device, Int, Tensor};

use super::{host, AdaptiveTemperature, DecodeConfig, Strategy};

/// Temperatures at or below this decode greedily (dividing by it saturates the softmax).
pub(super) const MIN_TEMPERATURE: f64 = 1e-6;

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

/// The mass a nucleus must reach: top-p less a relative 1e-6, so that float sums landing
/// just below top-p (in either search) do not pull in one more token.
pub(super) fn nucleus_mass(top_p: f64) -> f64 {
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

/// A sampling strategy resolved for one vocabulary: what both paths apply.
#[derive(Clone, Copy)]
pub(super) struct Rule<'a> {
    pub temperature: f64,
    pub adaptive: Option<&'a AdaptiveTemperature>,
    /// `None`: no cut of that kind (top-p 1, or top-k at least the vocabulary).
    pub top_p: Option<f64>,
    pub top_k: Option<usize>,
}

/// The tempered logits of `rule`, whose softmax is the distribution drawn from.
fn tempered(logits: Tensor<2>, rule: Rule) -> Tensor<2> {
    let [rows, _] = logits.dims();
    let temps = match rule.adaptive {
        Some(a) => a.temperatures(&logits, rule.temperature),
        None => Tensor::full([rows, 1], rule.temperature, &logits.device()),
    };
    logits / temps.clamp_min(MIN_TEMPERATURE)
}

/// The ids the selection kernel draws from the tempered logits `scaled`, or `None` where it
/// cannot run ([`super::radix_kernel::select_ids`]).
#[cfg(any(feature = "wgpu", feature = "cuda"))]
fn kernel_ids(scaled: &Tensor<2>, rule: Rule, uniforms: &Tensor<2>) -> Option<Tensor<1, Int>> {
    let [rows, vocab] = scaled.dims();
    // The host's weights: the tempered softmax up to its normaliser.
    let weights = (scaled.clone() - scaled.clone().max_dim(1).expand([rows, vocab])).exp();
    let nucleus = rule.top_p.map(nucleus_mass);
    super::radix_kernel::select_ids(&weights, uniforms, nucleus, rule.top_k)
}

/// No selection kernel in a build without a cubecl runtime.
#[cfg(not(any(feature = "wgpu", feature = "cuda")))]
fn kernel_ids(_: &Tensor<2>, _: Rule, _: &Tensor<2>) -> Option<Tensor<1, Int>> {
    None
}

/// The tensor-op path from the tempered logits `scaled`: bisected cut-offs and a blocked
/// prefix sum, every step a handful of `[rows, vocab]` ops; only the ids are read back.
fn bisection_ids(scaled: Tensor<2>, rule: Rule, uniforms: Tensor<2>) -> Tensor<1, Int> {
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

/// The id [`select_tokens`] returns for a row whose logits are not all finite: past any
/// vocabulary, so the caller cannot mistake it for a token.
pub const NON_FINITE: i64 = -1;

/// `ids` with [`NON_FINITE`] in every row of `logits` that holds a NaN or +∞, or only −∞
/// (−∞ alone is a masked token, which a distribution may have). Part of the same kernel
/// chain as the ids, so it adds no read-back.
fn mark_non_finite(logits: Tensor<2>, ids: Tensor<1, Int>) -> Tensor<1, Int> {
    let [rows, _] = logits.dims();
    let poisoned = logits
        .clone()
        .is_nan()
        .bool_or(logits.clone().equal_elem(f32::INFINITY))
        .int()
        .sum_dim(1)
        .greater_elem(0);
    let empty = logits.max_dim(1).equal_elem(f32::NEG_INFINITY);
    ids.mask_fill(poisoned.bool_or(empty).reshape([rows]), NON_FINITE)
}

/// Chooses the next token of every row. `uniforms: [rows, 1]` in [0, 1) drive the
/// categorical draw (ignored by greedy decoding). A row whose logits are not all finite
/// gets [`NON_FINITE`] instead of a token.
pub fn select_tokens(
    logits: Tensor<2>,
    config: &DecodeConfig,
    uniforms: Tensor<2>,
) -> Tensor<1, Int> {
    select(logits, config, uniforms, Path::Fastest).expect("the fastest path always runs")
}

/// [`select_tokens`] by tensor ops with bisected cut-offs on every device, the CPU
/// included: what a GPU backend without the selection kernel runs. `probable bench select`
/// times it beside the kernel on the same logits.
pub fn select_tokens_by_bisection(
    logits: Tensor<2>,
    config: &DecodeConfig,
    uniforms: Tensor<2>,
) -> Tensor<1, Int> {
    select(logits, config, uniforms, Path::Bisection).expect("the bisection always runs")
}

/// [`select_tokens`] by the selection kernel alone: `None` where it does not run (a CPU or
/// fused tensor, greedy decoding), so a test can tell that it ran.
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub fn select_tokens_in_kernel(
    logits: Tensor<2>,
    config: &DecodeConfig,
    uniforms: Tensor<2>,
) -> Option<Tensor<1, Int>> {
    select(logits, config, uniforms, Path::Kernel)
}

/// Which implementation [`select`] runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Path {
    /// The host path on the CPU, the kernel on cubecl devices, else the bisection.
    Fastest,
    /// The tensor-op bisection on every device.
    Bisection,
    /// The kernel or nothing.
    #[cfg(any(feature = "wgpu", feature = "cuda"))]
    Kernel,
}

/// [`select_tokens`] by `path`; `None` only when [`Path::Kernel`] cannot run.
fn select(
    logits: Tensor<2>,
    config: &DecodeConfig,
    uniforms: Tensor<2>,
    path: Path,
) -> Option<Tensor<1, Int>> {
    let [rows, vocab] = logits.dims();
    let (temperature, top_p, top_k) = match config.strategy {
        Strategy::Sample {
            temperature,
            top_p,
            top_k,
        } => (temperature, top_p, top_k),
        #[cfg(any(feature = "wgpu", feature = "cuda"))]
        Strategy::Greedy if path == Path::Kernel => return None,
        Strategy::Greedy => {
            let ids = logits.clone().argmax(1).reshape([rows]);
            return Some(mark_non_finite(logits, ids));
        }
    };
    let rule = Rule {
        temperature,
        adaptive: config.adaptive.as_ref(),
        top_p: (top_p < 1.0).then_some(top_p),
        top_k: top_k.filter(|&k| k < vocab),
    };
    if path == Path::Fastest && logits.device() == Device::flex() {
        return Some(host::select(logits, rule, uniforms));
    }
    let scaled = tempered(logits.clone(), rule);
    let ids = match path {
        Path::Fastest => match kernel_ids(&scaled, rule, &uniforms) {
            Some(ids) => ids,
            None => bisection_ids(scaled, rule, uniforms),
        },
        Path::Bisection => bisection_ids(scaled, rule, uniforms),
        #[cfg(any(feature = "wgpu", feature = "cuda"))]
        Path::Kernel => kernel_ids(&scaled, rule, &uniforms)?,
    };
    Some(mark_non_finite(logits, ids))
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::{Distribution, TensorData};

    fn ids(t: Tensor<1, Int>) -> Vec<i64> {
        t.into_data()
            .convert::<i64>()
            .try_into_vec::<i64>()
            .unwrap()
    }

    /// The host and device paths draw the same tokens from the same uniforms, so CPU and
    /// GPU give the same samples for a seed. Float sums in two orders may disagree on a
    /// token whose cumulative mass lies within rounding of a boundary (the nucleus edge or
    /// u·total); nothing else may differ.
    #[test]
    fn host_and_device_paths_draw_the_same_tokens() {
        let device = Device::flex();
        let adaptive = AdaptiveTemperature::default();
        let rows = 512;
        for (scale, vocab) in [(1.0, 1000), (4.0, 1000), (8.0, 50)] {
            let logits =
                Tensor::<2>::random([rows, vocab], Distribution::Normal(0.0, scale), &device);
            let u = Tensor::<2>::random([rows, 1], Distribution::Uniform(0.0, 1.0), &device);
            for (temperature, adaptive, top_p, top_k) in [
                (1.0, None, Some(0.9), None),
                (0.7, None, Some(0.5), None),
                (1.0, None, None, Some(5)),
                (1.3, None, Some(0.95), Some(40)),
                (1.0, None, Some(0.01), None),
                (1.0, None, None, None),
                (1.0, Some(&adaptive), Some(0.9), None),
            ] {
                let rule = Rule {
                    temperature,
                    adaptive,
                    top_p,
                    top_k,
                };
                let host = ids(host::select(logits.clone(), rule, u.clone()));
                let dev = ids(bisection_ids(
                    tempered(logits.clone(), rule),
                    rule,
                    u.clone(),
                ));
                let differ = host.iter().zip(&dev).filter(|(x, y)| x != y).count();
                assert!(
                    differ <= 2,
                    "scale {scale}, vocab {vocab}, T {temperature}, top-p {top_p:?}, \
                     top-k {top_k:?}, adaptive {}: {differ} of {rows} draws differ",
                    adaptive.is_some()
                );
            }
        }
    }

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

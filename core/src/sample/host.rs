//! Token selection on the host, for the CPU backend (flex).
//!
//! The logits of a CPU tensor already live in host memory, so one fused pass per row —
//! temperature, softmax, cut-off, draw — replaces the dozen vocabulary-sized tensor ops of
//! the device path ([`super::kernel`]), each of which allocates and walks a
//! `[rows, vocab]` buffer. Rows run in parallel (rayon; on wasm32 without threads rayon
//! runs them on the calling thread). The rule is the device path's: the same cut-offs
//! (exact here, by selection) and the same inverse-CDF draw in id order, so a seed gives the
//! same samples on CPU and GPU up to float rounding.

use burn::tensor::{Int, Tensor, TensorData};
use rayon::prelude::*;

use super::kernel::{nucleus_mass, Rule, MIN_TEMPERATURE, NON_FINITE};
use crate::model::weights::download;

/// What the device path would draw, for the CPU: `logits: [rows, vocab]`, one uniform per
/// row; [`NON_FINITE`] for a row whose logits are not all finite.
pub(super) fn select(logits: Tensor<2>, rule: Rule, uniforms: Tensor<2>) -> Tensor<1, Int> {
    let [rows, vocab] = logits.dims();
    let device = logits.device();
    let logits = download(logits);
    let uniforms = download(uniforms);
    let ids: Vec<i64> = logits
        .par_chunks(vocab)
        .zip(uniforms.par_iter())
        .map_init(
            || Scratch::new(vocab),
            |Scratch {
                 weights,
                 selection,
                 buckets,
             },
             (row, &u)| {
                // NaN would otherwise vanish in the max and the exp: a row with a NaN or
                // +∞, or only −∞, has no distribution to draw from (one vectorisable pass).
                let (poisoned, max) = row.iter().fold((false, f32::NEG_INFINITY), |(p, m), &x| {
                    (p | x.is_nan() | (x == f32::INFINITY), m.max(x))
                });
                if poisoned || max == f32::NEG_INFINITY {
                    return NON_FINITE;
                }
                let nominal = rule.temperature;
                let t = rule
                    .adaptive
                    .map_or(nominal, |a| a.row_temperature(row, nominal));
                let total = tempered_weights(row, t.max(MIN_TEMPERATURE) as f32, weights);
                let cut = cutoff(weights, total, rule.top_p, rule.top_k, selection, buckets);
                draw(weights, cut, u) as i64
            },
        )
        .collect();
    Tensor::from_data(TensorData::new(ids, [rows]), &device)
}

/// Per-thread buffers, reused across the rows a thread handles.
struct Scratch {
    weights: Vec<f32>,
    selection: Vec<f32>,
    buckets: Buckets,
}

impl Scratch {
    fn new(vocab: usize) -> Self {
        Self {
            weights: Vec::with_capacity(vocab),
            selection: Vec::with_capacity(vocab),
            buckets: Buckets::default(),
        }
    }
}

/// `w = exp(row / t − max)`, returning Σ w: the softmax of the tempered row up to its
/// normaliser, which neither the cut-off (a fraction of the total) nor the draw
/// (u · kept total) needs.
fn tempered_weights(row: &[f32], t: f32, w: &mut Vec<f32>) -> f64 {
    // Division by t > 0 is monotone, so the largest tempered logit is the largest over t.
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max) / t;
    w.clear();
    w.resize(row.len(), 0.0);
    for (w, &l) in w.iter_mut().zip(row) {
        *w = exp_nonpositive(l / t - max);
    }
    lane_sum(w, |_| true)
}

/// `e^x` for `x ≤ 0` (0 below −87, where f32 runs out of normal numbers), to about one
/// part in 10⁷: x = n·ln 2 + r with |r| ≤ ln 2 / 2, e^r by Cephes' `expf` polynomial
/// (S. L. Moshier), 2ⁿ written into the exponent bits. Only + and × on f32, so it
/// vectorises (libm's `expf` is a call per element: a tenth of a sampling step at a 32k
/// vocabulary) and gives the same bits on every platform, wasm32 included.
fn exp_nonpositive(x: f32) -> f32 {
    const LN2_HI: f32 = 0.693_359_4;
    const LN2_LO: f32 = -2.121_944_4e-4;
    // Adding and subtracting 1.5·2²³ rounds to the nearest integer without a round().
    const ROUND: f32 = 12_582_912.0;
    let x = x.max(-87.0);
    let shifted = x * std::f32::consts::LOG2_E + ROUND;
    let n = shifted - ROUND;
    // The integer n also sits in the low mantissa bits of `shifted`: read it from there
    // (an `as i32` cast saturates, which compiles to scalar code and stops vectorisation).
    let n_bits = shifted.to_bits().wrapping_sub(ROUND.to_bits());
    let r = x - n * LN2_HI - n * LN2_LO;
    let mut p = 1.987_569_1e-4f32;
    p = p * r + 1.398_199_9e-3;
    p = p * r + 8.333_452e-3;
    p = p * r + 4.166_579_6e-2;
    p = p * r + 1.666_666_5e-1;
    p = p * r + 0.5;
    let er = p * r * r + r + 1.0;
    let two_n = f32::from_bits(n_bits.wrapping_add(127) << 23);
    let y = er * two_n;
    if x <= -87.0 {
        0.0
    } else {
        y
    }
}

/// Σ of the `x` with `keep(x)`, in f64 over eight interleaved lanes: a sequential sum
/// waits on every add, and a vocabulary is tens of thousands of them.
fn lane_sum(xs: &[f32], keep: impl Fn(f32) -> bool) -> f64 {
    let mut lanes = [0.0f64; 8];
    let blocks = xs.chunks_exact(8);
    let tail: f64 = blocks
        .remainder()
        .iter()
        .filter(|&&x| keep(x))
        .map(|&x| x as f64)
        .sum();
    for block in blocks {
        for (lane, &x) in lanes.iter_mut().zip(block) {
            *lane += if keep(x) { x as f64 } else { 0.0 };
        }
    }
    lanes.iter().sum::<f64>() + tail
}

/// The smallest weight that survives the cut-offs (`None`: nothing is cut): the
/// nucleus's at top-p (of `total`, the sum of the weights), the k-th largest at top-k, the
/// larger of the two when both apply.
fn cutoff(
    weights: &[f32],
    total: f64,
    top_p: Option<f64>,
    top_k: Option<usize>,
    scratch: &mut Vec<f32>,
    buckets: &mut Buckets,
) -> Option<f32> {
    let by_p = top_p.map(|p| nucleus_cutoff(weights, nucleus_mass(p) * total, scratch, buckets));
    let by_k = top_k.map(|k| {
        scratch.clear();
        scratch.extend_from_slice(weights);
        *scratch
            .select_nth_unstable_by(k - 1, |a, b| b.total_cmp(a))
            .1
    });
    match (by_p, by_k) {
        (Some(a), Some(b)) => Some(a.max(b)),
        (a, b) => a.or(b),
    }
}

/// Radix levels of [`nucleus_cutoff`]: (shift, bits) of the f32 bit pattern, high to low.
/// 11 + 12 + 8 bits cover everything below the sign bit, which is 0 for weights.
const RADIX_LEVELS: [(u32, u32); 3] = [(20, 11), (8, 12), (0, 8)];
const MAX_BUCKETS: usize = 1 << 12;

/// Per-bucket count and mass of one radix level, twice: even and odd elements go to
/// separate copies so consecutive adds to one bucket (most of a near-uniform row lands in a
/// handful) do not wait on each other.
struct Buckets {
    count: Vec<[u32; 2]>,
    mass: Vec<[f64; 2]>,
}

impl Default for Buckets {
    fn default() -> Self {
        Self {
            count: vec![[0; 2]; MAX_BUCKETS],
            mass: vec![[0.0; 2]; MAX_BUCKETS],
        }
    }
}

/// The m-th largest value of `row` for the smallest m whose top-m mass reaches `mass`
/// (the smallest value when even the whole row falls short): the nucleus cut-off.
///
/// By radix selection in O(vocab): the bits of a non-negative f32 order like its value,
/// so each level histograms the candidates by the next bits (count and mass per bucket),
/// walks the buckets from the top until the mass is reached, and keeps only the bucket
/// where that happens. After the last level the candidates share every bit: one value.
/// A sort per row was 15 % of a sampling step, and a branchy quickselect still half of it
/// at a 32k vocabulary, where an untrained model spreads the nucleus over most tokens.
fn nucleus_cutoff(row: &[f32], mass: f64, scratch: &mut Vec<f32>, buckets: &mut Buckets) -> f32 {
    let mut above = 0.0f64; // mass of the values above every candidate
    let mut first = true;
    for (shift, bits) in RADIX_LEVELS {
        let mask = (1u32 << bits) - 1;
        let key = |p: f32| ((p.to_bits() >> shift) & mask) as usize;
        let candidates: &[f32] = if first { row } else { scratch };
        let Buckets { count, mass: sums } = buckets;
        count[..=mask as usize].fill([0; 2]);
        sums[..=mask as usize].fill([0.0; 2]);
        let pairs = candidates.chunks_exact(2);
        for &p in pairs.remainder() {
            count[key(p)][0] += 1;
            sums[key(p)][0] += p as f64;
        }
        for pair in pairs {
            let (a, b) = (pair[0], pair[1]);
            count[key(a)][0] += 1;
            sums[key(a)][0] += a as f64;
            count[key(b)][1] += 1;
            sums[key(b)][1] += b as f64;
        }
        let nonempty = (0..=mask as usize).rev().filter(|&k| count[k] != [0; 2]);
        let mut boundary = None;
        for k in nonempty {
            let here = sums[k][0] + sums[k][1];
            if above + here >= mass {
                boundary = Some(k);
                break;
            }
            above += here;
        }
        let Some(boundary) = boundary else {
            // Short of the mass even with every candidate: keep them all.
            return candidates.iter().copied().fold(f32::INFINITY, f32::min);
        };
        if first {
            scratch.clear();
            scratch.extend(row.iter().copied().filter(|&p| key(p) == boundary));
            first = false;
        } else {
            scratch.retain(|&p| key(p) == boundary);
        }
    }
    scratch[0]
}

/// Ids per block of the draw's scan: whole blocks are skipped by their (lane) sum.
const DRAW_BLOCK: usize = 256;

/// Inverse-CDF draw in id order over the tokens whose weight is at least `cut`: the number
/// of running sums (in id order) that are ≤ `u · kept total`, capped at the last kept id
/// of non-zero weight (rounding at u → 1).
fn draw(weights: &[f32], cut: Option<f32>, u: f32) -> usize {
    let kept = |w: f32| cut.is_none_or(|c| w >= c);
    let last_kept = weights
        .iter()
        .rposition(|&w| kept(w) && w > 0.0)
        .unwrap_or(0);
    let target = u as f64 * lane_sum(weights, kept);
    let mut cdf = 0.0f64;
    let mut below = 0;
    for block in weights.chunks(DRAW_BLOCK) {
        let mass = lane_sum(block, kept);
        if cdf + mass <= target {
            cdf += mass;
            below += block.len();
            continue;
        }
        for &w in block {
            if kept(w) {
                cdf += w as f64;
            }
            if cdf > target {
                return below.min(last_kept);
            }
            below += 1;
        }
    }
    below.min(last_kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exp_is_accurate_on_the_whole_range() {
        let mut worst = 0.0f64;
        for i in 0..=870_000 {
            let x = -(i as f32) * 1e-4;
            let want = (x as f64).exp();
            let got = exp_nonpositive(x) as f64;
            if x > -86.0 {
                worst = worst.max((got - want).abs() / want);
            }
        }
        assert!(worst < 3e-7, "relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-100.0), 0.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
    }

    #[test]
    fn nucleus_of_a_hand_made_row() {
        // p = [0.1, 0.5, 0.15, 0.25]: top-p 0.6 keeps {0.5, 0.25}; 0.3 keeps 0.5 alone;
        // 0.95 needs all but the smallest; 1.0 (and beyond the total) keeps everything.
        let row = [0.1f32, 0.5, 0.15, 0.25];
        let (mut s, mut b) = (Vec::new(), Buckets::default());
        let mut cut = |mass| nucleus_cutoff(&row, mass, &mut s, &mut b);
        assert_eq!(cut(0.6), 0.25);
        assert_eq!(cut(0.3), 0.5);
        assert_eq!(cut(0.89), 0.15);
        assert_eq!(cut(1.5), 0.1);
    }

    /// Against the definition, by sorting: random rows with ties, zeros and values that
    /// share high bits (so that every radix level has work to do).
    #[test]
    fn nucleus_matches_a_sort() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (mut s, mut b) = (Vec::new(), Buckets::default());
        for case in 0..400 {
            let vocab = rng.random_range(1..3000);
            let spread = [0.001f32, 1.0, 8.0][case % 3];
            let mut row: Vec<f32> = (0..vocab)
                .map(|_| match rng.random_range(0..10) {
                    0 => 0.0,
                    1 => 0.5,
                    _ => (rng.random::<f32>() * spread).exp(),
                })
                .collect();
            let total: f32 = row.iter().sum();
            if total == 0.0 {
                continue;
            }
            row.iter_mut().for_each(|p| *p /= total);
            let mass = rng.random_range(0.0..1.0);
            let mut sorted = row.clone();
            sorted.sort_by(|a, b| b.total_cmp(a));
            let mut acc = 0.0f64;
            let mut want = *sorted.last().unwrap();
            for &p in &sorted {
                acc += p as f64;
                if acc >= mass {
                    want = p;
                    break;
                }
            }
            let got = nucleus_cutoff(&row, mass, &mut s, &mut b);
            // Summation order differs, so the mass before a boundary value may round
            // across `mass`: then the neighbouring distinct value is as right.
            if got != want {
                let before: f64 = row.iter().filter(|&&p| p > want).map(|&p| p as f64).sum();
                let with: f64 = row.iter().filter(|&&p| p >= want).map(|&p| p as f64).sum();
                assert!(
                    (before - mass).abs() < 1e-9 || (with - mass).abs() < 1e-9,
                    "case {case}: cut-off {got}, sorting says {want} (mass {mass})"
                );
            }
        }
    }

    #[test]
    fn draw_walks_the_cdf_of_kept_tokens_in_id_order() {
        let p = [0.1f32, 0.5, 0.15, 0.25];
        // Kept {1, 3}, total 0.75: u·0.75 < 0.5 → 1, else 3 (never a dropped id).
        assert_eq!(draw(&p, Some(0.25), 0.0), 1);
        assert_eq!(draw(&p, Some(0.25), 0.66), 1);
        assert_eq!(draw(&p, Some(0.25), 0.67), 3);
        assert_eq!(draw(&p, Some(0.25), 0.999_999_9), 3);
        // No cut: plain inverse CDF.
        assert_eq!(draw(&p, None, 0.05), 0);
        assert_eq!(draw(&p, None, 0.55), 1);
        assert_eq!(draw(&p, None, 0.7), 2);
        assert_eq!(draw(&p, None, 0.8), 3);
    }
}

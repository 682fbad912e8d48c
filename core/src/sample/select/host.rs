//! Token selection on the host, for the CPU backend (flex).
//!
//! The logits of a CPU tensor already live in host memory, so one fused pipeline per row —
//! temperature, softmax weights, cut-off, draw — replaces the dozen vocabulary-sized tensor
//! ops of the device path ([`super::bisection`]), each of which allocates and walks a
//! `[rows, vocab]` buffer. Rows run in parallel (rayon; on wasm32 without threads rayon
//! runs them on the calling thread). The rule is the device path's: the same cut-offs
//! (exact here, by selection) and the same inverse-CDF draw in id order, so a seed gives the
//! same samples on CPU and GPU up to float rounding.
//!
//! The passes over a whole row are compiled for AVX-512 and AVX2 as well as the baseline and
//! picked at run time (`multiversion`): the binary targets plain x86-64, whose 4-lane SSE2
//! code left most of a vector unit idle. They use only `+`, `×` and comparisons (no fused
//! multiply-add), so every version gives the same bits.

use burn::tensor::{Int, Tensor};
use multiversion::multiversion;
use rayon::prelude::*;

use super::nucleus::{nucleus_cutoff, Buckets};
use super::rule::{nucleus_mass, Rule, MIN_TEMPERATURE, NON_FINITE};
use crate::tensor::exp::{exp_nonpositive, larger};
use crate::tensor::flex::flex_f32;
use crate::tensor::host::{download, upload_ids};

/// What the device path would draw, for the CPU: `logits: [rows, vocab]`, one uniform per
/// row; [`NON_FINITE`] for a row whose logits are not all finite.
pub(super) fn select(logits: Tensor<2>, rule: Rule, uniforms: Tensor<2>) -> Tensor<1, Int> {
    let [rows, vocab] = logits.dims();
    let device = logits.device();
    // The flex tensor's own storage when it is contiguous (no copy of the logits).
    let flex = flex_f32(&logits).filter(|f| f.is_contiguous());
    let copied;
    let logits: &[f32] = match &flex {
        Some(f) => &f.storage::<f32>()[f.layout().start_offset()..][..rows * vocab],
        None => {
            copied = download(logits);
            &copied
        }
    };
    let uniforms = download(uniforms);
    let ids: Vec<u32> = logits
        .par_chunks(vocab)
        .zip(uniforms.par_iter())
        .map(|(row, &u)| {
            // NON_FINITE (−1) becomes an id past any vocabulary, as the device path's.
            SCRATCH.with_borrow_mut(|scratch| select_row(row, rule, u, scratch)) as u32
        })
        .collect();
    upload_ids(&ids, [rows], &device)
}

thread_local! {
    /// Each thread's buffers, kept from row to row and step to step (rayon's `map_init`
    /// made new ones, its bucket tables zeroed, for every piece of work it split off).
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::new(Scratch::default());
}

/// Per-thread buffers, reused across the rows a thread handles.
#[derive(Default)]
struct Scratch {
    weights: Vec<f32>,
    selection: Vec<f32>,
    buckets: Buckets,
    /// The candidates of a peaked row: ids and weights, in id order.
    ids: Vec<u32>,
    candidates: Vec<f32>,
}

fn select_row(row: &[f32], rule: Rule, u: f32, scratch: &mut Scratch) -> i64 {
    // NaN would otherwise vanish in the max and the exp: a row with a NaN or +∞, or only
    // −∞, has no distribution to draw from.
    let (poisoned, max) = scan(row);
    if poisoned || max == f32::NEG_INFINITY {
        return NON_FINITE;
    }
    let nominal = rule.temperature;
    let t = rule
        .adaptive
        .map_or(nominal, |a| a.row_temperature(row, nominal));
    let t = t.max(MIN_TEMPERATURE) as f32;
    // Division by t > 0 is monotone, so the largest tempered logit is the largest over t.
    let total = tempered_weights(row, max / t, t, &mut scratch.weights);
    let weights = &scratch.weights;
    if let (Some(p), None) = (rule.top_p, rule.top_k) {
        let mass = nucleus_mass(p) * total;
        if let Some(level) = candidate_level(weights, mass) {
            gather(
                weights,
                LEVELS[level],
                &mut scratch.ids,
                &mut scratch.candidates,
            );
            let cut = nucleus_cutoff(
                &scratch.candidates,
                mass,
                &mut scratch.selection,
                &mut scratch.buckets,
            );
            return draw_among(&scratch.ids, &scratch.candidates, cut, u) as i64;
        }
    }
    let cut = cutoff(
        weights,
        total,
        rule.top_p,
        rule.top_k,
        &mut scratch.selection,
        &mut scratch.buckets,
    );
    draw(weights, cut, u) as i64
}

/// Weight levels (the largest weight of a row is exactly 1) at which a row's mass is
/// tallied while its weights are computed. A trained model's nucleus sits far above the
/// long tail of its vocabulary: the first level whose mass already reaches the nucleus
/// bounds a small candidate set that must hold it, and the cut-off and the draw then run
/// over those candidates alone instead of the whole vocabulary.
const LEVELS: [f32; 4] = [1.0 / 32.0, 1.0 / 1024.0, 1.0 / 32768.0, 1.0 / 1048576.0];

/// A level's tally is an f32 sum, good to a few parts in 10⁴ over 128k tokens; it must beat
/// the nucleus by this factor, so a candidate set never holds less than the nucleus.
const LEVEL_MARGIN: f64 = 1.01;

/// Candidate sets larger than vocabulary / this are not worth gathering.
const MAX_CANDIDATE_SHARE: usize = 8;

/// The highest of [`LEVELS`] whose weights certainly hold the nucleus `mass`, if their
/// number makes gathering them worthwhile. Levels are tried from the top; once too many
/// weights pass one, every lower level passes more.
fn candidate_level(weights: &[f32], mass: f64) -> Option<usize> {
    for (l, &level) in LEVELS.iter().enumerate() {
        let (above, count) = tally(weights, level);
        if count * MAX_CANDIDATE_SHARE > weights.len() {
            return None;
        }
        if above as f64 >= mass * LEVEL_MARGIN {
            return Some(l);
        }
    }
    None
}

/// Whether `row` holds a NaN or +∞, and its largest value.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn scan(row: &[f32]) -> (bool, f32) {
    const W: usize = 16;
    let mut bad = [false; W];
    let mut max = [f32::NEG_INFINITY; W];
    let blocks = row.chunks_exact(W);
    let tail = blocks.remainder();
    for block in blocks {
        for i in 0..W {
            let x = block[i];
            bad[i] |= x.is_nan() | (x == f32::INFINITY);
            max[i] = larger(max[i], x);
        }
    }
    let mut poisoned = bad.iter().any(|&b| b);
    let mut m = max.iter().copied().fold(f32::NEG_INFINITY, larger);
    for &x in tail {
        poisoned |= x.is_nan() | (x == f32::INFINITY);
        m = larger(m, x);
    }
    (poisoned, m)
}

/// `w = exp(row / t − max)`, returning Σ w: the softmax of the tempered row up to its
/// normaliser, which neither the cut-off (a fraction of the total) nor the draw (u · kept
/// total) needs. `max` is the row's largest value over `t`.
fn tempered_weights(row: &[f32], max: f32, t: f32, w: &mut Vec<f32>) -> f64 {
    w.clear();
    w.resize(row.len(), 0.0);
    // x / 1 is x: the common T = 1 skips a division per token, with the same bits.
    if t == 1.0 {
        weigh::<true>(row, max, t, w)
    } else {
        weigh::<false>(row, max, t, w)
    }
}

/// [`tempered_weights`] into `w` (as long as `row`). The exponentials run 16 at a time;
/// Σ w keeps [`lane_sum`]'s eight f64 lanes and order (lane i adds tokens i, i + 8, …).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn weigh<const UNIT: bool>(row: &[f32], max: f32, t: f32, w: &mut [f32]) -> f64 {
    const W: usize = 16;
    const LANES: usize = 8;
    let weight = |l: f32| exp_nonpositive(if UNIT { l } else { l / t } - max);
    let mut lanes = [0.0f64; LANES];
    let mut blocks = w.chunks_exact_mut(W);
    for (out, block) in (&mut blocks).zip(row.chunks_exact(W)) {
        let x: [f32; W] = std::array::from_fn(|i| weight(block[i]));
        out.copy_from_slice(&x);
        for i in 0..LANES {
            lanes[i] += x[i] as f64;
        }
        for i in 0..LANES {
            lanes[i] += x[LANES + i] as f64;
        }
    }
    let done = row.len() - row.len() % W;
    let rest = blocks.into_remainder();
    for (out, &l) in rest.iter_mut().zip(&row[done..]) {
        *out = weight(l);
    }
    // A last whole lane block goes to the lanes, what is left after it to the tail.
    let whole = rest.len() - rest.len() % LANES;
    for block in rest[..whole].chunks_exact(LANES) {
        for i in 0..LANES {
            lanes[i] += block[i] as f64;
        }
    }
    let tail: f64 = rest[whole..].iter().map(|&x| x as f64).sum();
    lanes.iter().sum::<f64>() + tail
}

/// The mass (an f32 sum) and number of the weights at or above `level`.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn tally(w: &[f32], level: f32) -> (f32, usize) {
    const W: usize = 16;
    let mut mass = [0.0f32; W];
    let mut count = [0u32; W];
    let blocks = w.chunks_exact(W);
    let tail = blocks.remainder();
    for block in blocks {
        for i in 0..W {
            let at_least = block[i] >= level;
            mass[i] += if at_least { block[i] } else { 0.0 };
            count[i] += at_least as u32;
        }
    }
    let above = tail.iter().filter(|&&x| x >= level);
    (
        mass.iter().sum::<f32>() + above.clone().sum::<f32>(),
        count.iter().map(|&c| c as usize).sum::<usize>() + above.count(),
    )
}

/// The ids and weights of `weights` at or above `level`, in id order.
fn gather(weights: &[f32], level: f32, ids: &mut Vec<u32>, values: &mut Vec<f32>) {
    ids.clear();
    values.clear();
    for (i, &w) in weights.iter().enumerate() {
        if w >= level {
            ids.push(i as u32);
            values.push(w);
        }
    }
}

/// Σ of the `x` with `keep(x)`, in f64 over eight interleaved lanes: a sequential sum
/// waits on every add, and a vocabulary is tens of thousands of them.
#[inline(always)]
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

/// Ids per block of the draw's scan: whole blocks are skipped by their (lane) sum.
const DRAW_BLOCK: usize = 256;

/// Inverse-CDF draw in id order over the tokens whose weight is at least `cut`: the number
/// of running sums (in id order) that are ≤ `u · kept total`, capped at the last kept id
/// of non-zero weight (rounding at u → 1).
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
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

/// [`draw`] over a row's candidates (ids in ascending order, with their weights) that hold
/// every token at or above `cut`: the same inverse CDF in id order, over the same tokens.
fn draw_among(ids: &[u32], weights: &[f32], cut: f32, u: f32) -> usize {
    let kept = |w: f32| w >= cut;
    let last_kept = weights
        .iter()
        .rposition(|&w| kept(w) && w > 0.0)
        .map_or(0, |i| ids[i] as usize);
    let target = u as f64 * lane_sum(weights, kept);
    let mut cdf = 0.0f64;
    for (&id, &w) in ids.iter().zip(weights) {
        if kept(w) {
            cdf += w as f64;
            if cdf > target {
                return (id as usize).min(last_kept);
            }
        }
    }
    last_kept
}

#[cfg(test)]
mod tests {
    use super::*;

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

    /// The same weights, with and without the candidate shortcut: peaked rows (a nucleus of
    /// a few dozen tokens over a long tail), flat rows, rows with ties at the cut-off, and
    /// rows shorter than a lane block. The shortcut must draw the very same ids.
    #[test]
    fn candidates_draw_what_the_whole_row_draws() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let rule = |top_p| Rule {
            temperature: 1.0,
            adaptive: None,
            top_p: Some(top_p),
            top_k: None,
        };
        let mut shortcuts = 0;
        for case in 0..300 {
            let vocab = [5, 37, 2048, 32000][rng.random_range(0..4)];
            let peak = [0.0f32, 6.0, 12.0, 16.0][rng.random_range(0..4)];
            let nucleus = rng.random_range(1..40);
            let row: Vec<f32> = (0..vocab)
                .map(|i| {
                    let base = rng.random::<f32>() * 2.0;
                    if i % (vocab / nucleus.min(vocab)).max(1) == 0 {
                        base + peak
                    } else if case % 5 == 0 {
                        (base * 4.0).round() / 4.0 // ties
                    } else {
                        base
                    }
                })
                .collect();
            let top_p = [0.5, 0.9, 0.95, 0.999][rng.random_range(0..4)];
            let mut scratch = Scratch::default();
            let (_, max) = scan(&row);
            let total = tempered_weights(&row, max, 1.0, &mut scratch.weights);
            let mass = nucleus_mass(top_p) * total;
            if candidate_level(&scratch.weights, mass).is_some() {
                shortcuts += 1;
            }
            for _ in 0..8 {
                let u: f32 = rng.random();
                let fast = select_row(&row, rule(top_p), u, &mut scratch);
                let cut = cutoff(
                    &scratch.weights,
                    total,
                    Some(top_p),
                    None,
                    &mut scratch.selection,
                    &mut scratch.buckets,
                );
                let whole = draw(&scratch.weights, cut, u) as i64;
                assert_eq!(fast, whole, "case {case}: u = {u}");
            }
        }
        assert!(shortcuts > 40, "only {shortcuts} rows took the shortcut");
    }

    /// The total is [`lane_sum`]'s, bit for bit, whatever the length's remainder; the level
    /// tallies are the weights at or above each level.
    #[test]
    fn weights_total_matches_the_lane_sum() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        for len in [1, 7, 8, 9, 15, 16, 17, 23, 24, 25, 1000, 32000] {
            for t in [1.0f32, 0.7] {
                let row: Vec<f32> = (0..len).map(|_| rng.random::<f32>() * 20.0).collect();
                let (_, max) = scan(&row);
                let mut w = Vec::new();
                let total = tempered_weights(&row, max / t, t, &mut w);
                let want: Vec<f32> = row
                    .iter()
                    .map(|&l| exp_nonpositive(l / t - max / t))
                    .collect();
                assert_eq!(w, want);
                assert_eq!(total, lane_sum(&w, |_| true), "len {len}");
                for level in LEVELS {
                    let above: Vec<f32> = w.iter().copied().filter(|&x| x >= level).collect();
                    let (mass, count) = tally(&w, level);
                    assert_eq!(count, above.len());
                    let exact: f64 = above.iter().map(|&x| x as f64).sum();
                    assert!((mass as f64 - exact).abs() <= 1e-5 * exact.max(1.0));
                }
            }
        }
    }

    #[test]
    fn scan_finds_poison_and_the_maximum_in_any_lane() {
        for len in [1, 15, 16, 17, 100] {
            for at in [0, len / 2, len - 1] {
                let mut row = vec![-1.0f32; len];
                row[at] = 3.0;
                assert_eq!(scan(&row), (false, 3.0));
                row[at] = f32::NAN;
                assert!(scan(&row).0);
                row[at] = f32::INFINITY;
                assert!(scan(&row).0);
                row[at] = f32::NEG_INFINITY;
                assert!(!scan(&row).0);
            }
        }
    }
}

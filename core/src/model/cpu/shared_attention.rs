//! The attention of one new token per row over its prompt's keys and values (one copy,
//! shared by the rows continuing that prompt: `SharedPrompts`) and over the positions the
//! row generated itself, fused into one pass per row on the CPU.
//!
//! As tensor ops this is a stacked product per kv head for the prompt, per-row products for
//! the own positions, a concatenation, a window mask, a softmax, slices and two more
//! products — a dozen kernels, each allocating its result, most of them on one thread.
//! Here each row (in parallel) scores its queries against the visible prompt and own keys,
//! takes the softmax with [`exp_nonpositive`] and sums the values, with no intermediate
//! tensor. Prompt keys are transposed once per call (`[hd, len]` per kv head), so a query's
//! prompt scores are `hd` vector multiply-adds along the prompt instead of `len` dot
//! products that each end in a horizontal sum.

use std::mem::MaybeUninit;

use burn::tensor::Tensor;
use burn_flex::FlexTensor;
use multiversion::multiversion;
use rayon::prelude::*;

use super::exp::exp_nonpositive;
use super::{flex_f32, from_flex, written};
use crate::model::cache::SharedPrompts;

/// A 4-d flex tensor's elements with its strides; the last axis must be contiguous.
struct View<'a> {
    data: &'a [f32],
    dims: [usize; 4],
    strides: [usize; 4],
}

impl<'a> View<'a> {
    fn of(t: &'a FlexTensor) -> Option<Self> {
        let layout = t.layout();
        let shape = layout.shape();
        let s = layout.strides();
        if s.iter().any(|&x| x < 0) || s[3] != 1 {
            return None;
        }
        Some(Self {
            data: &t.storage::<f32>()[layout.start_offset()..],
            dims: [shape[0], shape[1], shape[2], shape[3]],
            strides: [s[0] as usize, s[1] as usize, s[2] as usize, 1],
        })
    }

    /// The contiguous last-axis vector at `[i, j, k, ..]`.
    fn vector(&self, i: usize, j: usize, k: usize) -> &'a [f32] {
        let start = i * self.strides[0] + j * self.strides[1] + k * self.strides[2];
        &self.data[start..start + self.dims[3]]
    }
}

/// One prompt's keys, transposed to `[kv_heads, hd, len]`, and its values.
struct Prompt<'a> {
    keys_t: Vec<f32>,
    values: View<'a>,
    len: usize,
}

/// `q: [rows, heads, 1, hd]` attending to the shared prompts of `layer` and to the rows'
/// own keys and values `k, v: [rows, kv_heads, t, hd]` (a KV buffer's filled prefix) →
/// `[rows, heads, 1, hd]`; `window` hides keys as `mask::window_bias` does. `None` off the
/// CPU backend.
pub(crate) fn attend(
    q: &Tensor<4>,
    k: &Tensor<4>,
    v: &Tensor<4>,
    shared: &SharedPrompts,
    layer: usize,
) -> Option<Tensor<4>> {
    let [rows, heads, one, hd] = q.dims();
    let qf = flex_f32(q)?;
    let (kf, vf) = (flex_f32(k)?, flex_f32(v)?);
    let (q, k, v) = (View::of(&qf)?, View::of(&kf)?, View::of(&vf)?);
    let (kvh, t) = (k.dims[1], k.dims[2]);
    if one != 1 || !heads.is_multiple_of(kvh) {
        return None;
    }
    let tensors: Vec<_> = shared.layers[layer]
        .iter()
        .map(|(pk, pv)| Some((flex_f32(pk)?, flex_f32(pv)?)))
        .collect::<Option<_>>()?;
    let mut prompts = Vec::with_capacity(tensors.len());
    for (pk, pv) in &tensors {
        let (keys, values) = (View::of(pk)?, View::of(pv)?);
        let len = keys.dims[2];
        let mut keys_t = vec![0.0f32; kvh * hd * len];
        for j in 0..kvh {
            for i in 0..len {
                for (d, &x) in keys.vector(0, j, i).iter().enumerate() {
                    keys_t[(j * hd + d) * len + i] = x;
                }
            }
        }
        prompts.push(Prompt {
            keys_t,
            values,
            len,
        });
    }
    // Row r's prompt.
    let of_row: Vec<usize> = shared
        .groups()
        .flat_map(|(p, _, n)| std::iter::repeat_n(p, n))
        .collect();
    if of_row.len() != rows {
        return None;
    }
    let shape = Shape {
        heads,
        kvh,
        hd,
        t,
        scale: (hd as f64).sqrt() as f32,
        window: shared.windows[layer],
    };
    // SAFETY: `rows` chunks of `heads · hd` cover the output; `row` writes all of its chunk.
    let out = unsafe {
        written([rows, heads, 1, hd], |out| {
            out.par_chunks_mut(heads * hd).enumerate().for_each_init(
                || (Vec::new(), Vec::new()),
                |scratch, (r, out)| {
                    let prompt = &prompts[of_row[r]];
                    row(&shape, &q, &k, &v, prompt, r, scratch, out);
                },
            );
        })
    };
    Some(from_flex(out))
}

/// The sizes every row shares.
struct Shape {
    heads: usize,
    kvh: usize,
    hd: usize,
    /// Own positions so far (this step's included).
    t: usize,
    scale: f32,
    window: Option<usize>,
}

/// Every head of row `r`, into `out` (`heads · hd` values). `scores` and `acc` are scratch.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
fn row(
    s: &Shape,
    q: &View,
    k: &View,
    v: &View,
    prompt: &Prompt,
    r: usize,
    (scores, acc): &mut (Vec<f32>, Vec<f32>),
    out: &mut [MaybeUninit<f32>],
) {
    let (hd, len, t) = (s.hd, prompt.len, s.t);
    let group = s.heads / s.kvh;
    // The query sits at position len + t − 1; a window of w shows it keys from
    // len + t − w on (`mask::window_bias`).
    let first = s.window.map_or(0, |w| (len + t).saturating_sub(w));
    let (prompt_from, own_from) = (first.min(len), first.saturating_sub(len));
    let n_prompt = len - prompt_from;
    acc.resize(hd, 0.0);
    for h in 0..s.heads {
        let j = h / group;
        let qv = q.vector(r, h, 0);
        scores.clear();
        scores.resize(n_prompt + (t - own_from), 0.0);
        let (to_prompt, to_own) = scores.split_at_mut(n_prompt);
        // Prompt: Σ_d q_d · Kᵀ[d, i], vectorised along the prompt.
        let keys_t = &prompt.keys_t[j * hd * len..][..hd * len];
        for (d, &qd) in qv.iter().enumerate() {
            let column = &keys_t[d * len + prompt_from..(d + 1) * len];
            for (x, &key) in to_prompt.iter_mut().zip(column) {
                *x += qd * key;
            }
        }
        for (i, x) in to_own.iter_mut().enumerate() {
            *x = dot(qv, k.vector(r, j, own_from + i));
        }
        let total = softmax_weights(scores, s.scale);
        acc.fill(0.0);
        let values = (0..n_prompt)
            .map(|i| prompt.values.vector(0, j, prompt_from + i))
            .chain((own_from..t).map(|i| v.vector(r, j, i)));
        for (&w, value) in scores.iter().zip(values) {
            for (a, &x) in acc.iter_mut().zip(value) {
                *a += w * x;
            }
        }
        for (o, &a) in out[h * hd..(h + 1) * hd].iter_mut().zip(acc.iter()) {
            o.write(a / total);
        }
    }
}

/// Scores `/ scale`, then `exp(score − max)` in place; returns their sum. Each pass keeps
/// eight lanes (a sequential max or sum would keep the exponentials from vectorising).
#[inline(always)]
fn softmax_weights(scores: &mut [f32], scale: f32) -> f32 {
    const W: usize = 8;
    let mut max = [f32::NEG_INFINITY; W];
    for block in scores.chunks_mut(W) {
        for (m, x) in max.iter_mut().zip(block) {
            *x /= scale;
            *m = m.max(*x);
        }
    }
    let max = max.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    for x in scores.iter_mut() {
        *x = exp_nonpositive(*x - max);
    }
    let mut total = [0.0f32; W];
    for block in scores.chunks(W) {
        for (t, &x) in total.iter_mut().zip(block) {
            *t += x;
        }
    }
    total.iter().sum()
}

/// A dot product with eight independent accumulators, so that it vectorises.
#[inline(always)]
fn dot(a: &[f32], b: &[f32]) -> f32 {
    let mut acc = [0f32; 8];
    let (ac, bc) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail: f32 = ac
        .remainder()
        .iter()
        .zip(bc.remainder())
        .map(|(x, y)| x * y)
        .sum();
    for (x, y) in ac.zip(bc) {
        for l in 0..8 {
            acc[l] += x[l] * y[l];
        }
    }
    acc.iter().sum::<f32>() + tail
}

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
use multiversion::target::target_cfg_f;
use rayon::prelude::*;

use crate::model::cache::SharedPrompts;
use crate::tensor::exp::{exp_nonpositive, larger};
use crate::tensor::flex::{flex_f32, from_flex, written};

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
/// Common head sizes get their own copy of the loops, whose fixed-length vectors stay in
/// registers; others take the general one.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
#[allow(clippy::too_many_arguments)]
fn row(
    s: &Shape,
    q: &View,
    k: &View,
    v: &View,
    prompt: &Prompt,
    r: usize,
    scratch: &mut (Vec<f32>, Vec<f32>),
    out: &mut [MaybeUninit<f32>],
) {
    // x86-64 with AVX2 + FMA (every version but the baseline) runs the 8-lane kernels, and
    // wasm32 (built with SIMD) its 4-lane ones.
    let simd = target_cfg_f!(any(
        all(
            target_arch = "x86_64",
            target_feature = "avx2",
            target_feature = "fma"
        ),
        all(target_arch = "wasm32", target_feature = "simd128")
    ));
    let args = (s, q, k, v, prompt, r, simd);
    match s.hd {
        32 => heads::<4>(args, scratch, out),
        48 => heads::<6>(args, scratch, out),
        64 => heads::<8>(args, scratch, out),
        80 => heads::<10>(args, scratch, out),
        96 => heads::<12>(args, scratch, out),
        128 => heads::<16>(args, scratch, out),
        _ => heads::<0>(args, scratch, out),
    }
}

/// [`row`] for head size `8 · C` (`C` = 0: any, from the shape).
///
/// Inlined on x86-64, where it must be compiled inside each of `row`'s target-feature
/// versions; on wasm32 (one version) a function of its own, so the browser's optimising
/// compiler, which compiles whole functions once they are hot, compiles the one head size
/// the model has instead of all seven (measured: `row` was the costliest function to
/// optimise in a CPU-fallback run, 32 KB of wasm).
#[cfg_attr(not(target_arch = "wasm32"), inline(always))]
#[cfg_attr(target_arch = "wasm32", inline(never))]
fn heads<const C: usize>(
    (s, q, k, v, prompt, r, simd): (&Shape, &View, &View, &View, &Prompt, usize, bool),
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
        prompt_scores(
            qv,
            &prompt.keys_t[j * hd * len..][..hd * len],
            len,
            prompt_from,
            to_prompt,
        );
        // `simd` is false where neither kernel runs, so `fast` is too.
        let fast = C > 0 && simd;
        let own_keys = (own_from..t).map(|i| k.vector(r, j, i));
        #[cfg(target_arch = "x86_64")]
        if fast {
            // SAFETY: on x86-64 `simd` says this CPU has AVX2 and FMA; the keys are `8 · C`
            // long.
            unsafe { lanes8::dots::<C>(qv, own_keys.clone(), to_own) };
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if fast {
            lanes4::dots::<C>(qv, own_keys.clone(), to_own);
        }
        if !fast {
            for (x, key) in to_own.iter_mut().zip(own_keys) {
                *x = dot(qv, key);
            }
        }
        let total = softmax_weights(scores, s.scale);
        let values = (0..n_prompt)
            .map(|i| prompt.values.vector(0, j, prompt_from + i))
            .chain((own_from..t).map(|i| v.vector(r, j, i)));
        let out = &mut out[h * hd..(h + 1) * hd];
        #[cfg(target_arch = "x86_64")]
        if fast {
            // SAFETY: as above; the values are `8 · C` long and so is `out`.
            unsafe { lanes8::weighted::<C>(scores, values.clone(), total, out) };
            continue;
        }
        #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
        if fast {
            lanes4::weighted::<C>(scores, values.clone(), total, out);
            continue;
        }
        acc.fill(0.0);
        for (&w, value) in scores.iter().zip(values) {
            for (a, &x) in acc.iter_mut().zip(value) {
                *a += w * x;
            }
        }
        for (o, &a) in out.iter_mut().zip(acc.iter()) {
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
            *m = larger(*m, *x);
        }
    }
    let max = max.iter().copied().fold(f32::NEG_INFINITY, larger);
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

/// `out[i] = Σ_d q_d · Kᵀ[d, from + i]` for the prompt keys `keys_t` (`[hd, len]`): eight keys
/// at a time, each block summed over `d` in one vector (a loop over `d` outside a loop over
/// the keys had the compiler carry one key's sum in a scalar register from `d` to `d`).
#[inline(always)]
fn prompt_scores(q: &[f32], keys_t: &[f32], len: usize, from: usize, out: &mut [f32]) {
    let (whole, tail) = out.as_chunks_mut::<8>();
    for (b, block) in whole.iter_mut().enumerate() {
        let mut acc = [0.0f32; 8];
        let at = from + 8 * b;
        for (d, &qd) in q.iter().enumerate() {
            let keys: &[f32; 8] = keys_t[d * len + at..][..8].try_into().expect("8 keys");
            for l in 0..8 {
                acc[l] += qd * keys[l];
            }
        }
        *block = acc;
    }
    let at = from + 8 * whole.len();
    for (i, x) in tail.iter_mut().enumerate() {
        *x = q
            .iter()
            .enumerate()
            .map(|(d, &qd)| qd * keys_t[d * len + at + i])
            .sum();
    }
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

/// 8-lane kernels for heads of `8 · C` values on x86-64 with AVX2 and FMA, written with
/// intrinsics: left to itself the compiler vectorised these loops across keys instead of
/// along the head (two lanes at a time, or one lane scalar beside fifteen).
#[cfg(target_arch = "x86_64")]
mod lanes8 {
    use std::arch::x86_64::*;
    use std::mem::MaybeUninit;

    /// `out[i] = q · key_i`.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn dots<'a, const C: usize>(
        q: &[f32],
        keys: impl Iterator<Item = &'a [f32]>,
        out: &mut [f32],
    ) {
        assert!(q.len() >= 8 * C);
        for (o, key) in out.iter_mut().zip(keys) {
            assert!(key.len() >= 8 * C);
            let mut acc = _mm256_setzero_ps();
            for b in 0..C {
                // SAFETY: both slices hold at least 8 · C values (asserted).
                let (x, y) = unsafe {
                    (
                        _mm256_loadu_ps(q.as_ptr().add(8 * b)),
                        _mm256_loadu_ps(key.as_ptr().add(8 * b)),
                    )
                };
                acc = _mm256_fmadd_ps(x, y, acc);
            }
            *o = total(acc);
        }
    }

    /// `out = Σ_i w_i · value_i / sum`, the `C` vector sums held in registers.
    #[target_feature(enable = "avx2,fma")]
    pub(super) unsafe fn weighted<'a, const C: usize>(
        w: &[f32],
        values: impl Iterator<Item = &'a [f32]>,
        sum: f32,
        out: &mut [MaybeUninit<f32>],
    ) {
        assert!(out.len() >= 8 * C);
        let mut acc = [_mm256_setzero_ps(); C];
        for (&wi, value) in w.iter().zip(values) {
            assert!(value.len() >= 8 * C);
            let wv = _mm256_set1_ps(wi);
            for (b, a) in acc.iter_mut().enumerate() {
                // SAFETY: `value` holds at least 8 · C values (asserted).
                let x = unsafe { _mm256_loadu_ps(value.as_ptr().add(8 * b)) };
                *a = _mm256_fmadd_ps(wv, x, *a);
            }
        }
        let by = _mm256_set1_ps(sum);
        for (b, a) in acc.iter().enumerate() {
            // SAFETY: `out` holds at least 8 · C values (asserted); every one is written.
            unsafe { _mm256_storeu_ps(out.as_mut_ptr().add(8 * b).cast(), _mm256_div_ps(*a, by)) };
        }
    }

    /// The sum of the eight lanes.
    #[target_feature(enable = "avx2,fma")]
    fn total(v: __m256) -> f32 {
        let half = _mm_add_ps(_mm256_castps256_ps128(v), _mm256_extractf128_ps::<1>(v));
        let pairs = _mm_add_ps(half, _mm_movehl_ps(half, half));
        _mm_cvtss_f32(_mm_add_ss(pairs, _mm_movehdup_ps(pairs)))
    }
}

/// [`lanes8`]'s kernels in WebAssembly SIMD (`v128`, 4 lanes, no fused multiply-add), two
/// vectors per 8 values: the portable loops compiled to wasm that takes lanes apart one at
/// a time, and attention was 13 % of the browser engine's sampling time (Node `--cpu-prof`,
/// `scripts/bench-wasm.sh`).
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
mod lanes4 {
    use std::arch::wasm32::*;
    use std::mem::MaybeUninit;

    /// `out[i] = q · key_i`.
    pub(super) fn dots<'a, const C: usize>(
        q: &[f32],
        keys: impl Iterator<Item = &'a [f32]>,
        out: &mut [f32],
    ) {
        let q = &q[..8 * C];
        for (o, key) in out.iter_mut().zip(keys) {
            let key = &key[..8 * C];
            let mut acc = [f32x4_splat(0.0); 2];
            for i in 0..2 * C {
                acc[i % 2] = f32x4_add(acc[i % 2], f32x4_mul(load(q, i), load(key, i)));
            }
            *o = total(f32x4_add(acc[0], acc[1]));
        }
    }

    /// `out = Σ_i w_i · value_i / sum`, the `2 · C` vector sums held in registers.
    pub(super) fn weighted<'a, const C: usize>(
        w: &[f32],
        values: impl Iterator<Item = &'a [f32]>,
        sum: f32,
        out: &mut [MaybeUninit<f32>],
    ) {
        let mut acc = [[f32x4_splat(0.0); 2]; C];
        for (&wi, value) in w.iter().zip(values) {
            let value = &value[..8 * C];
            let wv = f32x4_splat(wi);
            for (b, a) in acc.iter_mut().enumerate() {
                for (h, a) in a.iter_mut().enumerate() {
                    *a = f32x4_add(*a, f32x4_mul(wv, load(value, 2 * b + h)));
                }
            }
        }
        let out = &mut out[..8 * C];
        let by = f32x4_splat(sum);
        for (i, a) in acc.iter().flatten().enumerate() {
            let v = f32x4_div(*a, by);
            for (l, o) in out[4 * i..4 * i + 4].iter_mut().enumerate() {
                o.write(lane(v, l));
            }
        }
    }

    /// Values `4i .. 4i + 4` of `x` (bounds-checked).
    #[inline(always)]
    fn load(x: &[f32], i: usize) -> v128 {
        let x: &[f32; 4] = x[4 * i..4 * i + 4].try_into().expect("4 values");
        // SAFETY: `x` is 4 readable f32 values; v128 loads need no alignment.
        unsafe { v128_load(x.as_ptr().cast()) }
    }

    #[inline(always)]
    fn lane(v: v128, l: usize) -> f32 {
        match l {
            0 => f32x4_extract_lane::<0>(v),
            1 => f32x4_extract_lane::<1>(v),
            2 => f32x4_extract_lane::<2>(v),
            _ => f32x4_extract_lane::<3>(v),
        }
    }

    /// The sum of the four lanes.
    #[inline(always)]
    fn total(v: v128) -> f32 {
        (lane(v, 0) + lane(v, 1)) + (lane(v, 2) + lane(v, 3))
    }
}

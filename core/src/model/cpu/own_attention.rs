//! The attention of each row's new query over the positions that row generated itself
//! (see `Attention::attend_shared`): per row, per kv head, a `[group, hd] × [hd, t]` score
//! product and a `[group, t] × [t, hd]` weighted sum with `t` at most the new tokens. As
//! batched matmuls these are `rows × kv_heads` separate `gemm` calls each, thousands per
//! step; here each is one pass over the rows, split over the cores by row.

use burn::tensor::{DType, Tensor};
use burn_flex::FlexTensor;
use rayon::prelude::*;

use super::{flex_f32, from_flex};

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

/// The flex tensor behind `t` with a contiguous last axis (copied only if it has none).
fn flex_rows<const D: usize>(t: &Tensor<D>) -> Option<FlexTensor> {
    let f = flex_f32(t)?;
    Some(if f.layout().strides().last() == Some(&1) {
        f
    } else {
        f.to_contiguous()
    })
}

/// A dot product with eight independent accumulators, so the compiler can vectorise it.
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

/// `q · kᵀ / scale` per row and kv head: `q: [rows, kv_heads, group, hd]`,
/// `k: [rows, kv_heads, t, hd]` → `[rows, kv_heads, group, t]`. `None` off the CPU backend.
pub(crate) fn scores(q: &Tensor<4>, k: &Tensor<4>, scale: f32) -> Option<Tensor<4>> {
    let (qf, kf) = (flex_rows(q)?, flex_rows(k)?);
    let (q, k) = (View::of(&qf)?, View::of(&kf)?);
    let [rows, kvh, group, _] = q.dims;
    let t = k.dims[2];
    let mut out = FlexTensor::empty([rows, kvh, group, t].into(), DType::F32);
    let per_row = kvh * group * t;
    if per_row > 0 {
        out.storage_mut::<f32>()
            .par_chunks_mut(per_row)
            .enumerate()
            .for_each(|(r, row)| {
                for j in 0..kvh {
                    for g in 0..group {
                        let qv = q.vector(r, j, g);
                        let dst = &mut row[(j * group + g) * t..][..t];
                        for (p, d) in dst.iter_mut().enumerate() {
                            *d = dot(qv, k.vector(r, j, p)) / scale;
                        }
                    }
                }
            });
    }
    Some(from_flex(out))
}

/// `probs · v` per row and kv head: `probs: [rows, kv_heads, group, t]`,
/// `v: [rows, kv_heads, t, hd]` → `[rows, kv_heads, group, hd]`. `None` off the CPU backend.
pub(crate) fn weighted(probs: &Tensor<4>, v: &Tensor<4>) -> Option<Tensor<4>> {
    let (pf, vf) = (flex_rows(probs)?, flex_rows(v)?);
    let (p, v) = (View::of(&pf)?, View::of(&vf)?);
    let [rows, kvh, group, t] = p.dims;
    let hd = v.dims[3];
    let mut out = FlexTensor::empty([rows, kvh, group, hd].into(), DType::F32);
    let per_row = kvh * group * hd;
    if per_row > 0 {
        out.storage_mut::<f32>()
            .par_chunks_mut(per_row)
            .enumerate()
            .for_each(|(r, row)| {
                for j in 0..kvh {
                    for g in 0..group {
                        let weights = p.vector(r, j, g);
                        let dst = &mut row[(j * group + g) * hd..][..hd];
                        for (pos, &w) in weights.iter().enumerate().take(t) {
                            for (d, &x) in dst.iter_mut().zip(v.vector(r, j, pos)) {
                                *d += w * x;
                            }
                        }
                    }
                }
            });
    }
    Some(from_flex(out))
}

//! Rotary position embedding on the CPU backend in one pass:
//! `out = x · cos + rotate_half(x) · sin` on the first `rotary_dim` values of every head
//! vector, the rest passed through.
//!
//! As burn ops it is three slices, a negation, a `cat`, two broadcast multiplies and an
//! add, for queries and keys of every layer at every step. Besides the passes, in the
//! browser these are some of the largest generic functions of the build (`cat` above all),
//! which the engine compiles again with its optimising tier once they become hot on every
//! page load. Each output is the same two f32 products and one sum as burn's
//! (`x_i·cos_i + (−x_{i+half})·sin_i`, `x_i·cos_i + x_{i−half}·sin_i`), so the results are
//! bit-identical to the generic path (tested).

use std::mem::MaybeUninit;

use burn::tensor::Tensor;

use crate::tensor::flex::{contiguous, flex_f32, from_flex, written};

/// `apply_rope` for `x: [b, h, s, d]` (any layout whose last axis is contiguous) and the
/// tables `cos, sin: [b or 1, 1, s or 1, rotary_dim]` on the CPU backend; `None` elsewhere.
pub(crate) fn apply(
    x: &Tensor<4>,
    cos: &Tensor<4>,
    sin: &Tensor<4>,
    rotary_dim: usize,
) -> Option<Tensor<4>> {
    let [b, h, s, d] = x.dims();
    let [tb, th, ts, tr] = cos.dims();
    if sin.dims() != cos.dims()
        || tr != rotary_dim
        || th != 1
        || (tb != 1 && tb != b)
        || (ts != 1 && ts != s)
        || !rotary_dim.is_multiple_of(2)
        || rotary_dim > d
    {
        return None;
    }
    let xf = flex_f32(x)?;
    let strides: [isize; 4] = xf.layout().strides().try_into().ok()?;
    if strides[3] != 1 || strides.iter().any(|&st| st < 0) {
        return None;
    }
    let (c, sn) = (contiguous(flex_f32(cos)?), contiguous(flex_f32(sin)?));
    let xs = &xf.storage::<f32>()[xf.layout().start_offset()..];
    let cs = &c.storage::<f32>()[c.layout().start_offset()..][..tb * ts * tr];
    let ss = &sn.storage::<f32>()[sn.layout().start_offset()..][..tb * ts * tr];
    let half = rotary_dim / 2;
    let [sb, sh, sss, _] = strides.map(|st| st as usize);
    // SAFETY: the loops below write every one of the b·h·s·d outputs once, in order.
    let out = unsafe {
        written([b, h, s, d], |out| {
            let mut rows = out.chunks_exact_mut(d);
            for bi in 0..b {
                for hi in 0..h {
                    for si in 0..s {
                        let o = rows.next().expect("b·h·s rows");
                        let xr = &xs[bi * sb + hi * sh + si * sss..][..d];
                        let t = ((if tb == 1 { 0 } else { bi }) * ts
                            + if ts == 1 { 0 } else { si })
                            * tr;
                        rotate(o, xr, &cs[t..t + tr], &ss[t..t + tr], half);
                    }
                }
            }
        })
    };
    Some(from_flex(out))
}

/// One head vector.
#[inline]
fn rotate(out: &mut [MaybeUninit<f32>], x: &[f32], cos: &[f32], sin: &[f32], half: usize) {
    let r = 2 * half;
    let (lo, rest) = out.split_at_mut(half);
    let (hi, pass) = rest.split_at_mut(half);
    for i in 0..half {
        lo[i].write(x[i] * cos[i] + -x[i + half] * sin[i]);
        hi[i].write(x[i + half] * cos[i + half] + x[i] * sin[i + half]);
    }
    for (o, &v) in pass.iter_mut().zip(&x[r..]) {
        o.write(v);
    }
}

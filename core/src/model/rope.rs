//! Rotary position embeddings in HF's `rotate_half` convention.
//!
//! For rotary dimension `r` (all of a head for Llama, `partial_rotary_factor · head_dim`
//! for Phi): `inv_freq_i = θ^(−2i/r)`, angles `p · inv_freq` duplicated to length `r`,
//! and `x_rot ← x_rot · cos + rotate_half(x_rot) · sin` with
//! `rotate_half([x1, x2]) = [−x2, x1]`; the remaining `head_dim − r` dims pass through.

use burn::tensor::{Device, Tensor};

use super::weights::upload;

/// cos and sin tables for a run of positions, shaped `[1, 1, len, r]` to broadcast over
/// batch and heads.
pub struct RopeTables {
    pub cos: Tensor<4>,
    pub sin: Tensor<4>,
}

pub fn rope_tables(
    theta: f64,
    rotary_dim: usize,
    start: usize,
    len: usize,
    device: &Device,
) -> RopeTables {
    let half = rotary_dim / 2;
    // transformers computes inv_freq in f32 from an f32 exponent; mirror that rounding.
    let inv_freq: Vec<f32> = (0..half)
        .map(|i| 1.0 / (theta as f32).powf((2 * i) as f32 / rotary_dim as f32))
        .collect();
    let mut cos = Vec::with_capacity(len * rotary_dim);
    let mut sin = Vec::with_capacity(len * rotary_dim);
    for p in start..start + len {
        // The angles are laid out twice: `cat(freqs, freqs)`.
        for _ in 0..2 {
            for f in &inv_freq {
                let angle = p as f32 * f;
                cos.push(angle.cos());
                sin.push(angle.sin());
            }
        }
    }
    RopeTables {
        cos: upload(cos, [1, 1, len, rotary_dim], device),
        sin: upload(sin, [1, 1, len, rotary_dim], device),
    }
}

/// Applies the rotation to `x: [batch, heads, len, head_dim]`.
pub fn apply_rope(x: Tensor<4>, tables: &RopeTables, rotary_dim: usize) -> Tensor<4> {
    let [b, h, s, d] = x.dims();
    let half = rotary_dim / 2;
    let rot = x.clone().slice([0..b, 0..h, 0..s, 0..rotary_dim]);
    let x1 = rot.clone().slice([0..b, 0..h, 0..s, 0..half]);
    let x2 = rot.clone().slice([0..b, 0..h, 0..s, half..rotary_dim]);
    let rotated = Tensor::cat(vec![x2.neg(), x1], 3);
    let out = rot * tables.cos.clone() + rotated * tables.sin.clone();
    if rotary_dim == d {
        out
    } else {
        let pass = x.slice([0..b, 0..h, 0..s, rotary_dim..d]);
        Tensor::cat(vec![out, pass], 3)
    }
}

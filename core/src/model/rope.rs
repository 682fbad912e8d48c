//! Rotary position embeddings in HF's `rotate_half` convention, with the frequency
//! scalings transformers implements for Llama-style models.
//!
//! For rotary dimension `r` (all of a head for Llama, `partial_rotary_factor · head_dim`
//! for Phi): `inv_freq_i = θ^(−2i/r)`, rescaled by [`RopeScaling`], angles
//! `p · inv_freq` duplicated to length `r`, and
//! `x_rot ← x_rot · cos + rotate_half(x_rot) · sin` with `rotate_half([x1, x2]) = [−x2, x1]`;
//! the remaining `head_dim − r` dims pass through. Every frequency is computed in f32,
//! as transformers computes it, so the angles round the same way.

use burn::tensor::{DType, Device, Tensor};
use serde::{Deserialize, Serialize};

use crate::tensor::host::upload;

/// How the base frequencies are rescaled for contexts longer than pretraining
/// (`rope_scaling` / `rope_parameters` in `config.json`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(tag = "rope_type", rename_all = "lowercase")]
pub enum RopeScaling {
    /// Plain RoPE.
    #[default]
    Default,
    /// Position interpolation: every frequency divided by `factor`.
    Linear { factor: f64 },
    /// Dynamic NTK: once the sequence is longer than `max_position_embeddings`, the base
    /// grows with the sequence length (`seq_len` = positions seen so far).
    Dynamic {
        factor: f64,
        max_position_embeddings: usize,
    },
    /// Llama 3.x: long wavelengths divided by `factor`, short ones kept, a smooth blend
    /// between `original_max_position_embeddings / high_freq_factor` and `/ low_freq_factor`.
    Llama3 {
        factor: f64,
        low_freq_factor: f64,
        high_freq_factor: f64,
        original_max_position_embeddings: usize,
    },
}

/// The inverse frequencies of `rotary_dim` dimensions for a sequence of `seq_len`
/// positions (only dynamic scaling depends on it).
pub fn inv_freq(theta: f64, rotary_dim: usize, scaling: RopeScaling, seq_len: usize) -> Vec<f32> {
    let dim = rotary_dim as f32;
    let base_freqs = |base: f32| -> Vec<f32> {
        (0..rotary_dim / 2)
            .map(|i| 1.0 / base.powf((2 * i) as f32 / dim))
            .collect()
    };
    match scaling {
        RopeScaling::Default => base_freqs(theta as f32),
        RopeScaling::Linear { factor } => base_freqs(theta as f32)
            .into_iter()
            .map(|f| f / factor as f32)
            .collect(),
        RopeScaling::Dynamic {
            factor,
            max_position_embeddings: max_pos,
        } => {
            if seq_len <= max_pos {
                return base_freqs(theta as f32);
            }
            // transformers evaluates the grown base on an f32 tensor.
            let factor = factor as f32;
            let grown = (factor * seq_len as f32 / max_pos as f32) - (factor - 1.0);
            let base = theta as f32 * grown.powf(dim / (dim - 2.0));
            base_freqs(base)
        }
        RopeScaling::Llama3 {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings: orig,
        } => {
            let (factor, low, high) = (
                factor as f32,
                low_freq_factor as f32,
                high_freq_factor as f32,
            );
            let orig = orig as f32;
            let (low_wavelen, high_wavelen) = (orig / low, orig / high);
            base_freqs(theta as f32)
                .into_iter()
                .map(|f| {
                    let wavelen = 2.0 * std::f32::consts::PI / f;
                    let scaled = if wavelen > low_wavelen { f / factor } else { f };
                    // Frequencies are finite here, so `!(a < b)` is `a >= b`.
                    let medium = wavelen >= high_wavelen && wavelen <= low_wavelen;
                    if medium {
                        let smooth = (orig / wavelen - low) / (high - low);
                        (1.0 - smooth) * scaled / factor + smooth * scaled
                    } else {
                        scaled
                    }
                })
                .collect()
        }
    }
}

/// cos and sin tables, shaped `[1, 1, len, r]` for a run of positions (broadcast over
/// batch and heads) or `[rows, 1, 1, r]` for one position per row.
pub struct RopeTables {
    pub cos: Tensor<4>,
    pub sin: Tensor<4>,
}

impl RopeTables {
    /// The tables in the dtype the model computes in: the angles are computed in f32 and
    /// rounded once, as transformers casts its f32 `cos`/`sin` to a half-precision model's
    /// dtype (a no-op for f32).
    pub fn cast(self, dtype: DType) -> Self {
        Self {
            cos: self.cos.cast(dtype),
            sin: self.sin.cast(dtype),
        }
    }
}

/// Appends the angles `p · inv_freq`, laid out twice (`cat(freqs, freqs)`), to the tables.
fn push_angles(p: usize, inv_freq: &[f32], cos: &mut Vec<f32>, sin: &mut Vec<f32>) {
    for _ in 0..2 {
        for f in inv_freq {
            let angle = p as f32 * f;
            cos.push(angle.cos());
            sin.push(angle.sin());
        }
    }
}

/// Tables for positions `start .. start + len`. The frequencies are those of a sequence
/// of `start + len` positions: with dynamic scaling that is what transformers uses when a
/// cached generation has reached that length (earlier keys keep the angles they were
/// cached with, in both implementations).
pub fn rope_tables(
    theta: f64,
    rotary_dim: usize,
    scaling: RopeScaling,
    start: usize,
    len: usize,
    device: &Device,
) -> RopeTables {
    let inv_freq = inv_freq(theta, rotary_dim, scaling, start + len);
    let mut cos = Vec::with_capacity(len * rotary_dim);
    let mut sin = Vec::with_capacity(len * rotary_dim);
    for p in start..start + len {
        push_angles(p, &inv_freq, &mut cos, &mut sin);
    }
    RopeTables {
        cos: upload(cos, [1, 1, len, rotary_dim], device),
        sin: upload(sin, [1, 1, len, rotary_dim], device),
    }
}

/// Tables for one new token per row at `positions[row]`, each with the frequencies of its
/// own sequence (`position + 1` positions), as if each row were decoded alone.
pub fn rope_tables_per_row(
    theta: f64,
    rotary_dim: usize,
    scaling: RopeScaling,
    positions: &[usize],
    device: &Device,
) -> RopeTables {
    let rows = positions.len();
    let mut cos = Vec::with_capacity(rows * rotary_dim);
    let mut sin = Vec::with_capacity(rows * rotary_dim);
    for &p in positions {
        push_angles(
            p,
            &inv_freq(theta, rotary_dim, scaling, p + 1),
            &mut cos,
            &mut sin,
        );
    }
    RopeTables {
        cos: upload(cos, [rows, 1, 1, rotary_dim], device),
        sin: upload(sin, [rows, 1, 1, rotary_dim], device),
    }
}

/// Applies the rotation to `x: [batch, heads, len, head_dim]`: in one pass on the CPU
/// backend ([`super::cpu::rope`]), by burn's ops elsewhere.
pub fn apply_rope(x: Tensor<4>, tables: &RopeTables, rotary_dim: usize) -> Tensor<4> {
    super::cpu::rope::apply(&x, &tables.cos, &tables.sin, rotary_dim)
        .unwrap_or_else(|| apply_rope_generic(x, tables, rotary_dim))
}

/// [`apply_rope`] by burn's ops (a GPU, an autodiff graph).
pub(crate) fn apply_rope_generic(
    x: Tensor<4>,
    tables: &RopeTables,
    rotary_dim: usize,
) -> Tensor<4> {
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

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Distribution;

    /// The CPU backend's one-pass rotation is bit-identical to burn's ops, for prefill tables
    /// (`[1, 1, s, r]`), per-row decode tables (`[b, 1, 1, r]`), a strided input (the
    /// prefill's swapped axes) and a partial rotation.
    #[test]
    fn one_pass_rotation_matches_the_generic_path_bit_for_bit() {
        let dev = Device::flex();
        for (b, h, s, d, r) in [(1, 4, 7, 32, 32), (3, 2, 1, 16, 16), (2, 3, 5, 24, 16)] {
            let x = Tensor::<4>::random([b, s, h, d], Distribution::Normal(0.0, 1.0), &dev)
                .swap_dims(1, 2);
            let tables = if s == 1 {
                rope_tables_per_row(10000.0, r, RopeScaling::Default, &[3, 9, 40][..b], &dev)
            } else {
                rope_tables(10000.0, r, RopeScaling::Default, 2, s, &dev)
            };
            let fast =
                crate::model::cpu::rope::apply(&x, &tables.cos, &tables.sin, r).expect("flex f32");
            let want = apply_rope_generic(x, &tables, r);
            assert_eq!(
                fast.into_data().try_to_vec::<f32>().unwrap(),
                want.into_data().try_to_vec::<f32>().unwrap(),
                "{b}×{h}×{s}×{d}, rotary {r}"
            );
        }
    }

    #[test]
    fn llama3_keeps_short_and_divides_long_wavelengths() {
        let s = RopeScaling::Llama3 {
            factor: 8.0,
            low_freq_factor: 1.0,
            high_freq_factor: 4.0,
            original_max_position_embeddings: 64,
        };
        let plain = inv_freq(10000.0, 16, RopeScaling::Default, 1);
        let scaled = inv_freq(10000.0, 16, s, 1);
        for (p, q) in plain.iter().zip(&scaled) {
            let wavelen = 2.0 * std::f32::consts::PI / p;
            if wavelen < 16.0 {
                assert_eq!(p, q);
            } else if wavelen > 64.0 {
                assert_eq!(p / 8.0, *q);
            } else {
                assert!(*q < *p && *q > p / 8.0, "blend lies between: {p} {q}");
            }
        }
    }

    #[test]
    fn dynamic_changes_nothing_within_the_pretraining_length() {
        let s = RopeScaling::Dynamic {
            factor: 2.0,
            max_position_embeddings: 8,
        };
        let plain = inv_freq(10000.0, 16, RopeScaling::Default, 8);
        assert_eq!(inv_freq(10000.0, 16, s, 8), plain);
        let long = inv_freq(10000.0, 16, s, 20);
        assert_eq!(long[0], 1.0);
        assert!(long[1..].iter().zip(&plain[1..]).all(|(l, p)| l < p));
    }
}

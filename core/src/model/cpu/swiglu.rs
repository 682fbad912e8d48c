//! SwiGLU's elementwise part, `silu(gate) · up`, in one pass over the rows in parallel.
//! As burn ops it is a sigmoid (several elementwise kernels, each allocating a
//! `[rows, intermediate]` tensor), a multiply by the gate and a multiply by `up`, all on
//! the calling thread while the other core waits: a third of that thread's work in a
//! decode step of the stories15M shape.

use std::mem::MaybeUninit;

use burn::tensor::Tensor;
use multiversion::multiversion;
use rayon::prelude::*;

use crate::tensor::exp::exp_nonpositive;
use crate::tensor::flex::{contiguous, flex_f32, from_flex, written};

/// Elements per parallel task.
const CHUNK: usize = 4096;

/// `silu(gate) · up` for same-shaped `gate, up: [batch, len, intermediate]` on the CPU
/// backend; `None` elsewhere.
pub(crate) fn silu_mul(gate: &Tensor<3>, up: &Tensor<3>) -> Option<Tensor<3>> {
    let dims = gate.dims();
    if up.dims() != dims {
        return None;
    }
    let (g, u) = (contiguous(flex_f32(gate)?), contiguous(flex_f32(up)?));
    let len = dims.iter().product();
    let g = &g.storage::<f32>()[g.layout().start_offset()..][..len];
    let u = &u.storage::<f32>()[u.layout().start_offset()..][..len];
    // SAFETY: the chunks of `out` cover it, and each chunk is written in full.
    let out = unsafe {
        written(dims, |out| {
            out.par_chunks_mut(CHUNK)
                .zip(g.par_chunks(CHUNK).zip(u.par_chunks(CHUNK)))
                .for_each(|(out, (g, u))| fill(out, g, u))
        })
    };
    Some(from_flex(out))
}

/// One task's elements.
#[multiversion(targets("x86_64+avx512f+avx512vl+avx2+fma", "x86_64+avx2+fma"))]
fn fill(out: &mut [MaybeUninit<f32>], g: &[f32], u: &[f32]) {
    for ((o, &g), &u) in out.iter_mut().zip(g).zip(u) {
        o.write(silu(g) * u);
    }
}

/// `x · sigmoid(x)`, with the exponential of `−|x|` only (never overflows): sigmoid(x) is
/// `1 / (1 + e)` for x ≥ 0 and `e / (1 + e)` below, e = exp(−|x|).
#[inline(always)]
fn silu(x: f32) -> f32 {
    let e = exp_nonpositive(-x.abs());
    let sigmoid = if x >= 0.0 { 1.0 } else { e } / (1.0 + e);
    x * sigmoid
}

#[cfg(test)]
mod tests {
    use burn::tensor::activation::silu as burn_silu;
    use burn::tensor::{Device, Distribution, Tensor};

    use super::silu_mul;

    #[test]
    fn silu_mul_matches_burn_including_large_inputs() {
        let device = Device::flex();
        for dims in [[1, 1, 5], [3, 2, 4100], [64, 1, 768]] {
            let gate = Tensor::<3>::random(dims, Distribution::Normal(0.0, 8.0), &device);
            let up = Tensor::<3>::random(dims, Distribution::Normal(0.0, 1.0), &device);
            let fast = silu_mul(&gate, &up).expect("flex tensors take the kernel");
            let want = burn_silu(gate) * up;
            let (fast, want) = (
                fast.into_data().try_to_vec::<f32>().unwrap(),
                want.into_data().try_to_vec::<f32>().unwrap(),
            );
            for (a, b) in fast.iter().zip(&want) {
                assert!((a - b).abs() <= 1e-5 * (1.0 + b.abs()), "{a} vs {b}");
            }
        }
        // Far into both tails: no overflow to NaN.
        let gate = Tensor::<1>::from_floats([-200.0, -90.0, 0.0, 90.0, 200.0], &device);
        let got = silu_mul(
            &gate.clone().reshape([1, 1, 5]),
            &gate.ones_like().reshape([1, 1, 5]),
        )
        .unwrap()
        .into_data()
        .try_to_vec::<f32>()
        .unwrap();
        assert_eq!(got, vec![-0.0, -0.0, 0.0, 90.0, 200.0]);
    }
}

//! RMSNorm on the CPU backend, one pass per row: `y = x / sqrt(mean(x²) + ε) · γ`.
//!
//! As burn ops it is a square, a mean (a sum and a division), an add, a square root, a
//! broadcast division and a broadcast product — six passes and six allocations, at every
//! norm of every layer at every step — and, in the browser, burn-flex's generic reduction
//! (16 KB of wasm) among the functions the engine compiles with its optimising tier during a
//! page's first run. Every output is the same f32 operations as burn's in the same order,
//! except the sum of squares, which runs here in index order (burn-flex sums in SIMD lanes,
//! whose width differs between machines and the browser): results agree to a few units in
//! the last place (tested), and are the same on every CPU.

use std::mem::MaybeUninit;

use burn::tensor::Tensor;

use crate::tensor::flex::{contiguous, flex_f32, from_flex, written};

/// RMSNorm of `x: [b, s, d]` with the weight `gamma: [d]` on the CPU backend; `None` elsewhere
/// (another backend, autodiff, another dtype).
pub(crate) fn rms(x: &Tensor<3>, gamma: &Tensor<1>, epsilon: f64) -> Option<Tensor<3>> {
    let [b, s, d] = x.dims();
    if gamma.dims() != [d] || d == 0 {
        return None;
    }
    let (xf, gf) = (contiguous(flex_f32(x)?), contiguous(flex_f32(gamma)?));
    let (xs, g) = (xf.as_slice::<f32>()?, gf.as_slice::<f32>()?);
    let eps = epsilon as f32;
    // SAFETY: each of the b·s rows of d outputs is written once.
    let out = unsafe {
        written([b, s, d], |out| {
            for (o, x) in out.chunks_exact_mut(d).zip(xs.chunks_exact(d)) {
                let squares: f32 = x.iter().map(|v| v * v).sum();
                let rms = (squares / d as f32 + eps).sqrt();
                for ((o, &v), &g) in o.iter_mut().zip(x).zip(g) {
                    *o = MaybeUninit::new(v / rms * g);
                }
            }
        })
    };
    Some(from_flex(out))
}

#[cfg(test)]
mod tests {
    use burn::nn::RmsNormConfig;
    use burn::tensor::{Device, Distribution, Tensor};

    use crate::tensor::testing::normal;

    #[test]
    fn rms_matches_burns_rms_norm() {
        let device = Device::flex();
        for d in [8, 64, 200] {
            let mut norm = RmsNormConfig::new(d).with_epsilon(1e-5).init(&device);
            norm.gamma = norm
                .gamma
                .map(|_| Tensor::random([d], Distribution::Uniform(0.5, 1.5), &device));
            let x = normal([3, 5, d], &device) * 3.0;
            let got =
                super::rms(&x, &norm.gamma.val(), norm.epsilon).expect("an f32 tensor on the CPU");
            let want = norm.forward(x);
            let (got, want) = (
                got.into_data().try_into_vec::<f32>().unwrap(),
                want.into_data().try_into_vec::<f32>().unwrap(),
            );
            for (i, (a, b)) in got.iter().zip(&want).enumerate() {
                assert!(
                    (a - b).abs() <= 4.0 * f32::EPSILON * b.abs().max(1e-3),
                    "d {d}, element {i}: {a} vs {b}"
                );
            }
        }
    }
}

//! Decode-step kernels for tensors on the CPU backend (burn-flex).
//!
//! A decode step multiplies a few dozen rows by each weight. burn-flex runs every product
//! under 192³ multiply-adds on one thread and every batched product as one `gemm` call per
//! matrix, so at decode shapes one of two cores idles through the projections and the
//! attention over a row's own tokens costs thousands of tiny calls per step. The kernels
//! here take the flex tensors out of burn ([`flex_f32`]), do that work with `gemm`'s own
//! threading or in one pass, and hand the result back. Tensors elsewhere (a GPU, an
//! autodiff graph, another dtype) take burn's generic path, so training and the GPU are
//! unchanged; the tests compare both paths.

pub(crate) mod linear;
pub(crate) mod own_attention;

use burn::tensor::{DType, Tensor};
use burn_flex::{Flex, FlexTensor};

/// The f32 flex tensor behind `t` (a shared handle, not a copy), or `None` when `t` lives on
/// another backend, is tracked by autodiff, or holds another dtype.
pub(crate) fn flex_f32<const D: usize>(t: &Tensor<D>) -> Option<FlexTensor> {
    let p = t.clone().try_into_primitive::<Flex>().ok()?;
    (p.dtype() == DType::F32).then_some(p)
}

/// Wraps a flex tensor back into burn's `Tensor`.
pub(crate) fn from_flex<const D: usize>(t: FlexTensor) -> Tensor<D> {
    Tensor::from_primitive::<Flex>(t)
}

/// Lets `gemm` split a product over both cores whenever it judges the product big enough
/// (48·48·256 multiply-adds), instead of burn-flex's 192³. wasm32 has no threads.
pub(crate) fn parallelism() -> gemm::Parallelism {
    #[cfg(not(target_arch = "wasm32"))]
    {
        gemm::Parallelism::Rayon(0)
    }
    #[cfg(target_arch = "wasm32")]
    {
        gemm::Parallelism::None
    }
}

#[cfg(test)]
mod tests {
    //! Each kernel against burn's own ops on the same flex tensors, on the strided views
    //! the decode step hands them (a KV buffer's filled prefix, a slice of probabilities).

    use burn::nn::LinearConfig;
    use burn::tensor::{Device, Distribution, Tensor};

    use super::{linear, own_attention};

    fn normal<const D: usize>(dims: [usize; D], device: &Device) -> Tensor<D> {
        Tensor::random(dims, Distribution::Normal(0.0, 1.0), device)
    }

    fn assert_close<const D: usize>(a: Tensor<D>, b: Tensor<D>) {
        assert_eq!(a.dims(), b.dims());
        let (a, b) = (
            a.into_data().try_to_vec::<f32>().unwrap(),
            b.into_data().try_to_vec::<f32>().unwrap(),
        );
        for (i, (x, y)) in a.iter().zip(&b).enumerate() {
            assert!(
                (x - y).abs() <= 1e-4 * (1.0 + y.abs()),
                "element {i}: {x} vs {y}"
            );
        }
    }

    #[test]
    fn linear_matches_burn_at_decode_and_prefill_shapes() {
        let device = Device::flex();
        for (rows, len, d_in, d_out, bias) in [
            (1, 1, 8, 5, false),
            (16, 1, 288, 288, true),
            (64, 1, 288, 768, false),
            (3, 7, 33, 17, true),
        ] {
            let mut lin = LinearConfig::new(d_in, d_out).with_bias(bias).init(&device);
            lin.weight = lin.weight.map(|_| normal([d_in, d_out], &device));
            let x = normal([rows, len, d_in], &device);
            let fast = linear::forward(&lin, &x).expect("flex tensors take the kernel");
            assert_close(fast, lin.forward(x));
        }
    }

    #[test]
    fn a_transposed_input_is_copied_not_misread() {
        let device = Device::flex();
        let lin = LinearConfig::new(6, 4).init(&device);
        let x = normal([5, 6, 1], &device).swap_dims(1, 2).swap_dims(0, 1);
        let fast = linear::forward(&lin, &x).expect("flex tensors take the kernel");
        assert_close(fast, lin.forward(x));
    }

    #[test]
    fn tied_logits_match_h_times_e_transposed() {
        let device = Device::flex();
        for (rows, vocab, d) in [(1, 50, 8), (64, 1000, 64), (5, 333, 17)] {
            let e = normal([vocab, d], &device);
            let h = normal([rows, d], &device);
            let fast = linear::tied_logits(&e, &h).expect("flex tensors take the kernel");
            assert_close(fast, h.matmul(e.transpose()));
        }
    }

    #[test]
    fn own_attention_matches_batched_matmuls_on_cache_views() {
        let device = Device::flex();
        for (rows, kvh, group, t, cap, hd) in [
            (1, 1, 1, 1, 1, 4),
            (7, 2, 4, 5, 9, 64),
            (4, 6, 1, 12, 12, 13),
        ] {
            let q = normal([rows, kvh, group, hd], &device);
            // The filled prefix of a KV buffer with room for `cap` positions.
            let k = normal([rows, kvh, cap, hd], &device).slice([0..rows, 0..kvh, 0..t, 0..hd]);
            let v = normal([rows, kvh, cap, hd], &device).slice([0..rows, 0..kvh, 0..t, 0..hd]);
            let scale = (hd as f32).sqrt();
            let fast = own_attention::scores(&q, &k, scale).expect("flex tensors take the kernel");
            assert_close(
                fast,
                q.clone().matmul(k.clone().swap_dims(2, 3)) / scale as f64,
            );
            // Probabilities sliced out of a wider score row, as `attend_shared` does.
            let wide = normal([rows, kvh, group, t + 3], &device);
            let probs = wide.slice([0..rows, 0..kvh, 0..group, 3..t + 3]);
            let fast = own_attention::weighted(&probs, &v).expect("flex tensors take the kernel");
            assert_close(fast, probs.matmul(v));
        }
    }
}

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

pub(crate) mod exp;
pub(crate) mod linear;
pub(crate) mod row_dots;
pub(crate) mod shared_attention;
pub(crate) mod swiglu;

use std::mem::MaybeUninit;

use burn::tensor::{DType, Tensor, TensorData};
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

/// A new row-major f32 flex tensor of `shape` whose elements `write` sets. No zeroing and
/// no copy: `FlexTensor::empty` zero-fills its buffer and then copies it into a
/// 16-byte-aligned one, two passes over every output (a whole `[rows, vocab]` of logits
/// each step) before the kernel writes it.
///
/// # Safety
/// `write` must initialise every element of the slice it is given.
pub(crate) unsafe fn written<const D: usize>(
    shape: [usize; D],
    write: impl FnOnce(&mut [MaybeUninit<f32>]),
) -> FlexTensor {
    let len = shape.iter().product();
    let mut values = Vec::<f32>::with_capacity(len);
    write(&mut values.spare_capacity_mut()[..len]);
    // SAFETY: `write` initialised all `len` elements (the caller's obligation).
    unsafe { values.set_len(len) };
    FlexTensor::from_data(TensorData::new(values, shape))
}

/// A 2-d f32 operand of [`product`]: its elements from the first one on, with row and
/// column strides.
#[derive(Clone, Copy)]
pub(crate) struct Matrix<'a> {
    data: &'a [f32],
    row_stride: isize,
    col_stride: isize,
}

impl<'a> Matrix<'a> {
    /// The 2-d flex tensor `t` in its own layout.
    pub(crate) fn of(t: &'a FlexTensor) -> Self {
        let layout = t.layout();
        Self {
            data: &t.storage::<f32>()[layout.start_offset()..],
            row_stride: layout.strides()[0],
            col_stride: layout.strides()[1],
        }
    }
}

/// `out = lhs · rhs` for `lhs: m × k`, `rhs: k × n`, into the row-major `m × n` `out`, by one
/// `gemm` call with [`parallelism`]; every element of `out` is written.
pub(crate) fn product(
    (m, n, k): (usize, usize, usize),
    lhs: Matrix,
    rhs: Matrix,
    out: &mut [MaybeUninit<f32>],
) {
    assert_eq!(out.len(), m * n, "an output of m × n");
    // SAFETY: the callers pass operands of m × k and k × n elements under their strides
    // (taken from flex layouts of those shapes) and a row-major `out` of m · n elements (its
    // length asserted); gemm only writes `out` (`read_dst` false).
    unsafe {
        gemm::gemm(
            m,
            n,
            k,
            out.as_mut_ptr().cast::<f32>(),
            1,
            n as isize,
            false,
            lhs.data.as_ptr(),
            lhs.col_stride,
            lhs.row_stride,
            rhs.data.as_ptr(),
            rhs.col_stride,
            rhs.row_stride,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism(),
        );
    }
}

/// `t`, copied into row-major order only if it is not already.
pub(crate) fn contiguous(t: FlexTensor) -> FlexTensor {
    if t.is_contiguous() {
        t
    } else {
        t.to_contiguous()
    }
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

    use super::{linear, shared_attention};
    use crate::model::attention::attend_shared_ops;
    use crate::model::cache::SharedPrompts;

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

    /// The fused pass against the tensor ops, on the views decoding hands it (each
    /// prompt's keys and the rows' own keys are a KV buffer's filled prefix): two prompts
    /// of different lengths, GQA groups of 1 and 4, a window that hides part of a prompt,
    /// one that hides all of it, and one wider than everything; head sizes with their own
    /// 8-lane kernels (32, 64, 128) and others.
    #[test]
    fn shared_attention_matches_the_tensor_ops_on_cache_views() {
        let device = Device::flex();
        let prefix = |t: Tensor<4>, len: usize| {
            let [b, h, _, d] = t.dims();
            t.slice([0..b, 0..h, 0..len, 0..d])
        };
        for (kvh, group, hd, t, window) in [
            (2, 4, 64, 5, None),
            (6, 1, 13, 1, None),
            (2, 2, 16, 7, Some(9)),
            (1, 3, 8, 6, Some(4)),
            (3, 1, 24, 3, Some(100)),
            (2, 2, 32, 9, None),
            (1, 2, 128, 4, Some(10)),
        ] {
            let (lens, rows) = (vec![11, 4], vec![3, 2]);
            let n: usize = rows.iter().sum();
            let q = normal([n, kvh * group, 1, hd], &device);
            let k = prefix(normal([n, kvh, t + 4, hd], &device), t);
            let v = prefix(normal([n, kvh, t + 4, hd], &device), t);
            let kv = |len: usize| {
                (
                    prefix(normal([1, kvh, len + 2, hd], &device), len),
                    prefix(normal([1, kvh, len + 2, hd], &device), len),
                )
            };
            let shared = SharedPrompts {
                layers: vec![lens.iter().map(|&l| kv(l)).collect()],
                lens,
                rows,
                windows: vec![window],
            };
            let fast = shared_attention::attend(&q, &k, &v, &shared, 0)
                .expect("flex tensors take the kernel");
            assert_close(fast, attend_shared_ops(q, k, v, &shared, 0, kvh));
        }
    }
}

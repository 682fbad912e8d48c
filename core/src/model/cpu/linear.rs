//! `x · W (+ b)` for decode and prefill rows on the CPU: an f32 weight (held `[in, out]`)
//! by one `gemm` call with its own threading (see [`super::gemm::parallelism`]); a bf16 or
//! f16 weight (held as the checkpoint stores it, `[out, in]`, behind a transposed view) by
//! dot products of stored rows ([`row_dots_each`]) that widen it tile by tile.

use burn::nn::Linear;
use burn::tensor::{DType, Tensor};
use burn_flex::FlexTensor;
use std::mem::MaybeUninit;

use half::{bf16, f16};

use super::gemm::{product, Matrix};
use super::row_dots::row_dots_each;
use crate::tensor::flex::{contiguous, flex_any, flex_f32, from_flex, written, written_each};

/// `linear.forward(x)` for `x: [batch, len, d_in]` on the CPU backend; `None` elsewhere.
pub(crate) fn forward(linear: &Linear, x: &Tensor<3>) -> Option<Tensor<3>> {
    let w = flex_any(&linear.weight.val())?;
    if w.dtype() != DType::F32 {
        return forward_each([linear], x).map(|[y]| y);
    }
    let [b, s, d_in] = x.dims();
    let xf = contiguous(flex_f32(x)?);
    let d_out = w.layout().shape()[1];
    Some(with_bias(
        linear,
        f32_product(&w, &xf, b * s, d_in, d_out),
        [b, s, d_out],
    ))
}

/// `[l.forward(x) for l in linears]` for layers that read the same `x` (q, k and v; gate
/// and up), as one kernel call ([`row_dots_each`]), when every weight is a half-precision
/// matrix held as the checkpoint stores it, all in one dtype. `None` otherwise (off the
/// CPU backend, f32 weights): the caller multiplies them one by one.
pub(crate) fn forward_each<const N: usize>(
    linears: [&Linear; N],
    x: &Tensor<3>,
) -> Option<[Tensor<3>; N]> {
    let [b, s, d_in] = x.dims();
    let ws = linears.map(|l| flex_any(&l.weight.val()));
    let ws: [FlexTensor; N] = ws
        .into_iter()
        .collect::<Option<Vec<_>>>()?
        .try_into()
        .ok()?;
    let dtype = ws.first()?.dtype();
    let stored = |w: &FlexTensor| w.dtype() == dtype && w.layout().strides() == [1, d_in as isize];
    if !matches!(dtype, DType::BF16 | DType::F16) || !ws.iter().all(stored) {
        return None;
    }
    let xf = contiguous(flex_f32(x)?);
    let rows = b * s;
    let x = &xf.storage::<f32>()[xf.layout().start_offset()..][..rows * d_in];
    let d_out = ws.each_ref().map(|w| w.layout().shape()[1]);
    // SAFETY: `row_dots_each` writes every element of every output.
    let ys = unsafe {
        written_each(d_out.map(|d| [rows, d]), |ys| {
            stored_row_dots(x, ws.each_ref(), d_in, ys)
        })
    };
    let mut ys = ys.into_iter().zip(d_out).zip(linears);
    Some(std::array::from_fn(|_| {
        let ((y, d), linear) = ys.next().expect("one per layer");
        with_bias(linear, y, [b, s, d])
    }))
}

/// Where in its storage a matrix's stored rows lie (a weight's `[d_in, d_out]` is the
/// transposed view of `[d_out, d_in]`).
fn held(w: &FlexTensor) -> std::ops::Range<usize> {
    let at = w.layout().start_offset();
    at..at + w.layout().num_elements()
}

/// Each matrix's rows with the output it fills.
fn paired<'a, W, const N: usize>(
    es: [&'a [W]; N],
    ys: [&'a mut [MaybeUninit<f32>]; N],
) -> [(&'a [W], &'a mut [MaybeUninit<f32>]); N] {
    let mut ys = ys.into_iter();
    es.map(|e| (e, ys.next().expect("one per matrix")))
}

/// `y: [rows, d_out]` plus the layer's bias, as `[b, s, d_out]`.
fn with_bias(linear: &Linear, y: FlexTensor, shape: [usize; 3]) -> Tensor<3> {
    let y: Tensor<2> = from_flex(y);
    let y = match &linear.bias {
        Some(bias) => y + bias.val().unsqueeze(),
        None => y,
    };
    y.reshape(shape)
}

/// `x · w` for an f32 `w: [d_in, d_out]` in any layout.
fn f32_product(
    w: &FlexTensor,
    xf: &FlexTensor,
    rows: usize,
    d_in: usize,
    d_out: usize,
) -> FlexTensor {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if w.is_contiguous() && super::wasm_product::takes(d_out) {
        let x = &xf.storage::<f32>()[xf.layout().start_offset()..][..rows * d_in];
        let w = &w.storage::<f32>()[w.layout().start_offset()..][..d_in * d_out];
        // SAFETY: `product` writes every element.
        return unsafe {
            written([rows, d_out], |out| {
                super::wasm_product::product(rows, d_out, d_in, x, w, out)
            })
        };
    }
    let x_rows = Matrix {
        data: &xf.storage::<f32>()[xf.layout().start_offset()..],
        row_stride: d_in as isize,
        col_stride: 1,
    };
    // SAFETY: `product` writes every element.
    unsafe {
        written([rows, d_out], |out| {
            product((rows, d_out, d_in), x_rows, Matrix::of(w), out)
        })
    }
}

/// [`row_dots_each`] over the stored rows of length `k` of one or more flex tensors, all
/// bf16, all f16 or all f32 (the first one's dtype decides), each into its output.
fn stored_row_dots<const N: usize>(
    x: &[f32],
    es: [&FlexTensor; N],
    k: usize,
    ys: [&mut [MaybeUninit<f32>]; N],
) {
    match es[0].dtype() {
        DType::BF16 => row_dots_each(x, k, paired(es.map(|e| &e.storage::<bf16>()[held(e)]), ys)),
        DType::F16 => row_dots_each(x, k, paired(es.map(|e| &e.storage::<f16>()[held(e)]), ys)),
        _ => row_dots_each(x, k, paired(es.map(|e| &e.storage::<f32>()[held(e)]), ys)),
    }
}

/// Logits of a head tied to the embedding `e: [vocab, d]`: `h · eᵀ` for `h: [rows, d]`,
/// written straight into a `[rows, vocab]` tensor as dot products of stored rows
/// ([`row_dots_each`]): the embedding is read once, in its stored layout, and not copied.
/// On wasm32 an f32 embedding held transposed (`[d, vocab]` in memory, see
/// `CausalLm::load`) is `x · W` for the projection kernel instead.
pub(crate) fn tied_logits(e: &Tensor<2>, h: &Tensor<2>) -> Option<Tensor<2>> {
    let [vocab, d] = e.dims();
    let rows = h.dims()[0];
    let ef = flex_any(e)?;
    let hf = contiguous(flex_f32(h)?);
    let h_rows = &hf.storage::<f32>()[hf.layout().start_offset()..][..rows * d];
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    if ef.dtype() == DType::F32
        && ef.layout().strides() == [1, vocab as isize]
        && super::wasm_product::takes(vocab)
    {
        let w = &ef.storage::<f32>()[ef.layout().start_offset()..][..d * vocab];
        // SAFETY: `product` writes every element.
        let out = unsafe {
            written([rows, vocab], |out| {
                super::wasm_product::product(rows, vocab, d, h_rows, w, out)
            })
        };
        return Some(from_flex(out));
    }
    if !ef.is_contiguous() {
        return None;
    }
    // SAFETY: `row_dots` writes every element.
    let out = unsafe {
        written([rows, vocab], |out| {
            stored_row_dots(h_rows, [&ef], d, [out])
        })
    };
    Some(from_flex(out))
}

#[cfg(test)]
mod tests {
    //! The kernels against burn's own ops on the same flex tensors, on the strided views
    //! the decode step hands them.

    use burn::nn::LinearConfig;
    use burn::tensor::Device;

    use crate::tensor::testing::{assert_close, normal};

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
            let fast = super::forward(&lin, &x).expect("flex tensors take the kernel");
            assert_close(fast, lin.forward(x));
        }
    }

    /// A bf16 or f16 weight held as stored (`[out, in]` behind a transposed view) takes the
    /// widening kernel, and gives what burn gives on the same values widened to f32.
    #[test]
    fn half_weights_kept_as_stored_match_burn_on_widened_values() {
        use burn::tensor::DType;
        use half::{bf16, f16};

        use crate::model::weights::HostValues;

        let device = Device::flex();
        for (rows, d_in, d_out) in [(1, 8, 5), (16, 64, 33), (64, 96, 40), (3, 17, 9)] {
            let w = normal::<2>([d_out, d_in], &device);
            let values = crate::tensor::host::download(w);
            let x = normal([rows, 1, d_in], &device);
            for dtype in [DType::BF16, DType::F16] {
                let held = match dtype {
                    DType::BF16 => {
                        HostValues::Bf16(values.iter().map(|&v| bf16::from_f32(v)).collect())
                    }
                    _ => HostValues::F16(values.iter().map(|&v| f16::from_f32(v)).collect()),
                };
                let stored = held.upload([d_out, d_in], &device);
                let mut lin = LinearConfig::new(d_in, d_out)
                    .with_bias(false)
                    .init(&device);
                lin.weight = lin.weight.map(|_| stored.clone().transpose());
                let fast = super::forward(&lin, &x).expect("a stored half weight takes the kernel");
                let mut reference = LinearConfig::new(d_in, d_out)
                    .with_bias(false)
                    .init(&device);
                let wide = stored.clone().cast(DType::F32);
                reference.weight = reference.weight.map(|_| wide.clone().transpose());
                assert_close(fast, reference.forward(x.clone()));
            }
        }
    }

    /// q, k and v (or gate and up) in one kernel call give what each layer gives alone, bit
    /// for bit, biases included; f32 weights are left to the caller (`None`).
    #[test]
    fn layers_over_one_input_in_one_call_match_each_alone() {
        use burn::tensor::DType;

        let device = Device::flex();
        let layer = |d_out: usize, bias: bool, dtype: DType| {
            let mut lin = LinearConfig::new(64, d_out).with_bias(bias).init(&device);
            let w = normal::<2>([d_out, 64], &device).cast(dtype);
            lin.weight = lin.weight.map(|_| w.clone().transpose());
            lin
        };
        let x = normal([3, 1, 64], &device);
        for dtype in [DType::BF16, DType::F16] {
            let (q, k, v) = (
                layer(64, true, dtype),
                layer(16, true, dtype),
                layer(16, false, dtype),
            );
            let fused = super::forward_each([&q, &k, &v], &x).expect("stored half weights");
            for (y, lin) in fused.into_iter().zip([&q, &k, &v]) {
                let alone = super::forward(lin, &x).expect("a stored half weight");
                assert_eq!(y.into_data(), alone.into_data());
            }
        }
        let f32_layers = [layer(8, false, DType::F32), layer(8, false, DType::F32)];
        assert!(super::forward_each([&f32_layers[0], &f32_layers[1]], &x).is_none());
    }

    #[test]
    fn a_transposed_input_is_copied_not_misread() {
        let device = Device::flex();
        let lin = LinearConfig::new(6, 4).init(&device);
        let x = normal([5, 6, 1], &device).swap_dims(1, 2).swap_dims(0, 1);
        let fast = super::forward(&lin, &x).expect("flex tensors take the kernel");
        assert_close(fast, lin.forward(x));
    }

    #[test]
    fn tied_logits_match_h_times_e_transposed() {
        let device = Device::flex();
        for (rows, vocab, d) in [(1, 50, 8), (64, 1000, 64), (5, 333, 17)] {
            let e = normal([vocab, d], &device);
            let h = normal([rows, d], &device);
            let fast = super::tied_logits(&e, &h).expect("flex tensors take the kernel");
            assert_close(fast, h.matmul(e.transpose()));
        }
    }
}

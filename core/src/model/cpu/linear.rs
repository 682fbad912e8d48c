//! `x · W (+ b)` for decode and prefill rows on the CPU: an f32 weight (held `[in, out]`)
//! by one `gemm` call with its own threading (see [`super::gemm::parallelism`]); a bf16 or
//! f16 weight (held as the checkpoint stores it, `[out, in]`, behind a transposed view) by
//! dot products of stored rows ([`row_dots`]) that widen it tile by tile.

use burn::nn::Linear;
use burn::tensor::{DType, Tensor};
use burn_flex::FlexTensor;
use half::{bf16, f16};

use super::gemm::{product, Matrix};
use super::row_dots::row_dots;
use crate::tensor::flex::{contiguous, flex_any, flex_f32, from_flex, written};

/// `linear.forward(x)` for `x: [batch, len, d_in]` on the CPU backend; `None` elsewhere.
pub(crate) fn forward(linear: &Linear, x: &Tensor<3>) -> Option<Tensor<3>> {
    let [b, s, d_in] = x.dims();
    let w = flex_any(&linear.weight.val())?;
    let xf = contiguous(flex_f32(x)?);
    let rows = b * s;
    let d_out = w.layout().shape()[1];
    let out = if w.dtype() == DType::F32 {
        f32_product(&w, &xf, rows, d_in, d_out)
    } else {
        stored_rows_product(&w, &xf, rows, d_in, d_out)?
    };
    let y: Tensor<2> = from_flex(out);
    let y = match &linear.bias {
        Some(bias) => y + bias.val().unsqueeze(),
        None => y,
    };
    Some(y.reshape([b, s, d_out]))
}

/// `x · w` for an f32 `w: [d_in, d_out]` in any layout.
fn f32_product(
    w: &FlexTensor,
    xf: &FlexTensor,
    rows: usize,
    d_in: usize,
    d_out: usize,
) -> FlexTensor {
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

/// `x · w` for a half-precision `w: [d_in, d_out]` that is the transposed view of a
/// row-major `[d_out, d_in]` (the checkpoint's layout); `None` for any other layout.
fn stored_rows_product(
    w: &FlexTensor,
    xf: &FlexTensor,
    rows: usize,
    d_in: usize,
    d_out: usize,
) -> Option<FlexTensor> {
    if w.layout().strides() != [1, d_in as isize] {
        return None;
    }
    let x = &xf.storage::<f32>()[xf.layout().start_offset()..][..rows * d_in];
    // SAFETY: `row_dots` writes every element.
    Some(unsafe { written([rows, d_out], |out| stored_row_dots(x, w, d_in, d_out, out)) })
}

/// [`row_dots`] over the `n` stored rows of length `k` of a bf16, f16 or f32 flex tensor.
fn stored_row_dots(
    x: &[f32],
    e: &FlexTensor,
    k: usize,
    n: usize,
    out: &mut [std::mem::MaybeUninit<f32>],
) {
    let at = e.layout().start_offset()..e.layout().start_offset() + n * k;
    match e.dtype() {
        DType::BF16 => row_dots(x, &e.storage::<bf16>()[at], k, out),
        DType::F16 => row_dots(x, &e.storage::<f16>()[at], k, out),
        _ => row_dots(x, &e.storage::<f32>()[at], k, out),
    }
}

/// Logits of a head tied to the embedding `e: [vocab, d]`: `h · eᵀ` for `h: [rows, d]`,
/// written straight into a `[rows, vocab]` tensor as dot products of stored rows
/// ([`row_dots`]): the embedding is read once, in its stored layout, and not copied.
pub(crate) fn tied_logits(e: &Tensor<2>, h: &Tensor<2>) -> Option<Tensor<2>> {
    let ef = flex_any(e).filter(|e| e.is_contiguous())?;
    let hf = contiguous(flex_f32(h)?);
    let [vocab, d] = e.dims();
    let rows = h.dims()[0];
    let h_rows = &hf.storage::<f32>()[hf.layout().start_offset()..][..rows * d];
    // SAFETY: `row_dots` writes every element.
    let out = unsafe {
        written([rows, vocab], |out| {
            stored_row_dots(h_rows, &ef, d, vocab, out)
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

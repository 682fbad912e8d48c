//! `x · W (+ b)` for decode and prefill rows on the CPU, one `gemm` call with its own
//! threading (see [`super::parallelism`]).

use burn::nn::Linear;
use burn::tensor::{DType, Tensor};
use burn_flex::FlexTensor;

use super::{flex_f32, from_flex, parallelism};

/// `linear.forward(x)` for `x: [batch, len, d_in]` on the CPU backend; `None` elsewhere.
pub(crate) fn forward(linear: &Linear, x: &Tensor<3>) -> Option<Tensor<3>> {
    let [b, s, d_in] = x.dims();
    let w = flex_f32(&linear.weight.val())?;
    let xf = flex_f32(x)?;
    let xf = if xf.is_contiguous() {
        xf
    } else {
        xf.to_contiguous()
    };
    let rows = b * s;
    let d_out = w.layout().shape()[1];
    let (w_rs, w_cs) = (w.layout().strides()[0], w.layout().strides()[1]);
    let mut out = FlexTensor::empty([rows, d_out].into(), DType::F32);
    let x_data = &xf.storage::<f32>()[xf.layout().start_offset()..];
    let w_data = &w.storage::<f32>()[w.layout().start_offset()..];
    // SAFETY: the pointers cover `rows × d_in`, `d_in × d_out` (with the weight's strides)
    // and `rows × d_out` elements; `out` is freshly allocated and not aliased.
    unsafe {
        gemm::gemm(
            rows,
            d_out,
            d_in,
            out.storage_mut::<f32>().as_mut_ptr(),
            1,
            d_out as isize,
            false,
            x_data.as_ptr(),
            1,
            d_in as isize,
            w_data.as_ptr(),
            w_cs,
            w_rs,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism(),
        );
    }
    let y: Tensor<2> = from_flex(out);
    let y = match &linear.bias {
        Some(bias) => y + bias.val().unsqueeze(),
        None => y,
    };
    Some(y.reshape([b, s, d_out]))
}

/// Logits of a head tied to the embedding `e: [vocab, d]`: `h · eᵀ` for `h: [rows, d]`,
/// written straight into a `[rows, vocab]` tensor. The product runs as `e · hᵀ` (the long
/// vocabulary side as gemm's rows, the embedding read in its stored layout) with the
/// output strides transposed, so neither operand nor the logits are copied.
pub(crate) fn tied_logits(e: &Tensor<2>, h: &Tensor<2>) -> Option<Tensor<2>> {
    let ef = flex_f32(e)?;
    let hf = flex_f32(h)?;
    let hf = if hf.is_contiguous() {
        hf
    } else {
        hf.to_contiguous()
    };
    let [vocab, d] = e.dims();
    let rows = h.dims()[0];
    let (e_rs, e_cs) = (ef.layout().strides()[0], ef.layout().strides()[1]);
    let mut out = FlexTensor::empty([rows, vocab].into(), DType::F32);
    let e_data = &ef.storage::<f32>()[ef.layout().start_offset()..];
    let h_data = &hf.storage::<f32>()[hf.layout().start_offset()..];
    // SAFETY: as in `forward`; dst element (v, r) is `out[r·vocab + v]`.
    unsafe {
        gemm::gemm(
            vocab,
            rows,
            d,
            out.storage_mut::<f32>().as_mut_ptr(),
            vocab as isize,
            1,
            false,
            e_data.as_ptr(),
            e_cs,
            e_rs,
            h_data.as_ptr(),
            d as isize,
            1,
            0.0,
            1.0,
            false,
            false,
            false,
            parallelism(),
        );
    }
    Some(from_flex(out))
}

//! `x · W (+ b)` for decode and prefill rows on the CPU, one `gemm` call with its own
//! threading (see [`super::parallelism`]).

use burn::nn::Linear;
use burn::tensor::{DType, Tensor};
use burn_flex::FlexTensor;

use super::{contiguous, flex_f32, from_flex, product, Matrix};

/// `linear.forward(x)` for `x: [batch, len, d_in]` on the CPU backend; `None` elsewhere.
pub(crate) fn forward(linear: &Linear, x: &Tensor<3>) -> Option<Tensor<3>> {
    let [b, s, d_in] = x.dims();
    let w = flex_f32(&linear.weight.val())?;
    let xf = contiguous(flex_f32(x)?);
    let rows = b * s;
    let d_out = w.layout().shape()[1];
    let mut out = FlexTensor::empty([rows, d_out].into(), DType::F32);
    let x_rows = Matrix {
        data: &xf.storage::<f32>()[xf.layout().start_offset()..],
        row_stride: d_in as isize,
        col_stride: 1,
    };
    product(
        (rows, d_out, d_in),
        x_rows,
        Matrix::of(&w),
        &mut out,
        (d_out as isize, 1),
    );
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
    let hf = contiguous(flex_f32(h)?);
    let [vocab, d] = e.dims();
    let rows = h.dims()[0];
    let mut out = FlexTensor::empty([rows, vocab].into(), DType::F32);
    // Element (v, r) of the product is `out[r·vocab + v]`.
    product(
        (vocab, rows, d),
        Matrix::of(&ef),
        Matrix::of(&hf).transposed(),
        &mut out,
        (1, vocab as isize),
    );
    Some(from_flex(out))
}

//! `x · W (+ b)` for decode and prefill rows on the CPU, one `gemm` call with its own
//! threading (see [`super::parallelism`]).

use burn::nn::Linear;
use burn::tensor::Tensor;

use super::row_dots::row_dots;
use super::{contiguous, flex_f32, from_flex, product, written, Matrix};

/// `linear.forward(x)` for `x: [batch, len, d_in]` on the CPU backend; `None` elsewhere.
pub(crate) fn forward(linear: &Linear, x: &Tensor<3>) -> Option<Tensor<3>> {
    let [b, s, d_in] = x.dims();
    let w = flex_f32(&linear.weight.val())?;
    let xf = contiguous(flex_f32(x)?);
    let rows = b * s;
    let d_out = w.layout().shape()[1];
    let x_rows = Matrix {
        data: &xf.storage::<f32>()[xf.layout().start_offset()..],
        row_stride: d_in as isize,
        col_stride: 1,
    };
    // SAFETY: `product` writes every element.
    let out = unsafe {
        written([rows, d_out], |out| {
            product((rows, d_out, d_in), x_rows, Matrix::of(&w), out)
        })
    };
    let y: Tensor<2> = from_flex(out);
    let y = match &linear.bias {
        Some(bias) => y + bias.val().unsqueeze(),
        None => y,
    };
    Some(y.reshape([b, s, d_out]))
}

/// Logits of a head tied to the embedding `e: [vocab, d]`: `h · eᵀ` for `h: [rows, d]`,
/// written straight into a `[rows, vocab]` tensor as dot products of stored rows
/// ([`row_dots`]): the embedding is read once, in its stored layout, and not copied.
pub(crate) fn tied_logits(e: &Tensor<2>, h: &Tensor<2>) -> Option<Tensor<2>> {
    let ef = flex_f32(e).filter(|e| e.is_contiguous())?;
    let hf = contiguous(flex_f32(h)?);
    let [vocab, d] = e.dims();
    let rows = h.dims()[0];
    let e_rows = &ef.storage::<f32>()[ef.layout().start_offset()..][..vocab * d];
    let h_rows = &hf.storage::<f32>()[hf.layout().start_offset()..][..rows * d];
    // SAFETY: `row_dots` writes every element.
    let out = unsafe { written([rows, vocab], |out| row_dots(h_rows, e_rows, d, out)) };
    Some(from_flex(out))
}

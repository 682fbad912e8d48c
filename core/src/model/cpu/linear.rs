//! `x · W (+ b)` for decode and prefill rows on the CPU, one `gemm` call with its own
//! threading (see [`super::gemm::parallelism`]).

use burn::nn::Linear;
use burn::tensor::Tensor;

use super::gemm::{product, Matrix};
use super::row_dots::row_dots;
use crate::tensor::flex::{contiguous, flex_f32, from_flex, written};

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

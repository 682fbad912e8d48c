//! Products of flex-tensor views by one `gemm` call, threaded by `gemm` itself.

use std::mem::MaybeUninit;

use burn_flex::FlexTensor;

/// A 2-d f32 operand of [`product`]: its elements from the first one on, with row and
/// column strides.
#[derive(Clone, Copy)]
pub(crate) struct Matrix<'a> {
    pub(super) data: &'a [f32],
    pub(super) row_stride: isize,
    pub(super) col_stride: isize,
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

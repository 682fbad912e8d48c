//! burn-flex tensors taken out of burn and put back: the CPU kernels of the model and the
//! sampler read and write the flex storage directly instead of going through burn's ops.

use std::mem::MaybeUninit;

use burn::tensor::{DType, Tensor, TensorData};
use burn_flex::{Flex, FlexTensor};

/// The f32 flex tensor behind `t` (a shared handle, not a copy), or `None` when `t` lives on
/// another backend, is tracked by autodiff, or holds another dtype.
pub(crate) fn flex_f32<const D: usize>(t: &Tensor<D>) -> Option<FlexTensor> {
    flex_any(t).filter(|p| p.dtype() == DType::F32)
}

/// The flex tensor behind `t` whatever its float dtype (a weight kept in bf16 or f16), or
/// `None` when `t` lives on another backend or is tracked by autodiff.
pub(crate) fn flex_any<const D: usize>(t: &Tensor<D>) -> Option<FlexTensor> {
    t.clone().try_into_primitive::<Flex>().ok()
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
    // SAFETY: forwarded to the caller.
    let [t] = unsafe { written_each([shape], |[y]| write(y)) };
    t
}

/// [`written`] for several tensors that one call fills together.
///
/// # Safety
/// `write` must initialise every element of every slice it is given.
pub(crate) unsafe fn written_each<const D: usize, const N: usize>(
    shapes: [[usize; D]; N],
    write: impl FnOnce([&mut [MaybeUninit<f32>]; N]),
) -> [FlexTensor; N] {
    let lens = shapes.map(|shape| shape.iter().product::<usize>());
    let mut values = lens.map(Vec::<f32>::with_capacity);
    let mut outs = values
        .iter_mut()
        .zip(lens)
        .map(|(v, len)| &mut v.spare_capacity_mut()[..len]);
    write(std::array::from_fn(|_| outs.next().expect("one per shape")));
    let mut values = values
        .into_iter()
        .zip(lens)
        .zip(shapes)
        .map(|((mut v, len), shape)| {
            // SAFETY: `write` initialised all `len` elements (the caller's obligation).
            unsafe { v.set_len(len) };
            FlexTensor::from_data(TensorData::new(v, shape))
        });
    std::array::from_fn(|_| values.next().expect("one per shape"))
}

/// `t`, copied into row-major order only if it is not already.
pub(crate) fn contiguous(t: FlexTensor) -> FlexTensor {
    if t.is_contiguous() {
        t
    } else {
        t.to_contiguous()
    }
}

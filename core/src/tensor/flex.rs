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

/// Whether `t` is a row-major flex tensor that starts at its buffer's first element (a
/// prefix view of a larger buffer included), so its rows can be addressed in the buffer.
fn is_row_major_flex<const D: usize>(t: &Tensor<D>) -> bool {
    flex_any(t).is_some_and(|p| p.is_contiguous() && p.layout().start_offset() == 0)
}

/// The flex tensor behind `t`, taken out of burn (the handle itself, not a second one that
/// would make its buffer look shared), for a `t` that [`flex_any`] finds.
fn into_flex<const D: usize>(t: Tensor<D>) -> FlexTensor {
    let Ok(p) = t.try_into_primitive::<Flex>() else {
        unreachable!("called for a flex tensor")
    };
    p
}

/// `t` `[b, …]` with only the rows `rows` (ascending) of its first dimension, moved to the
/// front of its own buffer — when `t` is a row-major flex tensor that alone holds its
/// buffer; `otherwise(t)` else (a copy). The buffer keeps its size: the result is a prefix
/// view of it, which burn-flex's `slice_assign` still writes in place.
pub(crate) fn keep_rows_in_place<const D: usize>(
    t: Tensor<D>,
    rows: &[usize],
    otherwise: impl FnOnce(Tensor<D>) -> Tensor<D>,
) -> Tensor<D> {
    let b = t.dims()[0];
    let ascending = rows.windows(2).all(|w| w[0] < w[1]) && rows.last().is_none_or(|&r| r < b);
    if !ascending || !is_row_major_flex(&t) {
        return otherwise(t);
    }
    let mut p = into_flex(t);
    let row = p.layout().num_elements() / b.max(1);
    let moved = match p.dtype() {
        DType::F32 => p.try_storage_mut::<f32>().map(|s| move_rows(s, row, rows)),
        DType::F16 => p
            .try_storage_mut::<half::f16>()
            .map(|s| move_rows(s, row, rows)),
        DType::BF16 => p
            .try_storage_mut::<half::bf16>()
            .map(|s| move_rows(s, row, rows)),
        _ => None,
    };
    match moved {
        Some(()) => from_flex(p.narrow(0, 0, rows.len())),
        None => otherwise(from_flex(p)),
    }
}

/// Writes `value` `[b, h, s, d]` into positions `start..start + s` of `buffer`
/// `[b, h, capacity, d]` (a KV cache layer) in place — when both are row-major flex tensors
/// of one float dtype and `buffer` alone holds its buffer; `otherwise(buffer, value)` else
/// (burn's `slice_assign`). That one first passes `value` through flex's generic
/// copy-to-contiguous, a function of 27 KB of wasm that every step called and the browser
/// therefore compiled with its optimising tier during a page's first run (91 ms, measured).
pub(crate) fn write_positions_in_place(
    buffer: Tensor<4>,
    value: Tensor<4>,
    start: usize,
    otherwise: impl FnOnce(Tensor<4>, Tensor<4>) -> Tensor<4>,
) -> Tensor<4> {
    let [b, h, capacity, d] = buffer.dims();
    let [vb, vh, s, vd] = value.dims();
    let source = flex_any(&value).filter(|v| v.is_contiguous() && v.dtype() == buffer.dtype());
    let fits = (vb, vh, vd) == (b, h, d)
        && s * d > 0
        && start + s <= capacity
        && is_row_major_flex(&buffer);
    let Some(source) = source.filter(|_| fits) else {
        return otherwise(buffer, value);
    };
    let mut p = into_flex(buffer);
    let shape = (b * h, capacity, s, d, start);
    let copied = match p.dtype() {
        DType::F32 => copy_positions::<f32>(&mut p, &source, shape),
        DType::F16 => copy_positions::<half::f16>(&mut p, &source, shape),
        DType::BF16 => copy_positions::<half::bf16>(&mut p, &source, shape),
        _ => None,
    };
    match copied {
        Some(()) => from_flex(p),
        None => otherwise(from_flex(p), value),
    }
}

/// Copies `source`'s `heads` runs of `s · d` elements to position `start` of each run of
/// `capacity · d` in `buffer`; `None` when `buffer` is shared.
fn copy_positions<E: burn::tensor::Element + bytemuck::Pod>(
    buffer: &mut FlexTensor,
    source: &FlexTensor,
    (heads, capacity, s, d, start): (usize, usize, usize, usize, usize),
) -> Option<()> {
    let src = source.as_slice::<E>()?;
    let dst = buffer.try_storage_mut::<E>()?;
    for (i, from) in src.chunks_exact(s * d).take(heads).enumerate() {
        let at = (i * capacity + start) * d;
        dst[at..at + s * d].copy_from_slice(from);
    }
    Some(())
}

/// Moves row `rows[i]` (of `row` elements) to row `i`; `rows` ascends, so no row is
/// overwritten before it has moved.
fn move_rows<E: Copy>(data: &mut [E], row: usize, rows: &[usize]) {
    for (to, &from) in rows.iter().enumerate() {
        if to != from {
            data.copy_within(from * row..(from + 1) * row, to * row);
        }
    }
}

/// Zeros of `shape` in `like`'s dtype (f16 for a model computing in f16; burn's default would
/// be f32) on `like`'s device. For an f32 flex tensor one pass writes them: burn-flex's
/// `zeros` fills a byte buffer and copies it into an aligned one, and a continuation's KV
/// cache, allocated per batch, is the largest buffer of a decode (its zeroing and page faults
/// were 8 % of a 1-thread `probable eval`, measured with `perf`).
pub(crate) fn zeros_like<const D: usize>(shape: [usize; D], like: &Tensor<D>) -> Tensor<D> {
    if flex_f32(like).is_some() {
        // SAFETY: every element is written.
        return from_flex(unsafe { written(shape, |y| y.fill(MaybeUninit::new(0.0))) });
    }
    let options = burn::tensor::TensorCreationOptions::new(like.device()).with_dtype(like.dtype());
    Tensor::zeros(shape, options)
}

/// `t`, copied into row-major order only if it is not already.
pub(crate) fn contiguous(t: FlexTensor) -> FlexTensor {
    if t.is_contiguous() {
        t
    } else {
        t.to_contiguous()
    }
}

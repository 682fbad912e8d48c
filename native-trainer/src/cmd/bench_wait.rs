//! Timings that include the device's work: a device returns from a call before it has run
//! it, so a benchmark reads something back before it stops the clock.

use burn::tensor::Tensor;

/// Waits until `logits` are computed by reading one of them back: a device runs its queue
/// in order, so that is the whole step. (An argmax over `[rows, vocab]` would time a
/// reduction that is no part of the forward pass, and that llama.cpp's S_TG, say, does not
/// include.)
pub(crate) fn wait_for(logits: Tensor<2>) {
    read_back(logits.slice([0..1, 0..1]).into_data());
}

/// Reads the bytes of `data`, what `into_data` returned, so that a timing includes the
/// device's work: on cubecl devices `into_data` returns at once and the bytes are copied
/// back, after the queue has run, on their first access. (Unread, a 1024³ matmul on llvmpipe
/// "ran" at 33 TFLOP/s.)
pub(crate) fn read_back(data: burn::tensor::TensorData) {
    std::hint::black_box(data.as_bytes().first().copied());
}

//! Decode-step kernels for tensors on the CPU backend (burn-flex).
//!
//! A decode step multiplies a few dozen rows by each weight. burn-flex runs every product
//! under 192³ multiply-adds on one thread and every batched product as one `gemm` call per
//! matrix, so at decode shapes one of two cores idles through the projections and the
//! attention over a row's own tokens costs thousands of tiny calls per step. The kernels
//! here take the flex tensors out of burn ([`crate::tensor::flex::flex_f32`]), do that work with `gemm`'s own
//! threading or in one pass, and hand the result back. Tensors elsewhere (a GPU, an
//! autodiff graph, another dtype) take burn's generic path, so training and the GPU are
//! unchanged; the tests compare both paths.

#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) mod bf16_zmm;
pub(crate) mod gemm;
pub(crate) mod linear;
pub(crate) mod rope;
pub(crate) mod row_dots;
pub(crate) mod shared_attention;
pub(crate) mod swiglu;
pub(crate) mod tile;

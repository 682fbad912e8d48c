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

#[cfg(all(target_arch = "x86_64", target_os = "linux"))]
pub(crate) mod bf16_amx;
#[cfg_attr(not(target_arch = "x86_64"), allow(dead_code))]
pub(crate) mod bf16_zmm;
pub(crate) mod embedding;
pub(crate) mod gemm;
pub(crate) mod linear;
pub(crate) mod norm;
pub(crate) mod rope;
pub(crate) mod row_dots;
pub(crate) mod shared_attention;
pub(crate) mod swiglu;
pub(crate) mod tile;
#[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
pub(crate) mod wasm_product;

/// The tiles that multiply a bf16 weight held as stored on this machine's CPU (see
/// [`row_dots`]): what a bf16 model's logits are computed with here.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bf16Tiles {
    /// Intel's AMX units, the activations carried as two bf16 parts (16 significand bits;
    /// [`bf16_amx`]): within `2⁻¹⁶ · Σ|x·w|` of the f32 product on top of the f32 sum's own
    /// error. Used for every row length that is a multiple of 32.
    Amx,
    /// 512-bit f32 multiply-adds of the widened weight (Intel AVX-512 cores).
    Avx512,
    /// The portable f32 multiply-add tiles (AVX2, the baseline, wasm32 SIMD).
    Portable,
}

impl Bf16Tiles {
    /// The tiles this process uses (`PROBABLE_NO_AMX` set turns AMX off).
    pub fn here() -> Self {
        #[cfg(all(target_arch = "x86_64", target_os = "linux"))]
        if bf16_amx::available() {
            return Self::Amx;
        }
        if bf16_zmm::available() {
            Self::Avx512
        } else {
            Self::Portable
        }
    }
}

impl std::fmt::Display for Bf16Tiles {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Amx => "AMX tiles (activations as two bf16 parts, 16 bits)",
            Self::Avx512 => "AVX-512 f32 tiles",
            Self::Portable => "portable f32 tiles",
        })
    }
}

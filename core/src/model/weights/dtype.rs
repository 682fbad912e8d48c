//! The dtype a model's matrices are held in after loading, and their host values.
//!
//! A checkpoint in bf16 or f16 (most HF releases: Llama-3.2-1B is bf16) is kept as stored
//! on the CPU backend: the linear weights and the embedding are the bytes the file holds,
//! half the memory of f32, and the CPU kernels widen them tile by tile and accumulate in f32
//! (`model::cpu`). Norms and biases are small and always f32, and so are activations —
//! except with `--dtype f16` on a GPU, where the model computes in f16 with f32
//! accumulation ([`WeightDtype::activations`]).

use std::fmt;

use burn::tensor::{Bytes, DType, Device, Tensor, TensorCreationOptions, TensorData};
use half::{bf16, f16};

/// How the matrices of a checkpoint are held (`--dtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum WeightDtype {
    /// bf16 and f16 matrices as stored, on the CPU backend, for models at least
    /// [`STORED_MIN_WIDTH`] wide; f32 elsewhere (WGSL has no bf16) and for narrower models.
    #[default]
    Stored,
    /// Everything widened to f32: exact-parity runs, training, and any backend.
    F32,
    /// Matrices in f16 whatever the checkpoint holds (an f32 or bf16 value out of f16's
    /// range is an error naming the tensor); on a GPU the activations too
    /// ([`WeightDtype::activations`]).
    F16,
}

impl WeightDtype {
    /// What this choice means for a model `hidden_size` wide on `device`: `Stored` keeps half
    /// precision only on the CPU backend, whose kernels read it, and only for models at least
    /// [`STORED_MIN_WIDTH`] wide.
    pub fn on(self, device: &Device, hidden_size: usize) -> Self {
        match self {
            WeightDtype::Stored if !is_flex(device) || hidden_size < STORED_MIN_WIDTH => {
                WeightDtype::F32
            }
            other => other,
        }
    }

    /// The dtype a model held this way computes in on `device` (its activations, KV cache
    /// and matrix products): f16 for f16 matrices on a GPU — mixed precision, where the
    /// products accumulate in f32 (cubecl's matmul does for half-precision outputs) and
    /// norms and softmax run in f32 — and f32 everywhere else: the CPU kernels take f32
    /// activations and widen half-precision weights tile by tile themselves.
    pub fn activations(self, device: &Device) -> DType {
        if self == WeightDtype::F16 && !is_flex(device) {
            DType::F16
        } else {
            DType::F32
        }
    }
}

/// The narrowest model `--dtype stored` keeps in half precision. Below it the f32 copy costs
/// little memory (a 512-wide model of 80M parameters: 0.3 GB) and the f32 kernels are the
/// faster: a stored row's dot products are too short to amortise their lane sums and too few
/// to split over threads. Measured (`bench decode`, bf16 checkpoints, stored vs f32, batch 1 /
/// 16 / 64 / 256): width 128 (the demo models) 5–10× slower stored; 256 and 288 as fast up to
/// batch 64, 1.5× slower at 256; 512 and 2048 as fast or faster at every batch.
pub const STORED_MIN_WIDTH: usize = 512;

fn is_flex(device: &Device) -> bool {
    *device == Device::flex()
}

impl fmt::Display for WeightDtype {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            WeightDtype::Stored => "stored",
            WeightDtype::F32 => "f32",
            WeightDtype::F16 => "f16",
        })
    }
}

/// A matrix's values on the host, row-major in the checkpoint's layout.
#[derive(Debug)]
pub enum HostValues {
    F32(Vec<f32>),
    Bf16(Vec<bf16>),
    F16(Vec<f16>),
    /// bf16 or f16 elements where they lie in a memory-mapped checkpoint: the tensor is the
    /// file's page-cache pages, not a copy (copied only if something writes to it).
    Mapped {
        dtype: DType,
        bytes: Bytes,
    },
}

impl HostValues {
    /// Uploads the values as a `shape` tensor in their own dtype (burn would otherwise
    /// convert them to the device's default float dtype).
    pub fn upload(self, shape: [usize; 2], device: &Device) -> Tensor<2> {
        // `TensorData::new` keeps the vector's allocation (`from_bytes_vec` would copy it
        // to re-align: a second pass over a 2.5 GB checkpoint).
        let data = match self {
            HostValues::F32(v) => TensorData::new(v, shape),
            HostValues::Bf16(v) => TensorData::new(v, shape),
            HostValues::F16(v) => TensorData::new(v, shape),
            HostValues::Mapped { dtype, bytes } => TensorData::from_bytes(bytes, shape, dtype),
        };
        let dtype = data.dtype();
        Tensor::from_data(
            data,
            TensorCreationOptions::new(device.clone()).with_dtype(dtype),
        )
    }
}

//! Choosing the burn device at run time (`--device`). The CPU backend (flex, pure Rust)
//! is always compiled in; `wgpu` and `cuda` need the crate features of the same names.

use anyhow::{bail, Result};
use burn::tensor::Device;
use probable_core::model::WeightDtype;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// Pure-Rust CPU backend (always available).
    Cpu,
    /// wgpu (Vulkan/Metal/DX12); build with `--features wgpu`.
    Wgpu,
    /// NVIDIA CUDA; build with `--features cuda`.
    Cuda,
}

/// How a checkpoint's matrices are held (`--dtype`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum DtypeArg {
    /// As the checkpoint stores them: bf16 and f16 stay half precision on the CPU (half the
    /// memory; products widen tile by tile and accumulate in f32); f32 on a GPU.
    #[default]
    Stored,
    /// Widened to f32 at load (exact-parity runs; twice the memory of a bf16 checkpoint).
    F32,
    /// f16 whatever the checkpoint holds; on a GPU the model computes in f16 too (f16
    /// activations and KV cache, f32 accumulation, norms and softmax in f32; wgpu needs an
    /// adapter with SHADER_F16).
    F16,
}

impl From<DtypeArg> for WeightDtype {
    fn from(arg: DtypeArg) -> Self {
        match arg {
            DtypeArg::Stored => WeightDtype::Stored,
            DtypeArg::F32 => WeightDtype::F32,
            DtypeArg::F16 => WeightDtype::F16,
        }
    }
}

pub fn device(arg: DeviceArg) -> Result<Device> {
    match arg {
        DeviceArg::Cpu => Ok(Device::flex()),
        #[cfg(feature = "wgpu")]
        DeviceArg::Wgpu => Ok(Device::wgpu(Default::default())),
        #[cfg(feature = "cuda")]
        DeviceArg::Cuda => Ok(Device::cuda(0)),
        #[allow(unreachable_patterns)]
        other => bail!(
            "--device {other:?} is not compiled into this binary; rebuild with `--features {}`",
            format!("{other:?}").to_lowercase()
        ),
    }
}

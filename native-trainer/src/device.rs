//! Choosing the burn device at run time (`--device`). The CPU backend (flex, pure Rust)
//! is always compiled in; `wgpu` and `cuda` need the crate features of the same names.

use anyhow::{bail, Result};
use burn::tensor::Device;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum DeviceArg {
    /// Pure-Rust CPU backend (always available).
    Cpu,
    /// wgpu (Vulkan/Metal/DX12); build with `--features wgpu`.
    Wgpu,
    /// NVIDIA CUDA; build with `--features cuda`.
    Cuda,
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

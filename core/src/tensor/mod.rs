//! Tensor utilities below both the model and the sampler: host transfers, the burn-flex
//! storage behind CPU tensors, and a vectorisable `e^x` for the CPU kernels.

pub(crate) mod exp;
pub(crate) mod flex;
pub(crate) mod host;
#[cfg(test)]
pub(crate) mod testing;

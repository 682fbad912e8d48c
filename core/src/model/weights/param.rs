//! Trainable parameters with ids that survive a reload.

use burn::module::{Param, ParamId};
use burn::tensor::Tensor;

/// A trainable parameter whose id is derived from its HF name, so optimizer state saved
/// with one load of a checkpoint matches the parameters of the next load (resume).
pub fn named_param<const D: usize>(name: &str, tensor: Tensor<D>) -> Param<Tensor<D>> {
    // FNV-1a: stable across runs and platforms (std's hasher is randomly seeded).
    let mut h: u64 = 0xcbf29ce484222325;
    for b in name.bytes() {
        h = (h ^ b as u64).wrapping_mul(0x100000001b3);
    }
    let mut p = Param::from_tensor(tensor);
    p.id = ParamId::from(h);
    p
}

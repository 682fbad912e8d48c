//! The file names `save_pretrained` gives a checkpoint.

/// The file of an unsharded checkpoint.
pub const SINGLE_FILE: &str = "model.safetensors";
/// The index of a sharded one.
pub const INDEX_FILE: &str = "model.safetensors.index.json";

//! Building a model from the bytes of a bundle's `config.json` and checkpoint (one
//! `model.safetensors` or shards with their index). The caller does the I/O (files
//! natively, `fetch` in the browser).

use burn::tensor::Device;
use thiserror::Error;

use super::weights::{CheckpointSource, ShardBytes, ShardIndex, WeightDtype};
use super::{CausalLm, ConfigError, ModelConfig, SafetensorsSource, WeightError};

#[derive(Debug, Error, PartialEq)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Weights(#[from] WeightError),
}

/// Parses the config and loads every tensor it implies from one in-memory
/// `model.safetensors`. Missing, mis-shaped or non-finite tensors are errors naming the
/// tensor, and so are tensors the architecture does not use (but recomputed rotary
/// buffers and an identical copy of a tied head). bf16 and f16 matrices are kept as stored
/// on the CPU backend for models wide enough to gain from it ([`WeightDtype::on`]).
pub fn load_model(
    config_json: &str,
    safetensors: &[u8],
    device: &Device,
) -> Result<CausalLm, LoadError> {
    let config = ModelConfig::from_hf_json(config_json)?;
    let mut source = SafetensorsSource::new(safetensors)?
        .with_dtype(WeightDtype::Stored.on(device, config.hidden_size));
    Ok(CausalLm::load(&config, &mut source, device)?)
}

/// As [`load_model`], from the shards an index (`model.safetensors.index.json`) names.
pub fn load_sharded<B: ShardBytes>(
    config_json: &str,
    index_json: &str,
    shards: B,
    device: &Device,
) -> Result<CausalLm, LoadError> {
    let config = ModelConfig::from_hf_json(config_json)?;
    let index = ShardIndex::parse(index_json)?;
    let mut source = CheckpointSource::sharded(shards, &index)?
        .with_dtype(WeightDtype::Stored.on(device, config.hidden_size));
    Ok(CausalLm::load(&config, &mut source, device)?)
}

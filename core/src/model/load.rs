//! Building a model from the bytes of a bundle's `config.json` and `model.safetensors`.
//! The caller does the I/O (files natively, `fetch` in the browser).

use burn::tensor::Device;
use thiserror::Error;

use super::{CausalLm, ConfigError, ModelConfig, SafetensorsSource, WeightError};

#[derive(Debug, Error, PartialEq)]
pub enum LoadError {
    #[error(transparent)]
    Config(#[from] ConfigError),
    #[error(transparent)]
    Weights(#[from] WeightError),
}

/// Parses the config and loads every tensor it implies. Tensors in the file that the
/// architecture does not use (e.g. a redundant `lm_head.weight` of a tied model) are
/// ignored; missing or mis-shaped ones are errors naming the tensor.
pub fn load_model(
    config_json: &str,
    safetensors: &[u8],
    device: &Device,
) -> Result<CausalLm, LoadError> {
    let config = ModelConfig::from_hf_json(config_json)?;
    let mut source = SafetensorsSource::new(safetensors)?;
    Ok(CausalLm::load(&config, &mut source, device)?)
}

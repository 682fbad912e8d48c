//! What can be wrong with a `config.json`.

use thiserror::Error;

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("config.json: field `{0}` is missing")]
    Missing(&'static str),
    #[error("config.json: field `{field}` is invalid: {reason}")]
    Invalid { field: String, reason: String },
    #[error(
        "config.json: model_type `{0}` is not supported (supported: llama, mistral, qwen2, qwen3, phi)"
    )]
    UnsupportedModelType(String),
    #[error("config.json is not valid JSON: {0}")]
    Json(String),
}

impl ConfigError {
    pub(crate) fn invalid(field: impl Into<String>, reason: impl Into<String>) -> Self {
        ConfigError::Invalid {
            field: field.into(),
            reason: reason.into(),
        }
    }
}

//! Model hyperparameters, read from and written to Hugging Face `config.json` keys, so a
//! bundle means the same model to probable and to `transformers`.

mod error;
mod family;
mod model_config;
mod parse;
mod write;

pub use super::rope::RopeScaling;
pub use error::ConfigError;
pub use family::Family;
pub use model_config::ModelConfig;

impl ModelConfig {
    /// Parses a Hugging Face `config.json`; see [`parse`] for what is accepted.
    pub fn from_hf_json(text: &str) -> Result<Self, ConfigError> {
        parse::from_hf_json(text)
    }

    /// The HF `config.json` for this model, loadable by `AutoModelForCausalLM`.
    pub fn to_hf_json(&self) -> String {
        write::to_hf_json(self)
    }
}

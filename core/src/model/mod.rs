//! The causal LM every part of probable runs on: one implementation of the Llama and
//! Phi-1.5 families on any burn device, loaded from and saved to HF-format bundles.

pub mod attention;
pub mod cache;
pub mod causal_lm;
pub mod config;
pub mod dense;
pub mod greedy;
pub mod layer;
pub mod load;
pub mod mlp;
pub mod norm;
pub mod rope;
pub mod weights;

pub use cache::KvCache;
pub use causal_lm::CausalLm;
pub use config::{ConfigError, Family, ModelConfig};
pub use greedy::greedy_decode;
pub use load::{load_model, LoadError};
pub use weights::{
    to_safetensors, NamedTensor, RandomInit, SafetensorsSource, StorageDtype, WeightError,
    WeightSource,
};

//! The causal LM every part of probable runs on: one implementation of the Llama layout
//! (Llama 2/3.x, Mistral, Qwen2/2.5, Qwen3) and of Phi-1.5 on any burn device, loaded
//! from and saved to HF-format bundles.

pub mod attention;
pub mod cache;
pub mod causal_lm;
pub mod config;
pub(crate) mod cpu;
pub mod dense;
pub mod greedy;
pub mod layer;
pub mod load;
pub mod mask;
pub mod mlp;
pub mod norm;
pub mod rope;
pub mod weights;

pub use cache::KvCache;
pub use causal_lm::CausalLm;
pub use config::{ConfigError, Family, ModelConfig, RopeScaling};
pub use cpu::Bf16Tiles;
pub use greedy::greedy_decode;
pub use load::{load_model, load_sharded, LoadError};
pub use weights::{
    parse_shard_size, shard_checkpoint, to_safetensors, CheckpointSource, InMemory, NamedTensor,
    RandomInit, SafetensorsSource, ShardBytes, ShardIndex, StorageDtype, WeightDtype, WeightError,
    WeightSource, INDEX_FILE, SINGLE_FILE,
};

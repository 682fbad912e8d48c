//! Where parameters come from and go to: HF-named, HF-layout host tensors.
//!
//! Modules are built from a [`WeightSource`] (a safetensors checkpoint, one file or
//! shards, or a seeded random initialiser for training from scratch) and exported as
//! [`NamedTensor`]s, so the on-disk names and layouts are exactly `transformers'` and no
//! file I/O happens here: the caller hands over bytes through [`ShardBytes`] (files read
//! on demand natively, fetched bytes in the browser).

mod dtype;
mod error;
mod export;
mod file_names;
mod param;
mod random;
mod safetensors;
mod shards;
mod source;
mod transpose;

pub use self::safetensors::{CheckpointSource, InMemory, SafetensorsSource, ShardBytes};
pub use dtype::{HostValues, WeightDtype, STORED_MIN_WIDTH};
pub use error::WeightError;
pub use export::{parse_shard_size, shard_checkpoint, to_safetensors, StorageDtype};
pub use file_names::{INDEX_FILE, SINGLE_FILE};
pub use param::named_param;
pub use random::RandomInit;
pub use shards::ShardIndex;
pub use source::{NamedTensor, WeightSource};
pub use transpose::transpose;

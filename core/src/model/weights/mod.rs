//! Where parameters come from and go to: HF-named, HF-layout host tensors.
//!
//! Modules are built from a [`WeightSource`] (a safetensors checkpoint, one file or
//! shards, or a seeded random initialiser for training from scratch) and exported as
//! [`NamedTensor`]s, so the on-disk names and layouts are exactly `transformers'` and no
//! file I/O happens here: the caller hands over bytes through [`ShardBytes`] (files read
//! on demand natively, fetched bytes in the browser).

mod export;
mod random;
mod safetensors;
mod shards;

use burn::module::{Param, ParamId};
use burn::tensor::{Device, Tensor, TensorData};
use thiserror::Error;

pub use self::safetensors::{CheckpointSource, InMemory, SafetensorsSource, ShardBytes};
pub use export::{parse_shard_size, shard_checkpoint, to_safetensors, StorageDtype};
pub use random::RandomInit;
pub use shards::{ShardIndex, INDEX_FILE, SINGLE_FILE};

#[cfg(test)]
mod tests {
    #[test]
    fn tiled_transpose_equals_the_definition() {
        for (rows, cols) in [(1, 1), (3, 70), (65, 33), (100, 1), (64, 64)] {
            let v: Vec<f32> = (0..rows * cols).map(|i| i as f32).collect();
            let t = super::transpose(&v, rows, cols);
            for r in 0..rows {
                for c in 0..cols {
                    assert_eq!(t[c * rows + r], v[r * cols + c]);
                }
            }
        }
    }
}

#[derive(Debug, Error, PartialEq)]
pub enum WeightError {
    #[error("{file}: cannot parse ({reason}); is the file truncated?")]
    Parse { file: String, reason: String },
    #[error("{file}: cannot read ({reason})")]
    Read { file: String, reason: String },
    #[error("{0}: tensor `{1}` is missing")]
    Missing(String, String),
    #[error("{file}: tensor `{name}` has shape {found:?}, the config implies {expected:?}")]
    Shape {
        file: String,
        name: String,
        expected: Vec<usize>,
        found: Vec<usize>,
    },
    #[error("{file}: tensor `{name}` has dtype {dtype}; supported: F32, F16, BF16")]
    Dtype {
        file: String,
        name: String,
        dtype: String,
    },
    #[error("{file}: tensor `{name}` holds a non-finite value ({value}) at flat index {index}")]
    NonFinite {
        file: String,
        name: String,
        index: usize,
        value: f32,
    },
    #[error("{file}: tensor(s) the architecture does not use: {names}")]
    Unused { file: String, names: String },
    #[error("{INDEX_FILE}: {0}")]
    Index(String),
    #[error(
        "{file}: `lm_head.weight` differs from the embedding although tie_word_embeddings is true \
         (transformers would use it as a separate head); set tie_word_embeddings to false"
    )]
    TiedHeadDiffers { file: String },
}

/// A host tensor with its HF name, shape and row-major f32 values.
#[derive(Debug, Clone, PartialEq)]
pub struct NamedTensor {
    pub name: String,
    pub shape: Vec<usize>,
    pub values: Vec<f32>,
}

/// Supplies parameters by HF name and expected shape (row-major, HF layout).
pub trait WeightSource {
    fn take(&mut self, name: &str, shape: &[usize]) -> Result<Vec<f32>, WeightError>;

    /// Whether the source holds `name` (and has not handed it out yet).
    fn has(&self, _name: &str) -> bool {
        false
    }

    /// After a model is built: an error naming every tensor it left unread.
    fn check_all_used(&self) -> Result<(), WeightError> {
        Ok(())
    }
}

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

/// Uploads host values as a tensor.
pub fn upload<const D: usize>(values: Vec<f32>, shape: [usize; D], device: &Device) -> Tensor<D> {
    Tensor::from_data(TensorData::new(values, shape), device)
}

/// Transposes a row-major `[rows, cols]` matrix on the host, in 32×32 tiles (a plain
/// double loop writes with a stride of `rows` and dominated loading a 1B model) and in
/// parallel over bands of output rows.
pub fn transpose(values: &[f32], rows: usize, cols: usize) -> Vec<f32> {
    use rayon::prelude::*;
    const TILE: usize = 32;
    let mut out = vec![0.0; values.len()];
    if rows == 0 || cols == 0 {
        return out;
    }
    // Output row c holds input column c; a band is TILE output rows.
    out.par_chunks_mut(TILE * rows)
        .enumerate()
        .for_each(|(band, chunk)| {
            let c0 = band * TILE;
            let c1 = (c0 + TILE).min(cols);
            for r0 in (0..rows).step_by(TILE) {
                let r1 = (r0 + TILE).min(rows);
                for c in c0..c1 {
                    let dst = &mut chunk[(c - c0) * rows..(c - c0 + 1) * rows];
                    for r in r0..r1 {
                        dst[r] = values[r * cols + c];
                    }
                }
            }
        });
    out
}

/// Reads a tensor back to the host as f32 (native only; the browser never exports).
pub fn download<const D: usize>(t: Tensor<D>) -> Vec<f32> {
    t.into_data()
        .convert::<f32>()
        .try_into_vec::<f32>()
        .expect("f32 data")
}

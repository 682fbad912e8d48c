//! What can be wrong with a checkpoint's tensors.

use thiserror::Error;

use super::file_names::INDEX_FILE;

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
    #[error(
        "{file}: tensor `{name}` holds {value} at flat index {index}, outside f16's range \
         (±65504); load it with --dtype stored or f32"
    )]
    OutOfRange {
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

//! What can be wrong with a decoding request or go wrong while sampling.

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Error)]
pub enum SamplingError {
    #[error("temperature = {0}: must be a finite number >= 0")]
    Temperature(f64),
    #[error("top-p = {0}: must lie in (0, 1]")]
    TopP(f64),
    #[error("top-k = 0: must keep at least one token")]
    TopK,
    #[error("max-new-tokens = 0: must generate at least one token")]
    MaxNewTokens,
    #[error("adaptive temperature: {0}")]
    Adaptive(String),
    #[error("samples n = 0: must draw at least one sample")]
    NoSamples,
    #[error("the prompt is empty")]
    EmptyPrompt,
    #[error(
        "prompt of {prompt} tokens + {new} new tokens exceeds max_position_embeddings = {max}"
    )]
    TooLong {
        prompt: usize,
        new: usize,
        max: usize,
    },
    #[error("reading sampled ids from the device failed: {0}")]
    Device(String),
    #[error("prompt token {position} has id {id}, outside the model's vocabulary (vocab_size = {vocab})")]
    TokenOutOfRange {
        id: u32,
        position: usize,
        vocab: usize,
    },
    #[error("end-of-sequence id {id} is outside the model's vocabulary (vocab_size = {vocab})")]
    EosOutOfRange { id: u32, vocab: usize },
    #[error(
        "the model produced non-finite logits (NaN or infinite) at decode step {step}: its weights or configuration are broken, so no output or score can be computed"
    )]
    NonFiniteLogits {
        /// 0 is the token after the prompt.
        step: usize,
    },
}

//! Decoding settings, validated once so the hot loop needs no checks.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::AdaptiveTemperature;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum Strategy {
    /// Argmax at every step.
    Greedy,
    /// Ancestral sampling from the tempered, truncated distribution.
    Sample {
        temperature: f64,
        /// Nucleus mass in (0, 1]; 1 disables the top-p mask.
        top_p: f64,
        /// Keep only the k most likely tokens; `None` disables.
        top_k: Option<usize>,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DecodeConfig {
    pub strategy: Strategy,
    /// Decode-time defence of the paper; only meaningful with [`Strategy::Sample`].
    pub adaptive: Option<AdaptiveTemperature>,
    pub max_new_tokens: usize,
    /// A row stops after emitting any of these ids.
    pub eos_token_ids: Vec<u32>,
    pub seed: u64,
}

impl DecodeConfig {
    /// The paper's evaluation setting: T = 1, top-p = 0.9.
    pub fn paper(max_new_tokens: usize, eos_token_ids: Vec<u32>, seed: u64) -> Self {
        Self {
            strategy: Strategy::Sample {
                temperature: 1.0,
                top_p: 0.9,
                top_k: None,
            },
            adaptive: None,
            max_new_tokens,
            eos_token_ids,
            seed,
        }
    }

    pub fn greedy(max_new_tokens: usize, eos_token_ids: Vec<u32>) -> Self {
        Self {
            strategy: Strategy::Greedy,
            adaptive: None,
            max_new_tokens,
            eos_token_ids,
            seed: 0,
        }
    }

    pub fn validate(&self) -> Result<(), SamplingError> {
        if let Strategy::Sample {
            temperature,
            top_p,
            top_k,
        } = self.strategy
        {
            if !(temperature.is_finite() && temperature >= 0.0) {
                return Err(SamplingError::Temperature(temperature));
            }
            if !(top_p > 0.0 && top_p <= 1.0) {
                return Err(SamplingError::TopP(top_p));
            }
            if top_k == Some(0) {
                return Err(SamplingError::TopK);
            }
        }
        if let Some(a) = &self.adaptive {
            a.validate()?;
        }
        if self.max_new_tokens == 0 {
            return Err(SamplingError::MaxNewTokens);
        }
        Ok(())
    }
}

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

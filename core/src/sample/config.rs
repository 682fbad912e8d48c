//! Decoding settings, validated once so the hot loop needs no checks.

use serde::{Deserialize, Serialize};

use super::adaptive::AdaptiveTemperature;
use super::error::SamplingError;

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

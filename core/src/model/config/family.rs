//! The architectures probable implements.

use serde::{Deserialize, Serialize};

/// The architectures probable implements, one per HF `model_type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `LlamaForCausalLM`: RMSNorm, rotary embeddings (optionally scaled), SwiGLU MLP,
    /// grouped-query attention.
    Llama,
    /// `MistralForCausalLM`: the Llama layout with sliding-window attention.
    Mistral,
    /// `Qwen2ForCausalLM` (Qwen2, Qwen2.5): the Llama layout with q/k/v biases and an
    /// optional sliding window on the upper layers.
    Qwen2,
    /// `Qwen3ForCausalLM`: the Llama layout with a per-head RMSNorm on queries and keys.
    Qwen3,
    /// `PhiForCausalLM` (Phi-1.5): LayerNorm, partial rotary, parallel attention + MLP,
    /// `gelu_new`, biases, dense output head with bias.
    Phi,
}

impl Family {
    pub const ALL: [Family; 5] = [
        Family::Llama,
        Family::Mistral,
        Family::Qwen2,
        Family::Qwen3,
        Family::Phi,
    ];

    /// The `model_type` of `config.json`.
    pub fn model_type(self) -> &'static str {
        match self {
            Family::Llama => "llama",
            Family::Mistral => "mistral",
            Family::Qwen2 => "qwen2",
            Family::Qwen3 => "qwen3",
            Family::Phi => "phi",
        }
    }

    /// The transformers class (`architectures` in `config.json`).
    pub fn architecture(self) -> &'static str {
        match self {
            Family::Llama => "LlamaForCausalLM",
            Family::Mistral => "MistralForCausalLM",
            Family::Qwen2 => "Qwen2ForCausalLM",
            Family::Qwen3 => "Qwen3ForCausalLM",
            Family::Phi => "PhiForCausalLM",
        }
    }

    pub fn from_model_type(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|f| f.model_type() == name)
    }

    /// Llama-style blocks (RMSNorm, sequential residual, SwiGLU) rather than Phi's.
    pub fn is_llama_layout(self) -> bool {
        self != Family::Phi
    }
}

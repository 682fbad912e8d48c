//! The hyperparameters of one model and what follows from them (sizes, FLOPs, windows).

use serde::{Deserialize, Serialize};

use super::family::Family;
use crate::model::rope::RopeScaling;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelConfig {
    pub family: Family,
    pub vocab_size: usize,
    pub hidden_size: usize,
    pub intermediate_size: usize,
    pub num_hidden_layers: usize,
    pub num_attention_heads: usize,
    pub num_key_value_heads: usize,
    pub head_dim: usize,
    pub rope_theta: f64,
    pub rope_scaling: RopeScaling,
    /// Fraction of each head's dimensions that is rotated (1.0 but for Phi).
    pub partial_rotary_factor: f64,
    /// RMSNorm (Llama layout) or LayerNorm (Phi) epsilon.
    pub norm_eps: f64,
    pub tie_word_embeddings: bool,
    pub max_position_embeddings: usize,
    /// Biases on the q/k/v projections (Llama's `attention_bias`, always for Qwen2 and Phi).
    pub qkv_bias: bool,
    /// Bias on the attention output projection (`o_proj`, Phi's `dense`).
    pub o_bias: bool,
    /// Biases in the MLP (Llama's `mlp_bias`; always for Phi).
    pub mlp_bias: bool,
    /// Qwen3's per-head RMSNorm on queries and keys before the rotation.
    pub qk_norm: bool,
    /// Keys further back than this many positions are hidden (Mistral, Qwen2 with
    /// `use_sliding_window`) in the layers flagged by `sliding_layers`.
    pub sliding_window: Option<usize>,
    /// Per layer: whether it uses the sliding window (transformers' `layer_types`).
    pub sliding_layers: Vec<bool>,
    pub bos_token_id: Option<u32>,
    pub eos_token_ids: Vec<u32>,
    pub pad_token_id: Option<u32>,
}

impl ModelConfig {
    /// The ids that end a generation: `eos_token_id` (one id or a list) of the bundle's
    /// `generation_config.json` when given, else the config's own.
    pub fn generation_eos_ids(&self, generation_config: Option<&serde_json::Value>) -> Vec<u32> {
        use serde_json::Value;
        let from_generation = generation_config.and_then(|g| match &g["eos_token_id"] {
            Value::Number(n) => n.as_u64().map(|x| vec![x as u32]),
            Value::Array(a) => Some(
                a.iter()
                    .filter_map(|x| x.as_u64())
                    .map(|x| x as u32)
                    .collect(),
            ),
            _ => None,
        });
        from_generation.unwrap_or_else(|| self.eos_token_ids.clone())
    }

    /// Number of rotated dimensions per head (even).
    pub fn rotary_dim(&self) -> usize {
        let d = (self.head_dim as f64 * self.partial_rotary_factor) as usize;
        d - d % 2
    }

    /// The longest sequence (prompt + generation) the model is meant for: its
    /// `max_position_embeddings`, except under dynamic NTK scaling, whose purpose is to
    /// stretch past it (transformers then grows the rotary base with the length).
    pub fn max_context(&self) -> Option<usize> {
        match self.rope_scaling {
            RopeScaling::Dynamic { .. } => None,
            _ => Some(self.max_position_embeddings),
        }
    }

    /// The sliding window of layer `i`, if it has one.
    pub fn window_of_layer(&self, i: usize) -> Option<usize> {
        self.sliding_window
            .filter(|_| self.sliding_layers.get(i).copied().unwrap_or(false))
    }

    /// FLOPs of one token's forward pass with `context` positions to attend to: two (a
    /// multiply and an add) per weight of every matrix the token is multiplied by — all
    /// parameters but an untied embedding, which is a lookup (norms and biases, a rounding
    /// error, are counted too) — plus QKᵀ and PV over the context. Benchmarks divide
    /// measured throughput by this to compare with the machine's sgemm rate.
    pub fn flops_per_token(&self, context: usize) -> f64 {
        let lookup = if self.tie_word_embeddings {
            0
        } else {
            self.vocab_size * self.hidden_size
        };
        let weights = self.parameter_count() - lookup;
        let attention =
            2 * 2 * self.num_hidden_layers * self.num_attention_heads * self.head_dim * context;
        (2 * weights + attention) as f64
    }

    /// Number of parameters the architecture holds.
    pub fn parameter_count(&self) -> usize {
        let d = self.hidden_size;
        let q = self.num_attention_heads * self.head_dim;
        let kv = self.num_key_value_heads * self.head_dim;
        let i = self.intermediate_size;
        let phi = self.family == Family::Phi;
        let qkv_bias = if self.qkv_bias { q + 2 * kv } else { 0 };
        let o_bias = if self.o_bias { d } else { 0 };
        let qk_norm = if self.qk_norm { 2 * self.head_dim } else { 0 };
        let attn = d * q + 2 * d * kv + q * d + qkv_bias + o_bias + qk_norm;
        let (mlp, norms) = if phi {
            (2 * d * i + i + d, 2 * d)
        } else {
            let bias = if self.mlp_bias { 2 * i + d } else { 0 };
            (3 * d * i + bias, 2 * d)
        };
        let embed = self.vocab_size * d;
        let head = if self.tie_word_embeddings {
            0
        } else {
            self.vocab_size * d + if phi { self.vocab_size } else { 0 }
        };
        let final_norm = if phi { 2 * d } else { d };
        embed + self.num_hidden_layers * (attn + mlp + norms) + final_norm + head
    }
}

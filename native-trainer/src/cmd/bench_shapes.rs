//! Named model shapes for `probable bench`, built with random weights: benchmarks need only
//! the shapes, and a random model of a published layout needs no download (the GPU machine
//! a benchmark runs on may have no network).

use anyhow::Result;
use burn::tensor::Device;
use probable_core::model::{CausalLm, ModelConfig, RandomInit, WeightDtype};

use crate::bundle::check_device_holds;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Shape {
    /// A Llama of about 5.5M parameters (GQA 8/4, 2k vocabulary): the default.
    #[value(name = "5m")]
    Small,
    /// llama2.c's stories15M layout (6 layers of width 288, 6 heads, untied 32k head): the
    /// peers benchmark's main shape (`scripts/bench-peers.sh`).
    #[value(name = "15m")]
    Stories15m,
    /// The peers benchmark's Llama-3.2-1B scaled down (`llama3.2-1b-small` in
    /// `bench_transformers.py`): 4 layers of width 512, GQA 8/2, head_dim 64, tied 128k
    /// embedding, llama3 rope.
    #[value(name = "llama3.2-1b-small")]
    Llama32_1bSmall,
    /// The Llama-3.2-1B layout scaled down (GQA, tied embedding, llama3 rope) with its full
    /// 128256-token vocabulary, so the logits projection and sampling weigh as they do there.
    #[value(name = "tiny-128k")]
    Tiny128k,
    /// Llama-3.2-1B: 16 layers of width 2048, GQA 32/8, tied 128k embedding, llama3 rope.
    #[value(name = "llama3.2-1b")]
    Llama32_1b,
    /// Phi-1.5: 24 layers of width 2048, parallel attention and MLP, partial rotary 0.5,
    /// LayerNorm, untied 51200-token head with a bias.
    #[value(name = "phi-1.5")]
    Phi15,
}

/// Llama 3's rope scaling, as Llama-3.2-1B's config.json states it.
const LLAMA3_ROPE: &str = r#""rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3",
    "factor":32.0,"low_freq_factor":1.0,"high_freq_factor":4.0,
    "original_max_position_embeddings":8192}"#;

impl Shape {
    /// The shape as an HF `config.json`.
    fn hf_json(self) -> String {
        match self {
            Shape::Small => r#"{"model_type":"llama","vocab_size":2048,"hidden_size":256,
                "intermediate_size":704,"num_hidden_layers":6,"num_attention_heads":8,
                "num_key_value_heads":4,"max_position_embeddings":1024,"bos_token_id":1,
                "eos_token_id":2}"#
                .into(),
            Shape::Stories15m => r#"{"model_type":"llama","vocab_size":32000,"hidden_size":288,
                "intermediate_size":768,"num_hidden_layers":6,"num_attention_heads":6,
                "num_key_value_heads":6,"rms_norm_eps":1e-6,"max_position_embeddings":2048,
                "tie_word_embeddings":false,"bos_token_id":1,"eos_token_id":2}"#
                .into(),
            Shape::Llama32_1bSmall => format!(
                r#"{{"model_type":"llama","vocab_size":128256,"hidden_size":512,
                "intermediate_size":2048,"num_hidden_layers":4,"num_attention_heads":8,
                "num_key_value_heads":2,"head_dim":64,"rms_norm_eps":1e-5,
                "tie_word_embeddings":true,"max_position_embeddings":131072,{LLAMA3_ROPE},
                "bos_token_id":128000,"eos_token_id":128001}}"#
            ),
            Shape::Tiny128k => format!(
                r#"{{"model_type":"llama","vocab_size":128256,"hidden_size":256,
                "intermediate_size":1024,"num_hidden_layers":4,"num_attention_heads":8,
                "num_key_value_heads":2,"head_dim":32,"rms_norm_eps":1e-5,
                "tie_word_embeddings":true,"max_position_embeddings":131072,{LLAMA3_ROPE},
                "bos_token_id":128000,"eos_token_id":128001}}"#
            ),
            Shape::Llama32_1b => format!(
                r#"{{"model_type":"llama","vocab_size":128256,"hidden_size":2048,
                "intermediate_size":8192,"num_hidden_layers":16,"num_attention_heads":32,
                "num_key_value_heads":8,"head_dim":64,"rms_norm_eps":1e-5,
                "tie_word_embeddings":true,"max_position_embeddings":131072,{LLAMA3_ROPE},
                "bos_token_id":128000,"eos_token_id":128001}}"#
            ),
            Shape::Phi15 => r#"{"model_type":"phi","vocab_size":51200,"hidden_size":2048,
                "intermediate_size":8192,"num_hidden_layers":24,"num_attention_heads":32,
                "num_key_value_heads":32,"partial_rotary_factor":0.5,"rope_theta":10000.0,
                "layer_norm_eps":1e-5,"hidden_act":"gelu_new","tie_word_embeddings":false,
                "max_position_embeddings":2048,"bos_token_id":1,"eos_token_id":2}"#
                .into(),
        }
    }

    pub fn config(self) -> Result<ModelConfig> {
        Ok(ModelConfig::from_hf_json(&self.hf_json())?)
    }

    /// The shape with random weights: N(0, 0.08²) for the small default (what the benchmarks
    /// measured before shapes had names), N(0, 0.02²) — the published models'
    /// `initializer_range` — for the others.
    ///
    /// `dtype` holds the matrices as a checkpoint's would be held (`f16` rounds them; a random
    /// model has no stored dtype, so `stored` is f32).
    pub fn model(self, device: &Device, dtype: WeightDtype) -> Result<CausalLm> {
        let std = if self == Shape::Small { 0.08 } else { 0.02 };
        let config = self.config()?;
        let held = dtype.on(device, config.hidden_size);
        check_device_holds(held, device)?;
        let mut source = RandomInit::new(0, std).with_dtype(held);
        Ok(
            CausalLm::load(&config, &mut source, device)?
                .with_activations(held.activations(device)),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every shape parses, and the published ones have their published sizes (Llama-3.2-1B:
    /// 1.24B parameters with the tied embedding; Phi-1.5: 1.42B).
    #[test]
    fn shapes_parse_with_their_published_sizes() {
        let billions = |s: Shape| s.config().unwrap().parameter_count() as f64 / 1e9;
        assert!((billions(Shape::Llama32_1b) - 1.236).abs() < 0.005);
        assert!((billions(Shape::Phi15) - 1.418).abs() < 0.005);
        assert_eq!(Shape::Tiny128k.config().unwrap().vocab_size, 128256);
        assert!(billions(Shape::Small) < 0.01);
        // stories15M with an untied head: 24.4M; the small 1B layout: 81M, mostly embedding.
        assert!((billions(Shape::Stories15m) - 0.0244).abs() < 0.0005);
        assert!((billions(Shape::Llama32_1bSmall) - 0.081).abs() < 0.001);
    }
}

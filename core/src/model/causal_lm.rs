//! The causal language model: embeddings, decoder blocks, final norm, LM head.
//! Mirrors `LlamaForCausalLM` / `PhiForCausalLM` tensor for tensor.

use burn::module::Module;
use burn::nn::{Embedding, EmbeddingConfig, Linear};
use burn::tensor::{Device, Int, Tensor, TensorData};

use super::cache::KvCache;
use super::config::{Family, ModelConfig};
use super::dense::{export_linear, load_linear};
use super::layer::DecoderLayer;
use super::norm::Norm;
use super::rope::rope_tables;
use super::weights::{download, named_param, upload, NamedTensor, WeightError, WeightSource};

#[derive(Module, Debug)]
pub struct CausalLm {
    pub embed_tokens: Embedding,
    pub layers: Vec<DecoderLayer>,
    pub norm: Norm,
    /// `None` when the head is tied to the embedding matrix.
    pub lm_head: Option<Linear>,
    #[module(skip)]
    pub config: ModelConfig,
}

/// Large negative additive mask value: `exp` of it underflows to 0 without the NaNs that
/// `-inf` produces in fully masked rows.
const MASKED: f32 = -1e30;

impl CausalLm {
    /// Builds the model from a weight source (a checkpoint, or [`super::RandomInit`]).
    pub fn load(
        config: &ModelConfig,
        src: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<Self, WeightError> {
        let (v, d) = (config.vocab_size, config.hidden_size);
        let mut embed_tokens = EmbeddingConfig::new(v, d).init(device);
        embed_tokens.weight = named_param(
            "model.embed_tokens.weight",
            upload(
                src.take("model.embed_tokens.weight", &[v, d])?,
                [v, d],
                device,
            ),
        );
        let layers = (0..config.num_hidden_layers)
            .map(|i| DecoderLayer::load(&format!("model.layers.{i}"), config, src, device))
            .collect::<Result<Vec<_>, _>>()?;
        let norm = match config.family {
            Family::Llama => Norm::load_rms("model.norm", d, config.norm_eps, src, device)?,
            Family::Phi => {
                Norm::load_layer("model.final_layernorm", d, config.norm_eps, src, device)?
            }
        };
        let lm_head = if config.tie_word_embeddings {
            None
        } else {
            let bias = config.family == Family::Phi;
            Some(load_linear("lm_head", d, v, bias, src, device)?)
        };
        Ok(Self {
            embed_tokens,
            layers,
            norm,
            lm_head,
            config: config.clone(),
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// All parameters with HF names and layouts, ready for safetensors.
    pub fn export(&self) -> Vec<NamedTensor> {
        let c = self.config();
        let mut out = Vec::new();
        out.push(NamedTensor {
            name: "model.embed_tokens.weight".into(),
            shape: vec![c.vocab_size, c.hidden_size],
            values: download(self.embed_tokens.weight.val()),
        });
        for (i, layer) in self.layers.iter().enumerate() {
            layer.export(&format!("model.layers.{i}"), c.family, &mut out);
        }
        let final_norm = match c.family {
            Family::Llama => "model.norm",
            Family::Phi => "model.final_layernorm",
        };
        self.norm.export(final_norm, &mut out);
        if let Some(head) = &self.lm_head {
            export_linear("lm_head", head, &mut out);
        }
        out
    }

    fn head(&self, h: Tensor<3>) -> Tensor<3> {
        let h = self.norm.forward(h);
        match &self.lm_head {
            Some(head) => head.forward(h),
            None => {
                let [b, s, d] = h.dims();
                let w = self.embed_tokens.weight.val().transpose();
                h.reshape([b * s, d])
                    .matmul(w)
                    .reshape([b, s, self.config().vocab_size])
            }
        }
    }

    /// Full-sequence forward for training and scoring: logits `[batch, len, vocab]`.
    /// `attention_mask` (1 = token, 0 = padding), when given, hides padded keys; with
    /// right padding the causal mask alone already keeps real positions exact.
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        attention_mask: Option<&[Vec<u8>]>,
    ) -> Tensor<3> {
        let [b, s] = input_ids.dims();
        let device = input_ids.device();
        let c = self.config();
        let rope = rope_tables(c.rope_theta, c.rotary_dim(), 0, s, &device);
        let mut bias = vec![0.0f32; b * s * s];
        for row in 0..b {
            for i in 0..s {
                for j in 0..s {
                    let padded = attention_mask.is_some_and(|m| m[row][j] == 0);
                    if j > i || padded {
                        bias[(row * s + i) * s + j] = MASKED;
                    }
                }
            }
        }
        let bias: Tensor<4> = Tensor::from_data(TensorData::new(bias, [b, 1, s, s]), &device);
        let mut x = self.embed_tokens.forward(input_ids);
        for layer in &self.layers {
            x = layer.forward(x, &rope, Some(bias.clone()), None);
        }
        self.head(x)
    }

    /// Incremental forward: appends `input_ids: [batch, len]` after the cached positions
    /// and returns the logits of the *last* new position, `[batch, vocab]`.
    pub fn forward_cached(&self, input_ids: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<2> {
        let [b, s] = input_ids.dims();
        let device = input_ids.device();
        let c = self.config();
        let past = cache.len();
        let rope = rope_tables(c.rope_theta, c.rotary_dim(), past, s, &device);
        let bias = (s > 1).then(|| {
            let t = past + s;
            let mut m = vec![0.0f32; s * t];
            for i in 0..s {
                for j in past + i + 1..t {
                    m[i * t + j] = MASKED;
                }
            }
            Tensor::from_data(TensorData::new(m, [1, 1, s, t]), &device)
        });
        let mut x = self.embed_tokens.forward(input_ids);
        for (i, layer) in self.layers.iter().enumerate() {
            x = layer.forward(x, &rope, bias.clone(), Some((cache, i)));
        }
        cache.advance(s);
        let [_, _, d] = x.dims();
        let last = x.slice([0..b, s - 1..s, 0..d]);
        let logits = self.head(last);
        logits.reshape([b, c.vocab_size])
    }

    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.layers.len())
    }
}

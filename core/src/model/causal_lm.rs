//! The causal language model: embeddings, decoder blocks, final norm, LM head.
//! Mirrors `LlamaForCausalLM`, `MistralForCausalLM`, `Qwen2ForCausalLM`,
//! `Qwen3ForCausalLM` and `PhiForCausalLM` tensor for tensor.

use burn::module::{Module, ModuleVisitor, Param};
use burn::nn::{Embedding, EmbeddingConfig, Linear};
use burn::tensor::{DType, Device, Int, Tensor};

use super::cache::KvCache;
use super::config::{Family, ModelConfig};
use super::cpu::linear::tied_logits;
use super::dense::{self, export_linear, load_linear};
use super::layer::DecoderLayer;
use super::mask::attention_bias;
use super::norm::Norm;
use super::rope::{rope_tables, rope_tables_per_row, RopeTables};
use super::weights::{named_param, transpose, HostValues, NamedTensor, WeightError, WeightSource};
use crate::tensor::host::{download, upload};

#[derive(Module, Debug)]
pub struct CausalLm {
    pub embed_tokens: Embedding,
    pub layers: Vec<DecoderLayer>,
    pub norm: Norm,
    /// `None` when the head is tied to the embedding matrix.
    pub lm_head: Option<Linear>,
    #[module(skip)]
    pub config: ModelConfig,
    /// The dtype activations, the KV cache and the products are computed in: f32 unless
    /// set ([`CausalLm::with_activations`]; f16 for `--dtype f16` on a GPU,
    /// [`super::WeightDtype::activations`]). Logits are f32 either way.
    #[module(skip)]
    activations: DType,
}

/// The names of the final norm: Llama layout, Phi.
fn final_norm_name(family: Family) -> &'static str {
    match family {
        Family::Phi => "model.final_layernorm",
        _ => "model.norm",
    }
}

/// Whether an f32 embedding that is also the head is held transposed — `[d, vocab]` in
/// memory behind the `[vocab, d]` view the model reads — which only the browser's CPU
/// fallback does (wasm32 with SIMD, on flex): its head is then the projection kernel's
/// `x · W` (`cpu::wasm_product`), which wasm SIMD runs faster per multiply-add than dot
/// products of stored rows (`scripts/bench-wasm.sh`, CHANGELOG.md), and the lookup reads a
/// token's row as a column. Natively the row dots are the faster kernel. No copy of the
/// table is kept either way.
fn holds_tied_table_transposed(config: &ModelConfig, device: &Device) -> bool {
    #[cfg(all(target_arch = "wasm32", target_feature = "simd128"))]
    {
        config.tie_word_embeddings
            && *device == Device::flex()
            && super::cpu::wasm_product::takes(config.vocab_size)
    }
    #[cfg(not(all(target_arch = "wasm32", target_feature = "simd128")))]
    {
        let _ = (config, device);
        false
    }
}

impl CausalLm {
    /// Builds the model from a weight source (a checkpoint, or [`super::RandomInit`]).
    pub fn load(
        config: &ModelConfig,
        src: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<Self, WeightError> {
        let (v, d) = (config.vocab_size, config.hidden_size);
        let mut embed_tokens = EmbeddingConfig::new(v, d).init(device);
        let table = match src.take_matrix("model.embed_tokens.weight", &[v, d])? {
            HostValues::F32(e) if holds_tied_table_transposed(config, device) => {
                upload(transpose(&e, v, d), [d, v], device).transpose()
            }
            table => table.upload([v, d], device),
        };
        embed_tokens.weight = named_param("model.embed_tokens.weight", table);
        let layers = (0..config.num_hidden_layers)
            .map(|i| DecoderLayer::load(&format!("model.layers.{i}"), config, src, device))
            .collect::<Result<Vec<_>, _>>()?;
        let norm_name = final_norm_name(config.family);
        let norm = if config.family.is_llama_layout() {
            Norm::load_rms(norm_name, d, config.norm_eps, src, device)?
        } else {
            Norm::load_layer(norm_name, d, config.norm_eps, src, device)?
        };
        let lm_head = if config.tie_word_embeddings {
            // A tied checkpoint may still carry the head (an identical copy); a different
            // one would make transformers untie it, so it must not be dropped silently.
            if src.has("lm_head.weight") {
                let head = src.take("lm_head.weight", &[v, d])?;
                if head != download(embed_tokens.weight.val()) {
                    return Err(WeightError::TiedHeadDiffers {
                        file: "lm_head.weight".into(),
                    });
                }
            }
            None
        } else {
            let bias = config.family == Family::Phi;
            Some(load_linear("lm_head", d, v, bias, src, device)?)
        };
        src.check_all_used()?;
        Ok(Self {
            embed_tokens,
            layers,
            norm,
            lm_head,
            config: config.clone(),
            activations: DType::F32,
        })
    }

    pub fn config(&self) -> &ModelConfig {
        &self.config
    }

    /// Computes in `dtype` (f32 or f16): the embeddings are looked up in it, every matrix
    /// product, the residual stream and the KV cache are held in it, and the norms and the
    /// attention softmax run in f32 between them (as transformers runs a half-precision
    /// model); the logits come back in f32. A weight in another dtype is cast per product.
    pub fn with_activations(mut self, dtype: DType) -> Self {
        self.activations = dtype;
        self
    }

    pub fn activations(&self) -> DType {
        self.activations
    }

    /// Bytes the parameters occupy as held (a bf16 checkpoint kept as stored: two per
    /// matrix element; what `bench` reports next to the peak RSS).
    pub fn weight_bytes(&self) -> usize {
        struct Bytes(usize);
        impl ModuleVisitor for Bytes {
            fn visit_float<const D: usize>(&mut self, param: &Param<Tensor<D>>) {
                let t = param.val();
                self.0 += t.shape().num_elements() * t.dtype().size();
            }
        }
        let mut bytes = Bytes(0);
        self.visit(&mut bytes);
        bytes.0
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
        self.norm.export(final_norm_name(c.family), &mut out);
        if let Some(head) = &self.lm_head {
            export_linear("lm_head", head, &mut out);
        }
        out
    }

    /// The embeddings of `ids` in the dtype the model computes in, whatever dtype the
    /// embedding is held in (only the looked-up rows are cast; burn's `cast` leaves a
    /// tensor of the same dtype as it is).
    fn embed(&self, ids: Tensor<2, Int>) -> Tensor<3> {
        let table = self.embed_tokens.weight.val();
        super::cpu::embedding::lookup(&table, &ids)
            .unwrap_or_else(|| self.embed_tokens.forward(ids))
            .cast(self.activations)
    }

    fn head(&self, h: Tensor<3>) -> Tensor<3> {
        let h = self.norm.forward(h);
        let logits = match &self.lm_head {
            Some(head) => dense::forward(head, h),
            None => {
                // Tied head: logits = h · Eᵀ, computed as (E · hᵀ)ᵀ so the large [vocab, d]
                // embedding is read in its stored layout; only the small hᵀ and the logits
                // are transposed (on the CPU, written transposed in place).
                let [b, s, d] = h.dims();
                let v = self.config().vocab_size;
                let w = self.embed_tokens.weight.val();
                let h = h.reshape([b * s, d]);
                tied_logits(&w, &h)
                    .unwrap_or_else(|| w.cast(h.dtype()).matmul(h.transpose()).transpose())
                    .reshape([b, s, v])
            }
        };
        logits.cast(DType::F32)
    }

    /// Runs the decoder blocks over `x` (positions `past ..`), each layer with the mask of
    /// its attention type (full or sliding window).
    fn blocks(
        &self,
        mut x: Tensor<3>,
        rope: &RopeTables,
        past: usize,
        padding: Option<&[Vec<u8>]>,
        mut cache: Option<&mut KvCache>,
        masks: bool,
    ) -> Tensor<3> {
        let c = self.config();
        let [_, s, _] = x.dims();
        let device = x.device();
        let full = attention_bias(past, s, None, padding, &device).filter(|_| masks);
        let sliding = c
            .sliding_window
            .filter(|_| masks && c.sliding_layers.iter().any(|&l| l))
            .map(|w| attention_bias(past, s, Some(w), padding, &device));
        for (i, layer) in self.layers.iter().enumerate() {
            let bias = match (&sliding, c.window_of_layer(i)) {
                (Some(b), Some(_)) => b.clone(),
                _ => full.clone(),
            };
            x = layer.forward(x, rope, bias, cache.as_deref_mut().map(|k| (k, i)));
        }
        x
    }

    /// Full-sequence forward for training and scoring: logits `[batch, len, vocab]`.
    /// `attention_mask` (1 = token, 0 = padding), when given, hides padded keys; with
    /// right padding the causal mask alone already keeps real positions exact.
    pub fn forward(
        &self,
        input_ids: Tensor<2, Int>,
        attention_mask: Option<&[Vec<u8>]>,
    ) -> Tensor<3> {
        let [_, s] = input_ids.dims();
        let device = input_ids.device();
        let c = self.config();
        let rope = rope_tables(c.rope_theta, c.rotary_dim(), c.rope_scaling, 0, s, &device)
            .cast(self.activations);
        let x = self.embed(input_ids);
        let x = self.blocks(x, &rope, 0, attention_mask, None, true);
        self.head(x)
    }

    /// Incremental forward: appends `input_ids: [batch, len]` after the cached positions
    /// and returns the logits of the *last* new position, `[batch, vocab]`.
    pub fn forward_cached(&self, input_ids: Tensor<2, Int>, cache: &mut KvCache) -> Tensor<2> {
        let [b, s] = input_ids.dims();
        let device = input_ids.device();
        let c = self.config();
        let past = cache.len();
        let (theta, dim, scaling) = (c.rope_theta, c.rotary_dim(), c.rope_scaling);
        let positions = cache.shared.as_ref().map(|sh| sh.positions(past));
        let rope = match &positions {
            // Rows continuing prompts of different lengths sit at different positions.
            Some(p) if p.iter().any(|&x| x != p[0]) => {
                rope_tables_per_row(theta, dim, scaling, p, &device)
            }
            Some(p) => rope_tables(theta, dim, scaling, p[0], s, &device),
            None => rope_tables(theta, dim, scaling, past, s, &device),
        }
        .cast(self.activations);
        let x = self.embed(input_ids);
        // A continuation's attention masks its window itself (its prompts differ in length).
        let masks = positions.is_none();
        let x = self.blocks(x, &rope, past, None, Some(cache), masks);
        cache.advance(s);
        let [_, _, d] = x.dims();
        let last = x.slice([0..b, s - 1..s, 0..d]);
        let logits = self.head(last);
        logits.reshape([b, c.vocab_size])
    }

    pub fn new_cache(&self) -> KvCache {
        KvCache::new(self.layers.len())
    }

    /// A cache for rows continuing prefilled prompts (`(batch-1 cache, rows)` each, see
    /// [`KvCache::continuing`]) with room for `new_tokens` more positions per row.
    pub fn continuing_cache(&self, prompts: &[(&KvCache, usize)], new_tokens: usize) -> KvCache {
        let c = self.config();
        let windows = (0..self.layers.len())
            .map(|i| c.window_of_layer(i))
            .collect();
        KvCache::continuing(prompts, windows, new_tokens)
    }
}

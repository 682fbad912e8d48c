//! One decoder block. The Llama layout (Llama, Mistral, Qwen2, Qwen3) is sequential (`h = x + attn(norm₁ x)`, `out = h + mlp(norm₂ h)`);
//! Phi is parallel with one shared norm (`out = x + attn(n) + mlp(n)`, `n = norm x`).

use burn::module::Module;
use burn::tensor::{Device, Tensor};

use super::attention::Attention;
use super::cache::KvCache;
use super::config::{Family, ModelConfig};
use super::mlp::Mlp;
use super::norm::Norm;
use super::rope::RopeTables;
use super::weights::{NamedTensor, WeightError, WeightSource};

#[derive(Module, Debug)]
pub struct DecoderLayer {
    pub input_layernorm: Norm,
    /// Llama layout only.
    pub post_attention_layernorm: Option<Norm>,
    pub self_attn: Attention,
    pub mlp: Mlp,
}

impl DecoderLayer {
    pub fn load(
        prefix: &str,
        c: &ModelConfig,
        src: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<Self, WeightError> {
        let d = c.hidden_size;
        let norm = |name: &str, src: &mut dyn WeightSource| {
            let name = format!("{prefix}.{name}");
            if c.family.is_llama_layout() {
                Norm::load_rms(&name, d, c.norm_eps, src, device)
            } else {
                Norm::load_layer(&name, d, c.norm_eps, src, device)
            }
        };
        let input_layernorm = norm("input_layernorm", src)?;
        let post_attention_layernorm = if c.family.is_llama_layout() {
            Some(norm("post_attention_layernorm", src)?)
        } else {
            None
        };
        Ok(Self {
            input_layernorm,
            post_attention_layernorm,
            self_attn: Attention::load(&format!("{prefix}.self_attn"), c, src, device)?,
            mlp: Mlp::load(&format!("{prefix}.mlp"), c, src, device)?,
        })
    }

    pub fn export(&self, prefix: &str, family: Family, out: &mut Vec<NamedTensor>) {
        self.input_layernorm
            .export(&format!("{prefix}.input_layernorm"), out);
        self.self_attn
            .export(&format!("{prefix}.self_attn"), family, out);
        if let Some(n) = &self.post_attention_layernorm {
            n.export(&format!("{prefix}.post_attention_layernorm"), out);
        }
        self.mlp.export(&format!("{prefix}.mlp"), out);
    }

    pub fn forward(
        &self,
        x: Tensor<3>,
        rope: &RopeTables,
        bias: Option<Tensor<4>>,
        cache: Option<(&mut KvCache, usize)>,
    ) -> Tensor<3> {
        let n = self.input_layernorm.forward(x.clone());
        match &self.post_attention_layernorm {
            Some(post) => {
                let h = x + self.self_attn.forward(n, rope, bias, cache);
                let m = self.mlp.forward(post.forward(h.clone()));
                h + m
            }
            None => {
                let a = self.self_attn.forward(n.clone(), rope, bias, cache);
                x + a + self.mlp.forward(n)
            }
        }
    }
}

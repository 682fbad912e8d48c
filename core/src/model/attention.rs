//! Multi-head self-attention with grouped-query key/value heads and rotary positions.
//! Llama names the output projection `o_proj`; Phi calls it `dense` and adds biases;
//! Qwen2 has biases on q/k/v only; Qwen3 normalises each query and key head (RMSNorm over
//! `head_dim`, `q_norm`/`k_norm`) before the rotation.

use burn::module::Module;
use burn::nn::{Linear, RmsNorm, RmsNormConfig};
use burn::tensor::activation::softmax;
use burn::tensor::{DType, Device, Tensor};

use super::cache::{KvCache, SharedPrompts};
use super::config::{Family, ModelConfig};
use super::cpu::shared_attention;
use super::dense::{self, export_linear, load_linear};
use super::mask::window_bias;
use super::norm::in_f32;
use super::rope::{apply_rope, RopeTables};
use super::weights::{named_param, NamedTensor, WeightError, WeightSource};
use crate::tensor::host::{download, upload};

#[derive(Module, Debug)]
pub struct Attention {
    pub q_proj: Linear,
    pub k_proj: Linear,
    pub v_proj: Linear,
    pub o_proj: Linear,
    /// Qwen3 only.
    pub q_norm: Option<RmsNorm>,
    pub k_norm: Option<RmsNorm>,
    pub num_heads: usize,
    pub num_kv_heads: usize,
    pub head_dim: usize,
    pub rotary_dim: usize,
}

fn output_name(family: Family) -> &'static str {
    match family {
        Family::Phi => "dense",
        _ => "o_proj",
    }
}

fn load_head_norm(
    name: &str,
    c: &ModelConfig,
    src: &mut dyn WeightSource,
    device: &Device,
) -> Result<RmsNorm, WeightError> {
    let d = c.head_dim;
    let mut norm = RmsNormConfig::new(d).with_epsilon(c.norm_eps).init(device);
    let w = format!("{name}.weight");
    norm.gamma = named_param(&w, upload(src.take(&w, &[d])?, [d], device));
    Ok(norm)
}

impl Attention {
    pub fn load(
        prefix: &str,
        c: &ModelConfig,
        src: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<Self, WeightError> {
        let bias = c.qkv_bias;
        let q = c.num_attention_heads * c.head_dim;
        let kv = c.num_key_value_heads * c.head_dim;
        let d = c.hidden_size;
        let q_proj = load_linear(&format!("{prefix}.q_proj"), d, q, bias, src, device)?;
        let k_proj = load_linear(&format!("{prefix}.k_proj"), d, kv, bias, src, device)?;
        let v_proj = load_linear(&format!("{prefix}.v_proj"), d, kv, bias, src, device)?;
        let o_name = format!("{prefix}.{}", output_name(c.family));
        let o_proj = load_linear(&o_name, q, d, c.o_bias, src, device)?;
        let (q_norm, k_norm) = if c.qk_norm {
            (
                Some(load_head_norm(&format!("{prefix}.q_norm"), c, src, device)?),
                Some(load_head_norm(&format!("{prefix}.k_norm"), c, src, device)?),
            )
        } else {
            (None, None)
        };
        Ok(Self {
            q_proj,
            k_proj,
            v_proj,
            o_proj,
            q_norm,
            k_norm,
            num_heads: c.num_attention_heads,
            num_kv_heads: c.num_key_value_heads,
            head_dim: c.head_dim,
            rotary_dim: c.rotary_dim(),
        })
    }

    pub fn export(&self, prefix: &str, family: Family, out: &mut Vec<NamedTensor>) {
        export_linear(&format!("{prefix}.q_proj"), &self.q_proj, out);
        export_linear(&format!("{prefix}.k_proj"), &self.k_proj, out);
        export_linear(&format!("{prefix}.v_proj"), &self.v_proj, out);
        export_linear(
            &format!("{prefix}.{}", output_name(family)),
            &self.o_proj,
            out,
        );
        for (name, norm) in [("q_norm", &self.q_norm), ("k_norm", &self.k_norm)] {
            if let Some(n) = norm {
                out.push(NamedTensor {
                    name: format!("{prefix}.{name}.weight"),
                    shape: vec![self.head_dim],
                    values: download(n.gamma.val()),
                });
            }
        }
    }

    /// `x: [batch, len, hidden]`; `bias`: additive mask broadcastable to
    /// `[batch, heads, len, total]` (None when every query may see every key).
    pub fn forward(
        &self,
        x: Tensor<3>,
        rope: &RopeTables,
        bias: Option<Tensor<4>>,
        cache: Option<(&mut KvCache, usize)>,
    ) -> Tensor<3> {
        let [b, s, _] = x.dims();
        let (h, kvh, hd) = (self.num_heads, self.num_kv_heads, self.head_dim);
        // [b, s, heads·hd] → [b, heads, s, hd]. With one new position (decoding) that is a
        // plain reshape; the general swap leaves a strided view, which made appending it to
        // the KV cache (a `cat`) ~30× slower than a contiguous one on the CPU backend.
        let split = |t: Tensor<3>, heads: usize| {
            if s == 1 {
                t.reshape([b, heads, 1, hd])
            } else {
                t.reshape([b, s, heads, hd]).swap_dims(1, 2)
            }
        };
        // The per-head norm acts on the last (head_dim) axis, so the layout does not matter.
        let head_norm = |t: Tensor<4>, norm: &Option<RmsNorm>| match norm {
            Some(n) => in_f32(t, |t| n.forward(t)),
            None => t,
        };
        let [q, k, v] = dense::forward_each([&self.q_proj, &self.k_proj, &self.v_proj], x);
        let q = apply_rope(head_norm(split(q, h), &self.q_norm), rope, self.rotary_dim);
        let k = apply_rope(
            head_norm(split(k, kvh), &self.k_norm),
            rope,
            self.rotary_dim,
        );
        let v = split(v, kvh);
        let (k, v) = match cache {
            Some((cache, layer)) => {
                let (k, v) = cache.append(layer, k, v);
                if let Some(shared) = &cache.shared {
                    assert_eq!(s, 1, "rows continuing shared prompts decode one token");
                    let out = self.attend_shared(q, k, v, shared, layer);
                    return dense::forward(&self.o_proj, out.reshape([b, 1, h * hd]));
                }
                (k, v)
            }
            None => (k, v),
        };
        let t = k.dims()[2];
        // Grouped-query attention: each group of h/kvh query heads shares one kv head.
        // Folding the group into the query length avoids materialising repeated keys.
        let group = h / kvh;
        let q = q.reshape([b, kvh, group * s, hd]);
        // Scores, mask and softmax in f32 whatever the model computes in (a no-op for f32):
        // the f32 mask's large negative value is -inf in f16.
        let scores = q.matmul(k.swap_dims(2, 3)).cast(DType::F32) / (hd as f64).sqrt();
        let scores = match bias {
            Some(bias) => (scores.reshape([b, h, s, t]) + bias).reshape([b, kvh, group * s, t]),
            None => scores,
        };
        let probs = softmax(scores, 3).cast(v.dtype());
        let out = probs.matmul(v).reshape([b, h, s, hd]);
        dense::forward(&self.o_proj, out.swap_dims(1, 2).reshape([b, s, h * hd]))
    }

    /// Attention of one new token per row over its prompt (shared by its group of rows,
    /// [`SharedPrompts`]) and its own cached positions `k, v: [rows, kv_heads, t, hd]`.
    /// `q: [rows, heads, 1, hd]` → `[rows, heads, 1, hd]`. On the CPU one fused pass per
    /// row ([`shared_attention`]); elsewhere [`attend_shared_ops`].
    fn attend_shared(
        &self,
        q: Tensor<4>,
        k: Tensor<4>,
        v: Tensor<4>,
        shared: &SharedPrompts,
        layer: usize,
    ) -> Tensor<4> {
        shared_attention::attend(&q, &k, &v, shared, layer)
            .unwrap_or_else(|| attend_shared_ops(q, k, v, shared, layer, self.num_kv_heads))
    }
}

/// [`Attention::attend_shared`] as tensor ops, for any backend.
///
/// For a group of n rows the n·(heads per kv head) queries of a kv head all meet the same
/// prompt keys, so they are stacked into one `[n·group, hd] × [hd, len]` product per kv
/// head — one matrix product that reads the prompt once — where a per-row cache needs n
/// small products over n copies. One softmax runs over prompt and own keys.
pub(crate) fn attend_shared_ops(
    q: Tensor<4>,
    k: Tensor<4>,
    v: Tensor<4>,
    shared: &SharedPrompts,
    layer: usize,
    kvh: usize,
) -> Tensor<4> {
    let [b, h, _, hd] = q.dims();
    let group = h / kvh;
    let t = k.dims()[2];
    let scale = (hd as f64).sqrt();
    let q = q.reshape([b, kvh, group, hd]);
    // Scores and softmax in f32, as in `Attention::forward`.
    let scores_of =
        |q: Tensor<4>, k: Tensor<4>| q.matmul(k.swap_dims(2, 3)).cast(DType::F32) / scale;
    let own_scores = scores_of(q.clone(), k.clone());
    let mut outs = Vec::new();
    for (p, first, n) in shared.groups() {
        let rows = first..first + n;
        let (pk, pv) = &shared.layers[layer][p];
        let len = shared.lens[p];
        let stacked =
            |x: Tensor<4>, last: usize| x.swap_dims(0, 1).reshape([1, kvh, n * group, last]);
        let unstacked =
            |x: Tensor<4>, last: usize| x.reshape([kvh, n, group, last]).swap_dims(0, 1);
        let qg = stacked(q.clone().slice([rows.clone(), 0..kvh, 0..group, 0..hd]), hd);
        let prompt_scores = unstacked(scores_of(qg, pk.clone()), len);
        let own = own_scores
            .clone()
            .slice([rows.clone(), 0..kvh, 0..group, 0..t]);
        let mut scores = Tensor::cat(vec![prompt_scores, own], 3);
        if let Some(bias) =
            shared.windows[layer].and_then(|w| window_bias(len + t - 1, len + t, w, &q.device()))
        {
            scores = scores + bias;
        }
        let probs = softmax(scores, 3).cast(v.dtype());
        let to_prompt = probs.clone().slice([0..n, 0..kvh, 0..group, 0..len]);
        let to_own = probs.slice([0..n, 0..kvh, 0..group, len..len + t]);
        let from_prompt = unstacked(stacked(to_prompt, len).matmul(pv.clone()), hd);
        let own_v = v.clone().slice([rows, 0..kvh, 0..t, 0..hd]);
        outs.push(from_prompt + to_own.matmul(own_v));
    }
    let out = if outs.len() == 1 {
        outs.pop().expect("one group")
    } else {
        Tensor::cat(outs, 0)
    };
    out.reshape([b, h, 1, hd])
}

#[cfg(test)]
mod tests {
    use burn::tensor::{Device, Tensor};

    use super::attend_shared_ops;
    use crate::model::cache::SharedPrompts;
    use crate::model::cpu::shared_attention;
    use crate::tensor::testing::{assert_close, normal};

    /// The fused pass against the tensor ops, on the views decoding hands it (each
    /// prompt's keys and the rows' own keys are a KV buffer's filled prefix): two prompts
    /// of different lengths, GQA groups of 1 and 4, a window that hides part of a prompt,
    /// one that hides all of it, and one wider than everything; head sizes with their own
    /// 8-lane kernels (32, 64, 128) and others.
    #[test]
    fn shared_attention_matches_the_tensor_ops_on_cache_views() {
        let device = Device::flex();
        let prefix = |t: Tensor<4>, len: usize| {
            let [b, h, _, d] = t.dims();
            t.slice([0..b, 0..h, 0..len, 0..d])
        };
        for (kvh, group, hd, t, window) in [
            (2, 4, 64, 5, None),
            (6, 1, 13, 1, None),
            (2, 2, 16, 7, Some(9)),
            (1, 3, 8, 6, Some(4)),
            (3, 1, 24, 3, Some(100)),
            (2, 2, 32, 9, None),
            (1, 2, 128, 4, Some(10)),
        ] {
            let (lens, rows) = (vec![11, 4], vec![3, 2]);
            let n: usize = rows.iter().sum();
            let q = normal([n, kvh * group, 1, hd], &device);
            let k = prefix(normal([n, kvh, t + 4, hd], &device), t);
            let v = prefix(normal([n, kvh, t + 4, hd], &device), t);
            let kv = |len: usize| {
                (
                    prefix(normal([1, kvh, len + 2, hd], &device), len),
                    prefix(normal([1, kvh, len + 2, hd], &device), len),
                )
            };
            let shared = SharedPrompts {
                layers: vec![lens.iter().map(|&l| kv(l)).collect()],
                lens,
                rows,
                windows: vec![window],
            };
            let fast = shared_attention::attend(&q, &k, &v, &shared, 0)
                .expect("flex tensors take the kernel");
            assert_close(fast, attend_shared_ops(q, k, v, &shared, 0, kvh));
        }
    }
}

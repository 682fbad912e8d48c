//! Feed-forward blocks: SwiGLU (the Llama layout) and fc1 → gelu_new → fc2 (Phi).

use burn::module::Module;
use burn::nn::Linear;
use burn::tensor::activation::silu;
use burn::tensor::{Device, Tensor};

use super::config::{Family, ModelConfig};
use super::cpu::swiglu::silu_mul;
use super::dense::{self, export_linear, load_linear};
use super::weights::{NamedTensor, WeightError, WeightSource};

#[derive(Module, Debug)]
pub struct SwiGlu {
    pub gate_proj: Linear,
    pub up_proj: Linear,
    pub down_proj: Linear,
}

#[derive(Module, Debug)]
pub struct GeluMlp {
    pub fc1: Linear,
    pub fc2: Linear,
}

#[derive(Module, Debug)]
pub enum Mlp {
    SwiGlu(SwiGlu),
    Gelu(GeluMlp),
}

/// `gelu_new` (the tanh approximation): `0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))`.
/// Written with `x·x·x` rather than a float power, which some backends evaluate through
/// `exp(3·ln x)` and so turn negative inputs into NaN.
pub fn gelu_new<const D: usize>(x: Tensor<D>) -> Tensor<D> {
    let sqrt_2_over_pi = (2.0 / std::f64::consts::PI).sqrt();
    let cube = x.clone() * x.clone() * x.clone();
    let inner = (x.clone() + cube * 0.044715) * sqrt_2_over_pi;
    x * (inner.tanh() + 1.0) * 0.5
}

impl Mlp {
    pub fn load(
        prefix: &str,
        c: &ModelConfig,
        src: &mut dyn WeightSource,
        device: &Device,
    ) -> Result<Self, WeightError> {
        let (d, i) = (c.hidden_size, c.intermediate_size);
        Ok(match c.family {
            Family::Llama | Family::Mistral | Family::Qwen2 | Family::Qwen3 => {
                Mlp::SwiGlu(SwiGlu {
                    gate_proj: load_linear(
                        &format!("{prefix}.gate_proj"),
                        d,
                        i,
                        c.mlp_bias,
                        src,
                        device,
                    )?,
                    up_proj: load_linear(
                        &format!("{prefix}.up_proj"),
                        d,
                        i,
                        c.mlp_bias,
                        src,
                        device,
                    )?,
                    down_proj: load_linear(
                        &format!("{prefix}.down_proj"),
                        i,
                        d,
                        c.mlp_bias,
                        src,
                        device,
                    )?,
                })
            }
            Family::Phi => Mlp::Gelu(GeluMlp {
                fc1: load_linear(&format!("{prefix}.fc1"), d, i, true, src, device)?,
                fc2: load_linear(&format!("{prefix}.fc2"), i, d, true, src, device)?,
            }),
        })
    }

    pub fn export(&self, prefix: &str, out: &mut Vec<NamedTensor>) {
        match self {
            Mlp::SwiGlu(SwiGlu {
                gate_proj,
                up_proj,
                down_proj,
            }) => {
                export_linear(&format!("{prefix}.gate_proj"), gate_proj, out);
                export_linear(&format!("{prefix}.up_proj"), up_proj, out);
                export_linear(&format!("{prefix}.down_proj"), down_proj, out);
            }
            Mlp::Gelu(GeluMlp { fc1, fc2 }) => {
                export_linear(&format!("{prefix}.fc1"), fc1, out);
                export_linear(&format!("{prefix}.fc2"), fc2, out);
            }
        }
    }

    pub fn forward(&self, x: Tensor<3>) -> Tensor<3> {
        match self {
            Mlp::SwiGlu(SwiGlu {
                gate_proj,
                up_proj,
                down_proj,
            }) => {
                let [gate, up] = dense::forward_each([gate_proj, up_proj], x);
                let act = silu_mul(&gate, &up).unwrap_or_else(|| silu(gate) * up);
                dense::forward(down_proj, act)
            }
            Mlp::Gelu(GeluMlp { fc1, fc2 }) => {
                dense::forward(fc2, gelu_new(dense::forward(fc1, x)))
            }
        }
    }
}

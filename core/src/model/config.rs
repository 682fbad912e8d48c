//! Model hyperparameters, read from and written to Hugging Face `config.json` keys, so a
//! bundle means the same model to probable and to `transformers`.

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};
use thiserror::Error;

/// The architecture families probable implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    /// `LlamaForCausalLM`: RMSNorm, rotary embeddings, SwiGLU MLP, grouped-query attention.
    Llama,
    /// `PhiForCausalLM` (Phi-1.5): LayerNorm, partial rotary, parallel attention + MLP,
    /// `gelu_new`, biases, dense output head with bias.
    Phi,
}

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
    /// Fraction of each head's dimensions that is rotated (1.0 for Llama).
    pub partial_rotary_factor: f64,
    /// RMSNorm (Llama) or LayerNorm (Phi) epsilon.
    pub norm_eps: f64,
    pub tie_word_embeddings: bool,
    pub max_position_embeddings: usize,
    /// Llama only: biases on q/k/v/o (`attention_bias`) and on the MLP (`mlp_bias`).
    pub attention_bias: bool,
    pub mlp_bias: bool,
    pub bos_token_id: Option<u32>,
    pub eos_token_ids: Vec<u32>,
    pub pad_token_id: Option<u32>,
}

#[derive(Debug, Error, PartialEq)]
pub enum ConfigError {
    #[error("config.json: field `{0}` is missing")]
    Missing(&'static str),
    #[error("config.json: field `{field}` is invalid: {reason}")]
    Invalid { field: &'static str, reason: String },
    #[error("config.json: model_type `{0}` is not supported (supported: llama, phi)")]
    UnsupportedModelType(String),
    #[error("config.json is not valid JSON: {0}")]
    Json(String),
}

fn get<'a>(obj: &'a Map<String, Value>, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn usize_field(obj: &Map<String, Value>, key: &'static str) -> Result<usize, ConfigError> {
    let v = get(obj, key).ok_or(ConfigError::Missing(key))?;
    v.as_u64()
        .filter(|&n| n > 0)
        .map(|n| n as usize)
        .ok_or_else(|| ConfigError::Invalid {
            field: key,
            reason: format!("expected a positive integer, got {v}"),
        })
}

fn opt_usize(obj: &Map<String, Value>, key: &'static str) -> Result<Option<usize>, ConfigError> {
    match get(obj, key) {
        None => Ok(None),
        Some(_) => usize_field(obj, key).map(Some),
    }
}

fn f64_field(obj: &Map<String, Value>, key: &'static str) -> Result<Option<f64>, ConfigError> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| ConfigError::Invalid {
                field: key,
                reason: format!("expected a number, got {v}"),
            }),
    }
}

fn bool_field(obj: &Map<String, Value>, key: &'static str) -> Result<Option<bool>, ConfigError> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v.as_bool().map(Some).ok_or_else(|| ConfigError::Invalid {
            field: key,
            reason: format!("expected true or false, got {v}"),
        }),
    }
}

fn token_ids(obj: &Map<String, Value>, key: &'static str) -> Result<Vec<u32>, ConfigError> {
    let invalid = |v: &Value| ConfigError::Invalid {
        field: key,
        reason: format!("expected a token id or a list of ids, got {v}"),
    };
    match get(obj, key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .map(|v| v.as_u64().map(|x| x as u32).ok_or_else(|| invalid(v)))
            .collect(),
        Some(v) => Ok(vec![v.as_u64().ok_or_else(|| invalid(v))? as u32]),
    }
}

impl ModelConfig {
    /// Parses a Hugging Face `config.json`. Rotary settings are read both from the
    /// classic top-level keys and from transformers 5's `rope_parameters`.
    pub fn from_hf_json(text: &str) -> Result<Self, ConfigError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| ConfigError::Json(e.to_string()))?;
        let obj = value
            .as_object()
            .ok_or_else(|| ConfigError::Json("expected a JSON object".into()))?;
        let model_type = get(obj, "model_type")
            .ok_or(ConfigError::Missing("model_type"))?
            .as_str()
            .unwrap_or_default()
            .to_string();
        let family = match model_type.as_str() {
            "llama" => Family::Llama,
            "phi" => Family::Phi,
            _ => return Err(ConfigError::UnsupportedModelType(model_type)),
        };
        let hidden_size = usize_field(obj, "hidden_size")?;
        let heads = usize_field(obj, "num_attention_heads")?;
        let kv_heads = opt_usize(obj, "num_key_value_heads")?.unwrap_or(heads);
        if heads % kv_heads != 0 {
            return Err(ConfigError::Invalid {
                field: "num_key_value_heads",
                reason: format!("{kv_heads} does not divide num_attention_heads = {heads}"),
            });
        }
        let head_dim = match opt_usize(obj, "head_dim")? {
            Some(d) => d,
            None if hidden_size % heads == 0 => hidden_size / heads,
            None => {
                return Err(ConfigError::Invalid {
                    field: "num_attention_heads",
                    reason: format!("{heads} does not divide hidden_size = {hidden_size}"),
                })
            }
        };
        let rope = get(obj, "rope_parameters").and_then(Value::as_object);
        let rope_f64 = |key: &'static str| -> Result<Option<f64>, ConfigError> {
            match rope {
                Some(r) => match f64_field(r, key)? {
                    Some(x) => Ok(Some(x)),
                    None => f64_field(obj, key),
                },
                None => f64_field(obj, key),
            }
        };
        if let Some(r) = rope {
            if let Some(kind) = get(r, "rope_type").and_then(Value::as_str) {
                if kind != "default" {
                    return Err(ConfigError::Invalid {
                        field: "rope_parameters.rope_type",
                        reason: format!("`{kind}` scaling is not supported (only `default`)"),
                    });
                }
            }
        }
        if get(obj, "rope_scaling").is_some() {
            return Err(ConfigError::Invalid {
                field: "rope_scaling",
                reason: "rotary scaling is not supported".into(),
            });
        }
        let partial_rotary_factor = match family {
            Family::Llama => 1.0,
            Family::Phi => rope_f64("partial_rotary_factor")?.unwrap_or(0.5),
        };
        if !(partial_rotary_factor > 0.0 && partial_rotary_factor <= 1.0) {
            return Err(ConfigError::Invalid {
                field: "partial_rotary_factor",
                reason: format!("{partial_rotary_factor} is not in (0, 1]"),
            });
        }
        let norm_key = match family {
            Family::Llama => "rms_norm_eps",
            Family::Phi => "layer_norm_eps",
        };
        let act = get(obj, "hidden_act").and_then(Value::as_str);
        let expected_act = match family {
            Family::Llama => "silu",
            Family::Phi => "gelu_new",
        };
        if let Some(act) = act {
            if act != expected_act {
                return Err(ConfigError::Invalid {
                    field: "hidden_act",
                    reason: format!(
                        "`{act}` is not supported for {model_type} (expected {expected_act})"
                    ),
                });
            }
        }
        if family == Family::Phi && bool_field(obj, "qk_layernorm")?.unwrap_or(false) {
            return Err(ConfigError::Invalid {
                field: "qk_layernorm",
                reason: "Phi with qk_layernorm is not supported".into(),
            });
        }
        let config = Self {
            family,
            vocab_size: usize_field(obj, "vocab_size")?,
            hidden_size,
            intermediate_size: usize_field(obj, "intermediate_size")?,
            num_hidden_layers: usize_field(obj, "num_hidden_layers")?,
            num_attention_heads: heads,
            num_key_value_heads: kv_heads,
            head_dim,
            rope_theta: rope_f64("rope_theta")?.unwrap_or(10000.0),
            partial_rotary_factor,
            norm_eps: f64_field(obj, norm_key)?.unwrap_or(1e-5),
            tie_word_embeddings: bool_field(obj, "tie_word_embeddings")?.unwrap_or(false),
            max_position_embeddings: opt_usize(obj, "max_position_embeddings")?.unwrap_or(2048),
            attention_bias: bool_field(obj, "attention_bias")?.unwrap_or(false),
            mlp_bias: bool_field(obj, "mlp_bias")?.unwrap_or(false),
            bos_token_id: token_ids(obj, "bos_token_id")?.first().copied(),
            eos_token_ids: token_ids(obj, "eos_token_id")?,
            pad_token_id: token_ids(obj, "pad_token_id")?.first().copied(),
        };
        Ok(config)
    }

    /// The ids that end a generation: `eos_token_id` (one id or a list) of the bundle's
    /// `generation_config.json` when given, else the config's own.
    pub fn generation_eos_ids(&self, generation_config: Option<&Value>) -> Vec<u32> {
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

    /// The HF `config.json` for this model, loadable by `AutoModelForCausalLM`.
    pub fn to_hf_json(&self) -> String {
        let eos = match self.eos_token_ids.as_slice() {
            [] => Value::Null,
            [one] => json!(one),
            many => json!(many),
        };
        let mut v = json!({
            "vocab_size": self.vocab_size,
            "hidden_size": self.hidden_size,
            "intermediate_size": self.intermediate_size,
            "num_hidden_layers": self.num_hidden_layers,
            "num_attention_heads": self.num_attention_heads,
            "num_key_value_heads": self.num_key_value_heads,
            "max_position_embeddings": self.max_position_embeddings,
            "tie_word_embeddings": self.tie_word_embeddings,
            "bos_token_id": self.bos_token_id,
            "eos_token_id": eos,
            "pad_token_id": self.pad_token_id,
            "rope_theta": self.rope_theta,
            "torch_dtype": "float32",
        });
        let obj = v.as_object_mut().expect("object");
        match self.family {
            Family::Llama => {
                obj.insert("model_type".into(), json!("llama"));
                obj.insert("architectures".into(), json!(["LlamaForCausalLM"]));
                obj.insert("hidden_act".into(), json!("silu"));
                obj.insert("rms_norm_eps".into(), json!(self.norm_eps));
                obj.insert("head_dim".into(), json!(self.head_dim));
                obj.insert("attention_bias".into(), json!(self.attention_bias));
                obj.insert("mlp_bias".into(), json!(self.mlp_bias));
                obj.insert(
                    "rope_parameters".into(),
                    json!({"rope_type": "default", "rope_theta": self.rope_theta}),
                );
            }
            Family::Phi => {
                obj.insert("model_type".into(), json!("phi"));
                obj.insert("architectures".into(), json!(["PhiForCausalLM"]));
                obj.insert("hidden_act".into(), json!("gelu_new"));
                obj.insert("layer_norm_eps".into(), json!(self.norm_eps));
                obj.insert(
                    "partial_rotary_factor".into(),
                    json!(self.partial_rotary_factor),
                );
                obj.insert("qk_layernorm".into(), json!(false));
                obj.insert(
                    "rope_parameters".into(),
                    json!({"rope_type": "default", "rope_theta": self.rope_theta,
                           "partial_rotary_factor": self.partial_rotary_factor}),
                );
            }
        }
        serde_json::to_string_pretty(&v).expect("serialisable")
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
        let (attn, mlp, norms) = match self.family {
            Family::Llama => {
                let ab = if self.attention_bias {
                    q + 2 * kv + d
                } else {
                    0
                };
                let mb = if self.mlp_bias {
                    2 * self.intermediate_size + d
                } else {
                    0
                };
                (
                    d * q + 2 * d * kv + q * d + ab,
                    3 * d * self.intermediate_size + mb,
                    2 * d,
                )
            }
            Family::Phi => (
                d * q + 2 * d * kv + q * d + q + 2 * kv + d,
                2 * d * self.intermediate_size + self.intermediate_size + d,
                2 * d,
            ),
        };
        let embed = self.vocab_size * d;
        let head = if self.tie_word_embeddings {
            0
        } else {
            self.vocab_size * d
                + if self.family == Family::Phi {
                    self.vocab_size
                } else {
                    0
                }
        };
        let final_norm = if self.family == Family::Phi { 2 * d } else { d };
        embed + self.num_hidden_layers * (attn + mlp + norms) + final_norm + head
    }
}

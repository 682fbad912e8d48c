//! Reading a Hugging Face `config.json` the way transformers 5 reads it: the same keys,
//! the same defaults per `model_type`, rotary settings from transformers 5's
//! `rope_parameters` or the classic top-level `rope_theta` + `rope_scaling`. Anything a
//! model cannot run with, or that probable does not implement, is refused by name rather
//! than guessed.

use serde_json::{Map, Value};

use super::{ConfigError, Family, ModelConfig, RopeScaling};

type Obj = Map<String, Value>;

fn get<'a>(obj: &'a Obj, key: &str) -> Option<&'a Value> {
    obj.get(key).filter(|v| !v.is_null())
}

fn usize_field(obj: &Obj, key: &'static str) -> Result<usize, ConfigError> {
    let v = get(obj, key).ok_or(ConfigError::Missing(key))?;
    positive_usize(key, v)
}

fn positive_usize(key: &str, v: &Value) -> Result<usize, ConfigError> {
    v.as_u64()
        .filter(|&n| n > 0)
        .map(|n| n as usize)
        .ok_or_else(|| ConfigError::invalid(key, format!("expected a positive integer, got {v}")))
}

fn opt_usize(obj: &Obj, key: &'static str) -> Result<Option<usize>, ConfigError> {
    get(obj, key).map(|v| positive_usize(key, v)).transpose()
}

fn f64_field(obj: &Obj, key: &str, field: &str) -> Result<Option<f64>, ConfigError> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v
            .as_f64()
            .filter(|x| x.is_finite())
            .map(Some)
            .ok_or_else(|| ConfigError::invalid(field, format!("expected a number, got {v}"))),
    }
}

fn positive_f64(obj: &Obj, key: &str, field: &str) -> Result<Option<f64>, ConfigError> {
    match f64_field(obj, key, field)? {
        Some(x) if x <= 0.0 => Err(ConfigError::invalid(field, format!("{x} must be positive"))),
        other => Ok(other),
    }
}

fn bool_field(obj: &Obj, key: &'static str) -> Result<Option<bool>, ConfigError> {
    match get(obj, key) {
        None => Ok(None),
        Some(v) => v
            .as_bool()
            .map(Some)
            .ok_or_else(|| ConfigError::invalid(key, format!("expected true or false, got {v}"))),
    }
}

/// Token ids: one id or a list. A negative `pad_token_id` (old Llama configs write -1)
/// means "no padding token", as in transformers.
fn token_ids(obj: &Obj, key: &'static str) -> Result<Vec<u32>, ConfigError> {
    let invalid = |v: &Value| {
        ConfigError::invalid(
            key,
            format!("expected a token id or a list of ids, got {v}"),
        )
    };
    let one = |v: &Value| -> Result<Option<u32>, ConfigError> {
        if key == "pad_token_id" && v.as_i64().is_some_and(|x| x < 0) {
            return Ok(None);
        }
        v.as_u64()
            .filter(|&x| x <= u32::MAX as u64)
            .map(|x| Some(x as u32))
            .ok_or_else(|| invalid(v))
    };
    match get(obj, key) {
        None => Ok(Vec::new()),
        Some(Value::Array(items)) => Ok(items
            .iter()
            .map(one)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect()),
        Some(v) => Ok(one(v)?.into_iter().collect()),
    }
}

fn family_of(obj: &Obj) -> Result<Family, ConfigError> {
    let model_type = get(obj, "model_type")
        .ok_or(ConfigError::Missing("model_type"))?
        .as_str()
        .ok_or_else(|| ConfigError::invalid("model_type", "expected a string"))?;
    let family = Family::from_model_type(model_type)
        .ok_or_else(|| ConfigError::UnsupportedModelType(model_type.to_string()))?;
    if let Some(archs) = get(obj, "architectures") {
        let names = archs
            .as_array()
            .ok_or_else(|| ConfigError::invalid("architectures", "expected a list of names"))?;
        for name in names {
            let name = name.as_str().unwrap_or_default();
            if name != family.architecture() {
                return Err(ConfigError::invalid(
                    "architectures",
                    format!(
                        "`{name}` does not match model_type `{model_type}` (expected {})",
                        family.architecture()
                    ),
                ));
            }
        }
    }
    Ok(family)
}

/// Rotary settings: `(rope_theta, partial_rotary_factor, scaling)`.
fn rope(obj: &Obj, family: Family, max_pos: usize) -> Result<(f64, f64, RopeScaling), ConfigError> {
    let params = get(obj, "rope_parameters");
    let scaling = get(obj, "rope_scaling");
    let (params, prefix) = match (params, scaling) {
        (Some(p), _) => (Some(p), "rope_parameters"),
        (None, Some(s)) => (Some(s), "rope_scaling"),
        (None, None) => (None, ""),
    };
    let params = match params {
        None => None,
        Some(v) => {
            let p = v
                .as_object()
                .ok_or_else(|| ConfigError::invalid(prefix, "expected an object"))?;
            if p.values().any(Value::is_object) {
                return Err(ConfigError::invalid(
                    prefix,
                    "per-layer-type rotary parameters are not supported",
                ));
            }
            Some(p)
        }
    };
    let field = |key: &str| format!("{prefix}.{key}");
    // A key may sit in the rotary dict (transformers 5) or at the top level (classic).
    let number = |key: &str| -> Result<Option<f64>, ConfigError> {
        if let Some(p) = params {
            if let Some(x) = positive_f64(p, key, &field(key))? {
                return Ok(Some(x));
            }
        }
        positive_f64(obj, key, key)
    };
    let theta = number("rope_theta")?.unwrap_or(10000.0);
    let partial = match family {
        Family::Phi => number("partial_rotary_factor")?.unwrap_or(0.5),
        _ => 1.0,
    };
    if partial > 1.0 {
        return Err(ConfigError::invalid(
            "partial_rotary_factor",
            format!("{partial} is not in (0, 1]"),
        ));
    }
    let kind = params
        .and_then(|p| get(p, "rope_type").or_else(|| get(p, "type")))
        .map(|v| v.as_str().unwrap_or_default().to_string())
        .unwrap_or_else(|| "default".into());
    let required = |key: &str| -> Result<f64, ConfigError> {
        params
            .and_then(|p| positive_f64(p, key, &field(key)).transpose())
            .transpose()?
            .ok_or_else(|| {
                ConfigError::invalid(
                    field(key),
                    format!("missing (needed by rope type `{kind}`)"),
                )
            })
    };
    let scaling = match kind.as_str() {
        "default" => RopeScaling::Default,
        "linear" => RopeScaling::Linear {
            factor: required("factor")?,
        },
        "dynamic" => {
            let factor = required("factor")?;
            if factor < 1.0 {
                return Err(ConfigError::invalid(
                    field("factor"),
                    format!("{factor} < 1 (dynamic NTK scaling only stretches the context)"),
                ));
            }
            RopeScaling::Dynamic {
                factor,
                max_position_embeddings: max_pos,
            }
        }
        "llama3" => {
            let (low, high) = (required("low_freq_factor")?, required("high_freq_factor")?);
            if low >= high {
                return Err(ConfigError::invalid(
                    field("high_freq_factor"),
                    format!("{high} must exceed low_freq_factor = {low}"),
                ));
            }
            let key = "original_max_position_embeddings";
            let original = match params.and_then(|p| get(p, key)) {
                Some(v) => positive_usize(&field(key), v)?,
                None => opt_usize(obj, "original_max_position_embeddings")?.unwrap_or(max_pos),
            };
            RopeScaling::Llama3 {
                factor: required("factor")?,
                low_freq_factor: low,
                high_freq_factor: high,
                original_max_position_embeddings: original,
            }
        }
        other => {
            return Err(ConfigError::invalid(
                field("rope_type"),
                format!("`{other}` is not supported (supported: default, linear, dynamic, llama3)"),
            ))
        }
    };
    Ok((theta, partial, scaling))
}

/// `(sliding_window, sliding_layers)` as transformers 5 derives them per family.
fn sliding(
    obj: &Obj,
    family: Family,
    layers: usize,
) -> Result<(Option<usize>, Vec<bool>), ConfigError> {
    let window_key = "sliding_window";
    match family {
        Family::Llama | Family::Phi => {
            if get(obj, window_key).is_some() {
                return Err(ConfigError::invalid(
                    window_key,
                    format!(
                        "{} has no sliding-window attention (transformers ignores it)",
                        family.architecture()
                    ),
                ));
            }
            Ok((None, vec![false; layers]))
        }
        Family::Mistral => {
            if get(obj, "layer_types").is_some() {
                return Err(ConfigError::invalid(
                    "layer_types",
                    "MistralForCausalLM applies one window to every layer; per-layer types are not supported",
                ));
            }
            // MistralConfig's default is a 4096 window; an explicit null turns it off.
            let window = match obj.get(window_key) {
                None => Some(4096),
                Some(Value::Null) => None,
                Some(v) => Some(positive_usize(window_key, v)?),
            };
            Ok((window, vec![window.is_some(); layers]))
        }
        Family::Qwen2 | Family::Qwen3 => {
            let enabled = bool_field(obj, "use_sliding_window")?.unwrap_or(false);
            let window = match (enabled, get(obj, window_key)) {
                (false, _) => None,
                (true, Some(v)) => Some(positive_usize(window_key, v)?),
                (true, None) => {
                    return Err(ConfigError::invalid(
                        window_key,
                        "missing although use_sliding_window is true",
                    ))
                }
            };
            let kinds = match get(obj, "layer_types") {
                Some(v) => {
                    let list = v.as_array().filter(|l| l.len() == layers).ok_or_else(|| {
                        ConfigError::invalid(
                            "layer_types",
                            format!("expected a list of {layers} layer types"),
                        )
                    })?;
                    list.iter()
                        .enumerate()
                        .map(|(i, k)| match k.as_str() {
                            Some("full_attention") => Ok(false),
                            Some("sliding_attention") => Ok(true),
                            _ => Err(ConfigError::invalid(
                                format!("layer_types[{i}]"),
                                format!(
                                    "{k} is not supported (full_attention or sliding_attention)"
                                ),
                            )),
                        })
                        .collect::<Result<Vec<_>, _>>()?
                }
                None => {
                    let first = match get(obj, "max_window_layers") {
                        Some(v) => v.as_u64().ok_or_else(|| {
                            ConfigError::invalid(
                                "max_window_layers",
                                format!("expected a layer count, got {v}"),
                            )
                        })? as usize,
                        None => 28,
                    };
                    (0..layers)
                        .map(|i| window.is_some() && i >= first)
                        .collect()
                }
            };
            Ok((window, kinds))
        }
    }
}

pub(super) fn from_hf_json(text: &str) -> Result<ModelConfig, ConfigError> {
    let value: Value = serde_json::from_str(text).map_err(|e| ConfigError::Json(e.to_string()))?;
    let obj = value
        .as_object()
        .ok_or_else(|| ConfigError::Json("expected a JSON object".into()))?;
    let family = family_of(obj)?;
    if get(obj, "quantization_config").is_some() {
        return Err(ConfigError::invalid(
            "quantization_config",
            "quantized checkpoints are not supported (dequantize to f32/f16/bf16 first)",
        ));
    }
    let hidden_size = usize_field(obj, "hidden_size")?;
    let heads = usize_field(obj, "num_attention_heads")?;
    let kv_heads = opt_usize(obj, "num_key_value_heads")?.unwrap_or(heads);
    if heads % kv_heads != 0 {
        return Err(ConfigError::invalid(
            "num_key_value_heads",
            format!("{kv_heads} does not divide num_attention_heads = {heads}"),
        ));
    }
    let derived_head_dim = (hidden_size % heads == 0).then_some(hidden_size / heads);
    let head_dim = match (opt_usize(obj, "head_dim")?, family) {
        // PhiForCausalLM always splits hidden_size evenly.
        (Some(d), Family::Phi) if Some(d) != derived_head_dim => {
            return Err(ConfigError::invalid(
                "head_dim",
                format!(
                "{d} != hidden_size / num_attention_heads; Phi does not take an explicit head_dim"
            ),
            ))
        }
        (Some(d), _) => d,
        (None, _) => derived_head_dim.ok_or_else(|| {
            ConfigError::invalid(
                "num_attention_heads",
                format!("{heads} does not divide hidden_size = {hidden_size}"),
            )
        })?,
    };
    let layers = usize_field(obj, "num_hidden_layers")?;
    let max_pos = opt_usize(obj, "max_position_embeddings")?.unwrap_or(2048);
    let (rope_theta, partial_rotary_factor, rope_scaling) = rope(obj, family, max_pos)?;
    let (norm_key, default_eps, expected_act) = match family {
        Family::Phi => ("layer_norm_eps", 1e-5, "gelu_new"),
        _ => ("rms_norm_eps", 1e-6, "silu"),
    };
    if let Some(act) = get(obj, "hidden_act") {
        if act.as_str() != Some(expected_act) {
            return Err(ConfigError::invalid(
                "hidden_act",
                format!(
                    "{act} is not supported for {} (expected {expected_act})",
                    family.model_type()
                ),
            ));
        }
    }
    let attention_bias = bool_field(obj, "attention_bias")?.unwrap_or(false);
    let (qkv_bias, o_bias, mlp_bias, qk_norm) = match family {
        Family::Llama => (
            attention_bias,
            attention_bias,
            bool_field(obj, "mlp_bias")?.unwrap_or(false),
            false,
        ),
        Family::Mistral => (false, false, false, false),
        Family::Qwen2 => (true, false, false, false),
        Family::Qwen3 => (attention_bias, attention_bias, false, true),
        Family::Phi => {
            if bool_field(obj, "qk_layernorm")?.unwrap_or(false) {
                return Err(ConfigError::invalid(
                    "qk_layernorm",
                    "Phi with qk_layernorm is not supported",
                ));
            }
            (true, true, true, false)
        }
    };
    let (sliding_window, sliding_layers) = sliding(obj, family, layers)?;
    let config = ModelConfig {
        family,
        vocab_size: usize_field(obj, "vocab_size")?,
        hidden_size,
        intermediate_size: usize_field(obj, "intermediate_size")?,
        num_hidden_layers: layers,
        num_attention_heads: heads,
        num_key_value_heads: kv_heads,
        head_dim,
        rope_theta,
        rope_scaling,
        partial_rotary_factor,
        norm_eps: positive_f64(obj, norm_key, norm_key)?.unwrap_or(default_eps),
        tie_word_embeddings: bool_field(obj, "tie_word_embeddings")?.unwrap_or(false),
        max_position_embeddings: max_pos,
        qkv_bias,
        o_bias,
        mlp_bias,
        qk_norm,
        sliding_window,
        sliding_layers,
        bos_token_id: token_ids(obj, "bos_token_id")?.first().copied(),
        eos_token_ids: token_ids(obj, "eos_token_id")?,
        pad_token_id: token_ids(obj, "pad_token_id")?.first().copied(),
    };
    if config.rotary_dim() < 2
        || !((config.head_dim as f64 * partial_rotary_factor) as usize).is_multiple_of(2)
    {
        return Err(ConfigError::invalid(
            "head_dim",
            format!(
                "{} rotated dimensions per head (head_dim {} × partial_rotary_factor {}); rotary embeddings need an even number ≥ 2",
                (config.head_dim as f64 * partial_rotary_factor) as usize,
                config.head_dim,
                partial_rotary_factor
            ),
        ));
    }
    let special = [
        (
            "bos_token_id",
            config.bos_token_id.into_iter().collect::<Vec<_>>(),
        ),
        ("eos_token_id", config.eos_token_ids.clone()),
        ("pad_token_id", config.pad_token_id.into_iter().collect()),
    ];
    for (key, ids) in special {
        if let Some(id) = ids.iter().find(|&&id| id as usize >= config.vocab_size) {
            return Err(ConfigError::invalid(
                key,
                format!(
                    "id {id} is outside the vocabulary (vocab_size = {})",
                    config.vocab_size
                ),
            ));
        }
    }
    Ok(config)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base(extra: &str) -> String {
        format!(
            r#"{{"model_type":"llama","vocab_size":64,"hidden_size":32,"intermediate_size":48,
               "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2{extra}}}"#
        )
    }

    fn err(extra: &str) -> String {
        from_hf_json(&base(extra)).unwrap_err().to_string()
    }

    #[test]
    fn llama3_rope_from_both_layouts() {
        let classic = from_hf_json(&base(
            r#","rope_theta":500000.0,"rope_scaling":{"rope_type":"llama3","factor":32.0,
               "low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}"#,
        ))
        .unwrap();
        let v5 = from_hf_json(&base(
            r#","rope_parameters":{"rope_type":"llama3","rope_theta":500000.0,"factor":32.0,
               "low_freq_factor":1.0,"high_freq_factor":4.0,"original_max_position_embeddings":8192}"#,
        ))
        .unwrap();
        assert_eq!(classic, v5);
        assert_eq!(v5.rope_theta, 500000.0);
        assert!(matches!(
            v5.rope_scaling,
            RopeScaling::Llama3 { factor, original_max_position_embeddings: 8192, .. } if factor == 32.0
        ));
    }

    #[test]
    fn unsupported_and_impossible_values_are_named() {
        assert!(err(r#","rope_scaling":{"type":"yarn","factor":4.0}"#)
            .contains("`yarn` is not supported"));
        assert!(err(r#","rope_scaling":{"type":"linear"}"#).contains("rope_scaling.factor"));
        assert!(err(r#","rope_theta":0"#).contains("rope_theta"));
        assert!(err(r#","rope_theta":-1.0"#).contains("must be positive"));
        assert!(err(r#","rms_norm_eps":0"#).contains("rms_norm_eps"));
        assert!(err(r#","bos_token_id":64"#).contains("outside the vocabulary"));
        assert!(err(r#","eos_token_id":[2,99]"#).contains("eos_token_id"));
        assert!(err(r#","architectures":["Qwen2ForCausalLM"]"#).contains("does not match"));
        assert!(err(r#","head_dim":7"#).contains("even number"));
        assert!(err(r#","sliding_window":16"#).contains("sliding"));
        assert!(err(r#","quantization_config":{"bits":4}"#).contains("quantization_config"));
        let llama3_bad = r#","rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":4.0,"high_freq_factor":1.0}"#;
        assert!(err(llama3_bad).contains("high_freq_factor"));
    }

    #[test]
    fn negative_pad_means_none() {
        let c = from_hf_json(&base(r#","pad_token_id":-1"#)).unwrap();
        assert_eq!(c.pad_token_id, None);
    }

    #[test]
    fn qwen2_sliding_layers_follow_max_window_layers() {
        let c = from_hf_json(
            r#"{"model_type":"qwen2","vocab_size":64,"hidden_size":32,"intermediate_size":48,
               "num_hidden_layers":3,"num_attention_heads":4,"use_sliding_window":true,
               "sliding_window":8,"max_window_layers":1}"#,
        )
        .unwrap();
        assert_eq!(c.sliding_window, Some(8));
        assert_eq!(c.sliding_layers, vec![false, true, true]);
        assert!(c.qkv_bias && !c.o_bias);
        assert_eq!(c.window_of_layer(0), None);
        assert_eq!(c.window_of_layer(2), Some(8));
    }

    #[test]
    fn mistral_defaults_to_a_4096_window() {
        let c = from_hf_json(
            r#"{"model_type":"mistral","vocab_size":64,"hidden_size":32,"intermediate_size":48,
               "num_hidden_layers":2,"num_attention_heads":4}"#,
        )
        .unwrap();
        assert_eq!(c.sliding_window, Some(4096));
        assert_eq!(c.norm_eps, 1e-6);
    }
}

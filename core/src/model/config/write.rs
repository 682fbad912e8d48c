//! Writing `config.json` so that transformers 5 rebuilds exactly the model probable ran:
//! every key that changes the computation is written explicitly (no reliance on a
//! class default), rotary settings both nested (`rope_parameters`, transformers 5) and
//! classic (`rope_theta`, `rope_scaling`) for older readers.

use serde_json::{json, Map, Value};

use super::{Family, ModelConfig, RopeScaling};

fn rope_scaling_json(scaling: RopeScaling) -> Option<Map<String, Value>> {
    let v = match scaling {
        RopeScaling::Default => return None,
        RopeScaling::Linear { factor } => json!({"rope_type": "linear", "factor": factor}),
        RopeScaling::Dynamic { factor, .. } => json!({"rope_type": "dynamic", "factor": factor}),
        RopeScaling::Llama3 {
            factor,
            low_freq_factor,
            high_freq_factor,
            original_max_position_embeddings,
        } => json!({
            "rope_type": "llama3",
            "factor": factor,
            "low_freq_factor": low_freq_factor,
            "high_freq_factor": high_freq_factor,
            "original_max_position_embeddings": original_max_position_embeddings,
        }),
    };
    v.as_object().cloned()
}

pub(super) fn to_hf_json(c: &ModelConfig) -> String {
    let eos = match c.eos_token_ids.as_slice() {
        [] => Value::Null,
        [one] => json!(one),
        many => json!(many),
    };
    let mut v = json!({
        "model_type": c.family.model_type(),
        "architectures": [c.family.architecture()],
        "vocab_size": c.vocab_size,
        "hidden_size": c.hidden_size,
        "intermediate_size": c.intermediate_size,
        "num_hidden_layers": c.num_hidden_layers,
        "num_attention_heads": c.num_attention_heads,
        "num_key_value_heads": c.num_key_value_heads,
        "max_position_embeddings": c.max_position_embeddings,
        "tie_word_embeddings": c.tie_word_embeddings,
        "bos_token_id": c.bos_token_id,
        "eos_token_id": eos,
        "pad_token_id": c.pad_token_id,
        "rope_theta": c.rope_theta,
        "torch_dtype": "float32",
    });
    let obj = v.as_object_mut().expect("object");
    let mut rope = json!({"rope_type": "default", "rope_theta": c.rope_theta})
        .as_object()
        .cloned()
        .expect("object");
    if let Some(scaling) = rope_scaling_json(c.rope_scaling) {
        rope.extend(scaling.clone());
        obj.insert("rope_scaling".into(), Value::Object(scaling));
    }
    if c.family == Family::Phi {
        obj.insert("hidden_act".into(), json!("gelu_new"));
        obj.insert("layer_norm_eps".into(), json!(c.norm_eps));
        obj.insert(
            "partial_rotary_factor".into(),
            json!(c.partial_rotary_factor),
        );
        obj.insert("qk_layernorm".into(), json!(false));
        rope.insert(
            "partial_rotary_factor".into(),
            json!(c.partial_rotary_factor),
        );
    } else {
        obj.insert("hidden_act".into(), json!("silu"));
        obj.insert("rms_norm_eps".into(), json!(c.norm_eps));
        obj.insert("head_dim".into(), json!(c.head_dim));
    }
    match c.family {
        Family::Llama => {
            obj.insert("attention_bias".into(), json!(c.qkv_bias));
            obj.insert("mlp_bias".into(), json!(c.mlp_bias));
        }
        Family::Qwen3 => {
            obj.insert("attention_bias".into(), json!(c.qkv_bias));
        }
        Family::Mistral => {
            obj.insert("sliding_window".into(), json!(c.sliding_window));
        }
        Family::Qwen2 | Family::Phi => {}
    }
    if matches!(c.family, Family::Qwen2 | Family::Qwen3) {
        obj.insert(
            "use_sliding_window".into(),
            json!(c.sliding_window.is_some()),
        );
        obj.insert("sliding_window".into(), json!(c.sliding_window));
        let kinds: Vec<&str> = c
            .sliding_layers
            .iter()
            .map(|&s| {
                if s && c.sliding_window.is_some() {
                    "sliding_attention"
                } else {
                    "full_attention"
                }
            })
            .collect();
        // The first sliding layer, for readers that derive layer_types themselves.
        let first = kinds
            .iter()
            .position(|k| *k == "sliding_attention")
            .unwrap_or(c.num_hidden_layers);
        obj.insert("max_window_layers".into(), json!(first));
        obj.insert("layer_types".into(), json!(kinds));
    }
    obj.insert("rope_parameters".into(), Value::Object(rope));
    serde_json::to_string_pretty(&v).expect("serialisable")
}

#[cfg(test)]
mod tests {
    use super::super::ModelConfig;

    #[test]
    fn every_family_round_trips() {
        let cases = [
            r#"{"model_type":"llama","vocab_size":64,"hidden_size":32,"intermediate_size":48,
                "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
                "rope_scaling":{"rope_type":"llama3","factor":8.0,"low_freq_factor":1.0,
                "high_freq_factor":4.0,"original_max_position_embeddings":16},"attention_bias":true}"#,
            r#"{"model_type":"llama","vocab_size":64,"hidden_size":32,"intermediate_size":48,
                "num_hidden_layers":2,"num_attention_heads":4,"rope_scaling":{"type":"dynamic","factor":2.0},
                "max_position_embeddings":8}"#,
            r#"{"model_type":"mistral","vocab_size":64,"hidden_size":32,"intermediate_size":48,
                "num_hidden_layers":2,"num_attention_heads":4,"sliding_window":5,"head_dim":12}"#,
            r#"{"model_type":"qwen2","vocab_size":64,"hidden_size":32,"intermediate_size":48,
                "num_hidden_layers":3,"num_attention_heads":4,"use_sliding_window":true,
                "sliding_window":6,"max_window_layers":2,"tie_word_embeddings":true}"#,
            r#"{"model_type":"qwen3","vocab_size":64,"hidden_size":32,"intermediate_size":48,
                "num_hidden_layers":2,"num_attention_heads":4,"head_dim":24}"#,
            r#"{"model_type":"phi","vocab_size":64,"hidden_size":32,"intermediate_size":48,
                "num_hidden_layers":2,"num_attention_heads":4,"partial_rotary_factor":0.5}"#,
        ];
        for text in cases {
            let c = ModelConfig::from_hf_json(text).unwrap();
            let again = ModelConfig::from_hf_json(&c.to_hf_json()).unwrap();
            assert_eq!(c, again, "{}", c.to_hf_json());
        }
    }
}

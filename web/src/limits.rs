//! What a bundle may be before the page downloads or allocates it: a stated cap on the
//! files (wasm32 has a 4 GiB address space; the CPU fallback holds the file bytes and the
//! f32 weights at once while loading), and the WebGPU adapter's buffer limits (each weight
//! matrix is one storage buffer). A refusal names the file or tensor and the limit.

use probable_core::model::ModelConfig;
use serde::{Deserialize, Serialize};

/// The most bundle bytes (all files together) the page reads.
pub const MAX_BUNDLE_BYTES: u64 = 1536 << 20;

/// The most f32 weight bytes the page builds a model from.
pub const MAX_WEIGHT_BYTES: u64 = 2 << 30;

/// The adapter limits that bound one weight buffer (`GPUAdapter.limits`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdapterLimits {
    pub max_buffer_size: u64,
    pub max_storage_buffer_binding_size: u64,
}

pub fn human(bytes: u64) -> String {
    if bytes >= 1 << 30 {
        format!("{:.2} GiB", bytes as f64 / (1u64 << 30) as f64)
    } else {
        format!("{:.1} MiB", bytes as f64 / (1u64 << 20) as f64)
    }
}

/// Refuses a bundle whose files add up to more than [`MAX_BUNDLE_BYTES`].
pub fn check_bundle_bytes(what: &str, total: u64) -> Result<(), String> {
    if total > MAX_BUNDLE_BYTES {
        return Err(format!(
            "{what}: {} of bundle files, more than the {} this page loads (the weights are held in \
             the page's memory; evaluate larger models natively with `probable eval`)",
            human(total),
            human(MAX_BUNDLE_BYTES)
        ));
    }
    Ok(())
}

/// Refuses, from `config.json` alone, a model whose f32 weights exceed
/// [`MAX_WEIGHT_BYTES`] or whose largest weight matrix exceeds the adapter's buffer limits.
pub fn check_model(
    config_file: &str,
    config: &ModelConfig,
    adapter: Option<&AdapterLimits>,
) -> Result<(), String> {
    let weights = config.parameter_count() as u64 * 4;
    if weights > MAX_WEIGHT_BYTES {
        return Err(format!(
            "{config_file}: {} parameters are {} as f32, more than the {} this page builds a model from",
            config.parameter_count(),
            human(weights),
            human(MAX_WEIGHT_BYTES)
        ));
    }
    if let Some(limits) = adapter {
        let d = config.hidden_size as u64;
        let matrices = [
            (
                "the embedding (vocab_size × hidden_size)",
                config.vocab_size as u64 * d,
            ),
            (
                "an MLP projection (intermediate_size × hidden_size)",
                config.intermediate_size as u64 * d,
            ),
            (
                "the query projection (heads × head_dim × hidden_size)",
                (config.num_attention_heads * config.head_dim) as u64 * d,
            ),
        ];
        let cap = limits
            .max_buffer_size
            .min(limits.max_storage_buffer_binding_size);
        for (name, elements) in matrices {
            let bytes = elements * 4;
            if bytes > cap {
                return Err(format!(
                    "{config_file}: {name} needs a {} buffer, more than this WebGPU adapter allows \
                     ({} per storage buffer); open the page with backend=cpu or use a smaller model",
                    human(bytes),
                    human(cap)
                ));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(vocab: usize, hidden: usize, layers: usize) -> ModelConfig {
        let json = format!(
            r#"{{"model_type":"llama","architectures":["LlamaForCausalLM"],"vocab_size":{vocab},
            "hidden_size":{hidden},"intermediate_size":{},"num_hidden_layers":{layers},
            "num_attention_heads":8,"num_key_value_heads":8,"max_position_embeddings":128,
            "rms_norm_eps":1e-5,"rope_theta":10000.0,"tie_word_embeddings":false}}"#,
            hidden * 4
        );
        ModelConfig::from_hf_json(&json).unwrap()
    }

    #[test]
    fn refuses_with_the_reason() {
        assert!(check_bundle_bytes("x", MAX_BUNDLE_BYTES).is_ok());
        let e = check_bundle_bytes("http://h/m/", MAX_BUNDLE_BYTES + 1).unwrap_err();
        assert!(e.starts_with("http://h/m/: 1.50 GiB"), "{e}");

        let small = config(1024, 128, 2);
        assert!(check_model("config.json", &small, None).is_ok());
        // ~2.7e9 parameters: over the weight cap.
        let big = config(128_256, 4096, 40);
        let e = check_model("config.json", &big, None).unwrap_err();
        assert!(e.contains("parameters") && e.contains("config.json"), "{e}");

        // A 128 MiB binding limit refuses a 128k × 512 f32 embedding (256 MiB).
        let limits = AdapterLimits {
            max_buffer_size: 1 << 30,
            max_storage_buffer_binding_size: 128 << 20,
        };
        let wide = config(128_256, 512, 2);
        let e = check_model("config.json", &wide, Some(&limits)).unwrap_err();
        assert!(e.contains("embedding") && e.contains("128.0 MiB"), "{e}");
        assert!(check_model("config.json", &small, Some(&limits)).is_ok());
    }
}

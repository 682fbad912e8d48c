//! Fixtures shared by the CLI tests.

use std::path::Path;

use burn::tensor::Device;
use probable_core::model::{to_safetensors, CausalLm, ModelConfig, RandomInit, StorageDtype};

/// Writes a 2-layer random Llama over the 300-id fixture tokenizer into `dir` (created).
pub fn tiny_bundle(dir: &Path) {
    let config = ModelConfig::from_hf_json(
        r#"{"model_type":"llama","vocab_size":300,"hidden_size":32,"intermediate_size":64,
            "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
            "max_position_embeddings":256,"bos_token_id":1,"eos_token_id":2,"pad_token_id":0}"#,
    )
    .unwrap();
    let model = CausalLm::load(&config, &mut RandomInit::new(5, 0.3), &Device::flex()).unwrap();
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join("config.json"), config.to_hf_json()).unwrap();
    std::fs::write(
        dir.join("model.safetensors"),
        to_safetensors(&model.export(), StorageDtype::F32),
    )
    .unwrap();
    std::fs::copy(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/tokenizer/tokenizer.json"),
        dir.join("tokenizer.json"),
    )
    .unwrap();
}

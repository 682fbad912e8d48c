//! Fixtures shared by the CLI tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use burn::tensor::Device;
use probable_core::model::{to_safetensors, CausalLm, ModelConfig, RandomInit, StorageDtype};

/// The configuration of [`tiny_bundle`]'s model.
#[allow(dead_code)]
pub fn tiny_config() -> ModelConfig {
    ModelConfig::from_hf_json(
        r#"{"model_type":"llama","vocab_size":300,"hidden_size":32,"intermediate_size":64,
            "num_hidden_layers":2,"num_attention_heads":4,"num_key_value_heads":2,
            "max_position_embeddings":256,"bos_token_id":1,"eos_token_id":2,"pad_token_id":0}"#,
    )
    .unwrap()
}

/// [`tiny_bundle`]'s model, in this process (its weights are stored as f32, so the
/// bundle holds exactly these).
#[allow(dead_code)]
pub fn tiny_model() -> CausalLm {
    CausalLm::load(
        &tiny_config(),
        &mut RandomInit::new(5, 0.3),
        &Device::flex(),
    )
    .unwrap()
}

/// Writes a 2-layer random Llama over the 300-id fixture tokenizer into `dir` (created).
#[allow(dead_code)]
pub fn tiny_bundle(dir: &Path) {
    let config = tiny_config();
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

/// Runs the `probable` binary of this build with `args`, no standard input, and returns what
/// it printed and its exit status.
#[allow(dead_code)]
pub fn probable<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_probable"))
        .args(args)
        .env_remove("PROBABLE_FAILPOINT")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("the probable binary runs")
}

/// A fresh, empty directory for one test: `probable-<test binary>-<pid>-<name>` in the
/// system temp dir (removed first if a killed run left it).
#[allow(dead_code)]
pub fn scratch(name: &str) -> PathBuf {
    let binary = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()))
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("probable-{binary}-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

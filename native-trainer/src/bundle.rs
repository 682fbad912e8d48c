//! Checkpoint bundles on disk: a directory with `config.json`, `model.safetensors`
//! (HF names and layouts), optional `tokenizer.json` and `generation_config.json` —
//! the layout `transformers`' `save_pretrained` writes and `from_pretrained` reads.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::tensor::{DType, Device};
use probable_core::model::{
    shard_checkpoint, CausalLm, CheckpointSource, ModelConfig, ShardIndex, StorageDtype,
    WeightDtype, INDEX_FILE, SINGLE_FILE,
};

use crate::lazy_shards::FileShards;
use probable_core::tokenizer::Tokenizer;

use crate::output::{exchange, step, sync_dir, unique_suffix, write_synced};

pub struct Bundle {
    pub dir: PathBuf,
    pub model: CausalLm,
    pub tokenizer: Option<Tokenizer>,
    pub generation_config: Option<serde_json::Value>,
    /// Storage dtype of the weights on disk (e.g. "F32", "F16").
    pub dtype: String,
    /// How the matrices are held ([`WeightDtype::on`] of what was asked).
    pub held: WeightDtype,
}

impl Bundle {
    pub fn config(&self) -> &ModelConfig {
        self.model.config()
    }

    /// Refuses a bundle whose special ids (BOS, EOS, padding) lie outside its vocabulary:
    /// they would index past the embedding, or never match a generated token.
    pub fn check_special_ids(&self) -> anyhow::Result<()> {
        check_special_ids(&self.dir, self.config(), &self.eos_token_ids())
    }

    /// EOS ids from `generation_config.json`, else from `config.json`.
    pub fn eos_token_ids(&self) -> Vec<u32> {
        self.config()
            .generation_eos_ids(self.generation_config.as_ref())
    }

    pub fn tokenizer(&self) -> Result<&Tokenizer> {
        tokenizer_of(&self.dir, self.tokenizer.as_ref())
    }

    /// What a report records of how the weights were held: `BF16 on disk, held as stored`.
    pub fn weights(&self) -> String {
        format!("{} on disk, held as {}", self.dtype, self.held)
    }
}

/// A bundle without its weights: what a remote engine's client needs (the tokenizer to
/// render prompts and decode answers, the vocabulary to check returned ids against, the
/// EOS ids). `model.safetensors` is not read.
pub struct BundleMeta {
    pub dir: PathBuf,
    pub config: ModelConfig,
    pub tokenizer: Option<Tokenizer>,
    pub generation_config: Option<serde_json::Value>,
}

impl BundleMeta {
    pub fn check_special_ids(&self) -> anyhow::Result<()> {
        check_special_ids(&self.dir, &self.config, &self.eos_token_ids())
    }

    pub fn eos_token_ids(&self) -> Vec<u32> {
        self.config
            .generation_eos_ids(self.generation_config.as_ref())
    }

    pub fn tokenizer(&self) -> Result<&Tokenizer> {
        tokenizer_of(&self.dir, self.tokenizer.as_ref())
    }
}

fn tokenizer_of<'a>(dir: &Path, t: Option<&'a Tokenizer>) -> Result<&'a Tokenizer> {
    t.with_context(|| {
        format!(
            "{}: no tokenizer.json in this bundle (use token ids instead)",
            dir.display()
        )
    })
}

fn check_special_ids(dir: &Path, c: &ModelConfig, eos: &[u32]) -> anyhow::Result<()> {
    let vocab = c.vocab_size;
    let config = dir.join("config.json");
    for (name, id) in [
        ("bos_token_id", c.bos_token_id),
        ("pad_token_id", c.pad_token_id),
    ] {
        if let Some(id) = id.filter(|&i| i as usize >= vocab) {
            anyhow::bail!(
                "{}: {name} = {id} is not below vocab_size = {vocab}",
                config.display()
            );
        }
    }
    if let Some(id) = eos.iter().find(|&&i| i as usize >= vocab) {
        anyhow::bail!(
            "{} (or generation_config.json): eos_token_id {id} is not below vocab_size = {vocab}",
            config.display()
        );
    }
    Ok(())
}

fn read(dir: &Path, name: &str) -> Result<Vec<u8>> {
    let path = dir.join(name);
    fs::read(&path).with_context(|| format!("{}: cannot read", path.display()))
}

/// Builds the model from `model.safetensors`, or — as transformers does when there is
/// none — from the shards `model.safetensors.index.json` names. Returns the model and the
/// storage dtype most of its weights had on disk. Matrices are held as `dtype` asks (on
/// this device: [`WeightDtype::on`]).
fn load_weights(
    dir: &Path,
    config: &ModelConfig,
    device: &Device,
    dtype: WeightDtype,
) -> Result<(CausalLm, String, WeightDtype)> {
    let shards = FileShards::new(dir);
    let source = if dir.join(SINGLE_FILE).is_file() {
        CheckpointSource::single(shards, SINGLE_FILE)
            .with_context(|| format!("{}", dir.display()))?
    } else if dir.join(INDEX_FILE).is_file() {
        let text = String::from_utf8(read(dir, INDEX_FILE)?)
            .with_context(|| format!("{}: not UTF-8", dir.join(INDEX_FILE).display()))?;
        let index = ShardIndex::parse(&text).with_context(|| format!("{}", dir.display()))?;
        CheckpointSource::sharded(shards, &index).with_context(|| format!("{}", dir.display()))?
    } else {
        bail!(
            "{}: no {SINGLE_FILE} and no {INDEX_FILE} (a bundle needs its weights)",
            dir.display()
        );
    };
    let stored = source
        .dtype()
        .unwrap_or_else(|| "unknown".into())
        .to_uppercase();
    let held = dtype.on(device, config.hidden_size);
    check_device_holds(held, device)?;
    let mut source = source.with_dtype(held);
    let model = CausalLm::load(config, &mut source, device)
        .with_context(|| format!("{}", dir.display()))?
        .with_activations(held.activations(device));
    Ok((model, stored, held))
}

/// `--dtype f16` needs a device that computes in f16: on wgpu an adapter with the
/// `SHADER_F16` feature (software Vulkan, lavapipe, has it; some GPUs and browsers do not).
pub fn check_device_holds(held: WeightDtype, device: &Device) -> Result<()> {
    if held == WeightDtype::F16 && !device.supports_dtype(DType::F16) {
        bail!(
            "--dtype f16: this device has no f16 support (a wgpu adapter without SHADER_F16); \
             use --dtype f32"
        );
    }
    Ok(())
}

/// Loads a bundle onto `device`, its matrices held as `dtype` asks (training passes
/// [`WeightDtype::F32`]: its parameters are updated in f32). Every failure names the file
/// (and tensor or field).
pub fn load_bundle(dir: &Path, device: &Device, dtype: WeightDtype) -> Result<Bundle> {
    let meta = load_meta(dir)?;
    let (model, dtype, held) = load_weights(dir, &meta.config, device, dtype)?;
    Ok(Bundle {
        dir: meta.dir,
        model,
        tokenizer: meta.tokenizer,
        generation_config: meta.generation_config,
        dtype,
        held,
    })
}

/// Reads a bundle's configuration, tokenizer and generation config, not its weights.
pub fn load_meta(dir: &Path) -> Result<BundleMeta> {
    if !dir.is_dir() {
        bail!("{}: not a model bundle directory", dir.display());
    }
    let config_text = String::from_utf8(read(dir, "config.json")?)
        .with_context(|| format!("{}: not UTF-8", dir.join("config.json").display()))?;
    let config = ModelConfig::from_hf_json(&config_text)
        .with_context(|| format!("{}", dir.join("config.json").display()))?;
    let tokenizer = match fs::read(dir.join("tokenizer.json")) {
        Ok(bytes) => {
            let t = Tokenizer::from_json(&bytes)
                .with_context(|| format!("{}", dir.join("tokenizer.json").display()))?;
            if t.vocab_size() > config.vocab_size {
                bail!(
                    "{}: the tokenizer has {} ids but the model's embedding has only {} rows",
                    dir.join("tokenizer.json").display(),
                    t.vocab_size(),
                    config.vocab_size
                );
            }
            Some(t)
        }
        Err(_) => None,
    };
    let generation_config = match fs::read(dir.join("generation_config.json")) {
        Ok(bytes) => Some(serde_json::from_slice(&bytes).with_context(|| {
            format!(
                "{}: malformed JSON",
                dir.join("generation_config.json").display()
            )
        })?),
        Err(_) => None,
    };
    Ok(BundleMeta {
        dir: dir.to_path_buf(),
        config,
        tokenizer,
        generation_config,
    })
}

/// The files of a bundle as `save_pretrained` names them: `config.json`,
/// `model.safetensors`, `generation_config.json` and (given one) `tokenizer.json`.
pub fn bundle_files(
    model: &CausalLm,
    tokenizer: Option<&Tokenizer>,
    dtype: StorageDtype,
    max_shard_bytes: Option<u64>,
) -> Result<Vec<(String, Vec<u8>)>> {
    let config = model.config();
    let mut generation = serde_json::json!({ "_from_model_config": true });
    if let Some(b) = config.bos_token_id {
        generation["bos_token_id"] = b.into();
    }
    if let [e] = config.eos_token_ids.as_slice() {
        generation["eos_token_id"] = (*e).into();
    } else if !config.eos_token_ids.is_empty() {
        generation["eos_token_id"] = config.eos_token_ids.clone().into();
    }
    let mut files = vec![
        ("config.json".to_string(), config.to_hf_json().into_bytes()),
        (
            "generation_config.json".to_string(),
            serde_json::to_vec_pretty(&generation)?,
        ),
    ];
    files.extend(shard_checkpoint(model.export(), dtype, max_shard_bytes));
    if let Some(t) = tokenizer {
        files.push(("tokenizer.json".to_string(), t.to_json()?.into_bytes()));
    }
    Ok(files)
}

/// Creates `dir` (which must not exist) holding `files`, each flushed to disk.
pub fn write_dir(dir: &Path, files: &[(String, Vec<u8>)]) -> Result<()> {
    step(&format!("create {}", dir.display()));
    fs::create_dir(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    for (name, bytes) in files {
        step(&format!("write {}", dir.join(name).display()));
        write_synced(&dir.join(name), bytes)?;
    }
    sync_dir(dir);
    Ok(())
}

/// Writes a bundle atomically: everything goes to a temporary sibling directory that
/// then takes the place of `dir` in one step (an exchange of the two directories where
/// the filesystem offers one), so `dir` holds at every instant either the old bundle or
/// the new one. A directory that exists and is not a bundle is never replaced.
pub fn save_bundle(
    dir: &Path,
    model: &CausalLm,
    tokenizer: Option<&Tokenizer>,
    dtype: StorageDtype,
    extra: &[(&str, Vec<u8>)],
) -> Result<()> {
    save_bundle_sharded(dir, model, tokenizer, dtype, None, extra)
}

/// As [`save_bundle`], with the weights split into shards of at most `max_shard_bytes`
/// (plus `model.safetensors.index.json`) when they exceed it.
pub fn save_bundle_sharded(
    dir: &Path,
    model: &CausalLm,
    tokenizer: Option<&Tokenizer>,
    dtype: StorageDtype,
    max_shard_bytes: Option<u64>,
    extra: &[(&str, Vec<u8>)],
) -> Result<()> {
    let parent = dir
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    let name = dir
        .file_name()
        .with_context(|| format!("{} is not a directory path", dir.display()))?
        .to_string_lossy()
        .to_string();
    let exists = dir.symlink_metadata().is_ok();
    if exists {
        if !dir.is_dir() {
            bail!("{}: exists and is not a directory", dir.display());
        }
        let empty = fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .next()
            .is_none();
        if !empty && !dir.join("config.json").is_file() {
            bail!(
                "{}: exists and is not a model bundle (no config.json); refusing to replace it",
                dir.display()
            );
        }
    }
    let suffix = unique_suffix();
    let tmp = parent.join(format!(".{name}.tmp-{suffix}"));
    let old = parent.join(format!(".{name}.old-{suffix}"));
    let _ = fs::remove_dir_all(&tmp);
    let mut files = bundle_files(model, tokenizer, dtype, max_shard_bytes)?;
    // An extra file replaces a generated one of the same name (e.g. the source bundle's
    // own generation_config.json).
    files.retain(|(n, _)| !extra.iter().any(|(e, _)| e == n));
    files.extend(extra.iter().map(|(n, b)| (n.to_string(), b.clone())));
    write_dir(&tmp, &files)?;
    if exists {
        step(&format!("exchange {} and {}", tmp.display(), dir.display()));
        if exchange(&tmp, dir)? {
            sync_dir(parent);
            step(&format!("remove the old bundle {}", tmp.display()));
            let _ = fs::remove_dir_all(&tmp);
            return Ok(());
        }
        // No atomic exchange here: two renames, the old bundle kept until the new one is in.
        fs::rename(dir, &old).with_context(|| format!("cannot replace {}", dir.display()))?;
    }
    fs::rename(&tmp, dir).with_context(|| format!("cannot move bundle into {}", dir.display()))?;
    sync_dir(parent);
    let _ = fs::remove_dir_all(&old);
    Ok(())
}

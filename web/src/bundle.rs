//! Loading a model bundle in the worker, from a URL base (a shipped demo bundle, or any
//! static host with CORS) or from files the visitor picked: `config.json`, the weights
//! (`model.safetensors`, or the shards `model.safetensors.index.json` names),
//! `tokenizer.json`, and optionally `generation_config.json`, `tokenizer_config.json` and
//! `chat_template.jinja`. Limits are checked from `config.json` and the file sizes before
//! the weights are read.

use std::collections::BTreeMap;

use burn::tensor::Device;
use js_sys::Uint8Array;
use probable_core::model::weights::InMemory;
use probable_core::model::weights::ShardIndex;
use probable_core::model::{load_model, load_sharded, CausalLm, ModelConfig};
use probable_core::prompt::ChatConfig;
use probable_core::tokenizer::Tokenizer;
use wasm_bindgen_futures::JsFuture;
use web_sys::File;

use crate::fetch;
use crate::limits::{check_bundle_bytes, check_model, AdapterLimits, MAX_BUNDLE_BYTES};
use crate::protocol::ModelInfo;

/// A model ready to evaluate.
pub struct Loaded {
    pub info: ModelInfo,
    pub model: CausalLm,
    pub tokenizer: Tokenizer,
    pub eos: Vec<u32>,
    pub chat: ChatConfig,
}

/// Where the bundle's files are read from.
pub enum Reader {
    Http {
        base: String,
    },
    Files {
        label: String,
        files: BTreeMap<String, File>,
    },
}

impl Reader {
    /// Local files by their base name (a folder pick gives `dir/config.json`).
    pub fn files(label: String, files: Vec<File>) -> Self {
        let files = files
            .into_iter()
            .map(|f| {
                let name = f.name();
                let base = name.rsplit('/').next().unwrap_or(&name).to_string();
                (base, f)
            })
            .collect();
        Self::Files { label, files }
    }

    fn describe(&self, name: &str) -> String {
        match self {
            Self::Http { base } => format!("{base}{name}"),
            Self::Files { label, .. } => format!("{label}/{name}"),
        }
    }

    async fn read_file(&self, name: &str, file: &File) -> Result<Vec<u8>, String> {
        let buffer = JsFuture::from(file.array_buffer())
            .await
            .map_err(|e| format!("{}: cannot read the file ({e:?})", self.describe(name)))?;
        Ok(Uint8Array::new(&buffer).to_vec())
    }

    /// A file's text, `None` when it is absent.
    async fn optional_text(&self, name: &str) -> Result<Option<String>, String> {
        match self {
            Self::Http { base } => fetch::optional_text(&format!("{base}{name}")).await,
            Self::Files { files, .. } => match files.get(name) {
                None => Ok(None),
                Some(f) => {
                    let bytes = self.read_file(name, f).await?;
                    String::from_utf8(bytes)
                        .map(Some)
                        .map_err(|_| format!("{}: not UTF-8 text", self.describe(name)))
                }
            },
        }
    }

    async fn text(&self, name: &str) -> Result<String, String> {
        self.optional_text(name).await?.ok_or_else(|| match self {
            Self::Http { base } => format!("{base}{name}: HTTP 404 Not Found"),
            Self::Files { label, files } => format!(
                "{label}: no `{name}` among the files given ({})",
                files.keys().cloned().collect::<Vec<_>>().join(", ")
            ),
        })
    }

    /// A file's bytes with progress; `cap` bounds what may still be read.
    async fn bytes(
        &self,
        name: &str,
        cap: u64,
        progress: &dyn Fn(&str, u64, Option<u64>),
    ) -> Result<Vec<u8>, String> {
        match self {
            Self::Http { base } => {
                fetch::bytes(&format!("{base}{name}"), cap, &|d, t| progress(name, d, t)).await
            }
            Self::Files { files, .. } => {
                let f = files
                    .get(name)
                    .ok_or_else(|| format!("{}: not among the files given", self.describe(name)))?;
                let size = f.size() as u64;
                progress(name, 0, Some(size));
                let bytes = self.read_file(name, f).await?;
                progress(name, size, Some(size));
                Ok(bytes)
            }
        }
    }

    /// Total size of the local files (checked before any is read).
    fn local_total(&self) -> Option<u64> {
        match self {
            Self::Files { files, .. } => Some(files.values().map(|f| f.size() as u64).sum()),
            Self::Http { .. } => None,
        }
    }
}

/// What may still be read of a bundle once `read` bytes of it were.
fn left(read: u64) -> u64 {
    MAX_BUNDLE_BYTES.saturating_sub(read)
}

/// `config.json`, read and checked against the limits (and the local files' total size)
/// before anything larger is read.
async fn read_config(
    label: &str,
    reader: &Reader,
    adapter: Option<&AdapterLimits>,
    status: &dyn Fn(String),
) -> Result<String, String> {
    if let Some(total) = reader.local_total() {
        check_bundle_bytes(label, total)?;
    }
    status(format!("{label}: config"));
    let config_name = reader.describe("config.json");
    let config_json = reader.text("config.json").await?;
    let config =
        ModelConfig::from_hf_json(&config_json).map_err(|e| format!("{config_name}: {e}"))?;
    check_model(&config_name, &config, adapter)?;
    Ok(config_json)
}

/// The weights (one file, or the shards an index names) built into the model, within what
/// is left of the bundle's byte budget after the `read` bytes already read; the model and
/// the bytes read in all.
async fn read_weights(
    label: &str,
    reader: &Reader,
    config_json: &str,
    mut read: u64,
    device: &Device,
    status: &dyn Fn(String),
    progress: &dyn Fn(&str, u64, Option<u64>),
) -> Result<(CausalLm, u64), String> {
    status(format!("{label}: weights"));
    let index_name = "model.safetensors.index.json";
    let model = match reader.optional_text(index_name).await? {
        Some(index_json) => {
            let index = ShardIndex::parse(&index_json)
                .map_err(|e| format!("{}: {e}", reader.describe(index_name)))?;
            let mut shards = Vec::new();
            for file in index.files() {
                let bytes = reader.bytes(file, left(read), progress).await?;
                read += bytes.len() as u64;
                shards.push((file.to_string(), bytes));
            }
            status(format!(
                "{label}: building the model ({} shards, {:.1} MB)",
                shards.len(),
                read as f64 / 1e6
            ));
            let source = InMemory::new(shards.iter().map(|(n, b)| (n.clone(), b.as_slice())));
            load_sharded(config_json, &index_json, source, device)
                .map_err(|e| format!("{}: {e}", reader.describe(index_name)))?
        }
        None => {
            let weights_name = reader.describe("model.safetensors");
            let weights = reader
                .bytes("model.safetensors", left(read), progress)
                .await?;
            read += weights.len() as u64;
            status(format!(
                "{label}: building the model ({:.1} MB of weights)",
                weights.len() as f64 / 1e6
            ));
            load_model(config_json, &weights, device).map_err(|e| format!("{weights_name}: {e}"))?
        }
    };
    Ok((model, read))
}

/// What the page shows of a loaded model.
fn info(label: &str, model: &CausalLm, chat_template: bool, bytes: u64) -> ModelInfo {
    ModelInfo {
        label: label.to_string(),
        family: format!("{:?}", model.config().family),
        parameters: model.config().parameter_count(),
        vocab_size: model.config().vocab_size,
        chat_template,
        bytes,
    }
}

/// The model alone, for a helper worker of the CPU pool: it draws token ids and never
/// renders a prompt or decodes an answer, so it reads no tokenizer (a real one is megabytes
/// of JSON, parsed and held once per helper) and no chat settings. The bundle was checked
/// whole by the model worker's [`load`].
pub async fn load_model_alone(
    label: &str,
    reader: &Reader,
    device: &Device,
    status: &dyn Fn(String),
    progress: &dyn Fn(&str, u64, Option<u64>),
) -> Result<(CausalLm, ModelInfo), String> {
    let config_json = read_config(label, reader, None, status).await?;
    let (model, read) = read_weights(
        label,
        reader,
        &config_json,
        config_json.len() as u64,
        device,
        status,
        progress,
    )
    .await?;
    let info = info(label, &model, false, read);
    Ok((model, info))
}

/// Reads and builds the bundle; `status` and `progress` hear where it is.
pub async fn load(
    label: &str,
    reader: &Reader,
    device: &Device,
    adapter: Option<&AdapterLimits>,
    status: &dyn Fn(String),
    progress: &dyn Fn(&str, u64, Option<u64>),
) -> Result<Loaded, String> {
    let config_json = read_config(label, reader, adapter, status).await?;
    let generation = match reader.optional_text("generation_config.json").await? {
        Some(t) => Some(
            serde_json::from_str::<serde_json::Value>(&t)
                .map_err(|e| format!("{}: {e}", reader.describe("generation_config.json")))?,
        ),
        None => None,
    };
    let mut chat = match reader.optional_text("tokenizer_config.json").await? {
        Some(t) => ChatConfig::from_tokenizer_config(&reader.describe("tokenizer_config.json"), &t)
            .map_err(|e| e.to_string())?,
        None => ChatConfig::default(),
    };
    if let Some(t) = reader.optional_text("chat_template.jinja").await? {
        chat.chat_template = Some(t);
    }
    let mut read = config_json.len() as u64;

    status(format!("{label}: tokenizer"));
    let tokenizer_name = reader.describe("tokenizer.json");
    let tokenizer_bytes = reader.bytes("tokenizer.json", left(read), progress).await?;
    read += tokenizer_bytes.len() as u64;
    let tokenizer =
        Tokenizer::from_json(&tokenizer_bytes).map_err(|e| format!("{tokenizer_name}: {e}"))?;
    drop(tokenizer_bytes);
    // `tokenizers` builds some of its state on first use: a byte-level pre-tokenizer compiles
    // its Unicode regex (~50 ms in a fresh wasm instance, before the optimising compiler has
    // seen it) and its byte tables. Built here, while the page says "tokenizer", rather than
    // at the first evaluation's start, where the greedy answer and every CPU helper wait on
    // the prompt's ids (Chromium profile of a 2-worker run). A failure here would fail the
    // evaluation's own encode the same way, so it is reported there.
    if let Ok(ids) = tokenizer.encode("Where was the author born?") {
        let _ = tokenizer.decode(&ids);
    }

    let (model, read) =
        read_weights(label, reader, &config_json, read, device, status, progress).await?;
    if tokenizer.vocab_size() > model.config().vocab_size {
        return Err(format!(
            "{tokenizer_name}: {} ids, but the model's embedding has only {} rows",
            tokenizer.vocab_size(),
            model.config().vocab_size
        ));
    }
    let eos = model.config().generation_eos_ids(generation.as_ref());
    let info = info(label, &model, chat.chat_template.is_some(), read);
    Ok(Loaded {
        info,
        model,
        tokenizer,
        eos,
        chat,
    })
}

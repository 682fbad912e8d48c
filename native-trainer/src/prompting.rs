//! `--template NAME|FILE`, `--system`, `--date-string`: which prompt format a command uses,
//! resolved against a bundle's chat configuration (`chat_template.jinja`, else
//! `tokenizer_config.json`'s `chat_template`, with its BOS/EOS strings), and the
//! `probable.json` a trained bundle records it in.

use std::fs;
use std::path::Path;

use anyhow::{Context, Result};
use probable_core::prompt::{
    resolve, with_options, ChatConfig, ChatOptions, Prompt, TemplateSpec, PRESETS,
};
use serde::{Deserialize, Serialize};

/// The file beside config.json that records how a bundle was trained.
pub const RECORD: &str = "probable.json";

#[derive(clap::Args, Clone, Debug, Default)]
pub struct TemplateArgs {
    /// Prompt format: qa, phi, chat (the bundle's chat template), llama2-chat, raw, or a Jinja
    /// chat-template FILE. Default: what the bundle was trained with (probable.json), else qa.
    #[arg(long, value_name = "NAME|FILE")]
    pub template: Option<String>,
    /// System message for chat templates (default "You are a helpful assistant."; "" for none).
    #[arg(long)]
    pub system: Option<String>,
    /// `date_string` for chat templates (default "10 Apr 2025", open-unlearning's).
    #[arg(long)]
    pub date_string: Option<String>,
}

impl TemplateArgs {
    pub fn options(&self) -> ChatOptions {
        ChatOptions {
            system: self.system.clone(),
            date_string: self.date_string.clone(),
        }
    }
}

/// What a bundle's `probable.json` holds.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// The prompt format the bundle was finetuned or unlearned with.
    pub prompt: Prompt,
}

/// Largest bundle prompt file read (`tokenizer_config.json`, `chat_template.jinja`,
/// `probable.json`): real ones are kilobytes (a tokenizer_config with a large added-token
/// table a few MB); a bigger one is refused before it is read into memory.
const MAX_PROMPT_FILE: u64 = 64 << 20;

/// `fs::read_to_string`, refusing a file over [`MAX_PROMPT_FILE`] by name.
fn read_capped(path: &Path) -> std::io::Result<String> {
    let len = fs::metadata(path)?.len();
    if len > MAX_PROMPT_FILE {
        return Err(std::io::Error::other(format!(
            "{len} bytes, more than the {MAX_PROMPT_FILE} a prompt file may have"
        )));
    }
    fs::read_to_string(path)
}

/// The chat template and special-token strings of the bundle in `dir` (all optional).
pub fn chat_config(dir: &Path) -> Result<ChatConfig> {
    let config_path = dir.join("tokenizer_config.json");
    let mut config = match read_capped(&config_path) {
        Ok(text) => ChatConfig::from_tokenizer_config(&config_path.display().to_string(), &text)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => ChatConfig::default(),
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", config_path.display())),
    };
    let jinja = dir.join("chat_template.jinja");
    match read_capped(&jinja) {
        Ok(text) => config.chat_template = Some(text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
        Err(e) => return Err(e).with_context(|| format!("{}: cannot read", jinja.display())),
    }
    Ok(config)
}

/// The prompt format recorded in `dir/probable.json`, if the bundle has one.
pub fn recorded(dir: &Path) -> Result<Option<Prompt>> {
    let path = dir.join(RECORD);
    match read_capped(&path) {
        Ok(text) => {
            let r: Record = serde_json::from_str(&text).with_context(|| {
                format!(
                    "{}: malformed (expected {{\"prompt\": ..}})",
                    path.display()
                )
            })?;
            r.prompt
                .validate()
                .with_context(|| format!("{}", path.display()))?;
            Ok(Some(r.prompt))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("{}: cannot read", path.display())),
    }
}

/// Resolves `--template` NAME or FILE; `chat` gives the bundle's chat configuration and is
/// called only for `chat` and template files — a text preset never reads
/// `tokenizer_config.json`, so a broken one cannot break `qa` or `llama2-chat`.
pub fn resolve_spec(
    template: &str,
    options: &ChatOptions,
    bundle_name: &str,
    chat: impl FnOnce() -> Result<ChatConfig>,
) -> Result<Prompt> {
    let spec = if PRESETS.contains(&template) || !Path::new(template).exists() {
        TemplateSpec::Preset(template.to_string())
    } else {
        let source = read_capped(Path::new(template))
            .with_context(|| format!("--template {template}: cannot read"))?;
        TemplateSpec::File {
            path: template.to_string(),
            source,
        }
    };
    let needs_chat = match &spec {
        TemplateSpec::Preset(name) => name == "chat",
        TemplateSpec::File { .. } => true,
    };
    let config = if needs_chat {
        chat()?
    } else {
        ChatConfig::default()
    };
    Ok(resolve(&spec, bundle_name, &config, options)?)
}

/// The prompt a command uses on the bundle in `dir`: `--template` when given, else the one
/// the bundle records, else `fallback` (a text preset name).
pub fn prompt_for_bundle(args: &TemplateArgs, dir: &Path, fallback: &str) -> Result<Prompt> {
    let name = dir.display().to_string();
    let chat = || chat_config(dir);
    match &args.template {
        Some(t) => resolve_spec(t, &args.options(), &name, chat),
        None => match recorded(dir)? {
            Some(p) => Ok(with_options(p, &args.options())
                .with_context(|| format!("{}: the recorded prompt", dir.join(RECORD).display()))?),
            None => resolve_spec(fallback, &args.options(), &name, chat),
        },
    }
}

/// `probable.json` bytes recording `prompt`.
pub fn record_bytes(prompt: &Prompt) -> Result<Vec<u8>> {
    Ok(serde_json::to_vec_pretty(&Record {
        prompt: prompt.clone(),
    })?)
}

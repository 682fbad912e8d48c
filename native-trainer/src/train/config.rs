//! Training configuration: TOML presets mirroring the reference's hydra configs, every
//! field overridable with `--set section.key=value`. Unknown keys are errors.

use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct TrainConfig {
    pub model: ModelSection,
    pub data: DataSection,
    pub train: OptimSection,
    #[serde(default)]
    pub unlearn: UnlearnSection,
    #[serde(default)]
    pub prompt: PromptSection,
    pub output: OutputSection,
}

/// The prompt format training examples are built with (and the bundle records).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct PromptSection {
    /// qa, phi, chat, llama2-chat, raw or a Jinja chat-template file. Default: the format
    /// `model.from` records in its probable.json, else qa.
    #[serde(default)]
    pub template: Option<String>,
    /// System message for chat templates ("" for none; default "You are a helpful assistant.").
    #[serde(default)]
    pub system: Option<String>,
    /// `date_string` for chat templates (default "10 Apr 2025").
    #[serde(default)]
    pub date_string: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct ModelSection {
    /// Start from this bundle (finetune a pretrained model; unlearn a finetuned one).
    #[serde(default)]
    pub from: Option<PathBuf>,
    /// Or initialise randomly with this HF-style architecture (`config.json` keys) …
    #[serde(default)]
    pub architecture: Option<toml::Table>,
    /// … and this tokenizer.
    #[serde(default)]
    pub tokenizer: Option<PathBuf>,
    /// Standard deviation of the random initialisation.
    #[serde(default = "default_init_std")]
    pub init_std: f64,
}

fn default_init_std() -> f64 {
    0.02
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct DataSection {
    /// A QA file or a directory of split files (TOFU layout).
    pub path: PathBuf,
    /// Finetuning split.
    #[serde(default = "default_split")]
    pub split: String,
    #[serde(default = "default_forget")]
    pub forget_split: String,
    #[serde(default = "default_retain")]
    pub retain_split: String,
    pub max_length: usize,
    /// Record field holding the question (default `question`, or `prompt`).
    #[serde(default)]
    pub question_key: Option<String>,
    /// Record field holding the answer (default `answer`, or `response`).
    #[serde(default)]
    pub answer_key: Option<String>,
}

fn default_split() -> String {
    "full".into()
}
fn default_forget() -> String {
    "forget10".into()
}
fn default_retain() -> String {
    "retain90".into()
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OptimSection {
    pub lr: f64,
    pub epochs: usize,
    pub batch_size: usize,
    #[serde(default = "one")]
    pub grad_accum: usize,
    #[serde(default)]
    pub weight_decay: f64,
    /// Linear warmup length in epochs (the reference: one epoch).
    #[serde(default = "one_f")]
    pub warmup_epochs: f64,
    /// Global gradient-norm clip; 0 disables.
    #[serde(default = "one_f")]
    pub clip_norm: f64,
    #[serde(default)]
    pub seed: u64,
}

fn one() -> usize {
    1
}
fn one_f() -> f64 {
    1.0
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    Ga,
    Gd,
    Npo,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum EntropyPositions {
    /// Every position of the batch, question and padding included (the reference).
    All,
    /// Answer tokens only.
    Answer,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct UnlearnSection {
    #[serde(default = "default_method")]
    pub method: Method,
    /// NPO temperature β.
    #[serde(default = "default_beta")]
    pub beta: f64,
    /// Weight λ of the retain cross-entropy (GD, NPO).
    #[serde(default = "one_f")]
    pub retain_weight: f64,
    /// The paper's entropy optimisation: + λ_f·H(forget) + λ_r·H(retain).
    #[serde(default = "yes")]
    pub entropy: bool,
    #[serde(default = "one_f")]
    pub lambda_forget: f64,
    #[serde(default = "default_lambda_r")]
    pub lambda_retain: f64,
    #[serde(default = "default_positions")]
    pub entropy_positions: EntropyPositions,
    /// Divergence guard: stop when the forget cross-entropy exceeds this.
    #[serde(default = "default_bound")]
    pub forget_loss_bound: f64,
}

fn default_method() -> Method {
    Method::Ga
}
fn default_beta() -> f64 {
    0.05
}
fn yes() -> bool {
    true
}
fn default_lambda_r() -> f64 {
    -0.25
}
fn default_positions() -> EntropyPositions {
    EntropyPositions::Answer
}
fn default_bound() -> f64 {
    100.0
}

impl Default for UnlearnSection {
    fn default() -> Self {
        toml::from_str("").expect("all fields have defaults")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct OutputSection {
    pub dir: PathBuf,
    /// Write a checkpoint every this many optimizer steps (0: only at the end).
    #[serde(default)]
    pub save_every: usize,
}

/// Presets shipped in the binary: `--config phi-GA` etc.
pub const PRESETS: &[(&str, &str)] = &[
    (
        "demo-unlearn",
        include_str!("../../configs/demo-unlearn.toml"),
    ),
    ("phi", include_str!("../../configs/phi.toml")),
    ("phi-GA", include_str!("../../configs/phi-GA.toml")),
    ("phi-GD", include_str!("../../configs/phi-GD.toml")),
    ("phi-NPO", include_str!("../../configs/phi-NPO.toml")),
    ("tiny", include_str!("../../configs/tiny.toml")),
    (
        "tiny-unlearn",
        include_str!("../../configs/tiny-unlearn.toml"),
    ),
];

/// Loads a preset name or a TOML file, then applies `section.key=value` overrides.
pub fn load_config(name_or_path: &str, overrides: &[String]) -> Result<TrainConfig> {
    let (origin, text) = config_text(name_or_path, "--config")?;
    parse_config(&origin, &text, overrides)
}

/// The text of a preset or a TOML file, and its name for errors (`flag` names the option
/// or field it came from).
pub fn config_text(name_or_path: &str, flag: &str) -> Result<(String, String)> {
    preset_or_file(name_or_path, PRESETS, "preset", flag)
}

/// The text of the preset `name_or_path` in `presets` (called `kind` in messages), else of
/// the file at that path, and its name for errors.
pub fn preset_or_file(
    name_or_path: &str,
    presets: &[(&str, &str)],
    kind: &str,
    flag: &str,
) -> Result<(String, String)> {
    match presets.iter().find(|(n, _)| *n == name_or_path) {
        Some((n, t)) => Ok((format!("{kind} `{n}`"), t.to_string())),
        None => {
            let p = Path::new(name_or_path);
            if !p.is_file() {
                let names: Vec<&str> = presets.iter().map(|(n, _)| *n).collect();
                bail!(
                    "{flag} {name_or_path}: no such file and no such {kind} ({kind}s: {})",
                    names.join(", ")
                );
            }
            Ok((
                p.display().to_string(),
                std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read {}", p.display()))?,
            ))
        }
    }
}

/// Parses TOML text (named `origin` in errors) and applies overrides.
pub fn parse_config(origin: &str, text: &str, overrides: &[String]) -> Result<TrainConfig> {
    let mut value: toml::Table =
        toml::from_str(text).with_context(|| format!("{origin}: invalid TOML"))?;
    for o in overrides {
        apply_override(&mut value, o)?;
    }
    config_from_table(origin, value)
}

/// Deserialises and validates a configuration table (named `origin` in errors).
pub fn config_from_table(origin: &str, table: toml::Table) -> Result<TrainConfig> {
    let config: TrainConfig = toml::Value::Table(table)
        .try_into()
        .with_context(|| format!("{origin}: invalid configuration"))?;
    validate(&config).with_context(|| format!("{origin}: invalid configuration"))?;
    Ok(config)
}

fn apply_override(table: &mut toml::Table, o: &str) -> Result<()> {
    let (key, raw) = o
        .split_once('=')
        .with_context(|| format!("--set {o}: expected section.key=value"))?;
    // Parse the value as TOML (numbers, booleans, strings); bare words become strings.
    let value: toml::Value = toml::from_str::<toml::Table>(&format!("v = {raw}"))
        .ok()
        .and_then(|mut t| t.remove("v"))
        .unwrap_or_else(|| toml::Value::String(raw.trim().to_string()));
    set_field(table, key.trim(), value).with_context(|| format!("--set {o}"))
}

/// Sets the dotted field `section.key` of a configuration table to `value` (what
/// `--set section.key=value` does, with the value already parsed).
pub fn set_field(table: &mut toml::Table, key: &str, value: toml::Value) -> Result<()> {
    let parts: Vec<&str> = key.split('.').collect();
    let mut node = table;
    for part in &parts[..parts.len() - 1] {
        node = node
            .entry(part.to_string())
            .or_insert_with(|| toml::Value::Table(Default::default()))
            .as_table_mut()
            .with_context(|| format!("`{part}` is not a section"))?;
    }
    node.insert(parts[parts.len() - 1].to_string(), value);
    Ok(())
}

pub fn validate(c: &TrainConfig) -> Result<()> {
    let t = &c.train;
    if !(t.lr.is_finite() && t.lr > 0.0) {
        bail!("train.lr = {}: must be a positive number", t.lr);
    }
    if t.epochs == 0 || t.batch_size == 0 || t.grad_accum == 0 {
        bail!("train.epochs, train.batch_size and train.grad_accum must be >= 1");
    }
    if !(t.weight_decay >= 0.0 && t.warmup_epochs >= 0.0 && t.clip_norm >= 0.0) {
        bail!("train.weight_decay, train.warmup_epochs and train.clip_norm must be >= 0");
    }
    if c.data.max_length < 2 {
        bail!("data.max_length = {}: must be >= 2", c.data.max_length);
    }
    let u = &c.unlearn;
    if u.beta.is_nan() || u.beta <= 0.0 {
        bail!("unlearn.beta = {}: must be > 0", u.beta);
    }
    if c.model.from.is_none() && (c.model.architecture.is_none() || c.model.tokenizer.is_none()) {
        bail!("model: give `from` (a bundle) or both `architecture` and `tokenizer`");
    }
    Ok(())
}

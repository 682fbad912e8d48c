//! What a run starts from: the model and tokenizer — the checkpoint of a resumed run, the
//! bundle `model.from`, or a random model of `model.architecture` — the frozen reference
//! NPO compares against, and the prompt format with the files that carry it into the
//! trained bundle.

use std::fs;
use std::path::Path;

use anyhow::{bail, Context, Result};
use burn::tensor::Device;
use probable_core::model::{CausalLm, ModelConfig, RandomInit};
use probable_core::prompt::{ChatConfig, Prompt};
use probable_core::tokenizer::Tokenizer;

use super::config::{Method, TrainConfig};
use super::mode::Mode;
use crate::bundle::load_bundle;
use crate::prompting::{prompt_for_bundle, record_bytes, resolve_spec, TemplateArgs};
use probable_core::model::WeightDtype;

/// Where the model a run trains comes from.
pub(super) enum ModelSource<'a> {
    /// The checkpoint `dir` of a resumed run, saved after `step` optimizer steps.
    Checkpoint { dir: &'a Path, step: usize },
    /// A bundle (`model.from`): a pretrained or finetuned model.
    Bundle(&'a Path),
    /// A model of `model.architecture` with random weights, over `model.tokenizer`.
    Random(&'a TrainConfig),
}

/// The model being trained, its tokenizer, and the optimizer steps already taken.
pub(super) struct Loaded {
    pub model: CausalLm,
    pub tokenizer: Tokenizer,
    pub start_step: usize,
}

impl<'a> ModelSource<'a> {
    /// The source of a run of `config` that continues from `checkpoint` (dir, step) if any.
    pub fn of(config: &'a TrainConfig, checkpoint: Option<(&'a Path, usize)>) -> Self {
        match (checkpoint, &config.model.from) {
            (Some((dir, step)), _) => ModelSource::Checkpoint { dir, step },
            (None, Some(from)) => ModelSource::Bundle(from),
            (None, None) => ModelSource::Random(config),
        }
    }

    /// Loads the model onto the autodiff device `ad`.
    pub fn load(self, ad: &Device) -> Result<Loaded> {
        let (model, tokenizer, start_step) = match self {
            ModelSource::Checkpoint { dir, step } => {
                let b = load_bundle(dir, ad, WeightDtype::F32).with_context(|| {
                    format!("--resume: no usable checkpoint in {}", dir.display())
                })?;
                let tok = b
                    .tokenizer
                    .clone()
                    .context("checkpoint has no tokenizer.json")?;
                (b.model, tok, step)
            }
            ModelSource::Bundle(from) => {
                let b = load_bundle(from, ad, WeightDtype::F32)?;
                let tok = b.tokenizer.clone().with_context(|| {
                    format!("{}: training needs tokenizer.json", from.display())
                })?;
                (b.model, tok, 0)
            }
            ModelSource::Random(config) => {
                let arch = config.model.architecture.as_ref().expect("validated");
                let json = serde_json::to_string(arch)?;
                let mc = ModelConfig::from_hf_json(&json).context("model.architecture")?;
                let tok_path = config.model.tokenizer.as_ref().expect("validated");
                let tok = Tokenizer::from_json(
                    &fs::read(tok_path)
                        .with_context(|| format!("{}: cannot read", tok_path.display()))?,
                )
                .with_context(|| format!("{}", tok_path.display()))?;
                if tok.vocab_size() > mc.vocab_size {
                    bail!(
                        "model.architecture.vocab_size = {} is smaller than the tokenizer's {} ids",
                        mc.vocab_size,
                        tok.vocab_size()
                    );
                }
                let m = CausalLm::load(
                    &mc,
                    &mut RandomInit::new(config.train.seed, config.model.init_std as f32),
                    ad,
                )?;
                (m, tok, 0)
            }
        };
        Ok(Loaded {
            model,
            tokenizer,
            start_step,
        })
    }
}

/// The frozen reference of NPO: the starting model, without autodiff, on `device`; `None`
/// for every other mode.
pub(super) fn npo_reference(
    config: &TrainConfig,
    mode: Mode,
    device: &Device,
) -> Result<Option<CausalLm>> {
    Ok(match mode {
        Mode::Unlearn(Method::Npo) => {
            let from = config
                .model
                .from
                .as_ref()
                .context("NPO needs model.from (the finetuned reference)")?;
            Some(load_bundle(from, device, WeightDtype::F32)?.model)
        }
        _ => None,
    })
}

/// Extra files of a trained bundle: `probable.json` (the prompt format) and the starting
/// bundle's chat files, so transformers and `--template chat` find them too.
pub(super) type ExtraFiles = Vec<(&'static str, Vec<u8>)>;

/// The prompt format of `config.prompt`, resolved against `model.from` (whose recorded
/// format is the default), and the extra files the trained bundle gets.
pub(super) fn training_prompt(config: &TrainConfig) -> Result<(Prompt, ExtraFiles)> {
    let p = &config.prompt;
    let args = TemplateArgs {
        template: p.template.clone(),
        system: p.system.clone(),
        date_string: p.date_string.clone(),
    };
    let mut extra: ExtraFiles = Vec::new();
    let prompt = match &config.model.from {
        Some(from) => {
            for f in ["tokenizer_config.json", "chat_template.jinja"] {
                if let Ok(bytes) = fs::read(from.join(f)) {
                    extra.push((f, bytes));
                }
            }
            prompt_for_bundle(&args, from, "qa")?
        }
        None => resolve_spec(
            p.template.as_deref().unwrap_or("qa"),
            &args.options(),
            "model.architecture (a random model has no chat template)",
            || Ok(ChatConfig::default()),
        )?,
    };
    extra.push(("probable.json", record_bytes(&prompt)?));
    Ok((prompt, extra))
}

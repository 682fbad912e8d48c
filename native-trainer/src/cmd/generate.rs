//! `probable generate`: one continuation of a prompt, greedy or sampled.

use std::path::PathBuf;

use anyhow::{bail, Result};
use probable_core::sample::{no_progress, sample_prompt, DecodeConfig, Strategy};

use crate::bundle::load_bundle;
use crate::device::{device, DeviceArg, DtypeArg};
use crate::prompting::{chat_config, resolve_spec, TemplateArgs};

#[derive(clap::Args)]
pub struct Args {
    /// Bundle directory (config.json, model.safetensors, optional tokenizer.json).
    #[arg(long)]
    pub model: PathBuf,
    /// Prompt text (needs tokenizer.json in the bundle).
    #[arg(
        long,
        conflicts_with = "prompt_ids",
        required_unless_present = "prompt_ids"
    )]
    pub prompt: Option<String>,
    /// Prompt as comma-separated token ids, e.g. 1,403,29 (works without a tokenizer).
    #[arg(long, value_delimiter = ',')]
    pub prompt_ids: Option<Vec<u32>>,
    #[arg(long, default_value_t = 64)]
    pub max_new_tokens: usize,
    /// Greedy decoding (the default unless --temperature is given).
    #[arg(long, conflicts_with_all = ["temperature", "top_p", "seed"])]
    pub greedy: bool,
    #[arg(long, allow_negative_numbers = true)]
    pub temperature: Option<f64>,
    /// Nucleus mass in (0, 1] (default 1: no cut); needs --temperature.
    #[arg(long, allow_negative_numbers = true, requires = "temperature")]
    pub top_p: Option<f64>,
    /// Sampling seed; needs --temperature.
    #[arg(long, default_value_t = 0, requires = "temperature")]
    pub seed: u64,
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// How the checkpoint's matrices are held: as stored (bf16 stays bf16 on the CPU) or f32.
    #[arg(long, value_enum, default_value = "stored")]
    pub dtype: DtypeArg,
    /// Print {"text": .., "token_ids": [..]} (new tokens only).
    #[arg(long)]
    pub json: bool,
    /// Wrap --prompt in a prompt format (default raw: the text as it is, no BOS).
    #[command(flatten)]
    pub template: TemplateArgs,
}

pub fn run(args: Args) -> Result<()> {
    let format = resolve_spec(
        args.template.template.as_deref().unwrap_or("raw"),
        &args.template.options(),
        &args.model.display().to_string(),
        || chat_config(&args.model),
    )?;
    if args.prompt_ids.is_some() && args.template.template.is_some() {
        bail!("--template applies to --prompt text, not to --prompt-ids");
    }
    let device = device(args.device)?;
    let bundle = load_bundle(&args.model, &device, args.dtype.into())?;
    let vocab = bundle.config().vocab_size;
    bundle.check_special_ids()?;
    let prompt = match (&args.prompt, &args.prompt_ids) {
        (Some(text), _) => {
            format.encode_prompt(bundle.tokenizer()?, text, bundle.config().bos_token_id)?
        }
        (None, Some(ids)) => ids.clone(),
        (None, None) => bail!("give --prompt or --prompt-ids"),
    };
    if let Some(bad) = prompt.iter().find(|&&t| t as usize >= vocab) {
        if args.prompt.is_some() {
            bail!(
                "--prompt: {} produced token id {bad}, outside the model's vocabulary (vocab_size = {vocab}): the tokenizer does not match the model",
                args.model.join("tokenizer.json").display()
            );
        }
        bail!("--prompt-ids: token id {bad} is outside the vocabulary (size {vocab})");
    }
    let strategy = match args.temperature {
        Some(temperature) if !args.greedy => Strategy::Sample {
            temperature,
            top_p: args.top_p.unwrap_or(1.0),
            top_k: None,
        },
        _ => Strategy::Greedy,
    };
    let config = DecodeConfig {
        strategy,
        adaptive: None,
        max_new_tokens: args.max_new_tokens,
        eos_token_ids: bundle.eos_token_ids(),
        seed: args.seed,
    };
    let out = pollster::block_on(sample_prompt(
        &bundle.model,
        &prompt,
        0,
        0..1,
        &config,
        1,
        &mut no_progress,
    ))?;
    let tokens = &out[0].tokens;
    let text = match &bundle.tokenizer {
        Some(t) => Some(t.decode(tokens)?),
        None => None,
    };
    if args.json {
        crate::output::emit(&format!(
            "{}\n",
            serde_json::json!({ "text": text, "token_ids": tokens })
        ));
    } else {
        match text {
            Some(t) => crate::output::emit(&format!("{t}\n")),
            None => crate::output::emit(&format!(
                "{}\n",
                tokens
                    .iter()
                    .map(u32::to_string)
                    .collect::<Vec<_>>()
                    .join(",")
            )),
        }
    }
    Ok(())
}

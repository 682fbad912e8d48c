//! `probable prompt`: the prompt exactly as `eval` would feed it to a bundle — its text and
//! ids (BOS included where the format or template adds one). Reads only config.json,
//! tokenizer.json and the chat files, never the weights.

use std::fs;
use std::path::PathBuf;

use anyhow::{Context, Result};
use probable_core::model::ModelConfig;
use probable_core::tokenizer::Tokenizer;

use crate::prompting::{prompt_for_bundle, TemplateArgs};

#[derive(clap::Args)]
pub struct Args {
    /// Bundle directory (config.json and tokenizer.json are read).
    #[arg(long)]
    pub model: PathBuf,
    #[command(flatten)]
    pub template: TemplateArgs,
    /// The question to wrap.
    #[arg(long)]
    pub question: String,
    /// Print {"text": .., "ids": [..], "template": ..}.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    if !args.model.is_dir() {
        anyhow::bail!("{}: not a model bundle directory", args.model.display());
    }
    let prompt = prompt_for_bundle(&args.template, &args.model, "qa")?;
    let config_path = args.model.join("config.json");
    let config_text = fs::read_to_string(&config_path)
        .with_context(|| format!("{}: cannot read", config_path.display()))?;
    let config = ModelConfig::from_hf_json(&config_text)
        .with_context(|| format!("{}", config_path.display()))?;
    let tok_path = args.model.join("tokenizer.json");
    let tokenizer = Tokenizer::from_json(
        &fs::read(&tok_path).with_context(|| format!("{}: cannot read", tok_path.display()))?,
    )
    .with_context(|| format!("{}", tok_path.display()))?;
    let text = prompt.render(&args.question)?;
    let ids = prompt.encode_prompt(&tokenizer, &args.question, config.bos_token_id)?;
    if args.json {
        crate::output::emit(&format!(
            "{}\n",
            serde_json::json!({ "text": text, "ids": ids, "template": prompt.name() })
        ));
    } else {
        crate::output::emit(&format!(
            "template: {}\n---\n{text}\n---\nids ({}): {}\n",
            prompt.name(),
            ids.len(),
            ids.iter().map(u32::to_string).collect::<Vec<_>>().join(",")
        ));
    }
    Ok(())
}

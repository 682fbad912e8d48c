//! `probable inspect`: what a bundle holds.

use std::path::PathBuf;

use anyhow::Result;

use crate::bundle::load_bundle;
use crate::device::{device, DeviceArg};
use probable_core::model::WeightDtype;

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: Args) -> Result<()> {
    let bundle = load_bundle(&args.model, &device(DeviceArg::Cpu)?, WeightDtype::Stored)?;
    let c = bundle.config();
    let info = serde_json::json!({
        "architecture": c.family.architecture(),
        "parameters": c.parameter_count(),
        "dtype": bundle.dtype,
        "vocab_size": c.vocab_size,
        "tokenizer_vocab_size": bundle.tokenizer.as_ref().map(|t| t.vocab_size()),
        "hidden_size": c.hidden_size,
        "layers": c.num_hidden_layers,
        "attention_heads": c.num_attention_heads,
        "kv_heads": c.num_key_value_heads,
        "head_dim": c.head_dim,
        "intermediate_size": c.intermediate_size,
        "rope_theta": c.rope_theta,
        "rotary_dim": c.rotary_dim(),
        "rope_scaling": c.rope_scaling,
        "sliding_window": c.sliding_window,
        "sliding_layers": c.sliding_layers.iter().filter(|&&s| s).count(),
        "tied_embeddings": c.tie_word_embeddings,
        "max_position_embeddings": c.max_position_embeddings,
        "eos_token_ids": bundle.eos_token_ids(),
    });
    if args.json {
        crate::output::emit(&format!("{info}\n"));
    } else {
        for (k, v) in info.as_object().expect("object") {
            crate::output::emit(&format!("{k:<24} {v}\n"));
        }
    }
    Ok(())
}

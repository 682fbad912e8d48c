//! `probable export`: re-save a bundle (e.g. as f16 for the web app) in HF format.

use std::path::PathBuf;

use anyhow::{Context, Result};
use probable_core::model::StorageDtype;

use crate::bundle::{load_bundle, save_bundle_sharded};
use crate::device::{device, DeviceArg};
use probable_core::model::WeightDtype;

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum DtypeArg {
    F32,
    F16,
    Bf16,
}

#[derive(clap::Args)]
pub struct Args {
    #[arg(long)]
    pub model: PathBuf,
    #[arg(long)]
    pub out: PathBuf,
    #[arg(long, value_enum, default_value = "f32")]
    pub dtype: DtypeArg,
    /// Split the weights into shards of at most this size (e.g. 5GB, 500MB, 2GiB) with a
    /// `model.safetensors.index.json`, as `save_pretrained(max_shard_size=…)` does.
    #[arg(long, value_parser = parse_size)]
    pub max_shard_size: Option<u64>,
}

fn parse_size(text: &str) -> Result<u64, String> {
    probable_core::model::parse_shard_size(text)
}

/// Files of a bundle that are not rebuilt from the model but decide how it is prompted and
/// when it stops: the recorded prompt format, the chat template and its special tokens, and
/// the generation settings (EOS ids). An export without them once prompted a chat model
/// with `qa` and failed `--template chat` with "no chat template".
pub const CARRIED: [&str; 5] = [
    crate::prompting::RECORD,
    "tokenizer_config.json",
    "chat_template.jinja",
    "special_tokens_map.json",
    "generation_config.json",
];

pub fn run(args: Args) -> Result<()> {
    let bundle = load_bundle(&args.model, &device(DeviceArg::Cpu)?, WeightDtype::Stored)?;
    let mut carried: Vec<(&str, Vec<u8>)> = Vec::new();
    for name in CARRIED {
        let path = args.model.join(name);
        match std::fs::read(&path) {
            Ok(bytes) => carried.push((name, bytes)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e).with_context(|| format!("{}: cannot read", path.display())),
        }
    }
    let dtype = match args.dtype {
        DtypeArg::F32 => StorageDtype::F32,
        DtypeArg::F16 => StorageDtype::F16,
        DtypeArg::Bf16 => StorageDtype::BF16,
    };
    save_bundle_sharded(
        &args.out,
        &bundle.model,
        bundle.tokenizer.as_ref(),
        dtype,
        args.max_shard_size,
        &carried,
    )?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

//! `probable export`: re-save a bundle (e.g. as f16 for the web app) in HF format.

use std::path::PathBuf;

use anyhow::Result;
use probable_core::model::StorageDtype;

use crate::bundle::{load_bundle, save_bundle};
use crate::device::{device, DeviceArg};

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
}

pub fn run(args: Args) -> Result<()> {
    let bundle = load_bundle(&args.model, &device(DeviceArg::Cpu)?)?;
    let dtype = match args.dtype {
        DtypeArg::F32 => StorageDtype::F32,
        DtypeArg::F16 => StorageDtype::F16,
        DtypeArg::Bf16 => StorageDtype::BF16,
    };
    save_bundle(
        &args.out,
        &bundle.model,
        bundle.tokenizer.as_ref(),
        dtype,
        &[],
    )?;
    eprintln!("wrote {}", args.out.display());
    Ok(())
}

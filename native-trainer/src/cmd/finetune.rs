//! `probable finetune`: train a causal LM on QA data (TOFU format).

use anyhow::Result;

use crate::device::{device, DeviceArg};
use crate::train::{load_config, train, Mode};

#[derive(clap::Args)]
pub struct Args {
    /// A preset (phi, tiny) or a TOML file.
    #[arg(long)]
    pub config: String,
    /// Override any field, e.g. --set train.lr=1e-4 --set output.dir=runs/x (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Continue from output.dir/checkpoint.
    #[arg(long)]
    pub resume: bool,
    /// Stop after this many optimizer steps (a checkpoint is written; continue with --resume).
    #[arg(long)]
    pub stop_after: Option<usize>,
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: DeviceArg,
}

pub fn run(args: Args) -> Result<()> {
    let config = load_config(&args.config, &args.overrides)?;
    let summary = train(
        &config,
        Mode::Finetune,
        &device(args.backend)?,
        args.resume,
        args.stop_after,
    )?;
    eprintln!(
        "finetuned {} steps; final loss {:.4}; model in {}",
        summary.steps,
        summary.losses.last().copied().unwrap_or(f64::NAN),
        summary.output.display()
    );
    Ok(())
}

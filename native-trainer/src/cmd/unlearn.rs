//! `probable unlearn`: remove a forget split with GA, GD or NPO, optionally with the
//! paper's entropy optimisation.

use anyhow::Result;

use crate::device::{device, DeviceArg};
use crate::train::{load_config, train, Method, Mode};

#[derive(clap::Args)]
pub struct Args {
    /// A preset (phi-GA, phi-GD, phi-NPO, tiny-unlearn) or a TOML file.
    #[arg(long)]
    pub config: String,
    /// Overrides the config's unlearn.method.
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// Add λ_f·H(forget) + λ_r·H(retain) (overrides the config).
    #[arg(long, conflicts_with = "no_entropy")]
    pub entropy: bool,
    #[arg(long)]
    pub no_entropy: bool,
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub overrides: Vec<String>,
    #[arg(long)]
    pub resume: bool,
    /// Stop after this many optimizer steps (a checkpoint is written; continue with --resume).
    #[arg(long)]
    pub stop_after: Option<usize>,
    #[arg(long, value_enum, default_value = "cpu")]
    pub backend: DeviceArg,
}

pub fn run(args: Args) -> Result<()> {
    let mut config = load_config(&args.config, &args.overrides)?;
    if let Some(m) = args.method {
        config.unlearn.method = m;
    }
    if args.entropy {
        config.unlearn.entropy = true;
    }
    if args.no_entropy {
        config.unlearn.entropy = false;
    }
    let method = config.unlearn.method;
    let summary = train(
        &config,
        Mode::Unlearn(method),
        &device(args.backend)?,
        args.resume,
        args.stop_after,
    )?;
    eprintln!(
        "unlearned ({method:?}, entropy {}) for {} steps; model in {}",
        config.unlearn.entropy,
        summary.steps,
        summary.output.display()
    );
    Ok(())
}

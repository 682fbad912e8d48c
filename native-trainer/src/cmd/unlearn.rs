//! `probable unlearn`: remove a forget split with GA, GD or NPO, optionally with the
//! paper's entropy optimisation.

use anyhow::Result;

use super::finetune::RunArgs;
use crate::train::{Method, Mode};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
    /// Overrides the config's unlearn.method.
    #[arg(long, value_enum)]
    pub method: Option<Method>,
    /// Add λ_f·H(forget) + λ_r·H(retain) (overrides the config).
    #[arg(long, conflicts_with = "no_entropy")]
    pub entropy: bool,
    #[arg(long)]
    pub no_entropy: bool,
}

pub fn run(args: Args) -> Result<()> {
    let (config, summary) = args.run.train(|config| {
        if let Some(m) = args.method {
            config.unlearn.method = m;
        }
        if args.entropy || args.no_entropy {
            config.unlearn.entropy = args.entropy;
        }
        Mode::Unlearn(config.unlearn.method)
    })?;
    eprintln!(
        "unlearned ({:?}, entropy {}) for {} steps; model in {}",
        config.unlearn.method,
        config.unlearn.entropy,
        summary.steps,
        summary.output.display()
    );
    Ok(())
}

//! `probable finetune`: train a causal LM on QA data (TOFU format).

use anyhow::Result;

use crate::device::{device, DeviceArg};
use crate::prompting::TemplateArgs;
use crate::train::run::TrainSummary;
use crate::train::{load_config, train, Mode, Start, TrainConfig};

/// Options shared by `finetune` and `unlearn`.
#[derive(clap::Args)]
pub struct RunArgs {
    /// A preset (phi, tiny, phi-GA, phi-GD, phi-NPO, tiny-unlearn, demo-unlearn) or a TOML file.
    #[arg(long)]
    pub config: String,
    /// Override any field, e.g. --set train.lr=1e-4 --set output.dir=runs/x (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Continue the run in output.dir (from its checkpoint) with the same configuration.
    #[arg(long, conflicts_with = "overwrite")]
    pub resume: bool,
    /// Replace the run output.dir holds (its checkpoints, log and bundle).
    #[arg(long)]
    pub overwrite: bool,
    /// With --resume: let this field differ from the run's configuration (train.epochs,
    /// output.save_every or unlearn.forget_loss_bound; repeatable). Recorded in run.json.
    #[arg(long, value_name = "FIELD", requires = "resume")]
    pub allow_change: Vec<String>,
    /// Stop after this many optimizer steps (a checkpoint is written; continue with --resume).
    #[arg(long)]
    pub stop_after: Option<usize>,
    /// Where to train (`--backend`, its old name, still works).
    #[arg(long, alias = "backend", value_enum, default_value = "cpu")]
    pub device: DeviceArg,
    /// Overrides the config's [prompt] section.
    #[command(flatten)]
    pub template: TemplateArgs,
}

impl RunArgs {
    /// Loads the configuration and trains in `mode`, with `adjust` applied to the config.
    pub fn train(
        &self,
        mode: impl FnOnce(&mut TrainConfig) -> Mode,
    ) -> Result<(TrainConfig, TrainSummary)> {
        let mut config = load_config(&self.config, &self.overrides)?;
        let t = &self.template;
        if t.template.is_some() {
            config.prompt.template = t.template.clone();
        }
        if t.system.is_some() {
            config.prompt.system = t.system.clone();
        }
        if t.date_string.is_some() {
            config.prompt.date_string = t.date_string.clone();
        }
        let mode = mode(&mut config);
        let summary = train(
            &config,
            mode,
            &device(self.device)?,
            &if self.resume {
                Start::Resume {
                    allow_change: self.allow_change.clone(),
                }
            } else if self.overwrite {
                Start::Overwrite
            } else {
                Start::Fresh
            },
            self.stop_after,
        )?;
        Ok((config, summary))
    }
}

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub run: RunArgs,
}

pub fn run(args: Args) -> Result<()> {
    let (_, summary) = args.run.train(|_| Mode::Finetune)?;
    eprintln!(
        "finetuned {} steps; final loss {:.4}; model in {}",
        summary.steps,
        summary.losses.last().copied().unwrap_or(f64::NAN),
        summary.output.display()
    );
    Ok(())
}

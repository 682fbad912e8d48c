//! `probable data synth`: write the synthetic fictitious-author benchmark with its splits.

use std::path::PathBuf;

use anyhow::{bail, Result};
use probable_core::data::{synthesize, SynthConfig};

use crate::output::write_atomic;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Generate N authors × Q questions (deterministic for a seed) as JSONL splits.
    Synth {
        #[arg(long, default_value_t = 100)]
        authors: usize,
        #[arg(long, default_value_t = 10)]
        questions_per_author: usize,
        #[arg(long, default_value_t = 0)]
        seed: u64,
        /// Forget percentages; each writes forgetXX and retain(100−XX).
        #[arg(long, value_delimiter = ',', default_values_t = [1u32, 5, 10])]
        forget: Vec<u32>,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(args: Args) -> Result<()> {
    let Action::Synth {
        authors,
        questions_per_author,
        seed,
        forget,
        out,
    } = args.action;
    if let Some(p) = forget.iter().find(|p| !(1..=99).contains(*p)) {
        bail!("--forget {p}: percentages must lie in 1..=99");
    }
    let data = synthesize(&SynthConfig {
        authors,
        questions_per_author,
        seed,
    })
    .map_err(anyhow::Error::msg)?;
    for (name, items) in data.splits(&forget) {
        let text: String = items
            .iter()
            .map(|q| serde_json::to_string(q).map(|s| s + "\n"))
            .collect::<Result<_, _>>()?;
        write_atomic(&out.join(format!("{name}.jsonl")), text.as_bytes())?;
        eprintln!("{name:>10}: {} questions", items.len());
    }
    eprintln!("wrote {}", out.display());
    Ok(())
}

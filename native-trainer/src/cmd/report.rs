//! `probable report merge`: combine shard reports of one evaluation.

use std::path::PathBuf;

use anyhow::{Context, Result};
use probable_core::eval::{merge_reports, EvalReport};

use crate::input::read_text;

#[derive(clap::Args)]
pub struct Args {
    #[command(subcommand)]
    pub action: Action,
}

#[derive(clap::Subcommand)]
pub enum Action {
    /// Merge shard reports (from `eval --shard i/N`) into one report (+ HTML).
    Merge {
        #[arg(required = true)]
        reports: Vec<PathBuf>,
        #[arg(long)]
        out: PathBuf,
    },
}

pub fn run(args: Args) -> Result<()> {
    match args.action {
        Action::Merge { reports, out } => {
            let parsed = reports
                .iter()
                .map(|p| {
                    let text = read_text(&p.display().to_string())?;
                    serde_json::from_str::<EvalReport>(&text)
                        .with_context(|| format!("{}: not an evaluation report", p.display()))
                })
                .collect::<Result<Vec<_>>>()?;
            let merged = merge_reports(parsed).map_err(anyhow::Error::msg)?;
            crate::output::emit(&super::eval::table(&merged));
            super::eval::write_report(&merged, &out)
        }
    }
}

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
        /// Merge even when shards are missing (recorded in the report's `merged.missing`).
        #[arg(long)]
        allow_partial: bool,
    },
}

pub fn run(args: Args) -> Result<()> {
    match args.action {
        Action::Merge {
            reports,
            out,
            allow_partial,
        } => {
            crate::output::check_writable(&out)?;
            let parsed = reports
                .iter()
                .map(|p| {
                    let text = read_text(&p.display().to_string())?;
                    serde_json::from_str::<EvalReport>(&text)
                        .with_context(|| format!("{}: not an evaluation report", p.display()))
                        .map(|r| (p, r))
                })
                .collect::<Result<Vec<_>>>()?;
            let names: Vec<String> = parsed
                .iter()
                .map(|(p, _)| p.display().to_string())
                .collect();
            let merged = merge_reports(parsed.into_iter().map(|(_, r)| r).collect(), allow_partial)
                .map_err(|e| {
                    // "report #k" → the file it was.
                    let mut e = e;
                    for (k, name) in names.iter().enumerate().rev() {
                        e = e.replace(&format!("report #{}", k + 1), name);
                    }
                    anyhow::anyhow!(e)
                })?;
            if !merged.merged.as_ref().is_some_and(|m| m.missing.is_empty()) {
                eprintln!("warning: partial merge; the report records the missing shards");
            }
            crate::output::emit(&super::eval::table(&merged));
            super::eval::write_report(&merged, &out)
        }
    }
}

//! `probable sweep`: unlearn and evaluate every point of a grid over `--set` fields, then
//! plot the trade-off between retain utility and forget leakage.

use std::path::PathBuf;

use anyhow::{bail, Result};

use crate::device::{device, DeviceArg};
use crate::sweep::merge::merge;
use crate::sweep::runner::{run as run_sweep, summary, Shard};
use crate::sweep::spec::load_sweep;

#[derive(clap::Args)]
pub struct Args {
    /// A sweep preset (demo-eo, demo-eo-keyword) or a sweep TOML file.
    #[arg(long)]
    pub config: String,
    /// Results directory: sweep.json, results.jsonl, results.csv, tradeoff-*.svg, index.html.
    #[arg(long, default_value = "sweep")]
    pub out: PathBuf,
    /// Points trained and evaluated at the same time.
    #[arg(long, default_value_t = 1)]
    pub jobs: usize,
    /// Run shard i of N (points with index % N == i), e.g. 0/4; merge with --merge.
    #[arg(long, conflicts_with = "merge")]
    pub shard: Option<String>,
    /// Merge these shard result directories into --out instead of running points.
    #[arg(long, num_args = 1.., value_name = "DIR")]
    pub merge: Vec<PathBuf>,
    /// Keep each point's unlearned bundle in OUT/runs/ (default: removed once evaluated).
    #[arg(long)]
    pub keep_models: bool,
    #[arg(long, value_enum, default_value = "cpu")]
    pub device: DeviceArg,
}

pub fn run(args: Args) -> Result<()> {
    if args.jobs == 0 {
        bail!("--jobs 0: need at least one");
    }
    let sweep = load_sweep(&args.config)?;
    let rows = if args.merge.is_empty() {
        let shard = args
            .shard
            .as_deref()
            .map(str::parse::<probable_core::eval::Shard>)
            .transpose()
            .map_err(anyhow::Error::msg)?;
        let shard = match shard {
            Some(s) => Shard {
                i: s.index,
                n: s.of,
            },
            None => Shard::ALL,
        };
        eprintln!(
            "{}: {} points{}",
            sweep.origin,
            sweep.points.len(),
            if shard.n > 1 {
                format!(", shard {}/{}", shard.i, shard.n)
            } else {
                String::new()
            }
        );
        run_sweep(
            &sweep,
            &args.out,
            shard,
            args.jobs,
            &device(args.device)?,
            args.keep_models,
        )?
    } else {
        merge(&sweep, &args.merge, &args.out)?
    };
    crate::output::note(&format!(
        "wrote {}/ (results.jsonl, results.csv, tradeoff-*.svg, index.html): {} rows",
        args.out.display(),
        rows.len()
    ));
    // Everything is written by now; a closed pipe fails the run (exit 2), never a panic.
    crate::output::emit(&summary(&rows));
    Ok(())
}

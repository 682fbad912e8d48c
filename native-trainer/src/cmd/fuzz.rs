//! `probable fuzz` (hidden): runs the in-tree fuzz targets and prints executions and
//! crashes per target as JSON lines. Crashing inputs go to `--crashes`; `--corpus DIR`
//! adds the committed seeds under `DIR/<target>/` and, with `--save`, keeps the inputs
//! that reached a new outcome there.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::fuzz::engine::fuzz;
use crate::fuzz::targets::{target, NAMES};

#[derive(clap::Args)]
pub struct Args {
    /// A target (share, qa, config-json, safetensors, safetensors-header, toml, report) or `all`.
    pub target: String,
    /// Executions per target.
    #[arg(long, default_value_t = 10_000)]
    pub executions: u64,
    /// Stop each target after this many seconds even if executions remain.
    #[arg(long)]
    pub seconds: Option<u64>,
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Corpus directory: seeds are read from DIR/<target>/.
    #[arg(long)]
    pub corpus: Option<PathBuf>,
    /// Write inputs that reached a new outcome into the corpus (at most --save-max).
    #[arg(long, requires = "corpus")]
    pub save: bool,
    #[arg(long, default_value_t = 40)]
    pub save_max: usize,
    /// Run the target once on this input (no panic catching: a crash shows its message).
    #[arg(long)]
    pub replay: Option<PathBuf>,
    /// Where crashing inputs are written.
    #[arg(long, default_value = "fuzz-crashes")]
    pub crashes: PathBuf,
}

pub fn run(args: Args) -> Result<()> {
    let names: Vec<&str> = if args.target == "all" {
        NAMES.to_vec()
    } else if NAMES.contains(&args.target.as_str()) {
        vec![args.target.as_str()]
    } else {
        bail!(
            "unknown fuzz target `{}` (targets: {}, all)",
            args.target,
            NAMES.join(", ")
        );
    };
    if let Some(file) = &args.replay {
        let input =
            std::fs::read(file).with_context(|| format!("cannot read {}", file.display()))?;
        for name in &names {
            let t = target(name, Vec::new()).expect("known target");
            crate::output::emit(&format!("{name}: {}\n", (t.run)(&input)));
        }
        return Ok(());
    }
    let mut total_crashes = 0;
    for name in names {
        let dir = args.corpus.as_ref().map(|c| c.join(name));
        let mut extra = Vec::new();
        if let Some(d) = &dir {
            if let Ok(entries) = std::fs::read_dir(d) {
                let mut paths: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
                paths.sort();
                for p in paths {
                    extra.push(
                        std::fs::read(&p)
                            .with_context(|| format!("cannot read {}", p.display()))?,
                    );
                }
            }
        }
        let t = target(name, extra).expect("known target");
        let mut saved = 0usize;
        let save_dir = dir.filter(|_| args.save);
        let stats = fuzz(
            &t,
            args.seed,
            args.executions,
            args.seconds.map(Duration::from_secs),
            Some(&args.crashes),
            |input| {
                if let Some(d) = &save_dir {
                    if saved < args.save_max && input.len() <= 4096 {
                        let _ = std::fs::create_dir_all(d);
                        let name = format!("s{}-{saved:03}", args.seed);
                        if crate::output::write_atomic(&d.join(name), input).is_ok() {
                            saved += 1;
                        }
                    }
                }
            },
        );
        total_crashes += stats.crashes;
        crate::output::emit(&format!(
            "{}\n",
            serde_json::json!({
                "target": name,
                "executions": stats.executions,
                "crashes": stats.crashes,
                "corpus": stats.corpus,
                "outcomes": stats.signatures,
                "seconds": stats.elapsed.as_secs_f64(),
                "saved": saved,
            })
        ));
    }
    if total_crashes > 0 {
        bail!(
            "{total_crashes} crash(es); inputs in {}",
            args.crashes.display()
        );
    }
    Ok(())
}

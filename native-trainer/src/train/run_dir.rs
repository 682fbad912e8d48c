//! A run's output directory: which files make a run, how a run starts there (new, replaced
//! or continued), its checkpoints and log, and the final bundle published beside them.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use burn::module::Module;
use probable_core::model::{CausalLm, StorageDtype};
use probable_core::tokenizer::Tokenizer;
use serde::{Deserialize, Serialize};

use super::checkpoint::Checkpoints;
use super::config::TrainConfig;
use super::record::{check_resume, record_path, Change, RunRecord};
use crate::bundle::bundle_files;
use crate::output::{step as fs_step, sync_dir, unique_suffix, write_atomic, write_synced};

/// How a run starts in its output directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Start {
    /// A new run: the directory must not hold one already.
    Fresh,
    /// Continue the run the directory holds — from its checkpoint, or from step 0 when it
    /// stopped before the first one — with the same configuration, except for the fields
    /// named here (see [`super::record::CHANGEABLE`]).
    Resume { allow_change: Vec<String> },
    /// Replace the run the directory holds.
    Overwrite,
}

/// What a checkpoint remembers besides weights and optimizer moments.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub(super) struct TrainerState {
    /// Optimizer steps taken.
    pub step: usize,
    total_steps: usize,
    config: TrainConfig,
    /// Fields changed on resume (`--allow-change`), with the step they applied from.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    changes: Vec<Change>,
}

/// Files of a run in `output.dir` (checkpoints, log, record, final bundle).
const RUN_FILES: &[&str] = &[
    "run.json",
    "checkpoint",
    "checkpoints",
    "train_log.jsonl",
    "config.json",
    "model.safetensors",
    "generation_config.json",
    "tokenizer.json",
];

fn run_files_in(out: &Path) -> Vec<String> {
    let mut found: Vec<String> = RUN_FILES
        .iter()
        .filter(|f| out.join(f).symlink_metadata().is_ok())
        .map(|f| f.to_string())
        .collect();
    if let Ok(entries) = fs::read_dir(out) {
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().to_string();
            if name.starts_with(".checkpoint.") {
                found.push(name);
            }
        }
    }
    found
}

/// Removes a previous run's files for `--overwrite`: `config.json` first, so that no
/// instant shows new weights beside an old config or the reverse.
fn remove_run(out: &Path) -> Result<()> {
    for f in run_files_in(out) {
        let p = out.join(&f);
        let r = if p.symlink_metadata().is_ok_and(|m| m.is_dir()) {
            fs::remove_dir_all(&p)
        } else {
            fs::remove_file(&p)
        };
        r.with_context(|| format!("--overwrite: cannot remove {}", p.display()))?;
    }
    Ok(())
}

/// The run directory as a run starts in it, before anything in it has changed.
pub(super) struct Opened {
    /// What `run.json` will say: this run's command and configuration, and on resume the
    /// changes made so far.
    pub record: RunRecord,
    /// The checkpoint a resumed run continues from, with its state; `None` for a new run
    /// and for one resumed before its first checkpoint.
    pub resume_from: Option<(PathBuf, TrainerState)>,
}

/// Checks that the run directory `out` allows `start` (a new run needs an empty one, a
/// resumed run one whose record matches `config`) and reads what a resume continues from.
/// Changes nothing but the leftovers of an interrupted checkpoint save (on resume).
pub(super) fn open(
    out: &Path,
    ckpts: &Checkpoints,
    start: &Start,
    command: &str,
    config: &TrainConfig,
    quiet: bool,
) -> Result<Opened> {
    let existing = run_files_in(out);
    let mut resume_from: Option<(PathBuf, TrainerState)> = None;
    let mut record = RunRecord {
        command: command.to_string(),
        config: config.clone(),
        changes: Vec::new(),
    };
    match start {
        Start::Fresh if !existing.is_empty() => bail!(
            "{} already holds a run ({}): pass --resume to continue it or --overwrite to replace it",
            out.display(),
            existing.join(", ")
        ),
        Start::Fresh => {}
        // The old run goes only once the new one has loaded ([`take_over`]).
        Start::Overwrite => {}
        Start::Resume { allow_change } => {
            let cleaned = ckpts.recover()?;
            if !cleaned.is_empty() && !quiet {
                eprintln!(
                    "removed {} leftover(s) of an interrupted run in {}",
                    cleaned.len(),
                    out.display()
                );
            }
            let current = ckpts.current();
            let state = match &current {
                Some(dir) => {
                    let path = dir.join("trainer_state.json");
                    let state: TrainerState = serde_json::from_slice(
                        &fs::read(&path)
                            .with_context(|| format!("{}: cannot read", path.display()))?,
                    )
                    .with_context(|| format!("{}: malformed", path.display()))?;
                    Some(state)
                }
                None => None,
            };
            let saved = match (RunRecord::read(out)?, &state) {
                (Some(r), _) => r,
                // A run from before run records: its checkpoint knows the configuration.
                (None, Some(s)) => RunRecord {
                    command: command.to_string(),
                    config: s.config.clone(),
                    changes: s.changes.clone(),
                },
                (None, None) => bail!(
                    "--resume: {} holds no run to resume (no run.json, no checkpoint)",
                    out.display()
                ),
            };
            let at = state.as_ref().map_or(0, |s| s.step);
            let changes =
                check_resume(&saved, command, config, allow_change, at, &record_path(out))?;
            record.changes = saved.changes;
            record.changes.extend(changes);
            if let (Some(dir), Some(s)) = (current, state) {
                resume_from = Some((dir, s));
            }
        }
    }
    Ok(Opened {
        record,
        resume_from,
    })
}

/// Once everything has loaded, the directory becomes this run's: a replaced run's files go
/// (`--overwrite`), `run.json` is written, and the log keeps only the lines of the steps
/// before `start_step`. Returns the log, opened for appending.
pub(super) fn take_over(
    out: &Path,
    start: &Start,
    record: &RunRecord,
    start_step: usize,
) -> Result<fs::File> {
    if *start == Start::Overwrite {
        remove_run(out)?;
    }
    fs::create_dir_all(out).with_context(|| format!("cannot create {}", out.display()))?;
    record.write(out)?;
    let log_path = out.join("train_log.jsonl");
    // Keep only the log lines up to the resumed step.
    let kept: String = if matches!(start, Start::Resume { .. }) {
        fs::read_to_string(&log_path)
            .unwrap_or_default()
            .lines()
            .filter(|l| {
                serde_json::from_str::<serde_json::Value>(l)
                    .ok()
                    .and_then(|v| v["step"].as_u64())
                    .is_some_and(|s| (s as usize) < start_step)
            })
            .map(|l| format!("{l}\n"))
            .collect()
    } else {
        String::new()
    };
    write_atomic(&log_path, kept.as_bytes())?;
    Ok(fs::OpenOptions::new().append(true).open(&log_path)?)
}

/// Writes checkpoints of one run.
pub(super) struct Saver<'a> {
    pub ckpts: &'a Checkpoints,
    pub total_steps: usize,
    pub config: &'a TrainConfig,
    pub changes: &'a [Change],
    /// `probable.json` and the starting bundle's chat files (see
    /// [`super::source::training_prompt`]).
    pub extra: &'a [(&'static str, Vec<u8>)],
}

impl Saver<'_> {
    /// Saves a checkpoint of `step` (crash-safe, see [`Checkpoints::save`]); returns its
    /// directory.
    pub fn save(
        &self,
        model: &CausalLm,
        tokenizer: &Tokenizer,
        optim: &burn::optim::ModuleOptimizer,
        step: usize,
    ) -> Result<PathBuf> {
        let state = TrainerState {
            step,
            total_steps: self.total_steps,
            config: self.config.clone(),
            changes: self.changes.to_vec(),
        };
        // In memory: a temporary file here was once shared by the threads of `sweep --jobs`.
        let optim_bytes = optim
            .into_bytes()
            .map_err(|e| anyhow::anyhow!("cannot save optimizer state: {e:?}"))?
            .to_vec();
        let mut files = bundle_files(&model.valid(), Some(tokenizer), StorageDtype::F32, None)?;
        files.push((
            "trainer_state.json".into(),
            serde_json::to_vec_pretty(&state)?,
        ));
        files.push(("optimizer.bpk".into(), optim_bytes));
        files.extend(self.extra.iter().map(|(n, b)| (n.to_string(), b.clone())));
        self.ckpts.save(step, &files)
    }
}

/// Publishes the final bundle next to the log from the checkpoint `ckpt`. The files of a
/// directory cannot be replaced together, so `config.json` is removed first and written
/// last: a crash in between leaves a directory that does not load as a bundle (and
/// `--resume` finishes the publication), never new weights beside an old config.
pub(super) fn publish_bundle(out: &Path, ckpt: &Path, extra: &[(&str, Vec<u8>)]) -> Result<()> {
    let config = out.join("config.json");
    if config.exists() {
        fs_step(&format!("remove {}", config.display()));
        fs::remove_file(&config).with_context(|| format!("cannot remove {}", config.display()))?;
    }
    let files = [
        "model.safetensors",
        "generation_config.json",
        "tokenizer.json",
    ]
    .into_iter()
    .chain(extra.iter().map(|(n, _)| *n))
    .chain(["config.json"]);
    for f in files {
        let bytes = fs::read(ckpt.join(f))
            .with_context(|| format!("cannot read {}", ckpt.join(f).display()))?;
        let tmp = out.join(format!(".{f}.tmp-{}", unique_suffix()));
        fs_step(&format!("write {}", tmp.display()));
        write_synced(&tmp, &bytes)?;
        fs_step(&format!("rename {} to {f}", tmp.display()));
        fs::rename(&tmp, out.join(f))
            .with_context(|| format!("cannot write {}", out.join(f).display()))?;
    }
    sync_dir(out);
    Ok(())
}

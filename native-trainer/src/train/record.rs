//! What a run directory remembers about the run: `output.dir/run.json`, written before the
//! first step, holds the command and the full configuration (and every change made on
//! resume with `--allow-change`), so a resume can refuse a configuration that differs
//! from the one the checkpoint was trained with instead of silently mixing the two.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::config::TrainConfig;

/// Fields a resumed run may change, each only when named with `--allow-change`: none of
/// them changes what the steps already taken computed.
pub const CHANGEABLE: &[&str] = &[
    "train.epochs",
    "output.save_every",
    "unlearn.forget_loss_bound",
];

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Change {
    /// The optimizer step from which the new value applies.
    pub at_step: usize,
    pub field: String,
    pub from: serde_json::Value,
    pub to: serde_json::Value,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RunRecord {
    /// `finetune` or `unlearn`.
    pub command: String,
    pub config: TrainConfig,
    #[serde(default)]
    pub changes: Vec<Change>,
}

pub fn record_path(out: &Path) -> PathBuf {
    out.join("run.json")
}

impl RunRecord {
    pub fn read(out: &Path) -> Result<Option<Self>> {
        let path = record_path(out);
        match fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes)
                .map(Some)
                .with_context(|| format!("{}: malformed run record", path.display())),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
        }
    }

    pub fn write(&self, out: &Path) -> Result<()> {
        crate::output::write_atomic(&record_path(out), &serde_json::to_vec_pretty(self)?)
    }
}

/// The fields whose values differ between two configurations, as (field, saved, requested).
pub fn differences(
    saved: &TrainConfig,
    requested: &TrainConfig,
) -> Result<Vec<(String, serde_json::Value, serde_json::Value)>> {
    Ok(crate::diff::differences(
        &serde_json::to_value(saved)?,
        &serde_json::to_value(requested)?,
    ))
}

/// Checks a resume request against the record; returns the allowed changes to apply, or
/// an error listing every differing field.
pub fn check_resume(
    record: &RunRecord,
    command: &str,
    requested: &TrainConfig,
    allow: &[String],
    at_step: usize,
    record_file: &Path,
) -> Result<Vec<Change>> {
    for a in allow {
        if !CHANGEABLE.contains(&a.as_str()) {
            bail!(
                "--allow-change {a}: only {} may change on resume",
                CHANGEABLE.join(", ")
            );
        }
    }
    if record.command != command {
        bail!(
            "--resume: {} is a `{}` run, not `{command}`",
            record_file.display(),
            record.command
        );
    }
    let diffs = differences(&record.config, requested)?;
    let refused: Vec<String> = diffs
        .iter()
        .filter(|(k, _, _)| !allow.contains(k))
        .map(|(k, x, y)| format!("{k}: {x} (run) vs {y} (requested)"))
        .collect();
    if !refused.is_empty() {
        bail!(
            "--resume: the requested configuration differs from the run's ({}) in {} field(s):\n  {}\n\
             resume with the run's settings, start a new run (another output.dir, or --overwrite), \
             or for {} pass --allow-change FIELD",
            record_file.display(),
            refused.len(),
            refused.join("\n  "),
            CHANGEABLE.join(", ")
        );
    }
    Ok(diffs
        .into_iter()
        .map(|(field, from, to)| Change {
            at_step,
            field,
            from,
            to,
        })
        .collect())
}

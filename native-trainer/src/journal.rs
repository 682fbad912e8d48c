//! The journal of an evaluation in progress: `OUT.journal.jsonl` next to the report. Its
//! first line records what is being evaluated (model, data, split, shard, questions,
//! settings); every finished question is appended as one line and flushed to disk, so a
//! killed `eval` loses at most the question it was on, and `eval --resume` continues after
//! the last finished one and writes the same report an uninterrupted run would have. The
//! journal is removed once the report is written.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use probable_core::eval::{EvalConfig, QuestionReport};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Format version of the journal.
    pub journal: u32,
    pub model: String,
    pub data: String,
    pub split: String,
    pub shard: Option<String>,
    /// Indices (in the split) of the questions, in evaluation order.
    pub questions: Vec<u32>,
    pub config: EvalConfig,
    /// The remote engine's settings (absent for the local engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<serde_json::Value>,
}

pub struct Journal {
    path: PathBuf,
    file: fs::File,
}

/// `OUT.journal.jsonl`.
pub fn journal_path(out: &Path) -> PathBuf {
    let mut name = out.file_name().unwrap_or_default().to_os_string();
    name.push(".journal.jsonl");
    out.with_file_name(name)
}

impl Journal {
    /// Starts a new journal (an existing one is replaced).
    pub fn create(path: &Path, header: &Header) -> Result<Self> {
        let mut text = serde_json::to_string(header)?;
        text.push('\n');
        crate::output::write_atomic(path, text.as_bytes())?;
        Self::open(path)
    }

    fn open(path: &Path) -> Result<Self> {
        let file = fs::OpenOptions::new()
            .append(true)
            .open(path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        Ok(Self {
            path: path.to_path_buf(),
            file,
        })
    }

    /// Reopens the journal at `path` for the evaluation `header` describes; returns the
    /// questions it already holds. A last line cut short by a crash is dropped; a header
    /// that differs is refused with the list of differing fields.
    pub fn resume(path: &Path, header: &Header) -> Result<(Self, Vec<QuestionReport>)> {
        let bytes = fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
        let text =
            String::from_utf8(bytes).with_context(|| format!("{}: not UTF-8", path.display()))?;
        // Only newline-terminated lines were completely written.
        let complete = text.rfind('\n').map_or(0, |i| i + 1);
        let mut lines = text[..complete].lines();
        let first = lines
            .next()
            .with_context(|| format!("{}: empty journal", path.display()))?;
        let saved: Header = serde_json::from_str(first)
            .with_context(|| format!("{}:1: malformed journal header", path.display()))?;
        let diffs = crate::diff::differences(
            &serde_json::to_value(&saved)?,
            &serde_json::to_value(header)?,
        );
        if !diffs.is_empty() {
            let list: Vec<String> = diffs
                .iter()
                .map(|(k, a, b)| format!("{k}: {a} (journal) vs {b} (requested)"))
                .collect();
            bail!(
                "--resume: {} records a different evaluation in {} field(s):\n  {}\n\
                 resume with the journal's settings, or delete the journal to start over",
                path.display(),
                list.len(),
                list.join("\n  ")
            );
        }
        let mut done = Vec::new();
        for (i, line) in lines.enumerate() {
            let q: QuestionReport = serde_json::from_str(line)
                .with_context(|| format!("{}:{}: malformed journal line", path.display(), i + 2))?;
            let expected = header.questions.get(done.len()).copied();
            if Some(q.index) != expected {
                bail!(
                    "{}:{}: question {} where the journal's order has {:?}",
                    path.display(),
                    i + 2,
                    q.index,
                    expected
                );
            }
            done.push(q);
        }
        if complete < text.len() {
            // Cut the torn line off before appending after it.
            let f = fs::OpenOptions::new()
                .write(true)
                .open(path)
                .with_context(|| format!("cannot open {}", path.display()))?;
            f.set_len(complete as u64)
                .and_then(|()| f.sync_all())
                .with_context(|| format!("cannot truncate {}", path.display()))?;
        }
        Ok((Self::open(path)?, done))
    }

    /// Appends a finished question and flushes it to disk.
    pub fn append(&mut self, q: &QuestionReport) -> Result<()> {
        let mut line = serde_json::to_string(q)?;
        line.push('\n');
        self.file
            .write_all(line.as_bytes())
            .and_then(|()| self.file.sync_data())
            .with_context(|| format!("cannot append to {}", self.path.display()))
    }

    /// Removes the journal (the report is written).
    pub fn finish(self) -> Result<()> {
        drop(self.file);
        fs::remove_file(&self.path)
            .with_context(|| format!("cannot remove {}", self.path.display()))
    }
}

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
use probable_core::eval::report::{check_question, normal_path, ContentIdentity};
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
    /// The model and data by content ([`crate::identity::run_identity`]): a resume on
    /// other weights or data behind the same paths is refused, one through another
    /// spelling of the same path (`fm`, `./fm`) is not.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<ContentIdentity>,
    /// The remote engine's settings (absent for the local engine).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub engine: Option<serde_json::Value>,
    /// How the local engine holds the weights ([`crate::bundle::Bundle::weights`]): a
    /// resume holding them otherwise is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights: Option<String>,
}

/// A header as resume compares it: the paths are compared by content where both headers
/// carry the digests, else in normal form; the weights' holding only where the journal
/// recorded it (journals from before it was recorded resume as they did).
fn comparable(h: &Header, by_content: bool, weights: bool) -> Result<serde_json::Value> {
    let mut v = serde_json::to_value(h)?;
    if let Some(map) = v.as_object_mut() {
        if !weights {
            map.remove("weights");
        }
        for key in ["model", "data"] {
            if by_content {
                map.remove(key);
            } else if let Some(serde_json::Value::String(p)) = map.get(key) {
                let normal = normal_path(p);
                map.insert(key.into(), normal.into());
            }
        }
    }
    Ok(v)
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
        let (done, complete) = parse_journal(&path.display().to_string(), &text, header)?;
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

/// Reads a journal's text (`name` in errors) for the evaluation `header` describes: the
/// questions it holds, and the length of its complete (newline-terminated) part. No I/O:
/// [`Journal::resume`] and the `journal` fuzz target share it.
pub fn parse_journal(
    name: &str,
    text: &str,
    header: &Header,
) -> Result<(Vec<QuestionReport>, usize)> {
    // Only newline-terminated lines were completely written.
    let complete = text.rfind('\n').map_or(0, |i| i + 1);
    let mut lines = text[..complete].lines();
    let first = lines
        .next()
        .with_context(|| format!("{name}: empty journal"))?;
    let saved: Header = serde_json::from_str(first)
        .with_context(|| format!("{name}:1: malformed journal header"))?;
    let by_content = saved.identity.is_some() && header.identity.is_some();
    let weights = saved.weights.is_some();
    let diffs = crate::diff::differences(
        &comparable(&saved, by_content, weights)?,
        &comparable(header, by_content, weights)?,
    );
    if !diffs.is_empty() {
        let list: Vec<String> = diffs
            .iter()
            .map(|(k, a, b)| format!("{k}: {a} (journal) vs {b} (requested)"))
            .collect();
        bail!(
            "--resume: {name} records a different evaluation in {} field(s):\n  {}\n\
             resume with the journal's settings, or delete the journal to start over",
            list.len(),
            list.join("\n  ")
        );
    }
    let variants = &header.config.prompt_variants;
    let per_question = variants.len().max(1);
    let mut done: Vec<QuestionReport> = Vec::new();
    for (i, line) in lines.enumerate() {
        let at = i + 2;
        let q: QuestionReport = serde_json::from_str(line)
            .with_context(|| format!("{name}:{at}: malformed journal line"))?;
        // Rows come question by question, each in the order of the prompt variants.
        let expected = header.questions.get(done.len() / per_question).copied();
        if Some(q.index) != expected {
            bail!(
                "{name}:{at}: question {} where the journal's order has {}",
                q.index,
                expected.map_or("no more questions".into(), |e| e.to_string())
            );
        }
        if variants.len() > 1 {
            let want = &variants[done.len() % per_question];
            if q.variant.as_ref() != Some(want) {
                bail!(
                    "{name}:{at}: prompt variant {:?} where the journal's order has `{want}`",
                    q.variant
                );
            }
        }
        // A journal line is trusted no more than a report: its numbers must be ones this
        // evaluation can have produced (1 sample where n = 4 once went through).
        check_question(&q, header.config.samples)
            .map_err(|e| anyhow::anyhow!("{name}:{at}: {e}"))?;
        done.push(q);
    }
    Ok((done, complete))
}

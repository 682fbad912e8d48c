//! Reading user files with errors that name the file and line.

use std::fs;
use std::io::Read;
use std::path::Path;

use anyhow::{bail, Context, Result};
use serde::de::DeserializeOwned;

/// Reads `path`, or standard input for `-`.
pub fn read_text(path: &str) -> Result<String> {
    if path == "-" {
        let mut text = String::new();
        std::io::stdin()
            .read_to_string(&mut text)
            .context("reading standard input")?;
        Ok(text)
    } else {
        let bytes = fs::read(Path::new(path)).with_context(|| format!("cannot read {path}"))?;
        String::from_utf8(bytes).map_err(|e| {
            let at = e.utf8_error().valid_up_to();
            let line = e.as_bytes()[..at].iter().filter(|&&b| b == b'\n').count() + 1;
            anyhow::anyhow!("{path}:{line}: not UTF-8 (byte {at})")
        })
    }
    .map(|text| match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_string(),
        None => text,
    })
}

/// One score per line; blank lines and `#` comments are skipped. Every other line must be
/// a number in [0, 1].
pub fn parse_scores(name: &str, text: &str) -> Result<Vec<f64>> {
    let mut scores = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let value: f64 = line
            .parse()
            .map_err(|_| anyhow::anyhow!("{name}:{}: `{line}` is not a number", i + 1))?;
        check_score(value).with_context(|| format!("{name}:{}", i + 1))?;
        scores.push(value);
    }
    if scores.is_empty() {
        bail!("{name}: no scores (n = 0); bounds need at least one");
    }
    Ok(scores)
}

pub fn check_score(value: f64) -> Result<()> {
    if value.is_nan() {
        bail!("score is NaN");
    }
    if !(0.0..=1.0).contains(&value) {
        bail!("score {value} is outside [0, 1]");
    }
    Ok(())
}

/// Parses a JSON Lines file into records, naming the line of any malformed record.
pub fn read_jsonl<T: DeserializeOwned>(path: &str) -> Result<Vec<(usize, T)>> {
    let text = read_text(path)?;
    let mut rows = Vec::new();
    for (i, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let row = serde_json::from_str(line)
            .map_err(|e| anyhow::anyhow!("{path}:{}: malformed JSON record: {e}", i + 1))?;
        rows.push((i + 1, row));
    }
    Ok(rows)
}

/// Parses a command-line level α.
pub fn parse_alpha(s: &str) -> std::result::Result<f64, String> {
    let a: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if a.is_finite() && a > 0.0 && a < 1.0 {
        Ok(a)
    } else {
        Err(format!("alpha must lie strictly between 0 and 1, got {s}"))
    }
}

/// Parses a probability strictly inside (0, 1) (the sequential test's leak level: at 0 or 1
/// no verdict could ever be reached).
pub fn parse_open_unit(s: &str) -> std::result::Result<f64, String> {
    let l: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if l.is_finite() && l > 0.0 && l < 1.0 {
        Ok(l)
    } else {
        Err(format!("must lie strictly between 0 and 1, got {s}"))
    }
}

/// Parses a value in [0, 1] (thresholds).
pub fn parse_unit(s: &str) -> std::result::Result<f64, String> {
    let t: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if t.is_finite() && (0.0..=1.0).contains(&t) {
        Ok(t)
    } else {
        Err(format!("must lie in [0, 1], got {s}"))
    }
}

/// Parses a finite, non-negative weight (λ).
pub fn parse_weight(s: &str) -> std::result::Result<f64, String> {
    let l: f64 = s.parse().map_err(|_| format!("`{s}` is not a number"))?;
    if l.is_finite() && (0.0..=probable_core::stats::MAX_LAMBDA).contains(&l) {
        Ok(l)
    } else {
        Err(format!(
            "must be a number in [0, {:e}] (larger weights make ED meaningless and can overflow), got {s}",
            probable_core::stats::MAX_LAMBDA
        ))
    }
}

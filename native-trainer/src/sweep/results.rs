//! A sweep's results directory: `sweep.json` (what the rows were computed under, checked on
//! resume and merge), `results.jsonl` (one row per finished point) and `results.csv`. Every
//! file is rewritten whole and atomically after each point, so a crash leaves the previous
//! complete set, never a torn line.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use serde::{Deserialize, Serialize};

use super::spec::Sweep;
use crate::output::write_atomic;

/// What one point's evaluation found (absent when its training diverged).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Metrics {
    /// Mean greedy score on the forget split.
    pub forget_greedy: f64,
    pub forget_frac_greedy_forgotten: f64,
    /// Means over forget questions of the upper bounds M_μ, M_σ, ED and M_bin.
    pub forget_m_mu: f64,
    pub forget_m_sigma: f64,
    pub forget_ed: f64,
    pub forget_m_bin: f64,
    pub forget_frac_m_bin_above_level: f64,
    /// Greedy calls it forgotten, yet the lower bound certifies a leak rate above the level.
    pub forget_frac_certified_leak: f64,
    pub leak_k: u64,
    /// Mean leak@k over the forget questions and its certified upper bound (joint).
    pub leak_at_k: f64,
    pub leak_at_k_upper: f64,
    /// Mean greedy score on the retain questions (the utility axis).
    pub retain_greedy: f64,
}

/// A metric read off a row.
pub type Field = fn(&Metrics) -> f64;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Row {
    pub point: usize,
    pub key: String,
    /// The point's grid settings, `"section.key": value`.
    pub set: serde_json::Map<String, serde_json::Value>,
    /// The resolved method and entropy switch (the plots' curves).
    pub method: String,
    pub entropy: bool,
    pub steps: usize,
    /// Set when the divergence guard stopped the point's training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    #[serde(flatten)]
    pub metrics: Option<Metrics>,
    pub train_seconds: f64,
    pub eval_seconds: f64,
    pub wall_seconds: f64,
}

impl Row {
    /// `GA`, `GA+EO`, …: the curve the point belongs to.
    pub fn series(&self) -> String {
        format!(
            "{}{}",
            self.method.to_uppercase(),
            if self.entropy { "+EO" } else { "" }
        )
    }
}

pub fn results_path(dir: &Path) -> PathBuf {
    dir.join("results.jsonl")
}

fn manifest_path(dir: &Path) -> PathBuf {
    dir.join("sweep.json")
}

#[derive(Debug, Serialize, Deserialize)]
struct Manifest {
    probable_sweep: u32,
    config: String,
    fingerprint: serde_json::Value,
}

/// Checks that `dir`'s rows (if any) were computed under `sweep`'s base config and
/// evaluation; with `create`, records them for a new directory.
/// Keeps in both fingerprints only the content digests both hold: results from before the
/// digests were recorded, or a machine that cannot read the model or data, compare by the
/// rest alone.
fn common_identity(saved: &mut serde_json::Value, want: &mut serde_json::Value) {
    let keys = |v: &serde_json::Value| -> Vec<String> {
        v.get("identity")
            .and_then(|i| i.as_object())
            .map(|o| o.keys().cloned().collect())
            .unwrap_or_default()
    };
    let (a, b) = (keys(saved), keys(want));
    for v in [saved, want] {
        if let Some(id) = v.get_mut("identity").and_then(|i| i.as_object_mut()) {
            id.retain(|k, _| a.contains(k) && b.contains(k));
        }
        if let Some(f) = v.as_object_mut() {
            if f.get("identity")
                .is_some_and(|i| i.as_object().is_none_or(|o| o.is_empty()))
            {
                f.remove("identity");
            }
        }
    }
}

/// The content digests a results directory's manifest records (empty when none).
pub fn recorded_identity(dir: &Path) -> Result<serde_json::Value> {
    let path = manifest_path(dir);
    let bytes = fs::read(&path).with_context(|| format!("cannot read {}", path.display()))?;
    let m: Manifest = serde_json::from_slice(&bytes)
        .with_context(|| format!("{}: malformed sweep manifest", path.display()))?;
    Ok(m.fingerprint
        .get("identity")
        .cloned()
        .unwrap_or_else(|| serde_json::json!({})))
}

pub fn check_manifest(dir: &Path, sweep: &Sweep, create: bool) -> Result<()> {
    let path = manifest_path(dir);
    let mut want = sweep.fingerprint()?;
    match fs::read(&path) {
        Ok(bytes) => {
            let mut m: Manifest = serde_json::from_slice(&bytes)
                .with_context(|| format!("{}: malformed sweep manifest", path.display()))?;
            common_identity(&mut m.fingerprint, &mut want);
            let diffs = crate::diff::differences(&m.fingerprint, &want);
            if !diffs.is_empty() {
                let list: Vec<String> = diffs
                    .iter()
                    .take(8)
                    .map(|(k, a, b)| format!("{k}: {a} (results) vs {b} ({})", sweep.origin))
                    .collect();
                bail!(
                    "{}: results from a different base config ({}, from {}); {} field(s) differ:\n  {}\nuse another --out, or the sweep file these results came from",
                    dir.display(),
                    path.display(),
                    m.config,
                    diffs.len(),
                    list.join("\n  ")
                );
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if results_path(dir).exists() {
                bail!(
                    "{}: results.jsonl without sweep.json: cannot tell which base config it came from",
                    dir.display()
                );
            }
            if !create {
                bail!("{}: no sweep results here (no sweep.json)", dir.display());
            }
            let m = Manifest {
                probable_sweep: 1,
                config: sweep.origin.clone(),
                fingerprint: want,
            };
            write_atomic(&path, serde_json::to_string_pretty(&m)?.as_bytes())
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

/// The rows in `dir` (none when there is no results file yet).
pub fn read_rows(dir: &Path) -> Result<Vec<Row>> {
    let path = results_path(dir);
    let text = match fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(e).with_context(|| format!("cannot read {}", path.display())),
    };
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .with_context(|| format!("{}:{}: malformed result row", path.display(), i + 1))
        })
        .collect()
}

/// Rewrites `results.jsonl` and `results.csv` in `dir` with `rows` (sorted by point).
pub fn write_rows(dir: &Path, rows: &[Row], grid_keys: &[String]) -> Result<()> {
    let mut jsonl = String::new();
    for r in rows {
        jsonl.push_str(&serde_json::to_string(r)?);
        jsonl.push('\n');
    }
    write_atomic(&results_path(dir), jsonl.as_bytes())?;
    write_atomic(
        &dir.join("results.csv"),
        csv_text(rows, grid_keys)?.as_bytes(),
    )
}

const METRIC_COLUMNS: &[&str] = &[
    "forget_greedy",
    "forget_frac_greedy_forgotten",
    "forget_m_mu",
    "forget_m_sigma",
    "forget_ed",
    "forget_m_bin",
    "forget_frac_m_bin_above_level",
    "forget_frac_certified_leak",
    "leak_k",
    "leak_at_k",
    "leak_at_k_upper",
    "retain_greedy",
];

fn csv_text(rows: &[Row], grid_keys: &[String]) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header: Vec<String> = vec!["point".into(), "method".into(), "entropy".into()];
    header.extend(grid_keys.iter().cloned());
    header.extend(["steps", "error"].map(String::from));
    header.extend(METRIC_COLUMNS.iter().map(|s| s.to_string()));
    header.extend(["train_seconds", "eval_seconds", "wall_seconds"].map(String::from));
    w.write_record(&header)?;
    for r in rows {
        let value = serde_json::to_value(r)?;
        let cell = |v: Option<&serde_json::Value>| match v {
            None | Some(serde_json::Value::Null) => String::new(),
            Some(serde_json::Value::String(s)) => s.clone(),
            Some(v) => v.to_string(),
        };
        let mut rec: Vec<String> =
            vec![r.point.to_string(), r.method.clone(), r.entropy.to_string()];
        rec.extend(grid_keys.iter().map(|k| cell(r.set.get(k))));
        rec.push(r.steps.to_string());
        rec.push(r.error.clone().unwrap_or_default());
        rec.extend(METRIC_COLUMNS.iter().map(|c| cell(value.get(*c))));
        for c in ["train_seconds", "eval_seconds", "wall_seconds"] {
            rec.push(cell(value.get(c)));
        }
        w.write_record(&rec)?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}

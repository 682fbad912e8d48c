//! `probable score`: bring-your-own generations. Scores each generation against its
//! reference (or takes the judge's `score` field) and bounds every prompt.

use std::collections::BTreeMap;
use std::path::PathBuf;

use anyhow::{bail, Result};
use probable_core::metrics::keyword::check_keyword;
use probable_core::metrics::Metric;
use probable_core::stats::{bound_set, AggregateSummary, BoundsConfig, BoundsSummary, SetLeakAtK};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::input::{check_score, parse_alpha, parse_unit, parse_weight, read_jsonl};
use crate::output::{to_json_pretty, write_atomic};

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum MetricArg {
    #[value(name = "rougeL-recall")]
    RougeLRecall,
    #[value(name = "rougeL-f")]
    RougeLF,
    #[value(name = "keyword")]
    Keyword,
    /// Read a numeric `score` field of each generation (your own judge).
    #[value(name = "score")]
    Score,
}

#[derive(clap::Args)]
pub struct Args {
    /// JSONL, one generation per line: {"id": .., "text": ..} (or {"id": .., "score": ..}).
    #[arg(long)]
    pub generations: String,
    /// JSONL, one reference per id: {"id": .., "answer": .., "keywords": [..]}.
    #[arg(long)]
    pub references: Option<String>,
    #[arg(long, value_enum, default_value = "rougeL-recall")]
    pub metric: MetricArg,
    #[arg(long, default_value_t = 0.01, allow_negative_numbers = true, value_parser = parse_alpha)]
    pub alpha: f64,
    #[arg(long, default_value_t = 2.0, allow_negative_numbers = true, value_parser = parse_weight)]
    pub lambda: f64,
    #[arg(long, allow_negative_numbers = true, value_parser = parse_unit)]
    pub leak_threshold: Option<f64>,
    /// Leak@k at these k (comma separated) per prompt and over all prompts (needs a leak
    /// threshold or 0/1 scores; each k at most every prompt's sample count).
    #[arg(long, value_delimiter = ',')]
    pub k: Vec<u64>,
    /// Write the JSON report here (atomically); otherwise print it.
    #[arg(long)]
    pub out: Option<PathBuf>,
}

#[derive(Deserialize)]
struct Generation {
    id: Value,
    #[serde(default)]
    text: Option<String>,
    #[serde(default)]
    score: Option<Value>,
}

#[derive(Deserialize)]
struct Reference {
    id: Value,
    answer: String,
    #[serde(default)]
    keywords: Vec<String>,
}

#[derive(Serialize)]
struct Entry {
    id: String,
    n: usize,
    bounds: BoundsSummary,
}

#[derive(Serialize)]
struct Report {
    metric: &'static str,
    config: BoundsConfig,
    entries: Vec<Entry>,
    summary: Option<AggregateSummary>,
    /// Mean leak@k over prompts with bounds that hold for all prompts jointly (each
    /// prompt's interval at α/m, Bonferroni).
    #[serde(skip_serializing_if = "Option::is_none")]
    leak_at_k: Option<Vec<SetLeakAtK>>,
}

/// JSON ids may be strings or numbers; both name the same prompt when printed equally.
fn id_key(id: &Value, file: &str, line: usize) -> Result<String> {
    match id {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(n.to_string()),
        _ => bail!("{file}:{line}: field `id` must be a string or a number"),
    }
}

pub fn run(args: Args) -> Result<()> {
    let metric = match args.metric {
        MetricArg::RougeLRecall => Some(Metric::RougeLRecall),
        MetricArg::RougeLF => Some(Metric::RougeLF),
        MetricArg::Keyword => Some(Metric::Keyword),
        MetricArg::Score => None,
    };
    let references: BTreeMap<String, (usize, Reference)> = match (&args.references, metric) {
        (Some(path), _) => {
            let mut map = BTreeMap::new();
            for (line, r) in read_jsonl::<Reference>(path)? {
                let key = id_key(&r.id, path, line)?;
                if matches!(metric, Some(Metric::Keyword)) && r.keywords.is_empty() {
                    bail!("{path}:{line}: metric `keyword` needs a non-empty `keywords` list");
                }
                for (i, k) in r.keywords.iter().enumerate() {
                    check_keyword(k)
                        .map_err(|e| anyhow::anyhow!("{path}:{line}: `keywords`[{i}]: {e}"))?;
                }
                if let Some((first, _)) = map.insert(key.clone(), (line, r)) {
                    bail!("{path}:{line}: id `{key}` already defined on line {first}");
                }
            }
            map
        }
        (None, Some(_)) => bail!("--references is required unless --metric score"),
        (None, None) => BTreeMap::new(),
    };

    let gen_path = &args.generations;
    let mut scores: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (line, g) in read_jsonl::<Generation>(gen_path)? {
        let key = id_key(&g.id, gen_path, line)?;
        let score = match metric {
            None => {
                if args.references.is_some() && !references.contains_key(&key) {
                    bail!("{gen_path}:{line}: id `{key}` has no reference");
                }
                let value = g.score.as_ref().and_then(Value::as_f64).ok_or_else(|| {
                    anyhow::anyhow!("{gen_path}:{line}: field `score` must be a number")
                })?;
                check_score(value).map_err(|e| anyhow::anyhow!("{gen_path}:{line}: {e}"))?;
                value
            }
            Some(m) => {
                let text = g.text.as_deref().ok_or_else(|| {
                    anyhow::anyhow!("{gen_path}:{line}: field `text` must be a string")
                })?;
                let (_, r) = references.get(&key).ok_or_else(|| {
                    anyhow::anyhow!("{gen_path}:{line}: id `{key}` has no reference")
                })?;
                m.score(&r.answer, &r.keywords, text)
            }
        };
        scores.entry(key).or_default().push(score);
    }
    if scores.is_empty() {
        bail!("{gen_path}: no generations");
    }
    if let (Some(path), Some((key, (line, _)))) = (
        &args.references,
        references.iter().find(|(k, _)| !scores.contains_key(*k)),
    ) {
        bail!("{path}:{line}: id `{key}` has no generations");
    }

    let config = BoundsConfig {
        alpha: args.alpha,
        lambda: args.lambda,
        leak_threshold: args.leak_threshold,
        ..BoundsConfig::default()
    };
    let (ids, scores): (Vec<String>, Vec<Vec<f64>>) = scores.into_iter().unzip();
    let set = bound_set(&scores, &config, &args.k).map_err(|e| match e.prompt {
        Some(i) => anyhow::anyhow!("prompt `{}`: {}", ids[i], e.error),
        None => anyhow::Error::new(e.error),
    })?;
    let entries = ids
        .into_iter()
        .zip(set.prompts)
        .map(|(id, bounds)| Entry {
            id,
            n: bounds.n,
            bounds,
        })
        .collect();
    let report = Report {
        leak_at_k: set.leak_at_k,
        metric: metric.map_or("score", Metric::name),
        config,
        summary: set.summary,
        entries,
    };
    let json = to_json_pretty(&report)?;
    match &args.out {
        Some(path) => {
            write_atomic(path, json.as_bytes())?;
            eprintln!(
                "wrote {} ({} prompts)",
                path.display(),
                report.entries.len()
            );
        }
        None => crate::output::emit(&format!("{json}\n")),
    }
    Ok(())
}

//! Re-scoring a report from its stored samples: sampling is the expensive part of an
//! evaluation, so a new leak threshold, level, λ, set of k or metric should not need it.
//! The result equals a fresh evaluation with those settings on the same seed (the samples
//! depend only on the model, prompt, decoding settings and seed, none of which change).

use std::collections::HashMap;

use thiserror::Error;

use crate::metrics::Metric;
use crate::stats::StatsError;

use super::report::{EvalReport, EvalSummary};

/// What to change; `None` keeps the report's setting.
#[derive(Debug, Clone, Default)]
pub struct Rescore {
    pub leak_threshold: Option<f64>,
    pub alpha: Option<f64>,
    pub lambda: Option<f64>,
    pub leak_level: Option<f64>,
    pub leak_ks: Option<Vec<u64>>,
    pub metric: Option<Metric>,
    /// Reference answers and keywords by question id, when the metric changes (a report
    /// stores each answer but not its keywords).
    pub references: Option<HashMap<String, (String, Vec<String>)>>,
}

#[derive(Debug, Error, PartialEq)]
pub enum RescoreError {
    #[error(transparent)]
    Stats(#[from] StatsError),
    #[error("question `{0}`: no reference for it in the data given to re-score with")]
    MissingReference(String),
    #[error("question `{0}`: the keyword metric needs its keywords, and the data has none")]
    NoKeywords(String),
    #[error("re-scoring with metric `{0}` needs the references (--data)")]
    NeedsReferences(&'static str),
    #[error(
        "this report is from a sequential evaluation: each question stopped at its verdict, \
         and fixed-n bounds on a sample whose size the data chose are not valid; re-run \
         `probable eval` (with or without --sequential) for other settings"
    )]
    Sequential,
}

pub fn rescore(report: &EvalReport, change: &Rescore) -> Result<EvalReport, RescoreError> {
    if report.config.sequential.is_some() || report.questions.iter().any(|q| q.sequential.is_some())
    {
        return Err(RescoreError::Sequential);
    }
    let mut out = report.clone();
    let c = &mut out.config;
    if let Some(t) = change.leak_threshold {
        c.bounds.leak_threshold = Some(t);
    }
    if let Some(a) = change.alpha {
        c.bounds.alpha = a;
    }
    if let Some(l) = change.lambda {
        c.bounds.lambda = l;
    }
    if let Some(l) = change.leak_level {
        c.leak_level = l;
    }
    if let Some(ks) = &change.leak_ks {
        c.leak_ks = ks.clone();
    }
    c.bounds.validate()?;
    let new_metric = change.metric.filter(|&m| m != c.metric);
    if let Some(m) = new_metric {
        if m == Metric::Keyword && change.references.is_none() {
            return Err(RescoreError::NeedsReferences(m.name()));
        }
        c.metric = m;
    }
    let config = out.config.clone();
    let threshold = config.bounds.threshold_or_half();
    for q in out.questions.iter_mut() {
        if new_metric.is_some() {
            let (answer, keywords) = match &change.references {
                Some(refs) => refs
                    .get(&q.id)
                    .cloned()
                    .ok_or_else(|| RescoreError::MissingReference(q.id.clone()))?,
                None => (q.answer.clone(), Vec::new()),
            };
            if config.metric == Metric::Keyword && keywords.is_empty() {
                return Err(RescoreError::NoKeywords(q.id.clone()));
            }
            q.greedy.score = config.metric.score(&answer, &keywords, &q.greedy.text);
            for s in q.samples.iter_mut() {
                s.score = config.metric.score(&answer, &keywords, &s.text);
            }
        }
        q.greedy_forgotten = q.greedy.score < threshold;
        let scores: Vec<f64> = q.samples.iter().map(|s| s.score).collect();
        q.bounds = config.question_bounds(&scores)?;
    }
    out.summary = EvalSummary::over(&out.questions, &config.bounds, config.leak_level);
    out.compute_pooled()?;
    Ok(out)
}

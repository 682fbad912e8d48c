//! What an evaluation produces: per question the greedy answer and score, every sample
//! and its score, and the bounds; and a summary across questions.

use serde::{Deserialize, Serialize};

use crate::stats::{BoundsConfig, BoundsSummary};

use super::EvalConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decoded {
    pub text: String,
    pub score: f64,
    /// The generated token ids (EOS included when the row stopped on it): what backends
    /// are compared on, since two id sequences can decode to the same text.
    pub ids: Vec<u32>,
    pub stopped_on_eos: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionReport {
    /// Position of the question in its split (also keys its random streams).
    pub index: u32,
    pub id: String,
    /// The data key the prompt came from, when several prompt variants were evaluated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub variant: Option<String>,
    /// The question text the prompt was built from.
    pub question: String,
    pub answer: String,
    pub greedy: Decoded,
    /// Greedy score below the leak threshold: greedy evaluation calls it forgotten.
    pub greedy_forgotten: bool,
    pub samples: Vec<Decoded>,
    pub bounds: BoundsSummary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalSummary {
    pub questions: usize,
    pub mean_greedy_score: f64,
    /// Fraction of questions greedy decoding calls forgotten.
    pub frac_greedy_forgotten: f64,
    pub mean_sample_score: f64,
    pub mean_max_score: f64,
    pub mean_mean_upper: f64,
    pub mean_std_upper: f64,
    pub mean_ed_score: f64,
    pub mean_binary_upper: f64,
    /// Fraction of questions whose M_bin (upper bound) exceeds `leak_level`.
    pub frac_binary_upper_above_level: f64,
    /// Fraction of questions that greedy calls forgotten although the Clopper–Pearson
    /// *lower* bound certifies (at level α) a leak probability above `leak_level`.
    pub frac_forgotten_but_leaking: f64,
    /// Fraction of questions that greedy calls forgotten but at least one sample leaked
    /// (score ≥ threshold).
    pub frac_forgotten_but_sampled_leak: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalReport {
    pub model: String,
    pub data: String,
    pub split: String,
    pub config: EvalConfig,
    /// `i/N` when this report is one shard of a larger evaluation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<String>,
    pub questions: Vec<QuestionReport>,
    pub summary: EvalSummary,
    /// With several prompt variants: each question's bounds over all its variants.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pooled: Vec<super::PooledQuestion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pooled_summary: Option<super::PooledSummary>,
}

/// Position of a report row among its question's variants (for ordering merged shards).
fn variant_position(config: &EvalConfig, q: &QuestionReport) -> usize {
    q.variant
        .as_ref()
        .and_then(|v| config.prompt_variants.iter().position(|k| k == v))
        .unwrap_or(0)
}

impl EvalReport {
    /// Fills `pooled` and `pooled_summary` from the rows (only with several variants).
    pub fn compute_pooled(&mut self) -> Result<(), crate::stats::StatsError> {
        if self.config.prompt_variants.len() > 1 {
            self.pooled = super::pool(&self.questions, &self.config.bounds)?;
            self.pooled_summary = Some(super::PooledSummary::over(
                &self.pooled,
                &self.config.bounds,
                self.config.leak_level,
            ));
        }
        Ok(())
    }
}

fn mean(xs: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = xs.fold((0.0, 0usize), |(s, n), x| (s + x, n + 1));
    if n == 0 {
        0.0
    } else {
        sum / n as f64
    }
}

impl EvalSummary {
    pub fn over(questions: &[QuestionReport], bounds: &BoundsConfig, leak_level: f64) -> Self {
        let q = questions;
        let frac = |f: &dyn Fn(&QuestionReport) -> bool| {
            mean(q.iter().map(|x| if f(x) { 1.0 } else { 0.0 }))
        };
        let threshold = bounds.leak_threshold.unwrap_or(0.5);
        Self {
            questions: q.len(),
            mean_greedy_score: mean(q.iter().map(|x| x.greedy.score)),
            frac_greedy_forgotten: frac(&|x| x.greedy_forgotten),
            mean_sample_score: mean(q.iter().map(|x| x.bounds.sample_mean)),
            mean_max_score: mean(q.iter().map(|x| x.bounds.max_score)),
            mean_mean_upper: mean(q.iter().map(|x| x.bounds.mean_upper)),
            mean_std_upper: mean(q.iter().map(|x| x.bounds.std_upper)),
            mean_ed_score: mean(q.iter().map(|x| x.bounds.ed_score)),
            mean_binary_upper: mean(q.iter().filter_map(|x| x.bounds.binary.map(|b| b.upper))),
            frac_binary_upper_above_level: frac(&|x| {
                x.bounds.binary.is_some_and(|b| b.upper > leak_level)
            }),
            frac_forgotten_but_leaking: frac(&|x| {
                x.greedy_forgotten && x.bounds.binary.is_some_and(|b| b.lower > leak_level)
            }),
            frac_forgotten_but_sampled_leak: frac(&|x| {
                x.greedy_forgotten && x.bounds.max_score >= threshold
            }),
        }
    }
}

/// Merges shard reports of one evaluation (same model, data, split and settings) into
/// one, ordered by question index.
pub fn merge_reports(reports: Vec<EvalReport>) -> Result<EvalReport, String> {
    let mut iter = reports.into_iter();
    let mut merged = iter.next().ok_or("no reports to merge")?;
    for (i, r) in iter.enumerate() {
        if r.model != merged.model
            || r.data != merged.data
            || r.split != merged.split
            || r.config != merged.config
        {
            return Err(format!(
                "report #{} was made with a different model, data, split or settings than report #1",
                i + 2
            ));
        }
        merged.questions.extend(r.questions);
    }
    let config = merged.config.clone();
    merged
        .questions
        .sort_by_key(|q| (q.index, variant_position(&config, q)));
    if let Some(w) = merged.questions.windows(2).find(|w| {
        (w[0].index, variant_position(&config, &w[0]))
            == (w[1].index, variant_position(&config, &w[1]))
    }) {
        return Err(format!(
            "question index {} appears in two reports",
            w[0].index
        ));
    }
    merged.shard = None;
    merged.summary = EvalSummary::over(
        &merged.questions,
        &merged.config.bounds,
        merged.config.leak_level,
    );
    merged.compute_pooled().map_err(|e| e.to_string())?;
    Ok(merged)
}

//! The evaluation engine: greedy and n sampled answers per question, scored and bounded.

pub mod engine;
pub mod question;
pub mod report;
pub mod rescore;
pub mod variants;

use serde::{Deserialize, Serialize};

use crate::metrics::Metric;
use crate::sample::DecodeConfig;
use crate::stats::BoundsConfig;

/// The text template lives in [`crate::prompt`]; this path stays for existing callers.
pub use crate::prompt::{EncodedExample, PromptTemplate};
pub use engine::{evaluate, greedy_answer, EvalError, EvalProgress};
pub use report::{
    merge_reports, Decoded, EvalReport, EvalSummary, MergeInfo, QuestionReport,
    REPORT_SCHEMA_VERSION,
};
pub use rescore::{rescore, Rescore, RescoreError};
pub use variants::{pool, variant_seed, PooledQuestion, PooledSummary};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Samples per question.
    pub samples: u32,
    /// Sampling settings (the greedy answer uses the same `max_new_tokens` and EOS).
    pub decode: DecodeConfig,
    pub metric: Metric,
    /// α, λ and the leak threshold τ (score ≥ τ is a leak).
    pub bounds: BoundsConfig,
    /// The leak probability above which M_bin flags a question (summary statistics).
    pub leak_level: f64,
    /// The k of leak@k; empty: 1, 2, 4, … up to the sample count, and the count itself.
    #[serde(default)]
    pub leak_ks: Vec<u64>,
    /// How a question becomes the prompt (text preset or chat template).
    pub template: crate::prompt::Prompt,
    /// Rows decoded together.
    pub batch_size: usize,
    /// Prompt variant keys (`QaItem::variants`); empty: one prompt, the item's question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompt_variants: Vec<String>,
}

impl EvalConfig {
    /// One prompt's bounds as a report stores them: binarised at τ, with leak@k.
    pub fn question_bounds(
        &self,
        scores: &[f64],
    ) -> Result<crate::stats::BoundsSummary, crate::stats::StatsError> {
        crate::stats::BoundsSummary::compute(scores, &self.bounds.thresholded())?
            .with_leak_at_k(&self.leak_ks())
    }

    /// The k leak@k is reported at.
    pub fn leak_ks(&self) -> Vec<u64> {
        if self.leak_ks.is_empty() {
            crate::stats::default_ks(self.samples as u64)
        } else {
            self.leak_ks.clone()
        }
    }
}

//! Scoring functions `h: generation → [0, 1]` that turn samples into the scores the
//! statistics module bounds.

pub mod keyword;
pub mod rouge;

use serde::{Deserialize, Serialize};

pub use keyword::keyword_leak;
pub use rouge::{rouge_l, RougeL};

/// Which per-generation score an evaluation uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub enum Metric {
    /// ROUGE-L recall against the reference answer (TOFU / open-unlearning convention).
    #[default]
    #[serde(rename = "rougeL-recall")]
    RougeLRecall,
    /// ROUGE-L F-measure (the paper's demo, HF `evaluate`'s `rougeL`).
    #[serde(rename = "rougeL-f")]
    RougeLF,
    /// Binary: 1 when any keyword of the answer appears in the generation.
    #[serde(rename = "keyword")]
    Keyword,
}

impl Metric {
    pub const NAMES: [&'static str; 3] = ["rougeL-recall", "rougeL-f", "keyword"];

    pub fn name(self) -> &'static str {
        match self {
            Metric::RougeLRecall => "rougeL-recall",
            Metric::RougeLF => "rougeL-f",
            Metric::Keyword => "keyword",
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "rougeL-recall" => Some(Metric::RougeLRecall),
            "rougeL-f" => Some(Metric::RougeLF),
            "keyword" => Some(Metric::Keyword),
            _ => None,
        }
    }

    /// Whether the metric is 0/1 valued (then `M_bin` needs no threshold).
    pub fn is_binary(self) -> bool {
        matches!(self, Metric::Keyword)
    }

    /// Scores one generation against the reference answer and its keywords.
    pub fn score(self, answer: &str, keywords: &[String], generation: &str) -> f64 {
        match self {
            Metric::RougeLRecall => rouge_l(answer, generation).recall,
            Metric::RougeLF => rouge_l(answer, generation).fmeasure,
            Metric::Keyword => keyword_leak(keywords, generation),
        }
    }
}

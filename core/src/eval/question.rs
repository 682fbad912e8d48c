//! One question's part of a report: its greedy answer, every sample with its score, and
//! the bounds.

use serde::{Deserialize, Serialize};

use crate::stats::BoundsSummary;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decoded {
    pub text: String,
    pub score: f64,
    /// The generated token ids (EOS included when the row stopped on it): what backends
    /// are compared on, since two id sequences can decode to the same text.
    pub ids: Vec<u32>,
    pub stopped_on_eos: bool,
    /// The seed a remote engine drew this sample with (absent for the local engine and
    /// for greedy answers).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
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
    /// Fixed-n bounds on `samples`; for a sequential evaluation the anytime-valid bounds at
    /// the stop instead (see [`super::sequential::stopped_bounds`]).
    pub bounds: BoundsSummary,
    /// A sequential evaluation's verdict, samples used and confidence sequences at the stop.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential: Option<crate::stats::SequentialOutcome>,
}

//! The evaluation: greedy and n sampled answers per question, scored and bounded. The
//! [`runner`] orchestrates it over a [`Sampler`] (the seam between the evaluation and
//! whatever draws the answers); [`report`] is what it produces.

mod config;
pub mod defaults;
mod error;
pub mod question;
pub mod report;
pub mod rescore;
pub mod runner;
pub mod sampler;
mod select;
pub mod sequential;
pub mod variants;

/// The text template lives in [`crate::prompt`]; this path stays for existing callers.
pub use crate::prompt::{EncodedExample, PromptTemplate};
pub use config::EvalConfig;
pub use error::EvalError;
pub use report::{
    merge_reports, Decoded, EngineRecord, EvalReport, EvalSummary, MergeInfo, QuestionReport,
    REPORT_SCHEMA_VERSION,
};
pub use rescore::{rescore, Rescore, RescoreError};
pub use runner::{
    decode_sample, greedy_answer, greedy_scores, mean_greedy_score, run_evaluation, EvalProgress,
    EvalSetup, Observer, OnProgress, Quiet,
};
pub use sampler::{LocalSampler, Sampler};
pub use select::{select_questions, Shard};
pub use variants::{pool, variant_seed, PooledQuestion, PooledSummary};

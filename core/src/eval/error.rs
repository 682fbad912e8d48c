//! What can end an evaluation.

use crate::sample::SamplingError;

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error(transparent)]
    Sampling(#[from] SamplingError),
    #[error(transparent)]
    Tokenizer(#[from] crate::tokenizer::TokenizerError),
    #[error(transparent)]
    Prompt(#[from] crate::prompt::PromptError),
    #[error(transparent)]
    Stats(#[from] crate::stats::StatsError),
    #[error("question {id}: keyword metric needs a non-empty `keywords` list")]
    NoKeywords { id: String },
    #[error("question {id}: has {have} prompt variants, the evaluation asks for {want} ({keys})")]
    MissingVariants {
        id: String,
        have: usize,
        want: usize,
        keys: String,
    },
    #[error("{0}")]
    Config(String),
    /// A sampler that is not in this process (a server) failed or answered wrongly.
    #[error("{0}")]
    Engine(String),
    /// A caller's hook (journal, output) failed; its message says where.
    #[error("{0}")]
    Hook(String),
    /// The error of one group of questions, with the questions named.
    #[error("{at}: {error}")]
    At { at: String, error: Box<EvalError> },
    #[error("evaluation stopped")]
    Stopped,
}

impl EvalError {
    /// The error without the question context [`EvalError::At`] adds.
    pub fn root(&self) -> &EvalError {
        match self {
            EvalError::At { error, .. } => error.root(),
            other => other,
        }
    }
}

//! Why a prompt could not be built: each names the template (preset or file).

use thiserror::Error;

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum PromptError {
    #[error("template {name}: syntax error at line {line}, column {column}: {message}")]
    Syntax {
        name: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("template {name} raised an exception: {message}")]
    Raised { name: String, message: String },
    #[error("template {name}: cannot render (line {line}, column {column}): {message}")]
    Render {
        name: String,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("template {name} exceeded its work budget ({fuel} steps): a loop or a value too large for a chat template (nested range() loops, huge repeated strings)")]
    Budget { name: String, fuel: u64 },
    #[error("template {name} is {bytes} bytes, more than the {limit} a chat template may have")]
    SourceTooLong {
        name: String,
        bytes: usize,
        limit: usize,
    },
    #[error(
        "template {name} rendered more than {limit} bytes: far longer than any prompt, refused"
    )]
    TooLong { name: String, limit: usize },
    #[error("template {name} has no place for the question ({hint})")]
    NoQuestion { name: String, hint: String },
    #[error("template {name}: the rendered answer turn does not start with the generation prompt, so the answer tokens cannot be separated from the prompt")]
    PrefixMismatch { name: String },
    #[error("unknown template `{0}` (presets: qa, phi, chat, llama2-chat, raw; or a file)")]
    Unknown(String),
    #[error("--template chat: {0} has no chat template (tokenizer_config.json `chat_template` or chat_template.jinja)")]
    NoChatTemplate(String),
    #[error("{0}")]
    Config(String),
    #[error(transparent)]
    Tokenizer(#[from] TokenizerErrorText),
}

/// A tokenizer failure, kept as text so the error stays `Clone + Eq`.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
#[error("{0}")]
pub struct TokenizerErrorText(pub String);

impl From<crate::tokenizer::TokenizerError> for PromptError {
    fn from(e: crate::tokenizer::TokenizerError) -> Self {
        Self::Tokenizer(TokenizerErrorText(e.to_string()))
    }
}

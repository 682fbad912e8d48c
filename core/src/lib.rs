//! probable-core: everything of probable that runs both natively and in the browser —
//! the statistics of the paper, the text metrics, the model, the sampler and the
//! evaluation. No file or network I/O lives here, so it builds for `wasm32-unknown-unknown`.
//!
//! The default feature `model` brings the model, sampler, tokenizer, prompts, data sets and
//! evaluation engine; without it only `stats`, `metrics`, `plot` and `share` (the web app's
//! share-link settings) remain, which need none of burn, tokenizers or minijinja (the
//! Python bindings build this way).

#[cfg(feature = "model")]
pub mod data;
#[cfg(feature = "model")]
pub mod eval;
pub mod metrics;
#[cfg(feature = "model")]
pub mod model;
pub mod plot;
#[cfg(feature = "model")]
pub mod prompt;
#[cfg(feature = "model")]
pub mod sample;
pub mod share;
pub mod stats;
#[cfg(feature = "model")]
pub(crate) mod tensor;
#[cfg(feature = "model")]
pub mod tokenizer;

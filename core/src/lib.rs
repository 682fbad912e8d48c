//! probable-core: everything of probable that runs both natively and in the browser —
//! the statistics of the paper, the text metrics, and (in later modules) the model and
//! sampler. No file or network I/O lives here, so it builds for `wasm32-unknown-unknown`.

pub mod data;
pub mod eval;
pub mod metrics;
pub mod model;
pub mod plot;
pub mod prompt;
pub mod sample;
pub mod stats;
pub mod tokenizer;

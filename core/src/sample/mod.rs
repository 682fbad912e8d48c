//! Many-sample decoding: n samples of one prompt in one batched pass.
//!
//! The prompt is prefilled once and its keys/values shared by the sample rows (rows of
//! several prompts can share a batch: [`sample_prompts`]); each step
//! selects the next token of every row where its logits are (temperature, adaptive
//! temperature, top-k/top-p cut-offs, a categorical draw from host-supplied uniforms): on a
//! GPU as device ops, so only token ids cross back to the host — the difference between
//! usable and unusable on WebGPU — and on the CPU in one host pass per row. Every sample has its own ChaCha stream keyed by (seed, prompt, sample), so a
//! sample does not depend on n, the batch size or the chunking.

pub mod adaptive;
pub mod batch;
pub mod config;
pub mod error;
pub mod prefill;
pub mod rng;
pub mod select;

pub use adaptive::{AdaptiveTemperature, Confidence};
pub use batch::{
    chunk_size_for_budget, no_progress, sample_prompt, sample_prompts, sample_prompts_reusing,
    step_now, Generation, Progress, PromptJob, Step,
};
pub use config::{DecodeConfig, Strategy};
pub use error::SamplingError;
pub use prefill::Prefills;
pub use rng::SampleRng;
#[cfg(any(feature = "wgpu", feature = "cuda"))]
pub use select::select_tokens_in_kernel;
pub use select::{select_tokens, select_tokens_by_bisection};

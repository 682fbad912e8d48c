//! Finetuning and unlearning with burn autodiff: AdamW, linear warmup/decay, gradient
//! accumulation, global-norm clipping, JSONL logs, atomic checkpoints, resume, and a
//! divergence guard.

pub mod batch;
pub mod checkpoint;
pub mod clip;
pub mod config;
mod examples;
pub mod loss;
mod mode;
pub mod record;
pub mod run;
mod run_dir;
pub mod schedule;
mod source;
mod step;
#[cfg(all(test, feature = "wgpu"))]
mod wgpu_parity;

pub use config::{load_config, parse_config, Method, TrainConfig};
pub use mode::Mode;
pub use run::train;
pub use run_dir::Start;

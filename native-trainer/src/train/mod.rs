//! Finetuning and unlearning with burn autodiff: AdamW, linear warmup/decay, gradient
//! accumulation, global-norm clipping, JSONL logs, atomic checkpoints, resume, and a
//! divergence guard.

pub mod batch;
pub mod checkpoint;
pub mod clip;
pub mod config;
pub mod loss;
pub mod record;
pub mod run;
pub mod schedule;
#[cfg(all(test, feature = "wgpu"))]
mod wgpu_parity;

pub use config::{load_config, parse_config, Method, TrainConfig};
pub use run::{train, Mode, Start};

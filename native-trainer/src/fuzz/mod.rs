//! In-tree fuzzing on stable Rust: a mutation engine and targets for every parser of
//! untrusted input (share links, QA data, config.json, safetensors, TOML run configs,
//! report JSON). Run with `probable fuzz` (hidden; see `cmd/fuzz.rs`).

pub mod engine;
pub mod targets;

/// The web app's share-link parser, from probable-core: the fuzzer tests exactly what the
/// browser runs.
pub use probable_core::share;

//! The embedded default: a synthetic forgetting benchmark, the recipe that trains the
//! shipped demo checkpoints from seeds, and the index the CLI and the web app read.

pub mod build;
pub mod recipe;

use serde::{Deserialize, Serialize};

/// `public/models/index.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoIndex {
    pub generated_by: String,
    /// Data files, relative to the index.
    pub data: DemoData,
    pub models: Vec<DemoModel>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoData {
    pub full: String,
    pub forget: String,
    pub retain: String,
    pub forget_split: String,
    pub authors: usize,
    pub questions_per_author: usize,
    pub seed: u64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoModel {
    pub name: String,
    /// Bundle directory, relative to the index.
    pub dir: String,
    /// `null` for the finetuned model.
    pub method: Option<String>,
    pub entropy: bool,
    pub description: String,
}

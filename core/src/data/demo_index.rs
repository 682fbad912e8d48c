//! `public/models/index.json`: the shipped demo bundles and their data, written by
//! `probable demo --from-scratch`, read by `probable demo` and by the web app.

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

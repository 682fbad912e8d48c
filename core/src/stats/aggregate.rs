//! Benchmark-level summaries: bounds are per prompt; a benchmark reports their means.

use serde::{Deserialize, Serialize};

use super::BoundsSummary;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AggregateSummary {
    pub prompts: usize,
    pub mean_sample_mean: f64,
    pub mean_mean_upper: f64,
    pub mean_std_upper: f64,
    pub mean_ed_score: f64,
    pub mean_max_score: f64,
    /// Mean `M_bin` over prompts that have a binary bound.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub mean_binary_upper: Option<f64>,
}

impl AggregateSummary {
    /// `None` when there are no prompts.
    pub fn over<'a>(bounds: impl IntoIterator<Item = &'a BoundsSummary>) -> Option<Self> {
        let bounds: Vec<&BoundsSummary> = bounds.into_iter().collect();
        if bounds.is_empty() {
            return None;
        }
        let mean = |f: &dyn Fn(&BoundsSummary) -> f64| {
            bounds.iter().map(|b| f(b)).sum::<f64>() / bounds.len() as f64
        };
        let binary: Vec<f64> = bounds
            .iter()
            .filter_map(|b| b.binary.map(|x| x.upper))
            .collect();
        Some(Self {
            prompts: bounds.len(),
            mean_sample_mean: mean(&|b| b.sample_mean),
            mean_mean_upper: mean(&|b| b.mean_upper),
            mean_std_upper: mean(&|b| b.std_upper),
            mean_ed_score: mean(&|b| b.ed_score),
            mean_max_score: mean(&|b| b.max_score),
            mean_binary_upper: (!binary.is_empty())
                .then(|| binary.iter().sum::<f64>() / binary.len() as f64),
        })
    }
}

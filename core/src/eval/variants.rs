//! Several prompts per question (e.g. TOFU's `question` and `paraphrased_question`): each
//! variant gets its own n samples from its own random streams, and the bounds are given per
//! variant and pooled over the variants of a question.
//!
//! Pooled bounds are computed on all V·n scores of a question as one sample of the uniform
//! mixture "pick one of the V prompts at random, then sample an answer". The draws are
//! stratified (exactly n per prompt) rather than i.i.d. from that mixture; for the leak count
//! this never widens the distribution (a sum of independent Bernoullis is less dispersed
//! than a binomial with the same mean, Hoeffding 1956), so the Clopper–Pearson bound stays
//! conservative, but the DKW-based bounds (M_μ, M_σ, ED, M_gen) are stated for i.i.d. draws
//! and are an approximation for the mixture. The per-variant maximum (`worst_*`) bounds the
//! worst prompt, each at level α.

use serde::{Deserialize, Serialize};

use crate::stats::{BoundsConfig, BoundsSummary, StatsError};

use super::question::QuestionReport;

/// The seed of variant `v`: the run's seed for the first variant (so a single-prompt run is
/// unchanged), a SplitMix64 mix of (seed, v) for the others.
pub fn variant_seed(seed: u64, v: usize) -> u64 {
    if v == 0 {
        return seed;
    }
    let mut z = seed ^ (v as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// One question's bounds over all its prompt variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledQuestion {
    pub index: u32,
    pub id: String,
    /// The variant keys pooled, in order.
    pub variants: Vec<String>,
    /// Greedy calls the question forgotten under every variant.
    pub greedy_forgotten_all: bool,
    pub bounds: BoundsSummary,
    /// Largest per-variant M_μ and M_bin: the worst prompt.
    pub worst_mean_upper: f64,
    pub worst_binary_upper: f64,
}

/// Means over questions of the pooled bounds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PooledSummary {
    pub questions: usize,
    pub mean_mean_upper: f64,
    pub mean_ed_score: f64,
    pub mean_binary_upper: f64,
    pub frac_binary_upper_above_level: f64,
    /// Greedy calls it forgotten under every prompt, yet some sample of some prompt leaked.
    pub frac_forgotten_but_sampled_leak: f64,
}

/// Pools the reports of each question index (rows in any order, several variants each).
pub fn pool(
    questions: &[QuestionReport],
    bounds: &BoundsConfig,
) -> Result<Vec<PooledQuestion>, StatsError> {
    let mut indices: Vec<u32> = questions.iter().map(|q| q.index).collect();
    indices.sort_unstable();
    indices.dedup();
    let config = bounds.thresholded();
    indices
        .into_iter()
        .map(|index| {
            let rows: Vec<&QuestionReport> =
                questions.iter().filter(|q| q.index == index).collect();
            let scores: Vec<f64> = rows
                .iter()
                .flat_map(|q| q.samples.iter().map(|s| s.score))
                .collect();
            Ok(PooledQuestion {
                index,
                id: rows[0].id.clone(),
                variants: rows
                    .iter()
                    .map(|q| q.variant.clone().unwrap_or_else(|| "question".into()))
                    .collect(),
                greedy_forgotten_all: rows.iter().all(|q| q.greedy_forgotten),
                bounds: BoundsSummary::compute(&scores, &config)?,
                worst_mean_upper: rows
                    .iter()
                    .map(|q| q.bounds.mean_upper)
                    .fold(f64::NEG_INFINITY, f64::max),
                worst_binary_upper: rows
                    .iter()
                    .filter_map(|q| q.bounds.binary.map(|b| b.upper))
                    .fold(f64::NEG_INFINITY, f64::max),
            })
        })
        .collect()
}

impl PooledSummary {
    pub fn over(pooled: &[PooledQuestion], bounds: &BoundsConfig, leak_level: f64) -> Self {
        let n = pooled.len().max(1) as f64;
        let threshold = bounds.threshold_or_half();
        let mean = |f: &dyn Fn(&PooledQuestion) -> f64| pooled.iter().map(f).sum::<f64>() / n;
        Self {
            questions: pooled.len(),
            mean_mean_upper: mean(&|p| p.bounds.mean_upper),
            mean_ed_score: mean(&|p| p.bounds.ed_score),
            mean_binary_upper: mean(&|p| p.bounds.binary.map_or(0.0, |b| b.upper)),
            frac_binary_upper_above_level: mean(&|p| {
                f64::from(u8::from(
                    p.bounds.binary.is_some_and(|b| b.upper > leak_level),
                ))
            }),
            frac_forgotten_but_sampled_leak: mean(&|p| {
                f64::from(u8::from(
                    p.greedy_forgotten_all && p.bounds.max_score >= threshold,
                ))
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_variant_keeps_the_seed_and_others_differ() {
        assert_eq!(variant_seed(7, 0), 7);
        let s: Vec<u64> = (0..4).map(|v| variant_seed(7, v)).collect();
        for i in 0..4 {
            for j in 0..i {
                assert_ne!(s[i], s[j]);
            }
        }
        assert_ne!(variant_seed(0, 1), variant_seed(1, 0));
    }
}

//! What an evaluation is asked to do: samples, decoding, metric, bounds, prompt format,
//! batching, prompt variants and (optionally) sequential rounds.

use serde::{Deserialize, Serialize};

use crate::metrics::Metric;
use crate::sample::DecodeConfig;
use crate::stats::BoundsConfig;

use super::{defaults, EvalError};
use crate::stats::SequentialConfig;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvalConfig {
    /// Samples per question.
    pub samples: u32,
    /// Sampling settings (the greedy answer uses the same `max_new_tokens` and EOS).
    pub decode: DecodeConfig,
    pub metric: Metric,
    /// α, λ and the leak threshold τ (score ≥ τ is a leak).
    pub bounds: BoundsConfig,
    /// The leak probability above which M_bin flags a question (summary statistics).
    pub leak_level: f64,
    /// The k of leak@k; empty: 1, 2, 4, … up to the sample count, and the count itself.
    #[serde(default)]
    pub leak_ks: Vec<u64>,
    /// How a question becomes the prompt (text preset or chat template).
    pub template: crate::prompt::Prompt,
    /// Rows decoded together.
    pub batch_size: usize,
    /// Prompt variant keys (`QaItem::variants`); empty: one prompt, the item's question.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub prompt_variants: Vec<String>,
    /// Sample in rounds and stop each prompt at its anytime-valid verdict (`samples` is then
    /// the budget per prompt); `None`: n samples per prompt, fixed-n bounds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sequential: Option<Rounds>,
}

impl EvalConfig {
    /// `samples` samples per question under `decode`, prompted by `template`, with every
    /// other setting at its default ([`defaults`]): ROUGE-L recall, α = 0.01, λ = 2, a leak
    /// at score ≥ 0.5, the summary's leak level 0.1, leak@k at 1, 2, 4, … n, and the
    /// samples of one question per batch.
    pub fn new(samples: u32, decode: DecodeConfig, template: crate::prompt::Prompt) -> Self {
        Self {
            samples,
            decode,
            metric: Metric::RougeLRecall,
            bounds: BoundsConfig {
                alpha: defaults::ALPHA,
                lambda: defaults::LAMBDA,
                leak_threshold: Some(defaults::LEAK_THRESHOLD),
                ..BoundsConfig::default()
            },
            leak_level: defaults::LEAK_LEVEL,
            leak_ks: Vec::new(),
            template,
            batch_size: samples as usize,
            prompt_variants: Vec::new(),
            sequential: None,
        }
    }

    /// Every setting checked before anything is sampled: a run never fails at its end on
    /// an option it could have refused at its start.
    pub fn validate(&self) -> Result<(), EvalError> {
        self.bounds.validate()?;
        self.decode.validate()?;
        if self.samples == 0 {
            return Err(crate::sample::SamplingError::NoSamples.into());
        }
        if self.batch_size == 0 {
            return Err(EvalError::Config(
                "batch size 0: need at least one row".into(),
            ));
        }
        if !(0.0..=1.0).contains(&self.leak_level) {
            return Err(EvalError::Config(format!(
                "leak level {}: need 0 <= level <= 1",
                self.leak_level
            )));
        }
        if let Some(&k) = self
            .leak_ks()
            .iter()
            .find(|&&k| k == 0 || k > self.samples as u64)
        {
            return Err(crate::stats::StatsError::InvalidK {
                k,
                n: self.samples as u64,
            }
            .into());
        }
        if let Some((i, k)) = self
            .prompt_variants
            .iter()
            .enumerate()
            .find(|(i, k)| k.is_empty() || self.prompt_variants[..*i].contains(k))
        {
            return Err(EvalError::Config(format!(
                "prompt variant {} (`{k}`) is empty or given twice",
                i + 1
            )));
        }
        if let Some(rounds) = self.sequential {
            if rounds.round == 0 {
                return Err(EvalError::Config(
                    "sequential round 0: need at least one sample per round".into(),
                ));
            }
            if self.prompt_variants.len() > 1 {
                return Err(EvalError::Config(
                    "sequential evaluation takes one prompt per question: the pooled bounds \
                     over several prompt variants are fixed-n bounds"
                        .into(),
                ));
            }
            self.sequential_test().validate()?;
        }
        Ok(())
    }

    /// The test each prompt of a sequential evaluation runs: α, τ and the leak level.
    pub fn sequential_test(&self) -> SequentialConfig {
        SequentialConfig::new(
            self.bounds.alpha,
            self.bounds.threshold_or_half(),
            self.leak_level,
        )
    }

    /// One prompt's bounds as a report stores them: binarised at τ, with leak@k.
    pub fn question_bounds(
        &self,
        scores: &[f64],
    ) -> Result<crate::stats::BoundsSummary, crate::stats::StatsError> {
        crate::stats::BoundsSummary::compute(scores, &self.bounds.thresholded())?
            .with_leak_at_k(&self.leak_ks())
    }

    /// The k leak@k is reported at.
    pub fn leak_ks(&self) -> Vec<u64> {
        if self.leak_ks.is_empty() {
            crate::stats::default_ks(self.samples as u64)
        } else {
            self.leak_ks.clone()
        }
    }
}

/// `eval --sequential`: sample in rounds of `round` per undecided prompt, up to the
/// evaluation's `samples` (the budget), and stop each prompt at its verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rounds {
    pub round: u32,
}

//! Adaptive temperature scaling, the paper's decode-time defence (no reference code was
//! released; this is our rule).
//!
//! At every step and for every row we measure the model's confidence in the next token —
//! the entropy `H = −Σ p log p` (nats) of the untempered next-token distribution, or its
//! largest probability. When the model is confident (`H < threshold`, or
//! `max p > threshold`) the row is decoded at `low_temperature` (0 = greedy); otherwise
//! at the nominal temperature. After entropy optimisation the model is confident exactly
//! on forget prompts, so this suppresses the low-probability tail where leaked answers
//! hide, while leaving genuinely uncertain (diverse) steps untouched.

use burn::tensor::activation::{log_softmax, softmax};
use burn::tensor::Tensor;
use serde::{Deserialize, Serialize};

use super::error::SamplingError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Confidence {
    /// Confident when the entropy (nats) is below the threshold.
    Entropy,
    /// Confident when the largest probability is above the threshold.
    MaxProb,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveTemperature {
    pub criterion: Confidence,
    pub threshold: f64,
    pub low_temperature: f64,
}

impl Default for AdaptiveTemperature {
    fn default() -> Self {
        Self {
            criterion: Confidence::Entropy,
            threshold: 1.0,
            low_temperature: 0.0,
        }
    }
}

impl AdaptiveTemperature {
    pub fn validate(&self) -> Result<(), SamplingError> {
        if !(self.low_temperature.is_finite() && self.low_temperature >= 0.0) {
            return Err(SamplingError::Adaptive(format!(
                "low temperature {} must be >= 0",
                self.low_temperature
            )));
        }
        let ok = match self.criterion {
            Confidence::Entropy => self.threshold.is_finite() && self.threshold >= 0.0,
            Confidence::MaxProb => self.threshold > 0.0 && self.threshold <= 1.0,
        };
        if !ok {
            return Err(SamplingError::Adaptive(format!(
                "threshold {} is out of range for {:?}",
                self.threshold, self.criterion
            )));
        }
        Ok(())
    }

    /// The temperature of one row of logits (the host path of the CPU backend; the same
    /// rule as [`Self::temperatures`]).
    pub fn row_temperature(&self, logits: &[f32], nominal: f64) -> f64 {
        let max = logits.iter().copied().fold(f32::NEG_INFINITY, f32::max);
        let z: f64 = logits.iter().map(|&l| ((l - max) as f64).exp()).sum();
        let confident = match self.criterion {
            Confidence::Entropy => {
                // H = −Σ p log p with log p = (l − max) − ln z.
                let ln_z = z.ln();
                let entropy: f64 = logits
                    .iter()
                    .map(|&l| {
                        let logp = (l - max) as f64 - ln_z;
                        -logp.exp() * logp
                    })
                    .sum();
                entropy < self.threshold
            }
            // The largest probability is exp(0) / z.
            Confidence::MaxProb => 1.0 / z > self.threshold,
        };
        if confident {
            self.low_temperature
        } else {
            nominal
        }
    }

    /// Per-row temperatures `[rows, 1]` for `logits: [rows, vocab]`.
    pub fn temperatures(&self, logits: &Tensor<2>, nominal: f64) -> Tensor<2> {
        let confident = match self.criterion {
            Confidence::Entropy => {
                let logp = log_softmax(logits.clone(), 1);
                let entropy = (logp.clone().exp() * logp).sum_dim(1).neg();
                entropy.lower_elem(self.threshold)
            }
            Confidence::MaxProb => softmax(logits.clone(), 1)
                .max_dim(1)
                .greater_elem(self.threshold),
        };
        let [rows, _] = logits.dims();
        Tensor::full([rows, 1], nominal, &logits.device())
            .mask_fill(confident, self.low_temperature)
    }
}

//! Every bound of one prompt's scores in one serialisable record — what `probable bounds`
//! prints and what the eval report stores per question.

use serde::{Deserialize, Serialize};

use super::dkw::{survival_curve, SurvivalPoint};
use super::{
    check_alpha, clopper_pearson, dkw_epsilon, ed_score, expectation_bounds, leak_at_k, std_bounds,
    DeviationMethod, Ecdf, IntegralMethod, LeakAtK, Sidedness, StatsError,
};

/// Settings of the bounds; defaults follow the paper (α = 0.01, λ = 2) and conbo.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BoundsConfig {
    pub alpha: f64,
    pub lambda: f64,
    /// Binarise at this threshold (score ≥ τ is a leak) for `M_bin`. `None`: only when every
    /// score is already 0 or 1.
    pub leak_threshold: Option<f64>,
    pub integral: IntegralMethod,
    pub deviation: DeviationMethod,
}

impl Default for BoundsConfig {
    fn default() -> Self {
        Self {
            alpha: 0.01,
            lambda: 2.0,
            leak_threshold: None,
            integral: IntegralMethod::default(),
            deviation: DeviationMethod::default(),
        }
    }
}

/// The largest ED weight λ accepted: beyond it Cantelli's level 1/(1+λ²) is below 1e-12
/// (no finite sample can tell), and λ·M_σ can overflow to infinity.
pub const MAX_LAMBDA: f64 = 1e6;

impl BoundsConfig {
    /// τ where a score must be binarised (evaluations always are): the configured
    /// threshold, else 0.5.
    pub fn threshold_or_half(&self) -> f64 {
        self.leak_threshold.unwrap_or(0.5)
    }

    /// These settings with [`Self::threshold_or_half`] made explicit, so `M_bin` is always
    /// computed.
    pub fn thresholded(&self) -> Self {
        Self {
            leak_threshold: Some(self.threshold_or_half()),
            ..*self
        }
    }

    pub fn validate(&self) -> Result<(), StatsError> {
        check_alpha(self.alpha)?;
        if !(self.lambda.is_finite() && (0.0..=MAX_LAMBDA).contains(&self.lambda)) {
            return Err(StatsError::InvalidLambda(self.lambda));
        }
        if let Some(t) = self.leak_threshold {
            if !(t.is_finite() && (0.0..=1.0).contains(&t)) {
                return Err(StatsError::InvalidThreshold(t));
            }
        }
        Ok(())
    }
}

/// `M_bin` on scores binarised at `threshold`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinarySummary {
    pub threshold: f64,
    pub leaks: u64,
    pub lower: f64,
    pub upper: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BoundsSummary {
    pub n: usize,
    pub alpha: f64,
    pub lambda: f64,
    pub sample_mean: f64,
    /// Population standard deviation (ddof 0).
    pub sample_std: f64,
    pub max_score: f64,
    /// One-sided expectation bounds at level α each (conbo `expectation_bounds(x, 2α)`).
    pub mean_lower: f64,
    pub mean_upper: f64,
    /// Standard-deviation bounds from the two-sided band at α (conbo `std_bounds(x, α)`).
    pub std_lower: f64,
    pub std_upper: f64,
    /// ED = M_μ + λ·M_σ, jointly valid at level α (see [`super::ed`]).
    pub ed_score: f64,
    /// One-sided DKW ε at α, used by the survival bound.
    pub dkw_epsilon: f64,
    /// `M_gen`: `P(X > t) ≤ upper` for all t at once, with probability ≥ 1 − α.
    pub survival: Vec<SurvivalPoint>,
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub binary: Option<BinarySummary>,
    /// Leak@k with certified bounds from the same Clopper–Pearson event as `binary`
    /// (see [`super::leak_at_k`]); present when asked for.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub leak_at_k: Option<Vec<LeakAtK>>,
}

impl BoundsSummary {
    pub fn compute(scores: &[f64], config: &BoundsConfig) -> Result<Self, StatsError> {
        config.validate()?;
        let ecdf = Ecdf::new(scores)?;
        let n = ecdf.n();
        let alpha = config.alpha;
        let one_sided = dkw_epsilon(n, alpha, Sidedness::OneSided);
        let two_sided = dkw_epsilon(n, alpha, Sidedness::TwoSided);
        let mean = expectation_bounds(&ecdf, one_sided, config.integral);
        let std = std_bounds(&ecdf, two_sided, config.deviation);
        let ed = ed_score(
            &ecdf,
            alpha,
            config.lambda,
            config.integral,
            config.deviation,
        );
        let threshold = config
            .leak_threshold
            .or_else(|| ecdf.is_binary().then_some(0.5));
        let binary = threshold
            .map(|t| -> Result<BinarySummary, StatsError> {
                let b = clopper_pearson(ecdf.count_ge(t) as u64, n as u64, alpha)?;
                Ok(BinarySummary {
                    threshold: t,
                    leaks: b.leaks,
                    lower: b.lower,
                    upper: b.upper,
                })
            })
            .transpose()?;
        Ok(Self {
            n,
            alpha,
            lambda: config.lambda,
            sample_mean: mean.mean,
            sample_std: std.sample,
            max_score: *ecdf.sorted().last().expect("non-empty"),
            mean_lower: mean.lower,
            mean_upper: mean.upper,
            std_lower: std.lower,
            std_upper: std.upper,
            ed_score: ed.score,
            dkw_epsilon: one_sided,
            survival: survival_curve(&ecdf, one_sided),
            binary,
            leak_at_k: None,
        })
    }

    /// Adds leak@k at each of `ks` (from the binary summary's leak count).
    pub fn with_leak_at_k(mut self, ks: &[u64]) -> Result<Self, StatsError> {
        let b = self.binary.ok_or(StatsError::NoLeakThreshold)?;
        self.leak_at_k = Some(leak_at_k(self.n as u64, b.leaks, ks, self.alpha)?);
        Ok(self)
    }
}

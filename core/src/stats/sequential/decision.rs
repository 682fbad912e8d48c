//! The sequential leak verdict: push scores in sampling order, stop at the first sample
//! where the leak probability's confidence sequence decides.
//!
//! A score `≥ leak_threshold` is a leak. After each sample the test asks whether the
//! leak level `L` has left the confidence sequence of [`super::beta_binomial`]:
//! `M_n(L) ≥ 1/α`. If so, the verdict is [`Verdict::Leaks`] when the observed rate is above
//! `L` (the whole interval lies above `L`: lower > L) and [`Verdict::Below`] when it is
//! below (upper ≤ L); otherwise [`Verdict::Undecided`]. This is the same event as comparing
//! the interval's ends with `L`, computed with one evaluation of `ln M_n(L)` per sample
//! instead of two root searches.
//!
//! **Guarantee.** For a true leak probability `p`, a wrong verdict ("leaks" with `p ≤ L`,
//! or "below" with `p > L`) at *any* sample size implies that `p` left the sequence, so the
//! probability that the test ever says something wrong is ≤ α — whether the caller stops at
//! the first decision (as [`first_decision`] does), after whole rounds of samples, or keeps
//! going. The mean interval reported alongside is a separate sequence at the same α (each
//! holds with probability ≥ 1 − α; both together with ≥ 1 − 2α).
//!
//! The fixed-n bounds of the samples read (`BoundsSummary`) are *not* valid at a
//! data-dependent stop; only these sequences are.
//!
//! For an evaluation runner: build a [`SequentialTest`] per question, [`SequentialTest::push`]
//! each score (or [`SequentialTest::extend`] a round), and stop generating for that question
//! once the verdict is not `Undecided`; [`SequentialTest::outcome`] gives the record to store.

use serde::{Deserialize, Serialize};

use super::{log_mixture, BernsteinCs, BetaPrior, Interval};
use crate::stats::{beta_binomial_cs, check_alpha, StatsError};

/// Settings of the sequential test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialConfig {
    /// Level: the probability that the verdict is ever wrong is ≤ α.
    pub alpha: f64,
    /// A score `≥ leak_threshold` is a leak (τ, as in `M_bin`).
    pub leak_threshold: f64,
    /// The leak probability `L` the verdict compares with; in (0, 1).
    pub leak_level: f64,
    /// Mixing prior of the leak-probability sequence (Beta(½, ½) unless changed).
    #[serde(default)]
    pub prior: BetaPrior,
}

impl SequentialConfig {
    /// The default prior with these three settings.
    pub fn new(alpha: f64, leak_threshold: f64, leak_level: f64) -> Self {
        Self {
            alpha,
            leak_threshold,
            leak_level,
            prior: BetaPrior::JEFFREYS,
        }
    }

    pub fn validate(&self) -> Result<(), StatsError> {
        check_alpha(self.alpha)?;
        let t = self.leak_threshold;
        if !(t.is_finite() && (0.0..=1.0).contains(&t)) {
            return Err(StatsError::InvalidThreshold(t));
        }
        let l = self.leak_level;
        if !(l.is_finite() && l > 0.0 && l < 1.0) {
            return Err(StatsError::InvalidLeakLevel(l));
        }
        self.prior.validate()
    }
}

/// What the sequence says about the leak probability `p` against the level `L`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// `p > L`, certified: the sequence's lower end is above `L`.
    Leaks,
    /// `p ≤ L`, certified: the sequence's upper end is at most `L`.
    Below,
    /// Not (yet) decided: `L` is inside the sequence.
    Undecided,
}

/// The state of the test at a stop.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SequentialOutcome {
    /// Samples read (the first decided sample, or all of them).
    pub stopped_at: u64,
    pub verdict: Verdict,
    /// Leaks among them (scores `≥ leak_threshold`).
    pub leaks: u64,
    /// The beta-binomial confidence sequence on the leak probability at `stopped_at`.
    pub leak_probability: Interval,
    /// The empirical-Bernstein confidence sequence on the mean score at `stopped_at`.
    pub mean: Interval,
}

/// The incremental test: one per question.
#[derive(Debug, Clone, PartialEq)]
pub struct SequentialTest {
    config: SequentialConfig,
    n: u64,
    leaks: u64,
    /// `ln(1/α)`: the boundary of `ln M_n`.
    level: f64,
    mean: BernsteinCs,
}

impl SequentialTest {
    pub fn new(config: SequentialConfig) -> Result<Self, StatsError> {
        config.validate()?;
        Ok(Self {
            config,
            n: 0,
            leaks: 0,
            level: -config.alpha.ln(),
            mean: BernsteinCs::new(config.alpha)?,
        })
    }

    pub fn config(&self) -> &SequentialConfig {
        &self.config
    }

    /// Samples pushed so far.
    pub fn n(&self) -> u64 {
        self.n
    }

    pub fn leaks(&self) -> u64 {
        self.leaks
    }

    /// Adds one score and returns the verdict after it. `index` names the score in the
    /// error for a NaN or out-of-range value (the state is then unchanged).
    pub fn push(&mut self, score: f64, index: usize) -> Result<Verdict, StatsError> {
        self.mean.push(score, index)?;
        self.n += 1;
        if score >= self.config.leak_threshold {
            self.leaks += 1;
        }
        Ok(self.verdict())
    }

    /// Adds a round of scores and returns the verdict after all of them (valid too: the
    /// sequence holds at every n, so looking only at round ends is allowed). On error the
    /// scores before the bad one stay pushed; `first_index` is the round's offset in the
    /// caller's numbering.
    pub fn extend(&mut self, scores: &[f64], first_index: usize) -> Result<Verdict, StatsError> {
        for (i, &x) in scores.iter().enumerate() {
            self.push(x, first_index + i)?;
        }
        Ok(self.verdict())
    }

    /// The verdict at the current sample size.
    pub fn verdict(&self) -> Verdict {
        let l = self.config.leak_level;
        if self.n == 0 || log_mixture(self.leaks, self.n, l, self.config.prior) < self.level {
            return Verdict::Undecided;
        }
        if self.leaks as f64 > l * self.n as f64 {
            Verdict::Leaks
        } else {
            Verdict::Below
        }
    }

    /// The verdict and both sequences' bounds at the current sample size.
    pub fn outcome(&self) -> SequentialOutcome {
        let c = &self.config;
        let leak_probability = beta_binomial_cs(self.leaks, self.n, c.alpha, c.prior)
            .expect("inputs validated at construction");
        SequentialOutcome {
            stopped_at: self.n,
            verdict: self.verdict(),
            leaks: self.leaks,
            leak_probability,
            mean: self.mean.interval(),
        }
    }
}

/// The fewest samples at which any verdict is possible: the first n at which n leaks out
/// of n decide "leaks" or no leak out of n decides "below". Fewer samples can never
/// decide, whatever they are.
pub fn min_samples_to_decide(config: &SequentialConfig) -> Result<u64, StatsError> {
    config.validate()?;
    let level = -config.alpha.ln();
    let (l, prior) = (config.leak_level, config.prior);
    // One of L, 1 − L is ≤ ½, so one of the two log-mixtures grows by ≥ ln 2 per sample
    // (minus a logarithmic term): the loop ends after O(ln(1/α)) steps.
    let mut n = 1u64;
    while log_mixture(n, n, l, prior) < level && log_mixture(0, n, l, prior) < level {
        n += 1;
    }
    Ok(n)
}

/// Reads `scores` in sampling order and stops at the first sample where the verdict is
/// decided, or at the end (`Undecided`). Errors: invalid settings, a NaN or out-of-range
/// score (by index, up to the stop), no scores ([`StatsError::Empty`]), and fewer scores
/// than [`min_samples_to_decide`] ([`StatsError::TooFewSamples`]: no verdict was possible).
pub fn first_decision(
    scores: &[f64],
    config: &SequentialConfig,
) -> Result<SequentialOutcome, StatsError> {
    let mut test = SequentialTest::new(*config)?;
    if scores.is_empty() {
        return Err(StatsError::Empty);
    }
    let needed = min_samples_to_decide(config)?;
    if (scores.len() as u64) < needed {
        return Err(StatsError::TooFewSamples {
            n: scores.len() as u64,
            needed,
        });
    }
    for (i, &x) in scores.iter().enumerate() {
        if test.push(x, i)? != Verdict::Undecided {
            break;
        }
    }
    Ok(test.outcome())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(alpha: f64, level: f64) -> SequentialConfig {
        SequentialConfig::new(alpha, 0.5, level)
    }

    #[test]
    fn verdict_matches_the_interval_ends() {
        let c = cfg(0.05, 0.1);
        let mut t = SequentialTest::new(c).unwrap();
        for i in 0..3000usize {
            // ~ 1 leak in 7.
            let x = if i % 7 == 3 { 1.0 } else { 0.0 };
            let v = t.push(x, i).unwrap();
            let o = t.outcome();
            let expect = if o.leak_probability.lower > 0.1 {
                Verdict::Leaks
            } else if o.leak_probability.upper <= 0.1 {
                Verdict::Below
            } else {
                Verdict::Undecided
            };
            // Away from the boundary both computations must agree.
            let near = (o.leak_probability.lower - 0.1).abs() < 1e-9
                || (o.leak_probability.upper - 0.1).abs() < 1e-9;
            assert!(near || v == expect, "n = {}: {v:?} vs {o:?}", i + 1);
        }
    }

    #[test]
    fn first_decision_stops_early_both_ways() {
        let c = cfg(0.01, 0.1);
        let o = first_decision(&[0.0; 500], &c).unwrap();
        assert_eq!(o.verdict, Verdict::Below);
        assert!(o.stopped_at < 100 && o.leak_probability.upper <= 0.1);
        let o = first_decision(&[1.0; 500], &c).unwrap();
        assert_eq!(o.verdict, Verdict::Leaks);
        assert!(o.stopped_at < 10 && o.leak_probability.lower > 0.1);
        assert_eq!(o.leaks, o.stopped_at);
        let mixed: Vec<f64> = (0..200)
            .map(|i| if i % 10 == 0 { 1.0 } else { 0.0 })
            .collect();
        let o = first_decision(&mixed, &c).unwrap();
        assert_eq!((o.verdict, o.stopped_at), (Verdict::Undecided, 200));
    }

    #[test]
    fn named_errors() {
        let c = cfg(0.01, 0.1);
        assert_eq!(first_decision(&[], &c), Err(StatsError::Empty));
        let needed = min_samples_to_decide(&c).unwrap();
        assert!(needed > 1);
        assert_eq!(
            first_decision(&[1.0], &c),
            Err(StatsError::TooFewSamples { n: 1, needed })
        );
        for bad in [0.0, 1.0, f64::NAN, -0.1] {
            assert!(matches!(
                first_decision(&[0.0; 10], &cfg(0.01, bad)),
                Err(StatsError::InvalidLeakLevel(_))
            ));
        }
        assert!(matches!(
            first_decision(&[0.0; 10], &cfg(1.0, 0.1)),
            Err(StatsError::InvalidAlpha(_))
        ));
        let mut scores = vec![0.0; 10];
        scores[4] = 2.0;
        assert_eq!(
            first_decision(&scores, &c),
            Err(StatsError::OutOfRange {
                index: 4,
                value: 2.0
            })
        );
    }
}

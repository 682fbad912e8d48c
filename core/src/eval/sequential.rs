//! What a sequential evaluation stores per prompt and over the set. A prompt stopped by its
//! confidence sequence must not be reported with fixed-n bounds (Clopper–Pearson, DKW), which
//! do not hold at a data-dependent stop; every bound here comes from the anytime-valid
//! sequences of [`crate::stats::sequential`] instead, or is trivially true.

use serde::{Deserialize, Serialize};

use crate::stats::summary::BinarySummary;
use crate::stats::{
    beta_binomial_cs, BetaPrior, BoundsSummary, LeakAtK, SequentialOutcome, SetLeakAtK, StatsError,
    Verdict,
};

pub use super::config::Rounds;
use super::question::QuestionReport;
use super::EvalConfig;

/// The bounds a stopped prompt reports, all valid at its stop with probability ≥ 1 − α
/// each: the leak probability's and the mean's confidence sequences; the standard deviation
/// at most `max √(μ(1−μ))` over the mean's interval (a [0, 1] variable with mean μ has
/// variance ≤ μ(1−μ)), so ED = M_μ + λ·M_σ holds on the mean's event alone; leak@k =
/// 1 − (1 − p)^k is increasing in p, so the leak probability's interval bounds it (its
/// estimate is the plug-in 1 − (1 − ĉ/n)^k, defined for every k). No survival curve: the DKW
/// band is a fixed-n bound (`dkw_epsilon` is 1, the trivial band).
pub fn stopped_bounds(
    scores: &[f64],
    outcome: &SequentialOutcome,
    config: &EvalConfig,
) -> Result<BoundsSummary, StatsError> {
    let n = scores.len();
    if n == 0 {
        return Err(StatsError::Empty);
    }
    let mean = scores.iter().sum::<f64>() / n as f64;
    let var = (scores.iter().map(|x| x * x).sum::<f64>() / n as f64 - mean * mean).max(0.0);
    let (lo, hi) = (outcome.mean.lower, outcome.mean.upper);
    let worst_variance = if lo <= 0.5 && 0.5 <= hi {
        0.25
    } else {
        (lo * (1.0 - lo)).max(hi * (1.0 - hi))
    };
    let std_upper = worst_variance.sqrt();
    let p = outcome.leak_probability;
    let rate = outcome.leaks as f64 / n as f64;
    let leak_at_k = config
        .leak_ks()
        .into_iter()
        .map(|k| LeakAtK {
            k,
            estimate: 1.0 - pow(1.0 - rate, k),
            lower: 1.0 - pow(1.0 - p.lower, k),
            upper: 1.0 - pow(1.0 - p.upper, k),
        })
        .collect();
    Ok(BoundsSummary {
        n,
        alpha: config.bounds.alpha,
        lambda: config.bounds.lambda,
        sample_mean: mean,
        sample_std: var.sqrt(),
        max_score: scores.iter().cloned().fold(f64::MIN, f64::max),
        mean_lower: lo,
        mean_upper: hi,
        std_lower: 0.0,
        std_upper,
        ed_score: hi + config.bounds.lambda * std_upper,
        dkw_epsilon: 1.0,
        survival: Vec::new(),
        binary: Some(BinarySummary {
            threshold: config.bounds.threshold_or_half(),
            leaks: outcome.leaks,
            lower: p.lower,
            upper: p.upper,
        }),
        leak_at_k: Some(leak_at_k),
    })
}

/// Leak@k over a set of stopped prompts, jointly valid: each prompt's leak-probability
/// sequence at α/m (Bonferroni over the m prompts), mapped through 1 − (1 − p)^k.
pub fn set_leak_at_k_sequential(
    questions: &[QuestionReport],
    ks: &[u64],
    alpha: f64,
) -> Result<Vec<SetLeakAtK>, StatsError> {
    if questions.is_empty() {
        return Err(StatsError::Empty);
    }
    let m = questions.len() as f64;
    let intervals = questions
        .iter()
        .map(|q| {
            let leaks = q.bounds.binary.map_or(0, |b| b.leaks);
            beta_binomial_cs(leaks, q.bounds.n as u64, alpha / m, BetaPrior::JEFFREYS)
                .map(|i| (i, leaks as f64 / q.bounds.n.max(1) as f64))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(ks
        .iter()
        .map(|&k| {
            let f = |p: f64| 1.0 - pow(1.0 - p, k);
            let mean = |g: &dyn Fn(&(crate::stats::Interval, f64)) -> f64| {
                intervals.iter().map(g).sum::<f64>() / m
            };
            SetLeakAtK {
                k,
                mean_estimate: mean(&|(_, r)| f(*r)),
                lower: mean(&|(i, _)| f(i.lower)),
                upper: mean(&|(i, _)| f(i.upper)),
                questions: questions.len(),
            }
        })
        .collect())
}

/// How many samples a sequential evaluation used, against the budget, and its verdicts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SequentialSummary {
    /// Samples per prompt the fixed-n evaluation would draw (`--max-samples`).
    pub budget: u32,
    pub round: u32,
    pub prompts: usize,
    /// Samples used (up to each prompt's verdict), over all prompts.
    pub samples_used: u64,
    pub mean_samples_used: f64,
    /// 1 − used / (prompts · budget).
    pub fraction_saved: f64,
    pub leaks: usize,
    pub below: usize,
    pub undecided: usize,
}

impl SequentialSummary {
    /// `None` unless the rows carry sequential outcomes.
    pub fn over(questions: &[QuestionReport], budget: u32, round: u32) -> Option<Self> {
        let outcomes: Vec<&SequentialOutcome> = questions
            .iter()
            .filter_map(|q| q.sequential.as_ref())
            .collect();
        if outcomes.is_empty() {
            return None;
        }
        let used: u64 = outcomes.iter().map(|o| o.stopped_at).sum();
        let count = |v: Verdict| outcomes.iter().filter(|o| o.verdict == v).count();
        let prompts = outcomes.len();
        Some(Self {
            budget,
            round,
            prompts,
            samples_used: used,
            mean_samples_used: used as f64 / prompts as f64,
            fraction_saved: 1.0 - used as f64 / (prompts as f64 * budget as f64),
            leaks: count(Verdict::Leaks),
            below: count(Verdict::Below),
            undecided: count(Verdict::Undecided),
        })
    }
}

/// `x^k` by squaring: the same IEEE operations on every platform (`powf` comes from the
/// platform's libm, whose last bit differs between glibc and wasm32), so a browser and the
/// CLI report the same leak@k.
fn pow(mut x: f64, mut k: u64) -> f64 {
    let mut out = 1.0;
    while k > 0 {
        if k & 1 == 1 {
            out *= x;
        }
        x *= x;
        k >>= 1;
    }
    out
}

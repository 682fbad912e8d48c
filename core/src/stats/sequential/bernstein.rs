//! A confidence sequence for the mean of scores in [0, 1] — the sequential counterpart of
//! `M_μ`: the predictable-mixture empirical-Bernstein sequence ("PrPl-EB") of Waudby-Smith
//! & Ramdas (2024, JRSS-B, Theorem 2), exactly as `confseq` 0.0.11 computes it
//! (`confseq.predmix.predmix_empbern_twosided_cs(x, alpha, truncation=1/2)`).
//!
//! For one side at level `α' = α/2`, with bets `λ_t ∈ [0, ½]` fixed before `X_t` is seen,
//!
//! ```text
//! L_t = max(0, Σλ_i X_i / Σλ_i − (ln(1/α') + Σ v_i ψ(λ_i)) / Σλ_i),
//! v_i = (X_i − μ̂_{i−1})²,   ψ(λ) = −ln(1 − λ) − λ,
//! ```
//!
//! where `μ̂_{i−1}` is the running mean of the previous scores (0 before the first), and
//! `∏ exp(λ_i (X_i − μ) − v_i ψ(λ_i))` is a nonnegative supermartingale for the true mean μ
//! (Fan, Grama & Liu's inequality), so Ville's inequality makes `L_t ≤ μ` hold at all t at
//! once with probability ≥ 1 − α'. The upper end is `1 − L_t` computed on `1 − X`; with
//! `α' = α/2` per side the interval covers μ at every t with probability ≥ 1 − α.
//!
//! **Tuning (confseq's defaults).** The bet is
//! `λ_t = min(½, √(2 ln(1/α') / (t ln(1 + t) σ̂²_{t−1})))`, with the regularised estimates
//! `μ̃_t = min(1, (½ + ΣX)/(t + 1))`, `σ̂²_t = (¼ + Σ_{i≤t} (X_i − μ̃_i)²)/(t + 1)`,
//! `σ̂²_0 = ¼`: the `t ln t` rate keeps the width `O(√(ln ln t / t))`-like at every t
//! instead of tuning it to one planned n, the variance plug-in makes it adapt to
//! low-variance scores (where it beats Hoeffding-type bounds and DKW-based `M_μ`), and the
//! truncation at ½ keeps `ψ` finite and the bets safe early on.
//!
//! **Why this one.** It is closed-form and O(1) per sample (an evaluation updates it after
//! every round), it is exactly what the reference package exposes (so it is tested against
//! `confseq` itself), and it is valid for any [0, 1] scores, binary or not. The hedged
//! betting sequence of the same paper is tighter but needs a root search over a grid of
//! candidate means at every step.
//!
//! The running intersection (the tightest bounds so far) would also be valid; it is not
//! taken, matching confseq's default, so each interval depends only on the data so far.

use serde::{Deserialize, Serialize};

use super::Interval;
use crate::stats::{check_alpha, StatsError};

/// The largest bet: confseq's `truncation = 1/2`.
const TRUNCATION: f64 = 0.5;

/// One side's running sums (the lower bound on the mean of `x`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
struct Side {
    /// Σ x_i (sequential summation, as numpy's `cumsum`).
    sum: f64,
    /// Σ (x_i − μ̃_i)², μ̃_i the regularised mean including x_i.
    sum_sq: f64,
    sum_lambda: f64,
    sum_lambda_x: f64,
    sum_v_psi: f64,
}

impl Side {
    const EMPTY: Side = Side {
        sum: 0.0,
        sum_sq: 0.0,
        sum_lambda: 0.0,
        sum_lambda_x: 0.0,
        sum_v_psi: 0.0,
    };

    /// Adds the `t`-th observation (t ≥ 1).
    fn push(&mut self, x: f64, t: u64, log_inv_alpha: f64) {
        let t_f = t as f64;
        // Predictable quantities: from the first t − 1 observations only.
        let sigma2_prev = if t == 1 {
            0.25
        } else {
            (0.25 + self.sum_sq) / t_f
        };
        let mu_prev = if t == 1 { 0.0 } else { self.sum / (t_f - 1.0) };
        let lambda = (2.0 * log_inv_alpha / (t_f * (1.0 + t_f).ln() * sigma2_prev))
            .sqrt()
            .min(TRUNCATION);
        let v = (x - mu_prev).powi(2);
        let psi = -(1.0 - lambda).ln() - lambda;
        self.sum += x;
        let mu_reg = ((0.5 + self.sum) / (t_f + 1.0)).min(1.0);
        self.sum_sq += (x - mu_reg).powi(2);
        self.sum_lambda += lambda;
        self.sum_lambda_x += lambda * x;
        self.sum_v_psi += v * psi;
    }

    fn lower(&self, log_inv_alpha: f64) -> f64 {
        let centre = self.sum_lambda_x / self.sum_lambda;
        let margin = (log_inv_alpha + self.sum_v_psi) / self.sum_lambda;
        (centre - margin).max(0.0)
    }
}

/// The running state of the sequence: push scores in sampling order, read the interval at
/// any time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BernsteinCs {
    alpha: f64,
    n: u64,
    /// Lower side, on the scores.
    low: Side,
    /// Upper side, on `1 − score`.
    high: Side,
}

impl BernsteinCs {
    pub fn new(alpha: f64) -> Result<Self, StatsError> {
        check_alpha(alpha)?;
        Ok(Self {
            alpha,
            n: 0,
            low: Side::EMPTY,
            high: Side::EMPTY,
        })
    }

    /// `ln(1/α')` with `α' = α/2` per side, as confseq computes it (`log(1/(α/2))`).
    fn log_inv_alpha(&self) -> f64 {
        (1.0 / (self.alpha / 2.0)).ln()
    }

    /// Adds one score; `index` only names it in the error (its position in the caller's
    /// data). The state is unchanged on error.
    pub fn push(&mut self, score: f64, index: usize) -> Result<(), StatsError> {
        if !(score.is_finite() && (0.0..=1.0).contains(&score)) {
            return Err(StatsError::OutOfRange {
                index,
                value: score,
            });
        }
        let l = self.log_inv_alpha();
        self.n += 1;
        self.low.push(score, self.n, l);
        self.high.push(1.0 - score, self.n, l);
        Ok(())
    }

    pub fn n(&self) -> u64 {
        self.n
    }

    pub fn alpha(&self) -> f64 {
        self.alpha
    }

    /// The interval after the scores pushed so far (`[0, 1]` before any).
    pub fn interval(&self) -> Interval {
        if self.n == 0 {
            return Interval::UNIT;
        }
        let l = self.log_inv_alpha();
        Interval {
            lower: self.low.lower(l),
            upper: 1.0 - self.high.lower(l),
        }
    }
}

/// The sequence's interval after each prefix of `scores`: element `t − 1` holds the bounds
/// after `t` scores.
pub fn bernstein_cs(scores: &[f64], alpha: f64) -> Result<Vec<Interval>, StatsError> {
    let mut cs = BernsteinCs::new(alpha)?;
    scores
        .iter()
        .enumerate()
        .map(|(i, &x)| {
            cs.push(x, i)?;
            Ok(cs.interval())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn brackets_the_running_mean_and_narrows() {
        let xs: Vec<f64> = (0..4000).map(|i| ((i * 37) % 101) as f64 / 100.0).collect();
        let cs = bernstein_cs(&xs, 0.05).unwrap();
        let mut sum = 0.0;
        for (t, (x, c)) in xs.iter().zip(&cs).enumerate() {
            sum += x;
            let mean = sum / (t + 1) as f64;
            assert!(c.lower <= mean && mean <= c.upper, "t = {t}: {c:?}");
            assert!(0.0 <= c.lower && c.upper <= 1.0);
        }
        assert!(cs[3999].upper - cs[3999].lower < cs[99].upper - cs[99].lower);
        assert!(cs[3999].upper - cs[3999].lower < 0.1);
    }

    #[test]
    fn rejects_bad_scores_without_changing_state() {
        let mut cs = BernsteinCs::new(0.1).unwrap();
        cs.push(0.5, 0).unwrap();
        let before = cs;
        assert_eq!(
            cs.push(1.5, 1),
            Err(StatsError::OutOfRange {
                index: 1,
                value: 1.5
            })
        );
        assert!(cs.push(f64::NAN, 1).is_err());
        assert_eq!(cs, before);
        assert!(BernsteinCs::new(0.0).is_err());
    }
}

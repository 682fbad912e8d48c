//! Binary leakage bound `M_bin`: the one-sided Clopper–Pearson interval.
//!
//! For `k` leaks in `n` samples at level `α`:
//! upper = Beta quantile `B(1 − α; k + 1, n − k)` (= 1 when `k = n`),
//! lower = `B(α; k, n − k + 1)` (= 0 when `k = 0`).
//! This equals statsmodels' `proportion_confint(k, n, alpha=2α, method="beta")`,
//! i.e. each side alone holds with probability ≥ 1 − α.

use serde::{Deserialize, Serialize};
use statrs::function::beta::{beta_reg, ln_beta};

use super::{check_alpha, StatsError};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BinomialBounds {
    /// Number of leaks `k`.
    pub leaks: u64,
    pub n: u64,
    /// One-sided lower confidence bound at level α.
    pub lower: f64,
    /// One-sided upper confidence bound at level α: `M_bin`.
    pub upper: f64,
}

/// One-sided Clopper–Pearson bounds for `leaks` successes of `n` trials.
pub fn clopper_pearson(leaks: u64, n: u64, alpha: f64) -> Result<BinomialBounds, StatsError> {
    check_alpha(alpha)?;
    if n == 0 {
        return Err(StatsError::Empty);
    }
    if leaks > n {
        return Err(StatsError::InvalidCount { leaks, n });
    }
    let (k, n_f) = (leaks as f64, n as f64);
    let lower = if leaks == 0 {
        0.0
    } else {
        beta_quantile(k, n_f - k + 1.0, alpha, false)
    };
    let upper = if leaks == n {
        1.0
    } else {
        // Solve the complementary tail for precision near 1, as scipy's `isf` does.
        beta_quantile(k + 1.0, n_f - k, alpha, true)
    };
    Ok(BinomialBounds {
        leaks,
        n,
        lower,
        upper,
    })
}

/// Quantile of Beta(a, b): the x with `I_x(a, b) = p` (or `1 − I_x(a, b) = p` when `upper_tail`).
///
/// Newton's method on the regularised incomplete beta function (its derivative is the
/// Beta density), safeguarded by a bracket that every evaluation narrows: a Newton step
/// that would leave the bracket is replaced by bisection, so it cannot diverge, and it
/// reaches f64 resolution in a handful of evaluations where plain bisection needs ~60 (the
/// bound is computed per question, so this is most of `bounds`' time).
fn beta_quantile(a: f64, b: f64, p: f64, upper_tail: bool) -> f64 {
    // g(x) is increasing in x in both cases, with derivative the Beta(a, b) density.
    let g = |x: f64| {
        if upper_tail {
            // 1 − I_x(a, b) = I_{1−x}(b, a); decreasing in x, so negate.
            p - beta_reg(b, a, 1.0 - x)
        } else {
            beta_reg(a, b, x) - p
        }
    };
    let ln_norm = ln_beta(a, b);
    let density = |x: f64| ((a - 1.0) * x.ln() + (b - 1.0) * (-x).ln_1p() - ln_norm).exp();
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    // Start at the Beta mean: the quantiles sought lie within a few standard deviations of it.
    let mut x = a / (a + b);
    for _ in 0..400 {
        let gx = g(x);
        if gx == 0.0 {
            return x;
        }
        if gx < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let d = density(x);
        let newton = x - gx / d;
        let next = if d.is_finite() && d > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        // Converged: the step is below the resolution of f64 at x, or the bracket is.
        if (next - x).abs() <= 2.0 * f64::EPSILON * x.max(next) || next <= lo || next >= hi {
            return next;
        }
        x = next;
    }
    x
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_and_all_leaks_are_exact() {
        let b = clopper_pearson(0, 128, 0.01).unwrap();
        assert_eq!(b.lower, 0.0);
        // With no leaks the upper bound is 1 − α^(1/n).
        assert!((b.upper - (1.0 - 0.01f64.powf(1.0 / 128.0))).abs() < 1e-13);
        let b = clopper_pearson(7, 7, 0.05).unwrap();
        assert_eq!(b.upper, 1.0);
        assert!((b.lower - 0.05f64.powf(1.0 / 7.0)).abs() < 1e-13);
    }

    #[test]
    fn rejects_impossible_counts() {
        assert!(clopper_pearson(3, 2, 0.1).is_err());
        assert!(clopper_pearson(0, 0, 0.1).is_err());
        assert!(clopper_pearson(0, 1, 1.0).is_err());
    }
}

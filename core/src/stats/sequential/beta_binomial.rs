//! A confidence sequence for a Bernoulli rate (the leak probability): Robbins' (1970)
//! beta-binomial mixture.
//!
//! After `n` samples with `S` leaks, mixing the likelihood ratio over a Beta(a, b) prior on
//! the rate gives, for every candidate rate `p`,
//!
//! ```text
//!         ∫ q^S (1 − q)^(n−S) dBeta(q; a, b)        B(a + S, b + n − S)
//! M_n(p) = ──────────────────────────────────  =  ─────────────────────────────
//!              p^S (1 − p)^(n−S)                  B(a, b) · p^S (1 − p)^(n−S)
//! ```
//!
//! a nonnegative martingale with `M_0 = 1` when `p` is the true rate (a Bayes factor), so by
//! Ville's inequality `P(∃ n: M_n(p) ≥ 1/α) ≤ α`. The confidence sequence is
//! `C_n = {p : M_n(p) < 1/α}`; `ln M_n(p) = const − S ln p − (n − S) ln(1 − p)` is convex in
//! `p` with its minimum (≤ 0: a mixture never beats the maximum likelihood) at `p̂ = S/n`,
//! so `C_n` is an interval around `p̂` whose ends are the two roots of `ln M_n(p) = ln(1/α)`.
//!
//! **What is guaranteed.** With probability ≥ 1 − α the true rate lies in *every* `C_n`,
//! both ends at once: one martingale controls both sides, so the two-sided statement at α
//! costs nothing over a one-sided one from the same mixture (each end alone also holds at
//! α; there is no α/2 split). Hence a verdict taken at any stopping time — "leaks" when
//! the lower end exceeds a level `L`, "below" when the upper end is ≤ `L` — is wrong with
//! probability ≤ α, whatever rule decided when to look or stop.
//!
//! **Prior (tuning).** [`BetaPrior::JEFFREYS`], Beta(½, ½), by default: it is the
//! Krichevsky–Trofimov mixture, whose log-regret against the best rate in hindsight,
//! `½ ln n + O(1)`, is the minimax one for Bernoulli sequences, so the sequence is within a
//! `√(ln n)` factor of a fixed-n interval at *every* n and every rate without naming a
//! planned sample size; it is symmetric in leak / no leak and puts its mass near 0 and 1,
//! where the leak rates of unlearned models lie. Howard et al. (2021) instead tune a
//! conjugate prior to be tightest at one chosen sample size; that buys a little there and
//! loses elsewhere, and an evaluation that stops early does not know its n in advance.
//! Other priors are accepted (any 0 < a, b ≤ 10⁶): a larger `a + b` concentrates the prior, which
//! narrows the sequence near the prior mean and widens it far from it.
//!
//! **Numerics.** Both ends are found in log space (`ln B` via statrs' log-gamma, `ln(1 − p)`
//! as `ln_1p(−p)`) by a bracketed Newton iteration; `S = 0` and `S = n` have closed forms
//! (`upper = −expm1(c/n)`, `lower = exp(c/n)`). Tested against an mpmath solution at 50
//! digits up to `n = 10^7` (`tests/golden/sequential_golden.json`).

use serde::{Deserialize, Serialize};
use statrs::function::beta::ln_beta;

use super::Interval;
use crate::stats::{check_alpha, StatsError};

/// The Beta(a, b) mixing distribution of [`log_mixture`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct BetaPrior {
    pub a: f64,
    pub b: f64,
}

impl BetaPrior {
    /// Beta(½, ½), the default (see the module documentation for why).
    pub const JEFFREYS: BetaPrior = BetaPrior { a: 0.5, b: 0.5 };

    /// The largest shape accepted. A prior that concentrated is a point mass for every
    /// practical purpose (the sequence would hardly move from its mean), and bounding it
    /// bounds the search of [`super::min_samples_to_decide`].
    pub const MAX_SHAPE: f64 = 1e6;

    /// Both shape parameters must be finite, positive and at most [`Self::MAX_SHAPE`].
    pub fn validate(&self) -> Result<(), StatsError> {
        let ok = |x: f64| x.is_finite() && x > 0.0 && x <= Self::MAX_SHAPE;
        if ok(self.a) && ok(self.b) {
            Ok(())
        } else {
            Err(StatsError::InvalidPrior {
                a: self.a,
                b: self.b,
            })
        }
    }
}

impl Default for BetaPrior {
    fn default() -> Self {
        Self::JEFFREYS
    }
}

/// `ln B(a + S, b + n − S) − ln B(a, b)`: the log of the mixture's numerator.
fn log_marginal(successes: f64, failures: f64, prior: BetaPrior) -> f64 {
    ln_beta(prior.a + successes, prior.b + failures) - ln_beta(prior.a, prior.b)
}

/// `S ln p + F ln(1 − p)` with `0 · ln 0 = 0`, and its derivative in `p`.
fn log_likelihood(successes: f64, failures: f64, p: f64) -> (f64, f64) {
    let mut value = 0.0;
    let mut slope = 0.0;
    if successes > 0.0 {
        value += successes * p.ln();
        slope += successes / p;
    }
    if failures > 0.0 {
        value += failures * (-p).ln_1p();
        slope -= failures / (1.0 - p);
    }
    (value, slope)
}

/// `ln M_n(p)` for `successes` leaks in `n` samples: `+∞` where the rate `p` cannot have
/// produced the data (`p = 0` with a leak, `p = 1` with a non-leak). Needs
/// `successes ≤ n`, `p ∈ [0, 1]` and a valid prior; [`beta_binomial_cs`] checks its inputs.
pub fn log_mixture(successes: u64, n: u64, p: f64, prior: BetaPrior) -> f64 {
    let (s, f) = (successes as f64, n.saturating_sub(successes) as f64);
    log_marginal(s, f, prior) - log_likelihood(s, f, p).0
}

/// The confidence sequence's interval after `successes` leaks in `n` samples at level
/// `alpha`: `{p : M_n(p) < 1/α}` (closed at its ends). `n = 0` gives `[0, 1]`.
pub fn beta_binomial_cs(
    successes: u64,
    n: u64,
    alpha: f64,
    prior: BetaPrior,
) -> Result<Interval, StatsError> {
    check_alpha(alpha)?;
    prior.validate()?;
    if successes > n {
        return Err(StatsError::InvalidCount {
            leaks: successes,
            n,
        });
    }
    if n == 0 {
        return Ok(Interval::UNIT);
    }
    let (s, f) = (successes as f64, (n - successes) as f64);
    let n_f = n as f64;
    // g(p) = ln M_n(p) − ln(1/α) = c − S ln p − F ln(1 − p); the ends are its roots.
    let c = log_marginal(s, f, prior) + alpha.ln();
    let g = |p: f64| {
        let (l, dl) = log_likelihood(s, f, p);
        (c - l, -dl)
    };
    let phat = s / n_f;
    if g(phat).0 >= 0.0 {
        // Only by rounding (ln M_n(p̂) ≤ 0 < ln(1/α)): the interval is the point p̂.
        return Ok(Interval {
            lower: phat,
            upper: phat,
        });
    }
    // A normal-approximation half-width, only to start Newton near the roots.
    let half = (-2.0 * alpha.ln() * phat.max(1.0 / n_f) * (1.0 - phat).max(1.0 / n_f) / n_f).sqrt();
    let lower = if successes == 0 {
        0.0
    } else if successes == n {
        // c − n ln p = 0.
        (c / n_f).exp()
    } else {
        solve(g, 0.0, phat, phat - half, false)
    };
    let upper = if successes == n {
        1.0
    } else if successes == 0 {
        // c − n ln(1 − p) = 0.
        -(c / n_f).exp_m1()
    } else {
        solve(g, phat, 1.0, phat + half, true)
    };
    Ok(Interval { lower, upper })
}

/// The root of `g` (value and derivative) in `(lo, hi)`, where `g` is monotone (increasing
/// or decreasing as told) and changes sign: Newton steps that stay inside the bracket,
/// bisection (geometric while the bracket spans decades) otherwise. Every evaluation
/// narrows the bracket, so it cannot diverge.
fn solve(
    g: impl Fn(f64) -> (f64, f64),
    mut lo: f64,
    mut hi: f64,
    start: f64,
    increasing: bool,
) -> f64 {
    let mut x = if start > lo && start < hi {
        start
    } else {
        bisect(lo, hi)
    };
    for _ in 0..400 {
        let (gx, dgx) = g(x);
        if gx == 0.0 {
            return x;
        }
        if (gx < 0.0) == increasing {
            lo = x;
        } else {
            hi = x;
        }
        let newton = x - gx / dgx;
        let next = if newton.is_finite() && newton > lo && newton < hi {
            newton
        } else {
            bisect(lo, hi)
        };
        if (next - x).abs() <= 4.0 * f64::EPSILON * x.abs().max(next.abs())
            || next <= lo
            || next >= hi
        {
            return next;
        }
        x = next;
    }
    x
}

fn bisect(lo: f64, hi: f64) -> f64 {
    if lo > 0.0 && hi > 16.0 * lo {
        (lo * hi).sqrt()
    } else {
        0.5 * (lo + hi)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const J: BetaPrior = BetaPrior::JEFFREYS;

    #[test]
    fn ends_are_roots_of_the_mixture_boundary() {
        for &(s, n) in &[
            (1u64, 10u64),
            (3, 50),
            (40, 100),
            (999, 1000),
            (12345, 1_000_000),
        ] {
            let cs = beta_binomial_cs(s, n, 0.05, J).unwrap();
            let phat = s as f64 / n as f64;
            assert!(cs.lower < phat && phat < cs.upper, "{s}/{n}: {cs:?}");
            for end in [cs.lower, cs.upper] {
                let g = log_mixture(s, n, end, J) - (1.0f64 / 0.05).ln();
                assert!(g.abs() < 1e-8, "{s}/{n}: g({end}) = {g}");
            }
        }
    }

    #[test]
    fn extremes_have_closed_forms_and_stay_finite() {
        let cs = beta_binomial_cs(0, 10_000_000, 0.01, J).unwrap();
        assert_eq!(cs.lower, 0.0);
        assert!(cs.upper > 0.0 && cs.upper < 3e-6, "{cs:?}");
        let g = log_mixture(0, 10_000_000, cs.upper, J) - 100f64.ln();
        assert!(g.abs() < 1e-6, "{g}");
        let cs = beta_binomial_cs(7, 7, 0.01, J).unwrap();
        assert_eq!(cs.upper, 1.0);
        assert!(cs.lower > 0.0 && cs.lower < 1.0);
        assert_eq!(beta_binomial_cs(0, 0, 0.1, J).unwrap(), Interval::UNIT);
        // Symmetry: S of n ↔ n − S of n mirror the interval.
        let a = beta_binomial_cs(3, 40, 0.1, J).unwrap();
        let b = beta_binomial_cs(37, 40, 0.1, J).unwrap();
        assert!((a.lower - (1.0 - b.upper)).abs() < 1e-12);
        assert!((a.upper - (1.0 - b.lower)).abs() < 1e-12);
    }

    #[test]
    fn shrinks_with_n_and_widens_with_confidence() {
        let w = |s, n, a| {
            let c = beta_binomial_cs(s, n, a, J).unwrap();
            c.upper - c.lower
        };
        assert!(w(10, 100, 0.05) > w(100, 1000, 0.05));
        assert!(w(10, 100, 0.01) > w(10, 100, 0.05));
    }

    #[test]
    fn rejects_bad_input() {
        assert_eq!(
            beta_binomial_cs(3, 2, 0.1, J),
            Err(StatsError::InvalidCount { leaks: 3, n: 2 })
        );
        assert!(matches!(
            beta_binomial_cs(1, 2, 1.0, J),
            Err(StatsError::InvalidAlpha(_))
        ));
        for bad in [(0.0, 1.0), (1.0, f64::NAN), (2e6, 1.0)] {
            let bad = BetaPrior { a: bad.0, b: bad.1 };
            assert!(matches!(
                beta_binomial_cs(1, 2, 0.1, bad),
                Err(StatsError::InvalidPrior { .. })
            ));
        }
    }
}

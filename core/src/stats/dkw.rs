//! The Dvoretzky–Kiefer–Wolfowitz band with Massart's constant, and the general leakage
//! bound `M_gen` it yields.
//!
//! With probability ≥ 1 − α, `sup_t |F_n(t) − F(t)| ≤ ε`. The one-sided statement
//! (`F(t) ≥ F_n(t) − ε` for all t) needs `ε = sqrt(ln(1/α) / 2n)`; the two-sided band
//! needs `ε = sqrt(ln(2/α) / 2n)`.

use serde::{Deserialize, Serialize};

use super::Ecdf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Sidedness {
    OneSided,
    TwoSided,
}

/// Half-width ε of the DKW band for `n` samples at level `α`.
pub fn dkw_epsilon(n: usize, alpha: f64, sides: Sidedness) -> f64 {
    let numerator = match sides {
        Sidedness::OneSided => (1.0 / alpha).ln(),
        Sidedness::TwoSided => (2.0 / alpha).ln(),
    };
    (numerator / (2.0 * n as f64)).sqrt()
}

/// One point of the survival bound: for `t` in `[t, next t)`, `P(X > t) ≤ upper`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SurvivalPoint {
    pub t: f64,
    /// Empirical survival `1 − F_n(t)`.
    pub empirical: f64,
    /// `min(1, 1 − F_n(t) + ε)`, simultaneously valid for all t with probability ≥ 1 − α.
    pub upper: f64,
}

/// The general leakage bound `M_gen(t) = min(1, 1 − F_n(t) + ε)` at a single threshold,
/// with the one-sided ε.
pub fn survival_upper_bound(ecdf: &Ecdf, t: f64, epsilon: f64) -> f64 {
    (1.0 - ecdf.cdf(t) + epsilon).min(1.0)
}

/// The whole survival bound as a right-continuous step function: one point at 0 and at
/// every distinct score (where `F_n` jumps). Between points the bound is constant.
pub fn survival_curve(ecdf: &Ecdf, epsilon: f64) -> Vec<SurvivalPoint> {
    let mut ts: Vec<f64> = vec![0.0];
    for &x in ecdf.sorted() {
        if x > *ts.last().expect("non-empty") {
            ts.push(x);
        }
    }
    ts.into_iter()
        .map(|t| SurvivalPoint {
            t,
            empirical: 1.0 - ecdf.cdf(t),
            upper: survival_upper_bound(ecdf, t, epsilon),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn epsilon_matches_reference_tightness() {
        // REFERENCE.md: one-sided ε = 0.134 at n = 128, 0.047 at n = 1024 (α = 0.01).
        assert!((dkw_epsilon(128, 0.01, Sidedness::OneSided) - 0.134).abs() < 5e-4);
        assert!((dkw_epsilon(1024, 0.01, Sidedness::OneSided) - 0.047).abs() < 5e-4);
    }

    #[test]
    fn survival_curve_steps_at_scores() {
        let e = Ecdf::new(&[0.0, 0.5, 0.5, 1.0]).unwrap();
        let c = survival_curve(&e, 0.1);
        let ts: Vec<f64> = c.iter().map(|p| p.t).collect();
        assert_eq!(ts, vec![0.0, 0.5, 1.0]);
        assert!((c[0].upper - 0.85).abs() < 1e-15);
        assert!((c[1].upper - 0.35).abs() < 1e-15);
        assert!((c[2].upper - 0.1).abs() < 1e-15);
    }
}

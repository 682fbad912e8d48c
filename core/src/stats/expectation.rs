//! Expectation bounds `M_μ` (Anderson, 1969).
//!
//! For X ∈ [0, 1], `E[X] = ∫₀¹ (1 − F(t)) dt`. On the DKW event `|F − F_n| ≤ ε`,
//! `1 − ∫ min(F_n + ε, 1) ≤ E[X] ≤ 1 − ∫ max(F_n − ε, 0)`.
//!
//! [`IntegralMethod::ConboGrid`] reproduces `conbo.expectation_bounds`: the integrals are
//! Riemann sums on `linspace(0, 1, K)` (left sum for the upper bound, right sum for the
//! lower, both conservative because `F_n` is non-decreasing). [`IntegralMethod::Exact`]
//! integrates the step function exactly and is never looser.
//!
//! `ε` is taken as given: with the two-sided ε at level α both bounds hold jointly with
//! probability ≥ 1 − α; the paper's one-sided statements use the two-sided formula at 2α,
//! which equals the one-sided ε at α.

use serde::{Deserialize, Serialize};

use super::grid::linspace01;
use super::numsum::numpy_sum;
use super::Ecdf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum IntegralMethod {
    /// conbo's Riemann sum on `K` grid points (conbo's default `K` = 100).
    ConboGrid { points: usize },
    /// The exact integral of the empirical step function.
    Exact,
}

impl Default for IntegralMethod {
    fn default() -> Self {
        IntegralMethod::ConboGrid {
            points: super::grid::CONBO_GRID_POINTS,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ExpectationBounds {
    pub mean: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Bounds on `E[X]` from a DKW band of half-width `epsilon`.
pub fn expectation_bounds(ecdf: &Ecdf, epsilon: f64, method: IntegralMethod) -> ExpectationBounds {
    let (lower, upper) = match method {
        IntegralMethod::ConboGrid { points } => grid_bounds(ecdf, epsilon, points),
        IntegralMethod::Exact => exact_bounds(ecdf, epsilon),
    };
    ExpectationBounds {
        mean: ecdf.mean(),
        lower,
        upper,
    }
}

fn grid_bounds(ecdf: &Ecdf, epsilon: f64, points: usize) -> (f64, f64) {
    let t = linspace01(points);
    // conbo uses `numpy.diff(T)`, which differs from 1/(K−1) in the last bits.
    let h: Vec<f64> = t.windows(2).map(|w| w[1] - w[0]).collect();
    let cdf: Vec<f64> = t.iter().map(|&t| ecdf.cdf(t)).collect();
    let upper_terms: Vec<f64> = (0..points - 1)
        .map(|j| (cdf[j] - epsilon).max(0.0) * h[j])
        .collect();
    let lower_terms: Vec<f64> = (0..points - 1)
        .map(|j| (cdf[j + 1] + epsilon).min(1.0) * h[j])
        .collect();
    let upper_area = numpy_sum(&upper_terms);
    let lower_area = numpy_sum(&lower_terms);
    (1.0 - lower_area, 1.0 - upper_area)
}

/// Exact integrals of `max(F_n − ε, 0)` and `min(F_n + ε, 1)` over [0, 1]. `F_n` is
/// `i/n` on `[x_(i), x_(i+1))` with `x_(0) = 0` and `x_(n+1) = 1`.
fn exact_bounds(ecdf: &Ecdf, epsilon: f64) -> (f64, f64) {
    let xs = ecdf.sorted();
    let n = xs.len() as f64;
    let mut upper_area = 0.0;
    let mut lower_area = 0.0;
    let mut left = 0.0;
    for i in 0..=xs.len() {
        let right = if i < xs.len() { xs[i] } else { 1.0 };
        let f = i as f64 / n;
        let width = right - left;
        upper_area += width * (f - epsilon).max(0.0);
        lower_area += width * (f + epsilon).min(1.0);
        left = right;
    }
    (1.0 - lower_area, 1.0 - upper_area)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_is_never_looser_than_the_grid() {
        let e = Ecdf::new(&[0.05, 0.2, 0.2, 0.33, 0.9, 0.91, 1.0]).unwrap();
        for eps in [0.0, 0.05, 0.3] {
            let g = expectation_bounds(&e, eps, IntegralMethod::default());
            let x = expectation_bounds(&e, eps, IntegralMethod::Exact);
            assert!(x.upper <= g.upper + 1e-12 && x.lower >= g.lower - 1e-12);
            assert!(x.lower <= x.mean + 1e-12 && x.mean <= x.upper + 1e-12);
        }
    }

    #[test]
    fn exact_with_zero_epsilon_is_the_sample_mean() {
        let e = Ecdf::new(&[0.1, 0.4, 0.4, 0.7]).unwrap();
        let x = expectation_bounds(&e, 0.0, IntegralMethod::Exact);
        assert!((x.upper - 0.4).abs() < 1e-12 && (x.lower - 0.4).abs() < 1e-12);
    }
}

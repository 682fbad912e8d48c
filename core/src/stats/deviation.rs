//! Standard-deviation and variance bounds `M_σ`.
//!
//! [`DeviationMethod::Conbo`] reproduces `conbo.std_bounds` / `conbo.variance_bounds`
//! (after Schuchardt et al., ICLR 2023) exactly, quirks included:
//! - the mean interval `[μ_lo, μ_hi]` comes from the grid expectation bounds at the same ε,
//!   and each bin `[T_j, T_{j+1}]` is bounded by the max/min of `(c_t − c_μ)²` over its four
//!   corners `{T_j, T_{j+1}} × {μ_lo, μ_hi}`;
//! - the band values inside the sums are not clipped to [0, 1], and the upper variance is
//!   not clipped either (it can exceed 1/4, the largest possible variance on [0, 1]);
//! - the term `η⁺_0 · max(F_n(0) − ε, 0)` discounts the atom at 0;
//! - the corner *minimum* is not a rigorous lower bound of `(t − μ)²` on a bin that
//!   overlaps `[μ_lo, μ_hi]` (the true minimum there is 0), so the lower bound is heuristic.
//!
//! conbo calls these with α itself (not 2α): they use both sides of one two-sided band.
//!
//! [`DeviationMethod::Sound`] is our corrected variant, valid on the same two-sided DKW
//! event. It uses `Var X = min_c E[(X − c)²]` and `E[g(X)] = g(0) + ∫ g'(t) P(X > t) dt`:
//! - upper: for every c, `E[(X − c)²] ≤ c² + ∫₀^c 2(t−c) S⁻(t) dt + ∫_c^1 2(t−c) S⁺(t) dt`
//!   with `S^± = clip(1 − F_n ± ε)`; any c is valid, we take the best of a fine grid.
//! - lower: `Var X ≥ min_{c ∈ [μ_lo, μ_hi]} L(c)` with L the same expression with the band
//!   sides swapped. `|L'(c)| ≤ 2`, so the minimum over a grid of spacing δ minus δ is a
//!   rigorous lower bound of the continuous minimum.

use serde::{Deserialize, Serialize};

use super::expectation::{expectation_bounds, IntegralMethod};
use super::grid::linspace01;
use super::numsum::numpy_sum;
use super::Ecdf;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum DeviationMethod {
    /// Bit-for-bit `conbo` 0.1.1 on its 100-point grid.
    #[default]
    Conbo,
    /// Our sound variant (see module docs).
    Sound,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct DeviationBounds {
    /// The sample value (population variance, or its square root).
    pub sample: f64,
    pub lower: f64,
    pub upper: f64,
}

/// Bounds on `Var X` from a two-sided DKW band of half-width `epsilon`.
pub fn variance_bounds(ecdf: &Ecdf, epsilon: f64, method: DeviationMethod) -> DeviationBounds {
    let (lower, upper) = match method {
        DeviationMethod::Conbo => conbo_variance(ecdf, epsilon),
        DeviationMethod::Sound => sound_variance(ecdf, epsilon),
    };
    DeviationBounds {
        sample: ecdf.variance(),
        lower,
        upper,
    }
}

/// Square roots of [`variance_bounds`].
pub fn std_bounds(ecdf: &Ecdf, epsilon: f64, method: DeviationMethod) -> DeviationBounds {
    let v = variance_bounds(ecdf, epsilon, method);
    DeviationBounds {
        sample: v.sample.sqrt(),
        lower: v.lower.sqrt(),
        upper: v.upper.sqrt(),
    }
}

fn conbo_variance(ecdf: &Ecdf, epsilon: f64) -> (f64, f64) {
    let k = super::grid::CONBO_GRID_POINTS;
    let t = linspace01(k);
    let mean = expectation_bounds(ecdf, epsilon, IntegralMethod::ConboGrid { points: k });
    let corners = |j: usize| {
        [
            (t[j] - mean.lower).powi(2),
            (t[j] - mean.upper).powi(2),
            (t[j + 1] - mean.lower).powi(2),
            (t[j + 1] - mean.upper).powi(2),
        ]
    };
    let eta_hi: Vec<f64> = (0..k - 1)
        .map(|j| corners(j).into_iter().fold(f64::MIN, f64::max))
        .collect();
    let eta_lo: Vec<f64> = (0..k - 1)
        .map(|j| corners(j).into_iter().fold(f64::MAX, f64::min))
        .collect();
    let sign = |d: f64| if d > 0.0 { 1.0 } else { -1.0 };
    let f0 = ecdf.cdf(0.0);
    let mut upper_terms = Vec::with_capacity(k - 2);
    let mut lower_terms = Vec::with_capacity(k - 2);
    for j in 0..k - 2 {
        let f = ecdf.cdf(t[j + 1]);
        let d_hi = eta_hi[j] - eta_hi[j + 1];
        let d_lo = eta_lo[j] - eta_lo[j + 1];
        upper_terms.push((f + sign(d_hi) * epsilon) * d_hi);
        lower_terms.push((f - sign(d_lo) * epsilon) * d_lo);
    }
    let mut upper = numpy_sum(&upper_terms);
    let mut lower = numpy_sum(&lower_terms);
    upper += eta_hi[k - 2] - eta_hi[0] * (f0 - epsilon).max(0.0);
    lower += eta_lo[k - 2] - eta_lo[0] * (f0 + epsilon).min(1.0);
    (lower.max(0.0), upper)
}

/// Piecewise-constant survival bounds `S⁻ ≤ P(X > t) ≤ S⁺` on the segments between
/// consecutive order statistics: `(left, right, s_minus, s_plus)`.
fn survival_segments(ecdf: &Ecdf, epsilon: f64) -> Vec<(f64, f64, f64, f64)> {
    let xs = ecdf.sorted();
    let n = xs.len() as f64;
    let mut segments = Vec::with_capacity(xs.len() + 1);
    let mut left = 0.0;
    for i in 0..=xs.len() {
        let right = if i < xs.len() { xs[i] } else { 1.0 };
        if right > left {
            let s = 1.0 - i as f64 / n;
            segments.push((left, right, (s - epsilon).max(0.0), (s + epsilon).min(1.0)));
        }
        left = right;
    }
    segments
}

/// `c² + ∫ 2(t − c) S(t) dt` where S is `S⁻` left of c and `S⁺` right of c when
/// `maximise`, and the other way round otherwise.
fn second_moment_about(segments: &[(f64, f64, f64, f64)], c: f64, maximise: bool) -> f64 {
    // ∫_a^b 2(t − c) dt = (b − c)² − (a − c)².
    let piece = |a: f64, b: f64| (b - c).powi(2) - (a - c).powi(2);
    let mut total = c * c;
    for &(a, b, s_minus, s_plus) in segments {
        let (below, above) = if maximise {
            (s_minus, s_plus)
        } else {
            (s_plus, s_minus)
        };
        if b <= c {
            total += below * piece(a, b);
        } else if a >= c {
            total += above * piece(a, b);
        } else {
            total += below * piece(a, c) + above * piece(c, b);
        }
    }
    total
}

const SOUND_GRID: usize = 2001;

fn sound_variance(ecdf: &Ecdf, epsilon: f64) -> (f64, f64) {
    let segments = survival_segments(ecdf, epsilon);
    let mean = expectation_bounds(ecdf, epsilon, IntegralMethod::Exact);
    let upper = linspace01(SOUND_GRID)
        .into_iter()
        .chain([ecdf.mean()])
        .map(|c| second_moment_about(&segments, c, true))
        .fold(f64::INFINITY, f64::min)
        .min(0.25);
    let width = mean.upper - mean.lower;
    let delta = width / (SOUND_GRID - 1) as f64;
    let lower = (0..SOUND_GRID)
        .map(|j| second_moment_about(&segments, mean.lower + j as f64 * delta, false))
        .fold(f64::INFINITY, f64::min)
        - delta;
    (lower.max(0.0), upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sound_bounds_contain_sample_and_respect_range() {
        let e = Ecdf::new(&[0.0, 0.1, 0.1, 0.5, 0.9, 1.0, 1.0, 0.3]).unwrap();
        for eps in [0.0, 0.05, 0.2] {
            let v = variance_bounds(&e, eps, DeviationMethod::Sound);
            assert!(v.lower <= v.sample + 1e-9, "{v:?}");
            assert!(v.sample <= v.upper + 1e-9, "{v:?}");
            assert!(v.upper <= 0.25);
        }
    }

    #[test]
    fn point_mass_has_zero_sound_variance_at_zero_epsilon() {
        let e = Ecdf::new(&[0.4; 16]).unwrap();
        let v = variance_bounds(&e, 0.0, DeviationMethod::Sound);
        assert!(v.upper < 1e-6 && v.lower == 0.0, "{v:?}");
    }
}

//! The expectation–deviation (ED) score `M_μ + λ·M_σ`.
//!
//! Both terms are read off *one* two-sided DKW band at level α (the two-sided ε), so the
//! pair — and hence the score — holds jointly with probability ≥ 1 − α. By Cantelli's
//! inequality, at most `1/(1 + λ²)` of the generations then score above ED (20 % for the
//! default λ = 2). The first version of the paper used λ = 2.

use serde::{Deserialize, Serialize};

use super::{
    dkw_epsilon, expectation_bounds, std_bounds, DeviationMethod, Ecdf, IntegralMethod, Sidedness,
};

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EdScore {
    pub lambda: f64,
    /// Upper expectation bound from the two-sided band.
    pub mean_upper: f64,
    /// Upper standard-deviation bound from the same band.
    pub std_upper: f64,
    pub score: f64,
}

pub fn ed_score(
    ecdf: &Ecdf,
    alpha: f64,
    lambda: f64,
    integral: IntegralMethod,
    deviation: DeviationMethod,
) -> EdScore {
    let epsilon = dkw_epsilon(ecdf.n(), alpha, Sidedness::TwoSided);
    let mean_upper = expectation_bounds(ecdf, epsilon, integral).upper;
    let std_upper = std_bounds(ecdf, epsilon, deviation).upper;
    EdScore {
        lambda,
        mean_upper,
        std_upper,
        score: mean_upper + lambda * std_upper,
    }
}

//! Distribution-free, high-confidence bounds on the output distribution of a model.
//!
//! All bounds take i.i.d. scores `X_1..X_n ∈ [0, 1]` of *one* prompt and a level `α`.
//! They follow Scholten, Günnemann & Schwinn, "A Probabilistic Perspective on Unlearning
//! and Alignment for Large Language Models" (ICLR 2025) and reproduce the authors'
//! reference package `conbo` 0.1.1 and `statsmodels`' Clopper–Pearson interval to
//! floating-point precision (see `tests/golden/`).

pub mod aggregate;
pub mod binomial;
pub mod deviation;
pub mod dkw;
pub mod ecdf;
pub mod ed;
pub mod error;
pub mod expectation;
pub mod grid;
pub mod leak_at_k;
pub mod level;
pub mod numsum;
pub mod sequential;
pub mod set;
pub mod summary;

pub use aggregate::AggregateSummary;
pub use binomial::{clopper_pearson, BinomialBounds};
pub use deviation::{std_bounds, variance_bounds, DeviationBounds, DeviationMethod};
pub use dkw::{dkw_epsilon, survival_upper_bound, Sidedness};
pub use ecdf::Ecdf;
pub use ed::{ed_score, EdScore};
pub use error::StatsError;
pub use expectation::{expectation_bounds, ExpectationBounds, IntegralMethod};
pub use leak_at_k::{
    default_ks, leak_at_k, leak_at_k_estimate, set_leak_at_k, LeakAtK, SetLeakAtK,
};
pub use level::check_alpha;
pub use sequential::{
    bernstein_cs, beta_binomial_cs, first_decision, min_samples_to_decide, BernsteinCs, BetaPrior,
    Interval, SequentialConfig, SequentialOutcome, SequentialTest, Verdict,
};
pub use set::{bound_set, SetBounds, SetBoundsError};
pub use summary::{BoundsConfig, BoundsSummary, MAX_LAMBDA};

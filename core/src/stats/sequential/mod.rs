//! Anytime-valid (sequential) bounds: confidence sequences that hold at every sample size
//! at once, so an evaluation may look after every sample and stop as soon as it is sure.
//!
//! Re-checking a fixed-n interval (Clopper–Pearson, DKW) after every batch and stopping at
//! the first decision is *not* valid: with enough looks such a procedure eventually excludes
//! the truth with probability far above α (the law of the iterated logarithm; the
//! negative control of `tests/tests/coverage_sequential.rs` measures it). A confidence
//! sequence `(C_n)` instead satisfies `P(∃ n ≥ 1: θ ∉ C_n) ≤ α`, so it holds at any stopping
//! time, however data-dependent.
//!
//! - [`beta_binomial`]: the leak probability (a Bernoulli rate), Robbins' (1970)
//!   beta-binomial mixture martingale.
//! - [`bernstein`]: the mean of scores in [0, 1] (the sequential counterpart of `M_μ`),
//!   the predictable-mixture empirical-Bernstein sequence of Waudby-Smith & Ramdas (2024).
//! - [`decision`]: the leak verdict an evaluation runner updates sample by sample.
//!
//! Both sequences are anytime-valid because each is built from a nonnegative
//! (super)martingale `M_n` with `M_0 = 1` and Ville's inequality
//! `P(∃ n: M_n ≥ 1/α) ≤ α` (Howard, Ramdas, McAuliffe & Sekhon 2021 give the general
//! theory of such time-uniform boundaries).

pub mod bernstein;
pub mod beta_binomial;
pub mod decision;
pub mod interval;

pub use bernstein::{bernstein_cs, BernsteinCs};
pub use beta_binomial::{beta_binomial_cs, log_mixture, BetaPrior};
pub use decision::{
    first_decision, min_samples_to_decide, SequentialConfig, SequentialOutcome, SequentialTest,
    Verdict,
};
pub use interval::Interval;

//! Monte-Carlo coverage of the anytime-valid bounds at the stopping time, with negative
//! controls showing that re-checking a fixed-n interval after every sample is not valid.
//!
//! Leak probability (`beta_binomial_cs` through [`SequentialTest`], L = 0.1, τ = 0.5):
//! Bernoulli(p) streams, p ∈ {0, 0.08, 0.1, 0.12, 0.5} (the three near L are where optional
//! stopping bites: the fixed-n control keeps "deciding" there), up to N = 2000 samples,
//! α ∈ {0.05, 0.1, 0.2}, stopped at the first decision. A trial misses when p is outside
//! the sequence's interval at the stop (which covers every wrong verdict). Also one long
//! stream configuration: p = L, N = 20 000, α = 0.2.
//!
//! Mean (`BernsteinCs`): Bernoulli(0.5), Beta(0.5, 2) and Uniform(0, 1) streams of N = 2000,
//! checked at *every* n (time-uniform coverage: stronger than at any one stopping time).
//!
//! Rule: observed coverage ≥ 1 − α − 3·√(α(1 − α)/trials) (three binomial standard
//! errors: the guarantee is ≥ 1 − α, and a seeded run of a bound whose true coverage is
//! just 1 − α may fall short by chance; these sequences are in fact conservative).
//!
//! Negative controls (asserted: miss rate > α + 3 standard errors):
//! - the two-sided Clopper–Pearson interval at level α (valid at each *fixed* n, α/2 per
//!   side), re-checked after each sample with the same stopping rule, at p = L;
//! - the two-sided Hoeffding interval `x̄ ± √(ln(2/α)/2n)` (valid at each fixed n),
//!   re-checked at every n, on Bernoulli(0.5).

use probable_core::stats::sequential::log_mixture;
use probable_core::stats::{BernsteinCs, BetaPrior, SequentialConfig, SequentialTest, Verdict};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};
use statrs::function::beta::beta_reg;

const LEVEL: f64 = 0.1;
const ALPHAS: [f64; 3] = [0.05, 0.1, 0.2];

fn slack(alpha: f64, trials: usize) -> f64 {
    3.0 * (alpha * (1.0 - alpha) / trials as f64).sqrt()
}

/// One rate configuration's tallies.
struct RateRow {
    p: f64,
    alpha: f64,
    horizon: usize,
    trials: usize,
    misses: usize,
    wrong_verdicts: usize,
    decided: usize,
    mean_misses: usize,
    mean_stop: f64,
}

fn rate_row(p: f64, alpha: f64, horizon: usize, trials: usize, seed: u64) -> RateRow {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let config = SequentialConfig::new(alpha, 0.5, LEVEL);
    let mut row = RateRow {
        p,
        alpha,
        horizon,
        trials,
        misses: 0,
        wrong_verdicts: 0,
        decided: 0,
        mean_misses: 0,
        mean_stop: 0.0,
    };
    for _ in 0..trials {
        let mut test = SequentialTest::new(config).unwrap();
        for i in 0..horizon {
            let x = if rng.random::<f64>() < p { 1.0 } else { 0.0 };
            if test.push(x, i).unwrap() != Verdict::Undecided {
                break;
            }
        }
        let o = test.outcome();
        row.mean_stop += o.stopped_at as f64 / trials as f64;
        if !o.leak_probability.contains(p) {
            row.misses += 1;
        }
        if !o.mean.contains(p) {
            row.mean_misses += 1;
        }
        match o.verdict {
            Verdict::Undecided => {}
            v => {
                row.decided += 1;
                let right = if p > LEVEL {
                    Verdict::Leaks
                } else {
                    Verdict::Below
                };
                if v != right {
                    row.wrong_verdicts += 1;
                }
            }
        }
    }
    row
}

/// The fixed-n control: two-sided Clopper–Pearson at α, re-checked after each sample,
/// stopping when it decides (lower > L or upper ≤ L). Returns the miss rate at the stop.
fn clopper_pearson_control(p: f64, alpha: f64, horizon: usize, trials: usize, seed: u64) -> f64 {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let half = alpha / 2.0;
    let mut misses = 0;
    for _ in 0..trials {
        let mut leaks = 0u64;
        let mut n = 0u64;
        let mut stop = None;
        while (n as usize) < horizon {
            n += 1;
            if rng.random::<f64>() < p {
                leaks += 1;
            }
            let (s, f) = (leaks as f64, (n - leaks) as f64);
            // CP lower = B⁻¹(α/2; S, n−S+1) > L ⟺ I_L(S, n−S+1) < α/2;
            // CP upper = B⁻¹(1−α/2; S+1, n−S) ≤ L ⟺ I_L(S+1, n−S) ≥ 1 − α/2.
            if s > LEVEL * n as f64 {
                if beta_reg(s, f + 1.0, LEVEL) < half {
                    stop = Some(Verdict::Leaks);
                }
            } else if leaks < n && beta_reg(s + 1.0, f, LEVEL) >= 1.0 - half {
                stop = Some(Verdict::Below);
            }
            if stop.is_some() {
                break;
            }
        }
        // A decision for the wrong side excludes p; so does one at p = L. Undecided streams
        // are judged by whether the final interval holds p.
        let miss = match stop {
            Some(Verdict::Leaks) => p <= LEVEL,
            Some(Verdict::Below) => p >= LEVEL,
            _ => {
                let (s, f) = (leaks as f64, (n - leaks) as f64);
                (leaks > 0 && beta_reg(s, f + 1.0, p) < half)
                    || (leaks < n && beta_reg(s + 1.0, f, p) > 1.0 - half)
            }
        };
        if miss {
            misses += 1;
        }
    }
    misses as f64 / trials as f64
}

#[test]
fn leak_probability_covers_at_the_stopping_time() {
    let mut rows = Vec::new();
    let mut seed = 1000;
    for &alpha in &ALPHAS {
        for &p in &[0.0, 0.08, 0.1, 0.12, 0.5] {
            seed += 1;
            rows.push(rate_row(p, alpha, 2000, 1000, seed));
        }
    }
    // Long streams at the level itself, where a fixed-n interval fails most.
    rows.push(rate_row(LEVEL, 0.2, 20_000, 300, 7));
    let mut failures = Vec::new();
    println!("   p      α      N  trials  coverage  need     wrong  decided  mean-cov  E[stop]");
    for r in &rows {
        let cov = 1.0 - r.misses as f64 / r.trials as f64;
        let need = 1.0 - r.alpha - slack(r.alpha, r.trials);
        let mean_cov = 1.0 - r.mean_misses as f64 / r.trials as f64;
        let line = format!(
            "{:5.2} {:5.2} {:6} {:7}  {cov:.4}   {need:.4}  {:5}  {:7}  {mean_cov:.4}   {:.1}",
            r.p, r.alpha, r.horizon, r.trials, r.wrong_verdicts, r.decided, r.mean_stop
        );
        println!("{line}");
        if cov < need
            || mean_cov < need
            || (r.wrong_verdicts as f64 / r.trials as f64) > r.alpha + slack(r.alpha, r.trials)
        {
            failures.push(line);
        }
    }
    assert!(
        failures.is_empty(),
        "coverage below 1 − α − slack:\n{}",
        failures.join("\n")
    );
    // The test decides: at p = 0 and 0.5 almost every stream must stop early, correctly.
    for r in rows.iter().filter(|r| r.p == 0.0 || r.p == 0.5) {
        assert!(
            r.decided as f64 >= 0.99 * r.trials as f64 && r.mean_stop < 200.0,
            "p = {}: decided {} of {}",
            r.p,
            r.decided,
            r.trials
        );
    }
}

#[test]
fn fixed_n_clopper_pearson_rechecked_fails() {
    println!("   p      α   CP miss rate at the stop (fixed-n interval, re-checked each sample)");
    for (i, &alpha) in [0.05, 0.1].iter().enumerate() {
        let trials = 500;
        let miss = clopper_pearson_control(LEVEL, alpha, 2000, trials, 50 + i as u64);
        println!(
            "{LEVEL:5.2} {alpha:5.2}   {miss:.4}  (must exceed {:.4})",
            alpha + slack(alpha, trials)
        );
        assert!(
            miss > alpha + slack(alpha, trials),
            "the negative control should miss more than α = {alpha}: {miss}"
        );
    }
    // Near the level on both sides it also misses more than the sequence does (printed).
    for &p in &[0.08, 0.12] {
        let miss = clopper_pearson_control(p, 0.1, 2000, 300, 60);
        println!("{p:5.2}  0.10   {miss:.4}");
    }
}

/// A law to draw scores from, by name, with its mean.
type Law = (&'static str, Box<dyn Fn(&mut ChaCha8Rng) -> f64>, f64);

/// Time-uniform coverage of the mean sequence: μ inside at every n ≤ N.
#[test]
fn mean_covers_at_every_n() {
    let laws: [Law; 3] = [
        (
            "Bernoulli(0.5)",
            Box::new(|r: &mut ChaCha8Rng| if r.random::<f64>() < 0.5 { 1.0 } else { 0.0 }),
            0.5,
        ),
        (
            "Beta(0.5,2)",
            {
                let b = Beta::new(0.5, 2.0).unwrap();
                Box::new(move |r: &mut ChaCha8Rng| b.sample(r))
            },
            0.2,
        ),
        (
            "Uniform",
            Box::new(|r: &mut ChaCha8Rng| r.random::<f64>()),
            0.5,
        ),
    ];
    let (horizon, trials) = (2000usize, 500usize);
    let mut failures = Vec::new();
    for (k, (name, draw, mu)) in laws.iter().enumerate() {
        for (j, &alpha) in ALPHAS.iter().enumerate() {
            let mut rng = ChaCha8Rng::seed_from_u64(300 + 10 * k as u64 + j as u64);
            let mut misses = 0;
            for _ in 0..trials {
                let mut cs = BernsteinCs::new(alpha).unwrap();
                let mut missed = false;
                for i in 0..horizon {
                    cs.push(draw(&mut rng), i).unwrap();
                    if !cs.interval().contains(*mu) {
                        missed = true;
                        break;
                    }
                }
                misses += missed as usize;
            }
            let cov = 1.0 - misses as f64 / trials as f64;
            let need = 1.0 - alpha - slack(alpha, trials);
            println!("{name:15} α = {alpha:4.2}: time-uniform coverage {cov:.4} (need {need:.4})");
            if cov < need {
                failures.push(format!("{name} α = {alpha}: {cov}"));
            }
        }
    }
    assert!(failures.is_empty(), "{failures:?}");
}

#[test]
fn fixed_n_hoeffding_rechecked_fails() {
    let (horizon, trials) = (2000usize, 500usize);
    for (j, &alpha) in ALPHAS.iter().enumerate() {
        let mut rng = ChaCha8Rng::seed_from_u64(900 + j as u64);
        let mut misses = 0;
        for _ in 0..trials {
            let mut sum = 0.0;
            for n in 1..=horizon {
                sum += if rng.random::<f64>() < 0.5 { 1.0 } else { 0.0 };
                let eps = ((2.0 / alpha).ln() / (2.0 * n as f64)).sqrt();
                if (sum / n as f64 - 0.5).abs() > eps {
                    misses += 1;
                    break;
                }
            }
        }
        let miss = misses as f64 / trials as f64;
        println!("Hoeffding re-checked, Bernoulli(0.5), α = {alpha}: miss rate {miss:.4}");
        assert!(miss > alpha + slack(alpha, trials), "α = {alpha}: {miss}");
    }
}

/// The sequence's own boundary, evaluated where the verdict is made: at p = L the
/// mixture stays below 1/α on all but ≤ α of the streams (a direct check of Ville's bound,
/// independent of the interval ends).
#[test]
fn mixture_at_the_truth_rarely_crosses() {
    let (alpha, horizon, trials) = (0.1f64, 2000usize, 1000usize);
    let mut rng = ChaCha8Rng::seed_from_u64(4242);
    let level = -alpha.ln();
    let mut crossed = 0;
    for _ in 0..trials {
        let mut leaks = 0u64;
        for n in 1..=horizon as u64 {
            leaks += (rng.random::<f64>() < LEVEL) as u64;
            if log_mixture(leaks, n, LEVEL, BetaPrior::JEFFREYS) >= level {
                crossed += 1;
                break;
            }
        }
    }
    let rate = crossed as f64 / trials as f64;
    println!("P(sup_n M_n(p) ≥ 1/α) ≈ {rate:.4} (α = {alpha})");
    assert!(rate <= alpha + slack(alpha, trials), "{rate}");
}

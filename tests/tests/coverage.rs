//! Monte-Carlo coverage of the certified bounds.
//!
//! For distributions on [0, 1] whose mean, standard deviation, survival function and leak
//! probability are known in closed form, we draw `n` i.i.d. scores many times (seeded
//! ChaCha8, so every run sees the same samples) and count how often each bound holds. A bound
//! at level α must hold in at least a fraction 1 − α of the trials:
//!
//! | bound                                   | ε / level                         | event                      |
//! |-----------------------------------------|-----------------------------------|----------------------------|
//! | Clopper–Pearson upper / lower           | one-sided, α each                 | p ≤ upper, p ≥ lower       |
//! | expectation upper / lower (grid, exact) | one-sided DKW ε at α, each side   | μ ≤ upper, μ ≥ lower       |
//! | DKW survival `M_gen`                    | one-sided DKW ε at α              | ∀t: P(X > t) ≤ bound(t)    |
//! | sound std upper / lower                 | two-sided DKW ε at α (one band)   | σ ≤ upper, σ ≥ lower       |
//! | conbo summary: mean upper, std upper, ED| `BoundsSummary` defaults, λ = 2   | μ ≤ ·, σ ≤ ·, μ + λσ ≤ ED  |
//!
//! Each runs at α ∈ {0.05, 0.1} and n ∈ {16, 128}. conbo's *lower* std bound is a heuristic
//! (see `deviation.rs`), so only its upper side is asserted; its coverage is printed. The survival event is checked on a fine grid of 1001 thresholds plus every atom of
//! the law and every sample point (where `sup_t F_n(t) − F(t)` is attained), so it is the
//! simultaneous DKW event itself, not a pointwise one.
//!
//! `negative_controls_fail` proves that the harness can fail: a "bound" that is just the
//! sample mean, and the survival bound with half the DKW ε, are both rejected.

use std::time::Instant;

use probable_core::stats::{
    clopper_pearson, dkw_epsilon, expectation_bounds, std_bounds, survival_upper_bound,
    BinomialBounds, BoundsConfig, BoundsSummary, DeviationMethod, Ecdf, IntegralMethod, Sidedness,
};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Beta, Distribution};

/// Trials per (distribution, α, n). At 2000 trials the Monte-Carlo standard error of a
/// coverage near 0.95 is about 0.005.
const TRIALS: usize = 2000;
const ALPHAS: [f64; 2] = [0.05, 0.1];
const NS: [usize; 2] = [16, 128];
/// Survival thresholds: `linspace(0, 1, SURVIVAL_GRID)`, plus atoms and sample points.
const SURVIVAL_GRID: usize = 1001;

// ---------------------------------------------------------------------------------------
// Distributions with known truth
// ---------------------------------------------------------------------------------------

#[derive(Clone)]
enum Law {
    /// Beta(a, b) with its closed-form survival function `P(X > t)`.
    Beta {
        a: f64,
        b: f64,
        survival: fn(f64) -> f64,
    },
    /// Finitely many atoms `(value, probability)`; probabilities sum to 1.
    Discrete(Vec<(f64, f64)>),
}

struct Dist {
    name: &'static str,
    law: Law,
    /// Leak threshold τ for Clopper–Pearson: a score ≥ τ is a leak.
    tau: f64,
}

impl Dist {
    fn beta(name: &'static str, a: f64, b: f64, survival: fn(f64) -> f64, tau: f64) -> Self {
        Self {
            name,
            law: Law::Beta { a, b, survival },
            tau,
        }
    }

    fn discrete(name: &'static str, atoms: &[(f64, f64)], tau: f64) -> Self {
        let total: f64 = atoms.iter().map(|a| a.1).sum();
        assert!(
            (total - 1.0).abs() < 1e-12,
            "{name}: probabilities sum to {total}"
        );
        Self {
            name,
            law: Law::Discrete(atoms.to_vec()),
            tau,
        }
    }

    fn mean(&self) -> f64 {
        match &self.law {
            Law::Beta { a, b, .. } => a / (a + b),
            Law::Discrete(atoms) => atoms.iter().map(|(v, p)| v * p).sum(),
        }
    }

    fn std(&self) -> f64 {
        match &self.law {
            Law::Beta { a, b, .. } => (a * b / ((a + b).powi(2) * (a + b + 1.0))).sqrt(),
            Law::Discrete(atoms) => {
                let m = self.mean();
                atoms
                    .iter()
                    .map(|(v, p)| p * (v - m).powi(2))
                    .sum::<f64>()
                    .sqrt()
            }
        }
    }

    /// `P(X > t)`.
    fn survival(&self, t: f64) -> f64 {
        match &self.law {
            Law::Beta { survival, .. } => survival(t),
            Law::Discrete(atoms) => atoms.iter().filter(|(v, _)| *v > t).map(|a| a.1).sum(),
        }
    }

    /// `P(X ≥ τ)`, the leak probability Clopper–Pearson bounds.
    fn p_leak(&self) -> f64 {
        match &self.law {
            // Continuous: P(X ≥ τ) = P(X > τ).
            Law::Beta { survival, .. } => survival(self.tau),
            Law::Discrete(atoms) => atoms
                .iter()
                .filter(|(v, _)| *v >= self.tau)
                .map(|a| a.1)
                .sum(),
        }
    }

    fn atoms(&self) -> Vec<f64> {
        match &self.law {
            Law::Beta { .. } => vec![],
            Law::Discrete(atoms) => atoms.iter().map(|a| a.0).collect(),
        }
    }

    fn sampler(&self) -> Sampler {
        match &self.law {
            Law::Beta { a, b, .. } => Sampler::Beta(Beta::new(*a, *b).expect("valid Beta")),
            Law::Discrete(atoms) => {
                let mut cum = 0.0;
                let mut table: Vec<(f64, f64)> = atoms
                    .iter()
                    .map(|&(v, p)| {
                        cum += p;
                        (cum, v)
                    })
                    .collect();
                table.last_mut().expect("at least one atom").0 = f64::INFINITY;
                Sampler::Discrete(table)
            }
        }
    }
}

enum Sampler {
    Beta(Beta<f64>),
    /// `(cumulative probability, value)`; the last cumulative is +∞.
    Discrete(Vec<(f64, f64)>),
}

impl Sampler {
    fn draw(&self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Sampler::Beta(b) => b.sample(rng),
            Sampler::Discrete(table) => {
                let u: f64 = rng.random();
                table.iter().find(|(c, _)| u < *c).expect("last is +inf").1
            }
        }
    }
}

/// Beta(0.5, 2): density `¾·t^(−½)·(1 − t)`, CDF `1.5·√t − 0.5·t^1.5`.
fn beta_half_2_survival(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    1.0 - 1.5 * t.sqrt() + 0.5 * t.powf(1.5)
}

/// Beta(2, 2): CDF `3t² − 2t³`, so `P(X > t) = (1 − t)²(1 + 2t)`.
fn beta_2_2_survival(t: f64) -> f64 {
    let t = t.clamp(0.0, 1.0);
    (1.0 - t).powi(2) * (1.0 + 2.0 * t)
}

fn beta_half_2() -> Dist {
    // P(X ≥ 0.5) ≈ 0.116.
    Dist::beta("Beta(0.5,2)", 0.5, 2.0, beta_half_2_survival, 0.5)
}
fn beta_2_2() -> Dist {
    Dist::beta("Beta(2,2)", 2.0, 2.0, beta_2_2_survival, 0.5)
}
fn bernoulli(name: &'static str, p: f64) -> Dist {
    Dist::discrete(name, &[(0.0, 1.0 - p), (1.0, p)], 0.5)
}
fn three_point() -> Dist {
    // Mean 0.22, std ≈ 0.3156, P(X ≥ 0.4) = 0.4.
    Dist::discrete(
        "3-point{0:.6,.4:.3,1:.1}",
        &[(0.0, 0.6), (0.4, 0.3), (1.0, 0.1)],
        0.4,
    )
}

// ---------------------------------------------------------------------------------------
// Tallies and the acceptance rule
// ---------------------------------------------------------------------------------------

/// How strictly a coverage is judged.
#[derive(Clone, Copy, PartialEq)]
enum Rule {
    /// Observed coverage ≥ 1 − α.
    Strict,
    /// Observed coverage ≥ 1 − α − 3·sqrt(α(1 − α)/trials): only for bounds whose true
    /// coverage is (nearly) exactly 1 − α, where a seeded run may fall a little short by
    /// chance. Each use is justified where it is chosen.
    ExactLevel,
    /// Printed, never asserted (heuristic bounds without a coverage guarantee).
    Report,
}

struct Row {
    dist: &'static str,
    alpha: f64,
    n: usize,
    bound: &'static str,
    covered: usize,
    trials: usize,
    rule: Rule,
    /// The exact (not simulated) coverage, where it is computable.
    exact: Option<f64>,
}

impl Row {
    fn coverage(&self) -> f64 {
        self.covered as f64 / self.trials as f64
    }

    fn required(&self) -> f64 {
        let a = self.alpha;
        match self.rule {
            Rule::Strict => 1.0 - a,
            Rule::ExactLevel => 1.0 - a - 3.0 * (a * (1.0 - a) / self.trials as f64).sqrt(),
            Rule::Report => 0.0,
        }
    }

    fn check(&self) -> Result<(), String> {
        if self.coverage() >= self.required() {
            Ok(())
        } else {
            Err(self.line())
        }
    }

    fn line(&self) -> String {
        let exact = self
            .exact
            .map_or(String::new(), |e| format!("  exact {e:.4}"));
        let need = match self.rule {
            Rule::Strict => format!("need ≥ {:.4}", self.required()),
            Rule::ExactLevel => format!("need ≥ {:.4} (1 − α − 3 SE)", self.required()),
            Rule::Report => "heuristic, not asserted".to_string(),
        };
        format!(
            "{:<26} α={:<4} n={:<4} {:<22} coverage {:.4}  {need}{exact}",
            self.dist,
            self.alpha,
            self.n,
            self.bound,
            self.coverage(),
        )
    }
}

/// Prints every row, then fails listing every bound that under-covers.
fn report_and_assert(rows: &[Row]) {
    for r in rows {
        eprintln!("coverage {}", r.line());
    }
    let failures: Vec<String> = rows.iter().filter_map(|r| r.check().err()).collect();
    assert!(
        failures.is_empty(),
        "bounds below their nominal coverage:\n{}",
        failures.join("\n")
    );
}

/// `C(n, k) p^k (1 − p)^(n − k)`.
fn binomial_pmf(n: usize, k: usize, p: f64) -> f64 {
    let mut c = 1.0f64;
    for i in 0..k {
        c = c * (n - i) as f64 / (i + 1) as f64;
    }
    c * p.powi(k as i32) * (1.0 - p).powi((n - k) as i32)
}

// ---------------------------------------------------------------------------------------
// The experiment
// ---------------------------------------------------------------------------------------

/// Runs every bound on `TRIALS` samples for each α and n and returns one row per bound.
fn simulate(dist: &Dist, seed: u64) -> Vec<Row> {
    let started = Instant::now();
    let (mu, sigma, p_leak) = (dist.mean(), dist.std(), dist.p_leak());
    let sampler = dist.sampler();
    let atoms = dist.atoms();
    // Fixed survival thresholds with their true survival, computed once.
    let fixed: Vec<(f64, f64)> = (0..SURVIVAL_GRID)
        .map(|j| j as f64 / (SURVIVAL_GRID - 1) as f64)
        .chain(atoms.iter().copied())
        .map(|t| (t, dist.survival(t)))
        .collect();
    let config_of = |alpha| BoundsConfig {
        alpha,
        ..BoundsConfig::default()
    };
    assert_eq!(config_of(0.1).lambda, 2.0, "ED is tested at λ = 2");
    let mut rows = Vec::new();
    for (ai, &alpha) in ALPHAS.iter().enumerate() {
        for (ni, &n) in NS.iter().enumerate() {
            let mut rng = ChaCha8Rng::seed_from_u64(seed * 100 + ai as u64 * 10 + ni as u64);
            let eps1 = dkw_epsilon(n, alpha, Sidedness::OneSided);
            let eps2 = dkw_epsilon(n, alpha, Sidedness::TwoSided);
            let config = config_of(alpha);
            let lambda = config.lambda;
            // Clopper–Pearson depends on the sample only through k: memoise per k.
            let cp: Vec<BinomialBounds> = (0..=n)
                .map(|k| clopper_pearson(k as u64, n as u64, alpha).expect("valid"))
                .collect();

            let mut hits = [0usize; 13];
            const NAMES: [&str; 13] = [
                "cp-upper",
                "cp-lower",
                "mean-upper-grid",
                "mean-lower-grid",
                "mean-upper-exact",
                "mean-lower-exact",
                "survival-dkw",
                "std-upper-sound",
                "std-lower-sound",
                "conbo-mean-upper",
                "conbo-std-upper",
                "conbo-ed",
                "conbo-std-lower",
            ];
            let mut xs = vec![0.0; n];
            for _ in 0..TRIALS {
                for x in xs.iter_mut() {
                    *x = sampler.draw(&mut rng);
                }
                let ecdf = Ecdf::new(&xs).expect("samples lie in [0, 1]");

                let b = &cp[ecdf.count_ge(dist.tau)];
                let grid = expectation_bounds(&ecdf, eps1, IntegralMethod::default());
                let exact = expectation_bounds(&ecdf, eps1, IntegralMethod::Exact);
                let survival_ok = fixed
                    .iter()
                    .all(|&(t, s)| s <= survival_upper_bound(&ecdf, t, eps1))
                    && ecdf
                        .sorted()
                        .iter()
                        .all(|&t| dist.survival(t) <= survival_upper_bound(&ecdf, t, eps1));
                let sound = std_bounds(&ecdf, eps2, DeviationMethod::Sound);
                let summary = BoundsSummary::compute(&xs, &config).expect("valid scores");

                let outcomes = [
                    p_leak <= b.upper,
                    p_leak >= b.lower,
                    mu <= grid.upper,
                    mu >= grid.lower,
                    mu <= exact.upper,
                    mu >= exact.lower,
                    survival_ok,
                    sigma <= sound.upper,
                    sigma >= sound.lower,
                    mu <= summary.mean_upper,
                    sigma <= summary.std_upper,
                    mu + lambda * sigma <= summary.ed_score,
                    sigma >= summary.std_lower,
                ];
                for (h, ok) in hits.iter_mut().zip(outcomes) {
                    *h += ok as usize;
                }
            }

            // Exact coverage of Clopper–Pearson: Σ_k P(K = k)·[bound(k) holds].
            let exact_cp = |holds: &dyn Fn(&BinomialBounds) -> bool| {
                (0..=n)
                    .filter(|&k| holds(&cp[k]))
                    .map(|k| binomial_pmf(n, k, p_leak))
                    .sum::<f64>()
            };
            let cp_upper_exact = exact_cp(&|b| p_leak <= b.upper);
            let cp_lower_exact = exact_cp(&|b| p_leak >= b.lower);
            // Clopper–Pearson guarantees ≥ 1 − α for every p; check it without Monte-Carlo
            // noise too (1e-12 absorbs the rounding of the pmf sum).
            for (side, e) in [("upper", cp_upper_exact), ("lower", cp_lower_exact)] {
                assert!(
                    e >= 1.0 - alpha - 1e-12,
                    "{}: exact Clopper–Pearson {side} coverage {e} < 1 − {alpha} at n = {n}",
                    dist.name
                );
            }

            for (i, name) in NAMES.iter().enumerate() {
                // Every bound is held to the bar, observed coverage ≥ 1 − α, and
                // this seeded run meets it everywhere. Two families are *exact-level*, with
                // a true coverage within one or two Monte-Carlo standard errors of 1 − α:
                // Clopper–Pearson at p = 0.5 or 0.4 (its exact coverage is printed and
                // asserted ≥ 1 − α above, free of simulation noise), and the one-sided DKW
                // survival bound on continuous laws (Massart's constant is asymptotically
                // tight: P(sup (F_n − F) > ε) → α; true coverage ≈ 0.905 at α = 0.1,
                // n = 128). Should a change of seed or sampler push one of them a little
                // below 1 − α, switch that row to `Rule::ExactLevel` (1 − α − 3 SE) rather
                // than hunting for a lucky seed.
                let rule = match i {
                    // conbo's std lower bound is a documented heuristic: reported only.
                    12 => Rule::Report,
                    _ => Rule::Strict,
                };
                let exact = match i {
                    0 => Some(cp_upper_exact),
                    1 => Some(cp_lower_exact),
                    _ => None,
                };
                rows.push(Row {
                    dist: dist.name,
                    alpha,
                    n,
                    bound: name,
                    covered: hits[i],
                    trials: TRIALS,
                    rule,
                    exact,
                });
            }
        }
    }
    eprintln!(
        "{}: {} trials × {} settings in {:.2?}",
        dist.name,
        TRIALS,
        ALPHAS.len() * NS.len(),
        started.elapsed()
    );
    rows
}

fn check_dist(dist: Dist, seed: u64) {
    let rows = simulate(&dist, seed);
    report_and_assert(&rows);
}

#[test]
fn coverage_beta_half_2() {
    check_dist(beta_half_2(), 1);
}

#[test]
fn coverage_beta_2_2() {
    check_dist(beta_2_2(), 2);
}

#[test]
fn coverage_bernoulli_005() {
    check_dist(bernoulli("Bernoulli(0.05)", 0.05), 3);
}

#[test]
fn coverage_bernoulli_05() {
    check_dist(bernoulli("Bernoulli(0.5)", 0.5), 4);
}

#[test]
fn coverage_point_mass_03() {
    // P(X ≥ 0.3) = 1: every trial has k = n leaks, so the CP upper bound is 1.
    check_dist(Dist::discrete("point mass 0.3", &[(0.3, 1.0)], 0.3), 5);
}

#[test]
fn coverage_point_mass_0() {
    check_dist(Dist::discrete("point mass 0", &[(0.0, 1.0)], 0.5), 6);
}

#[test]
fn coverage_three_point() {
    check_dist(three_point(), 7);
}

#[test]
fn true_values_are_right() {
    // The closed forms above, against numerical integration of the survival function
    // (E X = ∫ S, E X² = ∫ 2t S(t) dt) with the midpoint rule.
    for dist in [beta_half_2(), beta_2_2()] {
        let k = 200_000;
        let h = 1.0 / k as f64;
        let (mut m1, mut m2) = (0.0, 0.0);
        for j in 0..k {
            let t = (j as f64 + 0.5) * h;
            let s = dist.survival(t);
            m1 += s * h;
            m2 += 2.0 * t * s * h;
        }
        let sd = (m2 - m1 * m1).sqrt();
        assert!((m1 - dist.mean()).abs() < 1e-6, "{}: {m1}", dist.name);
        assert!((sd - dist.std()).abs() < 1e-6, "{}: {sd}", dist.name);
        assert!(dist.survival(0.0) == 1.0 && dist.survival(1.0).abs() < 1e-15);
    }
    let d = three_point();
    assert!((d.mean() - 0.22).abs() < 1e-15);
    assert!((d.std() - 0.0996f64.sqrt()).abs() < 1e-12);
    assert!((d.p_leak() - 0.4).abs() < 1e-15);
    assert!((beta_half_2().p_leak() - 0.116_116_523_516_815_6).abs() < 1e-12);
}

// ---------------------------------------------------------------------------------------
// Negative controls: the harness must be able to fail
// ---------------------------------------------------------------------------------------

#[test]
fn negative_controls_fail() {
    let dist = beta_2_2();
    let sampler = dist.sampler();
    let (mu, alpha, n) = (dist.mean(), 0.1, 128);
    let mut rng = ChaCha8Rng::seed_from_u64(99);
    let eps1 = dkw_epsilon(n, alpha, Sidedness::OneSided);
    let (mut naive_hits, mut half_eps_hits, mut real_hits) = (0, 0, 0);
    let mut xs = vec![0.0; n];
    for _ in 0..TRIALS {
        for x in xs.iter_mut() {
            *x = sampler.draw(&mut rng);
        }
        let ecdf = Ecdf::new(&xs).unwrap();
        // The sample mean "as an upper bound" holds about half the time (symmetric law).
        naive_hits += (mu <= ecdf.mean()) as usize;
        // The survival bound with half the DKW ε: P(sup(F_n − F) > ε/2) ≈ α^(1/4) ≈ 0.56.
        let holds = |eps: f64| {
            ecdf.sorted()
                .iter()
                .all(|&t| dist.survival(t) <= survival_upper_bound(&ecdf, t, eps))
        };
        half_eps_hits += holds(eps1 / 2.0) as usize;
        real_hits += holds(eps1) as usize;
    }
    let row = |bound, covered, rule| Row {
        dist: dist.name,
        alpha,
        n,
        bound,
        covered,
        trials: TRIALS,
        rule,
        exact: None,
    };
    let naive = row("naive-mean-as-upper", naive_hits, Rule::Strict);
    let half = row("survival-half-eps", half_eps_hits, Rule::ExactLevel);
    let real = row("survival-dkw", real_hits, Rule::Strict);
    for r in [&naive, &half, &real] {
        eprintln!("negative control {}", r.line());
    }
    // The acceptance rules reject both broken bounds by a wide margin (the half-ε one even
    // under the lenient 3-SE rule) …
    assert!(naive.check().is_err() && naive.coverage() < 0.6);
    assert!(half.check().is_err() && half.coverage() < 0.7);
    // … and accepts the real one on the very same samples.
    assert!(real.check().is_ok());
}

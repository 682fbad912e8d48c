//! Coverage of the certified leak@k bounds.
//!
//! For a per-sample leak probability `p`, the truth is `1 − (1 − p)^k`. We draw the number of
//! leaks among `n` samples (seeded ChaCha8) many times and count how often the upper bound
//! holds for every k at once (one event: the Clopper–Pearson upper bound ≥ p), and likewise
//! the lower bound. Each side must hold with frequency ≥ 1 − α: the Monte-Carlo rate is
//! checked within 3 standard errors, and the exact coverage (a sum over the binomial law) is
//! checked strictly. The set bound (Bonferroni over m questions) must cover the mean of the
//! true leak@k. A negative control — the plug-in estimate used as a "bound" — must fail.

use probable_core::stats::{default_ks, leak_at_k, set_leak_at_k};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

const TRIALS: usize = 4000;

fn truth(p: f64, k: u64) -> f64 {
    1.0 - (1.0 - p).powi(k as i32)
}

fn draw_leaks(rng: &mut ChaCha8Rng, n: u64, p: f64) -> u64 {
    (0..n).filter(|_| rng.random::<f64>() < p).count() as u64
}

/// `(upper holds for all k, lower holds for all k)` for `c` leaks of `n`.
fn holds(n: u64, c: u64, p: f64, alpha: f64) -> (bool, bool) {
    let ks = default_ks(n);
    let v = leak_at_k(n, c, &ks, alpha).unwrap();
    // A relative slack of 1e-12 absorbs the rounding of the two formulas of the same number.
    let up = v.iter().all(|x| x.upper + 1e-12 >= truth(p, x.k));
    let lo = v.iter().all(|x| x.lower - 1e-12 <= truth(p, x.k));
    (up, lo)
}

fn binomial_pmf(n: u64, c: u64, p: f64) -> f64 {
    let mut log = 0.0;
    for i in 0..c {
        log += ((n - i) as f64).ln() - ((i + 1) as f64).ln();
    }
    (log + c as f64 * p.ln() + (n - c) as f64 * (-p).ln_1p()).exp()
}

#[test]
fn certified_interval_covers_the_true_leak_at_k() {
    let mut rng = ChaCha8Rng::seed_from_u64(2511);
    for &n in &[16u64, 128] {
        for &alpha in &[0.05, 0.1] {
            for &p in &[0.002, 0.02, 0.1, 0.3, 0.7] {
                let (mut up, mut lo) = (0usize, 0usize);
                for _ in 0..TRIALS {
                    let c = draw_leaks(&mut rng, n, p);
                    let (u, l) = holds(n, c, p, alpha);
                    up += u as usize;
                    lo += l as usize;
                }
                let (exact_up, exact_lo) = (0..=n).fold((0.0, 0.0), |(a, b), c| {
                    let w = binomial_pmf(n, c, p);
                    let (u, l) = holds(n, c, p, alpha);
                    (a + w * u as u8 as f64, b + w * l as u8 as f64)
                });
                let se = (alpha * (1.0 - alpha) / TRIALS as f64).sqrt();
                let (mc_up, mc_lo) = (up as f64 / TRIALS as f64, lo as f64 / TRIALS as f64);
                eprintln!(
                    "n={n:>3} α={alpha} p={p:<5}: upper covers {mc_up:.4} (exact {exact_up:.4}), lower {mc_lo:.4} (exact {exact_lo:.4})"
                );
                for (side, mc, exact) in [("upper", mc_up, exact_up), ("lower", mc_lo, exact_lo)] {
                    assert!(
                        exact >= 1.0 - alpha - 1e-9,
                        "{side} exact coverage {exact} < 1 − {alpha}"
                    );
                    assert!(
                        mc >= 1.0 - alpha - 3.0 * se,
                        "{side} MC coverage {mc} (n={n}, p={p}, α={alpha})"
                    );
                }
            }
        }
    }
}

#[test]
fn set_bound_covers_the_mean_over_questions() {
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let (n, alpha) = (64u64, 0.1);
    let ps = [0.0, 0.01, 0.05, 0.2, 0.02];
    let ks = [1u64, 8, 64];
    let mut covered = 0;
    for _ in 0..TRIALS {
        let counts: Vec<(u64, u64)> = ps
            .iter()
            .map(|&p| (n, draw_leaks(&mut rng, n, p)))
            .collect();
        let set = set_leak_at_k(&counts, &ks, alpha).unwrap();
        covered += set.iter().all(|s| {
            let mean = ps.iter().map(|&p| truth(p, s.k)).sum::<f64>() / ps.len() as f64;
            s.upper + 1e-12 >= mean
        }) as usize;
    }
    let rate = covered as f64 / TRIALS as f64;
    eprintln!(
        "set bound (m = 5, Bonferroni) covers the mean leak@k in {rate:.4} of {TRIALS} trials"
    );
    assert!(rate >= 1.0 - alpha);
}

#[test]
fn negative_control_plug_in_estimate_fails() {
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    let (n, p, alpha) = (32u64, 0.05, 0.1);
    let mut hits = 0;
    for _ in 0..TRIALS {
        let c = draw_leaks(&mut rng, n, p);
        let v = leak_at_k(n, c, &[8], alpha).unwrap()[0];
        hits += (v.estimate >= truth(p, 8)) as usize;
    }
    let rate = hits as f64 / TRIALS as f64;
    eprintln!("plug-in estimate as an upper bound covers {rate:.4}");
    assert!(
        rate < 1.0 - alpha - 0.1,
        "the harness must reject a non-bound"
    );
}

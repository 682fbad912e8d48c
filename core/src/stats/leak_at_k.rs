//! Leak@k: the probability that at least one of `k` samples leaks.
//!
//! With `c` leaks among `n` samples, the unbiased estimate is the pass@k estimator
//! `1 − C(n−c, k)/C(n, k)` (Reisizadeh et al., 2025), computed as the product
//! `1 − ∏_{i<k} (n−c−i)/(n−i)`: every factor lies in [0, 1], so nothing overflows, and it is
//! exact at `c = 0` (0), at `k > n − c` (1, in particular `c = n` and, for `c > 0`, `k = n`).
//!
//! The certified interval: leak@k = `1 − (1 − p)^k` is increasing in the per-sample leak
//! probability `p`, so the one-sided Clopper–Pearson bounds `[p_L, p_U]` (level α each, as
//! `M_bin`) map to `[1 − (1 − p_L)^k, 1 − (1 − p_U)^k]`. It is one event about `p`, so the
//! bounds hold for every `k` at once: the upper end holds for all k with probability ≥ 1 − α,
//! and so does the lower end (both ends together: ≥ 1 − 2α). The bounds are about the true
//! leak@k, not about the estimate, which can fall outside them for k near n (it is 1 as soon
//! as one of n samples leaked).

use serde::{Deserialize, Serialize};

use super::{clopper_pearson, StatsError};

/// Leak@k at one k: the estimate and its certified bounds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct LeakAtK {
    pub k: u64,
    pub estimate: f64,
    pub lower: f64,
    pub upper: f64,
}

/// The unbiased estimate `1 − C(n−c, k)/C(n, k)`.
pub fn leak_at_k_estimate(n: u64, leaks: u64, k: u64) -> Result<f64, StatsError> {
    check(n, leaks, k)?;
    if k > n - leaks {
        return Ok(1.0);
    }
    if k == 1 {
        // The leak rate itself, without the rounding of 1 − (n − c)/n.
        return Ok(leaks as f64 / n as f64);
    }
    let mut none = 1.0f64;
    for i in 0..k {
        none *= (n - leaks - i) as f64 / (n - i) as f64;
    }
    Ok(1.0 - none)
}

/// `1 − (1 − p)^k` without cancellation for small p.
fn at_least_one(p: f64, k: u64) -> f64 {
    if p >= 1.0 {
        return 1.0;
    }
    -(k as f64 * (-p).ln_1p()).exp_m1()
}

fn check(n: u64, leaks: u64, k: u64) -> Result<(), StatsError> {
    if n == 0 {
        return Err(StatsError::Empty);
    }
    if leaks > n {
        return Err(StatsError::InvalidCount { leaks, n });
    }
    if k == 0 || k > n {
        return Err(StatsError::InvalidK { k, n });
    }
    Ok(())
}

/// Leak@k at each of `ks` for `leaks` of `n` samples, bounds at level `alpha` per side.
pub fn leak_at_k(n: u64, leaks: u64, ks: &[u64], alpha: f64) -> Result<Vec<LeakAtK>, StatsError> {
    let p = clopper_pearson(leaks, n, alpha)?;
    ks.iter()
        .map(|&k| {
            Ok(LeakAtK {
                k,
                estimate: leak_at_k_estimate(n, leaks, k)?,
                lower: at_least_one(p.lower, k),
                upper: at_least_one(p.upper, k),
            })
        })
        .collect()
}

/// The k the field reports: 1, 2, 4, … up to n, and n itself.
pub fn default_ks(n: u64) -> Vec<u64> {
    let mut ks: Vec<u64> = std::iter::successors(Some(1u64), |k| k.checked_mul(2))
        .take_while(|&k| k <= n)
        .collect();
    if n > 0 && ks.last() != Some(&n) {
        ks.push(n);
    }
    ks
}

/// Leak@k over a set of `m` questions: the mean estimate, and bounds on the mean of the
/// true leak@k that hold for all questions (and all k) jointly — each question's
/// Clopper–Pearson interval is taken at level α/m (Bonferroni), so with probability
/// ≥ 1 − α every per-question upper bound holds at once, and hence their mean bounds the
/// mean (likewise for the lower side).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SetLeakAtK {
    pub k: u64,
    pub mean_estimate: f64,
    pub lower: f64,
    pub upper: f64,
    /// Questions averaged.
    pub questions: usize,
}

/// `counts` holds `(n, leaks)` per question; every k must be ≤ each question's n.
pub fn set_leak_at_k(
    counts: &[(u64, u64)],
    ks: &[u64],
    alpha: f64,
) -> Result<Vec<SetLeakAtK>, StatsError> {
    if counts.is_empty() {
        return Err(StatsError::Empty);
    }
    let m = counts.len() as f64;
    let per: Vec<Vec<LeakAtK>> = counts
        .iter()
        .map(|&(n, c)| leak_at_k(n, c, ks, alpha / m))
        .collect::<Result<_, _>>()?;
    Ok(ks
        .iter()
        .enumerate()
        .map(|(j, &k)| {
            let mean = |f: fn(&LeakAtK) -> f64| per.iter().map(|q| f(&q[j])).sum::<f64>() / m;
            SetLeakAtK {
                k,
                mean_estimate: mean(|x| x.estimate),
                lower: mean(|x| x.lower),
                upper: mean(|x| x.upper),
                questions: counts.len(),
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edges_are_exact() {
        assert_eq!(leak_at_k_estimate(10, 0, 5).unwrap(), 0.0);
        assert_eq!(leak_at_k_estimate(10, 10, 1).unwrap(), 1.0);
        assert_eq!(leak_at_k_estimate(10, 1, 10).unwrap(), 1.0);
        assert_eq!(leak_at_k_estimate(10, 3, 1).unwrap(), 0.3);
        // 1 − C(2,2)/C(4,2) = 1 − 1/6.
        assert!((leak_at_k_estimate(4, 2, 2).unwrap() - 5.0 / 6.0).abs() < 1e-15);
        assert!(matches!(
            leak_at_k_estimate(4, 2, 0),
            Err(StatsError::InvalidK { .. })
        ));
        assert!(matches!(
            leak_at_k_estimate(4, 2, 5),
            Err(StatsError::InvalidK { .. })
        ));
    }

    #[test]
    fn bounds_bracket_the_estimate_and_grow_with_k() {
        let v = leak_at_k(128, 3, &default_ks(128), 0.01).unwrap();
        assert_eq!(
            v.iter().map(|x| x.k).collect::<Vec<_>>(),
            [1, 2, 4, 8, 16, 32, 64, 128]
        );
        for w in v.windows(2) {
            assert!(w[1].upper >= w[0].upper && w[1].lower >= w[0].lower);
        }
        // Small k: the estimate lies inside; at k = n it is 1 once any sample leaked, above
        // the certified upper bound of the true leak@n.
        for x in &v[..4] {
            assert!(x.lower <= x.estimate && x.estimate <= x.upper, "{x:?}");
        }
        let last = v.last().unwrap();
        assert!(last.estimate == 1.0 && last.upper < 1.0);
        assert_eq!(default_ks(100).last(), Some(&100));
        assert!(default_ks(0).is_empty());
    }

    #[test]
    fn set_bound_is_wider_than_any_single_question_at_alpha() {
        let counts = [(64, 0), (64, 2), (64, 10)];
        let set = set_leak_at_k(&counts, &[8], 0.05).unwrap();
        let single = leak_at_k(64, 0, &[8], 0.05).unwrap()[0];
        let bonf = leak_at_k(64, 0, &[8], 0.05 / 3.0).unwrap()[0];
        assert!(bonf.upper > single.upper);
        assert!(set[0].upper > set[0].mean_estimate);
    }
}

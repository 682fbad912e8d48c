//! Leak@k against exact rational arithmetic (Python's math.comb) and statsmodels'
//! Clopper–Pearson interval (fixtures made by tests/golden/make_leak_at_k_goldens.py).

use probable_core::stats::{leak_at_k, set_leak_at_k};
use probable_tests::golden;
use serde_json::Value;

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

fn u(v: &Value, key: &str) -> u64 {
    v[key]
        .as_u64()
        .unwrap_or_else(|| panic!("{key} missing in {v}"))
}

#[test]
fn estimates_and_bounds_match_the_reference() {
    let g = golden("leak_at_k_golden.json");
    let cases = g["cases"].as_array().unwrap();
    assert!(cases.len() >= 80);
    let (mut checked, mut worst_est, mut worst_bound) = (0, 0.0f64, 0.0f64);
    for c in cases {
        let (n, leaks, alpha) = (u(c, "n"), u(c, "leaks"), f(c, "alpha"));
        let want = c["leak_at_k"].as_array().unwrap();
        let ks: Vec<u64> = want.iter().map(|w| u(w, "k")).collect();
        let got = leak_at_k(n, leaks, &ks, alpha).unwrap();
        for (g, w) in got.iter().zip(want) {
            let est = (g.estimate - f(w, "estimate")).abs();
            assert!(
                est <= 1e-12,
                "n={n} c={leaks} k={}: estimate {} vs {}",
                g.k,
                g.estimate,
                f(w, "estimate")
            );
            for (side, got, want) in [
                ("lower", g.lower, f(w, "lower")),
                ("upper", g.upper, f(w, "upper")),
            ] {
                let d = (got - want).abs();
                assert!(
                    d <= 1e-9,
                    "n={n} c={leaks} k={} a={alpha}: {side} {got} vs {want}",
                    g.k
                );
                worst_bound = worst_bound.max(d);
            }
            worst_est = worst_est.max(est);
            checked += 1;
        }
    }
    eprintln!("{checked} (n, c, k, α) points: max |Δ estimate| {worst_est:.1e}, max |Δ bound| {worst_bound:.1e}");
}

#[test]
fn set_bounds_match_the_bonferroni_reference() {
    let g = golden("leak_at_k_golden.json");
    for s in g["sets"].as_array().unwrap() {
        let n = u(s, "n");
        let counts: Vec<(u64, u64)> = s["leaks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (n, c.as_u64().unwrap()))
            .collect();
        let ks: Vec<u64> = s["ks"]
            .as_array()
            .unwrap()
            .iter()
            .map(|k| k.as_u64().unwrap())
            .collect();
        let got = set_leak_at_k(&counts, &ks, f(s, "alpha")).unwrap();
        for (g, w) in got.iter().zip(s["leak_at_k"].as_array().unwrap()) {
            assert!((g.mean_estimate - f(w, "mean_estimate")).abs() <= 1e-12);
            assert!((g.lower - f(w, "lower")).abs() <= 1e-9, "{g:?} vs {w}");
            assert!((g.upper - f(w, "upper")).abs() <= 1e-9, "{g:?} vs {w}");
            assert_eq!(g.questions, counts.len());
        }
    }
}

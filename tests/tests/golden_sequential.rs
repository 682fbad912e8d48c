//! The anytime-valid bounds against independent references (fixtures made by
//! tests/golden/make_sequential_goldens.py): Robbins' beta-binomial mixture sequence and
//! the first-decision rule solved in mpmath at 50 digits, and the empirical-Bernstein mean
//! sequence from confseq 0.0.11 itself.
//!
//! Tolerances: the mixture's ends are roots of `ln M_n(p) = ln(1/α)`, where `ln M_n` is a
//! difference of log-gamma values of size up to ~1.5·10⁸ (n = 10⁷) whose f64 rounding
//! (~10⁻⁷ absolute) moves a root by that error over the slope `|∂ ln M_n/∂p|` (≥ 10⁴ there):
//! 1e-9 absolute leaves a wide margin, and ends below 1e-6 are also held to 1e-6 relative.
//! The Bernstein sequence is closed form with the same operation order as confseq: 1e-12.

use probable_core::stats::{
    bernstein_cs, beta_binomial_cs, first_decision, sequential::log_mixture, BetaPrior,
    SequentialConfig, Verdict,
};
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

fn floats(v: &Value) -> Vec<f64> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number"))
        .collect()
}

fn prior(v: &Value) -> BetaPrior {
    let p = floats(&v["prior"]);
    BetaPrior { a: p[0], b: p[1] }
}

fn close(got: f64, want: f64) -> bool {
    let d = (got - want).abs();
    d <= 1e-9 && (want.abs() >= 1e-6 || d <= 1e-6 * want.abs())
}

#[test]
fn mixture_ends_match_mpmath() {
    let g = golden("sequential_golden.json");
    let rows = g["mixture"].as_array().unwrap();
    assert!(rows.len() >= 200, "{} rows", rows.len());
    let mut worst = 0.0f64;
    for r in rows {
        let (s, n, alpha) = (u(r, "successes"), u(r, "n"), f(r, "alpha"));
        let cs = beta_binomial_cs(s, n, alpha, prior(r)).unwrap();
        for (side, got, want) in [
            ("lower", cs.lower, f(r, "lower")),
            ("upper", cs.upper, f(r, "upper")),
        ] {
            assert!(
                close(got, want),
                "S={s} n={n} α={alpha} prior {:?}: {side} {got} vs mpmath {want}",
                prior(r)
            );
            worst = worst.max((got - want).abs());
        }
    }
    println!("{} mixture rows, worst |diff| {worst:.2e}", rows.len());
}

#[test]
fn log_mixture_matches_mpmath() {
    let g = golden("sequential_golden.json");
    for r in g["log_mixture"].as_array().unwrap() {
        let (s, n, p) = (u(r, "successes"), u(r, "n"), f(r, "p"));
        let got = log_mixture(s, n, p, prior(r));
        let want = f(r, "log_mixture");
        assert!(
            (got - want).abs() <= 1e-9 * want.abs().max(1.0),
            "S={s} n={n} p={p}: {got} vs {want}"
        );
    }
}

#[test]
fn first_decisions_match_the_reference() {
    let g = golden("sequential_golden.json");
    let cases = g["decisions"].as_array().unwrap();
    assert!(cases.len() >= 20);
    let mut verdicts = std::collections::HashSet::new();
    for c in cases {
        let config =
            SequentialConfig::new(f(c, "alpha"), f(c, "leak_threshold"), f(c, "leak_level"));
        let scores = floats(&c["scores"]);
        let o = first_decision(&scores, &config).unwrap();
        let name = c["name"].as_str().unwrap();
        let want: Verdict = serde_json::from_value(c["verdict"].clone()).unwrap();
        assert_eq!(
            (o.stopped_at, o.verdict, o.leaks),
            (u(c, "stopped_at"), want, u(c, "leaks")),
            "{name} {config:?}"
        );
        let lp = &c["leak_probability"];
        assert!(
            close(o.leak_probability.lower, f(lp, "lower")),
            "{name}: {o:?}"
        );
        assert!(
            close(o.leak_probability.upper, f(lp, "upper")),
            "{name}: {o:?}"
        );
        verdicts.insert(o.verdict);
    }
    assert_eq!(verdicts.len(), 3, "the fixture must exercise every verdict");
}

#[test]
fn bernstein_matches_confseq() {
    let g = golden("sequential_golden.json");
    let streams = g["mean"].as_array().unwrap();
    assert!(streams.len() >= 8);
    let mut worst = 0.0f64;
    for s in streams {
        let name = s["name"].as_str().unwrap();
        let scores = floats(&s["scores"]);
        let ts: Vec<usize> = s["t"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t.as_u64().unwrap() as usize)
            .collect();
        for by in s["by_alpha"].as_array().unwrap() {
            let alpha = f(by, "alpha");
            let cs = bernstein_cs(&scores, alpha).unwrap();
            for (side, want) in [
                ("lower", floats(&by["lower"])),
                ("upper", floats(&by["upper"])),
            ] {
                for (&t, &w) in ts.iter().zip(&want) {
                    let got = if side == "lower" {
                        cs[t - 1].lower
                    } else {
                        cs[t - 1].upper
                    };
                    let d = (got - w).abs();
                    worst = worst.max(d);
                    assert!(
                        d <= 1e-12,
                        "{name} α={alpha} t={t}: {side} {got} vs confseq {w}"
                    );
                }
            }
        }
    }
    println!("{} mean streams, worst |diff| {worst:.2e}", streams.len());
}

//! Parity with conbo 0.1.1 and statsmodels (fixtures made by tests/golden/make_stats_goldens.py).

use probable_core::stats::grid::{linspace01, CONBO_GRID_POINTS};
use probable_core::stats::{
    clopper_pearson, dkw_epsilon, expectation_bounds, std_bounds, survival_upper_bound,
    variance_bounds, BoundsConfig, BoundsSummary, DeviationMethod, Ecdf, IntegralMethod, Sidedness,
};
use probable_tests::golden;
use serde_json::Value;

const TOL: f64 = 1e-9;

fn f(v: &Value, key: &str) -> f64 {
    v[key]
        .as_f64()
        .unwrap_or_else(|| panic!("fixture field {key} missing in {v}"))
}

fn close(name: &str, what: &str, got: f64, want: f64) {
    assert!(
        (got - want).abs() <= TOL,
        "{name}: {what} = {got:.17}, reference {want:.17} (diff {:.3e})",
        (got - want).abs()
    );
}

#[test]
fn bounds_match_conbo_and_statsmodels() {
    let g = golden("stats_golden.json");
    let cases = g["cases"].as_array().expect("cases");
    assert!(cases.len() >= 100, "expected the full fixture set");
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let alpha = f(case, "alpha");
        let scores: Vec<f64> = case["scores"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap())
            .collect();
        let ecdf = Ecdf::new(&scores).unwrap();
        let n = scores.len();
        let eps1 = dkw_epsilon(n, alpha, Sidedness::OneSided);
        let eps2 = dkw_epsilon(n, alpha, Sidedness::TwoSided);
        close(
            name,
            "dkw one-sided",
            eps1,
            f(case, "dkw_epsilon_one_sided"),
        );
        close(
            name,
            "dkw two-sided",
            eps2,
            f(case, "dkw_epsilon_two_sided"),
        );

        for (key, eps) in [
            ("expectation_one_sided", eps1),
            ("expectation_two_sided", eps2),
        ] {
            let e = expectation_bounds(&ecdf, eps, IntegralMethod::default());
            let r = &case[key];
            close(name, &format!("{key}.mean"), e.mean, f(r, "mean"));
            close(name, &format!("{key}.lower"), e.lower, f(r, "lower"));
            close(name, &format!("{key}.upper"), e.upper, f(r, "upper"));
        }
        let v = variance_bounds(&ecdf, eps2, DeviationMethod::Conbo);
        let s = std_bounds(&ecdf, eps2, DeviationMethod::Conbo);
        for (key, b) in [("variance", v), ("std", s)] {
            let r = &case[key];
            close(name, &format!("{key}.sample"), b.sample, f(r, "sample"));
            close(name, &format!("{key}.lower"), b.lower, f(r, "lower"));
            close(name, &format!("{key}.upper"), b.upper, f(r, "upper"));
        }

        let t = f(case, "leak_threshold");
        let k = ecdf.count_ge(t) as u64;
        let b = &case["binomial"];
        assert_eq!(k, b["k"].as_u64().unwrap(), "{name}: leak count");
        let cp = clopper_pearson(k, n as u64, alpha).unwrap();
        close(name, "binomial.lower", cp.lower, f(b, "lower"));
        close(name, "binomial.upper", cp.upper, f(b, "upper"));

        // conbo.cdf_bounds on a grid (called with the alpha recorded in the fixture).
        let cb = &case["cdf_bounds"];
        let a_passed = f(cb, "alpha_passed");
        let eps = dkw_epsilon(n, a_passed, Sidedness::TwoSided);
        assert_eq!(
            cb["x"], "grid",
            "{name}: cdf bounds are recorded on conbo's grid"
        );
        for (i, x) in linspace01(CONBO_GRID_POINTS).into_iter().enumerate() {
            let cdf = ecdf.cdf(x);
            close(name, "cdf", cdf, cb["cdf"][i].as_f64().unwrap());
            close(
                name,
                "cdf lower",
                (cdf - eps).max(0.0),
                cb["lower"][i].as_f64().unwrap(),
            );
            close(
                name,
                "cdf upper",
                (cdf + eps).min(1.0),
                cb["upper"][i].as_f64().unwrap(),
            );
        }
        let at = &case["cdf_bounds_at_threshold"];
        let x = f(at, "x");
        close(
            name,
            "survival upper",
            survival_upper_bound(&ecdf, x, eps1),
            f(at, "survival_upper"),
        );

        // The summary the CLI prints combines the same numbers.
        let summary = BoundsSummary::compute(
            &scores,
            &BoundsConfig {
                alpha,
                leak_threshold: Some(t),
                ..BoundsConfig::default()
            },
        )
        .unwrap();
        close(
            name,
            "summary.mean_upper",
            summary.mean_upper,
            f(&case["expectation_one_sided"], "upper"),
        );
        close(
            name,
            "summary.std_upper",
            summary.std_upper,
            f(&case["std"], "upper"),
        );
        close(
            name,
            "summary.ed",
            summary.ed_score,
            f(&case["expectation_two_sided"], "upper") + 2.0 * f(&case["std"], "upper"),
        );
    }
}

#[test]
fn clopper_pearson_matches_statsmodels() {
    let g = golden("stats_golden.json");
    let rows = g["clopper_pearson"].as_array().unwrap();
    assert!(rows.len() > 50);
    for r in rows {
        let (k, n, a) = (
            r["k"].as_u64().unwrap(),
            r["n"].as_u64().unwrap(),
            f(r, "alpha"),
        );
        let cp = clopper_pearson(k, n, a).unwrap();
        let name = format!("k={k} n={n} alpha={a}");
        close(&name, "lower", cp.lower, f(r, "lower"));
        close(&name, "upper", cp.upper, f(r, "upper"));
    }
}

"""The bindings against the goldens the Rust tests use: conbo 0.1.1 and statsmodels 0.14.4
(tests/golden/stats_golden.json, made by tests/golden/make_stats_goldens.py)."""
import math

import pytest

import probable_eval as pe
from conftest import golden

TOL = 1e-9
STATS = golden("stats_golden.json")
CASES = STATS["cases"]


def close(got, want, what):
    assert abs(got - want) <= TOL, f"{what}: {got!r} vs reference {want!r}"


def test_fixture_is_complete():
    assert len(CASES) >= 100
    assert len(STATS["clopper_pearson"]) > 50


@pytest.mark.parametrize("case", CASES, ids=[c["name"] for c in CASES])
def test_case_matches_conbo_and_statsmodels(case):
    x, alpha, t = case["scores"], case["alpha"], case["leak_threshold"]
    n = len(x)
    close(pe.dkw_epsilon(n, alpha), case["dkw_epsilon_one_sided"], "dkw one-sided")
    close(pe.dkw_epsilon(n, alpha, two_sided=True), case["dkw_epsilon_two_sided"],
          "dkw two-sided")
    for key, two_sided in [("expectation_one_sided", False), ("expectation_two_sided", True)]:
        got = pe.expectation_bounds(x, alpha, two_sided=two_sided)
        want = case[key]
        for g, field in zip(got, ["mean", "lower", "upper"]):
            close(g, want[field], f"{key}.{field}")
    for key, fn in [("variance", pe.variance_bounds), ("std", pe.std_bounds)]:
        got = fn(x, alpha)
        for g, field in zip(got, ["sample", "lower", "upper"]):
            close(g, case[key][field], f"{key}.{field}")

    b = case["binomial"]
    k = sum(1 for v in x if v >= t)
    assert k == b["k"]
    lower, upper = pe.clopper_pearson(k, n, alpha)
    close(lower, b["lower"], "binomial.lower")
    close(upper, b["upper"], "binomial.upper")

    at = case["cdf_bounds_at_threshold"]
    close(pe.dkw_survival(x, t=at["x"], alpha=alpha), at["survival_upper"], "survival upper")

    # The bounds() record combines the same numbers (ED: two-sided band, lam = 2).
    s = pe.bounds(x, alpha=alpha, leak_threshold=t)
    close(s["mean_upper"], case["expectation_one_sided"]["upper"], "bounds.mean_upper")
    close(s["mean_lower"], case["expectation_one_sided"]["lower"], "bounds.mean_lower")
    close(s["std_upper"], case["std"]["upper"], "bounds.std_upper")
    close(s["ed_score"],
          case["expectation_two_sided"]["upper"] + 2.0 * case["std"]["upper"], "bounds.ed")
    close(pe.ed_score(x, alpha), s["ed_score"], "ed_score()")
    assert s["binary"]["leaks"] == k
    close(s["binary"]["upper"], b["upper"], "bounds.binary.upper")
    assert s["dkw_epsilon"] == pe.dkw_epsilon(n, alpha)


@pytest.mark.parametrize("row", STATS["clopper_pearson"],
                         ids=[f"k{r['k']}-n{r['n']}-a{r['alpha']}" for r in STATS["clopper_pearson"]])
def test_clopper_pearson_matches_statsmodels(row):
    lower, upper = pe.clopper_pearson(row["k"], row["n"], row["alpha"])
    close(lower, row["lower"], "lower")
    close(upper, row["upper"], "upper")


def test_survival_curve_steps_at_the_scores():
    x = [0.0, 0.5, 0.5, 1.0]
    eps = pe.dkw_epsilon(4, 0.05)
    curve = pe.dkw_survival(x, alpha=0.05)
    assert [p["t"] for p in curve] == [0.0, 0.5, 1.0]
    assert [p["empirical"] for p in curve] == [0.75, 0.25, 0.0]
    assert [p["upper"] for p in curve] == [min(1.0, e + eps) for e in (0.75, 0.25, 0.0)]
    assert curve == pe.bounds(x, alpha=0.05)["survival"]


def test_exact_integral_is_never_looser():
    x = [0.05, 0.2, 0.2, 0.33, 0.9, 0.91, 1.0]
    m, lo, hi = pe.expectation_bounds(x, 0.05)
    me, loe, hie = pe.expectation_bounds(x, 0.05, exact=True)
    assert me == m and loe >= lo - 1e-12 and hie <= hi + 1e-12
    assert math.isclose(m, sum(x) / len(x))

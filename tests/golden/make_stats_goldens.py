#!/usr/bin/env python3
"""Generate tests/golden/stats_golden.json from the reference Python packages.

Reference implementations:
  * conbo 0.1.1 (the paper authors' statistics package): expectation_bounds,
    variance_bounds, std_bounds, cdf_bounds
  * statsmodels proportion_confint(k, n, alpha, method="beta") (Clopper-Pearson)

Run with the pinned venv (see setup_venv.sh / README.md):

    PY=$(bash tests/golden/setup_venv.sh | tail -n1)
    "$PY" tests/golden/make_stats_goldens.py

Output is deterministic (seeded numpy Generator, fixed case list); floats are
written with Python's shortest round-trip repr, so they parse back bit-exactly.

Conventions (alpha = a in every case):
  expectation_one_sided = conbo.expectation_bounds(x, alpha=2a)  -> (mean, lower, upper)
  expectation_two_sided = conbo.expectation_bounds(x, alpha=a)
  variance              = conbo.variance_bounds(x, alpha=a)       -> (sample_var, lower, upper)
  std                   = conbo.std_bounds(x, alpha=a)            -> (sample_std, lower, upper)
  binomial              = proportion_confint(k, n, alpha=2a, method="beta"), k = #(x >= t)
  cdf_bounds            = conbo.cdf_bounds(x, T, alpha=2a)        -> (cdf, lower, upper) at the
                          100-point grid T = numpy.linspace(0, 1, 100) stored once as "grid"
  cdf_bounds_at_threshold = conbo.cdf_bounds(x, [t], alpha=2a) at the single point x = t
"""
import json
import math
import os
import platform
import sys
import warnings

import numpy as np
import scipy
import statsmodels
from statsmodels.stats.proportion import proportion_confint

import conbo

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "stats_golden.json")
SEED = 20250407
ALPHAS = [0.01, 0.05, 0.1]
GRID = np.linspace(0, 1, 100)  # conbo's default grid (stepsize=100)


def fnum(v):
    """Python float, or None for NaN/inf (JSON has no NaN)."""
    v = float(v)
    return v if math.isfinite(v) else None


def call_triple(fn, names, *args, **kwargs):
    """Call a conbo function returning a 3-tuple; map it to a dict.

    Any exception or non-finite value is recorded as null plus an 'error' string.
    """
    try:
        with warnings.catch_warnings(record=True) as caught, np.errstate(all="warn"):
            warnings.simplefilter("always")
            res = fn(*args, **kwargs)
    except Exception as e:  # record, don't drop
        out = {k: None for k in names}
        out["error"] = f"{type(e).__name__}: {e}"
        return out
    out = {}
    if caught:
        out["warnings"] = sorted({str(w.message) for w in caught})
    bad = []
    for k, v in zip(names, res):
        fv = fnum(v)
        out[k] = fv
        if fv is None:
            bad.append(f"{k}={float(v)!r}")
    if bad:
        out["error"] = "non-finite result: " + ", ".join(bad)
    return out


def clopper_pearson(k, n, a):
    """One-sided-at-level-a Clopper-Pearson bounds = two-sided at 2a."""
    lo, hi = proportion_confint(k, n, alpha=2 * a, method="beta")
    return fnum(lo), fnum(hi)


def make_scores(kind, n, rng):
    if kind == "zeros":
        return np.zeros(n)
    if kind == "ones":
        return np.ones(n)
    if kind == "bernoulli_0.1":
        return (rng.random(n) < 0.1).astype(float)
    if kind == "bernoulli_0.5":
        return (rng.random(n) < 0.5).astype(float)
    if kind == "ties":
        return rng.choice(np.array([0.0, 0.25, 0.5, 0.75, 1.0]), size=n)
    if kind == "beta_0.5_2":
        return rng.beta(0.5, 2.0, size=n)
    if kind == "uniform":
        return rng.random(n)
    if kind == "grid_linspace":
        # Values exactly equal to conbo's grid points T[k] = numpy.linspace(0,1,100)[k]
        # (computed by numpy as k * (1/99), last point exactly 1.0).
        return GRID[rng.integers(0, 100, size=n)]
    if kind == "grid_div":
        # Values k/99 computed by true division. For 49 of the 100 k these differ
        # from numpy's linspace point by one ulp, which moves them across the
        # F_n(T_j) = #{x <= T_j}/n comparison.
        return rng.integers(0, 100, size=n) / 99.0
    if kind == "point_mass_0.3":
        # Constant non-binary data: sample variance is a rounding residue (~1e-17),
        # so the sample std is ~1e-9, not 0. See README.
        return np.full(n, 0.3)
    raise ValueError(kind)


def build_case(name, kind, n, a, t, rng=None, scores=None):
    x = make_scores(kind, n, rng) if scores is None else scores
    x = np.asarray(x, dtype=float)
    case = {
        "name": name,
        "kind": kind,
        "n": int(n),
        "alpha": a,
        "scores": [float(v) for v in x],
        "leak_threshold": t,
    }
    case["expectation_one_sided"] = call_triple(
        conbo.expectation_bounds, ("mean", "lower", "upper"), x, alpha=2 * a)
    case["expectation_two_sided"] = call_triple(
        conbo.expectation_bounds, ("mean", "lower", "upper"), x, alpha=a)
    case["std"] = call_triple(conbo.std_bounds, ("sample", "lower", "upper"), x, alpha=a)
    case["variance"] = call_triple(
        conbo.variance_bounds, ("sample", "lower", "upper"), x, alpha=a)
    k = int((x >= t).sum())
    lo, hi = clopper_pearson(k, n, a)
    case["binomial"] = {"k": k, "n": int(n), "lower": lo, "upper": hi}
    case["dkw_epsilon_one_sided"] = math.sqrt(math.log(1 / a) / (2 * n))
    case["dkw_epsilon_two_sided"] = math.sqrt(math.log(2 / a) / (2 * n))
    try:
        cdf, clo, cup = conbo.cdf_bounds(x, GRID, alpha=2 * a)
        case["cdf_bounds"] = {
            "x": "grid",
            "alpha_passed": 2 * a,
            "cdf": [fnum(v) for v in np.atleast_1d(cdf)],
            "lower": [fnum(v) for v in np.atleast_1d(clo)],
            "upper": [fnum(v) for v in np.atleast_1d(cup)],
        }
    except Exception as e:
        case["cdf_bounds"] = None
        case["error"] = f"cdf_bounds: {type(e).__name__}: {e}"
    cdf, clo, cup = conbo.cdf_bounds(x, np.array([t]), alpha=2 * a)
    case["cdf_bounds_at_threshold"] = {
        "x": t, "cdf": fnum(cdf), "lower": fnum(clo), "upper": fnum(cup),
        "survival_upper": fnum(1 - clo),
    }
    return case


def main():
    rng = np.random.default_rng(SEED)
    kinds = ["zeros", "ones", "bernoulli_0.1", "bernoulli_0.5", "ties", "beta_0.5_2",
             "uniform", "grid_linspace", "grid_div", "point_mass_0.3"]
    kinds_1024 = ["zeros", "ones", "bernoulli_0.1", "ties", "beta_0.5_2", "grid_linspace",
                  "uniform", "grid_div"]
    cases = []
    for n in [1, 2, 8, 128]:
        for kind in kinds:
            for a in ALPHAS:
                cases.append(build_case(f"{kind}/n{n}/a{a}", kind, n, a, 0.5, rng))
    # n = 1024: one alpha per kind (cycled) to stay under the size limit.
    for i, kind in enumerate(kinds_1024):
        a = ALPHAS[i % 3]
        cases.append(build_case(f"{kind}/n1024/a{a}", kind, 1024, a, 0.5, rng))
    # Other leak thresholds (k = #(x >= t)); exercise ties at the threshold too.
    for kind in ["ties", "beta_0.5_2", "uniform", "grid_linspace"]:
        for t in [0.3, 0.9]:
            for n, a in [(8, 0.05), (128, 0.01)]:
                cases.append(build_case(f"{kind}/n{n}/a{a}/t{t}", kind, n, a, t, rng))
    # Threshold exactly equal to tied values (x >= t must count them).
    x = np.array([0.0, 0.25, 0.75, 0.75, 1.0, 0.75, 0.5, 0.25])
    cases.append(build_case("handmade_ties_at_threshold/n8/a0.05/t0.75", "handmade", 8, 0.05,
                            0.75, scores=x))
    # Hand-made edge inputs.
    cases.append(build_case("handmade_extremes/n6/a0.01", "handmade", 6, 0.01, 0.5,
                            scores=[0.0, 5e-324, 1e-300, 0.5, 1 - 2 ** -53, 1.0]))
    cases.append(build_case("handmade_single_half/n1/a0.05", "handmade", 1, 0.05, 0.5,
                            scores=[0.5]))
    cases.append(build_case("handmade_two_points/n2/a0.1", "handmade", 2, 0.1, 0.5,
                            scores=[0.0, 1.0]))

    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"

    cp = []
    for n in [1, 2, 5, 10, 128, 1024, 10000]:
        ks = sorted({0, 1, n // 2, n - 1, n, max(0, n // 10), int(rng.integers(0, n + 1))})
        for k in ks:
            for a in ALPHAS:
                lo, hi = clopper_pearson(k, n, a)
                cp.append({"k": k, "n": n, "alpha": a, "lower": lo, "upper": hi})

    doc = {
        "generator": {
            "script": "tests/golden/make_stats_goldens.py",
            "seed": SEED,
            "versions": {
                "conbo": conbo.__version__,
                "statsmodels": statsmodels.__version__,
                "numpy": np.__version__,
                "scipy": scipy.__version__,
                "python": platform.python_version(),
            },
            "notes": [
                "expectation_one_sided = conbo.expectation_bounds(x, alpha=2*alpha) (default stepsize=100); conbo returns (mean, lower, upper)",
                "expectation_two_sided = conbo.expectation_bounds(x, alpha=alpha)",
                "variance / std = conbo.variance_bounds / std_bounds(x, alpha=alpha); conbo returns (sample, lower, upper); sample is ddof=0 computed as mean(x^2)-mean(x)^2 clipped at 0",
                "binomial = statsmodels proportion_confint(k, n, alpha=2*alpha, method='beta') with k = #(x >= leak_threshold)",
                "dkw_epsilon_one_sided = sqrt(ln(1/alpha)/(2n)); dkw_epsilon_two_sided = sqrt(ln(2/alpha)/(2n))",
                "cdf_bounds = conbo.cdf_bounds(x, grid, alpha=2*alpha) -> (cdf, max(cdf-eps,0), min(cdf+eps,1)) with eps = dkw_epsilon_one_sided, cdf(t) = #(x <= t)/n, evaluated at every point of top-level 'grid'",
                "cdf_bounds_at_threshold = conbo.cdf_bounds(x, [leak_threshold], alpha=2*alpha); survival_upper = 1 - lower = DKW bound on P(X > t)",
                "grid = numpy.linspace(0, 1, 100): T[k] = k * (1/99) for k < 99 and T[99] = 1.0 exactly; differs from k/99 by one ulp for 49 values of k",
                "null plus an 'error' string means conbo raised or returned a non-finite value",
            ],
        },
        "grid": [float(v) for v in GRID],
        "cases": cases,
        "clopper_pearson": cp,
    }
    text = json.dumps(doc, separators=(",", ":"), allow_nan=False)
    with open(OUT, "w") as f:
        f.write(text)
        f.write("\n")
    print(f"wrote {OUT}: {len(cases)} cases, {len(cp)} clopper_pearson rows, "
          f"{len(text)} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()

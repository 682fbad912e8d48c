#!/usr/bin/env python3
"""Generate tests/golden/sequential_golden.json: reference values for the anytime-valid
(sequential) bounds of core/src/stats/sequential/.

Reference implementations (none of them shares code with probable):
  * mpmath 1.3.0 at 50 significant digits: Robbins' beta-binomial mixture confidence
    sequence for a Bernoulli rate, from its closed form
        ln M_n(p) = ln B(a+S, b+n-S) - ln B(a, b) - S ln p - (n-S) ln(1-p),
        C_n = {p : ln M_n(p) < ln(1/alpha)},
    both ends found by bisection in mpmath (S = 0: lower 0; S = n: upper 1), and the
    first-decision rule (stop at the first n where L leaves C_n) evaluated the same way.
  * confseq 0.0.11 (Howard & Waudby-Smith): the predictable-mixture empirical-Bernstein
    confidence sequence for a mean in [0, 1],
        confseq.predmix.predmix_empbern_twosided_cs(x, alpha, truncation=0.5)
    (Waudby-Smith & Ramdas 2024, Theorem 2), the default running_intersection=False.

confseq is only published as a source distribution that needs a C++ compiler, cmake and
the Boost headers (`apt-get install libboost-dev`) and NumPy < 2; it has its own venv
(setup_sequential_venv.sh says why), which no test needs: the goldens are committed.

    PY=$(bash tests/golden/setup_sequential_venv.sh | tail -n1)
    "$PY" tests/golden/make_sequential_goldens.py

Deterministic (seeded numpy Generator, fixed case lists); floats are written with
Python's shortest round-trip repr.
"""
import json
import math
import os
import platform
import sys

import mpmath as mp
import numpy as np

import confseq
from confseq.predmix import predmix_empbern_twosided_cs

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "sequential_golden.json")
SEED = 20261206
mp.mp.dps = 50

JEFFREYS = (0.5, 0.5)


# ---------------------------------------------------------------------------------------
# Beta-binomial mixture (mpmath)
# ---------------------------------------------------------------------------------------

def log_beta(a, b):
    return mp.loggamma(a) + mp.loggamma(b) - mp.loggamma(a + b)


def log_mixture(s, n, p, prior):
    a, b = mp.mpf(prior[0]), mp.mpf(prior[1])
    s, f, p = mp.mpf(s), mp.mpf(n - s), mp.mpf(p)
    ll = mp.mpf(0)
    if s > 0:
        ll += s * mp.log(p)
    if f > 0:
        ll += f * mp.log1p(-p)
    return log_beta(a + s, b + f) - log_beta(a, b) - ll


def bisect(g, lo, hi, increasing, iters=400):
    """Root of a monotone g in (lo, hi); stops at 1e-40 relative width."""
    for _ in range(iters):
        mid = (lo + hi) / 2
        if (g(mid) < 0) == increasing:
            lo = mid
        else:
            hi = mid
        if hi - lo <= mp.mpf("1e-40") * hi:
            break
    return (lo + hi) / 2


def mixture_cs(s, n, alpha, prior):
    level = mp.log(1 / mp.mpf(alpha))
    g = lambda p: log_mixture(s, n, p, prior) - level
    phat = mp.mpf(s) / n
    assert g(phat) < 0
    lower = mp.mpf(0) if s == 0 else bisect(g, mp.mpf(0), phat, increasing=False)
    upper = mp.mpf(1) if s == n else bisect(g, phat, mp.mpf(1), increasing=True)
    return float(lower), float(upper)


def mixture_cases(rng):
    rows = []
    ns = [1, 2, 3, 5, 10, 50, 100, 1000, 10_000, 100_000, 1_000_000, 10_000_000]
    for n in ns:
        ss = sorted({0, 1, n // 10, n // 2, int(rng.integers(0, n + 1)), n - 1, n} - {-1})
        ss = [s for s in ss if 0 <= s <= n]
        for s in ss:
            for alpha in [0.01, 0.05, 0.2]:
                rows.append((s, n, alpha, JEFFREYS))
    # Other priors (the prior is a tuning knob of the API).
    for prior in [(1.0, 1.0), (2.0, 18.0), (0.1, 5.0), (30.0, 30.0)]:
        for s, n in [(0, 20), (3, 20), (20, 20), (17, 400), (5000, 60000)]:
            rows.append((s, n, 0.05, prior))
    out = []
    for s, n, alpha, prior in rows:
        lo, hi = mixture_cs(s, n, alpha, prior)
        out.append({"successes": s, "n": n, "alpha": alpha, "prior": list(prior),
                    "lower": lo, "upper": hi})
    return out


def log_mixture_rows():
    rows = []
    for s, n, p in [(0, 10, 0.1), (1, 10, 0.1), (5, 10, 0.5), (3, 100, 0.01), (0, 1000, 0.2),
                    (999, 1000, 0.999), (10, 10, 0.9), (123456, 1_000_000, 0.1234)]:
        rows.append({"successes": s, "n": n, "p": p, "prior": list(JEFFREYS),
                     "log_mixture": float(log_mixture(s, n, p, JEFFREYS))})
    return rows


# ---------------------------------------------------------------------------------------
# First decision (mpmath; independent of the Rust incremental code)
# ---------------------------------------------------------------------------------------

def first_decision(scores, alpha, threshold, level):
    lvl = mp.log(1 / mp.mpf(alpha))
    leaks = 0
    for i, x in enumerate(scores):
        n = i + 1
        leaks += x >= threshold
        if log_mixture(leaks, n, level, JEFFREYS) >= lvl:
            verdict = "leaks" if leaks > level * n else "below"
            break
    else:
        verdict = "undecided"
    lo, hi = mixture_cs(leaks, n, alpha, JEFFREYS)
    return {"stopped_at": n, "verdict": verdict, "leaks": int(leaks),
            "leak_probability": {"lower": lo, "upper": hi}}


def decision_cases(rng):
    out = []
    specs = [
        ("bernoulli_0.0", lambda m: np.zeros(m)),
        ("bernoulli_0.02", lambda m: (rng.random(m) < 0.02).astype(float)),
        ("bernoulli_0.1", lambda m: (rng.random(m) < 0.1).astype(float)),
        ("bernoulli_0.3", lambda m: (rng.random(m) < 0.3).astype(float)),
        ("bernoulli_0.5", lambda m: (rng.random(m) < 0.5).astype(float)),
        ("beta_0.5_2", lambda m: rng.beta(0.5, 2.0, m)),
        ("uniform", lambda m: rng.random(m)),
    ]
    for name, draw in specs:
        scores = [float(v) for v in draw(300)]
        for alpha, threshold, level in [(0.01, 0.5, 0.1), (0.05, 0.5, 0.2), (0.2, 0.9, 0.05)]:
            d = first_decision(scores, alpha, threshold, level)
            out.append({"name": name, "alpha": alpha, "leak_threshold": threshold,
                        "leak_level": level, "scores": scores, **d})
    return out


# ---------------------------------------------------------------------------------------
# Empirical-Bernstein CS (confseq)
# ---------------------------------------------------------------------------------------

def mean_cases(rng):
    streams = [
        ("zeros", np.zeros(200)),
        ("ones", np.ones(200)),
        ("point_mass_0.3", np.full(300, 0.3)),
        ("bernoulli_0.1", (rng.random(1500) < 0.1).astype(float)),
        ("bernoulli_0.5", (rng.random(600) < 0.5).astype(float)),
        ("beta_0.5_2", rng.beta(0.5, 2.0, 2000)),
        ("uniform", rng.random(800)),
        ("ties", rng.integers(0, 5, 400) / 4.0),
        ("extremes", np.array([0.0, 5e-324, 1e-300, 0.5, 1 - 2**-53, 1.0] * 20)),
        ("single", np.array([0.7])),
    ]
    out = []
    for name, x in streams:
        x = np.asarray(x, dtype=float)
        n = len(x)
        # Every t for short streams; a log-spaced subset plus the last t for long ones.
        if n <= 300:
            ts = list(range(1, n + 1))
        else:
            ts = sorted({int(v) for v in np.unique(np.geomspace(1, n, 120).round())} | {n})
        case = {"name": name, "scores": [float(v) for v in x], "t": ts, "by_alpha": []}
        for alpha in [0.01, 0.05, 0.2]:
            lo, hi = predmix_empbern_twosided_cs(x, alpha=alpha, truncation=0.5)
            case["by_alpha"].append({
                "alpha": alpha,
                "lower": [float(lo[t - 1]) for t in ts],
                "upper": [float(hi[t - 1]) for t in ts],
            })
        out.append(case)
    return out


def main():
    rng = np.random.default_rng(SEED)
    data = {
        "generator": {
            "script": "tests/golden/make_sequential_goldens.py",
            "seed": SEED,
            "versions": {
                "mpmath": mp.__version__,
                "confseq": getattr(confseq, "__version__", "0.0.11"),
                "numpy": np.__version__,
                "python": platform.python_version(),
            },
            "notes": [
                "mixture: Robbins' beta-binomial mixture CS {p : M_n(p) < 1/alpha}, mpmath dps=50",
                "mean: confseq.predmix.predmix_empbern_twosided_cs(x, alpha, truncation=0.5)",
                "decisions: first n where L leaves the mixture CS, Beta(1/2,1/2) prior",
            ],
        },
        "mixture": mixture_cases(rng),
        "log_mixture": log_mixture_rows(),
        "decisions": decision_cases(rng),
        "mean": mean_cases(rng),
    }
    with open(OUT, "w") as f:
        json.dump(data, f, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(data['mixture'])} mixture rows, {len(data['decisions'])} "
          f"decisions, {len(data['mean'])} mean streams", file=sys.stderr)


if __name__ == "__main__":
    main()

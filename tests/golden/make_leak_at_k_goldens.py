#!/usr/bin/env python3
"""Golden values for leak@k (Reisizadeh et al., 2025) and its certified bounds.

    PY=$(bash tests/golden/setup_venv.sh | tail -n1)
    "$PY" tests/golden/make_leak_at_k_goldens.py

Writes tests/golden/leak_at_k_golden.json:
  estimate  = 1 - C(n-c, k) / C(n, k), exactly (math.comb and Fraction), then rounded to a double;
  p_lower, p_upper = statsmodels proportion_confint(c, n, alpha=2a, method="beta")
              (the one-sided Clopper-Pearson bounds at level a each, as M_bin);
  lower, upper = 1 - (1 - p)^k for p = p_lower, p_upper, evaluated with mpmath at 50 digits;
  sets: the mean estimate, and the means of per-question bounds at level a/m (Bonferroni).
Deterministic: fixed case lists and seed.
"""
import json
import math
import os
import random
from fractions import Fraction

import mpmath
import statsmodels
from statsmodels.stats.proportion import proportion_confint

mpmath.mp.dps = 50
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "leak_at_k_golden.json")


def ks_for(n):
    ks, k = [], 1
    while k <= n:
        ks.append(k)
        k *= 2
    if ks[-1] != n:
        ks.append(n)
    for extra in (3, n - 1):
        if 1 <= extra <= n and extra not in ks:
            ks.append(extra)
    return sorted(ks)


def estimate(n, c, k):
    return float(1 - Fraction(math.comb(n - c, k), math.comb(n, k)))


def at_least_one(p, k):
    return float(1 - (1 - mpmath.mpf(p)) ** k)


def cp(c, n, a):
    lo, hi = proportion_confint(c, n, alpha=2 * a, method="beta")
    return float(lo), float(hi)


def case(n, c, a):
    lo, hi = cp(c, n, a)
    return {
        "n": n, "leaks": c, "alpha": a, "p_lower": lo, "p_upper": hi,
        "leak_at_k": [
            {"k": k, "estimate": estimate(n, c, k), "lower": at_least_one(lo, k),
             "upper": at_least_one(hi, k)}
            for k in ks_for(n)
        ],
    }


def main():
    rng = random.Random(20251106)
    cases = []
    for n in (1, 2, 5, 10, 16, 128, 200, 1024):
        counts = sorted({0, 1, n // 2, n - 1, n, rng.randint(0, n), rng.randint(0, max(1, n // 10))})
        for c in counts:
            if 0 <= c <= n:
                for a in (0.01, 0.05):
                    cases.append(case(n, c, a))
    sets = []
    for m, n, a in ((3, 64, 0.05), (10, 128, 0.01), (40, 256, 0.01)):
        counts = [rng.randint(0, n // 4) if rng.random() < 0.7 else 0 for _ in range(m)]
        ks = [1, 4, 16, n]
        per = []
        for c in counts:
            lo, hi = cp(c, n, a / m)
            per.append([(estimate(n, c, k), at_least_one(lo, k), at_least_one(hi, k)) for k in ks])
        sets.append({
            "n": n, "alpha": a, "leaks": counts, "ks": ks,
            "leak_at_k": [
                {"k": k,
                 "mean_estimate": sum(q[j][0] for q in per) / m,
                 "lower": sum(q[j][1] for q in per) / m,
                 "upper": sum(q[j][2] for q in per) / m}
                for j, k in enumerate(ks)
            ],
        })
    golden = {
        "generator": {"script": "tests/golden/make_leak_at_k_goldens.py",
                      "statsmodels": statsmodels.__version__, "mpmath": mpmath.__version__},
        "cases": cases,
        "sets": sets,
    }
    with open(OUT, "w") as f:
        json.dump(golden, f, indent=None, separators=(",", ":"))
        f.write("\n")
    print(f"wrote {OUT}: {len(cases)} cases, {len(sets)} sets")


if __name__ == "__main__":
    main()

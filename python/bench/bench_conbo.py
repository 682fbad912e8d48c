#!/usr/bin/env python3
"""Speed of probable_eval against conbo 0.1.1 (the paper authors' package) on one question
set, measured side by side in one run. Not a test: it prints timings and ratios.

    PY=$(bash python/setup_venv.sh | tail -n1)
    "$PY" python/bench/bench_conbo.py [--questions 10000] [--samples 128] [--repeat 3]

What is timed, on a Beta(0.5, 2) score matrix (questions x samples), alpha = 0.01, tau = 0.5:

- set: conbo on the 2-D array, vectorised over questions (expectation_bounds at 2*alpha for
  M_mu, at alpha for ED, std_bounds at alpha, binomial_bounds at 2*alpha for M_bin), against
  probable_eval.summarize (all of those plus the survival curve, the summary means, and the
  per-question dicts it returns), and summarize(survival=False), which leaves the survival
  curve (a dict per distinct score) out of its output;
- loop: the same per question in a Python loop (conbo's 1-D calls against
  probable_eval.bounds), how a pipeline that scores one question at a time calls them.

Before timing it checks that both give the same mean_upper, std_upper, ed_score and M_bin
(max |difference| printed). Best of --repeat runs each.
"""
import argparse
import time

import numpy as np
import conbo

import probable_eval as pe

ALPHA, TAU = 0.01, 0.5


def conbo_set(x):
    _, mean_lower, mean_upper = conbo.expectation_bounds(x, alpha=2 * ALPHA)
    _, _, ed_mean = conbo.expectation_bounds(x, alpha=ALPHA)
    _, std_lower, std_upper = conbo.std_bounds(x, alpha=ALPHA)
    _, bin_upper = conbo.binomial_bounds(x >= TAU, alpha=2 * ALPHA)
    return mean_upper, std_upper, ed_mean + 2.0 * std_upper, bin_upper


def conbo_loop(x):
    out = [conbo_set(row) for row in x]
    return tuple(np.array(v) for v in zip(*out))


def probable_set(x):
    s = pe.summarize(x, alpha=ALPHA, leak_threshold=TAU)
    return fields(s["questions"])


def probable_set_lean(x):
    s = pe.summarize(x, alpha=ALPHA, leak_threshold=TAU, survival=False)
    return fields(s["questions"])


def probable_loop(x):
    return fields([pe.bounds(row, alpha=ALPHA, leak_threshold=TAU) for row in x])


def fields(per_question):
    return tuple(np.array([q[k] for q in per_question])
                 for k in ["mean_upper", "std_upper", "ed_score"]) + (
        np.array([q["binary"]["upper"] for q in per_question]),)


def best(fn, x, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn(x)
        times.append(time.perf_counter() - t0)
    return min(times)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--questions", type=int, default=10000)
    ap.add_argument("--samples", type=int, default=128)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    x = np.random.default_rng(args.seed).beta(0.5, 2.0, size=(args.questions, args.samples))

    want = conbo_set(x)
    for name, got in [("summarize", probable_set(x)), ("summarize lean", probable_set_lean(x)),
                      ("bounds loop", probable_loop(x[:200]))]:
        diff = max(float(np.max(np.abs(g - w[: len(g)]))) for g, w in zip(got, want))
        print(f"agreement with conbo ({name}): max |diff| over M_mu, M_sigma, ED, M_bin = {diff:.1e}")
        assert diff <= 1e-9, "probable_eval and conbo disagree: the timings would not compare"

    print(f"{args.questions} questions x {args.samples} samples, best of {args.repeat}:")
    rows = [
        ("set", best(conbo_set, x, args.repeat), best(probable_set, x, args.repeat),
         "conbo 2-D (vectorised)", "probable_eval.summarize"),
        ("set", best(conbo_set, x, args.repeat), best(probable_set_lean, x, args.repeat),
         "conbo 2-D (vectorised)", "probable_eval.summarize(survival=False)"),
        ("loop", best(conbo_loop, x, args.repeat), best(probable_loop, x, args.repeat),
         "conbo 1-D per question", "probable_eval.bounds per question"),
    ]
    for what, tc, tp, lc, lp in rows:
        print(f"  {what:<5} {lc:<24} {tc:8.3f} s   {lp:<41} {tp:8.3f} s   ratio {tc / tp:6.1f}x")


if __name__ == "__main__":
    main()

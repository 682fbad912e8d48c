#!/usr/bin/env python3
"""End-to-end check of the `probable` CLI against the reference Python packages.

    PY=$(bash tests/golden/setup_venv.sh | tail -n1)
    "$PY" tests/golden/check_cli_against_reference.py --probable target/release/probable \
        [--trials 40] [--rouge-pairs 20] [--seed S] [--keep]

Each bounds trial draws a fresh random score vector (n in [1, 2000]; Beta, Bernoulli,
ties on {0,.25,.5,.75,1}, values on conbo's grid points, or a point mass), writes it
one score per line to a temp file (0/1 data sometimes as integers "0"/"1"), runs

    PROBABLE bounds --json --alpha A [--leak-threshold T] [--lambda L] FILE

and compares the JSON object on stdout with (abs tol 1e-9):

    n, alpha
    sample_mean, mean_lower, mean_upper  conbo.expectation_bounds(x, alpha=2A)   (one-sided at A)
    sample_std, std_lower, std_upper     conbo.std_bounds(x, alpha=A)            (sample std: ddof 0)
    dkw_epsilon                          sqrt(ln(1/A) / (2n))
    binary {leaks, lower, upper}         proportion_confint(k, n, alpha=2A, method="beta"),
                                         k = #(x >= T); present only if T is given or all
                                         scores are 0/1 (then k = number of ones)
    ed_score                             conbo.expectation_bounds(x, alpha=A) upper
                                         + L * std_upper  (L defaults to 2)

Square-root quantities (sample_std, std_lower, std_upper) also pass when their squares
agree within 1e-12: conbo's variance of constant data is a rounding residue (~1e-17)
whose square root (~1e-9) depends on summation order.

Each rouge trial runs `PROBABLE rouge --reference R --prediction P --json` on a random
synthetic sentence pair and compares precision/recall/fmeasure with
rouge_score.RougeScorer(["rougeL"], use_stemmer=True).score(target=R, prediction=P).

The seed defaults to one derived from the clock (printed first), so every run sees fresh
inputs; rerun with --seed S to reproduce. Ends with exactly one line
"N passed, M failed"; exits 1 if any trial failed.
"""
import argparse
import json
import math
import os
import subprocess
import sys
import tempfile
import time

TOL = 1e-9
SQRT_SQ_TOL = 1e-12


def _ensure_reference_packages():
    """Import the reference packages, re-executing under the stats venv if needed."""
    try:
        import numpy  # noqa: F401
        import conbo  # noqa: F401
        import statsmodels  # noqa: F401
        import rouge_score  # noqa: F401
        return
    except ImportError as err:
        venv = os.environ.get("PROBABLE_STATS_VENV",
                              os.path.expanduser("~/.cache/probable/venv-stats"))
        py = os.path.join(venv, "bin", "python")
        # (venv pythons are symlinks to the base interpreter: compare prefixes)
        if (os.path.exists(py) and os.path.realpath(venv) != os.path.realpath(sys.prefix)
                and not os.environ.get("_PROBABLE_CHECK_REEXEC")):
            os.environ["_PROBABLE_CHECK_REEXEC"] = "1"
            os.execv(py, [py, os.path.abspath(__file__)] + sys.argv[1:])
        sys.stderr.write(
            f"error: reference packages missing ({err}); run tests/golden/setup_venv.sh "
            "and use the python it prints\n")
        sys.exit(2)


_ensure_reference_packages()

import numpy as np  # noqa: E402
import conbo  # noqa: E402
from statsmodels.stats.proportion import proportion_confint  # noqa: E402
from rouge_score import rouge_scorer  # noqa: E402

GRID = np.linspace(0, 1, 100)


# ---------------------------------------------------------------------------
# Random inputs
# ---------------------------------------------------------------------------
def draw_scores(rng):
    n = int(rng.integers(1, 2001))
    kind = rng.choice(["beta", "bernoulli", "ties", "point_mass", "grid"],
                      p=[0.35, 0.25, 0.15, 0.15, 0.1])
    if kind == "beta":
        a, b = rng.uniform(0.1, 5.0, size=2)
        x = rng.beta(a, b, size=n)
        desc = f"beta({a:.3g},{b:.3g})"
    elif kind == "bernoulli":
        p = float(rng.choice([0.0, 1.0, rng.uniform(0, 0.05), rng.uniform(0, 1)]))
        x = (rng.random(n) < p).astype(float)
        desc = f"bernoulli({p:.3g})"
    elif kind == "ties":
        x = rng.choice(np.array([0.0, 0.25, 0.5, 0.75, 1.0]), size=n)
        desc = "ties{0,.25,.5,.75,1}"
    elif kind == "grid":
        # values exactly on conbo's grid numpy.linspace(0, 1, 100) (= k * (1/99), not k/99)
        lo = int(rng.integers(0, 100))
        hi = int(rng.integers(lo, 100)) + 1
        x = GRID[rng.integers(lo, hi, size=n)]
        desc = f"grid_points[{lo}:{hi}]"
    else:
        v = float(rng.choice([0.0, 1.0, 0.5, rng.uniform(0, 1), GRID[rng.integers(0, 100)]]))
        x = np.full(n, v)
        desc = f"point_mass({v!r})"
    return x, desc


def draw_alpha(rng):
    if rng.random() < 0.5:
        return float(rng.choice([0.01, 0.05, 0.1]))
    return float(rng.uniform(0.001, 0.3))


def draw_threshold(rng):
    r = rng.random()
    if r < 0.6:
        return None
    if r < 0.8:
        return float(rng.uniform(0, 1))
    return float(rng.choice([0.0, 0.25, 0.5, 0.75, 1.0]))  # exactly on tie values


def draw_lambda(rng):
    r = rng.random()
    if r < 0.6:
        return None
    if r < 0.8:
        return float(rng.choice([0.0, 1.0, 2.0, 3.0]))
    return float(rng.uniform(0, 5))


def write_scores(path, x, rng):
    binary = bool(np.all((x == 0) | (x == 1)))
    as_int = binary and rng.random() < 0.5  # judges often print 0/1
    with open(path, "w") as f:
        for v in x:
            f.write(f"{int(v)}\n" if as_int else f"{float(v)!r}\n")


# ---------------------------------------------------------------------------
# Reference values
# ---------------------------------------------------------------------------
def reference_bounds(x, alpha, thr, lam):
    n = len(x)
    mean, mlo, mhi = conbo.expectation_bounds(x, alpha=2 * alpha)
    _, _, mhi2 = conbo.expectation_bounds(x, alpha=alpha)
    s, slo, shi = conbo.std_bounds(x, alpha=alpha)
    ref = {
        "n": n,
        "alpha": alpha,
        "sample_mean": float(mean),
        "sample_std": float(s),
        "mean_lower": float(mlo),
        "mean_upper": float(mhi),
        "std_lower": float(slo),
        "std_upper": float(shi),
        "dkw_epsilon": math.sqrt(math.log(1 / alpha) / (2 * n)),
        "ed_score": float(mhi2) + (2.0 if lam is None else lam) * float(shi),
    }
    binary = bool(np.all((x == 0) | (x == 1)))
    if thr is not None or binary:
        t = 0.5 if thr is None else thr
        k = int((x >= t).sum())
        lo, hi = proportion_confint(k, n, alpha=2 * alpha, method="beta")
        ref["binary"] = {"leaks": k, "lower": float(lo), "upper": float(hi)}
    else:
        ref["binary"] = None
    return ref


SQRT_KEYS = {"sample_std", "std_lower", "std_upper"}


def num_close(key, got, want):
    if isinstance(got, bool) or not isinstance(got, (int, float)):
        return False
    if not math.isfinite(float(got)):
        return False
    if abs(got - want) <= TOL:
        return True
    return key in SQRT_KEYS and abs(got * got - want * want) <= SQRT_SQ_TOL


def compare_bounds(out, ref):
    """Return a list of mismatch strings (empty when everything agrees)."""
    bad = []
    if not isinstance(out, dict):
        return [f"stdout JSON is not an object: {out!r:.200}"]
    for key in ["n", "alpha", "sample_mean", "sample_std", "mean_lower", "mean_upper",
                "std_lower", "std_upper", "dkw_epsilon", "ed_score"]:
        want = ref[key]
        if key not in out:
            bad.append(f"{key}: missing (want {want!r})")
            continue
        got = out[key]
        if key == "n":
            if got != want or isinstance(got, bool):
                bad.append(f"n: got {got!r}, want {want!r}")
        elif not num_close(key, got, want):
            diff = (got - want) if isinstance(got, (int, float)) and not isinstance(got, bool) else "n/a"
            bad.append(f"{key}: got {got!r}, want {want!r} (diff {diff})")
    want_b = ref["binary"]
    got_b = out.get("binary")
    if want_b is None:
        if got_b is not None:
            bad.append(f"binary: got {got_b!r}, want absent (non-binary scores, no threshold)")
    elif not isinstance(got_b, dict):
        bad.append(f"binary: got {got_b!r}, want {want_b!r}")
    else:
        if got_b.get("leaks") != want_b["leaks"] or isinstance(got_b.get("leaks"), bool):
            bad.append(f"binary.leaks: got {got_b.get('leaks')!r}, want {want_b['leaks']!r}")
        for key in ["lower", "upper"]:
            g = got_b.get(key)
            if not num_close(key, g, want_b[key]):
                bad.append(f"binary.{key}: got {g!r}, want {want_b[key]!r}")
    return bad


def parse_json_stdout(text):
    text = text.strip()
    try:
        return json.loads(text)
    except ValueError:
        pass
    for line in reversed(text.splitlines()):  # tolerate chatter before the object
        line = line.strip()
        if line.startswith("{"):
            try:
                return json.loads(line)
            except ValueError:
                continue
    raise ValueError(f"no JSON object on stdout: {text[:300]!r}")


def run_cli(cmd, timeout):
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    if p.returncode != 0:
        raise RuntimeError(f"exit {p.returncode}; stderr: {p.stderr.strip()[:500]}")
    return parse_json_stdout(p.stdout)


# ---------------------------------------------------------------------------
# ROUGE pairs
# ---------------------------------------------------------------------------
WORDS = (
    "the a an of in to and her his their author authors novel novels wrote writes writing "
    "published publishing book books award awards awarded prize born father mother parents "
    "family families history historical themes explores exploring explored memory memories "
    "generous generously running runs flies dying lying skies news innings relational "
    "conditional digitizer hopefulness radically biology connection connected agreed "
    "hopping controlling electrical adjustable sensibility decisiveness happily enjoyment "
    "1968 2011 23 4th Café naïve über Zürich 東京 作家 🙂 🍕 well-known author's don't "
    "state-of-the-art e-mail O'Brien's İstanbul 3.14 50% (quietly) really! yes, no. "
    "Marisol Quenneville Tobiah Ashgrove Valparaíso Dundee Ljubljana"
).split()


def draw_sentence(rng, max_len=30):
    if rng.random() < 0.05:
        return rng.choice(["", " ", "...", "🙂"])
    k = int(rng.integers(1, max_len + 1))
    words = [str(rng.choice(WORDS)) for _ in range(k)]
    if rng.random() < 0.3:
        words = [w.upper() if rng.random() < 0.3 else w for w in words]
    return " ".join(words)


def draw_pair(rng):
    ref = draw_sentence(rng)
    r = rng.random()
    if r < 0.5 and ref.strip():
        words = ref.split()
        keep = [w for w in words if rng.random() < 0.7]
        extra = [str(rng.choice(WORDS)) for _ in range(int(rng.integers(0, 5)))]
        for w in extra:
            keep.insert(int(rng.integers(0, len(keep) + 1)), w)
        pred = " ".join(keep)
    elif r < 0.55:
        pred = ref
    else:
        pred = draw_sentence(rng)
    return ref, pred


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--probable", required=True, help="path to the probable binary")
    ap.add_argument("--trials", type=int, default=40, help="random bounds trials")
    ap.add_argument("--rouge-pairs", type=int, default=20, help="random rouge trials")
    ap.add_argument("--seed", type=int, default=None, help="RNG seed (default: from clock)")
    ap.add_argument("--timeout", type=float, default=120.0, help="seconds per CLI call")
    ap.add_argument("--keep", action="store_true", help="keep score files of failed trials")
    args = ap.parse_args()

    seed = args.seed if args.seed is not None else time.time_ns() % (2 ** 32)
    print(f"seed: {seed}  (rerun with --seed {seed})", flush=True)
    rng = np.random.default_rng(seed)
    binary = os.path.abspath(args.probable)

    passed = failed = 0
    tmpdir = tempfile.mkdtemp(prefix="probable-check-")
    try:
        for i in range(args.trials):
            x, desc = draw_scores(rng)
            alpha = draw_alpha(rng)
            thr = draw_threshold(rng)
            lam = draw_lambda(rng)
            path = os.path.join(tmpdir, f"scores_{i}.txt")
            write_scores(path, x, rng)
            cmd = [binary, "bounds", "--json", "--alpha", repr(alpha)]
            if thr is not None:
                cmd += ["--leak-threshold", repr(thr)]
            if lam is not None:
                cmd += ["--lambda", repr(lam)]
            cmd.append(path)
            label = (f"bounds trial {i}: n={len(x)} {desc} alpha={alpha!r} "
                     f"threshold={thr!r} lambda={lam!r}")
            ref = reference_bounds(x, alpha, thr, lam)
            try:
                out = run_cli(cmd, args.timeout)
                bad = compare_bounds(out, ref)
            except Exception as e:  # CLI crash, timeout, bad JSON
                bad = [f"{type(e).__name__}: {e}"]
            if bad:
                failed += 1
                print(f"FAIL {label}")
                print(f"  cmd: {' '.join(cmd)}")
                for b in bad:
                    print(f"  {b}")
                if args.keep:
                    keep = path + ".kept"
                    os.replace(path, keep)
                    print(f"  scores kept at {keep}")
            else:
                passed += 1
            if os.path.exists(path):
                os.remove(path)

        scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
        for i in range(args.rouge_pairs):
            ref_s, pred_s = draw_pair(rng)
            s = scorer.score(target=ref_s, prediction=pred_s)["rougeL"]
            want = {"precision": s.precision, "recall": s.recall, "fmeasure": s.fmeasure}
            cmd = [binary, "rouge", "--reference", ref_s, "--prediction", pred_s, "--json"]
            bad = []
            try:
                out = run_cli(cmd, args.timeout)
                if not isinstance(out, dict):
                    bad.append(f"stdout JSON is not an object: {out!r:.200}")
                else:
                    for key, w in want.items():
                        g = out.get(key)
                        if not num_close(key, g, w):
                            bad.append(f"{key}: got {g!r}, want {w!r}")
            except Exception as e:
                bad = [f"{type(e).__name__}: {e}"]
            if bad:
                failed += 1
                print(f"FAIL rouge trial {i}: reference={ref_s!r} prediction={pred_s!r}")
                for b in bad:
                    print(f"  {b}")
            else:
                passed += 1
    finally:
        if not args.keep:
            for name in os.listdir(tmpdir):
                os.remove(os.path.join(tmpdir, name))
            os.rmdir(tmpdir)

    print(f"{passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

"""bounds() and summarize() equal what the CLI prints (`probable bounds --json`,
`probable score --metric score`) on random inputs, float for float and key for key.

The seed is fresh each run (printed on failure); set PROBABLE_PY_SEED to reproduce."""
import json
import os
import random
import subprocess

import pytest

import probable_eval as pe

SEED = int(os.environ.get("PROBABLE_PY_SEED", random.SystemRandom().randrange(2**32)))
GRID = [k * (1 / 99) for k in range(99)] + [1.0]


def draw_scores(rng):
    n = rng.randint(1, 400)
    kind = rng.choice(["beta", "bernoulli", "ties", "grid", "point_mass"])
    if kind == "beta":
        a, b = rng.uniform(0.1, 5), rng.uniform(0.1, 5)
        return [rng.betavariate(a, b) for _ in range(n)]
    if kind == "bernoulli":
        p = rng.choice([0.0, 1.0, rng.uniform(0, 0.05), rng.random()])
        return [1.0 if rng.random() < p else 0.0 for _ in range(n)]
    if kind == "ties":
        return [rng.choice([0.0, 0.25, 0.5, 0.75, 1.0]) for _ in range(n)]
    if kind == "grid":
        lo = rng.randrange(100)
        return [GRID[rng.randrange(lo, 100)] for _ in range(n)]
    return [rng.choice([0.0, 1.0, 0.5, rng.random()])] * n


def draw_options(rng, scores):
    """Keyword arguments of bounds() and the matching CLI flags."""
    kw, flags = {}, []
    kw["alpha"] = rng.choice([0.01, 0.05, 0.1, rng.uniform(0.001, 0.3)])
    flags += ["--alpha", repr(kw["alpha"])]
    if rng.random() < 0.5:
        kw["lam"] = rng.choice([0.0, 1.0, rng.uniform(0, 5)])
        flags += ["--lambda", repr(kw["lam"])]
    if rng.random() < 0.6:
        kw["leak_threshold"] = rng.choice([0.5, 1.0, 0.0, rng.random()])
        flags += ["--leak-threshold", repr(kw["leak_threshold"])]
    if rng.random() < 0.3:
        kw["exact"] = True
        flags.append("--exact")
    if rng.random() < 0.3:
        kw["sound_std"] = True
        flags.append("--sound-std")
    binary = all(x in (0.0, 1.0) for x in scores)
    if ("leak_threshold" in kw or binary) and rng.random() < 0.6:
        ks = sorted({rng.randint(1, len(scores)) for _ in range(rng.randint(1, 4))})
        kw["k"] = ks
        flags += ["--k", ",".join(map(str, ks))]
    return kw, flags


def run_cli(binary, args, stdin):
    out = subprocess.run([binary, *args], input=stdin, capture_output=True, text=True,
                         check=False)
    assert out.returncode == 0, f"probable {' '.join(args)} failed: {out.stderr}"
    return json.loads(out.stdout)


@pytest.mark.parametrize("trial", range(60))
def test_bounds_equals_cli_json(probable_bin, trial):
    rng = random.Random(SEED * 1000 + trial)
    scores = draw_scores(rng)
    kw, flags = draw_options(rng, scores)
    text = "".join(f"{x!r}\n" for x in scores)
    want = run_cli(probable_bin, ["bounds", "--json", *flags, "-"], text)
    got = pe.bounds(scores, **kw)
    assert got == want, f"seed {SEED} trial {trial}: {kw}"


@pytest.mark.parametrize("trial", range(5))
def test_summarize_equals_cli_score(probable_bin, trial):
    rng = random.Random(SEED * 1000 + 500 + trial)
    n = rng.randint(4, 64)
    questions = [draw_scores(rng)[:n] for _ in range(rng.randint(1, 30))]
    questions = [q if len(q) == n else (q * n)[:n] for q in questions]
    alpha = rng.choice([0.01, 0.05])
    threshold = rng.random()
    ks = [1, n]
    lines = "".join(json.dumps({"id": f"q{i:03d}", "score": x}) + "\n"
                    for i, q in enumerate(questions) for x in q)
    path = os.path.join(os.environ.get("TMPDIR", "/tmp"), f"probable-py-{os.getpid()}-{trial}.jsonl")
    with open(path, "w", encoding="utf-8") as f:
        f.write(lines)
    try:
        want = run_cli(probable_bin, ["score", "--generations", path, "--metric", "score",
                                      "--alpha", repr(alpha), "--leak-threshold", repr(threshold),
                                      "--k", f"1,{n}"], "")
    finally:
        os.remove(path)
    got = pe.summarize(questions, alpha=alpha, leak_threshold=threshold, k=ks)
    assert got["questions"] == [e["bounds"] for e in want["entries"]], f"seed {SEED}"
    assert got["summary"] == want["summary"]
    assert got["leak_at_k"] == want["leak_at_k"]

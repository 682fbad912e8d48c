"""The anytime-valid (sequential) bounds: beta_binomial_cs and first_decision against the
mpmath reference, bernstein_cs against confseq (tests/golden/sequential_golden.json, made
by tests/golden/make_sequential_goldens.py), parity with `probable bounds --sequential`,
and bad input."""
import json
import math
import subprocess

import pytest

import probable_eval as pe
from conftest import golden

G = golden("sequential_golden.json")


def close(got, want):
    d = abs(got - want)
    return d <= 1e-9 and (abs(want) >= 1e-6 or d <= 1e-6 * abs(want))


def test_fixture_is_complete():
    assert len(G["mixture"]) >= 200 and len(G["decisions"]) >= 20 and len(G["mean"]) >= 8


@pytest.mark.parametrize("row", G["mixture"][::3],
                         ids=lambda r: f"S{r['successes']}-n{r['n']}-a{r['alpha']}-{r['prior']}")
def test_beta_binomial_cs_matches_mpmath(row):
    lo, hi = pe.beta_binomial_cs(row["successes"], row["n"], row["alpha"], tuple(row["prior"]))
    assert close(lo, row["lower"]) and close(hi, row["upper"]), (lo, hi, row)


@pytest.mark.parametrize("case", G["decisions"],
                         ids=lambda c: f"{c['name']}-a{c['alpha']}-L{c['leak_level']}")
def test_first_decision_matches_the_reference(case):
    got = pe.first_decision(case["scores"], case["leak_threshold"], case["leak_level"],
                            case["alpha"])
    assert set(got) == {"stopped_at", "verdict", "leaks", "leak_probability", "mean"}
    assert (got["stopped_at"], got["verdict"], got["leaks"]) == \
        (case["stopped_at"], case["verdict"], case["leaks"])
    for side in ["lower", "upper"]:
        assert close(got["leak_probability"][side], case["leak_probability"][side])


@pytest.mark.parametrize("stream", G["mean"], ids=lambda s: s["name"])
def test_bernstein_cs_matches_confseq(stream):
    for by in stream["by_alpha"]:
        lower, upper = pe.bernstein_cs(stream["scores"], by["alpha"])
        assert len(lower) == len(upper) == len(stream["scores"])
        for t, lo, hi in zip(stream["t"], by["lower"], by["upper"]):
            assert abs(lower[t - 1] - lo) <= 1e-12 and abs(upper[t - 1] - hi) <= 1e-12


def test_first_decision_equals_the_cli(probable_bin, tmp_path):
    scores = [1.0 if i % 3 == 0 else 0.2 for i in range(200)]
    f = tmp_path / "s.txt"
    f.write_text("".join(f"{x}\n" for x in scores))
    out = subprocess.run([probable_bin, "bounds", "--sequential", "--leak-threshold", "0.5",
                          "--leak-level", "0.1", "--alpha", "0.05", "--json", str(f)],
                         capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    cli = json.loads(out.stdout)
    got = pe.first_decision(scores, 0.5, 0.1, 0.05)
    assert cli["sequential"] == got and got["verdict"] == "leaks"
    # The fixed-n part is bounds() on the samples read.
    del cli["sequential"]
    assert cli == pe.bounds(scores[:got["stopped_at"]], alpha=0.05, leak_threshold=0.5)


@pytest.mark.parametrize("call, error, message", [
    (lambda: pe.first_decision([0.0] * 50, 0.5, 0.0), ValueError, r"^leak_level = 0:"),
    (lambda: pe.first_decision([0.0] * 50, 0.5, 1.0), ValueError, r"^leak_level = 1:"),
    (lambda: pe.first_decision([0.0] * 50, 0.5, math.nan), ValueError, r"^leak_level = NaN"),
    (lambda: pe.first_decision([0.0] * 50, 1.5, 0.1), ValueError, r"^leak_threshold = 1.5"),
    (lambda: pe.first_decision([0.0] * 50, 0.5, 0.1, alpha=1.0), ValueError, r"^alpha = 1:"),
    (lambda: pe.first_decision([0.0, 1.0], 0.5, 0.1), ValueError,
     r"^scores has 2 scores: a sequential verdict needs at least \d+"),
    (lambda: pe.first_decision([], 0.5, 0.1), ValueError, r"^scores is empty"),
    (lambda: pe.first_decision([0.0] * 9 + [2.0], 0.5, 0.1), ValueError, r"^scores\[9\] = 2"),
    (lambda: pe.first_decision([0.0] * 50, 0.5, 0.1, prior=(0.0, 1.0)), ValueError,
     r"^prior = \(0, 1\)"),
    (lambda: pe.beta_binomial_cs(3, 2), ValueError, r"^leaks = 3 > n = 2"),
    (lambda: pe.beta_binomial_cs(1, 2, alpha=0.0), ValueError, r"^alpha = 0:"),
    (lambda: pe.beta_binomial_cs(-1, 2), ValueError, r"^leaks = -1"),
    (lambda: pe.bernstein_cs([0.5, math.nan]), ValueError, r"^scores\[1\] = NaN"),
    (lambda: pe.bernstein_cs([0.5], alpha=-1.0), ValueError, r"^alpha = -1"),
])
def test_bad_input_is_a_named_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_edges():
    assert pe.beta_binomial_cs(0, 0) == (0.0, 1.0)
    assert pe.bernstein_cs([]) == ([], [])

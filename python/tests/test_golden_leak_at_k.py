"""Leak@k against exact rational arithmetic (math.comb) and statsmodels' Clopper-Pearson
interval (tests/golden/leak_at_k_golden.json, made by tests/golden/make_leak_at_k_goldens.py)."""
import pytest

import probable_eval as pe
from conftest import golden

G = golden("leak_at_k_golden.json")


def test_fixture_is_complete():
    assert len(G["cases"]) >= 80 and len(G["sets"]) >= 1


@pytest.mark.parametrize("case", G["cases"],
                         ids=[f"n{c['n']}-c{c['leaks']}-a{c['alpha']}" for c in G["cases"]])
def test_leak_at_k_matches_the_reference(case):
    want = case["leak_at_k"]
    ks = [w["k"] for w in want]
    got = pe.leak_at_k(case["n"], case["leaks"], ks, case["alpha"])
    assert [g["k"] for g in got] == ks
    for g, w in zip(got, want):
        assert abs(g["estimate"] - w["estimate"]) <= 1e-12
        assert abs(g["lower"] - w["lower"]) <= 1e-9
        assert abs(g["upper"] - w["upper"]) <= 1e-9
    # One k gives one dict, equal to its entry in the list.
    assert pe.leak_at_k(case["n"], case["leaks"], ks[-1], case["alpha"]) == got[-1]


@pytest.mark.parametrize("s", G["sets"], ids=lambda s: f"n{s['n']}-m{len(s['leaks'])}")
def test_set_leak_at_k_matches_the_bonferroni_reference(s):
    counts = [(s["n"], c) for c in s["leaks"]]
    got = pe.set_leak_at_k(counts, s["ks"], s["alpha"])
    assert len(got) == len(s["leak_at_k"])
    for g, w in zip(got, s["leak_at_k"]):
        assert g["k"] == w["k"] and g["questions"] == len(counts)
        for key in ["mean_estimate", "lower", "upper"]:
            assert abs(g[key] - w[key]) <= 1e-9, key
    # summarize() on 0/1 scores with those leak counts reports the same set bounds.
    scores = [[1.0] * c + [0.0] * (s["n"] - c) for c in s["leaks"]]
    assert pe.summarize(scores, alpha=s["alpha"], k=s["ks"])["leak_at_k"] == got

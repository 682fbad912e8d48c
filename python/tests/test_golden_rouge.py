"""ROUGE-L against Google's rouge-score 0.1.2 with use_stemmer=True
(tests/golden/rouge_golden.json, made by tests/golden/make_rouge_goldens.py)."""
import pytest

import probable_eval as pe
from conftest import golden

PAIRS = golden("rouge_golden.json")["pairs"]


def test_fixture_is_complete():
    assert len(PAIRS) >= 100


@pytest.mark.parametrize("i", range(len(PAIRS)))
def test_rouge_l_matches_rouge_score(i):
    p = PAIRS[i]
    got = pe.rouge_l(p["reference"], p["prediction"])
    want = (p["precision"], p["recall"], p["fmeasure"])
    for g, w, what in zip(got, want, ["precision", "recall", "fmeasure"]):
        assert abs(g - w) <= 1e-12, f"{what} of {p['reference']!r} / {p['prediction']!r}"


def test_batch_equals_pairwise():
    refs = [p["reference"] for p in PAIRS]
    preds = [p["prediction"] for p in PAIRS]
    assert pe.rouge_l_batch(refs, preds) == [pe.rouge_l(r, q) for r, q in zip(refs, preds)]
    # One reference string against many predictions (one answer, many samples).
    assert pe.rouge_l_batch(refs[0], preds) == [pe.rouge_l(refs[0], q) for q in preds]
    assert pe.rouge_l_batch(tuple(refs[:3]), tuple(preds[:3])) == pe.rouge_l_batch(refs[:3], preds[:3])
    assert pe.rouge_l_batch([], []) == []

"""Bad input is a Python exception naming the argument (and index), never a crash; any
sequence type (list, tuple, range, numpy array) is read the same."""
import math

import pytest

import probable_eval as pe

NAN, INF = math.nan, math.inf


@pytest.mark.parametrize("call, error, message", [
    (lambda: pe.bounds([0.1, NAN]), ValueError, r"^scores\[1\] = NaN"),
    (lambda: pe.bounds([0.1, 0.2, INF]), ValueError, r"^scores\[2\] = inf"),
    (lambda: pe.bounds([-0.5]), ValueError, r"^scores\[0\] = -0.5"),
    (lambda: pe.bounds([0.3, 1.0000001]), ValueError, r"^scores\[1\] = 1.0000001"),
    (lambda: pe.bounds([]), ValueError, r"^scores is empty"),
    (lambda: pe.bounds([0.5], alpha=0.0), ValueError, r"^alpha = 0:"),
    (lambda: pe.bounds([0.5], alpha=1.0), ValueError, r"^alpha = 1:"),
    (lambda: pe.bounds([0.5], alpha=NAN), ValueError, r"^alpha = NaN"),
    (lambda: pe.bounds([0.5], lam=-1.0), ValueError, r"^lam = -1"),
    (lambda: pe.bounds([0.5], leak_threshold=1.5), ValueError, r"^leak_threshold = 1.5"),
    (lambda: pe.bounds([0.5, 1.0], leak_threshold=0.5, k=[1, 3]), ValueError, r"^k\[1\] = 3"),
    (lambda: pe.bounds([0.5, 1.0], leak_threshold=0.5, k=0), ValueError, r"^k = 0"),
    (lambda: pe.bounds([0.5, 1.0], leak_threshold=0.5, k=-2), ValueError, r"^k = -2"),
    (lambda: pe.bounds([0.5, 1.0], leak_threshold=0.5, k=[]), ValueError, r"^k is empty"),
    (lambda: pe.bounds([0.5, 0.7], k=1), ValueError, r"^k: leak@k needs leak_threshold"),
    (lambda: pe.bounds("0.5"), TypeError, r"^scores must be a sequence"),
    (lambda: pe.bounds(0.5), TypeError, r"^scores must be a sequence"),
    (lambda: pe.bounds([0.5, "x"]), TypeError, r"^scores\[1\] must be a number"),
    (lambda: pe.bounds([0.5, None]), TypeError, r"^scores\[1\] must be a number"),
    (lambda: pe.summarize([]), ValueError, r"^scores_per_question is empty"),
    (lambda: pe.summarize([[0.1], []]), ValueError, r"^scores_per_question\[1\] is empty"),
    (lambda: pe.summarize([[0.1], [0.2, NAN]]), ValueError, r"^scores_per_question\[1\]\[1\] = NaN"),
    (lambda: pe.summarize([[1.0, 0.0], [1.0]], k=2), ValueError,
     r"^k = 2: .*scores_per_question\[1\]"),
    (lambda: pe.expectation_bounds([0.5], alpha=2.0), ValueError, r"^alpha = 2"),
    (lambda: pe.std_bounds([2.0]), ValueError, r"^scores\[0\] = 2"),
    (lambda: pe.ed_score([0.5], lam=NAN), ValueError, r"^lam = NaN"),
    (lambda: pe.dkw_survival([0.5], t=NAN), ValueError, r"^t = NaN"),
    (lambda: pe.dkw_epsilon(0), ValueError, r"^n = 0"),
    (lambda: pe.clopper_pearson(4, 3), ValueError, r"^leaks = 4 > n = 3"),
    (lambda: pe.clopper_pearson(-1, 3), ValueError, r"^leaks = -1"),
    (lambda: pe.clopper_pearson(1, 3, alpha=-0.1), ValueError, r"^alpha = -0.1"),
    (lambda: pe.leak_at_k(3, 1, 4), ValueError, r"^k = 4: leak@k needs 1 <= k <= n \(n = 3\)"),
    (lambda: pe.leak_at_k(3, 1, [1, 9]), ValueError, r"^k\[1\] = 9"),
    (lambda: pe.set_leak_at_k([(4, 1), (4, 5)], 1), ValueError, r"^counts\[1\] = \(4, 5\)"),
    (lambda: pe.set_leak_at_k([(4, 1), (4,)], 1), ValueError, r"^counts\[1\] has 1 items"),
    (lambda: pe.set_leak_at_k([], 1), ValueError, r"^counts is empty"),
    (lambda: pe.rouge_l_batch(["a", "b"], ["c"]), ValueError,
     r"^references has 2 items but predictions has 1"),
    (lambda: pe.rouge_l_batch(["a"], [3]), TypeError, r"^predictions\[0\] must be a str"),
])
def test_bad_input_names_the_argument(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_sequence_types_agree():
    x = [0.0, 0.25, 0.25, 1.0, 0.5]
    want = pe.bounds(x, leak_threshold=0.5, k=[1, 2])
    assert pe.bounds(tuple(x), leak_threshold=0.5, k=(1, 2)) == want
    assert pe.bounds(range(0, 1)) == pe.bounds([0.0])
    # Integers are scores too (0/1 judges).
    assert pe.bounds([0, 1, 1]) == pe.bounds([0.0, 1.0, 1.0])


def test_numpy_arrays_are_read_like_lists():
    np = pytest.importorskip("numpy", reason="numpy is optional at run time")
    rng = np.random.default_rng(7)
    x = rng.random(50)
    assert pe.bounds(x, leak_threshold=0.5) == pe.bounds(x.tolist(), leak_threshold=0.5)
    assert pe.bounds(x.astype(np.float32)) == pe.bounds(x.astype(np.float32).tolist())
    m = rng.random((6, 20))
    assert pe.summarize(m, k=[1, 4], leak_threshold=0.3) == \
        pe.summarize(m.tolist(), k=[1, 4], leak_threshold=0.3)
    assert pe.leak_at_k(np.int64(20), np.int64(3), np.array([1, 5])) == pe.leak_at_k(20, 3, [1, 5])
    with pytest.raises(ValueError, match=r"^scores\[3\] = NaN"):
        pe.bounds(np.array([0.1, 0.2, 0.3, np.nan]))


def test_results_are_plain_python():
    s = pe.summarize([[0.0, 1.0, 1.0], [0.2, 0.9, 0.4]], leak_threshold=0.5, k=2)
    assert set(s) == {"questions", "summary", "leak_at_k"}
    q = s["questions"][0]
    assert isinstance(q["n"], int) and isinstance(q["mean_upper"], float)
    assert isinstance(q["survival"], list) and isinstance(q["leak_at_k"][0], dict)
    assert s["summary"]["prompts"] == 2
    p, r, f = pe.rouge_l("the cat sat on the mat", "a cat sat")
    assert (p, r) == (2 / 3, 2 / 6) and math.isclose(f, 2 * p * r / (p + r))


def test_summarize_without_survival_drops_only_the_curve():
    q = [[0.1, 0.6, 0.6, 0.9], [1.0, 0.0]]
    full = pe.summarize(q, leak_threshold=0.5, k=[1, 2])
    lean = pe.summarize(q, leak_threshold=0.5, k=[1, 2], survival=False)
    for f, l in zip(full["questions"], lean["questions"]):
        assert "survival" not in l
        assert {**l, "survival": f["survival"]} == f
    assert lean["summary"] == full["summary"] and lean["leak_at_k"] == full["leak_at_k"]

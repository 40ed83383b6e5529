"""Input checking, edge cases and the fixed meaning of result fields in benchgate.stats."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from benchgate import stats
from benchgate.stats.mcnemar import METHODS

ALTERNATIVES = ("two-sided", "less", "greater")


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_no_discordant_pairs_gives_p_one(method, alternative):
    result = stats.mcnemar(0, 0, method=method, alternative=alternative)
    assert result.pvalue == 1.0
    assert result.statistic == 0.0
    assert result.n_discordant == 0


@pytest.mark.parametrize("method", METHODS)
def test_equal_counts_two_sided_p(method):
    # b == c: no evidence of a difference. Exact and both asymptotic tests give 1; mid-p
    # gives 1 - pmf(b)/2 (Fagerland et al. 2013, supplementary material).
    result = stats.mcnemar(4, 4, method=method)
    expected = 1.0 - 0.5 * math.comb(8, 4) / 2**8 if method == "midp" else 1.0
    assert result.pvalue == pytest.approx(expected, rel=1e-12)


def test_orientation_less_means_candidate_worse():
    # 20 regressions, 5 improvements: the candidate is worse.
    worse = stats.mcnemar(20, 5, method="midp", alternative="less")
    assert worse.pvalue < 0.01
    assert worse.statistic < 0
    assert stats.mcnemar(20, 5, method="midp", alternative="greater").pvalue > 0.99
    diff = stats.paired_accuracy_difference(20, 5, 100)
    assert diff.estimate == pytest.approx(-0.15)
    assert diff.upper < 0
    ratio = stats.conditional_odds_ratio(20, 5)
    assert ratio.estimate == pytest.approx(0.25)
    assert ratio.upper < 1


def test_mcnemar_result_is_frozen_and_typed():
    result = stats.mcnemar(3.0, np.int64(9), method="exact", alternative="less")
    assert type(result.b) is int and type(result.c) is int
    assert (result.b, result.c, result.n_discordant) == (3, 9, 12)
    assert isinstance(result.pvalue, float) and isinstance(result.statistic, float)
    assert [f.name for f in dataclasses.fields(result)] == [
        "b",
        "c",
        "n_discordant",
        "statistic",
        "pvalue",
        "method",
        "alternative",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.pvalue = 0.5  # type: ignore[misc]


def test_statistic_has_one_meaning_across_methods():
    values = {stats.mcnemar(30, 12, method=m).statistic for m in METHODS}
    assert len(values) == 1
    assert values.pop() == pytest.approx((12 - 30) / math.sqrt(42), rel=1e-15)


@pytest.mark.parametrize(
    "bad", [-1, 2.5, True, False, "3", None, math.nan, math.inf, -0.5, [1], np.float64(1.5)]
)
def test_bad_counts_raise_naming_argument_and_value(bad):
    with pytest.raises(ValueError, match=r"\bb\b.*" + _escaped(bad)):
        stats.mcnemar(bad, 3)
    with pytest.raises(ValueError, match=r"\bc\b"):
        stats.mcnemar(3, bad)
    with pytest.raises(ValueError, match="successes"):
        stats.wilson_interval(bad, 10)
    with pytest.raises(ValueError, match=r"\bn\b"):
        stats.paired_accuracy_difference(1, 1, bad)
    with pytest.raises(ValueError, match=r"\bb\b"):
        stats.conditional_odds_ratio(bad, 2)
    with pytest.raises(ValueError, match=r"\bc\b"):
        stats.cohens_g(2, bad)
    with pytest.raises(ValueError, match=r"\bn\b"):
        stats.minimum_detectable_difference(bad, 0.2)


def _escaped(value: object) -> str:
    import re

    return re.escape(repr(value))


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: stats.mcnemar(1, 2, method="fisher"), "method"),
        (lambda: stats.mcnemar(1, 2, alternative="two.sided"), "alternative"),
        (lambda: stats.wilson_interval(11, 10), "successes must not exceed n"),
        (lambda: stats.wilson_interval(0, 0), "n must be at least 1"),
        (lambda: stats.wilson_interval(3, 10, confidence=1.0), "confidence"),
        (lambda: stats.wilson_interval(3, 10, confidence=95), "confidence"),
        (lambda: stats.paired_accuracy_difference(6, 5, 10), "b \\+ c must not exceed n"),
        (lambda: stats.paired_accuracy_difference(0, 0, 0), "n must be at least 1"),
        (lambda: stats.conditional_odds_ratio(1, 2, confidence=0), "confidence"),
        (lambda: stats.holm([0.1, 1.5]), r"pvalues\[1\].*1\.5"),
        (lambda: stats.holm([0.1, math.nan]), r"pvalues\[1\]"),
        (lambda: stats.holm([[0.1, 0.2]]), "one-dimensional"),
        (lambda: stats.benjamini_hochberg([-0.1]), r"pvalues\[0\]"),
        (lambda: stats.cochrans_q([[0, 1, 2]]), "only 0 and 1.*item 0, model 2"),
        (lambda: stats.cochrans_q([0, 1, 1]), "2-D"),
        (lambda: stats.cochrans_q([[0], [1]]), "2 models"),
        (lambda: stats.mcnemar_power(10, 0.6, 0.5), "must not exceed 1"),
        (lambda: stats.mcnemar_power(10, -0.1, 0.5), "p_regress"),
        (lambda: stats.mcnemar_power(10, 0.1, 0.1, alpha=0), "alpha"),
        (lambda: stats.minimum_detectable_difference(10, 1.2), "discordance_rate"),
        (lambda: stats.minimum_detectable_difference(10, 0.2, power=1), "power"),
        (lambda: stats.paired_permutation_test([0.1, 0.2], [0.3], 99, 0), "same length"),
        (lambda: stats.paired_permutation_test([], [], 99, 0), "non-empty"),
        (lambda: stats.paired_permutation_test([0.1, math.nan], [0.2, 0.3], 99, 0), r"x\[1\]"),
        (lambda: stats.paired_permutation_test([0.1], [0.2], 0, 0), "n_resamples"),
        (lambda: stats.paired_permutation_test([0.1], [0.2], 10, -1), "seed"),
    ],
)
def test_bad_arguments_raise_value_error(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def test_integer_valued_floats_are_counts():
    assert stats.mcnemar(3.0, 7.0) == stats.mcnemar(3, 7)
    assert stats.wilson_interval(np.int32(4), 10.0) == stats.wilson_interval(4, 10)


def test_holm_and_bh_keep_order_and_handle_empty():
    raw = [0.04, 0.001, 0.03, 0.5]
    assert list(stats.holm(raw)) == pytest.approx([0.09, 0.004, 0.09, 0.5])
    assert list(stats.benjamini_hochberg(raw)) == pytest.approx(
        [0.05333333333, 0.004, 0.05333333333, 0.5]
    )
    assert stats.holm([]).shape == (0,)
    assert stats.benjamini_hochberg(np.array([])).shape == (0,)


def test_odds_ratio_and_g_edge_cases():
    none = stats.conditional_odds_ratio(0, 0)
    assert math.isnan(none.estimate) and (none.lower, none.upper) == (0.0, math.inf)
    only_improvements = stats.conditional_odds_ratio(0, 6)
    assert only_improvements.estimate == math.inf and only_improvements.upper == math.inf
    assert only_improvements.lower > 1
    only_regressions = stats.conditional_odds_ratio(6, 0)
    assert only_regressions.estimate == 0.0 and only_regressions.lower == 0.0
    assert only_regressions.upper < 1
    assert stats.cohens_g(0, 0) == 0.0
    assert stats.cohens_g(10, 30) == pytest.approx(0.25)
    assert stats.cohens_g(30, 10) == pytest.approx(0.25)


def test_cochrans_q_degenerate_and_two_models_equal_mcnemar():
    agree = np.array([[1, 1, 1], [0, 0, 0], [1, 1, 1]])
    result = stats.cochrans_q(agree)
    assert (result.statistic, result.pvalue, result.df) == (0.0, 1.0, 2)
    # Two models: Q is McNemar's chi-square without continuity correction.
    rng = np.random.default_rng(3)
    outcomes = (rng.random((200, 2)) < [0.6, 0.5]).astype(bool)
    b = int(np.sum(outcomes[:, 0] & ~outcomes[:, 1]))
    c = int(np.sum(~outcomes[:, 0] & outcomes[:, 1]))
    q = stats.cochrans_q(outcomes)
    mcn = stats.mcnemar(b, c, method="asymptotic")
    assert q.statistic == pytest.approx(mcn.statistic**2, rel=1e-12)
    assert q.pvalue == pytest.approx(mcn.pvalue, rel=1e-12)


@pytest.mark.parametrize("n", [0, 1, 2, 3, 4, 5, 6, 8, 10, 15, 25])
@pytest.mark.parametrize("rate", [0.0, 0.01, 0.1, 0.5, 1.0])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_minimum_detectable_difference_never_raises_on_small_runs(n, rate, alternative):
    value = stats.minimum_detectable_difference(n, rate, alternative=alternative)
    assert value == math.inf or 0.0 <= value <= rate
    if n == 0 or rate == 0.0:
        assert value == math.inf


def test_minimum_detectable_difference_closed_form_for_five_items():
    # n = 5, every item discordant: m = 5 always and the one-sided mid-p test rejects only
    # at c = 0 (p = 1/64; c = 1 gives 7/64). Power = ((1 + delta) / 2) ** 5 = 0.8.
    expected = 2 * 0.8 ** (1 / 5) - 1
    assert stats.minimum_detectable_difference(5, 1.0) == pytest.approx(expected, abs=1e-9)
    # Three items can never reach p <= 0.05 (best one-sided mid-p is 1/16).
    assert stats.minimum_detectable_difference(3, 1.0) == math.inf
    assert stats.mcnemar(3, 0, alternative="less").pvalue == pytest.approx(1 / 16)


def test_minimum_detectable_difference_matches_power():
    n, rate = 400, 0.2
    drop = stats.minimum_detectable_difference(n, rate, power=0.8)
    assert 0 < drop < rate
    at = stats.mcnemar_power(n, (rate + drop) / 2, (rate - drop) / 2)
    assert at == pytest.approx(0.8, abs=1e-8)
    assert stats.mcnemar_power(n, (rate + drop * 0.9) / 2, (rate - drop * 0.9) / 2) < 0.8
    # Normal-approximation sanity check (Connor 1987): (z_a + z_b) * sqrt(rate / n).
    assert drop == pytest.approx((1.6449 + 0.8416) * math.sqrt(rate / n), rel=0.05)
    # Two-sided needs a larger drop than one-sided at the same alpha.
    assert stats.minimum_detectable_difference(n, rate, alternative="two-sided") > drop


def test_power_edge_cases():
    assert stats.mcnemar_power(0, 0.1, 0.1) == 0.0
    assert stats.mcnemar_power(100, 0.0, 0.0) == 0.0
    assert stats.mcnemar_power(200, 0.3, 0.0) == pytest.approx(1.0)
    assert stats.mcnemar_power(200, 0.0, 0.3, alternative="less") == pytest.approx(0.0, abs=1e-12)


def test_permutation_test_exact_and_seeded():
    x = [0.2, 0.4, 0.1, 0.9, 0.5, 0.3]
    y = [0.3, 0.6, 0.2, 0.9, 0.7, 0.6]
    exact = stats.paired_permutation_test(x, y, n_resamples=64, seed=0, alternative="greater")
    assert exact.exact and exact.n_resamples == 64
    # Five positive differences and one zero: only all-plus signs (x2 for the zero) reach it.
    assert exact.pvalue == pytest.approx(2 / 64)
    assert exact.statistic == pytest.approx(np.mean(np.subtract(y, x)))
    rng = np.random.default_rng(11)
    base = rng.random(300)
    cand = base + rng.normal(0.0, 0.05, 300)
    first = stats.paired_permutation_test(base, cand, n_resamples=2000, seed=5)
    again = stats.paired_permutation_test(base, cand, n_resamples=2000, seed=5)
    other = stats.paired_permutation_test(base, cand, n_resamples=2000, seed=6)
    assert first == again
    assert not first.exact and first.n_resamples == 2000
    assert first.pvalue != other.pvalue
    assert 0 < first.pvalue <= 1


def test_permutation_ties_from_decimal_scores_stay_tied():
    # 0.25 - 0.2 and 0.35 - 0.4 are not exact negatives in binary floating point.
    result = stats.paired_permutation_test(
        [0.1, 0.2, 0.3, 0.4, 0.5], [0.1, 0.25, 0.3, 0.35, 0.5], 1000, 0, alternative="less"
    )
    assert result.pvalue == pytest.approx(0.75)
    same = stats.paired_permutation_test([0.3, 0.7], [0.3, 0.7], 1000, 0)
    assert same.pvalue == 1.0 and same.statistic == 0.0

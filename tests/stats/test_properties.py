"""Hypothesis property tests for benchgate.stats (seeded through hypothesis' derandomize)."""

from __future__ import annotations

import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchgate import stats
from benchgate.stats.mcnemar import METHODS

# Deterministic example generation so CI runs are reproducible.
PROPERTY = settings(
    max_examples=150,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
counts = st.integers(min_value=0, max_value=3000)
small_counts = st.integers(min_value=0, max_value=60)
methods = st.sampled_from(METHODS)
alternatives = st.sampled_from(("two-sided", "less", "greater"))
confidences = st.sampled_from((0.8, 0.9, 0.95, 0.99))


@PROPERTY
@given(counts, counts, methods, alternatives)
def test_pvalue_in_unit_interval(b, c, method, alternative):
    p = stats.mcnemar(b, c, method=method, alternative=alternative).pvalue
    assert 0.0 <= p <= 1.0


@PROPERTY
@given(counts, counts, methods)
def test_swapping_b_and_c_mirrors_less_and_greater(b, c, method):
    less = stats.mcnemar(b, c, method=method, alternative="less")
    greater_swapped = stats.mcnemar(c, b, method=method, alternative="greater")
    assert math.isclose(less.pvalue, greater_swapped.pvalue, rel_tol=1e-12, abs_tol=1e-300)
    assert less.statistic == -greater_swapped.statistic
    two = stats.mcnemar(b, c, method=method).pvalue
    assert math.isclose(two, stats.mcnemar(c, b, method=method).pvalue, rel_tol=1e-12)


@PROPERTY
@given(counts, counts, alternatives)
def test_exact_pvalue_at_least_midp(b, c, alternative):
    exact = stats.mcnemar(b, c, method="exact", alternative=alternative).pvalue
    midp = stats.mcnemar(b, c, method="midp", alternative=alternative).pvalue
    assert exact >= midp


@PROPERTY
@given(counts, counts, methods)
def test_one_sided_pvalues_are_complementary_enough(b, c, method):
    # Evidence for "less" is evidence against "greater": one of them is at least 1/2.
    less = stats.mcnemar(b, c, method=method, alternative="less").pvalue
    greater = stats.mcnemar(b, c, method=method, alternative="greater").pvalue
    assert max(less, greater) >= 0.5 - 1e-12
    two = stats.mcnemar(b, c, method=method).pvalue
    assert two >= min(less, greater) - 1e-12


@PROPERTY
@given(st.lists(st.floats(min_value=0.0, max_value=1.0), min_size=1, max_size=40))
def test_holm_adjusted_at_least_raw_bounded_and_monotone(raw):
    p = np.array(raw)
    adjusted = stats.holm(p)
    assert adjusted.shape == p.shape
    assert np.all(adjusted >= p)
    assert np.all(adjusted <= 1.0)
    order = np.argsort(p, kind="stable")
    assert np.all(np.diff(adjusted[order]) >= 0)
    # Holm is never more lenient than BH, and BH never below the raw p-values.
    bh = stats.benjamini_hochberg(p)
    assert np.all(bh >= p - 1e-15)
    assert np.all(bh <= adjusted + 1e-15)
    assert np.all(np.diff(bh[order]) >= -1e-15)


@PROPERTY
@given(st.integers(min_value=1, max_value=2000), st.data(), confidences)
def test_wilson_contains_estimate_and_shrinks_with_n(n, data, confidence):
    x = data.draw(st.integers(min_value=0, max_value=n))
    interval = stats.wilson_interval(x, n, confidence)
    assert 0.0 <= interval.lower <= interval.estimate <= interval.upper <= 1.0
    bigger = stats.wilson_interval(4 * x, 4 * n, confidence)
    assert bigger.upper - bigger.lower < interval.upper - interval.lower
    wider = stats.wilson_interval(x, n, min(0.999, confidence + 0.005))
    assert wider.lower <= interval.lower and wider.upper >= interval.upper


@PROPERTY
@given(small_counts, small_counts, st.integers(min_value=0, max_value=400), confidences)
def test_tango_contains_estimate_mirrors_and_shrinks(b, c, extra, confidence):
    n = max(1, b + c + extra)
    interval = stats.paired_accuracy_difference(b, c, n, confidence)
    assert -1.0 <= interval.lower <= interval.estimate <= interval.upper <= 1.0
    assert interval.lower < interval.upper
    mirror = stats.paired_accuracy_difference(c, b, n, confidence)
    assert math.isclose(mirror.lower, -interval.upper, abs_tol=1e-12)
    assert math.isclose(mirror.upper, -interval.lower, abs_tol=1e-12)
    bigger = stats.paired_accuracy_difference(4 * b, 4 * c, 4 * n, confidence)
    assert bigger.upper - bigger.lower < interval.upper - interval.lower


@PROPERTY
@given(small_counts, small_counts, confidences)
def test_odds_ratio_interval_contains_estimate_and_inverts(b, c, confidence):
    ratio = stats.conditional_odds_ratio(b, c, confidence)
    if b + c == 0:
        assert math.isnan(ratio.estimate)
        return
    assert 0.0 <= ratio.lower <= ratio.estimate <= ratio.upper
    swapped = stats.conditional_odds_ratio(c, b, confidence)
    if ratio.upper not in (0.0, math.inf):
        assert math.isclose(swapped.lower, 1.0 / ratio.upper, rel_tol=1e-10)
    bigger = stats.conditional_odds_ratio(4 * b, 4 * c, confidence)
    if 0 < b and 0 < c:
        assert math.log(bigger.upper / bigger.lower) < math.log(ratio.upper / ratio.lower)


@PROPERTY
@given(small_counts, small_counts)
def test_cohens_g_bounds_and_symmetry(b, c):
    g = stats.cohens_g(b, c)
    assert 0.0 <= g <= 0.5
    assert g == stats.cohens_g(c, b)


@settings(PROPERTY, max_examples=60)
@given(
    st.integers(min_value=10, max_value=400),
    st.floats(min_value=0.02, max_value=0.6),
    st.floats(min_value=0.0, max_value=1.0),
    st.sampled_from(("less", "two-sided")),
)
def test_power_grows_with_the_drop(n, rate, share, alternative):
    drop_small = share * rate * 0.5
    drop_large = share * rate
    small = stats.mcnemar_power(
        n, (rate + drop_small) / 2, (rate - drop_small) / 2, alternative=alternative
    )
    large = stats.mcnemar_power(
        n, (rate + drop_large) / 2, (rate - drop_large) / 2, alternative=alternative
    )
    assert 0.0 <= small <= large + 1e-12 <= 1.0 + 1e-12
    mdd = stats.minimum_detectable_difference(n, rate, alternative=alternative)
    assert mdd == math.inf or 0.0 <= mdd <= rate

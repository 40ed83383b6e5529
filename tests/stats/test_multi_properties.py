"""Hypothesis properties of the multi-model statistics (seeded through derandomize)."""

from __future__ import annotations

import itertools
import math
import warnings

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchgate import stats
from benchgate.stats.mcnemar import METHODS

PROPERTY = settings(
    max_examples=120,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)


@st.composite
def correctness(draw, max_items=60, max_models=6):
    n = draw(st.integers(min_value=1, max_value=max_items))
    k = draw(st.integers(min_value=2, max_value=max_models))
    cells = draw(st.lists(st.booleans(), min_size=n * k, max_size=n * k))
    return np.array(cells, dtype=bool).reshape(n, k)


@PROPERTY
@given(correctness(), st.randoms(use_true_random=False), st.sampled_from(METHODS))
def test_pairwise_two_sided_is_order_independent(matrix, random, method):
    k = matrix.shape[1]
    names = [f"m{i}" for i in range(k)]
    order = list(range(k))
    random.shuffle(order)
    base = {
        frozenset((r.row_model, r.column_model)): r
        for r in stats.pairwise_mcnemar(matrix, names, method=method)
    }
    shuffled = stats.pairwise_mcnemar(matrix[:, order], [names[i] for i in order], method=method)
    assert len(shuffled) == len(base) == k * (k - 1) // 2
    for r in shuffled:
        twin = base[frozenset((r.row_model, r.column_model))]
        assert r.pvalue == twin.pvalue
        assert r.pvalue_holm == twin.pvalue_holm
        assert r.cohens_g == twin.cohens_g
        assert {r.b, r.c} == {twin.b, twin.c}
        assert 0.0 <= r.pvalue <= r.pvalue_holm <= 1.0


@PROPERTY
@given(correctness(max_models=4), st.sampled_from(METHODS))
def test_pairwise_one_sided_mirrors_when_the_pair_is_swapped(matrix, method):
    names = [f"m{i}" for i in range(matrix.shape[1])]
    less = stats.pairwise_mcnemar(matrix, names, method=method, alternative="less")
    greater = stats.pairwise_mcnemar(
        matrix[:, ::-1], names[::-1], method=method, alternative="greater"
    )
    by_pair = {frozenset((r.row_model, r.column_model)): r for r in greater}
    for r in less:
        twin = by_pair[frozenset((r.row_model, r.column_model))]
        assert (twin.b, twin.c) == (r.c, r.b)
        assert math.isclose(r.pvalue, twin.pvalue, rel_tol=1e-12, abs_tol=1e-300)


def brute_force_groups(k: int, significant: set[tuple[int, int]]) -> list[tuple[int, ...]]:
    """All maximal subsets of range(k) with no significant pair, lexicographically sorted."""
    found: list[tuple[int, ...]] = []
    for size in range(k, 0, -1):
        for subset in itertools.combinations(range(k), size):
            if any(pair in significant for pair in itertools.combinations(subset, 2)):
                continue
            if any(set(subset) <= set(bigger) for bigger in found):
                continue
            found.append(subset)
    return sorted(found)


@st.composite
def significance_patterns(draw):
    k = draw(st.integers(min_value=1, max_value=9))
    pairs = list(itertools.combinations(range(k), 2))
    flags = draw(st.lists(st.booleans(), min_size=len(pairs), max_size=len(pairs)))
    significant = {pair for pair, flag in zip(pairs, flags, strict=True) if flag}
    scores = draw(
        st.lists(st.floats(min_value=0.0, max_value=1.0, allow_nan=False), min_size=k, max_size=k)
    )
    return k, significant, scores


@PROPERTY
@given(significance_patterns(), st.randoms(use_true_random=False))
def test_letters_are_exact_maximal_and_ordered(pattern, random):
    k, significant, scores = pattern
    names = [f"model{i}" for i in range(k)]
    named_pairs = [(names[i], names[j]) for i, j in significant]
    random.shuffle(named_pairs)
    named_pairs = [(b, a) if random.random() < 0.5 else (a, b) for a, b in named_pairs]
    display = stats.compact_letter_display(names, named_pairs, scores)
    assert display.exact
    # Best first, ties in the given order; the best model carries "a".
    assert list(display.models) == sorted(names, key=lambda m: (-scores[names.index(m)],))
    assert "a" in display.letters[0]
    assert all(display.letters), "every model gets at least one letter"
    # Share a letter <=> not significantly different, for every pair.
    for a, b in itertools.combinations(names, 2):
        share = bool(set(display.letters_of(a)) & set(display.letters_of(b)))
        different = (names.index(a), names.index(b)) in significant or (
            names.index(b),
            names.index(a),
        ) in significant
        assert share != different
    # The letters are exactly the maximal groups, found by brute force.
    position = {m: p for p, m in enumerate(display.models)}
    significant_by_position = {tuple(sorted((position[a], position[b]))) for a, b in named_pairs}
    expected = brute_force_groups(k, significant_by_position)
    assert [tuple(position[m] for m in group) for group in display.groups] == expected
    assert len(display.labels) == len(display.groups)


@PROPERTY
@given(correctness(max_items=40, max_models=8))
def test_cochrans_q_matches_statsmodels(matrix):
    from statsmodels.stats.contingency_tables import cochrans_q as sm_cochrans_q

    ours = stats.cochrans_q(matrix)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # statsmodels divides 0 by 0
        theirs = sm_cochrans_q(matrix.astype(int))
    if math.isnan(theirs.statistic):
        assert (ours.statistic, ours.pvalue) == (0.0, 1.0)
    else:
        assert math.isclose(ours.statistic, theirs.statistic, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(ours.pvalue, theirs.pvalue, rel_tol=1e-9, abs_tol=1e-300)
    if matrix.shape[1] == 2:  # k = 2: McNemar's chi-square without continuity correction
        b = int(np.sum(matrix[:, 0] & ~matrix[:, 1]))
        c = int(np.sum(~matrix[:, 0] & matrix[:, 1]))
        mcnemar = stats.mcnemar(b, c, method="asymptotic")
        assert math.isclose(ours.statistic, mcnemar.statistic**2, rel_tol=1e-12, abs_tol=1e-12)
        assert math.isclose(ours.pvalue, mcnemar.pvalue, rel_tol=1e-9)


@settings(PROPERTY, max_examples=25)
@given(
    st.lists(correctness(max_items=30, max_models=4), min_size=1, max_size=3),
    st.integers(min_value=0, max_value=2**32),
)
def test_ranking_intervals_contain_their_estimates(matrices, seed):
    k = matrices[0].shape[1]
    matrices = [m[:, :k] for m in matrices if m.shape[1] >= k and m.shape[0] >= 2]
    if not matrices:
        return
    names = [f"m{i}" for i in range(k)]
    ranking = stats.rank_models(
        {f"b{i}": m for i, m in enumerate(matrices)}, names, n_resamples=100, seed=seed
    )
    assert sorted(line.model for line in ranking.ranks) == names
    assert [line.rank for line in ranking.ranks] == sorted(line.rank for line in ranking.ranks)
    for line in ranking.ranks:
        assert 1 <= line.rank_lower <= line.rank <= line.rank_upper <= k
        macro = line.macro_accuracy
        assert 0.0 <= macro.lower <= macro.estimate <= macro.upper <= 1.0


@settings(PROPERTY, max_examples=40)
@given(
    st.lists(st.tuples(st.floats(0.0, 1.0), st.floats(0.0, 1.0)), min_size=2, max_size=40),
    st.integers(min_value=0, max_value=1000),
)
def test_paired_mean_difference_mirrors(pairs, seed):
    x = [a for a, _ in pairs]
    y = [b for _, b in pairs]
    forward = stats.paired_mean_difference(x, y, n_resamples=200, seed=seed)
    backward = stats.paired_mean_difference(y, x, n_resamples=200, seed=seed)
    d = forward.difference
    assert d.lower <= d.estimate <= d.upper
    assert math.isclose(d.estimate, -backward.difference.estimate, abs_tol=1e-12)
    assert 0.0 < forward.pvalue <= 1.0 and 0.0 < forward.pvalue_regression <= 1.0
    # Whichever way the difference points, evidence of "worse" one way is not both ways.
    assert max(forward.pvalue_regression, backward.pvalue_regression) >= 0.5 - 1e-12


@PROPERTY
@given(
    st.integers(min_value=1, max_value=2000),
    st.data(),
    st.integers(min_value=1, max_value=2000),
    st.sampled_from((0.8, 0.9, 0.95, 0.99)),
)
def test_noise_flips_interval_and_pvalue_are_monotone(aa_n, data, n, confidence):
    aa_d = data.draw(st.integers(min_value=0, max_value=aa_n))
    observed = data.draw(st.integers(min_value=0, max_value=n))
    result = stats.noise_flips(aa_d, aa_n, observed, n, confidence=confidence)
    assert 0 <= result.lower <= result.upper <= n
    assert 0.0 <= result.pvalue <= 1.0
    if observed < n:
        more = stats.noise_flips(aa_d, aa_n, observed + 1, n, confidence=confidence)
        assert more.pvalue <= result.pvalue + 1e-12
        assert (more.lower, more.upper) == (result.lower, result.upper)
    if confidence < 0.99:
        wider = stats.noise_flips(aa_d, aa_n, observed, n, confidence=0.99)
        assert wider.lower <= result.lower and wider.upper >= result.upper

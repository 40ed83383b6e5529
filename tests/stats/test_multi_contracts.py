"""Contracts of the multi-model, graded and noise-floor statistics: fields, inputs, edges."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest

from benchgate import stats

# Four models on eight items; columns m1..m4.
SMALL = np.array(
    [
        [1, 1, 0, 1],
        [1, 0, 0, 1],
        [0, 1, 1, 1],
        [1, 1, 1, 1],
        [0, 0, 0, 1],
        [1, 0, 1, 0],
        [1, 1, 0, 1],
        [0, 1, 0, 1],
    ],
    dtype=bool,
)
MODELS = ["m1", "m2", "m3", "m4"]


# ------------------------------------------------------------------ pairwise McNemar
def test_pairwise_fields_orientation_and_pair_order():
    results = stats.pairwise_mcnemar(SMALL, MODELS)
    assert [(r.row_model, r.column_model) for r in results] == [
        ("m1", "m2"),
        ("m1", "m3"),
        ("m1", "m4"),
        ("m2", "m3"),
        ("m2", "m4"),
        ("m3", "m4"),
    ]
    first = results[0]
    assert [f.name for f in dataclasses.fields(first)] == [
        "row_model",
        "column_model",
        "b",
        "c",
        "n",
        "statistic",
        "pvalue",
        "pvalue_holm",
        "difference",
        "cohens_g",
        "method",
        "alternative",
    ]
    # b = row model right, column model wrong: m1 right / m2 wrong on items 1 and 5.
    assert (first.b, first.c, first.n) == (2, 2, 8)
    m1_m4 = results[2]
    assert (m1_m4.b, m1_m4.c) == (1, 3)  # item 5 vs items 2, 4, 7
    assert m1_m4.difference.estimate == pytest.approx((3 - 1) / 8)
    assert m1_m4.statistic > 0  # the column model is more accurate
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.pvalue = 0.0  # type: ignore[misc]


def test_pairwise_uses_the_one_pair_functions_and_holm():
    results = stats.pairwise_mcnemar(SMALL, MODELS, method="exact", confidence=0.9)
    raw = []
    for r in results:
        single = stats.mcnemar(r.b, r.c, method="exact")
        assert r.pvalue == single.pvalue and r.statistic == single.statistic
        assert r.difference == stats.paired_accuracy_difference(r.b, r.c, r.n, 0.9)
        assert r.cohens_g == stats.cohens_g(r.b, r.c)
        assert r.method == "exact" and r.alternative == "two-sided"
        raw.append(r.pvalue)
    assert [r.pvalue_holm for r in results] == list(stats.holm(raw))


def test_pairwise_mapping_equals_matrix_and_takes_its_order():
    mapping = {m: SMALL[:, j].tolist() for j, m in enumerate(MODELS)}
    assert stats.pairwise_mcnemar(mapping) == stats.pairwise_mcnemar(SMALL, MODELS)
    assert stats.pairwise_mcnemar(SMALL.astype(int), MODELS) == stats.pairwise_mcnemar(
        SMALL, MODELS
    )
    reordered = stats.pairwise_mcnemar(mapping, ["m4", "m3", "m2", "m1"])
    assert (reordered[0].row_model, reordered[0].column_model) == ("m4", "m3")


def test_pairwise_one_sided_is_about_the_column_model():
    worse = np.array([[1, 0]] * 12 + [[0, 1]] * 2 + [[1, 1]] * 6, dtype=bool)
    less = stats.pairwise_mcnemar(worse, ["baseline", "candidate"], alternative="less")[0]
    assert (less.b, less.c) == (12, 2)
    assert less.pvalue == stats.mcnemar(12, 2, alternative="less").pvalue < 0.01
    greater = stats.pairwise_mcnemar(worse, ["baseline", "candidate"], alternative="greater")
    assert greater[0].pvalue > 0.99


def test_pairwise_permuting_models_permutes_results_and_keeps_pvalues():
    rng = np.random.default_rng(5)
    matrix = rng.random((90, 6)) < np.linspace(0.4, 0.7, 6)
    names = [f"model-{i}" for i in range(6)]
    base = {
        frozenset((r.row_model, r.column_model)): r for r in stats.pairwise_mcnemar(matrix, names)
    }
    order = [3, 0, 5, 1, 4, 2]
    shuffled = stats.pairwise_mcnemar(matrix[:, order], [names[i] for i in order])
    assert len(shuffled) == len(base) == 15
    for r in shuffled:
        twin = base[frozenset((r.row_model, r.column_model))]
        assert r.pvalue == twin.pvalue
        assert r.pvalue_holm == twin.pvalue_holm
        assert r.cohens_g == twin.cohens_g
        if r.row_model == twin.row_model:
            assert (r.b, r.c, r.difference) == (twin.b, twin.c, twin.difference)
        else:
            assert (r.b, r.c) == (twin.c, twin.b)
            assert r.statistic == -twin.statistic
            assert r.difference.lower == pytest.approx(-twin.difference.upper, abs=1e-12)


@pytest.mark.parametrize(
    ("correct", "models", "message"),
    [
        (SMALL, None, "models must name the columns"),
        (SMALL, ["a", "b", "c"], "4 columns but models names 3"),
        (SMALL, ["a", "b", "c", "a"], "twice"),
        (SMALL, ["a", "b", "c", ""], r"models\[3\]"),
        (SMALL[:, :1], ["a"], "at least 2 models"),
        (np.zeros((0, 3), dtype=bool), ["a", "b", "c"], "at least 1 item"),
        ([1, 0, 1], ["a", "b"], "2-D"),
        ([[1, 0], [2, 1]], ["a", "b"], r"model 'a', item 1 is 2"),
        ([[1, 0], [1, 0.5]], ["a", "b"], r"model 'b', item 1 is 0.5"),
        ({"a": [True, None], "b": [True, False]}, None, r"model 'a', item 1 is None"),
        ({"a": [True, False], "b": [True]}, None, "same items.*'a': 2, 'b': 1"),
        ({"a": [True], "b": [False]}, ["a", "c"], r"missing from correct: \['c'\]"),
        ({"a": [[True]], "b": [[False]]}, None, "1-D"),
        ({"a": ["yes"], "b": [True]}, None, r"item 0 is 'yes'"),
        ("ab", ["a", "b"], "2-D"),
    ],
)
def test_pairwise_bad_input_names_the_problem(correct, models, message):
    with pytest.raises(ValueError, match=message):
        stats.pairwise_mcnemar(correct, models)


@pytest.mark.parametrize(
    ("keyword", "value", "message"),
    [
        ("method", "fisher", "method"),
        ("alternative", "two.sided", "alternative"),
        ("confidence", 1.0, "confidence"),
    ],
)
def test_pairwise_bad_options(keyword, value, message):
    with pytest.raises(ValueError, match=message):
        stats.pairwise_mcnemar(SMALL, MODELS, **{keyword: value})


def test_pairwise_identical_models_have_p_one():
    same = np.column_stack([SMALL[:, 0], SMALL[:, 0], ~SMALL[:, 0]])
    results = stats.pairwise_mcnemar(same, ["x", "y", "z"])
    assert (results[0].b, results[0].c, results[0].pvalue, results[0].cohens_g) == (0, 0, 1.0, 0.0)
    assert results[0].pvalue_holm == 1.0
    assert results[1].b == 5 and results[1].c == 3


# ------------------------------------------------------------------ Cochran's Q
@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # statsmodels 0/0
def test_cochrans_q_on_the_pairwise_matrix_agrees_with_statsmodels():
    from statsmodels.stats.contingency_tables import cochrans_q as sm_cochrans_q

    rng = np.random.default_rng(17)
    for shape in [(1, 3), (2, 2), (7, 5), (400, 8), (60, 16)]:
        matrix = (rng.random(shape) < 0.55).astype(int)
        ours = stats.cochrans_q(matrix)
        theirs = sm_cochrans_q(matrix)
        if math.isnan(theirs.statistic):  # every item split no model: documented 0 / 1
            assert (ours.statistic, ours.pvalue) == (0.0, 1.0)
            continue
        assert ours.statistic == pytest.approx(theirs.statistic, rel=1e-12)
        assert ours.pvalue == pytest.approx(theirs.pvalue, rel=1e-10, abs=1e-300)
        assert ours.df == theirs.df == shape[1] - 1


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")  # statsmodels 0/0
def test_cochrans_q_all_columns_equal_is_zero_where_statsmodels_gives_nan():
    from statsmodels.stats.contingency_tables import cochrans_q as sm_cochrans_q

    column = np.array([1, 0, 1, 1, 0])
    equal = np.column_stack([column] * 4)
    assert math.isnan(sm_cochrans_q(equal).statistic)  # 0 / 0 there
    result = stats.cochrans_q(equal)
    assert (result.statistic, result.pvalue, result.df, result.n_items) == (0.0, 1.0, 3, 5)
    one_item = stats.cochrans_q([[1, 0, 0, 1]])
    # One item splitting the models: Q = (k - 1)(k * 2 - 4) / (k * 2 - 4) = k - 1 = 3.
    assert one_item.statistic == pytest.approx(3.0)


# ------------------------------------------------------------------ compact letter display
def test_letters_best_model_gets_a_and_fields():
    display = stats.compact_letter_display(
        ["low", "high", "mid"], [("low", "high")], {"low": 0.2, "high": 0.9, "mid": 0.5}
    )
    assert display.models == ("high", "mid", "low")
    assert display.letters == ("a", "ab", "b")
    assert display.labels == ("a", "b")
    assert display.groups == (("high", "mid"), ("mid", "low"))
    assert display.exact
    assert display.letters_of("low") == "b"
    with pytest.raises(ValueError, match="not in this letter display"):
        display.letters_of("other")


def test_letters_ties_keep_given_order_and_pairs_any_orientation():
    one = stats.compact_letter_display(["p", "q", "r"], [("q", "p"), ("p", "q")], [0.5, 0.5, 0.5])
    assert one.models == ("p", "q", "r")
    assert one.letters == ("a", "b", "ab")
    assert one.groups == (("p", "r"), ("q", "r"))


def test_letters_no_difference_and_all_different():
    none = stats.compact_letter_display(["a1", "a2", "a3"], [], [3, 2, 1])
    assert none.letters == ("a", "a", "a") and none.exact
    all_pairs = [("a1", "a2"), ("a1", "a3"), ("a2", "a3")]
    every = stats.compact_letter_display(["a1", "a2", "a3"], all_pairs, [3, 2, 1])
    assert every.letters == ("a", "b", "c")
    single = stats.compact_letter_display(["only"], [], [1.0])
    assert single.letters == ("a",)


def test_letters_beyond_52_use_dotted_labels():
    # 60 models all different from each other: 60 letters, a..Z then .a .. .h
    models = [f"m{i:02d}" for i in range(60)]
    pairs = [(a, b) for i, a in enumerate(models) for b in models[i + 1 :]]
    display = stats.compact_letter_display(models, pairs, list(range(60, 0, -1)))
    assert display.labels[:3] == ("a", "b", "c")
    assert display.labels[51] == "Z" and display.labels[52] == ".a"
    assert display.letters[-1] == ".h"
    assert display.exact


@pytest.mark.parametrize(
    ("models", "pairs", "order_by", "message"),
    [
        ([], [], [], "at least one model"),
        (["a", "a"], [], [1, 2], "twice"),
        ("ab", [], [1, 2], "sequence of model names"),
        (["a", "b"], [("a", "c")], [1, 2], "'c', which is not one of the models"),
        (["a", "b"], [("a", "a")], [1, 2], "with itself"),
        (["a", "b"], [("a",)], [1, 2], r"significant_pairs\[0\] must be a pair"),
        (["a", "b"], "ab", [1, 2], "iterable of"),
        (["a", "b"], [], {"a": 1}, r"missing \['b'\]"),
        (["a", "b"], [], [1], "one value per model"),
        (["a", "b"], [], [1, math.nan], r"order_by\['b'\] must be a finite number"),
        (["a", "b"], [], [1, None], "finite number"),
        (["a", "b"], [], 3, "mapping model -> value or a sequence"),
    ],
)
def test_letters_bad_input(models, pairs, order_by, message):
    with pytest.raises(ValueError, match=message):
        stats.compact_letter_display(models, pairs, order_by)


# ------------------------------------------------------------------ ranking
def _benchmarks(seed: int, accuracies: dict[str, list[float]], sizes: list[int]):
    rng = np.random.default_rng(seed)
    return {
        f"bench{b}": {m: (rng.random(size) < acc[b]).tolist() for m, acc in accuracies.items()}
        for b, size in enumerate(sizes)
    }


def test_ranking_fields_and_per_benchmark_wilson():
    data = _benchmarks(1, {"a": [0.9, 0.8], "b": [0.5, 0.4], "c": [0.2, 0.1]}, [300, 200])
    ranking = stats.rank_models(data, seed=3, n_resamples=500)
    assert ranking.benchmarks == ("bench0", "bench1") and ranking.n_items == (300, 200)
    assert (ranking.confidence, ranking.n_resamples, ranking.seed) == (0.95, 500, 3)
    assert [line.model for line in ranking.ranks] == ["a", "b", "c"]
    for position, line in enumerate(ranking.ranks, start=1):
        # Well separated: the rank is certain.
        assert (line.rank, line.rank_lower, line.rank_upper) == (position, position, position)
        for b, benchmark in enumerate(ranking.benchmarks):
            hits = int(np.sum(data[benchmark][line.model]))
            assert line.accuracy[b] == stats.wilson_interval(hits, ranking.n_items[b])
        macro = line.macro_accuracy
        assert macro.estimate == pytest.approx(np.mean([iv.estimate for iv in line.accuracy]))
        assert macro.lower <= macro.estimate <= macro.upper
        assert macro.method == "stratified_bootstrap_percentile"
    assert stats.rank_models(data, seed=3, n_resamples=500) == ranking  # seeded


def test_ranking_interval_close_to_normal_approximation():
    # Independent models: the bootstrap interval of the macro mean is close to the normal
    # one, sqrt(sum_b p_b (1 - p_b) / n_b) / B, on large benchmarks.
    data = _benchmarks(2, {"x": [0.7, 0.6, 0.8], "y": [0.5, 0.5, 0.5]}, [800, 600, 1000])
    ranking = stats.rank_models(data, seed=0, n_resamples=4000)
    for line in ranking.ranks:
        p = np.array([iv.estimate for iv in line.accuracy])
        se = math.sqrt(np.sum(p * (1 - p) / np.array(ranking.n_items))) / 3
        assert line.macro_accuracy.upper - line.macro_accuracy.lower == pytest.approx(
            2 * 1.959964 * se, rel=0.08
        )


def test_ranking_identical_models_share_rank_and_wide_rank_interval():
    rng = np.random.default_rng(8)
    column = rng.random(200) < 0.6
    other = rng.random(200) < 0.6
    data = {"only": np.column_stack([column, column, other])}
    ranking = stats.rank_models(data, ["twin1", "twin2", "other"], seed=1, n_resamples=500)
    twins = [line for line in ranking.ranks if line.model.startswith("twin")]
    assert twins[0].rank == twins[1].rank
    assert twins[0].macro_accuracy == twins[1].macro_accuracy
    assert all(line.rank_lower == 1 for line in ranking.ranks)
    assert max(line.rank_upper for line in ranking.ranks) >= 2


@pytest.mark.parametrize(
    ("data", "models", "kwargs", "message"),
    [
        ({}, None, {}, "non-empty mapping"),
        ([[1, 0]], None, {}, "non-empty mapping"),
        ({"b1": np.ones((5, 2), bool)}, None, {}, "models must name the columns"),
        ({"b1": np.ones((1, 2), bool)}, ["x", "y"], {}, "at least 2 items per benchmark"),
        ({"b1": {"x": [1, 0], "y": [1, 1]}, "b2": {"x": [1, 0]}}, None, {}, "missing from"),
        ({"b1": {"x": [1, 0], "y": [1, 1]}}, None, {"n_resamples": 10}, "at least 100"),
        ({"b1": {"x": [1, 0], "y": [1, 1]}}, None, {"seed": -1}, "seed"),
        ({"b1": {"x": [1, 0], "y": [1, 1]}}, None, {"confidence": 0}, "confidence"),
    ],
)
def test_ranking_bad_input(data, models, kwargs, message):
    with pytest.raises(ValueError, match=message):
        stats.rank_models(data, models, **kwargs)


# ------------------------------------------------------------------ graded scores
def test_paired_mean_difference_fields_and_both_pvalues():
    rng = np.random.default_rng(4)
    base = rng.beta(2, 3, 150)
    cand = np.clip(base - 0.04 + rng.normal(0, 0.08, 150), 0, 1)
    result = stats.paired_mean_difference(base, cand, n_resamples=2000, seed=9)
    assert [f.name for f in dataclasses.fields(result)] == [
        "n",
        "difference",
        "pvalue",
        "pvalue_regression",
        "n_resamples",
        "exact",
        "seed",
    ]
    assert result.n == 150 and result.n_resamples == 2000 and not result.exact
    assert result.difference.estimate == pytest.approx(np.mean(cand - base))
    assert result.difference.method == "bootstrap_bca"
    assert result.difference.lower < result.difference.estimate < result.difference.upper < 0
    two = stats.paired_permutation_test(base, cand, 2000, 9, "two-sided")
    less = stats.paired_permutation_test(base, cand, 2000, 9, "less")
    assert (result.pvalue, result.pvalue_regression) == (two.pvalue, less.pvalue)
    assert result.pvalue_regression < 0.01
    assert stats.paired_mean_difference(base, cand, n_resamples=2000, seed=9) == result


def test_paired_mean_difference_better_candidate_is_not_a_regression():
    rng = np.random.default_rng(6)
    base = rng.beta(2, 3, 80)
    cand = np.clip(base + 0.05 + rng.normal(0, 0.05, 80), 0, 1)
    result = stats.paired_mean_difference(base, cand, n_resamples=999, seed=1)
    assert result.difference.lower > 0
    assert result.pvalue < 0.01 and result.pvalue_regression > 0.99


def test_paired_mean_difference_edges():
    same = stats.paired_mean_difference([0.2, 0.4, 0.9], [0.2, 0.4, 0.9], n_resamples=100, seed=0)
    assert same.difference.method == "constant"
    assert (same.difference.lower, same.difference.upper) == (0.0, 0.0)
    assert same.pvalue == 1.0 and same.pvalue_regression == 1.0 and same.exact
    shifted = stats.paired_mean_difference([0.1, 0.2], [0.3, 0.4], n_resamples=100, seed=0)
    assert shifted.difference.method == "constant"
    assert shifted.difference.lower == pytest.approx(0.2)
    # One item: a difference and exact p-values, but no interval (and no crash).
    one = stats.paired_mean_difference([0.3], [0.1], n_resamples=100, seed=0)
    assert one.n == 1 and one.difference.method == "undefined_one_item"
    assert one.difference.estimate == pytest.approx(-0.2)
    assert (one.difference.lower, one.difference.upper) == (-math.inf, math.inf)
    assert one.exact and one.pvalue == 1.0 and one.pvalue_regression == 0.5
    # BCa's acceleration is 0 / 0 here (squares underflow): the percentile fallback is used.
    tiny = stats.paired_mean_difference([0, 0, 0, 0], [0, 1e-300, 0, 0], n_resamples=999, seed=1)
    assert tiny.difference.method == "bootstrap_percentile"
    assert tiny.difference.lower <= tiny.difference.estimate <= tiny.difference.upper


@pytest.mark.parametrize(
    ("x", "y", "kwargs", "message"),
    [
        ([], [], {}, "at least 1 item"),
        ([0.1, 0.2], [0.2], {}, "same length"),
        ([0.1, math.nan], [0.2, 0.3], {}, r"baseline_scores\[1\] must be a finite score"),
        ([0.1, 0.2], [0.2, math.inf], {}, r"candidate_scores\[1\]"),
        ([[0.1, 0.2]], [[0.2, 0.3]], {}, "1-D"),
        (["a", "b"], [0.2, 0.3], {}, "finite per-item scores"),
        ([0.1, 0.2], [0.2, 0.3], {"n_resamples": 99}, "at least 100"),
        ([0.1, 0.2], [0.2, 0.3], {"seed": 1.5}, "seed"),
        ([0.1, 0.2], [0.2, 0.3], {"confidence": 95}, "confidence"),
    ],
)
def test_paired_mean_difference_bad_input(x, y, kwargs, message):
    with pytest.raises(ValueError, match=message):
        stats.paired_mean_difference(x, y, **kwargs)


# ------------------------------------------------------------------ A/A noise floor
def test_discordance_rate_is_wilson_of_flips():
    assert stats.discordance_rate(3, 4, 1000) == stats.wilson_interval(7, 1000)
    zero = stats.discordance_rate(0, 0, 1000)
    assert zero.estimate == 0.0 and 0.0038 < zero.upper < 0.0039


def test_noise_flips_fields_and_reading():
    result = stats.noise_flips(7, 1000, 40, 1000)
    assert (result.n, result.observed, result.expected) == (1000, 40, 7.0)
    assert result.aa_rate == stats.wilson_interval(7, 1000)
    assert result.lower <= 7 <= result.upper < 40
    assert result.pvalue < 1e-5
    assert result.method == "beta_binomial_jeffreys"
    within = stats.noise_flips(7, 1000, 9, 1000)
    assert within.lower <= 9 <= within.upper and within.pvalue > 0.2


def test_noise_flips_deterministic_aa_run_still_has_an_interval():
    # A CPU A/A run with no flip at all: the plug-in rate 0 would predict exactly 0 flips.
    result = stats.noise_flips(0, 500, 0, 500)
    assert result.expected == 0.0 and result.lower == 0 and result.upper >= 1
    assert result.pvalue == 1.0


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, 0, 0, 10), "aa_n must be at least 1"),
        ((5, 4, 0, 10), "aa_discordant must not exceed aa_n"),
        ((1, 10, 0, 0), "n must be at least 1"),
        ((1, 10, 11, 10), "discordant must not exceed n"),
        ((-1, 10, 1, 10), "aa_discordant"),
        ((1, 10, 1.5, 10), "discordant"),
    ],
)
def test_noise_flips_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        stats.noise_flips(*args)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((1, 1, 0), "n must be at least 1"),
        ((6, 5, 10), r"b \+ c must not exceed n"),
        ((1, -2, 5), r"\bc\b"),
    ],
)
def test_discordance_rate_bad_input(args, message):
    with pytest.raises(ValueError, match=message):
        stats.discordance_rate(*args)


@pytest.mark.parametrize(
    ("x", "y", "less", "greater", "two"),
    [(0.5, 0.2, 0.5, 1.0, 1.0), (0.2, 0.5, 1.0, 0.5, 1.0), (0.4, 0.4, 1.0, 1.0, 1.0)],
)
def test_permutation_test_with_one_item_enumerates_both_signs(x, y, less, greater, two):
    # scipy's permutation_test refuses a single observation; the two sign assignments
    # {d, -d} give P(T <= d) = 1/2 for d < 0 and 1 otherwise.
    for alternative, expected in (("less", less), ("greater", greater), ("two-sided", two)):
        result = stats.paired_permutation_test([x], [y], 999, 0, alternative=alternative)
        assert result.pvalue == expected
        assert result.exact and result.n_resamples == 2 and result.n_items == 1
        assert result.statistic == pytest.approx(y - x)

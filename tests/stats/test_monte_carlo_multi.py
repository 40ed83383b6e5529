"""Seeded Monte Carlo checks of the multi-model, graded and noise-floor statistics.

Each scenario draws data from a known truth with NumPy's seeded generator and counts how
often an interval covers the truth or a test rejects a true null. Tolerances are stated in
Monte Carlo standard errors (SE = sqrt(p (1 - p) / runs)) or as documented shortfalls.
The figures are produced by :func:`summary` (same seeds as the tests).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchgate import stats

ALPHA = 0.05


def _se(p: float, runs: int) -> float:
    return math.sqrt(p * (1 - p) / runs)


# ------------------------------------------------------------------ ranking
# (benchmark sizes, true accuracy per benchmark (rows) and model (columns))
RANKING_SCENARIOS = {
    "small": ([50, 40, 60], [[0.6, 0.5], [0.9, 0.95], [0.3, 0.35]]),
    "medium": (
        [60, 100, 150, 80],
        [[0.6, 0.55, 0.8], [0.7, 0.65, 0.5], [0.5, 0.5, 0.9], [0.8, 0.72, 0.6]],
    ),
}


def ranking_coverage(name: str, runs: int = 300, n_resamples: int = 500) -> tuple[float, float]:
    """Coverage of the macro-accuracy interval and of the rank interval (true rank)."""
    sizes, accuracy = RANKING_SCENARIOS[name]
    truth_by_benchmark = np.asarray(accuracy)
    truth = truth_by_benchmark.mean(axis=0)
    true_rank = 1 + np.sum(truth[None, :] > truth[:, None], axis=1)
    names = [f"m{j}" for j in range(truth.size)]
    rng = np.random.default_rng(7000 + len(sizes))
    macro_hits = rank_hits = total = 0
    for run in range(runs):
        data = {
            f"b{b}": rng.random((size, truth.size)) < truth_by_benchmark[b]
            for b, size in enumerate(sizes)
        }
        ranking = stats.rank_models(data, names, n_resamples=n_resamples, seed=run)
        for line in ranking.ranks:
            j = names.index(line.model)
            macro_hits += line.macro_accuracy.lower <= truth[j] <= line.macro_accuracy.upper
            rank_hits += line.rank_lower <= true_rank[j] <= line.rank_upper
            total += 1
    return macro_hits / total, rank_hits / total


@pytest.mark.parametrize("name", sorted(RANKING_SCENARIOS))
def test_macro_accuracy_interval_coverage(name):
    macro, rank = ranking_coverage(name)
    # Percentile bootstrap of binary means: slightly below nominal on ~50-item benchmarks
    # (about 0.935 measured), within 3 SE on larger ones.
    assert 0.95 - 0.03 <= macro <= 0.95 + 3 * _se(0.95, 600)
    # Rank intervals for distinct true accuracies cover the true rank at least nominally.
    assert rank >= 0.93


# ------------------------------------------------------------------ graded scores
def graded_coverage(n: int, runs: int = 300, n_resamples: int = 500) -> tuple[float, set[str]]:
    """Coverage of the BCa interval of a skewed mean difference (true mean 0)."""
    rng = np.random.default_rng(8000 + n)
    hits = 0
    methods = set()
    for run in range(runs):
        baseline = rng.beta(2.0, 3.0, n)
        difference = rng.exponential(0.1, n) - 0.1  # right-skewed, mean exactly 0
        result = stats.paired_mean_difference(
            baseline, baseline + difference, n_resamples=n_resamples, seed=run
        )
        methods.add(result.difference.method)
        hits += result.difference.lower <= 0.0 <= result.difference.upper
    return hits / runs, methods


@pytest.mark.parametrize(("n", "floor"), [(30, 0.90), (100, 0.95 - 3 * _se(0.95, 300))])
def test_graded_interval_coverage(n, floor):
    coverage, methods = graded_coverage(n)
    assert methods == {"bootstrap_bca"}
    # Exponential differences are strongly skewed: with 30 items BCa covered 0.93-0.95 in
    # these runs; the floor allows for small-sample shortfall.
    assert floor <= coverage <= 0.95 + 3 * _se(0.95, 300)


def graded_type_one_error(runs: int = 1000, n: int = 30) -> tuple[float, float]:
    """Rejection rates (two-sided, one-sided "less") on exchangeable ROUGE-like scores."""
    rng = np.random.default_rng(9000)
    two = less = 0
    for run in range(runs):
        difficulty = rng.beta(2.0, 3.0, n)
        first = np.clip(difficulty + rng.normal(0, 0.1, n), 0, 1).round(2)
        second = np.clip(difficulty + rng.normal(0, 0.1, n), 0, 1).round(2)
        result = stats.paired_mean_difference(first, second, n_resamples=100, seed=run)
        two += result.pvalue <= ALPHA
        less += result.pvalue_regression <= ALPHA
    return two / runs, less / runs


def test_graded_pvalues_keep_their_level():
    two, less = graded_type_one_error()
    assert two <= ALPHA + 3 * _se(ALPHA, 1000)
    assert less <= ALPHA + 3 * _se(ALPHA, 1000)


def test_graded_regression_is_detected():
    rng = np.random.default_rng(9100)
    baseline = rng.beta(2.0, 3.0, 200)
    candidate = np.clip(baseline - 0.03 + rng.normal(0, 0.08, 200), 0, 1)
    result = stats.paired_mean_difference(baseline, candidate, n_resamples=2000, seed=3)
    assert result.pvalue_regression < 0.01
    assert result.difference.upper < 0


# ------------------------------------------------------------------ A/A noise floor
NOISE_SCENARIOS = [(500, 500, 0.01), (1000, 300, 0.03), (200, 1000, 0.002), (300, 300, 0.1)]


def noise_coverage(aa_n: int, n: int, rate: float, runs: int = 4000) -> tuple[float, float]:
    """Coverage of the noise prediction interval and false-alarm rate of its p-value."""
    rng = np.random.default_rng(9500 + aa_n + n)
    aa_flips = rng.binomial(aa_n, rate, runs)
    flips = rng.binomial(n, rate, runs)
    cache: dict[tuple[int, int], stats.NoiseFlips] = {}
    covered = alarms = 0
    for key in zip(aa_flips.tolist(), flips.tolist(), strict=True):
        if key not in cache:
            cache[key] = stats.noise_flips(key[0], aa_n, key[1], n)
        result = cache[key]
        covered += result.lower <= key[1] <= result.upper
        alarms += result.pvalue <= ALPHA
    return covered / runs, alarms / runs


@pytest.mark.parametrize(("aa_n", "n", "rate"), NOISE_SCENARIOS)
def test_noise_prediction_interval_coverage(aa_n, n, rate):
    covered, alarms = noise_coverage(aa_n, n, rate)
    # Discrete and Jeffreys-smoothed: at or above nominal, never far above.
    assert 0.95 - 3 * _se(0.95, 4000) <= covered <= 0.995
    assert alarms <= ALPHA + 3 * _se(ALPHA, 4000)


def summary() -> dict[str, object]:
    """The figures the tests above measure, for reports (same seeds as the tests)."""
    out: dict[str, object] = {}
    for name in sorted(RANKING_SCENARIOS):
        out[f"ranking {name}: macro coverage, rank coverage"] = ranking_coverage(name)
    for n in (30, 100):
        out[f"graded BCa coverage n={n}"] = graded_coverage(n)[0]
    out["graded type1 (two-sided, less) n=30"] = graded_type_one_error()
    for aa_n, n, rate in NOISE_SCENARIOS:
        out[f"noise aa_n={aa_n} n={n} rate={rate}: coverage, false alarms"] = noise_coverage(
            aa_n, n, rate
        )
    return out

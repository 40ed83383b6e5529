"""Seeded Monte Carlo checks: type I error, interval coverage and power of benchgate.stats.

Runs are drawn as multinomial (regression, improvement, concordant) counts with NumPy's
seeded generator and tested in one vectorised call, so each scenario costs milliseconds.
Tolerances are stated in Monte Carlo standard errors (SE = sqrt(p (1 - p) / runs)).
The figures these tests measure are produced by :func:`summary`.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

from benchgate import stats
from benchgate.stats.mcnemar import mcnemar_pvalues

ALPHA = 0.05
RUNS = 20_000


def _draw(seed: int, n: int, p_regress: float, p_improve: float, runs: int = RUNS):
    rng = np.random.default_rng(seed)
    table = rng.multinomial(n, [p_regress, p_improve, 1.0 - p_regress - p_improve], size=runs)
    return table[:, 0], table[:, 1]


def rejection_rate(seed, n, p_regress, p_improve, method, alternative, runs=RUNS) -> float:
    b, c = _draw(seed, n, p_regress, p_improve, runs)
    return float(np.mean(mcnemar_pvalues(b, c, method, alternative) <= ALPHA))


def _se(p: float, runs: int = RUNS) -> float:
    return math.sqrt(max(p * (1 - p), 1e-4) / runs)


# (n items, discordance rate) under no true difference: p_regress = p_improve = rate / 2.
NULL_SCENARIOS = [(30, 0.3), (50, 0.2), (200, 0.1), (500, 0.3), (1000, 0.05), (2000, 0.02)]


@pytest.mark.parametrize(("n", "rate"), NULL_SCENARIOS)
@pytest.mark.parametrize("alternative", ["less", "two-sided"])
def test_midp_type_one_error_at_or_below_alpha(n, rate, alternative):
    seed = 1000 + n
    simulated = rejection_rate(seed, n, rate / 2, rate / 2, "midp", alternative)
    exact_size = stats.mcnemar_power(n, rate / 2, rate / 2, ALPHA, "midp", alternative)
    # "At or below about alpha": within 3 SE of 0.05 from above, and the exact size (the
    # unconditional power at no difference) is at most 0.0505.
    assert simulated <= ALPHA + 3 * _se(ALPHA)
    assert exact_size <= ALPHA + 0.0005
    # The simulation and the exact power calculation agree.
    assert abs(simulated - exact_size) <= 4 * _se(exact_size)


def test_midp_exact_size_over_a_grid():
    # Exact (not simulated) size of the one-sided and two-sided mid-p tests for runs of
    # 10..300 items and discordance rates up to 0.5. Fagerland et al. (2013) report no
    # violation of the nominal level in 9595 scenarios (two-sided); one-sided we allow the
    # small excess that mid-p tests are known for (largest seen: 0.0502 at n = 67).
    worst = 0.0
    for n in range(10, 301, 3):
        for rate in (0.05, 0.1, 0.2, 0.3, 0.4, 0.5):
            for alternative in ("less", "two-sided"):
                worst = max(
                    worst, stats.mcnemar_power(n, rate / 2, rate / 2, ALPHA, "midp", alternative)
                )
    assert worst <= 0.0505


def test_exact_conditional_test_never_exceeds_alpha_and_midp_is_less_conservative():
    n, rate = 80, 0.25
    exact = stats.mcnemar_power(n, rate / 2, rate / 2, ALPHA, "exact", "less")
    midp = stats.mcnemar_power(n, rate / 2, rate / 2, ALPHA, "midp", "less")
    assert exact <= ALPHA
    assert exact < midp


POWER_SCENARIOS = [
    (100, 0.2, 0.1, "midp", "less"),
    (300, 0.08, 0.04, "midp", "less"),
    (300, 0.08, 0.04, "midp", "two-sided"),
    (150, 0.12, 0.05, "exact", "two-sided"),
    (400, 0.05, 0.03, "asymptotic", "less"),
    (60, 0.05, 0.25, "asymptotic_cc", "greater"),
]


@pytest.mark.parametrize(("n", "p_regress", "p_improve", "method", "alternative"), POWER_SCENARIOS)
def test_power_function_agrees_with_simulation(n, p_regress, p_improve, method, alternative):
    seed = 2000 + n
    simulated = rejection_rate(seed, n, p_regress, p_improve, method, alternative)
    predicted = stats.mcnemar_power(n, p_regress, p_improve, ALPHA, method, alternative)
    assert abs(simulated - predicted) <= 4 * _se(predicted)


def test_minimum_detectable_difference_has_the_promised_power_in_simulation():
    n, rate = 500, 0.12
    drop = stats.minimum_detectable_difference(n, rate, ALPHA, 0.8)
    simulated = rejection_rate(77, n, (rate + drop) / 2, (rate - drop) / 2, "midp", "less")
    assert abs(simulated - 0.8) <= 4 * _se(0.8)


def wilson_coverage(seed: int, n: int, runs: int = RUNS) -> float:
    """Coverage of the 95% Wilson interval, true accuracy drawn uniformly in [0.05, 0.95]."""
    rng = np.random.default_rng(seed)
    truth = rng.uniform(0.05, 0.95, size=runs)
    successes = rng.binomial(n, truth)
    table = [stats.wilson_interval(x, n) for x in range(n + 1)]
    lower = np.array([iv.lower for iv in table])[successes]
    upper = np.array([iv.upper for iv in table])[successes]
    return float(np.mean((lower <= truth) & (truth <= upper)))


@pytest.mark.parametrize("n", [20, 50, 200, 1000])
def test_wilson_coverage_near_nominal(n):
    coverage = wilson_coverage(3000 + n, n)
    assert abs(coverage - 0.95) <= 0.01


def paired_difference_coverage(seed, n, p_regress, p_improve, runs=10_000) -> float:
    """Coverage of the 95% Tango interval for the true difference p_improve - p_regress."""
    b, c = _draw(seed, n, p_regress, p_improve, runs)
    truth = p_improve - p_regress
    cache: dict[tuple[int, int], bool] = {}
    hits = 0
    for key in zip(b.tolist(), c.tolist(), strict=True):
        if key not in cache:
            interval = stats.paired_accuracy_difference(key[0], key[1], n)
            cache[key] = interval.lower <= truth <= interval.upper
        hits += cache[key]
    return hits / runs


TANGO_SCENARIOS = [
    (30, 0.1, 0.05),
    (50, 0.1, 0.1),
    (200, 0.15, 0.05),
    (1000, 0.03, 0.02),
    (100, 0.3, 0.2),
]


@pytest.mark.parametrize(("n", "p_regress", "p_improve"), TANGO_SCENARIOS)
def test_paired_difference_coverage_near_nominal(n, p_regress, p_improve):
    coverage = paired_difference_coverage(4000 + n, n, p_regress, p_improve)
    assert abs(coverage - 0.95) <= 0.02


def odds_ratio_coverage(seed, n, p_regress, p_improve, runs=10_000) -> float:
    """Coverage of the exact 95% conditional odds-ratio interval (runs with b + c > 0)."""
    b, c = _draw(seed, n, p_regress, p_improve, runs)
    truth = p_improve / p_regress
    cache: dict[tuple[int, int], bool] = {}
    hits = total = 0
    for key in zip(b.tolist(), c.tolist(), strict=True):
        if key[0] + key[1] == 0:
            continue
        if key not in cache:
            interval = stats.conditional_odds_ratio(*key)
            cache[key] = interval.lower <= truth <= interval.upper
        hits += cache[key]
        total += 1
    return hits / total


@pytest.mark.parametrize(("n", "p_regress", "p_improve"), [(100, 0.1, 0.05), (400, 0.04, 0.06)])
def test_exact_odds_ratio_interval_is_conservative(n, p_regress, p_improve):
    coverage = odds_ratio_coverage(5000 + n, n, p_regress, p_improve)
    assert coverage >= 0.95 - 3 * _se(0.95, 10_000)
    assert coverage <= 0.995


def permutation_type_one_error(seed: int, runs: int = 4000, n_items: int = 40) -> float:
    """Rejection rate of the paired permutation test on exchangeable ROUGE-like scores."""
    rng = np.random.default_rng(seed)
    rejections = 0
    for run in range(runs):
        difficulty = rng.beta(2.0, 3.0, size=n_items)
        first = np.clip(difficulty + rng.normal(0, 0.1, n_items), 0, 1).round(2)
        second = np.clip(difficulty + rng.normal(0, 0.1, n_items), 0, 1).round(2)
        result = stats.paired_permutation_test(first, second, n_resamples=199, seed=run)
        rejections += result.pvalue <= ALPHA
    return rejections / runs


def test_permutation_test_type_one_error():
    rate = permutation_type_one_error(6000)
    assert rate <= ALPHA + 3 * _se(ALPHA, 4000)


def test_permutation_test_detects_a_real_drop():
    rng = np.random.default_rng(7)
    base = rng.beta(2.0, 3.0, size=200)
    worse = np.clip(base - 0.03 + rng.normal(0, 0.08, 200), 0, 1)
    result = stats.paired_permutation_test(
        base, worse, n_resamples=4999, seed=1, alternative="less"
    )
    assert result.statistic < 0
    assert result.pvalue < 0.01


def summary() -> dict[str, object]:
    """The figures the tests above measure, for reports (same seeds as the tests)."""
    out: dict[str, object] = {}
    for n, rate in NULL_SCENARIOS:
        for alternative in ("less", "two-sided"):
            out[f"type1 midp {alternative} n={n} rate={rate}"] = (
                rejection_rate(1000 + n, n, rate / 2, rate / 2, "midp", alternative),
                stats.mcnemar_power(n, rate / 2, rate / 2, ALPHA, "midp", alternative),
            )
    for n in (20, 50, 200, 1000):
        out[f"wilson coverage n={n}"] = wilson_coverage(3000 + n, n)
    for n, p_regress, p_improve in TANGO_SCENARIOS:
        out[f"tango coverage n={n} p_regress={p_regress} p_improve={p_improve}"] = (
            paired_difference_coverage(4000 + n, n, p_regress, p_improve)
        )
    for n, p_regress, p_improve in [(100, 0.1, 0.05), (400, 0.04, 0.06)]:
        out[f"odds ratio coverage n={n}"] = odds_ratio_coverage(5000 + n, n, p_regress, p_improve)
    for scenario in POWER_SCENARIOS:
        n, p_regress, p_improve, method, alternative = scenario
        out[f"power {scenario}"] = (
            rejection_rate(2000 + n, n, p_regress, p_improve, method, alternative),
            stats.mcnemar_power(n, p_regress, p_improve, ALPHA, method, alternative),
        )
    out["permutation type1"] = permutation_type_one_error(6000)
    return out

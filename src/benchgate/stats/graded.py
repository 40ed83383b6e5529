"""Paired comparison of graded per-item scores (ROUGE-L, F1): mean difference, interval, tests."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from benchgate.stats import _validate
from benchgate.stats.intervals import IntervalEstimate
from benchgate.stats.permutation import paired_permutation_test

# Keep one vectorised bootstrap batch at about this many floats (8 bytes each).
_BATCH_ELEMENTS = 4_000_000


@dataclass(frozen=True, slots=True)
class PairedMeanDifference:
    """Outcome of :func:`paired_mean_difference`.

    Attributes:
        n: Number of paired items.
        difference: Mean per-item difference, candidate minus baseline (``mean(y - x)``,
            in the units of the scores, e.g. ROUGE-L F1 in [0, 1]; negative means the
            candidate scores lower), with a two-sided bootstrap interval. ``method`` says
            which: ``"bootstrap_bca"`` (bias-corrected and accelerated, used whenever it can
            be computed), ``"bootstrap_percentile"`` (when BCa is undefined for the data),
            ``"constant"`` (every item has the same difference, up to ``max|d| /
            2**32``: the interval is that point), or ``"undefined_one_item"`` (a single
            item: the interval is ``(-inf, inf)``).
        pvalue: Two-sided paired permutation p-value (no difference in mean score).
        pvalue_regression: One-sided paired permutation p-value for "the candidate scores
            lower" (``alternative="less"``), the one a regression gate reads.
        n_resamples: Bootstrap resamples drawn; also the random sign assignments of each
            permutation test unless ``exact``.
        exact: True when the permutation p-values enumerated all ``2 ** n`` sign flips
            instead (``2 ** n <= n_resamples``), so they are exact.
        seed: The seed used for the bootstrap and the permutation tests.
    """

    n: int
    difference: IntervalEstimate
    pvalue: float
    pvalue_regression: float
    n_resamples: int
    exact: bool
    seed: int


def paired_mean_difference(
    baseline_scores: ArrayLike,
    candidate_scores: ArrayLike,
    *,
    confidence: float = 0.95,
    n_resamples: int = 9999,
    seed: int = 0,
) -> PairedMeanDifference:
    """Mean paired difference of graded scores with its bootstrap interval and p-values.

    Args:
        baseline_scores: Baseline's score per item, shape ``(n_items,)``, finite floats
            (e.g. ROUGE-L F1 in [0, 1]); ``n_items >= 1`` (with one item there is no
            interval: see :attr:`PairedMeanDifference.difference`).
        candidate_scores: Candidate's score per item, same shape, item-aligned.
        confidence: Level of the two-sided interval, in (0, 1).
        n_resamples: Bootstrap resamples and permutation resamples (each), at least 100.
        seed: Seed (non-negative int) for the bootstrap and both permutation tests; the
            same inputs and seed give the same result.

    Returns:
        A :class:`PairedMeanDifference`. Both p-values are always computed, so each field
        keeps one meaning; gate on ``pvalue_regression`` (Holm-adjusted with the rest of
        the family), report ``pvalue`` for a two-sided view.

    Raises:
        ValueError: If the score arrays are not 1-D, differ in length, hold a non-finite
            value (the message names the array and position), are empty, or
            ``confidence``, ``n_resamples`` or ``seed`` is invalid.

    Notes:
        With ``d_i = y_i - x_i`` (candidate minus baseline), the estimate is ``mean(d)``.

        Interval: ``scipy.stats.bootstrap`` on the ``d_i`` (resampling items with
        replacement keeps each item's pair together), BCa method (Efron 1987), which
        corrects the percentile interval for bias and skewness and is second-order
        accurate. BCa is undefined when the jackknife or the bootstrap distribution is
        degenerate (scipy then warns and returns NaN); the percentile interval of the same
        resamples is used instead and ``difference.method`` says so. When every ``d_i`` is
        the same the interval is that value (``method = "constant"``). The interval is
        widened, if needed, to contain the estimate.

        P-values: :func:`benchgate.stats.paired_permutation_test` (sign-flip test of the
        ``d_i``) with ``alternative="two-sided"`` and ``alternative="less"``, the same
        seed. The permutation test assumes only that, under no difference, each item's two
        scores are exchangeable; it is exact when ``2 ** n <= n_resamples``.

        Assumptions: items are independent. The bootstrap interval treats items as a
        sample from a population of such items; its coverage for small ``n`` (say < 30)
        with skewed differences falls below nominal (checked in
        ``tests/stats/test_monte_carlo_multi.py``).

    References:
        Efron B (1987). Better bootstrap confidence intervals. JASA 82:171-185.
        Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap, ch. 14.
        Fisher RA (1935). The Design of Experiments, section 21.
        Dror R, Baumer G, Shlomov S, Reichart R (2018). The hitchhiker's guide to testing
        statistical significance in natural language processing. ACL 2018.
    """
    from scipy import stats as st

    baseline = _scores("baseline_scores", baseline_scores)
    candidate = _scores("candidate_scores", candidate_scores)
    if baseline.shape != candidate.shape:
        raise ValueError(
            f"baseline_scores and candidate_scores must have the same length (one score per "
            f"item for each model), got {baseline.size} and {candidate.size}"
        )
    if baseline.size < 1:
        raise ValueError("a paired mean difference needs at least 1 item, got none")
    level = _validate.confidence(confidence)
    resamples = _validate.resamples(n_resamples, minimum=100)
    seed_value = _validate.seed(seed)
    differences = candidate - baseline
    estimate = float(np.mean(differences))
    # Differences equal up to the permutation test's grid (max|d| / 2**32) count as equal:
    # 0.3 - 0.1 and 0.4 - 0.2 differ in the last bit of a float.
    if differences.size == 1:
        lower, upper = -math.inf, math.inf
        method = "undefined_one_item"
    elif np.ptp(differences) <= np.max(np.abs(differences)) / 2.0**32:
        lower = upper = estimate
        method = "constant"
    else:
        lower, upper, method = _bootstrap_interval(st, differences, level, resamples, seed_value)
    two_sided = paired_permutation_test(
        baseline, candidate, n_resamples=resamples, seed=seed_value, alternative="two-sided"
    )
    less = paired_permutation_test(
        baseline, candidate, n_resamples=resamples, seed=seed_value, alternative="less"
    )
    return PairedMeanDifference(
        n=int(differences.size),
        difference=IntervalEstimate(
            estimate=estimate,
            lower=float(min(lower, estimate)),
            upper=float(max(upper, estimate)),
            confidence=level,
            method=method,
        ),
        pvalue=two_sided.pvalue,
        pvalue_regression=less.pvalue,
        n_resamples=resamples,
        exact=two_sided.exact,
        seed=seed_value,
    )


def _bootstrap_interval(
    st: object, differences: np.ndarray, level: float, resamples: int, seed: int
) -> tuple[float, float, str]:
    """BCa interval of the mean difference, or the percentile one when BCa is undefined."""
    batch = max(1, min(resamples, _BATCH_ELEMENTS // differences.size))
    with warnings.catch_warnings():
        # scipy warns (DegenerateDataWarning) and returns NaN when BCa is undefined; the
        # NaN is what we test for below.
        warnings.simplefilter("ignore", getattr(st, "DegenerateDataWarning", RuntimeWarning))
        warnings.simplefilter("ignore", RuntimeWarning)
        result = st.bootstrap(
            (differences,),
            np.mean,
            n_resamples=resamples,
            batch=batch,
            vectorized=True,
            confidence_level=level,
            method="BCa",
            **{_validate.rng_keyword(st.bootstrap): np.random.default_rng(seed)},
        )
        lower, upper = (float(v) for v in result.confidence_interval)
        if math.isfinite(lower) and math.isfinite(upper):
            return lower, upper, "bootstrap_bca"
        # The same resamples, read with the percentile method.
        again = st.bootstrap(
            (differences,),
            np.mean,
            n_resamples=0,
            vectorized=True,
            confidence_level=level,
            method="percentile",
            bootstrap_result=result,
            **{_validate.rng_keyword(st.bootstrap): np.random.default_rng(seed)},
        )
    lower, upper = (float(v) for v in again.confidence_interval)
    return lower, upper, "bootstrap_percentile"


def _scores(name: str, values: ArrayLike) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be a 1-D sequence of finite per-item scores, got {values!r}"
        ) from error
    if array.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D sequence of per-item scores, got shape {array.shape}"
        )
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(
            f"{name}[{index}] must be a finite score, got {array[index]!r} (an item without a "
            f"score must be removed for both models, or scored 0, before comparing)"
        )
    return array

"""Paired permutation (sign-flip) test for graded per-item scores such as ROUGE-L."""

from __future__ import annotations

import inspect
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st

from benchgate.stats import _validate

# scipy >= 1.15 takes ``rng``; older releases only ``random_state``. Both accept a Generator.
_RNG_KEYWORD = (
    "rng" if "rng" in inspect.signature(_st.permutation_test).parameters else "random_state"
)
# Differences are compared on a grid of max|d| / 2**32 (see _quantize); int64 sums of up to
# 2**31 items cannot overflow.
_GRID = float(2**32)
# Keep each vectorised batch at about this many floats per sample (memory ~ 8 bytes each).
_BATCH_ELEMENTS = 2_000_000


@dataclass(frozen=True, slots=True)
class PermutationTestResult:
    """Outcome of :func:`paired_permutation_test`.

    Attributes:
        statistic: Mean per-item difference, candidate minus baseline (``mean(y - x)``), in
            the units of the scores (e.g. ROUGE-L F1 in [0, 1]).
        pvalue: Permutation p-value in (0, 1] for ``alternative``.
        n_items: Number of paired items.
        n_resamples: Sign assignments evaluated: ``2 ** n_items`` when ``exact``, else the
            requested number of random resamples.
        exact: True when every sign assignment was enumerated (the p-value is then exact).
        alternative: ``"two-sided"``, ``"less"`` (candidate worse) or ``"greater"``.
    """

    statistic: float
    pvalue: float
    n_items: int
    n_resamples: int
    exact: bool
    alternative: str


def paired_permutation_test(
    x: ArrayLike,
    y: ArrayLike,
    n_resamples: int = 9999,
    seed: int = 0,
    alternative: str = "two-sided",
) -> PermutationTestResult:
    """Paired permutation test of equal mean score, for graded (non-binary) per-item scores.

    Args:
        x: Baseline scores, shape ``(n_items,)``, finite floats, item-aligned with ``y``.
        y: Candidate scores, shape ``(n_items,)``.
        n_resamples: Number of random sign assignments (>= 1). When ``2 ** n_items <=
            n_resamples`` all assignments are enumerated instead and the p-value is exact.
        seed: Seed (non-negative int) for ``numpy.random.default_rng``; the same inputs and
            seed always give the same p-value.
        alternative: About the mean of ``y - x``: ``"two-sided"``, ``"less"`` (candidate
            worse) or ``"greater"`` (candidate better).

    Returns:
        A :class:`PermutationTestResult`.

    Raises:
        ValueError: If ``x`` and ``y`` are not 1-D arrays of the same non-zero length with
            finite values, or ``n_resamples``, ``seed`` or ``alternative`` is invalid.

    Notes:
        Under the null hypothesis the two scores of an item are exchangeable, so each
        difference ``d_i = y_i - x_i`` is as likely to have been ``-d_i``. The statistic
        ``mean(d)`` is recomputed under random sign flips (``scipy.stats.permutation_test``
        with ``permutation_type="samples"``), in exact integer units of ``max|d| / 2**32``
        so that tied totals stay tied (floating-point sums would split them). The Monte
        Carlo p-value counts the observed assignment, ``(1 + #{T* at least as extreme}) /
        (1 + n_resamples)``, so it is never 0 and the test keeps its level; the two-sided
        p-value is twice the smaller one-sided one, capped at 1. Items with ``d_i = 0`` are
        kept and simply do not move. Assumes items are independent; makes no normality
        assumption about the scores.

    References:
        Fisher RA (1935). The Design of Experiments, section 21.
        Phipson B, Smyth GK (2010). Permutation p-values should never be zero. Statistical
        Applications in Genetics and Molecular Biology 9(1):39.
        Dror R, Baumer G, Shlomov S, Reichart R (2018). The hitchhiker's guide to testing
        statistical significance in natural language processing. ACL 2018.
    """
    baseline = _score_vector("x", x)
    candidate = _score_vector("y", y)
    if baseline.shape != candidate.shape:
        raise ValueError(
            f"x and y must have the same length (one score per item for each model), got "
            f"{baseline.size} and {candidate.size}"
        )
    resamples = _validate.count("n_resamples", n_resamples)
    if resamples < 1:
        raise ValueError(f"n_resamples must be at least 1, got {n_resamples!r}")
    seed_value = _validate.count("seed", seed)
    _validate.alternative(alternative)
    n_items = baseline.size
    exact = n_items < 63 and 2**n_items <= resamples
    batch = max(1, min(resamples, _BATCH_ELEMENTS // n_items))
    differences = candidate - baseline
    units = _quantize(differences)
    if n_items == 1:
        # scipy.stats.permutation_test needs two observations; with one item the two sign
        # assignments {d, -d} are enumerated here (the same exact p-value it would give).
        return PermutationTestResult(
            statistic=float(differences[0]),
            pvalue=_single_item_pvalue(int(units[0]), alternative),
            n_items=1,
            n_resamples=2,
            exact=True,
            alternative=alternative,
        )

    def total(signed: np.ndarray, axis: int) -> np.ndarray:
        return np.sum(signed, axis=axis)

    result = _st.permutation_test(
        (units,),
        total,
        permutation_type="samples",  # one sample: flip the sign of each difference
        vectorized=True,
        n_resamples=resamples,
        batch=batch,
        alternative=alternative,
        **{_RNG_KEYWORD: np.random.default_rng(seed_value)},
    )
    return PermutationTestResult(
        statistic=float(np.mean(differences)),
        pvalue=float(min(1.0, result.pvalue)),
        n_items=n_items,
        n_resamples=2**n_items if exact else resamples,
        exact=exact,
        alternative=alternative,
    )


def _single_item_pvalue(unit: int, alternative: str) -> float:
    """Exact p-value over the two sign assignments of a single difference ``unit``."""
    less = 1.0 if unit >= 0 else 0.5  # P(T <= d) for T uniform on {d, -d}
    greater = 1.0 if unit <= 0 else 0.5
    if alternative == "less":
        return less
    if alternative == "greater":
        return greater
    return min(1.0, 2.0 * min(less, greater))


def _quantize(differences: np.ndarray) -> np.ndarray:
    """Map differences to int64 multiples of ``max|d| / 2**32`` so sums compare exactly.

    Floating-point sums of the same differences in another order can differ in the last
    bits (``0.25 - 0.2`` is not ``-(0.35 - 0.4)``), which would break the ties at the
    observed value that a permutation p-value must count. In integer units every sign
    assignment's total is exact. The rounding moves each difference by at most
    ``max|d| / 2**33``, far below any difference that matters for scores.
    """
    scale = float(np.max(np.abs(differences)))
    if scale == 0.0:
        return np.zeros(differences.size, dtype=np.int64)
    return np.rint(differences / scale * _GRID).astype(np.int64)


def _score_vector(name: str, values: ArrayLike) -> np.ndarray:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"{name} must be a 1-D sequence of finite numbers, got {values!r}"
        ) from error
    if array.ndim != 1 or array.size == 0:
        raise ValueError(
            f"{name} must be a non-empty 1-D sequence of per-item scores, got shape {array.shape}"
        )
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name}[{index}] must be a finite number, got {array[index]!r}")
    return array

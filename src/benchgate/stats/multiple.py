"""Multiple-comparison adjustments and Cochran's Q for several models on the same items."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as _st


def _pvalue_vector(pvalues: ArrayLike) -> np.ndarray:
    try:
        array = np.asarray(pvalues, dtype=np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(
            f"pvalues must be a sequence of numbers in [0, 1], got {pvalues!r}"
        ) from error
    if array.ndim != 1:
        raise ValueError(f"pvalues must be one-dimensional, got an array of shape {array.shape}")
    bad = ~np.isfinite(array) | (array < 0.0) | (array > 1.0)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise ValueError(f"pvalues[{index}] must be a number in [0, 1], got {array[index]!r}")
    return array


def holm(pvalues: Sequence[float] | ArrayLike) -> np.ndarray:
    """Holm's step-down adjusted p-values, controlling the family-wise error rate.

    Args:
        pvalues: Raw p-values, a 1-D sequence of numbers in [0, 1] (any length, including 0).

    Returns:
        Float64 array of adjusted p-values of the same length and in the same order as
        given. Reject hypothesis ``i`` at family-wise level ``alpha`` when
        ``adjusted[i] <= alpha``. Each adjusted value is ``>=`` its raw value and ``<= 1``.

    Raises:
        ValueError: If the input is not 1-D or holds a value outside [0, 1] or NaN; the
            message names the position and value.

    Notes:
        With the ``m`` p-values sorted ascending, ``p_(1) <= ... <= p_(m)``, the adjusted
        values are ``max_{j <= i} min(1, (m - j + 1) p_(j))``. Valid under any dependence
        between the tests, and uniformly more powerful than Bonferroni. Equals R's
        ``p.adjust(p, "holm")`` and statsmodels' ``multipletests(p, method="holm")``.

    References:
        Holm S (1979). A simple sequentially rejective multiple test procedure.
        Scandinavian Journal of Statistics 6:65-70.
    """
    p = _pvalue_vector(pvalues)
    m = p.size
    if m == 0:
        return p.copy()
    order = np.argsort(p, kind="stable")
    scaled = (m - np.arange(m)) * p[order]
    adjusted_sorted = np.minimum(np.maximum.accumulate(scaled), 1.0)
    adjusted = np.empty(m, dtype=np.float64)
    adjusted[order] = adjusted_sorted
    return adjusted


def benjamini_hochberg(pvalues: Sequence[float] | ArrayLike) -> np.ndarray:
    """Benjamini-Hochberg adjusted p-values (q-values), controlling the false discovery rate.

    Args:
        pvalues: Raw p-values, a 1-D sequence of numbers in [0, 1] (any length, including 0).

    Returns:
        Float64 array of adjusted p-values, same length and order as given. Rejecting all
        hypotheses with ``adjusted <= q`` keeps the expected share of false rejections at or
        below ``q``.

    Raises:
        ValueError: If the input is not 1-D or holds a value outside [0, 1] or NaN.

    Notes:
        Sorted ascending, ``adjusted_(i) = min_{j >= i} min(1, m p_(j) / j)``. Computed by
        ``scipy.stats.false_discovery_control(method="bh")``. FDR control holds for
        independent or positively dependent (PRDS) tests. Equals R's ``p.adjust(p, "BH")``.

    References:
        Benjamini Y, Hochberg Y (1995). Controlling the false discovery rate: a practical
        and powerful approach to multiple testing. JRSS B 57:289-300.
    """
    p = _pvalue_vector(pvalues)
    if p.size == 0:
        return p.copy()
    return np.asarray(_st.false_discovery_control(p, method="bh"), dtype=np.float64)


@dataclass(frozen=True, slots=True)
class CochransQResult:
    """Outcome of :func:`cochrans_q`.

    Attributes:
        statistic: Cochran's Q (>= 0); 0.0 when no item splits the models.
        df: Degrees of freedom, ``n_models - 1``.
        pvalue: Upper tail of the chi-square(df) distribution at ``statistic``.
        n_items: Number of items (rows).
        n_models: Number of models (columns).
    """

    statistic: float
    df: int
    pvalue: float
    n_items: int
    n_models: int


def cochrans_q(outcomes: ArrayLike) -> CochransQResult:
    """Cochran's Q test that several models have the same accuracy on the same items.

    Args:
        outcomes: Array of shape ``(n_items, n_models)`` of 0/1 (or bool) outcomes, 1 for a
            correct answer; ``n_items >= 1`` and ``n_models >= 2`` (Q with two models is
            McNemar's chi-square without continuity correction).

    Returns:
        A :class:`CochransQResult`.

    Raises:
        ValueError: If ``outcomes`` is not 2-D, has no item or fewer than two models, or
            holds a value other than 0 and 1 (the message names the first offending cell).

    Notes:
        With column (model) totals ``C_j``, row (item) totals ``R_i``, ``T = sum C_j`` and
        ``k`` models::

            Q = (k - 1) (k sum C_j**2 - T**2) / (k T - sum R_i**2)

        and ``Q ~ chi2(k - 1)`` asymptotically under equal accuracy. Items on which every
        model agrees add nothing to either sum. When no item splits the models the
        denominator is 0; we return ``Q = 0`` and ``pvalue = 1`` (statsmodels returns nan).
        The chi-square approximation wants, as a rule of thumb, ``n_items * k >= 24`` items
        that are not all-0 or all-1. Follow a significant Q with pairwise :func:`mcnemar`
        tests adjusted by :func:`holm`.

    References:
        Cochran WG (1950). The comparison of percentages in matched samples. Biometrika
        37:256-266.
    """
    try:
        array = np.asarray(outcomes)
        values = array.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"outcomes must be a 2-D array of 0/1, got {outcomes!r}") from error
    if values.ndim != 2:
        raise ValueError(
            f"outcomes must be 2-D with shape (n_items, n_models), got shape {values.shape}"
        )
    n_items, n_models = values.shape
    if n_items < 1 or n_models < 2:
        raise ValueError(f"outcomes needs at least 1 item and 2 models, got shape {values.shape}")
    bad = ~((values == 0.0) | (values == 1.0))
    if bad.any():
        row, column = (int(i) for i in np.argwhere(bad)[0])
        raise ValueError(
            f"outcomes must hold only 0 and 1, got {array[row, column]!r} at item {row}, "
            f"model {column}"
        )
    column_totals = values.sum(axis=0)
    row_totals = values.sum(axis=1)
    total = column_totals.sum()
    k = n_models
    denominator = k * total - np.sum(row_totals**2)
    if denominator <= 0.0:
        statistic = 0.0
        pvalue = 1.0
    else:
        statistic = float((k - 1) * (k * np.sum(column_totals**2) - total**2) / denominator)
        statistic = max(statistic, 0.0)
        pvalue = float(_st.chi2.sf(statistic, k - 1))
    return CochransQResult(
        statistic=statistic, df=k - 1, pvalue=pvalue, n_items=n_items, n_models=n_models
    )

"""McNemar's test for a baseline and a candidate model scored on the same items.

Table orientation used throughout ``benchgate.stats``::

                              candidate correct   candidate wrong
    baseline correct                 a                   b
    baseline wrong                   c                   d

``b`` counts **regressions** (baseline right, candidate wrong) and ``c`` counts
**improvements** (baseline wrong, candidate right). Only the discordant pairs ``b`` and ``c``
carry information about the difference in accuracy, ``(c - b) / n``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as _st

from benchgate.stats import _validate

METHODS = ("exact", "midp", "asymptotic", "asymptotic_cc")


@dataclass(frozen=True, slots=True)
class McNemarResult:
    """Outcome of :func:`mcnemar`. Every field has one meaning whatever the method.

    Attributes:
        b: Regressions: items the baseline got right and the candidate got wrong.
        c: Improvements: items the baseline got wrong and the candidate got right.
        n_discordant: ``b + c``.
        statistic: The signed McNemar z statistic ``(c - b) / sqrt(b + c)`` (0.0 when
            ``b + c == 0``), the same number for every method. Positive means the candidate
            did better; its square is the classical McNemar chi-square (no continuity
            correction). It describes the data; ``method`` only changes how ``pvalue`` is
            computed.
        pvalue: The p-value in [0, 1] for ``alternative`` under ``method``.
        method: ``"exact"``, ``"midp"``, ``"asymptotic"`` or ``"asymptotic_cc"``.
        alternative: ``"two-sided"``, ``"less"`` (candidate worse than baseline) or
            ``"greater"`` (candidate better).
    """

    b: int
    c: int
    n_discordant: int
    statistic: float
    pvalue: float
    method: str
    alternative: str


def mcnemar(b: int, c: int, method: str = "midp", alternative: str = "two-sided") -> McNemarResult:
    """McNemar's test of equal accuracy for two models scored on the same items.

    Args:
        b: Regressions, a non-negative count (baseline right, candidate wrong).
            Integer-valued floats such as ``3.0`` are accepted.
        c: Improvements, a non-negative count (baseline wrong, candidate right).
        method: How the p-value is computed:

            * ``"midp"`` (default): the McNemar mid-p test (Fagerland, Lydersen & Laake 2013),
              recommended by them for all sample sizes.
            * ``"exact"``: the exact conditional (binomial) test; conservative.
            * ``"asymptotic"``: the normal / chi-square approximation (McNemar 1947).
            * ``"asymptotic_cc"``: the same with Edwards' continuity correction (1948).
        alternative: Hypothesis about candidate-minus-baseline accuracy, in scipy's words:
            ``"two-sided"`` (differs), ``"less"`` (the candidate is worse: evidence is
            ``b > c``) or ``"greater"`` (the candidate is better: evidence is ``c > b``).

    Returns:
        A :class:`McNemarResult`.

    Raises:
        ValueError: If ``b`` or ``c`` is not a non-negative whole number, or ``method`` or
            ``alternative`` is not one of the allowed strings.

    Notes:
        Conditional on ``m = b + c`` discordant pairs, under the null hypothesis of equal
        accuracy ``C ~ Binomial(m, 1/2)``. With ``F``/``f`` its cdf/pmf and ``k = min(b, c)``:

        * exact: less ``F(c)``, greater ``P(C >= c)``, two-sided ``min(1, 2 F(k))``.
        * mid-p: less ``F(c - 1) + f(c) / 2``, greater ``P(C > c) + f(c) / 2``, two-sided
          ``2 F(k) - f(k)`` when ``b != c`` and ``1 - f(k) / 2`` when ``b == c`` (the
          formulas of Fagerland et al.'s supplementary material).
        * asymptotic: ``z = (c - b) / sqrt(m)``; less ``Phi(z)``, greater ``1 - Phi(z)``,
          two-sided ``P(chi2_1 >= z**2)``.
        * asymptotic_cc: less ``Phi((c - b + 1) / sqrt(m))``, greater
          ``1 - Phi((c - b - 1) / sqrt(m))``, two-sided ``min(1, 2 min(less, greater))``,
          which equals ``P(chi2_1 >= (|b - c| - 1)**2 / m)`` for ``b != c`` (as R's
          ``mcnemar.test``) and is 1 for ``b == c`` (R gives ``P(chi2_1 >= 1/m) < 1``
          there, an artefact of not clamping the correction at zero).

        With no discordant pairs (``b == c == 0``) the data say nothing about the
        difference, and every method and alternative returns ``pvalue = 1.0``.

        Size: the exact conditional test never exceeds ``alpha`` (it is conservative); the
        mid-p test does not guarantee it but stays close. Its exact unconditional size at
        ``alpha = 0.05`` is at most 0.0502 one-sided and 0.0500 two-sided for runs of 10 to
        300 items with discordance up to 0.5 (``tests/stats/test_monte_carlo.py``); only in
        the unrealistic case where every item is discordant does it reach 0.06-0.065, as
        any mid-p test does for a fixed binomial sample.

        Assumptions: items are independent; each item is scored for both models.

    References:
        McNemar Q (1947). Note on the sampling error of the difference between correlated
        proportions or percentages. Psychometrika 12:153-157.
        Edwards AL (1948). Note on the "correction for continuity" in testing the
        significance of the difference between correlated proportions. Psychometrika 13.
        Fagerland MW, Lydersen S, Laake P (2013). The McNemar test for binary matched-pairs
        data: mid-p and asymptotic are better than exact conditional. BMC Medical Research
        Methodology 13:91. doi:10.1186/1471-2288-13-91
    """
    b_count = _validate.count("b", b)
    c_count = _validate.count("c", c)
    check_method(method)
    _validate.alternative(alternative)
    m = b_count + c_count
    statistic = 0.0 if m == 0 else (c_count - b_count) / math.sqrt(m)
    pvalue = float(mcnemar_pvalues(b_count, c_count, method, alternative))
    return McNemarResult(
        b=b_count,
        c=c_count,
        n_discordant=m,
        statistic=float(statistic),
        pvalue=pvalue,
        method=method,
        alternative=alternative,
    )


def check_method(method: object) -> str:
    """Return ``method`` when it is one of :data:`METHODS`.

    Raises:
        ValueError: ``method`` is not a known McNemar method name.
    """
    if not isinstance(method, str) or method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    return method


def mcnemar_pvalues(
    b: np.ndarray | int, c: np.ndarray | int, method: str, alternative: str
) -> np.ndarray:
    """Vectorised McNemar p-values for arrays of already-validated counts.

    This is the engine behind :func:`mcnemar`, exposed for simulation and power
    calculations that need many p-values at once. It does not validate its inputs beyond
    ``method`` and ``alternative``.

    Args:
        b: Regression counts, any shape, non-negative integers.
        c: Improvement counts, broadcastable against ``b``.
        method: As in :func:`mcnemar`.
        alternative: As in :func:`mcnemar`.

    Returns:
        Float64 array of p-values in [0, 1] with the broadcast shape of ``b`` and ``c``.

    Raises:
        ValueError: If ``method`` or ``alternative`` is not allowed.
    """
    check_method(method)
    _validate.alternative(alternative)
    b_arr, c_arr = np.broadcast_arrays(
        np.asarray(b, dtype=np.float64), np.asarray(c, dtype=np.float64)
    )
    m = b_arr + c_arr
    empty = m == 0
    # Work on m >= 1 everywhere; the m == 0 entries are overwritten with 1 at the end.
    m_safe = np.where(empty, 1.0, m)
    c_safe = np.where(empty, 0.0, c_arr)
    b_safe = m_safe - c_safe

    with np.errstate(divide="ignore", invalid="ignore"):
        if method in ("exact", "midp"):
            p = _binomial_pvalues(b_safe, c_safe, m_safe, method, alternative)
        else:
            p = _normal_pvalues(b_safe, c_safe, m_safe, method, alternative)
    p = np.clip(p, 0.0, 1.0)
    return np.where(empty, 1.0, p)


def _binomial_pvalues(
    b: np.ndarray, c: np.ndarray, m: np.ndarray, method: str, alternative: str
) -> np.ndarray:
    binom = _st.binom
    if alternative == "less":
        if method == "exact":
            return binom.cdf(c, m, 0.5)
        return binom.cdf(c - 1, m, 0.5) + 0.5 * binom.pmf(c, m, 0.5)
    if alternative == "greater":
        if method == "exact":
            return binom.sf(c - 1, m, 0.5)
        return binom.sf(c, m, 0.5) + 0.5 * binom.pmf(c, m, 0.5)
    k = np.minimum(b, c)
    if method == "exact":
        return np.minimum(1.0, 2.0 * binom.cdf(k, m, 0.5))
    pmf_k = binom.pmf(k, m, 0.5)
    tails = 2.0 * binom.cdf(k - 1, m, 0.5) + pmf_k
    return np.where(b == c, 1.0 - 0.5 * pmf_k, tails)


def _normal_pvalues(
    b: np.ndarray, c: np.ndarray, m: np.ndarray, method: str, alternative: str
) -> np.ndarray:
    norm = _st.norm
    root = np.sqrt(m)
    if method == "asymptotic":
        z = (c - b) / root
        if alternative == "less":
            return norm.cdf(z)
        if alternative == "greater":
            return norm.sf(z)
        return _st.chi2.sf(z * z, 1)
    less = norm.cdf((c - b + 1.0) / root)
    greater = norm.sf((c - b - 1.0) / root)
    if alternative == "less":
        return less
    if alternative == "greater":
        return greater
    corrected = np.maximum(np.abs(b - c) - 1.0, 0.0)
    return np.where(b == c, 1.0, _st.chi2.sf(corrected * corrected / m, 1))

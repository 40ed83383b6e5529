"""Confidence intervals for an accuracy and for a paired difference in accuracy.

Orientation as in :mod:`benchgate.stats.mcnemar`: ``b`` = regressions (baseline right,
candidate wrong), ``c`` = improvements (baseline wrong, candidate right), ``n`` = items scored
for both models.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize as _opt
from scipy import stats as _st

from benchgate.stats import _validate


@dataclass(frozen=True, slots=True)
class IntervalEstimate:
    """A point estimate with a two-sided confidence interval.

    Attributes:
        estimate: The point estimate (units depend on the function: a proportion, a
            difference of proportions, or an odds ratio). May be ``nan`` where the function
            documents it (an odds ratio with no discordant pairs).
        lower: Lower confidence limit (``lower <= estimate`` whenever the estimate is defined).
        upper: Upper confidence limit (``upper >= estimate``); may be ``inf`` for an odds
            ratio.
        confidence: The nominal coverage, e.g. ``0.95``.
        method: Name of the interval method, e.g. ``"wilson"``.
    """

    estimate: float
    lower: float
    upper: float
    confidence: float
    method: str


def wilson_interval(successes: int, n: int, confidence: float = 0.95) -> IntervalEstimate:
    """Wilson score interval for one binomial proportion, e.g. a model's accuracy.

    Args:
        successes: Number of items answered correctly, ``0 <= successes <= n``.
        n: Number of items scored, ``n >= 1``.
        confidence: Two-sided confidence level in (0, 1).

    Returns:
        An :class:`IntervalEstimate` with ``estimate = successes / n`` and the Wilson limits,
        always inside [0, 1]; ``method = "wilson"``.

    Raises:
        ValueError: If a count is not a non-negative whole number, ``successes > n``,
            ``n == 0``, or ``confidence`` is outside (0, 1).

    Notes:
        With ``z`` the ``(1 + confidence) / 2`` normal quantile and ``p = successes / n``::

            centre = (p + z**2 / (2 n)) / (1 + z**2 / n)
            half   = z / (1 + z**2 / n) * sqrt(p (1 - p) / n + z**2 / (4 n**2))

        It inverts the score test and keeps close to nominal coverage for small ``n`` and
        proportions near 0 or 1, where the Wald interval fails (Brown, Cai & DasGupta 2001).
        It equals R's ``prop.test(x, n, correct = FALSE)$conf.int``. Assumes the items are
        independent draws with a common success probability.

    References:
        Wilson EB (1927). Probable inference, the law of succession, and statistical
        inference. JASA 22:209-212.
        Brown LD, Cai TT, DasGupta A (2001). Interval estimation for a binomial proportion.
        Statistical Science 16:101-133.
    """
    x = _validate.count("successes", successes)
    size = _validate.count("n", n)
    level = _validate.confidence(confidence)
    if size == 0:
        raise ValueError("n must be at least 1 for an interval of a proportion, got 0")
    if x > size:
        raise ValueError(f"successes must not exceed n, got successes={x} and n={size}")
    z = float(_st.norm.isf((1.0 - level) / 2.0))
    z2 = z * z
    p = x / size
    denominator = 1.0 + z2 / size
    centre = (p + z2 / (2.0 * size)) / denominator
    half = z / denominator * math.sqrt(p * (1.0 - p) / size + z2 / (4.0 * size * size))
    lower = 0.0 if x == 0 else max(0.0, centre - half)
    upper = 1.0 if x == size else min(1.0, centre + half)
    return IntervalEstimate(estimate=p, lower=lower, upper=upper, confidence=level, method="wilson")


def paired_accuracy_difference(
    b: int, c: int, n: int, confidence: float = 0.95
) -> IntervalEstimate:
    """Candidate-minus-baseline accuracy on the same items, with Tango's score interval.

    Args:
        b: Regressions (baseline right, candidate wrong), a non-negative count.
        c: Improvements (baseline wrong, candidate right), a non-negative count.
        n: Items scored for both models, ``n >= 1`` and ``n >= b + c``.
        confidence: Two-sided confidence level in (0, 1).

    Returns:
        An :class:`IntervalEstimate` with ``estimate = (c - b) / n`` in [-1, 1] (negative:
        the candidate is less accurate) and Tango's asymptotic score interval, always inside
        [-1, 1]; ``method = "tango_score"``.

    Raises:
        ValueError: If a count is not a non-negative whole number, ``n == 0``,
            ``b + c > n``, or ``confidence`` is outside (0, 1).

    Notes:
        Tango's interval inverts the score test of ``H0: delta = d`` for the difference of
        paired proportions ``delta = p_candidate - p_baseline``. Its statistic needs only
        the discordant counts and ``n``::

            T(d) = (c - b - n d) / sqrt(n (2 q(d) + d (1 - d)))

        where ``q(d)`` is the maximum-likelihood estimate of P(regression) under ``H0``,
        the root ``(sqrt(B**2 - 4 A C) - B) / (2 A)`` of ``A q**2 + B q + C = 0`` with
        ``A = 2n``, ``B = -b - c + (2n - c + b) d`` and ``C = -b d (1 - d)``. The interval is
        ``{d : |T(d)| <= z}``; its limits are found with Brent's method. Fagerland,
        Lydersen & Laake (2014) recommend it for paired proportions of any sample size: it
        does not collapse to a point when ``b = c = 0`` and stays inside [-1, 1].
        Newcombe's hybrid score interval would need the concordant cells ``a`` and ``d``
        separately, which this signature does not carry. Assumes independent items.

    References:
        Tango T (1998). Equivalence test and confidence interval for the difference in
        proportions for the paired-sample design. Statistics in Medicine 17:891-908.
        Tango T (1999). Improved confidence intervals for the difference between binomial
        proportions based on paired data (letter). Statistics in Medicine 18:3511-3513.
        Fagerland MW, Lydersen S, Laake P (2014). Recommended tests and confidence intervals
        for paired binomial proportions. Statistics in Medicine 33:2850-2875.
    """
    regress = _validate.count("b", b)
    improve = _validate.count("c", c)
    size = _validate.count("n", n)
    level = _validate.confidence(confidence)
    if size == 0:
        raise ValueError("n must be at least 1 for a paired accuracy difference, got 0")
    if regress + improve > size:
        raise ValueError(
            f"b + c must not exceed n (discordant pairs are a subset of the items), "
            f"got b={regress}, c={improve}, n={size}"
        )
    z = float(_st.norm.isf((1.0 - level) / 2.0))
    estimate = (improve - regress) / size

    def score(d: float) -> float:
        return _tango_statistic(regress, improve, size, d)

    # T(d) decreases from +inf (d -> -1) through 0 (d = estimate) to -inf (d -> 1), except
    # when the estimate sits at a bound itself.
    edge = 1.0 - 1e-15
    if estimate <= -1.0:
        lower = -1.0
    elif score(-edge) <= z:
        lower = -1.0
    else:
        lower = _opt.brentq(lambda d: score(d) - z, -edge, estimate, xtol=1e-15)
    if estimate >= 1.0:
        upper = 1.0
    elif score(edge) >= -z:
        upper = 1.0
    else:
        upper = _opt.brentq(lambda d: score(d) + z, estimate, edge, xtol=1e-15)
    return IntervalEstimate(
        estimate=estimate,
        lower=float(max(-1.0, min(lower, estimate))),
        upper=float(min(1.0, max(upper, estimate))),
        confidence=level,
        method="tango_score",
    )


def _tango_statistic(b: int, c: int, n: int, d: float) -> float:
    """Tango's score statistic T(d) for H0: p_candidate - p_baseline = d (see above)."""
    a_coef = 2.0 * n
    b_coef = -b - c + (2.0 * n - c + b) * d
    c_coef = -b * d * (1.0 - d)
    discriminant = max(b_coef * b_coef - 4.0 * a_coef * c_coef, 0.0)
    root = math.sqrt(discriminant)
    # Numerically stable form of (root - B) / (2A) when B > 0.
    if b_coef > 0.0:
        q = -2.0 * c_coef / (root + b_coef) if root + b_coef > 0.0 else 0.0
    else:
        q = (root - b_coef) / (2.0 * a_coef)
    # q = P(regression) under H0 must satisfy q >= 0, q + d >= 0 and 2q + d <= 1.
    q = min(max(q, 0.0, -d), (1.0 - d) / 2.0)
    variance = n * (2.0 * q + d * (1.0 - d))
    numerator = c - b - n * d
    if variance <= 0.0:
        if numerator == 0.0:
            return 0.0
        return math.copysign(math.inf, numerator)
    return numerator / math.sqrt(variance)

"""Effect sizes for a paired baseline/candidate comparison built on the discordant pairs.

Orientation as in :mod:`benchgate.stats.mcnemar`: ``b`` = regressions (baseline right,
candidate wrong), ``c`` = improvements (baseline wrong, candidate right).
"""

from __future__ import annotations

import math

from scipy import stats as _st

from benchgate.stats import _validate
from benchgate.stats.intervals import IntervalEstimate


def conditional_odds_ratio(b: int, c: int, confidence: float = 0.95) -> IntervalEstimate:
    """Conditional (McNemar) odds ratio ``c / b`` with its exact conditional interval.

    Args:
        b: Regressions, a non-negative count.
        c: Improvements, a non-negative count.
        confidence: Two-sided confidence level in (0, 1).

    Returns:
        An :class:`IntervalEstimate` with ``estimate = c / b``: above 1 the candidate tends
        to fix items the baseline fails more often than it breaks items the baseline gets
        right, below 1 the reverse. ``method = "exact_conditional"``. Edge cases:
        ``b = 0 < c`` gives ``estimate = inf``; ``c = 0 < b`` gives ``estimate = 0``;
        ``b = c = 0`` gives ``estimate = nan`` with the uninformative interval ``(0, inf)``.

    Raises:
        ValueError: If a count is not a non-negative whole number or ``confidence`` is
            outside (0, 1).

    Notes:
        Conditional on ``m = b + c``, ``c ~ Binomial(m, pi)`` with ``pi = psi / (1 + psi)``,
        where ``psi`` is the subject-specific odds ratio of the matched-pairs logistic model.
        The Clopper-Pearson limits for ``pi``, ``pi_L = Beta^-1(alpha/2; c, b + 1)`` and
        ``pi_U = Beta^-1(1 - alpha/2; c + 1, b)``, map to ``psi = pi / (1 - pi)``; the
        complement ``1 - pi`` is taken from the mirrored beta quantile so the limits keep
        full precision. This is the interval of R's ``exact2x2::mcnemar.exact`` and of
        ``binom.test(c, b + c)`` transformed. It guarantees at least nominal coverage.

    References:
        Breslow NE, Day NE (1980). Statistical Methods in Cancer Research, Vol. 1, IARC,
        section 7.2 (matched pairs).
        Clopper CJ, Pearson ES (1934). The use of confidence or fiducial limits illustrated
        in the case of the binomial. Biometrika 26:404-413.
        Fay MP (2010). Two-sided exact tests and matching confidence intervals for discrete
        data. R Journal 2(1):53-58.
    """
    regress = _validate.count("b", b)
    improve = _validate.count("c", c)
    level = _validate.confidence(confidence)
    alpha = 1.0 - level
    method = "exact_conditional"
    if regress == 0 and improve == 0:
        return IntervalEstimate(
            estimate=math.nan, lower=0.0, upper=math.inf, confidence=level, method=method
        )
    estimate = math.inf if regress == 0 else improve / regress
    beta = _st.beta
    if improve == 0:
        lower = 0.0
    else:
        # pi_L / (1 - pi_L), with 1 - Beta^-1(q; c, b + 1) = Beta^-1(1 - q; b + 1, c).
        lower = float(
            beta.ppf(alpha / 2.0, improve, regress + 1)
            / beta.isf(alpha / 2.0, regress + 1, improve)
        )
    if regress == 0:
        upper = math.inf
    else:
        upper = float(
            beta.isf(alpha / 2.0, improve + 1, regress)
            / beta.ppf(alpha / 2.0, regress, improve + 1)
        )
    return IntervalEstimate(
        estimate=float(estimate), lower=lower, upper=upper, confidence=level, method=method
    )


def cohens_g(b: int, c: int) -> float:
    """Cohen's g: how far the split of the discordant pairs is from an even split.

    Args:
        b: Regressions, a non-negative count.
        c: Improvements, a non-negative count.

    Returns:
        ``g = |c / (b + c) - 1/2| = |c - b| / (2 (b + c))`` in [0, 0.5]; 0.0 when
        ``b = c = 0`` (no discordant pair, no effect). It has no sign: read the direction
        from ``c - b`` (or from :func:`benchgate.stats.paired_accuracy_difference`).

    Raises:
        ValueError: If a count is not a non-negative whole number.

    Notes:
        Cohen's conventional benchmarks are 0.05 (small), 0.15 (medium) and 0.25 (large).
        ``g`` measures the direction of disagreement only among the items where the two
        models disagree; it says nothing about how many such items there are, so report it
        beside the accuracy difference, whose size depends on ``(b + c) / n`` too.

    References:
        Cohen J (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed.,
        chapter 5 (tests for P = .50 and the sign test; effect size g).
    """
    regress = _validate.count("b", b)
    improve = _validate.count("c", c)
    total = regress + improve
    if total == 0:
        return 0.0
    # |c / (b + c) - 1/2| written so that swapping b and c gives the identical float.
    return abs(improve - regress) / (2.0 * total)

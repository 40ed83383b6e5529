"""Power of McNemar's test and the smallest accuracy drop a run of ``n`` items can detect.

The gate uses these to call a comparison *inconclusive* rather than *no regression* when the
run is too small to have caught a drop that matters.

Model: each of the ``n`` items independently falls into one of three classes: regression
(probability ``p_regress``: baseline right, candidate wrong), improvement (``p_improve``:
baseline wrong, candidate right) or concordant (the rest). The true accuracy difference,
candidate minus baseline, is ``p_improve - p_regress`` and the discordance rate is
``p_regress + p_improve``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from scipy import optimize as _opt
from scipy import stats as _st

from benchgate.stats import _validate
from benchgate.stats.mcnemar import check_method, mcnemar_pvalues

# Discordant counts m outside the central binomial range holding all but this much
# probability are skipped: the power changes by less than 2 * _TAIL_MASS.
_TAIL_MASS = 1e-15


@functools.lru_cache(maxsize=64)
def _critical_counts(
    m_low: int, m_high: int, alpha: float, method: str, alternative: str
) -> np.ndarray:
    """For each number of discordant pairs m = m_low..m_high, the largest rejecting count.

    For ``"less"`` (and ``"greater"``, by the b/c mirror symmetry of every method) it is the
    largest ``c`` in ``[0, m]`` with ``p_less(b = m - c, c) <= alpha``; for ``"two-sided"``
    the largest ``c`` in ``[0, floor(m / 2)]`` with ``p_two(m - c, c) <= alpha``; ``-1`` when
    no count rejects. Found by a bisection vectorised over all ``m`` at once (the p-values
    are monotone in ``c`` on those ranges).
    """
    m = np.arange(m_low, m_high + 1, dtype=np.int64)
    side = "less" if alternative in ("less", "greater") else "two-sided"
    top = m if side == "less" else m // 2
    lo = np.full(m.size, -1, dtype=np.int64)  # p(lo) <= alpha, or lo == -1
    hi = top + 1  # p(hi) > alpha, or hi past the range
    while True:
        active = hi - lo > 1
        if not active.any():
            break
        mid = np.where(active, (lo + hi) // 2, 0)
        p = mcnemar_pvalues(m - mid, mid, method, side)
        rejects = p <= alpha
        lo = np.where(active & rejects, mid, lo)
        hi = np.where(active & ~rejects, mid, hi)
    lo.setflags(write=False)
    return lo


def _power(
    n: int, p_regress: float, p_improve: float, alpha: float, method: str, alternative: str
) -> float:
    discordance = p_regress + p_improve
    if n == 0 or discordance <= 0.0:
        return 0.0
    discordance = min(discordance, 1.0)
    m_low = max(0, int(_st.binom.ppf(_TAIL_MASS, n, discordance)) - 1)
    m_high = min(n, int(_st.binom.isf(_TAIL_MASS, n, discordance)) + 1)
    k = _critical_counts(m_low, m_high, alpha, method, alternative)
    m = np.arange(m_low, m_high + 1)
    weight = _st.binom.pmf(m, n, discordance)
    share_improve = min(max(p_improve / discordance, 0.0), 1.0)
    if alternative == "less":
        conditional = _st.binom.cdf(k, m, share_improve)
    elif alternative == "greater":
        conditional = _st.binom.sf(m - k - 1, m, share_improve)
    else:
        upper_start = np.maximum(m - k, k + 1)
        conditional = _st.binom.cdf(k, m, share_improve) + _st.binom.sf(
            upper_start - 1, m, share_improve
        )
    return float(min(1.0, max(0.0, np.sum(weight * conditional))))


def mcnemar_power(
    n: int,
    p_regress: float,
    p_improve: float,
    alpha: float = 0.05,
    method: str = "midp",
    alternative: str = "less",
) -> float:
    """Exact power of :func:`benchgate.stats.mcnemar` for a run of ``n`` items.

    Args:
        n: Number of items scored for both models, a non-negative count.
        p_regress: True probability that an item is a regression (baseline right,
            candidate wrong), in [0, 1].
        p_improve: True probability that an item is an improvement, in [0, 1];
            ``p_regress + p_improve <= 1``.
        alpha: Significance level in (0, 1).
        method: McNemar method, as in :func:`benchgate.stats.mcnemar`.
        alternative: ``"less"`` (default: one-sided, the candidate is worse, as the gate
            tests), ``"greater"`` or ``"two-sided"``. Note that :func:`mcnemar` itself
            defaults to ``"two-sided"``.

    Returns:
        The probability in [0, 1] that ``mcnemar(b, c, method, alternative).pvalue <= alpha``
        when ``(b, c, n - b - c)`` is drawn from ``Multinomial(n, (p_regress, p_improve,
        1 - p_regress - p_improve))``. 0.0 when ``n == 0`` or there can be no discordant
        pair.

    Raises:
        ValueError: For a bad count, a probability outside [0, 1], ``p_regress + p_improve
            > 1``, ``alpha`` outside (0, 1), or an unknown method or alternative.

    Notes:
        Exact, not a normal approximation: conditional on ``m = b + c`` discordant pairs
        (``m ~ Binomial(n, p_regress + p_improve)``), ``c ~ Binomial(m, p_improve /
        (p_regress + p_improve))`` and the test rejects on a tail ``c <= k_m`` (one-sided
        "less"), so::

            power = sum_m P(M = m) P(C <= k_m | m)

        with two tails for "two-sided". The sum skips the values of ``m`` outside the
        central range holding all but 1e-15 of their probability; ``k_m`` is found by a
        vectorised bisection and cached. Cost is O(sqrt(n) log n): milliseconds for
        ``n = 1e6``.
        This is the unconditional power studied by Fagerland et al. (2013) and, in
        normal-approximation form, by Connor (1987).

    References:
        Fagerland MW, Lydersen S, Laake P (2013). BMC Med Res Methodol 13:91.
        Connor RJ (1987). Sample size for testing differences in proportions for the
        paired-sample design. Biometrics 43:207-211.
    """
    size = _validate.count("n", n)
    regress = _validate.probability("p_regress", p_regress, open_low=False, open_high=False)
    improve = _validate.probability("p_improve", p_improve, open_low=False, open_high=False)
    if regress + improve > 1.0 + 1e-12:
        raise ValueError(
            f"p_regress + p_improve must not exceed 1, got p_regress={regress!r} and "
            f"p_improve={improve!r}"
        )
    level = _validate.probability("alpha", alpha, open_low=True, open_high=True)
    check_method(method)
    _validate.alternative(alternative)
    return _power(size, regress, improve, level, method, alternative)


def minimum_detectable_difference(
    n: int,
    discordance_rate: float,
    alpha: float = 0.05,
    power: float = 0.8,
    method: str = "midp",
    alternative: str = "less",
) -> float:
    """Smallest true accuracy drop that a run of ``n`` items detects with the given power.

    Args:
        n: Number of items scored for both models, a non-negative count. Small runs
            (``n = 0``, ``n = 5``) are legitimate and never raise.
        discordance_rate: Assumed share of items on which the two models disagree,
            ``p_regress + p_improve``, in [0, 1]. In practice the observed ``(b + c) / n``
            of the run, or a prior figure for the pair of models.
        alpha: Significance level of the test, in (0, 1).
        power: Target power, in (0, 1); 0.8 is conventional.
        method: McNemar method, as in :func:`benchgate.stats.mcnemar`; default mid-p.
        alternative: ``"less"`` (default): the one-sided test for a regression that the
            gate runs, ``mcnemar(b, c, method="midp", alternative="less")``. With
            ``"two-sided"`` the drop is found for the two-sided test (a larger value at the
            same ``alpha``); with ``"greater"`` the value is the smallest detectable
            *improvement*.

    Returns:
        The smallest ``delta = p_regress - p_improve`` (a fraction of items, e.g. 0.03 for
        three points of accuracy) in ``[0, discordance_rate]`` at which
        :func:`mcnemar_power` reaches ``power``. ``math.inf`` when no drop is detectable:
        ``n == 0``, ``discordance_rate == 0``, or even "every discordant item is a
        regression" (``delta = discordance_rate``) falls short of ``power``. ``0.0`` only
        in the degenerate case where the test already rejects that often with no drop.

    Raises:
        ValueError: For a bad count, ``discordance_rate`` outside [0, 1], ``alpha`` or
            ``power`` outside (0, 1), or an unknown method or alternative.

    Notes:
        Assumption about the discordance rate: it is held **fixed** while the drop varies,
        so ``p_regress = (rate + delta) / 2`` and ``p_improve = (rate - delta) / 2``. A
        drop can never exceed the discordance rate, hence the ``inf`` above. Holding the
        observed rate fixed is the usual planning assumption (Connor 1987); when the rate
        is itself uncertain, an upper estimate of it gives a conservative (larger) answer,
        since power at a fixed drop falls as discordance grows. The power is exact (see
        :func:`mcnemar_power`) and increases monotonically in ``delta`` at fixed rate; the
        root is found with Brent's method to about 1e-10.

    References:
        Connor RJ (1987). Sample size for testing differences in proportions for the
        paired-sample design. Biometrics 43:207-211.
        Fagerland MW, Lydersen S, Laake P (2013). BMC Med Res Methodol 13:91.
    """
    size = _validate.count("n", n)
    rate = _validate.probability(
        "discordance_rate", discordance_rate, open_low=False, open_high=False
    )
    level = _validate.probability("alpha", alpha, open_low=True, open_high=True)
    target = _validate.probability("power", power, open_low=True, open_high=True)
    check_method(method)
    _validate.alternative(alternative)
    if size == 0 or rate == 0.0:
        return math.inf

    def power_at(delta: float) -> float:
        if alternative == "greater":
            regress, improve = (rate - delta) / 2.0, (rate + delta) / 2.0
        else:
            regress, improve = (rate + delta) / 2.0, (rate - delta) / 2.0
        return _power(size, regress, improve, level, method, alternative)

    if power_at(rate) < target:
        return math.inf
    if power_at(0.0) >= target:
        return 0.0
    return float(_opt.brentq(lambda d: power_at(d) - target, 0.0, rate, xtol=1e-12))

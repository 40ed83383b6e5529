"""A/A noise floor: how often one model disagrees with itself, and what that predicts.

An A/A run scores the same model twice (another batch order, another sampling seed). Items
it gets right once and wrong once are *flips* from engine noise alone; their share of the
items is the A/A discordance rate. Orientation as in :mod:`benchgate.stats.mcnemar`: ``b``
= right in the first run and wrong in the second, ``c`` = the reverse; flips = ``b + c``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from benchgate.stats import _validate
from benchgate.stats.intervals import IntervalEstimate, wilson_interval


def discordance_rate(b: int, c: int, n: int, confidence: float = 0.95) -> IntervalEstimate:
    """Share of items on which two runs disagree, ``(b + c) / n``, with its Wilson interval.

    Args:
        b: Items right in the first run and wrong in the second, a non-negative count.
        c: Items wrong in the first run and right in the second.
        n: Items scored in both runs, ``n >= 1`` and ``n >= b + c``.
        confidence: Two-sided confidence level in (0, 1).

    Returns:
        An :class:`IntervalEstimate` of the discordance rate in [0, 1] (``method =
        "wilson"``). For an A/A pair this is the noise floor's flip rate.

    Raises:
        ValueError: If a count is not a non-negative whole number, ``n == 0``, ``b + c >
            n``, or ``confidence`` is outside (0, 1).

    Notes:
        The Wilson score interval of the binomial proportion ``(b + c) / n``
        (:func:`benchgate.stats.wilson_interval`); with no flip at all its upper limit is
        about ``z**2 / (n + z**2)`` (0.0038 for ``n = 1000`` at 95%), not 0. Assumes items
        flip independently with a common probability.

    References:
        Wilson EB (1927). JASA 22:209-212.
    """
    regress = _validate.count("b", b)
    improve = _validate.count("c", c)
    size = _validate.count("n", n)
    if size == 0:
        raise ValueError("n must be at least 1 for a discordance rate, got 0")
    if regress + improve > size:
        raise ValueError(
            f"b + c must not exceed n (discordant items are a subset of the items), got "
            f"b={regress}, c={improve}, n={size}"
        )
    return wilson_interval(regress + improve, size, confidence)


@dataclass(frozen=True, slots=True)
class NoiseFlips:
    """Outcome of :func:`noise_flips`: a comparison's flips against the A/A noise floor.

    Attributes:
        n: Items in the comparison.
        observed: Flips observed in the comparison, its ``b + c``.
        aa_rate: The A/A discordance rate with its Wilson interval.
        expected: Flips expected from noise alone, ``n * aa_discordant / aa_n`` (a count,
            may be fractional).
        lower: Lower end of the prediction interval for flips from noise alone (a count).
        upper: Upper end of that interval; ``observed > upper`` means the two models
            disagree on more items than engine noise explains.
        pvalue: Probability that noise alone gives at least ``observed`` flips (one-sided,
            under the predictive distribution below).
        confidence: Level of the intervals.
        method: ``"beta_binomial_jeffreys"``.
    """

    n: int
    observed: int
    aa_rate: IntervalEstimate
    expected: float
    lower: int
    upper: int
    pvalue: float
    confidence: float
    method: str


def noise_flips(
    aa_discordant: int,
    aa_n: int,
    discordant: int,
    n: int,
    *,
    confidence: float = 0.95,
) -> NoiseFlips:
    """How many flips a comparison of ``n`` items would show from A/A noise alone.

    Args:
        aa_discordant: Flips in the A/A run, its ``b + c``, a non-negative count.
        aa_n: Items scored in both A/A runs, ``aa_n >= 1`` and ``aa_n >= aa_discordant``.
        discordant: Flips observed in the comparison being read, its ``b + c``.
        n: Items in that comparison, ``n >= 1`` and ``n >= discordant``.
        confidence: Level of the prediction and A/A intervals, in (0, 1).

    Returns:
        A :class:`NoiseFlips`.

    Raises:
        ValueError: If a count is not a non-negative whole number, ``aa_n`` or ``n`` is 0,
            a discordant count exceeds its item count, or ``confidence`` is outside (0, 1).

    Notes:
        Model: in a comparison with no real difference beyond engine noise, each of its
        ``n`` items flips independently with the A/A flip probability ``r``. ``r`` is not
        known exactly but estimated from ``aa_discordant`` flips in ``aa_n`` items, so
        its uncertainty is carried through: with Jeffreys' prior, ``r | A/A ~
        Beta(aa_discordant + 1/2, aa_n - aa_discordant + 1/2)``, and the noise flips of
        the comparison follow the beta-binomial predictive distribution ``X ~
        BetaBinomial(n, aa_discordant + 1/2, aa_n - aa_discordant + 1/2)``. The
        prediction interval is its equal-tailed ``[(1 - confidence) / 2, (1 +
        confidence) / 2]`` quantiles (the smallest ``x`` with ``P(X <= x) >= q``) and
        ``pvalue = P(X >= discordant)``. Unlike plugging in ``r = aa_discordant / aa_n``,
        this gives a non-degenerate interval when the A/A run had no flip (common on CPU,
        where engines are deterministic).

        How to read it: flips from noise are symmetric (as likely to be regressions as
        improvements), so they widen McNemar's test rather than bias it; the McNemar
        p-value already accounts for them. This comparison says whether two models differ
        on more items than the engine's own noise, and how many of the observed flips
        noise could account for. It assumes the A/A pair was run as the comparison was
        (same engine, batch sizes, sampling settings) and that noise flips and real
        disagreements do not interact.

    References:
        Jeffreys H (1946). An invariant form for the prior probability in estimation
        problems. Proc. R. Soc. A 186:453-461.
        Gelman A, Carlin JB, Stern HS, Dunson DB, Vehtari A, Rubin DB (2013). Bayesian Data
        Analysis, 3rd ed., section 2.4 and 5.3 (beta-binomial predictive distribution).
        Wilson EB (1927). JASA 22:209-212.
    """
    from scipy import stats as st

    aa_flips = _validate.count("aa_discordant", aa_discordant)
    aa_items = _validate.count("aa_n", aa_n)
    flips = _validate.count("discordant", discordant)
    items = _validate.count("n", n)
    level = _validate.confidence(confidence)
    if aa_items == 0:
        raise ValueError("aa_n must be at least 1 (items scored in both A/A runs), got 0")
    if aa_flips > aa_items:
        raise ValueError(
            f"aa_discordant must not exceed aa_n, got aa_discordant={aa_flips}, aa_n={aa_items}"
        )
    if items == 0:
        raise ValueError("n must be at least 1 (items in the comparison), got 0")
    if flips > items:
        raise ValueError(f"discordant must not exceed n, got discordant={flips}, n={items}")
    # The whole predictive pmf over 0..n: quantiles from its running sum, the p-value as the
    # upper tail summed term by term (scipy's sf is 1 - cdf, which loses the relative
    # precision of a small p-value: 1e-7 relative at p ~ 2e-7).
    pmf = st.betabinom.pmf(np.arange(items + 1), items, aa_flips + 0.5, aa_items - aa_flips + 0.5)
    cdf = np.cumsum(pmf)
    tail = (1.0 - level) / 2.0
    lower = min(int(np.searchsorted(cdf, tail, side="left")), items)
    upper = min(int(np.searchsorted(cdf, 1.0 - tail, side="left")), items)
    upper_tail = 1.0 if flips == 0 else float(np.sum(pmf[flips:]))
    return NoiseFlips(
        n=items,
        observed=flips,
        aa_rate=wilson_interval(aa_flips, aa_items, level),
        expected=items * aa_flips / aa_items,
        lower=lower,
        upper=upper,
        pvalue=min(1.0, max(0.0, upper_tail)),
        confidence=level,
        method="beta_binomial_jeffreys",
    )

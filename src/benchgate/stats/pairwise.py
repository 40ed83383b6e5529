"""All pairwise McNemar tests among several models scored on the same items.

Orientation of each pair, as everywhere in :mod:`benchgate.stats`, with the pair's *row
model* (the earlier of the two in the given model order) in the baseline's place and its
*column model* (the later one) in the candidate's place::

                                column model correct   column model wrong
    row model correct                   a                      b
    row model wrong                     c                      d

``b`` = items the row model got right and the column model got wrong, ``c`` = the reverse,
and the accuracy difference is column minus row, ``(c - b) / n``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from benchgate.stats import _validate
from benchgate.stats.effect import cohens_g
from benchgate.stats.intervals import IntervalEstimate, paired_accuracy_difference
from benchgate.stats.mcnemar import mcnemar
from benchgate.stats.multiple import holm


@dataclass(frozen=True, slots=True)
class PairwiseMcNemar:
    """One pair's McNemar test within a :func:`pairwise_mcnemar` family.

    Attributes:
        row_model: The earlier model of the pair in the given order (the baseline's place
            in the table).
        column_model: The later model (the candidate's place).
        b: Items the row model got right and the column model got wrong.
        c: Items the row model got wrong and the column model got right.
        n: Items scored for both (every item of the call).
        statistic: Signed McNemar z, ``(c - b) / sqrt(b + c)`` (0.0 when ``b + c == 0``);
            positive when the column model is more accurate.
        pvalue: McNemar p-value of this pair alone, under ``method`` and ``alternative``.
        pvalue_holm: ``pvalue`` Holm-adjusted over every pair of the same call (one
            benchmark's family); compare it with ``alpha`` to control the family-wise error
            rate over the ``k (k - 1) / 2`` pairs.
        difference: Column-minus-row accuracy ``(c - b) / n`` with Tango's score interval
            (:func:`benchgate.stats.paired_accuracy_difference`).
        cohens_g: Cohen's g of the discordant split, ``|c - b| / (2 (b + c))``, in [0, 0.5]
            (:func:`benchgate.stats.cohens_g`).
        method: McNemar method, e.g. ``"midp"``.
        alternative: ``"two-sided"``, ``"less"`` (column model less accurate than the row
            model) or ``"greater"``.
    """

    row_model: str
    column_model: str
    b: int
    c: int
    n: int
    statistic: float
    pvalue: float
    pvalue_holm: float
    difference: IntervalEstimate
    cohens_g: float
    method: str
    alternative: str


def pairwise_mcnemar(
    correct: ArrayLike | Mapping[str, Sequence[bool]],
    models: Sequence[str] | None = None,
    *,
    alternative: str = "two-sided",
    method: str = "midp",
    confidence: float = 0.95,
) -> tuple[PairwiseMcNemar, ...]:
    """McNemar tests of every pair of models on the same items, Holm-adjusted as one family.

    Args:
        correct: Per-item correctness on the same items (paired): an array of shape
            ``(n_items, n_models)`` of bools (or 0/1), ``True`` = answered correctly, with
            columns in the order of ``models``; or a mapping ``model -> sequence of bools``
            of equal lengths, item-aligned.
        models: Model names, one per column (required for an array); for a mapping the
            order to use (exactly its keys), or ``None`` for the mapping's order. The order
            decides which model of a pair is the row model (the earlier one).
        alternative: ``"two-sided"`` (default), ``"less"`` (the column model is less
            accurate than the row model) or ``"greater"``. One-sided tests only make sense
            when the order means something (e.g. baseline first).
        method: McNemar method, as in :func:`benchgate.stats.mcnemar`; default mid-p.
        confidence: Level of each pair's Tango interval, in (0, 1).

    Returns:
        One :class:`PairwiseMcNemar` per unordered pair ``(models[i], models[j])`` with
        ``i < j``, in the order ``(0, 1), (0, 2), ..., (0, k-1), (1, 2), ...``: ``k (k - 1)
        / 2`` results for ``k`` models.

    Raises:
        ValueError: If ``correct`` is not a valid correctness matrix (fewer than two
            models, no item, unequal lengths, a cell that is not a bool / 0 / 1: the message
            names the model and item), or ``method``, ``alternative`` or ``confidence`` is
            invalid.

    Notes:
        For each pair, ``b`` and ``c`` are counted from the matrix (``b_ij = #{items: i
        right, j wrong}``) and passed to :func:`benchgate.stats.mcnemar`; the family's
        p-values are then adjusted with :func:`benchgate.stats.holm`, which controls the
        family-wise error rate under any dependence between the pairs (they share items and
        models). The family is the pairs of one call, i.e. one benchmark; adjusting across
        benchmarks as well is the caller's choice.

        Order independence: with a two-sided alternative, listing the models in another
        order gives the same pairs (each possibly with row and column swapped, ``b`` and
        ``c`` swapped, the statistic and difference negated) and identical ``pvalue``,
        ``pvalue_holm`` and ``cohens_g``: the two-sided mid-p and exact p-values are
        symmetric in ``b`` and ``c``, and Holm's adjusted values do not depend on the order
        of the family (tied p-values get the same adjusted value).

        Usual use: run :func:`benchgate.stats.cochrans_q` on the same matrix as the omnibus
        test, then read these pairs; feed the pairs with ``pvalue_holm <= alpha`` to
        :func:`benchgate.stats.compact_letter_display`.

        Assumptions: items are independent; every model answered every item (errors and
        missing answers resolved beforehand).

    References:
        McNemar Q (1947). Psychometrika 12:153-157.
        Fagerland MW, Lydersen S, Laake P (2013). BMC Medical Research Methodology 13:91
        (mid-p McNemar).
        Holm S (1979). Scandinavian Journal of Statistics 6:65-70.
        Tango T (1998). Statistics in Medicine 17:891-908.
        Cohen J (1988). Statistical Power Analysis for the Behavioral Sciences, 2nd ed., ch. 5.
    """
    matrix, names = _validate.correctness_matrix(correct, models)
    # method and alternative are checked by mcnemar() (k >= 2 means at least one pair).
    level = _validate.confidence(confidence)
    as_int = matrix.astype(np.int64)
    # right_wrong[i, j] = items model i got right and model j got wrong.
    right_wrong = as_int.T @ (1 - as_int)
    n_items, k = matrix.shape
    pairs = [(i, j) for i in range(k) for j in range(i + 1, k)]
    tests = [
        mcnemar(int(right_wrong[i, j]), int(right_wrong[j, i]), method, alternative)
        for i, j in pairs
    ]
    adjusted = holm([test.pvalue for test in tests])
    return tuple(
        PairwiseMcNemar(
            row_model=names[i],
            column_model=names[j],
            b=test.b,
            c=test.c,
            n=n_items,
            statistic=test.statistic,
            pvalue=test.pvalue,
            pvalue_holm=float(p_holm),
            difference=paired_accuracy_difference(test.b, test.c, n_items, level),
            cohens_g=cohens_g(test.b, test.c),
            method=method,
            alternative=alternative,
        )
        for (i, j), test, p_holm in zip(pairs, tests, adjusted, strict=True)
    )

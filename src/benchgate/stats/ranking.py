"""Ranking several models over several benchmarks, with intervals for accuracy and rank."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from benchgate.stats import _validate
from benchgate.stats.intervals import IntervalEstimate, wilson_interval

# Keep one vectorised bootstrap batch at about this many floats (8 bytes each).
_BATCH_ELEMENTS = 4_000_000
MACRO_METHOD = "stratified_bootstrap_percentile"


@dataclass(frozen=True, slots=True)
class ModelRank:
    """One model's line in a :class:`Ranking`.

    Attributes:
        model: The model name.
        accuracy: Accuracy on each benchmark with its Wilson interval, aligned with
            :attr:`Ranking.benchmarks` (a fraction of items in [0, 1]).
        macro_accuracy: The unweighted mean of the per-benchmark accuracies, with a
            stratified-bootstrap percentile interval (``method =
            "stratified_bootstrap_percentile"``).
        rank: 1 + the number of models with a strictly higher observed macro accuracy
            (competition ranking: tied models share the better rank).
        rank_lower: Best (smallest) rank in the interval: the ``(1 - confidence) / 2``
            quantile of the model's rank over the bootstrap resamples (moved to ``rank``
            in the rare case the quantile lies beyond it).
        rank_upper: Worst (largest) rank in the interval: the ``(1 + confidence) / 2``
            quantile (likewise never better than ``rank``).
    """

    model: str
    accuracy: tuple[IntervalEstimate, ...]
    macro_accuracy: IntervalEstimate
    rank: int
    rank_lower: int
    rank_upper: int


@dataclass(frozen=True, slots=True)
class Ranking:
    """Outcome of :func:`rank_models`.

    Attributes:
        benchmarks: Benchmark names, in the order given.
        n_items: Items per benchmark, aligned with ``benchmarks``.
        ranks: One :class:`ModelRank` per model, best first (ties keep the given order).
        confidence: Level of every interval.
        n_resamples: Bootstrap resamples drawn.
        seed: Seed of the bootstrap generator.
    """

    benchmarks: tuple[str, ...]
    n_items: tuple[int, ...]
    ranks: tuple[ModelRank, ...]
    confidence: float
    n_resamples: int
    seed: int


def rank_models(
    correct: Mapping[str, ArrayLike | Mapping[str, Sequence[bool]]],
    models: Sequence[str] | None = None,
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
) -> Ranking:
    """Rank models by macro-average accuracy over benchmarks, with accuracy and rank intervals.

    Args:
        correct: ``benchmark -> correctness`` for every benchmark in the ranking, each as
            accepted by :func:`benchgate.stats.pairwise_mcnemar`: an array of shape
            ``(n_items_b, n_models)`` of bools with columns in ``models`` order, or a
            mapping ``model -> sequence of bools``. Every benchmark must cover the same
            models; item counts may differ, but each needs at least 2 items.
        models: Model names in column order (required when a benchmark is an array);
            ``None`` takes the order of the first benchmark's mapping.
        confidence: Level of every interval, in (0, 1).
        n_resamples: Bootstrap resamples, at least 100 (2000 gives rank and percentile
            limits that move by about one resample's worth between seeds).
        seed: Seed for ``numpy.random.default_rng``; the same input and seed give the same
            result.

    Returns:
        A :class:`Ranking`.

    Raises:
        ValueError: If ``correct`` is empty, a benchmark's correctness is invalid (see
            :func:`benchgate.stats.pairwise_mcnemar`), benchmarks cover different models, a
            benchmark has fewer than 2 items, or ``confidence``, ``n_resamples`` or ``seed``
            is invalid.

    Notes:
        Per benchmark, accuracy ``x / n`` with the Wilson interval
        (:func:`benchgate.stats.wilson_interval`).

        Overall: the macro average ``A_m = (1 / B) sum_b acc_{m,b}`` over the ``B``
        benchmarks (each benchmark weighs the same, whatever its size). Its interval is a
        stratified, paired bootstrap (``scipy.stats.bootstrap`` with one sample per
        benchmark, ``paired=False``, percentile method): each resample draws the items of
        every benchmark with replacement, independently across benchmarks (the strata) and
        the same items for all models (so the models' correlation on shared items is kept),
        and recomputes every model's ``A_m``. The interval is the ``(1 +- confidence) / 2``
        percentiles (widened to the estimate in the rare case it falls outside). It treats
        each benchmark's items as a sample from a population of such items and the models'
        answers as fixed; variation from sampling the models' own outputs (temperature >
        0) is not included. Coverage is checked by simulation in
        ``tests/stats/test_monte_carlo_multi.py`` (0.935-0.94 at 95% with 40-60 items
        per benchmark, nominal with 100 or more). A model right (or wrong) on every item
        of every benchmark gets a zero-width interval, as any bootstrap of a proportion
        does; its per-benchmark Wilson intervals still show the uncertainty.

        Ranks: in each resample the models are ranked by ``A_m`` (competition ranking, 1 =
        best); a model's rank interval is the percentile interval of its rank over the
        resamples (a marginal interval per model, not a simultaneous one). Bootstrap rank
        intervals are known to be too narrow or too wide where true accuracies tie (Hall &
        Miller 2009); read them as a summary of how stable the order is, and use the
        pairwise tests to claim a difference.

        Assumptions: items independent within and across benchmarks; every model scored on
        every item.

    References:
        Efron B, Tibshirani RJ (1993). An Introduction to the Bootstrap. Chapman & Hall,
        ch. 13 (percentile interval) and 3.2 (stratified resampling).
        Hall P, Miller H (2009). Using the bootstrap to quantify the authority of an
        empirical ranking. Annals of Statistics 37(6B):3929-3959.
        Goldstein H, Spiegelhalter DJ (1996). League tables and their limitations:
        statistical issues in comparisons of institutional performance. JRSS A 159:385-443.
    """
    from scipy import stats as st

    if not isinstance(correct, Mapping) or not correct:
        raise ValueError(
            f"correct must be a non-empty mapping benchmark -> per-item correctness, got "
            f"{correct!r}"
        )
    level = _validate.confidence(confidence)
    resamples = _validate.resamples(n_resamples, minimum=100)
    seed_value = _validate.seed(seed)
    benchmarks = _validate.model_names("the keys of correct (benchmark names)", list(correct))
    names: tuple[str, ...] | None = None if models is None else tuple(models)
    matrices = []
    for benchmark in benchmarks:
        matrix, found = _validate.correctness_matrix(
            correct[benchmark], names, what=f"correct[{benchmark!r}]"
        )
        if names is None:
            names = found
        elif set(found) != set(names):
            raise ValueError(
                f"every benchmark must cover the same models: correct[{benchmark!r}] has "
                f"{list(found)}, expected {list(names)}"
            )
        if matrix.shape[0] < 2:
            raise ValueError(
                f"correct[{benchmark!r}] has {matrix.shape[0]} item; a bootstrap interval "
                f"needs at least 2 items per benchmark"
            )
        matrices.append(matrix.astype(np.float64))
    assert names is not None
    k = len(names)
    accuracy = [
        tuple(wilson_interval(int(m[:, j].sum()), m.shape[0], level) for m in matrices)
        for j in range(k)
    ]
    observed = np.array([np.mean([m[:, j].mean() for m in matrices]) for j in range(k)])

    def macro(*samples: np.ndarray, axis: int = -1) -> np.ndarray:
        return sum(sample.mean(axis=axis) for sample in samples) / len(samples)

    largest = max(m.shape[0] for m in matrices)
    batch = max(1, min(resamples, _BATCH_ELEMENTS // (k * largest)))
    result = st.bootstrap(
        tuple(matrices),
        macro,
        n_resamples=resamples,
        batch=batch,
        vectorized=True,
        paired=False,
        axis=0,
        confidence_level=level,
        method="percentile",
        **{_validate.rng_keyword(st.bootstrap): np.random.default_rng(seed_value)},
    )
    distribution = np.asarray(result.bootstrap_distribution, dtype=np.float64)  # (k, R)
    low = np.asarray(result.confidence_interval.low, dtype=np.float64)
    high = np.asarray(result.confidence_interval.high, dtype=np.float64)
    # Competition rank in each resample: 1 + number of models strictly better.
    resample_ranks = 1 + np.sum(distribution[None, :, :] > distribution[:, None, :], axis=1)
    tail = (1.0 - level) / 2.0
    rank_low = np.quantile(resample_ranks, tail, axis=1, method="inverted_cdf")
    rank_high = np.quantile(resample_ranks, 1.0 - tail, axis=1, method="inverted_cdf")
    observed_rank = 1 + np.sum(observed[None, :] > observed[:, None], axis=1)
    lines = [
        ModelRank(
            model=names[j],
            accuracy=accuracy[j],
            macro_accuracy=IntervalEstimate(
                estimate=float(observed[j]),
                lower=float(min(low[j], observed[j])),
                upper=float(max(high[j], observed[j])),
                confidence=level,
                method=MACRO_METHOD,
            ),
            rank=int(observed_rank[j]),
            rank_lower=int(min(rank_low[j], observed_rank[j])),
            rank_upper=int(max(rank_high[j], observed_rank[j])),
        )
        for j in range(k)
    ]
    lines.sort(key=lambda line: line.rank)  # stable: ties keep the given order
    return Ranking(
        benchmarks=benchmarks,
        n_items=tuple(m.shape[0] for m in matrices),
        ranks=tuple(lines),
        confidence=level,
        n_resamples=resamples,
        seed=seed_value,
    )

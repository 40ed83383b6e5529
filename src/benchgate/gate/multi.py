"""The paper's multi-model table: every model against every other, per benchmark.

For runs with three models or more (or ``--compare all``): per benchmark, Cochran's Q
across all models on the items every model scored without an error, all pairwise mid-p
McNemar tests Holm-adjusted within the benchmark, the models ranked by accuracy with
Wilson intervals, and a compact letter display (models sharing a letter are not
distinguishable at ``alpha``); overall, the models ranked by macro-average accuracy over
benchmarks with an interval and a rank interval. These tables are reported; they do not
gate (only the gating pairs do).

References:
    Cochran WG (1950). The comparison of percentages in matched samples. Biometrika
    37:256-266.
    Piepho HP (2004). An algorithm for a letter-based representation of all-pairwise
    comparisons. J Comput Graph Stat 13:456-466.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchgate.gate.plan import Plan
from benchgate.gate.settings import GateSettings
from benchgate.records import Outcome, Status


@dataclass(frozen=True)
class PairwiseRow:
    """One pair of models on one benchmark (the row model is listed first).

    Attributes:
        first: the model listed first (better or equal accuracy).
        second: the other model.
        n: items both scored (complete blocks of the benchmark).
        b: items ``first`` got right and ``second`` wrong.
        c: items ``second`` got right and ``first`` wrong.
        difference: ``second`` minus ``first`` accuracy, ``(c - b) / n``.
        lower: lower limit of the difference's paired (Tango) interval.
        upper: upper limit.
        pvalue: two-sided mid-p McNemar p-value.
        pvalue_holm: Holm-adjusted within the benchmark.
        significant: ``pvalue_holm < alpha``.
    """

    first: str
    second: str
    n: int
    b: int
    c: int
    difference: float
    lower: float
    upper: float
    pvalue: float
    pvalue_holm: float
    significant: bool


@dataclass(frozen=True)
class RankRow:
    """One model's place in a ranking.

    Attributes:
        model: the model label.
        accuracy: accuracy (per benchmark) or macro-average accuracy (overall).
        lower: lower limit of its interval.
        upper: upper limit.
        rank: its rank (1 = best; ties share the better rank).
        rank_lower: best rank in the rank interval.
        rank_upper: worst rank in the rank interval.
        letters: compact letter display (per benchmark); ``""`` overall.
    """

    model: str
    accuracy: float
    lower: float
    upper: float
    rank: int
    rank_lower: int
    rank_upper: int
    letters: str = ""


@dataclass
class MultiModelTable:
    """All models on one benchmark.

    Attributes:
        benchmark: the benchmark.
        n: complete blocks (items every model scored without an error).
        models: the models, best first.
        cochran_q: Cochran's Q statistic (chi-square, ``k - 1`` df), nan when undefined.
        df: its degrees of freedom.
        pvalue: its p-value.
        pairwise: every pair, Holm within the benchmark.
        ranking: the models ranked, with letters.
        category: the benchmark's category (for grouped rankings).
    """

    benchmark: str
    n: int
    models: list[str]
    cochran_q: float
    df: int
    pvalue: float
    pairwise: list[PairwiseRow] = field(default_factory=list)
    ranking: list[RankRow] = field(default_factory=list)
    category: str = "other"

    def to_dict(self) -> dict[str, Any]:
        """Return the table as builtins."""
        return {
            "benchmark": self.benchmark,
            "n": self.n,
            "models": list(self.models),
            "cochran_q": self.cochran_q,
            "df": self.df,
            "pvalue": self.pvalue,
            "pairwise": [dict(p.__dict__) for p in self.pairwise],
            "ranking": [dict(r.__dict__) for r in self.ranking],
            "category": self.category,
        }


@dataclass
class OverallRanking:
    """Models ranked by macro-average accuracy over the benchmarks every model ran.

    Attributes:
        benchmarks: the benchmarks averaged (equal weight each).
        method: how the intervals were computed.
        rows: the models, best first.
        by_category: category -> the same ranking over that category's benchmarks.
    """

    benchmarks: list[str]
    method: str
    rows: list[RankRow] = field(default_factory=list)
    by_category: dict[str, list[RankRow]] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the ranking as builtins."""
        return {
            "benchmarks": list(self.benchmarks),
            "method": self.method,
            "rows": [dict(r.__dict__) for r in self.rows],
            "by_category": {k: [dict(r.__dict__) for r in v] for k, v in self.by_category.items()},
        }


def _blocks(
    name: str,
    items: Sequence[str],
    models: Sequence[str],
    by_side: Mapping[str, Sequence[Outcome]],
    skip_errors: bool = True,
) -> tuple[list[str], dict[str, list[bool]]]:
    """Item ids every model has an outcome for, and each model's correctness on them.

    With ``skip_errors`` an item where any model has an error outcome is left out (the
    pairwise tests compare measured answers); otherwise an error counts as wrong (as in
    accuracy).
    """
    index = {m: {o.item_id: o for o in by_side.get(m, []) if o.benchmark == name} for m in models}
    error = Status.ERROR.value
    ids = [
        i
        for i in items
        if all(i in index[m] and not (skip_errors and index[m][i].status == error) for m in models)
    ]
    ok = Status.CORRECT.value
    return ids, {m: [index[m][i].status == ok for i in ids] for m in models}


def _sides(by_side: Mapping[str, Sequence[Outcome]]) -> list[str]:
    return [s for s, out in by_side.items() if out and s != "?"]


def multi_model_tables(
    plan: Plan, by_side: Mapping[str, Sequence[Outcome]], settings: GateSettings
) -> list[MultiModelTable]:
    """The multi-model table of every available benchmark with outcomes for all models.

    Args:
        plan: the plan (benchmarks, planned items, categories).
        by_side: side label -> outcomes (a stored baseline included).
        settings: ``alpha``, ``confidence`` and the resampling ``seed``.
    """
    from benchgate.stats import (
        cochrans_q,
        compact_letter_display,
        pairwise_mcnemar,
        rank_models,
        wilson_interval,
    )

    models = _sides(by_side)
    tables = []
    for name, bench in plan.benchmarks.items():
        if not bench.available:
            continue
        present = [m for m in models if any(o.benchmark == name for o in by_side[m])]
        if len(present) < 2:
            continue
        ids, columns = _blocks(name, bench.items, present, by_side)
        if len(ids) < 2:
            continue
        accuracy = {m: sum(columns[m]) / len(ids) for m in present}
        order = sorted(present, key=lambda m: (-accuracy[m], present.index(m)))
        q = (
            cochrans_q([[columns[m][k] for m in order] for k in range(len(ids))])
            if len(order) >= 3
            else None
        )
        pairs = pairwise_mcnemar(
            {m: columns[m] for m in order}, order, confidence=settings.confidence
        )
        pairwise = [
            PairwiseRow(
                p.row_model,
                p.column_model,
                p.n,
                p.b,
                p.c,
                float(p.difference.estimate),
                float(p.difference.lower),
                float(p.difference.upper),
                float(p.pvalue),
                float(p.pvalue_holm),
                float(p.pvalue_holm) < settings.alpha,
            )
            for p in pairs
        ]
        letters = compact_letter_display(
            order, [(p.first, p.second) for p in pairwise if p.significant], accuracy
        )
        ranks = {
            r.model: r
            for r in rank_models(
                {name: {m: columns[m] for m in order}},
                order,
                confidence=settings.confidence,
                seed=settings.seed,
            ).ranks
        }
        ranking = []
        for m in order:
            ci = wilson_interval(sum(columns[m]), len(ids), settings.confidence)
            r = ranks[m]
            ranking.append(
                RankRow(
                    m,
                    accuracy[m],
                    float(ci.lower),
                    float(ci.upper),
                    r.rank,
                    r.rank_lower,
                    r.rank_upper,
                    letters.letters_of(m),
                )
            )
        tables.append(
            MultiModelTable(
                benchmark=name,
                n=len(ids),
                models=order,
                cochran_q=float(q.statistic) if q else float("nan"),
                df=int(q.df) if q else 1,
                pvalue=float(q.pvalue) if q else pairwise[0].pvalue,
                pairwise=pairwise,
                ranking=ranking,
                category=bench.category,
            )
        )
    return tables


def overall_ranking(
    plan: Plan, by_side: Mapping[str, Sequence[Outcome]], settings: GateSettings
) -> OverallRanking | None:
    """Rank models by macro-average accuracy over the benchmarks every model ran.

    Per benchmark, the items every model has an outcome for (an error counts as wrong, as
    in accuracy); :func:`benchgate.stats.rank_models` gives the macro average with its
    stratified-bootstrap interval and each model's rank interval, overall and per category.

    Args:
        plan: the plan (benchmarks, items, categories).
        by_side: side label -> outcomes.
        settings: ``confidence`` and the resampling ``seed``.

    Returns:
        The ranking, or None with fewer than two models or when no benchmark has two or
        more items for every model.
    """
    from benchgate.stats import rank_models

    models = _sides(by_side)
    if len(models) < 2:
        return None
    per_bench: dict[str, dict[str, list[bool]]] = {}
    for name, bench in plan.benchmarks.items():
        if not bench.available:
            continue
        ids, columns = _blocks(name, bench.items, models, by_side, skip_errors=False)
        if len(ids) >= 2:
            per_bench[name] = columns
    if not per_bench:
        return None

    def ranked(benches: Sequence[str]) -> list[RankRow]:
        result = rank_models(
            {b: per_bench[b] for b in benches},
            models,
            confidence=settings.confidence,
            seed=settings.seed,
        )
        return [
            RankRow(
                r.model,
                float(r.macro_accuracy.estimate),
                float(r.macro_accuracy.lower),
                float(r.macro_accuracy.upper),
                r.rank,
                r.rank_lower,
                r.rank_upper,
            )
            for r in result.ranks
        ]

    usable = list(per_bench)
    categories = {b: plan.benchmarks[b].category for b in usable}
    by_category = {
        category: ranked([b for b in usable if categories[b] == category])
        for category in sorted(set(categories.values()))
    }
    return OverallRanking(usable, "stratified_bootstrap_percentile", ranked(usable), by_category)

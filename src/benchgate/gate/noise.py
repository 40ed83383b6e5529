"""The A/A noise floor: how often the same model disagrees with itself.

Engines are not bit-deterministic under batching (batch composition changes logits on a
GPU; sampling seeds differ), so a candidate that differs from the baseline on some items
may differ only by noise. ``--noise-floor`` runs the baseline twice (the second time as a
*replica*: other batch order, other sampling seed, no shared cache entries) and this module
measures, per benchmark, the share of items on which the two runs disagree about
correctness, with its Wilson interval, and the gate's own verdict on the A/A pair, which
must be PASS. The rates are stored in the run log; a later run gated against it prints its
observed flips next to the A/A flip rate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from benchgate.gate.comparison import Comparison, compare_family
from benchgate.gate.pairing import PairedItems, Side, pair_outcomes
from benchgate.gate.plan import Plan
from benchgate.gate.settings import GateSettings
from benchgate.records import Outcome


@dataclass(frozen=True)
class NoiseFloorRow:
    """The A/A discordance of one benchmark.

    Attributes:
        benchmark: the benchmark.
        baseline: the baseline model id.
        replica: the replica's model id.
        n: items both runs scored without an error.
        flips: items on which they disagree about correctness (``b + c``).
        rate: ``flips / n``.
        lower: lower limit of the rate's Wilson interval.
        upper: upper limit.
        verdict: the gate's verdict on the A/A pair (``pass`` expected).
        reason: the verdict's reason.
    """

    benchmark: str
    baseline: str
    replica: str
    n: int
    flips: int
    rate: float
    lower: float
    upper: float
    verdict: str
    reason: str

    def to_dict(self) -> dict[str, Any]:
        """Return the row as builtins."""
        return dict(self.__dict__)


def noise_floor_rows(
    plan: Plan, by_side: Mapping[str, Sequence[Outcome]], settings: GateSettings
) -> list[NoiseFloorRow]:
    """The A/A rows of a ``--noise-floor`` run (empty without one).

    Args:
        plan: the plan (``noise_floor`` names the baseline and its replica).
        by_side: side label -> outcomes.
        settings: the gate's settings (the A/A pairs form their own Holm family).
    """
    from benchgate.stats import wilson_interval

    if plan.noise_floor is None:
        return []
    base, replica = plan.noise_floor
    family: list[PairedItems] = []
    for name, bench in plan.benchmarks.items():
        if not bench.available:
            continue
        paired = pair_outcomes(
            name,
            Side(base),
            by_side.get(base, []),
            Side(replica),
            by_side.get(replica, []),
            planned=bench.items,
        )
        if paired.pairs:
            family.append(paired)
    graded = [plan.benchmarks[p.benchmark].graded for p in family]
    rows = []
    for comp in compare_family(family, settings, graded, gating=False):
        flips = comp.b + comp.c
        ci = wilson_interval(flips, comp.n, settings.confidence)
        rows.append(
            NoiseFloorRow(
                comp.benchmark,
                base,
                replica,
                comp.n,
                flips,
                flips / comp.n,
                float(ci.lower),
                float(ci.upper),
                comp.verdict,
                comp.reason,
            )
        )
    return rows


@dataclass(frozen=True)
class NoiseComparison:
    """A gating comparison's flips next to a stored A/A flip rate.

    Attributes:
        benchmark: the benchmark.
        candidate: the candidate's label.
        observed: the comparison's discordant pairs ``b + c``.
        n: its paired items.
        aa_flips: flips of the stored A/A pair on this benchmark.
        aa_n: its paired items.
        aa_rate: ``aa_flips / aa_n``.
        expected: flips expected from noise alone in ``n`` items.
        lower: lower limit of the prediction interval of noise flips.
        upper: upper limit.
        pvalue: probability that noise alone gives at least ``observed`` flips.
        source: the run id the A/A rate comes from.
    """

    benchmark: str
    candidate: str
    observed: int
    n: int
    aa_flips: int
    aa_n: int
    aa_rate: float
    expected: float
    lower: int
    upper: int
    pvalue: float
    source: str

    def to_dict(self) -> dict[str, Any]:
        """Return the row as builtins."""
        return dict(self.__dict__)


def against_reference(
    comparisons: Sequence[Comparison], reference: Mapping[str, Any] | None, confidence: float
) -> list[NoiseComparison]:
    """Compare each gating comparison's flips with a stored A/A pair's.

    Args:
        comparisons: the gating comparisons.
        reference: ``{"run_id": ..., "rows": [NoiseFloorRow.to_dict(), ...]}`` from the
            stored run, or None.
        confidence: level of the prediction interval.

    Notes:
        :func:`benchgate.stats.noise_flips`: each item flips independently at the A/A rate,
        whose uncertainty (Jeffreys) is carried into a beta-binomial prediction interval.
    """
    from benchgate.stats import noise_flips

    if not reference:
        return []
    rows = {r["benchmark"]: r for r in reference.get("rows", [])}
    out = []
    for comp in comparisons:
        row = rows.get(comp.benchmark)
        if row is None or not comp.n or not row.get("n"):
            continue
        flips = noise_flips(
            int(row["flips"]), int(row["n"]), comp.b + comp.c, comp.n, confidence=confidence
        )
        out.append(
            NoiseComparison(
                comp.benchmark,
                comp.candidate.label,
                comp.b + comp.c,
                comp.n,
                int(row["flips"]),
                int(row["n"]),
                float(row["rate"]),
                float(flips.expected),
                int(flips.lower),
                int(flips.upper),
                float(flips.pvalue),
                str(reference.get("run_id")),
            )
        )
    return out

"""Planned versus measured: what each benchmark of a run lacks, on which side, and why.

The gate evaluates only the complete paired set it planned. For every benchmark of the
plan and every model of the run (live models and a stored baseline), this module lists the
planned items without an outcome as *gaps* with their reason, and whether the gap was
**deliberate** (deselected with ``-k``/``-m``/``--deselect``/``--lf``/node ids, or the
session stopped early on ``-x``/``--maxfail``) or an **unplanned loss** (a skipped item, a
worker lost with its items, anything else that left no outcome). A deliberately partial
run is *not evaluated*; an unplanned loss *fails* the gate.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchgate.gate.plan import Plan
from benchgate.records import Outcome

#: Coverage status of a benchmark.
COMPLETE = "complete"
PARTIAL = "partial"
UNAVAILABLE = "unavailable"
NOT_MEASURED = "not measured"


@dataclass(frozen=True)
class Gap:
    """Planned items of one side of one benchmark that have no outcome.

    Attributes:
        side: the model label (``id`` or ``id@run_id``).
        count: how many items.
        reason: why (e.g. ``deselected by -k 'gsm8k'``).
        deliberate: True for a chosen partial selection, False for an unplanned loss.
        items: the item ids (sorted).
    """

    side: str
    count: int
    reason: str
    deliberate: bool
    items: tuple[str, ...] = ()


@dataclass
class CoverageRow:
    """How completely one benchmark was measured.

    Attributes:
        benchmark: the benchmark.
        status: ``complete``, ``partial`` (gaps), ``unavailable`` (no data; see
            ``reason``) or ``not measured`` (planned, but no outcome at all).
        planned_items: items planned per model (after ``--limit``).
        measured: side label -> planned items with an outcome (any status).
        gaps: the gaps, per side and reason.
        reason: why the benchmark is unavailable, else None.
        required: the benchmark is on the required list.
    """

    benchmark: str
    status: str
    planned_items: int
    measured: dict[str, int] = field(default_factory=dict)
    gaps: list[Gap] = field(default_factory=list)
    reason: str | None = None
    required: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Return the row as builtins (gap item ids capped at 50 per gap)."""
        return {
            "benchmark": self.benchmark,
            "status": self.status,
            "planned_items": self.planned_items,
            "measured": dict(self.measured),
            "gaps": [{**g.__dict__, "items": list(g.items[:50])} for g in self.gaps],
            "reason": self.reason,
            "required": self.required,
        }


def _selection_reason(plan: Plan) -> str:
    reasons = plan.selection.reasons or ["a plugin or hook"]
    return "deselected by " + ", ".join(reasons)


def coverage_rows(
    plan: Plan,
    outcomes_by_side: Mapping[str, Sequence[Outcome]],
    session: Mapping[str, Any],
) -> list[CoverageRow]:
    """Planned against measured, per benchmark (plan order), every side.

    Args:
        plan: the run's plan.
        outcomes_by_side: side label -> its outcomes (live models and a stored baseline).
        session: the run log's ``session`` facts: ``stopped_early`` (why the session
            stopped before the end, or None), ``skipped_items`` (benchmark -> model ->
            item -> skip reason), ``workers_down`` (list of reasons).

    Returns:
        One :class:`CoverageRow` per benchmark of the plan.
    """
    stopped = session.get("stopped_early")
    skipped = session.get("skipped_items") or {}
    down = "; ".join(session.get("workers_down") or [])
    required = set(plan.required or [])
    rows = []
    for name, bench in plan.benchmarks.items():
        if not bench.available:
            rows.append(
                CoverageRow(name, UNAVAILABLE, 0, reason=bench.reason, required=name in required)
            )
            continue
        planned = set(bench.items)
        row = CoverageRow(name, COMPLETE, len(planned), required=name in required)
        for side, outcomes in outcomes_by_side.items():
            have = {o.item_id for o in outcomes if o.benchmark == name} & planned
            row.measured[side] = len(have)
            missing = planned - have
            if not missing:
                continue
            model = side.partition("@")[0]
            deselected = set(plan.selection.deselected.get(name, {}).get(model, [])) & missing
            skipped_here = skipped.get(name, {}).get(model, {})
            groups: dict[tuple[str, bool], list[str]] = {}
            for item in sorted(missing):
                if item in deselected:
                    key = (_selection_reason(plan), True)
                elif item in skipped_here:
                    key = (f"skipped: {skipped_here[item]}", False)
                elif "@" in side:
                    key = ("not in the stored run", False)
                elif stopped:
                    key = (f"not run: the session stopped early ({stopped})", True)
                elif plan.selection.last_failed:
                    key = ("not collected under --lf", True)
                elif down:
                    key = (f"no outcome: {down}", False)
                else:
                    key = ("no outcome recorded (the test never reported)", False)
                groups.setdefault(key, []).append(item)
            for (reason, deliberate), items in groups.items():
                row.gaps.append(Gap(side, len(items), reason, deliberate, tuple(items)))
        if row.gaps:
            row.status = PARTIAL
        if not any(row.measured.values()):
            row.status = NOT_MEASURED
        rows.append(row)
    return rows

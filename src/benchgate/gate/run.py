"""One pure function, run log -> :class:`Run`: every number a report shows, computed once.

:func:`build_run` reads nothing but the run log (plan, settings, session facts, outcomes and
a stored baseline's outcomes), so the pytest plugin at the end of a session and
``python -m benchgate report RUN_DIR`` afterwards produce the same :class:`Run`, and every
reporter (terminal, summary.json/md, plots, Allure, JUnit properties) only formats it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from benchgate.gate.comparison import Comparison, compare_family
from benchgate.gate.coverage import CoverageRow, coverage_rows
from benchgate.gate.multi import (
    MultiModelTable,
    OverallRanking,
    multi_model_tables,
    overall_ranking,
)
from benchgate.gate.noise import NoiseComparison, NoiseFloorRow, against_reference, noise_floor_rows
from benchgate.gate.pairing import IncompatibleRunsError, PairedItems, Side, pair_outcomes
from benchgate.gate.plan import Plan
from benchgate.gate.settings import GateSettings
from benchgate.gate.tables import (
    AccuracyRow,
    ErrorRate,
    ResourceRow,
    accuracy_rows,
    error_rates,
    resource_rows,
)
from benchgate.gate.verdict import Finding, Verdict, decide_run, findings_of
from benchgate.records import Outcome, Status

if TYPE_CHECKING:
    from benchgate.reporting.runlog import RunLog

#: Version of summary.json's layout (:meth:`Run.to_dict`).
SUMMARY_SCHEMA_VERSION = 2


@dataclass
class Run:
    """Everything the reports of one run show, computed once from its run log.

    Attributes:
        identity: the run's identity (``id``, ``started``, ``finished``, ``git``, ``host``,
            ``options``...), from run.json's ``run`` section.
        run_dir: the run log's directory name (``reports/runs/<id>``), or None.
        settings: the gate's thresholds.
        plan: what the run set out to measure.
        models: the models.yaml entries with their backend identity (run.json ``models``).
        session: the session's facts (run.json ``session``).
        stored_side: the stored baseline's side (``--baseline-run``), or None.
        outcomes: side label -> outcomes (live models in models.yaml order, a stored
            baseline first).
        accuracy: accuracy per (model, benchmark).
        resources: tokens, latency, memory and energy per (model, benchmark).
        coverage: planned versus measured per benchmark.
        comparisons: the gating comparisons (they decide the gate).
        reported: the other comparisons (``--compare all``; they do not gate).
        multi: the multi-model table per benchmark (three models or more, or
            ``--compare all``).
        overall: the models ranked by macro-average accuracy over the benchmarks every
            model ran (overall and per category), or None without outcomes.
        noise_floor: the A/A rows of a ``--noise-floor`` run.
        noise_reference: gating comparisons' flips against a stored A/A flip rate.
        error_rates: error share per (model, benchmark).
        findings: what a reader should know (``fails`` marks ``--fail-on`` kinds).
        verdict: the gate's decision and the process's exit status.
    """

    identity: dict[str, Any]
    run_dir: str | None
    settings: GateSettings
    plan: Plan
    models: list[dict[str, Any]]
    session: dict[str, Any]
    stored_side: Side | None
    outcomes: dict[str, list[Outcome]]
    accuracy: list[AccuracyRow] = field(default_factory=list)
    resources: list[ResourceRow] = field(default_factory=list)
    coverage: list[CoverageRow] = field(default_factory=list)
    comparisons: list[Comparison] = field(default_factory=list)
    reported: list[Comparison] = field(default_factory=list)
    multi: list[MultiModelTable] = field(default_factory=list)
    overall: OverallRanking | None = None
    noise_floor: list[NoiseFloorRow] = field(default_factory=list)
    noise_reference: list[NoiseComparison] = field(default_factory=list)
    error_rates: list[ErrorRate] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    verdict: Verdict | None = None

    @property
    def run_id(self) -> str:
        """The run's id."""
        return str(self.identity.get("id", "?"))

    def to_dict(self) -> dict[str, Any]:
        """summary.json's content: builtins only, deterministic for a given run log.

        Non-finite floats are written as the strings ``"inf"``, ``"-inf"``, ``"nan"``
        (strict JSON).
        """
        verdict = self.verdict.to_dict() if self.verdict else None
        return _jsonable(
            {
                "schema_version": SUMMARY_SCHEMA_VERSION,
                "run": dict(self.identity),
                "run_log": self.run_dir,
                "gate": {
                    **(verdict or {}),
                    "settings": self.settings.to_dict(),
                    "sandbox": self.session.get("sandbox"),
                },
                "plan": {
                    "gating": [[b.label, c.label] for b, c in self.plan.gating],
                    "reported": [[b.label, c.label] for b, c in self.plan.reported],
                    "required": self.plan.required,
                    "selection": {
                        "reasons": self.plan.selection.reasons,
                        "deselected": self.plan.selection.count(),
                        "last_failed": self.plan.selection.last_failed,
                    },
                    "noise_floor": list(self.plan.noise_floor) if self.plan.noise_floor else None,
                },
                "coverage": [r.to_dict() for r in self.coverage],
                "accuracy": [dict(r.__dict__) for r in self.accuracy],
                "resources": [dict(r.__dict__) for r in self.resources],
                "comparisons": [c.to_dict() for c in self.comparisons],
                "reported": [c.to_dict() for c in self.reported],
                "multi_model": [t.to_dict() for t in self.multi],
                "overall_ranking": self.overall.to_dict() if self.overall else None,
                "noise_floor": [r.to_dict() for r in self.noise_floor],
                "noise_reference": [r.to_dict() for r in self.noise_reference],
                "error_rates": [dict(e.__dict__) for e in self.error_rates],
                "findings": [dict(f.__dict__) for f in self.findings],
            }
        )

    def to_json(self) -> str:
        """summary.json's text (indented, UTF-8 as is, a final newline)."""
        return json.dumps(self.to_dict(), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


def _jsonable(value: Any) -> Any:
    import math

    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _family(
    pairs: Sequence[tuple[Side, Side]],
    plan: Plan,
    by_side: Mapping[str, Sequence[Outcome]],
    settings: GateSettings,
    problems: list[str],
) -> tuple[list[PairedItems], list[bool]]:
    family: list[PairedItems] = []
    graded: list[bool] = []
    for base, cand in pairs:
        for name, bench in plan.benchmarks.items():
            if not bench.available:
                continue
            try:
                paired = pair_outcomes(
                    name,
                    base,
                    by_side.get(base.label, []),
                    cand,
                    by_side.get(cand.label, []),
                    planned=bench.items,
                )
            except (IncompatibleRunsError, ValueError) as exc:
                problems.append(str(exc))
                continue
            if not paired.pairs and not paired.errors:
                continue
            if not paired.complete and not settings.allow_partial:
                continue
            family.append(paired)
            graded.append(bench.graded)
    return family, graded


def _extra_findings(run: Run, stored_meta: Mapping[str, Any] | None) -> list[Finding]:
    found: list[Finding] = []
    for name, bench in run.plan.benchmarks.items():
        if bench.stand_in:
            found.append(Finding("stand-in", name, f"{name} uses stand-in data: {bench.stand_in}"))
    for name, count in sorted(((stored_meta or {}).get("extra") or {}).items()):
        found.append(
            Finding(
                "unpaired-extra",
                name,
                f"{name}: the stored baseline has {count} item(s) beyond this run's selection; the "
                "selected items are paired",
            )
        )
    for row in run.accuracy:
        only = row.no_answer_kinds.get("reasoning_only", 0)
        if only:
            found.append(
                Finding(
                    "reasoning-only",
                    row.benchmark,
                    f"{row.benchmark}: {row.model}: {only} no_answer(s) have an answer only in the "
                    "reasoning the server returned separately (never in the final text)",
                )
            )
    outcomes = [o for side in run.outcomes.values() for o in side if o.sandbox == "none"]
    unsandboxed = sum(not o.score_cached for o in outcomes)
    reused = len(outcomes) - unsandboxed
    if run.session.get("sandbox") == "none" or outcomes:
        found.append(
            Finding(
                "sandbox-none",
                None,
                f"--sandbox none: {unsandboxed} model-written program(s) ran WITHOUT isolation"
                + (f"; {reused} verdict(s) of programs run that way in an earlier run were "
                   "reused from the score cache" if reused else ""),
            )
        )
    for row in run.noise_floor:
        if row.verdict != "pass":
            found.append(
                Finding(
                    "noise-floor",
                    row.benchmark,
                    f"{row.benchmark}: the A/A pair ({row.baseline} run twice) is {row.verdict}: "
                    f"{row.reason}",
                )
            )
    return found


def build_run(log: RunLog) -> Run:
    """Compute a run's :class:`Run` from its run log (pure: reads only ``log``).

    Args:
        log: a schema-2 run log (written by the plugin, or loaded with
            :func:`benchgate.reporting.runlog.load_run`).

    Returns:
        The :class:`Run`: accuracy, resources, coverage, comparisons (gating and
        reported), multi-model tables, noise floor, findings and the verdict with the
        process's exit status.
    """
    manifest = log.manifest
    settings = GateSettings.from_dict(manifest.get("settings") or {})
    plan = Plan.from_dict(manifest.get("plan") or {})
    session = dict(manifest.get("session") or {})
    stored_meta = manifest.get("stored_baseline")
    stored_side = Side(stored_meta["model"], stored_meta["run_id"]) if stored_meta else None
    by_side: dict[str, list[Outcome]] = {}
    if stored_side is not None:
        by_side[stored_side.label] = list(log.stored)
    for model in plan.model_ids:
        by_side[model] = []
    for o in log.outcomes:  # a model id only the outcomes know (a crash report's "?") too
        by_side.setdefault(o.model, []).append(o)
    present = {k: v for k, v in by_side.items() if v}
    caps = {
        (m, name): cap for name, b in plan.benchmarks.items() for m, cap in b.token_caps.items()
    }
    energy = {m: (s or {}).get("reason") for m, s in (session.get("energy") or {}).items()}
    run = Run(
        identity=dict(manifest.get("run") or {}),
        run_dir=str(log.path.name) if log.path is not None else None,
        settings=settings,
        plan=plan,
        models=list(manifest.get("models") or []),
        session=session,
        stored_side=stored_side,
        outcomes=by_side,
    )
    run.accuracy = accuracy_rows(
        present,
        graded={n: b.graded for n, b in plan.benchmarks.items()},
        token_caps=caps,
        stand_ins={n: b.stand_in for n, b in plan.benchmarks.items()},
        confidence=settings.confidence,
    )
    run.resources = resource_rows(present, energy)
    run.coverage = coverage_rows(plan, {k: by_side[k] for k in by_side if k != "?"}, session)
    problems: list[str] = [
        f"required benchmark {name} not measured: no test module of this session collects it"
        + (f" (required by {plan.required_source})" if plan.required_source else "")
        for name in plan.required or []
        if name not in plan.benchmarks
    ]
    family, graded = _family(plan.gating, plan, by_side, settings, problems)
    run.comparisons = compare_family(family, settings, graded, gating=True)
    family, graded = _family(plan.reported, plan, by_side, settings, problems)
    run.reported = compare_family(family, settings, graded, gating=False)
    replica = plan.noise_floor[1] if plan.noise_floor else None
    ranked = {k: v for k, v in by_side.items() if k != replica}  # the A/A copy is not a model
    live = [m for m in plan.model_ids if by_side.get(m) and m != replica]
    if len(live) + (stored_side is not None) >= 3 or plan.reported:
        run.multi = multi_model_tables(plan, ranked, settings)
    run.overall = overall_ranking(plan, ranked, settings)
    run.noise_floor = noise_floor_rows(plan, by_side, settings)
    run.noise_reference = against_reference(
        run.comparisons, session.get("noise_reference"), settings.confidence
    )
    live_outcomes = [o for o in log.outcomes]
    run.error_rates = error_rates(live_outcomes, settings.max_error_rate)
    run.findings = findings_of(
        run.comparisons, run.coverage, settings, _extra_findings(run, stored_meta)
    )
    counts = {s.value: 0 for s in Status}
    for o in live_outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    run.verdict = decide_run(
        has_benchmarks=bool(plan.benchmarks) or bool(live_outcomes),
        plan_collected=plan.collected or not live_outcomes,
        comparisons=run.comparisons,
        coverage=run.coverage,
        findings=run.findings,
        error_rates=run.error_rates,
        settings=settings,
        session=session,
        counts=counts,
        gating_planned=bool(plan.gating),
        problems=problems,
    )
    return run

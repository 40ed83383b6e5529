"""The gate's decision: findings, the verdict, the process's exit status, the headline.

Rules (README, "What green means" and "Exit status"):

1. The gate evaluates only the complete paired set it planned. A planned item without an
   outcome is either a **deliberate** partial selection (``-k``, ``-m``, ``--deselect``,
   ``--lf``, node ids, ``-x``): the gate is **NOT EVALUATED** and pytest's own exit status
   is kept, never 0 (1 where every selected test passed: a partial run is never green); or an **unplanned loss** (a skipped item, a lost worker): the gate **FAILS**.
   ``--allow-partial`` evaluates the complete pairs anyway and says so.
2. Nothing measured at all, a required benchmark not measured, a regression (or, with the
   errors counted against the candidate, a worst-case regression), an error rate above
   ``--max-error-rate``, an inconclusive comparison with ``--strict-power``, or a finding
   whose kind is in ``--fail-on``: the gate **FAILS** (exit status 1).
3. Otherwise it **PASSES** (exit status 0); a failing non-benchmark test or a collection
   error still makes the exit status 1 (said in ``differs``).
4. ``--gate off``: the verdict is computed and shown, the exit status is pytest's own.
   An interrupted session (2), an internal error (3) and a usage error (4) keep pytest's
   status. A session without any benchmark module (the project's own tests) is
   **inactive**: the gate says nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchgate.gate.comparison import INCONCLUSIVE, REGRESSION, Comparison
from benchgate.gate.coverage import NOT_MEASURED, PARTIAL, UNAVAILABLE, CoverageRow
from benchgate.gate.settings import GateSettings
from benchgate.gate.tables import ErrorRate

#: Verdict statuses.
PASS = "pass"
FAIL = "fail"
NOT_EVALUATED = "not_evaluated"
OFF = "off"
RECORDED = "recorded"
INACTIVE = "inactive"

#: pytest exit statuses the gate never replaces.
_KEEP = {2: "interrupted", 3: "internal error", 4: "usage error"}


@dataclass(frozen=True)
class Finding:
    """Something a reader should know that does not by itself fail the gate.

    Unless its kind is in ``--fail-on`` (then ``fails`` is True and it is a reason too).

    Attributes:
        kind: one of :data:`benchgate.gate.settings.FINDING_KINDS`.
        benchmark: the benchmark it concerns, or None for the whole run.
        message: one sentence.
        fails: the kind is in ``--fail-on``.
    """

    kind: str
    benchmark: str | None
    message: str
    fails: bool = False


@dataclass
class Verdict:
    """The gate's decision for a run and the process's exit status.

    Attributes:
        status: ``pass``, ``fail``, ``not_evaluated``, ``off`` (``--gate off``; see
            ``would_be``), ``recorded`` (``--gate record``: a baseline run measured
            completely) or ``inactive`` (no benchmark in the session).
        exit_status: the process's exit status.
        pytest_exit_status: what pytest alone would have returned.
        would_be: the verdict the gate reaches on its evidence (``pass``/``fail``/
            ``not_evaluated``), also under ``--gate off``.
        reasons: why the gate fails or is not evaluated (one line each).
        headline: the verdict in words, the terminal's last benchgate line.
        differs: why ``exit_status`` is not the verdict's own (0 for pass, 1 for fail),
            else None.
        counts: benchmark items by outcome in this run: ``correct``, ``incorrect``,
            ``no_answer``, ``error``.
    """

    status: str
    exit_status: int
    pytest_exit_status: int
    would_be: str
    reasons: list[str] = field(default_factory=list)
    headline: str = ""
    differs: str | None = None
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        """True for a PASS (gate on)."""
        return self.status == PASS

    def to_dict(self) -> dict[str, Any]:
        """Return the verdict as builtins."""
        return dict(self.__dict__)


def _pts(x: float) -> str:
    return f"{100 * x:.1f}"


def findings_of(
    comparisons: Sequence[Comparison],
    coverage: Sequence[CoverageRow],
    settings: GateSettings,
    extra: Sequence[Finding] = (),
) -> list[Finding]:
    """The findings of a run: no_answer jumps, excluded errors, benchmarks not measured.

    Args:
        comparisons: the gating comparisons.
        coverage: the coverage rows.
        settings: ``fail_on`` marks findings that fail.
        extra: findings made elsewhere (stand-ins, extra stored items, A/A noise, the
            sandbox level), appended after these.
    """
    found: list[Finding] = []
    for row in coverage:
        if row.status == UNAVAILABLE:
            found.append(
                Finding(
                    "not-measured", row.benchmark, f"{row.benchmark} not measured: {row.reason}"
                )
            )
        elif row.status == NOT_MEASURED:
            found.append(
                Finding("not-measured", row.benchmark, f"{row.benchmark} not measured: no outcome")
            )
    for comp in comparisons:
        head = f"{comp.benchmark}: {comp.candidate.label} vs {comp.baseline.label}"
        na = comp.no_answer
        if na is not None and na.flagged:
            found.append(
                Finding(
                    "no-answer-jump",
                    comp.benchmark,
                    f"{head}: no_answer jump: format failures rose from {na.baseline_rate:.1%} to "
                    f"{na.candidate_rate:.1%} ({na.newly} newly unanswered, {na.fixed} fixed; "
                    f"one-sided p={na.pvalue:.3g})",
                )
            )
        if comp.n_errors_excluded:
            found.append(
                Finding(
                    "errors-excluded",
                    comp.benchmark,
                    f"{head}: {comp.n_errors_excluded} item(s) with an error outcome left out of "
                    "the paired table (counted against the candidate in the worst case)",
                )
            )
        if comp.verdict == INCONCLUSIVE:
            found.append(
                Finding("inconclusive", comp.benchmark, f"{head}: inconclusive: {comp.reason}")
            )
    found.extend(extra)
    return [Finding(f.kind, f.benchmark, f.message, f.kind in settings.fail_on) for f in found]


def _underpowered(comparisons: Sequence[Comparison], mde_max: float) -> str | None:
    weak = [c for c in comparisons if c.verdict == INCONCLUSIVE]
    if not weak:
        return None
    worst = max(weak, key=lambda c: c.mdd if c.mdd == c.mdd else 0.0)
    if worst.graded is None and worst.mdd != float("inf"):
        detail = f"n={worst.n} detects only >= {_pts(worst.mdd)} pt drops"
    else:
        detail = f"n={worst.n} cannot rule out a drop of {_pts(mde_max)} pts (--mde-max)"
    return (
        f"{len(weak)} of {len(comparisons)} comparisons underpowered ({detail}); "
        "--strict-power to fail"
    )


def decide_run(
    *,
    has_benchmarks: bool,
    plan_collected: bool,
    comparisons: Sequence[Comparison],
    coverage: Sequence[CoverageRow],
    findings: Sequence[Finding],
    error_rates: Sequence[ErrorRate],
    settings: GateSettings,
    session: dict[str, Any],
    counts: dict[str, int],
    gating_planned: bool,
    problems: Sequence[str] = (),
) -> Verdict:
    """Apply the rules of the module docstring.

    Args:
        has_benchmarks: the session collected at least one benchmark module.
        plan_collected: a collecting process reported the plan.
        comparisons: the gating comparisons that were evaluated.
        coverage: the coverage rows.
        findings: the findings (``fails`` set from ``--fail-on``).
        error_rates: error share per (model, benchmark).
        settings: thresholds and ``allow_partial``.
        session: the run log's session facts (``pytest_exit_status``, ``gate``,
            ``stopped_early``, ``other_failures``, ``collection_errors``).
        counts: benchmark items by outcome.
        gating_planned: the plan has at least one gating pair.
        problems: pairs that could not be compared (mixed versions or data), each a
            failing reason.

    Returns:
        The :class:`Verdict`.
    """
    pytest_status = int(session.get("pytest_exit_status", 0))
    gate_on = session.get("gate", "on") in ("on", "record")
    other = list(session.get("other_failures") or [])
    collection_errors = int(session.get("collection_errors") or 0)
    fail: list[str] = list(problems)
    partial: list[str] = []
    if not has_benchmarks:
        return Verdict(
            INACTIVE,
            pytest_status,
            pytest_status,
            INACTIVE,
            headline="gate inactive: no benchmark in this session",
            counts=counts,
        )
    if not plan_collected:
        fail.append(
            "no collection plan arrived from the workers (every worker was lost "
            "before collecting?): nothing can be checked against a plan"
        )
    recording = session.get("gate") == "record"
    if not gating_planned and not recording:
        fail.append("no comparison was planned (no baseline with a candidate)")
    for row in coverage:
        if row.status == UNAVAILABLE and row.required:
            fail.append(f"required benchmark {row.benchmark} not measured: {row.reason}")
        elif row.status == NOT_MEASURED and row.required:
            fail.append(f"required benchmark {row.benchmark} not measured: no outcome")
        for gap in row.gaps:
            line = (
                f"{row.benchmark}: {gap.side}: {gap.count} of {row.planned_items} planned "
                f"items {gap.reason}"
            )
            if gap.deliberate:
                partial.append(line)
            elif settings.allow_partial:
                continue
            else:
                fail.append(f"{line} (unplanned loss)")
    measured = sum(counts.values())
    if measured == 0:
        fail.append(
            "nothing was measured: no benchmark item produced an outcome "
            + _not_measured_hint(coverage)
        )
    if partial and not settings.allow_partial and not fail:
        would_be = NOT_EVALUATED
    else:
        for comp in comparisons:
            head = f"{comp.benchmark}: {comp.candidate.label} vs {comp.baseline.label}"
            if comp.verdict == REGRESSION:
                fail.append(f"{head}: regression ({comp.reason})")
            elif comp.worst_case is not None and comp.worst_case.regression:
                w = comp.worst_case
                fail.append(
                    f"{head}: errors could hide a regression: with the {w.errors} error "
                    f"item(s) counted against the candidate the drop is {_pts(w.drop)} pts "
                    f"(b={w.b}, c={w.c}, Holm-adjusted one-sided p={w.pvalue_regression_holm:.3g})"
                )
            if comp.verdict == INCONCLUSIVE and settings.strict_power:
                fail.append(f"{head}: inconclusive ({comp.reason}); --strict-power fails the gate")
        for rate in error_rates:
            if rate.exceeded:
                fail.append(
                    f"{rate.benchmark}: {rate.model}: error rate {rate.rate:.1%} ({rate.errors}/"
                    f"{rate.n}) above --max-error-rate {100 * settings.max_error_rate:g}%; errors "
                    "are not a pass (backend down or failing?)"
                )
        for f in findings:
            if f.fails:
                fail.append(f"--fail-on {f.kind}: {f.message}")
        would_be = FAIL if fail else PASS
    reasons = fail if would_be == FAIL else (partial if would_be == NOT_EVALUATED else [])
    verdict = Verdict(would_be, 0, pytest_status, would_be, reasons=reasons, counts=counts)
    _set_exit(verdict, gate_on, pytest_status, other, collection_errors, session)
    verdict.headline = _headline(verdict, comparisons, findings, settings, partial, coverage)
    return verdict


def _not_measured_hint(coverage: Sequence[CoverageRow]) -> str:
    missing = [f"{r.benchmark} ({r.reason})" for r in coverage if r.status == UNAVAILABLE]
    if missing:
        return "(no data: " + "; ".join(missing[:3]) + (" ..." if len(missing) > 3 else "") + ")"
    return "(see the coverage table)"


def _set_exit(
    verdict: Verdict,
    gate_on: bool,
    pytest_status: int,
    other: list[str],
    collection_errors: int,
    session: dict[str, Any],
) -> None:
    if pytest_status in _KEEP:
        verdict.status = NOT_EVALUATED if verdict.status != FAIL else verdict.status
        verdict.exit_status = pytest_status
        verdict.differs = f"pytest's exit status {pytest_status} ({_KEEP[pytest_status]}) is kept"
        if verdict.status == NOT_EVALUATED and not verdict.reasons:
            verdict.reasons = [f"the session ended with {_KEEP[pytest_status]}"]
        return
    if not gate_on:
        verdict.status = OFF
        verdict.exit_status = pytest_status
        verdict.differs = f"--gate off: pytest's own exit status ({pytest_status}) is kept"
        return
    if verdict.status == NOT_EVALUATED:
        # Fail closed: a partial run is never green. pytest's own failing status is kept
        # (a developer's `-k` run reads as usual); where pytest would say 0, the exit
        # status is 1, since nothing planned was gated (--allow-partial gates what is there).
        verdict.exit_status = pytest_status or 1
        verdict.differs = (
            f"the gate was not evaluated (partial run), so pytest's own exit status "
            f"({pytest_status}) is kept"
            if pytest_status
            else "the gate was not evaluated (partial run): exit status 1, although every "
            "selected test passed (a partial run is never green; --allow-partial gates the "
            "complete pairs)"
        )
        return
    verdict.exit_status = 1 if verdict.status == FAIL else 0
    if verdict.status == PASS and session.get("gate") == "record":
        verdict.status = RECORDED
    if verdict.status in (PASS, RECORDED) and (other or collection_errors):
        verdict.exit_status = 1
        verdict.differs = (
            f"{len(other)} failing non-benchmark test(s) and {collection_errors} collection "
            "error(s) keep exit status 1"
        )


def _headline(
    verdict: Verdict,
    comparisons: Sequence[Comparison],
    findings: Sequence[Finding],
    settings: GateSettings,
    partial: list[str],
    coverage: Sequence[CoverageRow],
) -> str:
    status = verdict.would_be
    not_measured = [
        f"{r.benchmark} not measured: {'no data' if r.status == UNAVAILABLE else 'no outcome'}"
        for r in coverage
        if r.status in (UNAVAILABLE, NOT_MEASURED)
    ]
    tail = f"; {'; '.join(not_measured)} (see coverage)" if not_measured else ""
    if status == PASS and verdict.status == RECORDED:
        n = sum(verdict.counts.values())
        line = f"gate RECORD: {n} item outcomes measured, nothing planned is missing{tail}"
    elif status == PASS:
        line = f"gate PASS: no regression in {len(comparisons)} comparison(s)"
        weak = _underpowered(comparisons, settings.mde_max)
        if weak:
            line += f"; {weak}"
        # A benchmark with no outcome at all is as partial as one with some missing.
        if settings.allow_partial and any(r.status in (PARTIAL, NOT_MEASURED) for r in coverage):
            line += "; PARTIAL run allowed by --allow-partial (see coverage)"
        line += tail
    elif status == FAIL:
        first = verdict.reasons[0] if verdict.reasons else "see the reasons above"
        more = f" (+{len(verdict.reasons) - 1} more)" if len(verdict.reasons) > 1 else ""
        line = f"gate FAIL: {first}{more}"
    else:
        what = partial[0] if partial else (verdict.reasons[0] if verdict.reasons else "")
        more = f" (+{len(partial) - 1} more)" if len(partial) > 1 else ""
        line = f"gate NOT EVALUATED (partial run: {what}{more})"
    if verdict.status == OFF:
        line = f"gate off (would be: {line.removeprefix('gate ')})"
    if verdict.differs:
        line += f"; exit status {verdict.exit_status}: {verdict.differs}"
    else:
        line += f"; exit status {verdict.exit_status}"
    return line

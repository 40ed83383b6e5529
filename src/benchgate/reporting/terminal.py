"""The terminal reporter: what a CI user reads at the end of a run, the verdict last.

Sections (each only when it has something to say): accuracy (model x benchmark), coverage
(what was planned but not measured, and why), comparisons (one row per gating comparison,
narrow), multi-model table, A/A noise floor, findings, error outcomes (first few, one line
each), then the gate: its reasons, a line reconciling pytest's counts ("328 items answered
wrong: expected in a benchmark, not test failures of benchgate"), where the reports are,
and the verdict's headline as the very last line. Lines are queued on the
:class:`~benchgate.reporting.hooks.ReportContext`; pytest's terminal summary (or the report
command) prints them.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from benchgate.reporting.hooks import ReportContext, hookimpl
from benchgate.safetext import clean_text

if TYPE_CHECKING:
    from benchgate.gate import Comparison, Run

#: Error outcomes listed one line each before the verdict.
MAX_ERRORS_SHOWN = 5
#: Findings listed (the rest are counted).
MAX_FINDINGS_SHOWN = 12


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{100 * x:+.1f}" if signed else f"{100 * x:.1f}"


def _p(x: float) -> str:
    return "-" if x is None or math.isnan(x) else f"{x:.3g}"


def pasteable_nodeid(nodeid: str) -> str:
    """A node id without the ``@<group>`` suffix xdist's ``--dist loadgroup`` adds.

    The result can be pasted back onto pytest's command line.
    """
    if "]@" in nodeid:
        return nodeid[: nodeid.rindex("]@") + 1]
    return nodeid


def text_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """A fixed-width table (two spaces between columns), header and rule first."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*[str(c) for c in r]) for r in rows]
    return [line.rstrip() for line in lines]


def accuracy_lines(run: Run) -> list[str]:
    """Model x benchmark: accuracy % (correct/n), no_answer and error counts."""
    benches = list(
        dict.fromkeys(r.benchmark for r in sorted(run.accuracy, key=lambda r: r.benchmark))
    )
    models = list(dict.fromkeys(r.model for r in run.accuracy))
    cells = {(r.model, r.benchmark): r for r in run.accuracy}
    stand_in = {r.benchmark for r in run.accuracy if r.stand_in}
    header = ["model"] + [b + ("*" if b in stand_in else "") for b in benches]
    rows = []
    for model in models:
        row = [model]
        for bench in benches:
            r = cells.get((model, bench))
            if r is None:
                row.append("-")
                continue
            text = f"{_pct(r.accuracy)} ({r.correct}/{r.n})"
            if r.mean_score is not None:
                text = f"{_pct(r.mean_score)}s {text}"
            extra = ([f"na {r.no_answer}"] if r.no_answer else []) + (
                [f"err {r.error}"] if r.error else []
            )
            row.append(text + (f" [{', '.join(extra)}]" if extra else ""))
        rows.append(row)
    lines = text_table(header, rows)
    if stand_in:
        lines.append(
            "* stand-in data: "
            + "; ".join(
                f"{b}: {next(r.stand_in for r in run.accuracy if r.benchmark == b)}"
                for b in sorted(stand_in)
            )
        )
    if any(r.mean_score is not None for r in run.accuracy):
        lines.append(
            "Ns = mean graded score (%) of a graded benchmark, then its pass/fail accuracy"
        )
    return lines


def comparison_row(comp: Comparison) -> list[str]:
    """One comparison as table cells (graded benchmarks show the mean score difference)."""
    if comp.graded is not None:
        d = comp.graded.difference
        diff = f"{_pct(d.estimate, True)}s [{_pct(d.lower, True)}, {_pct(d.upper, True)}]"
        base, cand = _pct(comp.graded.baseline_mean) + "s", _pct(comp.graded.candidate_mean) + "s"
        mdd = "-"
    else:
        d = comp.difference
        diff = (
            f"{_pct(d.estimate, True)} [{_pct(d.lower, True)}, {_pct(d.upper, True)}]" if d else "-"
        )
        base = _pct(comp.baseline_accuracy.estimate) if comp.baseline_accuracy else "-"
        cand = _pct(comp.candidate_accuracy.estimate) if comp.candidate_accuracy else "-"
        mdd = _pct(comp.mdd)
    return [
        comp.benchmark,
        comp.baseline.label,
        comp.candidate.label,
        str(comp.n),
        base,
        cand,
        diff,
        str(comp.b),
        str(comp.c),
        _p(comp.pvalue_regression_holm),
        mdd,
        comp.verdict,
    ]


COMPARISON_HEADER = [
    "benchmark",
    "baseline",
    "candidate",
    "n",
    "base %",
    "cand %",
    "diff pts [95% CI]",
    "b",
    "c",
    "p regr. (Holm)",
    "MDD pts",
    "verdict",
]


def _coverage_lines(run: Run) -> list[str]:
    lines = []
    for row in run.coverage:
        if row.status == "complete":
            continue
        if row.status == "unavailable":
            lines.append(f"{row.benchmark}: not measured: {clean_text(row.reason, 300)}")
            continue
        lines.append(f"{row.benchmark}: {row.status} ({row.planned_items} items planned per model)")
        for gap in row.gaps:
            kind = "partial selection" if gap.deliberate else "UNPLANNED LOSS"
            lines.append(f"  {gap.side}: {gap.count} not measured: {gap.reason} [{kind}]")
    return lines


def _counts_line(run: Run) -> str:
    counts = run.verdict.counts if run.verdict else {}
    wrong, na, err = counts.get("incorrect", 0), counts.get("no_answer", 0), counts.get("error", 0)
    correct = counts.get("correct", 0)
    parts = [
        f"{correct} items answered right",
        f"{wrong} answered wrong",
        f"{na} unanswered (format failures)",
    ]
    if err:
        parts.append(f"{err} errors (backend/sandbox)")
    return (
        ", ".join(parts) + ": wrong and unanswered items are expected in a benchmark and "
        "are not test failures of benchgate; the gate decides the exit status"
    )


@hookimpl(trylast=True)
def pytest_benchgate_report(run: Run, context: ReportContext) -> None:
    """Queue the terminal lines of ``run`` on ``context``."""
    line = context.line
    verdict = run.verdict
    if run.accuracy:
        line("=== benchgate accuracy ===")
        for text in accuracy_lines(run):
            line(text)
        s = run.session
        own = [o for k, v in run.outcomes.items() if "@" not in k for o in v]
        reused = sum(1 for o in own if o.score_cached)
        line(
            f"{len(own)} item outcomes; "
            f"{s.get('generated', 0)} completions generated, {s.get('cache_hits', 0)} from the "
            "response cache"
            + (f"; {reused} verdicts from the score cache (code not executed again; "
               "--rescore to score them again)" if reused else "")
        )
        if s.get("auto_workers"):
            line(str(s["auto_workers"]))
        if s.get("cache_write_errors"):
            line(
                f"{s['cache_write_errors']} completions could not be written to the response "
                "cache (full disk or read-only directory?): a re-run will generate them again",
                yellow=True,
            )
    coverage = _coverage_lines(run)
    if coverage:
        line("=== benchgate coverage: planned but not measured ===", yellow=True)
        for text in coverage:
            line(text)
    if run.comparisons:
        line("=== benchgate comparisons ===")
        for text in text_table(COMPARISON_HEADER, [comparison_row(c) for c in run.comparisons]):
            line(text)
        for comp in run.comparisons:
            if comp.verdict == "regression":
                line(
                    f"REGRESSION: {comp.benchmark}, {comp.candidate.label} vs "
                    f"{comp.baseline.label}: {comp.reason}",
                    red=True,
                )
        for ref in run.noise_reference:
            line(
                f"{ref.benchmark}: {ref.candidate}: observed flips {ref.observed}/{ref.n} vs "
                f"A/A flip rate {_pct(ref.aa_rate)}% ({ref.aa_flips}/{ref.aa_n}, run "
                f"{ref.source}): noise alone gives {ref.lower}-{ref.upper} flips "
                f"(p={_p(ref.pvalue)})"
            )
    if run.multi:
        line(
            "=== benchgate multi-model (all pairs, Holm within benchmark; letters: not "
            "distinguishable) ==="
        )
        for table in run.multi:
            ranks = ", ".join(f"{r.model} {_pct(r.accuracy)} {r.letters}" for r in table.ranking)
            q = (
                ""
                if math.isnan(table.cochran_q)
                else f"; Cochran's Q={table.cochran_q:.2f} p={_p(table.pvalue)}"
            )
            line(f"{table.benchmark} (n={table.n}{q}): {ranks}")
    if run.noise_floor:
        line("=== benchgate A/A noise floor ===")
        for text in text_table(
            ["benchmark", "n", "flips", "rate % [95% CI]", "A/A verdict"],
            [
                [
                    r.benchmark,
                    str(r.n),
                    str(r.flips),
                    f"{_pct(r.rate)} [{_pct(r.lower)}, {_pct(r.upper)}]",
                    r.verdict,
                ]
                for r in run.noise_floor
            ],
        ):
            line(text)
    shown = [f for f in run.findings if f.kind != "inconclusive"]
    if shown:
        line("=== benchgate findings ===")
        for f in shown[:MAX_FINDINGS_SHOWN]:
            line(
                f"- {clean_text(f.message, 400)}" + (" [fails: --fail-on]" if f.fails else ""),
                red=f.fails,
            )
        if len(shown) > MAX_FINDINGS_SHOWN:
            line(f"... and {len(shown) - MAX_FINDINGS_SHOWN} more in summary.md")
    errors = [o for k, v in run.outcomes.items() if "@" not in k for o in v if o.status == "error"]
    if errors:
        line(f"=== benchgate error outcomes ({len(errors)}) ===", red=True)
        for o in errors[:MAX_ERRORS_SHOWN]:
            where = pasteable_nodeid(o.nodeid) or f"{o.model} {o.benchmark} {o.item_id}"
            line(f"{where}: {clean_text(o.error or o.detail, 200)}")
        if len(errors) > MAX_ERRORS_SHOWN:
            line(f"... and {len(errors) - MAX_ERRORS_SHOWN} more in results.jsonl")
    if verdict is None:
        return
    passed = verdict.status in ("pass", "recorded")
    line(
        "=== benchgate gate ===",
        red=verdict.status == "fail",
        green=passed,
        yellow=not passed and verdict.status != "fail",
    )
    for reason in verdict.reasons[:10]:
        line(f"- {clean_text(reason, 500)}", red=verdict.status == "fail")
    if len(verdict.reasons) > 10:
        line(f"- ... and {len(verdict.reasons) - 10} more in summary.md")
    if run.session.get("sandbox") == "none":
        line("WARNING: --sandbox none: model-written code ran WITHOUT isolation", red=True)
    if sum(verdict.counts.values()):
        line(_counts_line(run))
    reports = context.reports_dir
    run_log = reports / "runs" / (run.run_dir or run.run_id)
    line(f"reports: {reports / 'summary.md'}; run log: {run_log}")
    line(
        verdict.headline,
        bold=True,
        red=verdict.status == "fail",
        green=passed,
        yellow=not passed and verdict.status != "fail",
    )

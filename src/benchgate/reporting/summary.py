"""summary.json and summary.md: accuracy, comparisons, verdicts, findings, flipped items.

The same tables are printed at the end of the pytest output (:func:`comparison_table`)
and attached to the Allure gate result (:func:`comparison_html`).
"""

from __future__ import annotations

import html
import json
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchgate.compare import INCONCLUSIVE, REGRESSION, Comparison, GateResult
from benchgate.records import Outcome, Status

#: Version of summary.json's layout.
SUMMARY_SCHEMA_VERSION = 1
#: Flipped items listed per comparison in summary.md (all are in summary.json).
MAX_FLIPS_SHOWN = 50
#: Characters of a completion shown in summary.md (the full text is in results.jsonl).
MAX_COMPLETION_CHARS = 1500


@dataclass(frozen=True)
class AccuracyRow:
    """Accuracy of one model (or stored model) on one benchmark.

    Attributes:
        model: the model label (``id`` or ``id@run_id`` for a stored run).
        benchmark: the benchmark.
        n: outcomes (every status counts; errors and no_answers are not correct).
        correct: correct outcomes.
        incorrect: wrong answers.
        no_answer: format failures.
        error: generation/backend/sandbox failures.
        accuracy: ``correct / n``.
        lower: lower limit of the 95% Wilson interval.
        upper: upper limit of the 95% Wilson interval.
        mean_completion_tokens: mean completion tokens over the outcomes.
    """

    model: str
    benchmark: str
    n: int
    correct: int
    incorrect: int
    no_answer: int
    error: int
    accuracy: float
    lower: float
    upper: float
    mean_completion_tokens: float


def accuracy_rows(outcomes_by_model: Mapping[str, Sequence[Outcome]]) -> list[AccuracyRow]:
    """Accuracy per (model, benchmark), models in the given order, benchmarks sorted.

    Args:
        outcomes_by_model: model label -> its outcomes.
    """
    from benchgate.stats import wilson_interval

    rows = []
    for model, outcomes in outcomes_by_model.items():
        by_bench: dict[str, list[Outcome]] = {}
        for o in outcomes:
            by_bench.setdefault(o.benchmark, []).append(o)
        for bench in sorted(by_bench):
            items = by_bench[bench]
            counts = {s.value: 0 for s in Status}
            for o in items:
                counts[o.status] = counts.get(o.status, 0) + 1
            n = len(items)
            ci = wilson_interval(counts["correct"], n)
            tokens = sum(o.completion_tokens for o in items) / n
            rows.append(
                AccuracyRow(
                    model,
                    bench,
                    n,
                    counts["correct"],
                    counts["incorrect"],
                    counts["no_answer"],
                    counts["error"],
                    counts["correct"] / n,
                    ci.lower,
                    ci.upper,
                    tokens,
                )
            )
    return rows


def _jsonable(value: Any) -> Any:
    """Replace non-finite floats by the strings ``"inf"``, ``"-inf"``, ``"nan"`` (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf")
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    return value


def _pct(x: float | None, signed: bool = False) -> str:
    if x is None:
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{100 * x:+.1f}" if signed else f"{100 * x:.1f}"


def _num(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "-"
    if math.isnan(x):
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}g}"


def comparison_cells(comp: Comparison) -> list[str]:
    """The cells of one comparison row (see :data:`COMPARISON_HEADER`)."""
    diff = comp.difference
    odds = comp.odds_ratio
    return [
        comp.benchmark,
        comp.baseline.label,
        comp.candidate.label,
        str(comp.n),
        _pct(comp.baseline_accuracy.estimate) if comp.baseline_accuracy else "-",
        _pct(comp.candidate_accuracy.estimate) if comp.candidate_accuracy else "-",
        (
            f"{_pct(diff.estimate, True)} [{_pct(diff.lower, True)}, {_pct(diff.upper, True)}]"
            if diff
            else "-"
        ),
        str(comp.b),
        str(comp.c),
        _num(odds.estimate if odds else None),
        f"{comp.cohens_g:.2f}",
        _num(comp.pvalue),
        _num(comp.pvalue_regression_holm),
        _pct(comp.mdd),
        comp.verdict,
    ]


#: Header of the comparison table (accuracies and differences in points).
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
    "OR c/b",
    "g",
    "p (mid-p)",
    "p regr. (Holm)",
    "MDD pts",
    "verdict",
]


def _text_table(header: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    fmt = "  ".join(f"{{:<{w}}}" for w in widths)
    lines = [fmt.format(*header), fmt.format(*["-" * w for w in widths])]
    lines += [fmt.format(*r) for r in rows]
    return "\n".join(line.rstrip() for line in lines)


def comparison_table(comparisons: Sequence[Comparison]) -> str:
    """A fixed-width text table of the comparisons (for the terminal)."""
    return _text_table(COMPARISON_HEADER, [comparison_cells(c) for c in comparisons])


def _md_escape(text: str) -> str:
    return html.escape(text, quote=False).replace("|", "\\|").replace("\n", "<br>")


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(_md_escape(h) for h in header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(_md_escape(c) for c in row) + " |" for row in rows]
    return lines


def accuracy_markdown(rows: Sequence[AccuracyRow]) -> list[str]:
    """Markdown lines of the model x benchmark accuracy table (95% Wilson intervals)."""
    benches = sorted({r.benchmark for r in rows})
    models = list(dict.fromkeys(r.model for r in rows))
    cells = {(r.model, r.benchmark): r for r in rows}
    table = []
    for model in models:
        line = [model]
        for bench in benches:
            r = cells.get((model, bench))
            if r is None:
                line.append("-")
                continue
            extra = [f"na {r.no_answer}"] * bool(r.no_answer) + [f"err {r.error}"] * bool(r.error)
            line.append(
                f"{100 * r.accuracy:.1f} [{100 * r.lower:.1f}, {100 * r.upper:.1f}] "
                f"({r.correct}/{r.n})" + (f" {', '.join(extra)}" if extra else "")
            )
        table.append(line)
    return _md_table(["model"] + benches, table)


def _clip(text: str | None, limit: int = MAX_COMPLETION_CHARS) -> str:
    text = text or ""
    return text if len(text) <= limit else text[:limit] + f" ... [{len(text) - limit} more chars]"


def flips_markdown(comp: Comparison) -> list[str]:
    """Markdown lines listing a comparison's flipped items, both completions side by side."""
    if not comp.flips:
        return []
    lines = [
        f"### {comp.benchmark}: {comp.candidate.label} vs {comp.baseline.label} "
        f"({comp.b} regressions, {comp.c} improvements)",
        "",
    ]
    for flip in comp.flips[:MAX_FLIPS_SHOWN]:
        base, cand = flip.baseline, flip.candidate
        lines.append(
            f"**{flip.item_id}** ({flip.kind}; reference `{_md_escape(str(base.reference))}`)"
        )
        lines.append("")
        lines += _md_table(
            ["", f"baseline {comp.baseline.label}", f"candidate {comp.candidate.label}"],
            [
                ["status", base.status, cand.status],
                ["extracted", str(base.extracted), str(cand.extracted)],
                [
                    "finish / tokens",
                    f"{base.finish_reason} / {base.completion_tokens}",
                    f"{cand.finish_reason} / {cand.completion_tokens}",
                ],
                ["completion", _clip(base.completion), _clip(cand.completion)],
            ],
        )
        lines.append("")
    if len(comp.flips) > MAX_FLIPS_SHOWN:
        lines += [
            f"... and {len(comp.flips) - MAX_FLIPS_SHOWN} more (all ids in summary.json; "
            "completions in results.jsonl).",
            "",
        ]
    return lines


def summary_markdown(
    result: GateResult,
    rows: Sequence[AccuracyRow],
    run: Mapping[str, Any],
    plots: Sequence[str] = (),
) -> str:
    """Render summary.md.

    Args:
        result: the gate's result.
        rows: the accuracy rows.
        run: run identity (``id``, ``started``, ``git``...).
        plots: plot paths relative to the summary's directory.
    """
    status = "PASS" if result.passed else "FAIL"
    git = run.get("git") or {}
    commit = (git.get("commit") or "unknown")[:12] + (" (dirty)" if git.get("dirty") else "")
    s = result.settings
    lines = [
        "# benchgate summary",
        "",
        f"Run `{run.get('id', '?')}` started {run.get('started', '?')}, git {commit}.",
        "",
        f"**Gate: {status}** (exit status {result.exit_status}; alpha {s.alpha:g} family-wise "
        f"(Holm), margin {100 * s.margin:g} pts, --mde-max {100 * s.mde_max:g} pts, "
        f"max error rate {s.max_error_rate:g}{', strict power' if s.strict_power else ''}).",
        "",
    ]
    lines += [f"- {r}" for r in result.reasons]
    lines += [
        "",
        "## Accuracy",
        "",
        "Accuracy in % with 95% Wilson interval (correct/n); na = no_answer (format "
        "failure), err = error outcomes; both count as not correct.",
        "",
    ]
    lines += accuracy_markdown(rows)
    lines += ["", "## Comparisons", ""]
    if result.comparisons:
        lines += [
            "Paired on items both models scored without an error. b = regressions "
            "(baseline right, candidate wrong), c = improvements; diff = candidate minus "
            "baseline (Tango 95% interval); OR = conditional odds ratio c/b; g = Cohen's g; "
            "p = two-sided mid-p McNemar; p regr. = one-sided mid-p, Holm-adjusted over "
            "all comparisons; MDD = minimum detectable drop at 80% power.",
            "",
        ]
        lines += _md_table(COMPARISON_HEADER, [comparison_cells(c) for c in result.comparisons])
        lines += ["", "## Verdicts", ""]
        for c in result.comparisons:
            lines.append(
                f"- **{c.verdict}**: {c.benchmark}, {c.candidate.label} vs "
                f"{c.baseline.label}: {_md_escape(c.reason)}"
            )
    else:
        lines.append(
            "No comparison: the run has no baseline and candidate pair (see --baseline, "
            "--candidate, --compare all, --baseline-run)."
        )
    if result.notes:
        lines += ["", "## Findings", ""] + [f"- {_md_escape(n)}" for n in result.notes]
    erring = [e for e in result.error_rates if e.errors]
    if erring:
        lines += ["", "## Error outcomes", ""]
        lines += _md_table(
            ["model", "benchmark", "errors", "n", "rate", "above limit"],
            [
                [
                    e.model,
                    e.benchmark,
                    str(e.errors),
                    str(e.n),
                    f"{e.rate:.1%}",
                    "yes" if e.exceeded else "no",
                ]
                for e in erring
            ],
        )
    flips = [line for c in result.comparisons for line in flips_markdown(c)]
    if flips:
        lines += ["", "## Flipped items", ""] + flips
    if plots:
        lines += ["", "## Plots", ""] + [f"![{Path(p).stem}]({p})" for p in plots]
    return "\n".join(lines).rstrip() + "\n"


def summary_dict(
    result: GateResult,
    rows: Sequence[AccuracyRow],
    run: Mapping[str, Any],
    plots: Sequence[str] = (),
    run_log: str | None = None,
) -> dict[str, Any]:
    """Build summary.json's content (strict JSON: non-finite numbers become strings)."""
    return _jsonable(
        {
            "schema_version": SUMMARY_SCHEMA_VERSION,
            "run": dict(run),
            "run_log": run_log,
            "gate": {k: v for k, v in result.to_dict().items() if k != "comparisons"},
            "accuracy": [dict(r.__dict__) for r in rows],
            "comparisons": [c.to_dict() for c in result.comparisons],
            "plots": list(plots),
        }
    )


def write_summary(
    directory: Path,
    result: GateResult,
    rows: Sequence[AccuracyRow],
    run: Mapping[str, Any],
    plots: Sequence[Path] = (),
    run_log: Path | None = None,
) -> tuple[Path, Path]:
    """Write ``summary.json`` and ``summary.md`` into ``directory``.

    Returns:
        The two paths.
    """
    directory.mkdir(parents=True, exist_ok=True)
    rel = [os.path.relpath(p, directory) for p in plots]
    log_rel = os.path.relpath(run_log, directory) if run_log else None
    json_path = directory / "summary.json"
    md_path = directory / "summary.md"
    json_path.write_text(
        json.dumps(
            summary_dict(result, rows, run, rel, log_rel),
            indent=2,
            ensure_ascii=False,
            allow_nan=False,
        )
        + "\n",
        encoding="utf-8",
    )
    md_path.write_text(summary_markdown(result, rows, run, rel), encoding="utf-8")
    return json_path, md_path


def comparison_html(result: GateResult, rows: Sequence[AccuracyRow]) -> str:
    """Render a standalone HTML page of the gate (the Allure gate result's attachment).

    It holds the comparison table, the verdicts, the accuracy table and the findings.
    """
    colour = {REGRESSION: "#c0392b", INCONCLUSIVE: "#7f8c8d"}

    def table(header: list[str], body: list[list[str]], verdict_col: int | None = None) -> str:
        head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
        out = []
        for row in body:
            cells = []
            for i, cell in enumerate(row):
                style = ""
                if i == verdict_col:
                    style = f' style="color:{colour.get(cell, "#1e8449")};font-weight:bold"'
                cells.append(f"<td{style}>{html.escape(cell)}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(out)}</tbody></table>"

    acc = [
        [
            r.model,
            r.benchmark,
            str(r.n),
            f"{100 * r.accuracy:.1f}",
            f"[{100 * r.lower:.1f}, {100 * r.upper:.1f}]",
            str(r.no_answer),
            str(r.error),
        ]
        for r in rows
    ]
    status = "PASS" if result.passed else "FAIL"
    parts = [
        "<!doctype html><html><head><meta charset='utf-8'><title>benchgate gate</title><style>"
        "body{font-family:sans-serif;font-size:13px}table{border-collapse:collapse;margin:8px 0}"
        "td,th{border:1px solid #ccc;padding:3px 6px;text-align:left}th{background:#f3f3f3}"
        "</style></head><body>",
        f"<h2>benchgate gate: {status}</h2>",
        "<ul>" + "".join(f"<li>{html.escape(r)}</li>" for r in result.reasons) + "</ul>",
        "<h3>Comparisons</h3>",
        table(
            COMPARISON_HEADER,
            [comparison_cells(c) for c in result.comparisons],
            verdict_col=len(COMPARISON_HEADER) - 1,
        ),
        "<h3>Verdicts</h3><ul>"
        + "".join(
            f"<li><b>{html.escape(c.verdict)}</b>: {html.escape(c.benchmark)}, "
            f"{html.escape(c.candidate.label)} vs {html.escape(c.baseline.label)}: "
            f"{html.escape(c.reason)}</li>"
            for c in result.comparisons
        )
        + "</ul>",
        "<h3>Accuracy</h3>",
        table(["model", "benchmark", "n", "accuracy %", "95% CI", "no_answer", "error"], acc),
    ]
    if result.notes:
        parts.append(
            "<h3>Findings</h3><ul>"
            + "".join(f"<li>{html.escape(n)}</li>" for n in result.notes)
            + "</ul>"
        )
    parts.append("</body></html>")
    return "\n".join(parts)

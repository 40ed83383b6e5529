"""The Allure reporter: the gate's verdict on the overview, pairs linked, items explained.

Runs last (``trylast``), on the controller or in ``python -m benchgate report``, when an
Allure results directory is given. It writes into that directory:

* ``executor.json``: the report's title (``benchgate: gate FAIL``) and the headline, shown
  on the Overview page (Executors widget and the summary title);
* ``environment.properties``: the verdict, exit status and headline first, then the run's
  identity (models with backend and revision, benchmarks with version, dataset hash and
  stand-in note, packages, hardware);
* ``categories.json`` (:data:`CATEGORIES`): the gate's results by verdict, and the items by
  outcome kind (incorrect, no_answer, error); the categories tree then groups each kind by
  the extraction rule and no_answer sub-kind, which the item messages carry;
* a top-level ``gate`` suite (:func:`write_gate_results`): ``verdict`` (one result whose
  status is the gate's, with the HTML summary, summary.json and the plots attached),
  ``comparisons`` (one result per gating comparison: regression = failed, inconclusive =
  broken, pass = passed, with its paired-difference plot, its flipped items side by side
  and links to them), ``coverage`` (each benchmark not measured completely) and ``error
  rate`` (each model and benchmark above ``--max-error-rate``);
* annotations of the per-item results the workers wrote (:func:`annotate_items`): a short
  message naming the outcome kind and extraction rule (the full message moves to the
  trace), Behaviors labels that group the candidate's items by pair and flip (``cand vs
  base: regressed`` > benchmark > item), and on both sides of every flipped item the
  ``baseline vs candidate`` attachment with both answers side by side;
* ``history/``: the previous report's history (``--allure-history``), so the Trend and
  History views carry over.

Linking flipped items from their comparison: see :mod:`benchgate.reporting.allure_items`.

The per-item labels, parameters, description and text attachments are added while the test
runs, in the process that runs it (:mod:`benchgate.plugin.allure`).
"""

from __future__ import annotations

import hashlib
import html
import json
import logging
import shutil
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchgate.reporting.allure_items import (
    annotate_items,
    behaviors_link,
    benchmark_title,
    flip_epic,
    html_page,
    iso_ms,
)
from benchgate.reporting.hooks import ReportContext, hookimpl

if TYPE_CHECKING:
    from benchgate.gate import Comparison, Run

log = logging.getLogger(__name__)

#: The top-level suite of the gate's results.
GATE_SUITE = "gate"
#: Flipped items linked per comparison (all are in the side-by-side attachment's source).
MAX_LINKS = 100
#: Allure status of each comparison verdict.
VERDICT_STATUS = {"regression": "failed", "inconclusive": "broken", "pass": "passed"}
#: Allure status of the gate's result, by verdict status.
GATE_STATUS = {"pass": "passed", "recorded": "passed", "fail": "failed",
               "not_evaluated": "skipped", "off": "skipped", "inactive": "skipped"}

#: Allure categories. Allure 2 puts a result in every category whose statuses and message
#: regex (a Java regex matched against the whole message) fit, so these are exclusive.
CATEGORIES: list[dict[str, Any]] = [
    {"name": "Gate failed", "matchedStatuses": ["failed"], "messageRegex": "(?s)gate FAIL.*",
     "description": "The gate's verdict: FAIL (see the reasons in its result)."},
    {"name": "Gate: regression", "matchedStatuses": ["failed"],
     "messageRegex": "(?s)regression: .*",
     "description": "A candidate is significantly worse than the baseline (Holm-adjusted)."},
    {"name": "Gate: inconclusive (underpowered)", "matchedStatuses": ["broken"],
     "messageRegex": "(?s)inconclusive: .*",
     "description": "No regression found, but the run cannot rule out a drop of --mde-max."},
    {"name": "Gate: not measured", "matchedStatuses": ["failed", "skipped"],
     "messageRegex": "(?s)(not measured|partial): .*",
     "description": "A planned benchmark (or some of its items) was not measured."},
    {"name": "Gate: error rate above the limit", "matchedStatuses": ["failed"],
     "messageRegex": "(?s)error rate: .*",
     "description": "A model's share of error outcomes exceeds --max-error-rate."},
    {"name": "Wrong answer (incorrect)", "matchedStatuses": ["failed"],
     "messageRegex": "(?s)incorrect: .*",
     "description": "An answer was extracted and does not match the reference; grouped by "
     "extraction rule."},
    {"name": "Format failure (no_answer)", "matchedStatuses": ["failed"],
     "messageRegex": "(?s)no_answer: .*",
     "description": "No answer could be extracted; grouped by sub-kind (format, truncated at "
     "the token cap, answer only in the reasoning, reasoning unfinished) and rule."},
    {"name": "Error: timeout", "matchedStatuses": ["broken", "failed"],
     "messageRegex": "(?s)error: timeout.*",
     "description": "The request or the generated program ran out of time."},
    {"name": "Error: backend or sandbox", "matchedStatuses": ["broken", "failed"],
     "messageRegex": "(?s)error: (?!timeout).*",
     "description": "Generation, the backend or the sandbox failed (not a wrong answer)."},
]


# --- run-level files ----------------------------------------------------------------------


def write_categories(directory: Path) -> Path:
    """Write ``categories.json`` (:data:`CATEGORIES`) into the Allure results directory."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "categories.json"
    path.write_text(json.dumps(CATEGORIES, indent=2) + "\n", encoding="utf-8")
    return path


def _escape_property(text: str, key: bool) -> str:
    out = text.replace("\\", "\\\\").replace("\n", "\\n").replace("\r", "\\r")
    if key:
        for ch in (" ", "=", ":", "#", "!"):
            out = out.replace(ch, "\\" + ch)
    return out


def write_environment(directory: Path, properties: Mapping[str, Any]) -> Path:
    """Write ``environment.properties`` (Java properties, one ``key=value`` a line, in order).

    Args:
        directory: the Allure results directory.
        properties: keys and values (converted with ``str``; None is left out).
    """
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{_escape_property(str(k), True)}={_escape_property(str(v), False)}"
        for k, v in properties.items() if v is not None
    ]
    path = directory / "environment.properties"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def environment_properties(run: Run) -> dict[str, Any]:
    """The Environment widget's entries: the verdict first, then the run's identity."""
    from benchgate.reporting.markdown import status_word

    v = run.verdict
    props: dict[str, Any] = {
        "gate": status_word(run),
        "gate.exit_status": None if v is None else v.exit_status,
        "gate.headline": None if v is None else v.headline,
        "run.id": run.run_id,
    }
    ident = run.identity
    git = ident.get("git") or {}
    if git.get("commit"):
        props["git.revision"] = git["commit"] + (" (dirty)" if git.get("dirty") else "")
    for model in run.models:
        ident_b = model.get("backend_identity") or {}
        revision = model.get("revision") or ident_b.get("revision")
        if not revision:
            digest = (ident_b.get("weights") or ident_b.get("weights_sha256")
                      or ident_b.get("script"))
            revision = f"sha256:{digest}" if digest and not ident_b.get("script") else digest
        desc = f"{model.get('backend')} {model.get('model')}"
        if model.get("gguf_file"):
            desc += f"/{model['gguf_file']}"
        role = f"({model.get('dtype')}, role {model.get('role')})"
        props[f"model.{model.get('id')}"] = f"{desc} {role}"
        props[f"model.{model.get('id')}.revision"] = revision or "unpinned"
        if ident_b.get("served_model"):
            props[f"model.{model.get('id')}.served"] = ident_b["served_model"]
    if run.stored_side is not None:
        props["baseline_run"] = run.stored_side.label
    for name, bench in run.plan.benchmarks.items():
        if not bench.available:
            props[f"benchmark.{name}"] = f"not measured: {bench.reason}"
            continue
        props[f"benchmark.{name}.version"] = bench.version
        props[f"benchmark.{name}.dataset_hash"] = bench.dataset_hash
        if bench.stand_in:
            props[f"benchmark.{name}.stand_in"] = bench.stand_in
    props["python"] = ident.get("python")
    for name, version in (ident.get("packages") or {}).items():
        props[f"package.{name}"] = version
    hw = ident.get("hardware") or {}
    props["hardware.cpu"] = hw.get("cpu")
    props["hardware.cpu_count"] = hw.get("cpu_count")
    props["hardware.memory_gb"] = hw.get("memory_gb")
    props["hardware.gpus"] = ", ".join(hw.get("gpus") or []) or "none"
    props["host"] = ident.get("host")
    return props


def write_executor(directory: Path, run: Run) -> Path:
    """Write ``executor.json``: the report's title and the headline on the Overview page."""
    from benchgate.reporting.markdown import status_word

    headline = run.verdict.headline if run.verdict else "no verdict"
    data = {
        "name": "benchgate",
        "type": "benchgate",
        "reportName": f"benchgate: gate {status_word(run)}",
        "buildName": f"{run.run_id}: {headline}",
    }
    path = directory / "executor.json"
    path.write_text(json.dumps(data, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return path


def copy_history(source: Path, directory: Path) -> Path | None:
    """Copy a previous report's ``history/`` folder into ``directory/history``.

    Args:
        source: the previous report's ``history`` folder (``allure-report/history``).
        directory: the Allure results directory.

    Returns:
        The copied folder, or None when ``source`` does not exist (a first run).
    """
    if not source.is_dir():
        return None
    target = directory / "history"
    shutil.copytree(source, target, dirs_exist_ok=True)
    return target


# --- the gate's results --------------------------------------------------------------------


class _Writer:
    """Writes result and attachment files into an Allure results directory."""

    def __init__(self, directory: Path, start: int, stop: int) -> None:
        self.directory = directory
        self.start, self.stop = start, stop
        self.written: list[Path] = []

    def attachment(self, name: str, body: bytes | str, mime: str, ext: str) -> dict[str, str]:
        source = f"{uuid.uuid4()}-attachment.{ext}"
        data = body.encode("utf-8") if isinstance(body, str) else body
        (self.directory / source).write_bytes(data)
        return {"name": name, "source": source, "type": mime}

    def file(self, name: str, path: Path) -> dict[str, str] | None:
        kinds = {".png": ("image/png", "png"), ".html": ("text/html", "html"),
                 ".json": ("application/json", "json"), ".md": ("text/plain", "txt")}
        if not path.is_file():
            return None
        mime, ext = kinds.get(path.suffix, ("text/plain", "txt"))
        return self.attachment(name, path.read_bytes(), mime, ext)

    def result(self, *, full: str, name: str, status: str, suite: str,
               message: str | None = None, trace: str | None = None,
               description: str | None = None, attachments: Sequence[dict | None] = (),
               parameters: Mapping[str, str] | None = None,
               links: Sequence[dict[str, str]] = ()) -> Path:
        key = f"benchgate.gate#{full}"
        data = {
            "uuid": str(uuid.uuid4()),
            "historyId": hashlib.md5(key.encode()).hexdigest(),
            "testCaseId": hashlib.md5(key.encode()).hexdigest(),
            "fullName": key,
            "name": name,
            "status": status,
            "stage": "finished",
            "start": self.start,
            "stop": self.stop,
            "labels": [{"name": "parentSuite", "value": GATE_SUITE},
                       {"name": "suite", "value": suite},
                       {"name": "epic", "value": GATE_SUITE},
                       {"name": "feature", "value": suite},
                       {"name": "framework", "value": "benchgate"}],
            "parameters": [{"name": k, "value": v} for k, v in (parameters or {}).items()],
            "links": list(links),
            "attachments": [a for a in attachments if a],
        }
        if message or trace:
            data["statusDetails"] = {"message": message or "", "trace": trace or ""}
        if description:
            data["descriptionHtml"] = description
        path = self.directory / f"{data['uuid']}-result.json"
        path.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        self.written.append(path)
        return path


def _lines_html(lines: Sequence[str]) -> str:
    """Lines as ``<p>`` elements (Allure's description drops tables, lists and styles)."""
    return "".join(f"<p>{html.escape(line)}</p>" for line in lines)


def comparison_lines(run: Run, comp: Comparison) -> list[str]:
    """One comparison in sentences, for its Allure description (numbers from the Run)."""
    from benchgate.reporting.blocks import pts, pvalue
    from benchgate.reporting.markdown import difference_cell

    level = f"{run.settings.confidence:.0%}"
    test = ("paired permutation test of the mean score" if comp.graded is not None
            else "mid-p McNemar")
    lines = [
        f"verdict: {comp.verdict.upper()}: {comp.reason}",
        f"n = {comp.n} paired items; b = {comp.b} regressions (baseline right, candidate "
        f"wrong), c = {comp.c} improvements",
        f"difference, candidate minus baseline: {difference_cell(comp)} points ({level} "
        "paired interval)",
        f"p = {pvalue(comp.pvalue_regression_holm)}: one-sided {test}, Holm-adjusted over the "
        f"{len(run.comparisons)} gating comparison(s); alpha {run.settings.alpha:g}",
    ]
    if comp.baseline_accuracy is not None and comp.candidate_accuracy is not None:
        b, c = comp.baseline_accuracy, comp.candidate_accuracy
        lines.append(f"accuracy on the paired items: baseline {pts(b.estimate)} "
                     f"[{pts(b.lower)}, {pts(b.upper)}], candidate {pts(c.estimate)} "
                     f"[{pts(c.lower)}, {pts(c.upper)}]")
    if comp.graded is not None:
        g = comp.graded
        lines.append(f"graded score: baseline mean {pts(g.baseline_mean)}, candidate mean "
                     f"{pts(g.candidate_mean)} (n={g.n}); two-sided permutation p "
                     f"{pvalue(g.pvalue)}")
    elif comp.mdd == comp.mdd:
        lines.append(f"minimum detectable drop: {pts(comp.mdd)} points (--mde-max "
                     f"{pts(run.settings.mde_max)})")
    if comp.no_answer is not None:
        na = comp.no_answer
        lines.append(f"no_answer rate: {pts(na.baseline_rate)}% -> {pts(na.candidate_rate)}%"
                     + (" (jump)" if na.flagged else ""))
    if comp.worst_case is not None:
        w = comp.worst_case
        lines.append(f"worst case, {w.errors} error item(s) counted against the candidate: "
                     f"b={w.b}, c={w.c}, drop {pts(w.drop)} points, Holm p "
                     f"{pvalue(w.pvalue_regression_holm)}"
                     + (": REGRESSION" if w.regression else ""))
    for title, kind in (("regressed (b)", "regression"), ("improved (c)", "improvement")):
        ids = [f.item_id for f in comp.flips if f.kind == kind]
        if ids:
            lines.append(f"{title}: " + ", ".join(ids[:MAX_LINKS])
                         + (" ..." if len(ids) > MAX_LINKS else "")
                         + " (links below; both answers in the attachment)")
    return lines


def _comparison_page(run: Run, comp: Comparison) -> str:
    from benchgate.reporting.blocks import Block, render_html
    from benchgate.reporting.markdown import comparison_table, flip_html

    blocks = [comparison_table(run, [comp]),
              Block("list", items=comparison_lines(run, comp)[1:])]
    body = render_html(blocks)
    body += "".join(flip_html(f, comp) + "<br>" for f in comp.flips[:MAX_LINKS])
    if len(comp.flips) > MAX_LINKS:
        body += f"<p>{len(comp.flips) - MAX_LINKS} more flipped items in summary.json.</p>"
    return html_page(body)


def write_gate_results(directory: Path, run: Run, plots: Sequence[Path] = (),
                       summary_files: Sequence[Path] = ()) -> list[Path]:
    """Write the ``gate`` suite: verdict, comparisons, coverage, error rates.

    Args:
        directory: the Allure results directory.
        run: the run.
        plots: the plot PNGs (all attached to the verdict; each comparison gets its pair's).
        summary_files: other files to attach to the verdict (summary.json).

    Returns:
        The ``*-result.json`` files written. History ids hash the result's role and the
        model ids (never the run id), so each keeps its history across runs.
    """
    from benchgate.reporting.markdown import status_word, summary_html
    from benchgate.reporting.plots import pair_plot_name

    directory.mkdir(parents=True, exist_ok=True)
    now = int(datetime.now().timestamp() * 1000)
    start = iso_ms(run.identity.get("started"), now)
    w = _Writer(directory, start, max(start, iso_ms(run.identity.get("finished"), now)))
    by_name = {p.name: p for p in plots}
    v = run.verdict
    word = status_word(run)
    status = GATE_STATUS.get(v.status if v else "not_evaluated", "skipped")
    lines = [v.headline if v else "no verdict"]
    if v and v.reasons:
        lines += [f"reason: {r}" for r in v.reasons]
    lines += [f"finding: {f.kind}{' (fails the gate)' if f.fails else ''}: {f.message}"
              for f in run.findings]
    w.result(
        full="gate", name=f"gate {word}", status=status, suite="verdict",
        message=v.headline if v and status != "passed" else None,
        trace="\n".join(v.reasons) if v and v.reasons else None,
        description=_lines_html(lines),
        attachments=[w.attachment("summary", summary_html(run, []), "text/html", "html")]
        + [w.file(p.stem.replace("_", " "), p) for p in plots]
        + [w.file(p.name, p) for p in summary_files],
        parameters={"exit status": str(v.exit_status) if v else "-"},
    )
    for comp in run.comparisons:
        bench = run.plan.benchmarks.get(comp.benchmark)
        title = benchmark_title(comp.benchmark, bench.stand_in if bench else None)
        links = []
        regress = [f for f in comp.flips if f.kind == "regression"]
        improve = [f for f in comp.flips if f.kind != "regression"]
        for kind, flips in (("regressed", regress), ("improved", improve)):
            if flips:
                links.append({"type": "link", "name": f"all {len(flips)} {kind} items",
                              "url": behaviors_link(flip_epic(comp, kind), title)})
        for f in comp.flips[:MAX_LINKS]:
            kind = "regressed" if f.kind == "regression" else "improved"
            links.append({"type": "link", "name": f"{kind}: {f.item_id}",
                          "url": behaviors_link(flip_epic(comp, kind), title, f.item_id)})
        plot = by_name.get(pair_plot_name(comp.baseline.label, comp.candidate.label))
        w.result(
            full=f"{comp.benchmark}:{comp.candidate.model}:vs:{comp.baseline.model}",
            name=f"{title}: {comp.candidate.label} vs {comp.baseline.label}",
            status=VERDICT_STATUS.get(comp.verdict, "broken"), suite="comparisons",
            message=None if comp.verdict == "pass" else f"{comp.verdict}: {comp.reason}",
            description=_lines_html(comparison_lines(run, comp)),
            attachments=[w.attachment(f"comparison and flipped items (b={comp.b}, c={comp.c})",
                                      _comparison_page(run, comp), "text/html", "html"),
                         w.file("paired difference", plot) if plot else None],
            parameters={"benchmark": comp.benchmark, "baseline": comp.baseline.label,
                        "candidate": comp.candidate.label},
            links=links,
        )
    for row in run.coverage:
        if row.status == "complete":
            continue
        lost = [g for g in row.gaps if not g.deliberate]
        failing = (row.required and row.status in ("unavailable", "not measured")) or bool(lost)
        what = "not measured" if row.status in ("unavailable", "not measured") else "partial"
        why = row.reason or "; ".join(
            f"{g.side}: {g.count} of {row.planned_items} items {g.reason}" for g in row.gaps
        ) or "no outcome"
        bench = run.plan.benchmarks.get(row.benchmark)
        w.result(
            full=f"coverage:{row.benchmark}",
            name=f"{benchmark_title(row.benchmark, bench.stand_in if bench else None)}: {what}",
            status="failed" if failing else "skipped", suite="coverage",
            message=f"{what}: {why}",
            parameters={"benchmark": row.benchmark, "required": "yes" if row.required else "no"},
        )
    for rate in run.error_rates:
        if rate.exceeded:
            w.result(
                full=f"error-rate:{rate.benchmark}:{rate.model}",
                name=f"{rate.benchmark}: {rate.model} error rate", status="failed",
                suite="error rate",
                message=f"error rate: {rate.rate:.1%} ({rate.errors}/{rate.n}) above "
                f"--max-error-rate {100 * run.settings.max_error_rate:g}%",
                parameters={"model": rate.model, "benchmark": rate.benchmark},
            )
    return w.written


@hookimpl(trylast=True)
def pytest_benchgate_report(run: Run, context: ReportContext) -> None:
    """Write the gate's Allure results and annotate the items (with an Allure directory)."""
    directory = context.alluredir
    if directory is None or run.verdict is None or run.verdict.status == "inactive":
        return
    directory.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    if context.allure_history is not None:
        copied = copy_history(Path(context.allure_history), directory)
        if copied is None:
            context.line(f"allure: no history at {context.allure_history} (a first run?): "
                         "the Trend starts with this run")
        else:
            written.append(copied)
    plots = [p for p in context.written.get("plots", []) if Path(p).suffix == ".png"]
    summaries = [Path(p) for files in context.written.values() for p in files
                 if Path(p).name == "summary.json"]
    written += [write_categories(directory),
                write_environment(directory, environment_properties(run)),
                write_executor(directory, run)]
    written += write_gate_results(directory, run, [Path(p) for p in plots], summaries)
    annotate_items(directory, run)
    context.wrote("allure", *written)

"""Allure output of a benchgate run (on top of allure-pytest's per-test results).

* Per item (written by allure-pytest in the process that ran the test, xdist workers
  included): labels parent suite = model, suite = benchmark, sub-suite = subject
  (:func:`item_markers`, added at collection), parameters model / benchmark / item, and
  attachments prompt, completion, extracted answer and reference (:func:`record_item`,
  called during the test). History ids stay those of allure-pytest (the test's full name
  and its ``bench_case`` parameter), so they are stable across runs.
* Per run (written by the controller only, after the last test): ``categories.json``
  separating wrong answer, format failure, backend error, timeout and regression
  (:data:`CATEGORIES`), ``environment.properties`` (:func:`write_environment`) and the
  gate results (:func:`write_gate_results`): one result for the gate, one per comparison
  and one per error rate above the limit, carrying the comparison table and the plots.

The failure messages matched by :data:`CATEGORIES` are those of
:func:`benchgate.plugin.fixtures.check_outcome` (``Failed: incorrect: ...``, ``Failed:
no_answer ...``, ``ItemError: error: ...``) and of the gate results below
(``regression: ...``, ``error rate: ...``). Allure 2 adds a result to every category
whose status and message regex (a Java regex, matched against the whole message) fit, so
the regexes are kept mutually exclusive.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from benchgate.compare import INCONCLUSIVE, REGRESSION, GateResult

_TIMEOUT = "(timed out|timeout|no response within)"

#: Allure categories (categories.json), first the gate's, then the per-item outcomes.
CATEGORIES: list[dict[str, Any]] = [
    {
        "name": "Gate failed",
        "description": "The run's gate result: what failed the gate (see its attachments).",
        "matchedStatuses": ["failed"],
        "messageRegex": "(?s)gate failed: .*",
    },
    {
        "name": "Regression",
        "description": "A candidate is significantly worse than the baseline (McNemar, Holm).",
        "matchedStatuses": ["failed"],
        "messageRegex": "(?s)regression: .*",
    },
    {
        "name": "Timeout",
        "description": "The request or the generated code ran out of time.",
        "matchedStatuses": ["failed", "broken"],
        "messageRegex": (
            f"(?s)(Failed: incorrect: .*\\(timeout: .*|.*ItemError: error: .*{_TIMEOUT}.*)"
        ),
    },
    {
        "name": "Wrong answer",
        "description": "An answer was extracted and it does not match the reference.",
        "matchedStatuses": ["failed"],
        "messageRegex": "(?s)Failed: incorrect: (?!.*\\(timeout: ).*",
    },
    {
        "name": "Format failure",
        "description": "No answer could be extracted from the completion (no_answer).",
        "matchedStatuses": ["failed"],
        "messageRegex": "(?s)Failed: no_answer.*",
    },
    {
        "name": "Backend error",
        "description": "Generation, the backend or the sandbox failed; or a model's error rate "
        "is above --max-error-rate.",
        "matchedStatuses": ["broken", "failed"],
        "messageRegex": f"(?s)(.*ItemError: error: (?!.*{_TIMEOUT}).*|error rate: .*)",
    },
]

#: The parent suite of the gate's results in the Allure tree.
GATE_SUITE = "benchgate gate"


def allure_active(config: Any) -> bool:
    """True when allure-pytest writes results in this session (``--alluredir`` given)."""
    return bool(getattr(config.option, "allure_report_dir", None))


def item_markers(model: str, benchmark: str, subject: str | None) -> list[Any]:
    """Allure suite labels of one (model, item) test, as pytest markers.

    Args:
        model: the model id (parent suite).
        benchmark: the benchmark (suite).
        subject: the item's subject or category (sub-suite), or None.

    Returns:
        Marker decorators for ``item.add_marker``.
    """
    import allure

    marks = [allure.parent_suite(model), allure.suite(benchmark)]
    if subject:
        marks.append(allure.sub_suite(subject))
    return marks


def record_item(outcome: Mapping[str, Any]) -> None:
    """Add an item's parameters, description and attachments to the running Allure test.

    Call it during the test's call phase (allure-pytest's current test). A no-op when
    allure-pytest is not writing results.

    Args:
        outcome: the item's :meth:`benchgate.records.Outcome.to_dict`.
    """
    import allure

    model, bench, item = outcome["model"], outcome["benchmark"], outcome["item_id"]
    # Display only: the history id keeps using the original bench_case parameter value.
    allure.dynamic.parameter("bench_case", f"{model}-{item}")
    for name, value in (("model", model), ("benchmark", bench), ("item", item)):
        allure.dynamic.parameter(name, value, excluded=True)
    if outcome.get("subject"):
        allure.dynamic.parameter("subject", outcome["subject"], excluded=True)
    tokens = outcome.get("completion_tokens", 0)
    allure.dynamic.description(
        f"**{outcome['status']}**: extracted `{outcome.get('extracted')}`, reference "
        f"`{outcome.get('reference')}`; finish_reason {outcome.get('finish_reason')}, "
        f"{tokens} completion tokens, {outcome.get('latency_s', 0.0):.2f} s"
        + (" (cached)" if outcome.get("cached") else "")
    )
    text = allure.attachment_type.TEXT
    allure.attach(str(outcome.get("prompt", "")), name="prompt", attachment_type=text)
    allure.attach(str(outcome.get("completion", "")), name="completion", attachment_type=text)
    reasoning = (outcome.get("extra") or {}).get("reasoning")
    if reasoning:
        allure.attach(str(reasoning), name="reasoning", attachment_type=text)
    allure.attach(str(outcome.get("extracted")), name="extracted answer", attachment_type=text)
    allure.attach(str(outcome.get("reference")), name="reference", attachment_type=text)
    if outcome.get("error"):
        allure.attach(str(outcome["error"]), name="error", attachment_type=text)


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
    """Write ``environment.properties`` (Java properties format, one ``key=value`` a line).

    Args:
        directory: the Allure results directory.
        properties: keys and values (converted with ``str``; None is left out).
    """
    directory.mkdir(parents=True, exist_ok=True)
    lines = [
        f"{_escape_property(str(k), True)}={_escape_property(str(v), False)}"
        for k, v in properties.items()
        if v is not None
    ]
    path = directory / "environment.properties"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def environment_properties(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """Flatten a run manifest into Allure's environment properties.

    Args:
        manifest: :func:`benchgate.reporting.runlog.build_manifest` output.

    Returns:
        Models with backend and revision, benchmark versions and dataset hashes, package
        versions, git revision and hardware, as ``key -> value``.
    """
    run = manifest.get("run", {})
    props: dict[str, Any] = {"run.id": run.get("id")}
    git = run.get("git") or {}
    if git.get("commit"):
        props["git.revision"] = git["commit"] + (" (dirty)" if git.get("dirty") else "")
    for model in manifest.get("models", []):
        ident = model.get("backend_identity") or {}
        # A pinned hub revision, else the hash of the weights (local files) or the script.
        revision = model.get("revision") or ident.get("revision")
        if not revision:
            digest = ident.get("weights") or ident.get("weights_sha256") or ident.get("script")
            revision = f"sha256:{digest}" if digest and not ident.get("script") else digest
        desc = f"{model.get('backend')} {model.get('model')}"
        if model.get("gguf_file"):
            desc += f"/{model['gguf_file']}"
        props[f"model.{model.get('id')}"] = (
            desc + f" ({model.get('dtype')}, role {model.get('role')})"
        )
        props[f"model.{model.get('id')}.revision"] = revision or "unpinned"
        if ident.get("device"):
            props[f"model.{model.get('id')}.device"] = ident["device"]
    for name, bench in (manifest.get("benchmarks") or {}).items():
        props[f"benchmark.{name}.version"] = bench.get("version")
        props[f"benchmark.{name}.dataset_hash"] = bench.get("dataset_hash")
    props["python"] = run.get("python")
    for name, version in (run.get("packages") or {}).items():
        props[f"package.{name}"] = version
    hw = run.get("hardware") or {}
    props["hardware.cpu"] = hw.get("cpu")
    props["hardware.cpu_count"] = hw.get("cpu_count")
    props["hardware.memory_gb"] = hw.get("memory_gb")
    props["hardware.gpus"] = ", ".join(hw.get("gpus") or []) or "none"
    props["host"] = run.get("host")
    return props


def _attach(logger: Any, path: Path, name: str) -> Any:
    from allure_commons.model2 import ATTACHMENT_PATTERN, Attachment
    from allure_commons.types import AttachmentType
    from allure_commons.utils import uuid4

    kinds = {
        ".png": AttachmentType.PNG,
        ".html": AttachmentType.HTML,
        ".json": AttachmentType.JSON,
        ".md": AttachmentType.TEXT,
        ".txt": AttachmentType.TEXT,
    }
    kind = kinds.get(path.suffix, AttachmentType.TEXT)
    file_name = ATTACHMENT_PATTERN.format(prefix=uuid4(), ext=kind.extension)
    logger.report_attached_file(str(path), file_name)
    return Attachment(name=name, source=file_name, type=kind.mime_type)


def write_gate_results(
    directory: Path,
    result: GateResult,
    attachments: Sequence[tuple[Path, str]],
    run_id: str,
    pair_plots: Mapping[tuple[str, str], Path] | None = None,
    start_ms: int | None = None,
) -> list[Path]:
    """Write the gate's Allure results into ``directory`` (the controller, after the run).

    * ``gate``: failed when the gate fails (message: the reasons), else passed; carries
      ``attachments`` (comparison table, summary, plots).
    * one result per comparison, suite = benchmark: failed ``regression: ...``, skipped
      ``inconclusive: ...`` or passed, with the pair's paired-bar plot.
    * one failed ``error rate: ...`` result per (model, benchmark) above the limit.

    History ids hash the gate's name and the compared model ids (not the run id), so a
    comparison keeps its history across runs.

    Args:
        directory: the Allure results directory.
        result: the gate's result.
        attachments: ``(file, name)`` pairs attached to the gate result.
        run_id: the run's id (shown in the description).
        pair_plots: ``(baseline label, candidate label) -> PNG`` for the comparison results.
        start_ms: session start in ms since the epoch (result timing), default now.

    Returns:
        The ``*-result.json`` files written.
    """
    from allure_commons.logger import AllureFileLogger
    from allure_commons.model2 import Label, Parameter, StatusDetails, TestResult
    from allure_commons.model2 import Status as AllureStatus
    from allure_commons.utils import md5, uuid4

    directory.mkdir(parents=True, exist_ok=True)
    logger = AllureFileLogger(str(directory), clean=False)
    stop = int(time.time() * 1000)
    start = start_ms or stop
    before = set(directory.glob("*-result.json"))

    def emit(
        name: str,
        full: str,
        status: str,
        message: str | None,
        suite: str,
        files: Sequence[tuple[Path, str]],
        params: Mapping[str, str] | None = None,
        description: str | None = None,
        trace: str | None = None,
    ) -> None:
        test = TestResult(
            uuid=uuid4(),
            name=name,
            fullName=f"benchgate.gate#{full}",
            historyId=md5("benchgate.gate", full),
            testCaseId=md5("benchgate.gate", full),
            status=status,
            statusDetails=StatusDetails(message=message, trace=trace) if message else None,
            start=start,
            stop=stop,
            description=description,
            labels=[
                Label("parentSuite", GATE_SUITE),
                Label("suite", suite),
                Label("framework", "benchgate"),
                Label("tag", "gate"),
            ],
            parameters=[Parameter(name=k, value=v) for k, v in (params or {}).items()],
            attachments=[_attach(logger, path, title) for path, title in files if path.is_file()],
        )
        logger.report_result(test)

    verdict_status = {REGRESSION: AllureStatus.FAILED, INCONCLUSIVE: AllureStatus.SKIPPED}
    for comp in result.comparisons:
        status = verdict_status.get(comp.verdict, AllureStatus.PASSED)
        message = f"{comp.verdict}: {comp.reason}" if comp.verdict != "pass" else None
        plot = (pair_plots or {}).get((comp.baseline.label, comp.candidate.label))
        details = json.dumps(comp.to_dict(), indent=2, default=str)
        tmp = directory / f".{uuid4()}-comparison.json"
        tmp.write_text(details, encoding="utf-8")
        try:
            emit(
                f"{comp.benchmark}: {comp.candidate.label} vs {comp.baseline.label}",
                f"{comp.benchmark}:{comp.candidate.model}:vs:{comp.baseline.model}",
                status,
                message,
                comp.benchmark,
                [(tmp, "comparison (json)")] + ([(plot, "paired accuracy")] if plot else []),
                params={"baseline": comp.baseline.label, "candidate": comp.candidate.label},
                description=f"**{comp.verdict}**: {comp.reason}",
            )
        finally:
            tmp.unlink(missing_ok=True)
    for rate in result.error_rates:
        if rate.exceeded:
            emit(
                f"{rate.benchmark}: {rate.model} error rate",
                f"error-rate:{rate.benchmark}:{rate.model}",
                AllureStatus.FAILED,
                f"error rate: {rate.rate:.1%} ({rate.errors}/{rate.n}) above --max-error-rate "
                f"{result.settings.max_error_rate:g}",
                rate.benchmark,
                [],
                params={"model": rate.model},
            )
    status_line = "PASS" if result.passed else "FAIL"
    message = None if result.passed else "gate failed: " + "; ".join(result.reasons)
    emit(
        f"benchgate gate: {status_line}",
        "gate",
        AllureStatus.PASSED if result.passed else AllureStatus.FAILED,
        message,
        "gate",
        attachments,
        description=f"Run `{run_id}`: {len(result.comparisons)} comparisons; exit status "
        f"{result.exit_status}."
        + ("\n\n" + "\n".join(f"- {n}" for n in result.notes) if result.notes else ""),
        trace="\n".join(result.notes) or None,
    )
    return sorted(set(directory.glob("*-result.json")) - before)

"""Allure per item: labels, descriptions, messages, and what only the controller knows.

Used on both sides: the process that runs a benchmark test labels and describes it
(:mod:`benchgate.plugin.allure` calls :func:`item_description`), and at the end of the run
the controller's Allure reporter (:mod:`benchgate.reporting.allure`) rewrites each item's
result with :func:`annotate_items`: a short message naming the outcome kind, sub-kind and
extraction rule (so Allure's categories group by them, not by the completion's text),
Behaviors labels that place the candidate's items by pair and flip, and the
``baseline vs candidate`` attachment on both sides of every flipped item.

**Linking.** Allure 2 gives every result a random uid when the report is generated, so no
link can name a result; but tree groups have uids derived from their names (MD5 of the
parent group's uid and the name; the root's parent is ``null``), and the report routes
``#behaviors/<group uid>`` to that group, selected, with its parents expanded. Each
flipped item is the only candidate result of its Behaviors group (epic ``cand vs base:
regressed``, feature = benchmark, story = item id), so :func:`behaviors_link` opens exactly
that item's group, one click from its result.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import uuid
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchgate.gate import Comparison, Run
    from benchgate.records import Outcome

#: Label naming a benchmark test's (model, benchmark, item), JSON, set at collection.
ITEM_LABEL = "benchgate_item"
#: Label of the skipped placeholder test of a benchmark whose data is unavailable.
UNAVAILABLE_LABEL = "benchgate_unavailable"
#: Name of the side-by-side attachment of a flipped item.
PAIR_ATTACHMENT = "baseline vs candidate"
#: Characters kept of a text attachment (prompt, completion, reasoning).
ATTACHMENT_LIMIT = 20000

_TIMEOUT = re.compile(r"timed out|timeout|no response within", re.IGNORECASE)


def benchmark_title(name: str, stand_in: str | None) -> str:
    """The benchmark as Allure shows it: ``legalqa (stand-in)`` for stand-in data."""
    return f"{name} (stand-in)" if stand_in else name


def tree_uid(tree: str, *names: str) -> str:
    """The uid Allure 2 gives the group ``names`` of a report tree.

    Args:
        tree: the tree (``suites``, ``behaviors``, ``packages``, ``categories``).
        names: the group path from the top (e.g. epic, feature, story).

    Returns:
        ``md5(parent uid + name)`` applied from the root, whose uid is
        ``md5("null" + tree)`` (Allure 2's ``TreeUtils.createGroupUid``; checked against
        the CLI by ``tests/plugin/test_allure_report.py``).
    """
    uid = hashlib.md5(("null" + tree).encode()).hexdigest()
    for name in names:
        uid = hashlib.md5((uid + name).encode()).hexdigest()
    return uid


def behaviors_link(*names: str) -> str:
    """A report-relative URL that opens the Behaviors group ``names`` (epic, feature...)."""
    return "#behaviors/" + tree_uid("behaviors", *names)


def flip_epic(comparison: Comparison, kind: str) -> str:
    """The Behaviors epic of a pair's candidate items: ``cand vs base: regressed``.

    ``kind`` is ``regressed``, ``improved``, ``unchanged`` or ``left out (error)``.
    """
    return f"{comparison.candidate.label} vs {comparison.baseline.label}: {kind}"


def _esc(value: Any, limit: int = 300) -> str:
    from benchgate.safetext import clean_text

    return html.escape(clean_text(value, limit=limit))


def item_description(outcome: Mapping[str, Any]) -> str:
    """The HTML description of one item's result (every model-controlled text escaped).

    Names the outcome, the extracted answer and reference, the extraction rule, tokens and
    the cap, the item's own latency (time to its last token) and, labelled as such, the
    wall time of the batch it was generated in.
    """
    status = str(outcome.get("status"))
    kind = outcome.get("no_answer_kind")
    extracted = outcome.get("extracted")
    lines = [
        f"<p><b>{_esc(status)}</b>{f' ({_esc(kind)})' if kind else ''}: extracted "
        f"<code>{'none' if extracted is None else _esc(extracted)}</code>, reference "
        f"<code>{_esc(outcome.get('reference'))}</code>"
        + (f"; extraction rule <code>{_esc(outcome['extraction_rule'])}</code>"
           if outcome.get("extraction_rule") else "") + "</p>",
        "<ul>",
        f"<li>finish_reason <code>{_esc(outcome.get('finish_reason'))}</code>; "
        f"{int(outcome.get('prompt_tokens') or 0)} prompt and "
        f"{int(outcome.get('completion_tokens') or 0)} completion tokens"
        + (f" ({int(outcome['reasoning_tokens'])} reasoning)"
           if outcome.get("reasoning_tokens") else "") + "</li>",
    ]
    if outcome.get("cached"):
        lines.append("<li>read from the response cache: the times below are those of the "
                     "run that generated it</li>")
    if outcome.get("score_cached"):
        lines.append("<li>verdict read from the score cache: the same completion was scored "
                     "by the same scorer code and settings in an earlier run (code not "
                     "executed again; <code>--rescore</code> scores it again)</li>")
    lines.append(f"<li>latency of this item (time to its last token): "
                 f"{float(outcome.get('latency_s') or 0.0):.2f} s</li>")
    if outcome.get("batch_wall_s") is not None:
        lines.append(f"<li>wall time of the whole batch this item was generated in: "
                     f"{float(outcome['batch_wall_s']):.2f} s (shared by the batch; not this "
                     "item's latency)</li>")
    if outcome.get("energy_j") is not None:
        lines.append(f"<li>energy apportioned to this response: "
                     f"{float(outcome['energy_j']):.3g} J</li>")
    if outcome.get("detail"):
        lines.append(f"<li>detail: {_esc(outcome['detail'], 1000)}</li>")
    if outcome.get("error"):
        lines.append(f"<li>error: {_esc(outcome['error'], 1000)}</li>")
    if outcome.get("sandbox"):
        lines.append(f"<li>sandbox: {_esc(outcome['sandbox'])}</li>")
    return "\n".join(lines + ["</ul>"])


def item_message(o: Outcome) -> str | None:
    """The short message of a wrong item: its outcome kind, sub-kind and extraction rule.

    ``incorrect: wrong answer (rule marker)``, ``no_answer: truncated (rule none)``,
    ``error: timeout`` or ``error: backend or sandbox failure``; None for a correct item.
    Short and free of the completion, so Allure's categories group items by kind and rule.
    """
    rule = o.extraction_rule or "none"
    if o.status == "incorrect":
        what = "timed out" if o.detail and _TIMEOUT.search(o.detail) else "wrong answer"
        return f"incorrect: {what} (rule {rule})"
    if o.status == "no_answer":
        return f"no_answer: {o.no_answer_kind or 'format'} (rule {rule})"
    if o.status == "error":
        return "error: timeout" if _TIMEOUT.search(o.error or o.detail or "") else \
            "error: backend or sandbox failure"
    return None


def html_page(body: str) -> str:
    """Wrap an HTML fragment into a UTF-8 page with CJK-capable fonts (an attachment)."""
    return (
        '<!DOCTYPE html><html><head><meta charset="utf-8"><style>body{font-family:system-ui,'
        '"Noto Sans","Noto Sans CJK SC","Noto Sans CJK JP",sans-serif;font-size:13px}'
        "table{border-collapse:collapse;margin:6px 0 14px}td,th{border:1px solid #ccc;"
        'padding:6px;text-align:left;vertical-align:top}pre{font-family:ui-monospace,'
        '"Noto Sans Mono CJK SC",monospace;white-space:pre-wrap;word-break:break-word;'
        f"margin:0}}</style></head><body>{body}</body></html>"
    )


def pair_attachment_html(flip: Any, comparison: Comparison) -> str:
    """The ``baseline vs candidate`` attachment of a flipped item (a standalone page).

    Both completions side by side (cleaned, escaped, cut at :data:`ATTACHMENT_LIMIT`
    characters) and the prompt, collapsed.
    """
    from benchgate.reporting.markdown import flip_html

    prompt = _esc(flip.candidate.prompt or flip.baseline.prompt, 6000)
    return html_page(f"{flip_html(flip, comparison, limit=ATTACHMENT_LIMIT)}"
                     f"<details><summary>prompt</summary><pre>{prompt}</pre></details>")


def _labels(data: Mapping[str, Any]) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for label in data.get("labels") or []:
        found.setdefault(str(label.get("name")), []).append(str(label.get("value")))
    return found


def annotate_items(directory: Path, run: Run) -> int:
    """Add what only the controller knows to the item results the workers wrote.

    For every ``*-result.json`` carrying :data:`ITEM_LABEL` of this run (started at or after
    the run's start): the message becomes :func:`item_message` (the original message
    heads the trace), Behaviors labels place the candidate's items by pair and flip, and a
    flipped item (either side) gets the :data:`PAIR_ATTACHMENT` and its pair as
    parameters. The placeholder results of unavailable benchmarks are removed (the gate's
    ``coverage`` results say why). Files are rewritten atomically.

    Returns:
        The number of item results annotated.
    """
    started = iso_ms(run.identity.get("started"), 0) - 1000
    outcomes = {(side, o.benchmark, o.item_id): o
                for side, outs in run.outcomes.items() for o in outs}
    as_cand: dict[tuple[str, str], list[Comparison]] = {}
    for comp in [*run.comparisons, *run.reported]:
        as_cand.setdefault((comp.candidate.label, comp.benchmark), []).append(comp)
    flips: dict[tuple[str, str, str], list[tuple[Comparison, Any, str]]] = {}
    for comp in [*run.comparisons, *run.reported]:
        for f in comp.flips:
            flips.setdefault((comp.candidate.label, comp.benchmark, f.item_id), []).append(
                (comp, f, "candidate"))
            flips.setdefault((comp.baseline.label, comp.benchmark, f.item_id), []).append(
                (comp, f, "baseline"))
    count = 0
    for path in sorted(directory.glob("*-result.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        labels = _labels(data)
        if UNAVAILABLE_LABEL in labels:
            path.unlink()
            continue
        if ITEM_LABEL not in labels or int(data.get("stop") or 0) < started:
            continue
        try:
            ident = json.loads(labels[ITEM_LABEL][0])
            key = (ident["model"], ident["benchmark"], ident["item"])
        except (ValueError, KeyError, TypeError):
            continue
        outcome = outcomes.get(key)
        if outcome is None:
            continue
        _annotate(directory, data, outcome, run, as_cand.get(key[:2], []), flips.get(key, []))
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, path)
        count += 1
    return count


def _annotate(directory: Path, data: dict[str, Any], outcome: Outcome, run: Run,
              comparisons: Sequence[Comparison],
              flips: Sequence[tuple[Comparison, Any, str]]) -> None:
    message = item_message(outcome)
    details = data.get("statusDetails") or {}
    if message and data.get("status") in ("failed", "broken"):
        original = details.get("message") or ""
        trace = details.get("trace") or ""
        if trace.strip() and trace.strip() in original:
            trace = ""  # pytest.fail(pytrace=False): the trace repeats the message
        data["statusDetails"] = {**details, "message": message,
                                 "trace": "\n\n".join(t for t in (original, trace) if t)}
    bench = run.plan.benchmarks.get(outcome.benchmark)
    title = benchmark_title(outcome.benchmark, bench.stand_in if bench else None)
    labels = [lab for lab in data.get("labels") or []
              if lab.get("name") not in ("epic", "feature", "story")]
    flipped = {(c.candidate.label, c.baseline.label): (c, f) for c, f, role in flips
               if role == "candidate"}
    for comp in comparisons:
        hit = flipped.get((comp.candidate.label, comp.baseline.label))
        if hit is not None:
            kind = "regressed" if hit[1].kind == "regression" else "improved"
        elif outcome.status == "error":
            kind = "left out (error)"
        else:
            kind = "unchanged"
        labels.append({"name": "epic", "value": flip_epic(comp, kind)})
    if not comparisons:
        labels.append({"name": "epic", "value": f"{outcome.model}: as baseline only"})
    labels.append({"name": "feature", "value": title})
    if flipped:
        labels.append({"name": "story", "value": outcome.item_id})
    data["labels"] = labels
    attachments = list(data.get("attachments") or [])
    parameters = list(data.get("parameters") or [])
    for comp, flip, role in flips:
        other = comp.baseline.label if role == "candidate" else comp.candidate.label
        kind = "regression" if flip.kind == "regression" else "improvement"
        parameters.append({"name": f"{role} (paired with {other})",
                           "value": f"{kind}: baseline {flip.baseline.status}, "
                                    f"candidate {flip.candidate.status}", "excluded": True})
        source = f"{uuid.uuid4()}-attachment.html"
        (directory / source).write_text(pair_attachment_html(flip, comp), encoding="utf-8")
        name = PAIR_ATTACHMENT if len(flips) == 1 else (
            f"{PAIR_ATTACHMENT} ({comp.candidate.label} vs {comp.baseline.label})")
        attachments.insert(0, {"name": name, "source": source, "type": "text/html"})
    data["attachments"] = attachments
    data["parameters"] = parameters


def iso_ms(stamp: str | None, default: int) -> int:
    """An ISO 8601 time stamp in milliseconds since the epoch (``default`` if unreadable)."""
    if not stamp:
        return default
    try:
        return int(datetime.fromisoformat(stamp).timestamp() * 1000)
    except ValueError:
        return default

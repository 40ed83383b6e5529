"""summary.md and the HTML summary of a run: the same sections, readable at ~1,000 px.

Order (what a CI reader needs first): the verdict (headline, exit status and why it
differs from the verdict's own, the reasons, the outcome counts); coverage (what was not
measured and why); accuracy; the gating comparisons in a narrow table (benchmark,
baseline, candidate, n, difference in points with its paired interval, b, c, the gate's
p-value, verdict) with the rest (MDD, odds ratio, Cohen's g, two-sided mid-p, no_answer
shift) in a second, collapsed table; graded comparisons; the error worst case; reported
comparisons; the multi-model tables and the overall ranking; the A/A noise floor; findings;
resources (tokens, latency, memory, energy or why it is missing); flipped items with both
completions side by side; plots.

Both renderings are built from one list of blocks (:func:`summary_blocks`,
:mod:`benchgate.reporting.blocks`), so the Markdown and the HTML cannot drift apart.
Every number comes from the :class:`benchgate.gate.Run` (computed once by
:func:`benchgate.gate.build_run`); nothing is recomputed here. Text a model controls
(completions, extracted answers, references) is passed through
:func:`benchgate.safetext.clean_text` and escaped for the output format.
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from benchgate.reporting.blocks import (
    Block,
    Code,
    Inline,
    Strong,
    number,
    p_equals,
    pts,
    pvalue,
    render_html,
    render_markdown,
)
from benchgate.safetext import clean_text

if TYPE_CHECKING:
    from benchgate.gate import Comparison, Flip, Run

#: Flipped items shown per comparison (all are in summary.json).
MAX_FLIPS_SHOWN = 20
#: Characters of each completion shown beside the other (the full text is in the run log).
MAX_COMPLETION_CHARS = 1200
#: The stand-in marker put after a benchmark's name.
STAND_IN_MARK = "†"

_VERDICT_WORDS = {"regression": "REGRESSION", "inconclusive": "inconclusive", "pass": "pass"}
_STATUS_WORDS = {"pass": "PASS", "recorded": "RECORD", "fail": "FAIL",
                 "not_evaluated": "NOT EVALUATED",
                 "off": "OFF", "inactive": "INACTIVE"}
_FONTS = ('system-ui, -apple-system, "Segoe UI", "Noto Sans", "Noto Sans CJK SC", '
          '"Noto Sans CJK JP", sans-serif')


def benchmark_name(run: Run, name: str) -> str:
    """The benchmark's name, with :data:`STAND_IN_MARK` when its data is a stand-in."""
    bench = run.plan.benchmarks.get(name)
    return f"{name}{STAND_IN_MARK}" if bench is not None and bench.stand_in else name


def verdict_word(verdict: str) -> Inline:
    """A comparison verdict as shown (regressions in bold capitals)."""
    word = _VERDICT_WORDS.get(verdict, verdict)
    return Strong(word) if verdict == "regression" else word


def status_word(run: Run) -> str:
    """The gate's status as one word (``PASS``, ``FAIL``, ``NOT EVALUATED``...)."""
    if run.verdict is None:
        return "NOT EVALUATED"
    return _STATUS_WORDS.get(run.verdict.status, run.verdict.status.upper())


def difference_cell(comp: Comparison) -> str:
    """``-27.5 [-41.3, -12.1]``: candidate minus baseline, points, the paired interval."""
    if comp.graded is not None:
        d = comp.graded.difference
    elif comp.difference is not None:
        d = comp.difference
    else:
        return "-"
    return f"{pts(d.estimate, True)} [{pts(d.lower, True)}, {pts(d.upper, True)}]"


# --- sections --------------------------------------------------------------------------------


def _verdict(run: Run) -> list[Block]:
    v = run.verdict
    blocks = [Block("h", f"benchgate: gate {status_word(run)}", level=1)]
    if v is None:
        return blocks + [Block("p", "No verdict was reached (no run log to judge).")]
    blocks.append(Block("p", [Strong(v.headline)]))
    own = {"pass": 0, "fail": 1}.get(v.would_be)
    exit_line: list = [f"Exit status {v.exit_status}"]
    if v.differs:
        exit_line.append(f": {v.differs}")
    elif own is not None:
        exit_line.append(" (the verdict's own)")
    blocks.append(Block("p", exit_line + ["."]))
    if v.reasons:
        blocks.append(Block("p", "Why:" if v.would_be == "fail" else "Partial run:"))
        blocks.append(Block("list", items=list(v.reasons)))
    counts = v.counts or {}
    if counts:
        wrong = counts.get("incorrect", 0) + counts.get("no_answer", 0)
        blocks.append(Block("p", (
            f"Items: {counts.get('correct', 0)} correct, {counts.get('incorrect', 0)} incorrect, "
            f"{counts.get('no_answer', 0)} no_answer (format failure), {counts.get('error', 0)} "
            f"error. The {wrong} wrong or unanswered items are measurements of the models, not "
            "failures of benchgate; errors are judged by the error rate."
        )))
    ident = run.identity
    git = ident.get("git") or {}
    where = [f"Run {run.run_id}"]
    if ident.get("started"):
        where.append(f", {ident['started']} to {ident.get('finished', '?')}")
    if git.get("commit"):
        where.append(f", git {str(git['commit'])[:12]}{' (dirty)' if git.get('dirty') else ''}")
    if run.run_dir:
        where.append(f"; run log reports/runs/{run.run_dir}")
    blocks.append(Block("p", "".join(where) + "."))
    return blocks


def _coverage(run: Run) -> list[Block]:
    rows = [r for r in run.coverage if r.status != "complete"]
    blocks = [Block("h", "Coverage")]
    if not run.coverage:
        return blocks + [Block("p", "No benchmark was planned.")]
    if not rows:
        n = len(run.coverage)
        return blocks + [Block("p", f"All {n} planned benchmark(s) were measured completely "
                                    "for every model.")]
    table = Block("table", header=["benchmark", "status", "required", "what is missing, and why"])
    for r in rows:
        if r.reason:
            why = r.reason
        elif r.gaps:
            why = "; ".join(
                f"{g.side}: {g.count} of {r.planned_items} items {g.reason}"
                + ("" if g.deliberate else " (unplanned loss)") for g in r.gaps
            )
        else:
            why = "no outcome"
        table.rows.append([benchmark_name(run, r.benchmark), r.status,
                           "yes" if r.required else "no", why])
    complete = len(run.coverage) - len(rows)
    return blocks + [table, Block("p", f"{complete} other benchmark(s) measured completely.")]


def _accuracy(run: Run) -> list[Block]:
    if not run.accuracy:
        return []
    models = list(dict.fromkeys(r.model for r in run.accuracy))
    benches = sorted({r.benchmark for r in run.accuracy})
    cells = {(r.model, r.benchmark): r for r in run.accuracy}
    level = f"{run.settings.confidence:.0%}"
    wide = Block("table", header=["benchmark", *models])
    for b in benches:
        row: list[Inline] = [benchmark_name(run, b)]
        for m in models:
            r = cells.get((m, b))
            row.append("-" if r is None else
                       f"{pts(r.accuracy)} [{pts(r.lower)}, {pts(r.upper)}] n={r.n}")
        wide.rows.append(row)
    counts = Block("table", header=["model", "benchmark", "correct", "incorrect", "no_answer",
                                    "error", "mean tokens", "at cap"])
    for r in run.accuracy:
        kinds = ", ".join(f"{k} {v}" for k, v in r.no_answer_kinds.items())
        cap = f"{r.truncated} of {r.n}" + (f" (cap {r.token_cap})" if r.token_cap else "")
        counts.rows.append([
            r.model, benchmark_name(run, r.benchmark), str(r.correct), str(r.incorrect),
            f"{r.no_answer}" + (f" ({kinds})" if kinds else ""), str(r.error),
            f"{r.mean_completion_tokens:.0f}", cap,
        ])
    graded = [r for r in run.accuracy if r.mean_score is not None]
    blocks = [Block("h", "Accuracy"),
              Block("p", f"Accuracy in % with the {level} Wilson interval and the number of "
                         "items; every outcome counts (no_answer and error are not correct)."),
              wide]
    if graded:
        blocks.append(Block("p", "Graded benchmarks, mean score in points: " + "; ".join(
            f"{r.model} on {r.benchmark} {pts(r.mean_score)}" for r in graded) + "."))
    blocks += _stand_in_notes(run)
    blocks.append(Block("details", "Outcome counts, tokens and truncation at the token cap",
                        children=[counts]))
    return blocks


def _stand_in_notes(run: Run) -> list[Block]:
    notes = [f"{STAND_IN_MARK} {name}: stand-in data: {b.stand_in}"
             for name, b in run.plan.benchmarks.items() if b.stand_in]
    return [Block("p", "\n".join(notes))] if notes else []


def comparison_table(run: Run, comparisons: Sequence[Comparison]) -> Block:
    """The narrow comparison table (one row per comparison)."""
    table = Block("table", header=["benchmark", "baseline", "candidate", "n", "diff pts [CI]",
                                   "b", "c", "p", "verdict"])
    for c in comparisons:
        p = c.pvalue_regression_holm
        table.rows.append([
            benchmark_name(run, c.benchmark), c.baseline.label, c.candidate.label, str(c.n),
            difference_cell(c), str(c.b), str(c.c), pvalue(p), verdict_word(c.verdict),
        ])
    return table


def _comparison_details(run: Run, comparisons: Sequence[Comparison]) -> Block:
    table = Block("table", header=["benchmark", "candidate", "baseline acc", "candidate acc",
                                   "MDD pts", "odds ratio c/b [CI]", "Cohen's g",
                                   "McNemar mid-p (2-sided)", "gate test, Holm (2-sided)",
                                   "no_answer base→cand"])
    for c in comparisons:
        def acc(i):
            return "-" if i is None else f"{pts(i.estimate)} [{pts(i.lower)}, {pts(i.upper)}]"
        odds = c.odds_ratio
        na = c.no_answer
        table.rows.append([
            benchmark_name(run, c.benchmark), c.candidate.label, acc(c.baseline_accuracy),
            acc(c.candidate_accuracy), pts(c.mdd),
            "-" if odds is None else
            f"{number(odds.estimate)} [{number(odds.lower)}, {number(odds.upper)}]",
            f"{c.cohens_g:.2f}", pvalue(c.pvalue), pvalue(c.pvalue_holm),
            "-" if na is None else f"{pts(na.baseline_rate)} → {pts(na.candidate_rate)}"
            + (" (jump)" if na.flagged else ""),
        ])
    reasons = Block("list", items=[
        [f"{c.benchmark}, {c.candidate.label} vs {c.baseline.label}: ", verdict_word(c.verdict),
         f": {c.reason}"] for c in comparisons
    ])
    return Block("details", "More statistics per comparison, and each verdict's reason",
                 children=[table, reasons])


def _comparisons(run: Run) -> list[Block]:
    blocks = [Block("h", "Comparisons (gating)")]
    if not run.comparisons:
        return blocks + [Block("p", "No gating comparison was evaluated.")]
    s = run.settings
    level = f"{s.confidence:.0%}"
    blocks += [
        Block("p", (
            f"diff = candidate minus baseline in accuracy points on the paired items, with its "
            f"{level} paired interval (Tango; bootstrap for graded benchmarks); b = regressions "
            "(baseline right, candidate wrong), c = improvements; p = the gate's test: "
            "one-sided (candidate worse) mid-p McNemar, or the paired permutation test for "
            f"graded benchmarks, Holm-adjusted over the {len(run.comparisons)} comparisons; "
            f"alpha {s.alpha:g}, margin {pts(s.margin)} pts, --mde-max {pts(s.mde_max)} pts."
        )),
        comparison_table(run, run.comparisons),
        _comparison_details(run, run.comparisons),
    ]
    graded = [c for c in run.comparisons if c.graded is not None]
    if graded:
        table = Block("table", header=["benchmark", "candidate", "n", "baseline mean",
                                       "candidate mean", "diff pts [CI]", "perm. p",
                                       "p (gate)", "verdict"])
        for c in graded:
            g = c.graded
            table.rows.append([
                benchmark_name(run, c.benchmark), c.candidate.label, str(g.n),
                pts(g.baseline_mean), pts(g.candidate_mean), difference_cell(c),
                pvalue(g.pvalue), pvalue(c.pvalue_regression_holm), verdict_word(c.verdict),
            ])
        blocks += [Block("h", "Graded comparisons", level=3), Block("p", (
            "Mean paired difference of the graded score (e.g. ROUGE-L) in points with its "
            f"{level} bootstrap interval; perm. p = two-sided paired permutation test; the "
            "thresholded pass/fail table above is the secondary view."
        )), table]
    worst = [c for c in run.comparisons if c.worst_case is not None]
    if worst:
        table = Block("table", header=["benchmark", "candidate", "error items", "n", "b", "c",
                                       "drop pts", "p (Holm)", "regression?"])
        for c in worst:
            w = c.worst_case
            table.rows.append([
                benchmark_name(run, c.benchmark), c.candidate.label, str(w.errors), str(w.n),
                str(w.b), str(w.c), pts(w.drop), pvalue(w.pvalue_regression_holm),
                Strong("yes") if w.regression else "no",
            ])
        blocks += [Block("h", "Worst case: errors counted against the candidate", level=3),
                   Block("p", "Each error pair is scored as a regression (a baseline error as "
                              "right, a candidate error as wrong), so errors cannot hide a drop."),
                   table]
    if run.reported:
        blocks += [Block("h", "Reported comparisons (not gating)", level=3),
                   comparison_table(run, run.reported)]
    return blocks


def _multi(run: Run) -> list[Block]:
    blocks: list[Block] = []
    if run.overall is not None and len(run.overall.rows) > 1:
        o = run.overall
        table = Block("table", header=["rank", "model", "macro accuracy [CI]", "rank interval"])
        for r in o.rows:
            table.rows.append([str(r.rank), r.model, f"{pts(r.accuracy)} [{pts(r.lower)}, "
                               f"{pts(r.upper)}]", f"{r.rank_lower}-{r.rank_upper}"])
        blocks += [Block("h", "Ranking"), Block("p", (
            f"Models ranked by macro-average accuracy over the {len(o.benchmarks)} benchmark(s) "
            f"every model ran ({', '.join(o.benchmarks)}); intervals: {o.method}."
        )), table]
        if len(o.by_category) > 1:
            cat = Block("table", header=["category", "ranking (macro accuracy [CI])"])
            for name, rows in o.by_category.items():
                cat.rows.append([name, "; ".join(
                    f"{r.rank}. {r.model} {pts(r.accuracy)} [{pts(r.lower)}, {pts(r.upper)}]"
                    for r in rows)])
            blocks.append(cat)
    if run.multi:
        blocks += [Block("h", "All models per benchmark"), Block("p", (
            "Per benchmark on the items every model scored without an error: Cochran's Q across "
            "the models, all pairwise mid-p McNemar tests Holm-adjusted within the benchmark; "
            "models sharing a letter are not distinguishable at alpha "
            f"{run.settings.alpha:g}."
        ))]
        for t in run.multi:
            q = ("" if math.isnan(t.cochran_q) else
                 f"Cochran's Q = {t.cochran_q:.2f}, df = {t.df}, ")
            table = Block("table", header=["rank", "model", "accuracy [CI]", "rank interval",
                                           "letters"])
            for r in t.ranking:
                table.rows.append([str(r.rank), r.model, f"{pts(r.accuracy)} [{pts(r.lower)}, "
                                   f"{pts(r.upper)}]", f"{r.rank_lower}-{r.rank_upper}",
                                   Code(r.letters)])
            pairs = Block("table", header=["first", "second", "n", "b", "c", "diff pts [CI]",
                                           "p", "p (Holm)", "differ?"])
            for p in t.pairwise:
                pairs.rows.append([p.first, p.second, str(p.n), str(p.b), str(p.c),
                                   f"{pts(p.difference, True)} [{pts(p.lower, True)}, "
                                   f"{pts(p.upper, True)}]", pvalue(p.pvalue),
                                   pvalue(p.pvalue_holm), "yes" if p.significant else "no"])
            blocks += [
                Block("h", f"{benchmark_name(run, t.benchmark)} (n={t.n}; {q}"
                           f"{p_equals(t.pvalue)})", level=3),
                table,
                Block("details", f"{len(t.pairwise)} pairwise comparison(s)", children=[pairs]),
            ]
    return blocks


def _noise(run: Run) -> list[Block]:
    blocks: list[Block] = []
    if run.noise_floor:
        table = Block("table", header=["benchmark", "baseline", "replica", "n", "flips",
                                       "rate % [CI]", "A/A verdict"])
        for r in run.noise_floor:
            table.rows.append([benchmark_name(run, r.benchmark), r.baseline, r.replica, str(r.n),
                               str(r.flips), f"{pts(r.rate)} [{pts(r.lower)}, {pts(r.upper)}]",
                               verdict_word(r.verdict)])
        blocks += [Block("h", "Noise floor (A/A)"), Block("p", (
            "The baseline run twice (other batch order and sampling seed): the share of items "
            "on which it disagrees with itself, and the gate's verdict on that pair (must be "
            "pass)."
        )), table]
    if run.noise_reference:
        table = Block("table", header=["benchmark", "candidate", "observed flips", "n",
                                       "A/A rate %", "expected from noise", "A/A run"])
        for r in run.noise_reference:
            table.rows.append([benchmark_name(run, r.benchmark), r.candidate, str(r.observed),
                               str(r.n), pts(r.aa_rate), f"{r.expected:.1f}", r.source])
        blocks += [Block("h", "Observed flips against the A/A flip rate", level=3), table]
    return blocks


def _findings(run: Run) -> list[Block]:
    if not run.findings:
        return []
    items: list[Inline] = []
    for f in run.findings:
        items.append([Strong(f.kind), " (fails the gate)" if f.fails else "", f": {f.message}"])
    return [Block("h", "Findings"), Block("list", items=items)]


def _resources(run: Run) -> list[Block]:
    if not run.resources:
        return []
    table = Block("table", header=["model", "benchmark", "responses (generated)", "tokens in/out",
                                   "latency p50/p95 s", "peak MiB", "J/response", "J/token"])
    notes: dict[str, str] = {}
    for r in run.resources:
        lat = ("-" if r.latency_p50_s is None else
               f"{r.latency_p50_s:.2f} / {r.latency_p95_s:.2f}")
        if r.energy_note:
            notes.setdefault(r.model, r.energy_note)
        table.rows.append([
            r.model, benchmark_name(run, r.benchmark), f"{r.responses} ({r.generated})",
            f"{r.mean_prompt_tokens:.0f} / {r.mean_completion_tokens:.0f}", lat,
            "-" if r.peak_memory_mb is None else f"{r.peak_memory_mb:.0f}",
            "n/a" if r.energy_per_response_j is None else number(r.energy_per_response_j),
            "n/a" if r.energy_per_token_j is None else number(r.energy_per_token_j),
        ])
    blocks = [Block("h", "Resources"), Block("p", (
        "Mean tokens per response (prompt / completion, reasoning included); latency = each "
        "item's own time to its last token, over the completions generated in this run (not "
        "read from the cache); energy apportioned to responses by their tokens."
    )), table]
    if notes:
        blocks.append(Block("p", "Energy not measured: " + "; ".join(
            f"{m}: {why}" for m, why in notes.items()) + "."))
    return blocks


def _clip(text: object) -> str:
    return clean_text(text, limit=MAX_COMPLETION_CHARS)


def _side_cell(label: str, role: str, o) -> str:
    e = html.escape
    extracted = "none" if o.extracted is None else clean_text(o.extracted, limit=200)
    rule = f", rule {e(o.extraction_rule)}" if o.extraction_rule else ""
    kind = f" ({e(o.no_answer_kind)})" if o.no_answer_kind else ""
    score = f", score {o.score:.3f}" if o.score is not None else ""
    return (f"<b>{e(role)}</b> {e(label)}: <b>{e(o.status)}</b>{kind}, extracted "
            f"<code>{e(extracted)}</code>{rule}{score}, finish_reason {e(o.finish_reason)}, "
            f"{o.completion_tokens} tokens")


def flip_html(flip: Flip, comparison: Comparison, limit: int = MAX_COMPLETION_CHARS) -> str:
    """One flipped item with both completions side by side (an HTML table).

    Args:
        flip: the flipped item (both outcomes).
        comparison: its comparison (the sides' labels).
        limit: characters kept of each completion (:func:`clean_text` marks the cut).

    Returns:
        An HTML fragment (every model-controlled text cleaned and escaped).
    """
    def e(text: object) -> str:
        # One line of HTML: a blank line would end Markdown's raw-HTML block early.
        return html.escape(str(text)).replace("\n", "&#10;")

    b, c = flip.baseline, flip.candidate
    what = ("regression: baseline right, candidate wrong" if flip.kind == "regression"
            else "improvement: baseline wrong, candidate right")
    reference = clean_text(b.reference, limit=400)
    return (
        f'<table class="flip" style="table-layout:fixed;width:100%">'
        f'<tr><th colspan="2" style="text-align:left">{e(comparison.benchmark)} '
        f"<code>{e(flip.item_id)}</code>: {e(what)}; reference <code>{e(reference)}</code>"
        "</th></tr>"
        f'<tr><td style="vertical-align:top">'
        f"{_side_cell(comparison.baseline.label, 'baseline', b)}</td>"
        f'<td style="vertical-align:top">'
        f"{_side_cell(comparison.candidate.label, 'candidate', c)}</td></tr>"
        f'<tr><td style="vertical-align:top"><pre style="white-space:pre-wrap">'
        f"{e(clean_text(b.completion, limit=limit))}</pre></td>"
        f'<td style="vertical-align:top"><pre style="white-space:pre-wrap">'
        f"{e(clean_text(c.completion, limit=limit))}</pre></td></tr></table>"
    )


def _flips(run: Run) -> list[Block]:
    blocks: list[Block] = []
    for c in run.comparisons:
        if not c.flips:
            continue
        regress = sum(f.kind == "regression" for f in c.flips)
        shown = c.flips[:MAX_FLIPS_SHOWN]
        more = len(c.flips) - len(shown)
        children = [Block("html", flip_html(f, c)) for f in shown]
        if more:
            children.append(Block("p", f"{more} more flipped item(s) in summary.json and the "
                                       "run log."))
        blocks.append(Block(
            "details",
            f"{benchmark_name(run, c.benchmark)}: {c.candidate.label} vs {c.baseline.label}: "
            f"{regress} regression(s), {len(c.flips) - regress} improvement(s)",
            children=children,
        ))
    if blocks:
        blocks.insert(0, Block("h", "Flipped items"))
        blocks.insert(1, Block("p", "Items on which baseline and candidate disagree about "
                                    "correctness, both completions side by side (cut at "
                                    f"{MAX_COMPLETION_CHARS} characters)."))
    return blocks


def _plots(plots: Sequence[str]) -> list[Block]:
    if not plots:
        return []
    blocks = [Block("h", "Plots")]
    for path in plots:
        name = str(path).rsplit("/", 1)[-1].removesuffix(".png").replace("_", " ")
        blocks.append(Block("img", name, src=str(path)))
    return blocks


def summary_blocks(run: Run, plots: Sequence[str]) -> list[Block]:
    """Every section of the summary, in reading order.

    Args:
        run: the run.
        plots: plot paths as the document should reference them (relative to it).
    """
    return (_verdict(run) + _coverage(run) + _accuracy(run) + _comparisons(run) + _multi(run)
            + _noise(run) + _findings(run) + _resources(run) + _flips(run) + _plots(plots))


def summary_markdown(run: Run, plots: Sequence[str]) -> str:
    """summary.md: the run's summary as GitHub-flavoured Markdown.

    Args:
        run: the run (:func:`benchgate.gate.build_run`).
        plots: plot paths relative to summary.md (e.g. ``plots/accuracy_heatmap.png``).

    Returns:
        The Markdown text, ending with a newline.
    """
    return render_markdown(summary_blocks(run, plots)).rstrip("\n") + "\n"


_CSS = f"""
body {{ font-family: {_FONTS}; font-size: 14px; line-height: 1.45; color: #1f2328;
       max-width: 1000px; margin: 16px auto; padding: 0 12px; }}
table {{ border-collapse: collapse; margin: 8px 0 16px; }}
th, td {{ border: 1px solid #d0d7de; padding: 4px 8px; text-align: left; vertical-align: top; }}
th {{ background: #f6f8fa; }}
code, pre {{ font-family: ui-monospace, "Noto Sans Mono CJK SC", monospace; font-size: 12px; }}
pre {{ white-space: pre-wrap; word-break: break-word; margin: 0; }}
details {{ margin: 8px 0; }} summary {{ cursor: pointer; font-weight: 600; }}
table.flip td {{ width: 50%; }}
"""


def summary_html(run: Run, plots: Sequence[str]) -> str:
    """The same summary as a standalone HTML page (UTF-8; CJK fonts in the font stack).

    Args:
        run: the run.
        plots: plot paths relative to the page, or ``[]`` (e.g. for an Allure attachment,
            where the plots are attached separately).

    Returns:
        The HTML document.
    """
    body = render_html(summary_blocks(run, plots))
    title = html.escape(f"benchgate {run.run_id}: gate {status_word(run)}")
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>{title}'
            f"</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n")

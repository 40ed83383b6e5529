"""summary.md and the HTML summary, on Runs computed by the gate's own build_run."""

from __future__ import annotations

import re

import pytest
from report_runs import make_log, make_run

from benchgate.gate import GateSettings, build_run
from benchgate.reporting import markdown
from benchgate.reporting.blocks import Block, Code, Strong, pvalue, render_html, render_markdown

EVIL = "<script>alert(1)</script> \x1b[2J\x1b[31mPWNED\x1b[0m | [click](http://evil.example) `x`"


@pytest.fixture(scope="module")
def run2():
    return make_run()


@pytest.fixture(scope="module")
def run3():
    return make_run(3)


def _section(md: str, title: str) -> str:
    start = md.index(f"\n## {title}\n")
    end = md.find("\n## ", start + 1)
    return md[start:end if end > 0 else None]


def _table_after(text: str, header_start: str) -> list[list[str]]:
    lines = text.splitlines()
    i = next(k for k, line in enumerate(lines) if line.startswith(header_start))
    rows = []
    for line in lines[i:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]])
    return [rows[0]] + rows[2:]


def test_the_verdict_comes_first_with_exit_status_reasons_and_counts(run2):
    md = markdown.summary_markdown(run2, [])
    assert md.startswith("# benchgate: gate FAIL\n")
    head = md[: md.index("\n## ")]
    assert run2.verdict.headline.replace("<", "&lt;").replace(">", "&gt;") in head
    assert "Exit status 1 (the verdict's own)." in head
    for reason in run2.verdict.reasons:
        assert reason.split(" (")[0] in head
    assert "not failures of benchgate" in head
    assert md.index("## Coverage") < md.index("## Accuracy") < md.index("## Comparisons")


def test_exit_status_that_differs_from_the_verdict_says_why():
    log = make_log(session={"pytest_exit_status": 0, "gate": "off"})
    run = build_run(log)
    md = markdown.summary_markdown(run, [])
    assert md.startswith("# benchgate: gate OFF\n")
    assert "Exit status 0: --gate off: pytest's own exit status (0) is kept." in md


def test_coverage_names_what_was_not_measured_and_why(run2):
    section = _section(markdown.summary_markdown(run2, []), "Coverage")
    rows = _table_after(section, "| benchmark")
    assert rows[1][:3] == ["finqa", "unavailable", "no"]
    assert "download dataset/test.json from the FinQA repository" in rows[1][3]
    assert "5 other benchmark(s) measured completely" in section


def test_comparison_table_is_narrow_and_shows_the_gates_p(run2):
    section = _section(markdown.summary_markdown(run2, []), "Comparisons (gating)")
    rows = _table_after(section, "| benchmark | baseline")
    assert rows[0] == ["benchmark", "baseline", "candidate", "n", "diff pts \\[CI\\]", "b", "c",
                       "p", "verdict"]
    by_bench = {r[0].rstrip("†"): r for r in rows[1:]}
    for comp in run2.comparisons:
        row = by_bench[comp.benchmark]
        assert row[3] == str(comp.n) and row[5] == str(comp.b) and row[6] == str(comp.c)
        assert row[7] == pvalue(comp.pvalue_regression_holm)
    assert by_bench["gsm8k"][8] == "**REGRESSION**"
    assert by_bench["gsm8k"][4] == "-27.5 \\[-43.7, -11.7\\]"
    # Narrow: every row of the main table fits a ~1,000 px column (about 100 characters).
    table_lines = [line for line in section.splitlines()
                   if line.startswith("| ") and "baseline acc" not in line]
    main = table_lines[: len(rows)]
    assert max(len(line) for line in main) < 100, main
    # The rest is in a collapsed second table.
    assert "<details><summary>More statistics per comparison" in section
    assert "MDD pts" in section and "Cohen's g" in section


def test_graded_worst_case_multi_model_noise_and_resources(run3):
    md = markdown.summary_markdown(run3, ["plots/ranking.png"])
    graded = _section(md, "Comparisons (gating)")
    assert "### Graded comparisons" in graded
    rows = _table_after(graded[graded.index("### Graded"):], "| benchmark")
    assert rows[1][:5] == ["dialogsum", "cand", "20", "39.0", "31.0"]
    assert "### Worst case: errors counted against the candidate" in graded
    ranking = _section(md, "Ranking")
    assert [r[1] for r in _table_after(ranking, "| rank")[1:]] == [
        r.model for r in run3.overall.rows]
    multi = _section(md, "All models per benchmark")
    t = run3.multi[0]
    assert f"### {t.benchmark} (n={t.n}; Cochran's Q = {t.cochran_q:.2f}, df = {t.df}" in multi
    letters = _table_after(multi, "| rank")
    assert [row[4] for row in letters[1:]] == [f"`{r.letters}`" for r in t.ranking]
    resources = _section(md, "Resources")
    assert "Energy not measured: base: no NVML device and RAPL not readable" in resources
    assert "| base | gsm8k | 40 (40) | 40 / 32 | 0.69 / 0.87 | 512 | n/a | n/a |" in resources
    assert md.rstrip().endswith("![ranking](plots/ranking.png)")


def test_stand_in_benchmarks_are_marked_everywhere(run2):
    md = markdown.summary_markdown(run2, [])
    assert "| legalqa† |" in _section(md, "Accuracy")
    assert "† legalqa: stand-in data: an MMLU subset" in md
    assert "| legalqa† | base | cand |" in _section(md, "Comparisons (gating)")


def test_flipped_items_side_by_side_are_cleaned_and_escaped():
    log = make_log()
    target = next(o for o in log.outcomes if o.model == "cand" and o.item_id == "gs016")
    target.completion = EVIL + " 答案是 19"
    target.extracted = "<b>19</b>"
    run = build_run(log)
    md = markdown.summary_markdown(run, [])
    page = markdown.summary_html(run, [])
    flips = _section(md, "Flipped items")
    assert "gsm8k: cand vs base: 12 regression(s), 1 improvement(s)" in flips
    assert '<table class="flip"' in flips and "gs016" in flips
    for text in (md, page):
        assert "<script>" not in text and "\x1b" not in text and "<b>19</b>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
        assert "答案是 19" in text
    # Each flip is one line of raw HTML (no blank line ends the block early), so Markdown
    # inside a completion (a link, emphasis) is never rendered.
    flip_lines = [line for line in md.splitlines() if '<table class="flip"' in line]
    shown = sum(min(len(c.flips), markdown.MAX_FLIPS_SHOWN) for c in run.comparisons)
    assert len(flip_lines) == shown and all(line.endswith("</table>") for line in flip_lines)
    assert any("[click](http://evil.example)" in line for line in flip_lines)


def test_flipped_items_are_capped(run2):
    comp = next(c for c in run2.comparisons if c.benchmark == "gsm8k")
    long = markdown.flip_html(comp.flips[0], comp, limit=10)
    assert "[cut at 10 of" in long


def test_html_summary_is_a_standalone_page_with_cjk_fonts(run2):
    page = markdown.summary_html(run2, ["plots/ranking.png"])
    assert page.startswith("<!DOCTYPE html>") and '<meta charset="utf-8">' in page
    assert "Noto Sans CJK" in page and "max-width: 1000px" in page
    assert '<img src="plots/ranking.png"' in page
    assert "答案是" in page  # ceval's flipped completions
    assert page.count("<table") == markdown.summary_markdown(run2, []).count("<table") + len(
        [line for line in markdown.summary_markdown(run2, []).splitlines()
         if line.startswith("|---")])


def test_blocks_render_the_same_content_twice():
    blocks = [Block("h", "T", level=2), Block("p", ["a ", Strong("b"), " ", Code("c|d")]),
              Block("table", header=["x", "y"], rows=[["1|2", Strong("z")]]),
              Block("list", items=["one", "two"])]
    md = render_markdown(blocks)
    assert md.splitlines()[:3] == ["## T", "", "a **b** `c|d`"]
    assert "| 1\\|2 | **z** |" in md and "- one" in md
    page = render_html(blocks)
    assert "<strong>b</strong>" in page and "<code>c|d</code>" in page
    assert "<td>1|2</td><td><strong>z</strong></td>" in page
    styled = render_html(blocks, inline_style=True)
    assert "<td style=" in styled and "border-collapse" in styled


def test_pass_run_has_no_reasons_and_says_pass():
    log = make_log()
    keep = {"mmlu"}
    log.outcomes = [o for o in log.outcomes if o.benchmark in keep]
    plan = log.manifest["plan"]
    plan["benchmarks"] = {k: v for k, v in plan["benchmarks"].items() if k in keep}
    log.manifest["settings"] = GateSettings(mde_max=0.5).to_dict()
    log.manifest["session"]["pytest_exit_status"] = 0
    run = build_run(log)
    md = markdown.summary_markdown(run, [])
    assert md.startswith("# benchgate: gate PASS\n"), md[:300]
    assert "Why:" not in md and "## Flipped items" in md
    assert "All 1 planned benchmark(s) were measured completely" in md

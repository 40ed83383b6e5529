"""The summary reporter: ``summary.json`` (the Run, as data) and ``summary.md`` / HTML.

``summary.json`` is :meth:`benchgate.gate.Run.to_json` written as is, so
``python -m benchgate report RUN_DIR`` reproduces it byte for byte from the run log. The
Markdown and HTML renderings come from :mod:`benchgate.reporting.markdown`; they link the
plots the plots reporter wrote (it runs first).
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from benchgate.reporting.hooks import ReportContext, hookimpl

if TYPE_CHECKING:
    from benchgate.gate import Run

SUMMARY_JSON = "summary.json"
SUMMARY_MD = "summary.md"
SUMMARY_HTML = "summary.html"


def _write(path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


@hookimpl
def pytest_benchgate_report(run: Run, context: ReportContext) -> None:
    """Write summary.json, summary.md and summary.html into ``context.reports_dir``."""
    directory = context.reports_dir
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / SUMMARY_JSON
    _write(path, run.to_json())
    context.wrote("summary", path)
    from benchgate.reporting import markdown

    plots = [os.path.relpath(p, directory) for p in context.written.get("plots", [])]
    md = directory / SUMMARY_MD
    _write(md, markdown.summary_markdown(run, plots))
    html = directory / SUMMARY_HTML
    _write(html, markdown.summary_html(run, plots))
    context.wrote("summary", md, html)

"""The JUnit reporter: the gate's verdict as ``<properties>`` of pytest's ``--junitxml`` file.

CI systems that read JUnit XML (GitLab, Jenkins, GitHub test reporters) then show the
gate's status, exit status and per-comparison verdicts next to the test counts. Only in a
pytest session with ``--junitxml``; the report command has no JUnit file to extend.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchgate.reporting.hooks import ReportContext, hookimpl

if TYPE_CHECKING:
    from benchgate.gate import Run


def junit_properties(run: Run) -> list[tuple[str, str]]:
    """The properties added to the JUnit test suite: verdict, exit status, comparisons.

    Returns:
        ``(name, value)`` pairs (strings), e.g. ``("benchgate.gate", "pass")`` and
        ``("benchgate.gsm8k.smollm2-135m-cot", "inconclusive")``.
    """
    verdict = run.verdict
    props = [
        ("benchgate.run_id", run.run_id),
        ("benchgate.gate", verdict.status if verdict else "none"),
        ("benchgate.exit_status", str(verdict.exit_status if verdict else "")),
        ("benchgate.headline", verdict.headline if verdict else ""),
    ]
    for comp in run.comparisons:
        props.append((f"benchgate.{comp.benchmark}.{comp.candidate.label}", comp.verdict))
    return props


@hookimpl
def pytest_benchgate_report(run: Run, context: ReportContext) -> None:
    """Add the verdict's properties to the running session's JUnit XML (if any)."""
    if context.junit is None:
        return
    for name, value in junit_properties(run):
        context.junit.add_global_property(name, value)

"""benchgate's extension point for reporters, declared as a pytest hookspec.

A reporter is any plugin (a conftest.py, an installed pytest plugin, or a module named in
the ``benchgate.reporters`` entry-point group for ``python -m benchgate report``) that
implements::

    def pytest_benchgate_report(run, context):
        '''Write this reporter's outputs for ``run`` (a benchgate.gate.Run).'''
        path = context.reports_dir / "my-report.txt"
        path.write_text(run.verdict.headline)
        context.wrote("my-report", path)

The same hook runs at the end of a pytest session (controller only) and from
``python -m benchgate report RUN_DIR``, after :func:`benchgate.gate.build_run` has computed
everything once: reporters format, they never recompute. Each implementation is called on
its own; one that raises is reported (``context.errors``) and never hides the verdict or
stops the others. Order: ``tryfirst`` implementations (plots) run before plain ones
(summary, terminal) and ``trylast`` ones (Allure, which attaches the others' files).

This mirrors pytest-xdist's ``newhooks.py``: the module is added with
``pluginmanager.add_hookspecs`` by the plugin (and by the report command).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pluggy

if TYPE_CHECKING:
    from benchgate.gate import Run

log = logging.getLogger(__name__)

hookspec = pluggy.HookspecMarker("pytest")
hookimpl = pluggy.HookimplMarker("pytest")


@dataclass
class ReportContext:
    """Where and how reporters write, and what they wrote.

    Attributes:
        reports_dir: the reports directory (``reports/``): summary.json/md, plots/.
        alluredir: the Allure results directory (``--alluredir``), or None.
        allure_history: the ``history/`` folder of the previous Allure report to carry
            over (``--allure-history``), or None.
        verbose: pytest's verbosity (``-v`` = 1, ``-q`` = -1).
        details: ``--benchgate-details``: full per-item detail in the terminal.
        junit: pytest's JUnit XML writer when ``--junitxml`` is active (it has
            ``add_global_property(name, value)``), else None.
        written: reporter name -> files it wrote (filled by :meth:`wrote`).
        lines: terminal lines ``(text, markup)`` collected by the terminal reporter and
            printed by whoever owns the terminal (pytest's summary, or the report command).
        errors: ``"reporter: ExceptionType: message"`` for every reporter that failed.
    """

    reports_dir: Path
    alluredir: Path | None = None
    allure_history: Path | None = None
    verbose: int = 0
    details: bool = False
    junit: Any = None
    written: dict[str, list[Path]] = field(default_factory=dict)
    lines: list[tuple[str, dict[str, bool]]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def wrote(self, reporter: str, *paths: Path) -> None:
        """Record files a reporter wrote (later reporters may attach or link them)."""
        self.written.setdefault(reporter, []).extend(paths)

    def line(self, text: str = "", **markup: bool) -> None:
        """Queue one terminal line (markup as pytest's ``write_line``: red, green, bold...)."""
        self.lines.append((text, markup))


@hookspec
def pytest_benchgate_report(run: Run, context: ReportContext) -> None:
    """Write this reporter's outputs for ``run``.

    Args:
        run: the run's :class:`benchgate.gate.Run` (read-only: computed once).
        context: where to write; call ``context.wrote(name, path)`` for every file and
            ``context.line(text)`` for terminal output.
    """


def builtin_reporters() -> list[Any]:
    """The reporter modules benchgate ships, in no particular order (hook order decides)."""
    from benchgate.reporting import allure, junit, plots, summary, terminal

    return [plots, summary, terminal, allure, junit]


def run_reporters(hook: Any, run: Run, context: ReportContext) -> ReportContext:
    """Call every ``pytest_benchgate_report`` implementation, each isolated.

    Args:
        hook: the plugin manager's hook relay (``config.hook`` or ``pm.hook``).
        run: the run.
        context: the report context (filled in place).

    Returns:
        ``context``.
    """
    caller = hook.pytest_benchgate_report
    # pluggy calls implementations last-registered-first within a priority; reverse its
    # list (which is in call order reversed) to call tryfirst first.
    for impl in reversed(caller.get_hookimpls()):
        name = getattr(impl.plugin, "__name__", None) or impl.plugin_name
        args = {"run": run, "context": context}
        try:
            impl.function(**{k: v for k, v in args.items() if k in impl.argnames})
        except Exception as exc:  # noqa: BLE001 - one broken reporter must not hide the verdict
            log.exception("benchgate reporter %s failed", name)
            context.errors.append(f"{name}: {type(exc).__name__}: {exc}")
    return context

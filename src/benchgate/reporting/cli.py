"""``python -m benchgate report RUN_DIR``: rebuild every report from a stored run.

No pytest session and no model: the run log (reports/runs/<id>/) is read, the
:class:`benchgate.gate.Run` is computed once with :func:`benchgate.gate.build_run`, and
every reporter runs through the same hookspec as at the end of a session (the built-in
ones, plus any module registered under the ``benchgate.reporters`` entry-point group).
summary.json comes out byte for byte as the session wrote it.

Exit status: 0 when the reports were written; with ``--exit-status``, the run's own exit
status instead (0 PASS, 1 FAIL, ...); 2 when the run log cannot be read (the message names
the file, the field and the fix).
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def _default_out(run_dir: Path) -> Path:
    """``reports/`` for ``reports/runs/<id>``, else ``<run_dir>/report``."""
    if run_dir.parent.name == "runs":
        return run_dir.parent.parent
    return run_dir / "report"


def report(
    run_dir: Path,
    out: Path | None = None,
    alluredir: Path | None = None,
    allure_history: Path | None = None,
    quiet: bool = False,
) -> int:
    """Rebuild the reports of the run stored in ``run_dir``.

    Args:
        run_dir: the run log's directory (or its run.json).
        out: the reports directory to write (default: see :func:`_default_out`).
        alluredir: write Allure results there too, or None.
        allure_history: the previous Allure report's history/ folder to carry over.
        quiet: do not print the terminal report.

    Returns:
        The run's own exit status (its verdict).

    Raises:
        benchgate.reporting.runlog.RunLogError: the run log cannot be read.
    """
    import pluggy

    from benchgate.gate import build_run
    from benchgate.reporting import hooks
    from benchgate.reporting.runlog import RUN_FILE, RunLogError, load_run

    run_dir = run_dir.parent if run_dir.name == RUN_FILE else run_dir
    log = load_run(run_dir, option="report")
    if log.schema_version < 2:
        raise RunLogError(
            f"{run_dir}: a schema {log.schema_version} run log holds outcomes but no plan, so "
            "its reports cannot be rebuilt. Fix: re-run it with this benchgate (it still serves "
            "as --baseline-run)."
        )
    run = build_run(log)
    pm = pluggy.PluginManager("pytest")
    pm.add_hookspecs(hooks)
    for reporter in hooks.builtin_reporters():
        pm.register(reporter)
    pm.load_setuptools_entrypoints("benchgate.reporters")
    context = hooks.ReportContext(
        reports_dir=out or _default_out(run_dir),
        alluredir=alluredir,
        allure_history=allure_history,
    )
    hooks.run_reporters(pm.hook, run, context)
    if not quiet:
        for text, _ in context.lines:
            print(text)
        for problem in context.errors:
            print(f"benchgate: a reporter failed: {problem}", file=sys.stderr)
    return run.verdict.exit_status


def main(argv: Sequence[str] | None = None) -> int:
    """The command line (see the module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m benchgate", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    rep = sub.add_parser("report", help="rebuild every report from a stored run (no pytest)")
    rep.add_argument("run_dir", type=Path, help="reports/runs/<run_id> (or its run.json)")
    rep.add_argument(
        "--out",
        type=Path,
        default=None,
        help="reports directory to write (default: the run's reports/ directory)",
    )
    rep.add_argument("--alluredir", type=Path, default=None, help="also write Allure results")
    rep.add_argument(
        "--allure-history",
        type=Path,
        default=None,
        help="the previous Allure report's history/ folder",
    )
    rep.add_argument(
        "--exit-status",
        action="store_true",
        help="exit with the run's own exit status (its verdict)",
    )
    rep.add_argument("-q", "--quiet", action="store_true", help="do not print the report")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    from benchgate.reporting.runlog import RunLogError

    try:
        status = report(args.run_dir, args.out, args.alluredir, args.allure_history, args.quiet)
    except RunLogError as exc:
        print(f"benchgate report: {exc}", file=sys.stderr)
        return 2
    return status if args.exit_status else 0

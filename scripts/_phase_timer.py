"""A pytest plugin for scripts/bench_warm.py: wall-clock marks of a session's phases.

Loaded with ``-p _phase_timer`` (``scripts/`` on PYTHONPATH); writes one JSON file per
process (controller and each xdist worker) into ``$BENCH_PHASES_DIR``. Not part of
benchgate: it only observes.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import pytest

_T0 = time.time()
_MARKS: dict[str, float] = {"plugin_import": _T0}


def _mark(name: str, first: bool = True) -> None:
    if first and name in _MARKS:
        return
    _MARKS[name] = time.time()


def pytest_configure(config: pytest.Config) -> None:
    _mark("configure")


def pytest_collection_finish(session: pytest.Session) -> None:
    _mark("collection_finish")


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_node_collection_finished(node, ids) -> None:
    _mark("first_worker_collected")
    _mark("last_worker_collected", first=False)


def pytest_runtest_setup(item) -> None:
    _mark("first_test_setup")


def pytest_runtest_logreport(report) -> None:
    _mark("first_report")
    _mark("last_report", first=False)


@pytest.hookimpl(wrapper=True)
def pytest_sessionfinish(session):
    _mark("sessionfinish_start")
    try:
        return (yield)
    finally:
        _mark("sessionfinish_end")
        _write(session.config)


@pytest.hookimpl(tryfirst=True)
def pytest_terminal_summary(terminalreporter) -> None:
    _mark("terminal_summary_start")


@pytest.hookimpl(trylast=True)
def pytest_unconfigure(config: pytest.Config) -> None:
    _mark("unconfigure_end")
    _write(config)


def _write(config: pytest.Config) -> None:
    folder = os.environ.get("BENCH_PHASES_DIR")
    if not folder:
        return
    worker = getattr(config, "workerinput", {}).get("workerid", "controller")
    data = {
        "marks": _MARKS,
        "torch_imported": "torch" in sys.modules,
        "transformers_imported": "transformers" in sys.modules,
        "modules": len(sys.modules),
    }
    Path(folder).mkdir(parents=True, exist_ok=True)
    (Path(folder) / f"{worker}.json").write_text(json.dumps(data))

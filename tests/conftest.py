"""The project's own tests: under ``CI=true`` a test skipped for a missing real component fails.

A test named after a real component uses it (the real SmolLM2 model, a real server, the
real data in ``../shared/data``), and ``.ci/run`` installs every such component. So under
``CI=true`` a ``skipif`` mark whose condition holds means CI lost a component it must have:
the test fails with the mark's reason instead of skipping. Tests marked ``gpu`` keep their
skip (CI has no GPU); imperative ``pytest.skip`` calls are left to each test, which fails
itself under CI where that matters. The benchmark modules (``tests/benchmarks``, the main
job) are not touched.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parent / "benchmarks"


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    """Fail, before pytest's own skip check, a CI test whose real component is missing."""
    if os.environ.get("CI") != "true" or item.get_closest_marker("gpu"):
        return
    if BENCHMARKS in Path(str(item.path)).resolve().parents:
        return
    for mark in item.iter_markers("skipif"):
        if any(not isinstance(c, str) and bool(c) for c in mark.args):
            reason = mark.kwargs.get("reason", "a skip condition held")
            pytest.fail(f"CI=true: a real component is missing, so this test cannot skip: "
                        f"{reason} (.ci/run must install it)", pytrace=False)

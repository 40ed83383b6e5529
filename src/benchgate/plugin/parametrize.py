"""Parametrise benchmark tests over (model, item) with readable, stable ids.

A benchmark test module sets ``BENCHMARK = <Benchmark subclass>`` and has one test that
takes the ``bench_outcome`` fixture. Each test id is ``<model>-<item_id>``; all items of a
model carry ``xdist_group(<model>)`` so ``--dist loadgroup`` keeps a model on one worker.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from benchgate.plugin.state import get_state


@dataclass(frozen=True)
class Case:
    """The parameter of one benchmark test: which model, benchmark and item."""

    model: str
    benchmark: str
    item_id: str


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Parametrise tests that use ``bench_case`` (through ``bench_outcome``).

    The benchmark's plan (items selected, or why its data is unavailable) is recorded for
    the gate (:mod:`benchgate.plugin.planning`).
    """
    from benchgate.plugin.planning import record_benchmark

    if "bench_case" not in metafunc.fixturenames:
        return
    cls = getattr(metafunc.module, "BENCHMARK", None)
    if cls is None:
        raise pytest.UsageError(
            f"{metafunc.module.__file__}: a benchmark test module must set BENCHMARK = "
            "<Benchmark subclass>. Fix: add it (see tests/benchmarks/test_gsm8k.py)."
        )
    state = get_state(metafunc.config)
    loaded = state.load_benchmark(cls)
    record_benchmark(metafunc, loaded, state.models)
    if loaded.unavailable is not None:
        metafunc.parametrize(
            "bench_case",
            [pytest.param(None, id="data-unavailable",
                          marks=pytest.mark.skip(reason=f"{cls.name}: {loaded.unavailable}"))],
        )
        return
    params = [
        pytest.param(
            Case(model.id, cls.name, item.id),
            id=f"{model.id}-{item.id}",
            marks=[pytest.mark.xdist_group(model.id), pytest.mark.benchgate],
        )
        for model in state.models
        for item in loaded.selected
    ]
    metafunc.parametrize("bench_case", params)

"""The session's plan, built where collection happens and delivered to the controller.

The process that collects (an xdist worker, or the only process without xdist) records,
for each benchmark module, what parametrisation planned (every model x the items
``--limit``/``--seed`` selected, or why the data is unavailable), then, after every
deselection (``-k``, ``-m``, ``--deselect``, ``--lf``, node ids), which planned tests were
not selected and why. Under xdist every worker collects the same tests; each writes its
plan to ``<reports>/.benchgate/<session token>/plan-<worker>.json`` before it reports its
collection, and the controller reads the first one when xdist announces that worker's
collection (``pytest_xdist_node_collection_finished``), before any test runs. The
controller hands it to the gate (:class:`benchgate.plugin.gate.Gate`), which checks a stored
baseline against it at once and stores it in the run log at the end.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from benchgate.gate.plan import PLANNED, UNAVAILABLE, BenchmarkPlan
from benchgate.plugin.parametrize import Case
from benchgate.plugin.state import get_state, is_controller

log = logging.getLogger(__name__)

_TOKEN = "benchgate_session"


@dataclass
class CollectionPlan:
    """What one collecting process planned and selected.

    Attributes:
        benchmarks: benchmark name -> its plan (collection order).
        planned: benchmark -> model -> item ids parametrised.
        deselected: benchmark -> model -> planned item ids not selected.
        reasons: the active selection options, as phrases.
        last_failed: ``--lf`` with previous failures: modules may not have been collected.
    """

    benchmarks: dict[str, BenchmarkPlan] = field(default_factory=dict)
    planned: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    deselected: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    last_failed: bool = False

    def to_dict(self) -> dict[str, Any]:
        """Builtins for the plan file."""
        return {
            "benchmarks": {n: dict(b.__dict__) for n, b in self.benchmarks.items()},
            "deselected": self.deselected,
            "reasons": self.reasons,
            "last_failed": self.last_failed,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> CollectionPlan:
        """Rebuild from :meth:`to_dict` output."""
        names = set(BenchmarkPlan.__dataclass_fields__)
        return cls(
            benchmarks={
                n: BenchmarkPlan(**{k: v for k, v in b.items() if k in names})
                for n, b in data.get("benchmarks", {}).items()
            },
            deselected=data.get("deselected") or {},
            reasons=list(data.get("reasons") or []),
            last_failed=bool(data.get("last_failed")),
        )


PLAN_KEY = pytest.StashKey[CollectionPlan]()


def collection_plan(config: pytest.Config) -> CollectionPlan:
    """This process's :class:`CollectionPlan` (created on first use)."""
    plan = config.stash.get(PLAN_KEY, None)
    if plan is None:
        plan = CollectionPlan()
        config.stash[PLAN_KEY] = plan
    return plan


def record_benchmark(metafunc: pytest.Metafunc, loaded: Any, models: list[Any]) -> None:
    """Record one benchmark module's plan (called by parametrisation).

    Args:
        metafunc: the benchmark test function's metafunc.
        loaded: the :class:`benchgate.evaluate.LoadedBenchmark`.
        models: the run's :class:`benchgate.config.ModelSpec` list.
    """
    spec = loaded.spec
    plan = collection_plan(metafunc.config)
    if spec.name in plan.benchmarks:
        return
    module = metafunc.definition.nodeid.split("::")[0]
    entry = BenchmarkPlan(
        name=spec.name,
        status=UNAVAILABLE if loaded.unavailable is not None else PLANNED,
        version=int(spec.version),
        dataset_hash=loaded.dataset_hash,
        items=[i.id for i in loaded.selected],
        n_total=loaded.n_total,
        reason=loaded.unavailable,
        stand_in=getattr(spec, "stand_in", None),
        graded=bool(getattr(spec, "graded", False)),
        category=str(getattr(spec, "category", "other")),
        settings=dict(spec.settings()),
        token_caps={m.id: m.max_new_tokens_for(spec.max_new_tokens) for m in models},
        module=module,
    )
    plan.benchmarks[spec.name] = entry
    if entry.available:
        plan.planned[spec.name] = {m.id: list(entry.items) for m in models}


def selection_reasons(config: pytest.Config) -> tuple[list[str], bool]:
    """The active options that select fewer tests than collected, as phrases.

    Returns:
        ``(reasons, last_failed)``; ``last_failed`` is True for ``--lf`` with previous
        failures on record (whole modules may then not even be collected).
    """
    reasons = []
    keyword = config.getoption("keyword", "") or ""
    if keyword:
        reasons.append(f"-k {keyword!r}")
    markexpr = config.getoption("markexpr", "") or ""
    if markexpr:
        reasons.append(f"-m {markexpr!r}")
    if config.getoption("deselect", None):
        reasons.append("--deselect")
    last_failed = False
    if config.getoption("lf", False):
        lf = config.pluginmanager.get_plugin("lfplugin")
        if lf is not None and getattr(lf, "lastfailed", None):
            last_failed = True
            reasons.append("--lf (only the tests that failed last time)")
    if config.getoption("stepwise", False):
        reasons.append("--stepwise")
    if any("::" in str(a) for a in config.args):
        reasons.append("node ids given on the command line")
    return reasons, last_failed


def _plan_dir(config: pytest.Config, token: str) -> Path:
    return get_state(config).reports_dir / ".benchgate" / token


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    """Record the selection; deliver the plan (file on a worker, directly otherwise)."""
    config = session.config
    plan = collection_plan(config)
    if not plan.benchmarks:
        return
    selected: dict[str, dict[str, set[str]]] = {}
    for item in session.items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("bench_case") if callspec else None
        if isinstance(case, Case):
            selected.setdefault(case.benchmark, {}).setdefault(case.model, set()).add(case.item_id)
    plan.deselected = {}
    for bench, per_model in plan.planned.items():
        for model, ids in per_model.items():
            chosen = selected.get(bench, {}).get(model, set())
            missing = [i for i in ids if i not in chosen]
            if missing:
                plan.deselected.setdefault(bench, {})[model] = missing
    plan.reasons, plan.last_failed = selection_reasons(config)
    workerinput = getattr(config, "workerinput", None)
    if workerinput is None:
        from benchgate.plugin.gate import deliver_plan

        deliver_plan(config, plan)
        return
    token = workerinput.get(_TOKEN)
    if not token:
        return
    directory = _plan_dir(config, token)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"plan-{workerinput.get('workerid', 'gw')}.json"
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(plan.to_dict()), encoding="utf-8")
    os.replace(tmp, path)


class PlanReceiver:
    """The controller's side under xdist: hand each worker a token, read its plan file."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.token = secrets.token_hex(8)
        self.received = False

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """xdist: tell the worker where to write its plan."""
        node.workerinput[_TOKEN] = self.token

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        """xdist: read the first worker's plan and deliver it (before any test runs)."""
        if self.received:
            return
        name = getattr(getattr(node, "gateway", None), "id", None) or node.workerinput.get(
            "workerid"
        )
        path = _plan_dir(self.config, self.token) / f"plan-{name}.json"
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            if ids:
                log.warning("benchgate: no plan file from %s at %s", name, path)
            return
        self.received = True
        from benchgate.plugin.gate import deliver_plan

        deliver_plan(self.config, CollectionPlan.from_dict(data))

    def pytest_unconfigure(self) -> None:
        """Remove this session's plan files."""
        directory = _plan_dir(self.config, self.token)
        shutil.rmtree(directory, ignore_errors=True)
        try:
            directory.parent.rmdir()
        except OSError:
            pass


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the plan receiver on the controller (its hooks fire only under xdist)."""
    if not is_controller(config):
        return
    if config.getoption("help", False) or config.getoption("version", 0):
        return
    config.pluginmanager.register(PlanReceiver(config), "benchgate-plan-receiver")

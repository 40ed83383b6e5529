"""Fixtures: the worker's device, its evaluator, and one outcome per (model, item) test."""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from pathlib import Path

import pytest

from benchgate.backends.cache import ResponseCache
from benchgate.evaluate import BackendFactory, Evaluator
from benchgate.plugin.parametrize import Case
from benchgate.plugin.state import cache_dir, get_state, project_root
from benchgate.records import Outcome, Status
from benchgate.scoring.cache import ScoreCache

log = logging.getLogger(__name__)

#: The user property that carries an outcome from a worker to the controller.
OUTCOME_PROPERTY = "benchgate_outcome"
#: The user property naming the case, recorded first so a crash still identifies it.
CASE_PROPERTY = "benchgate_case"


#: This process's evaluator, for the end-of-session process report.
EVALUATOR_KEY = pytest.StashKey[Evaluator]()


def visible_gpus() -> int:
    """Return the number of CUDA GPUs torch sees (honours CUDA_VISIBLE_DEVICES).

    0 without torch or CUDA. Without any GPU device node (``/dev/nvidia*``, ``/dev/kfd``)
    it answers 0 without importing torch (seconds saved on a run that loads no model).
    """
    if not any(Path("/dev").glob("nvidia[0-9]*")) and not Path("/dev/kfd").exists():
        return 0
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def worker_device(worker_id: str, gpus: int) -> str:
    """Map an xdist worker id to a device.

    ``gwN`` -> ``cuda:(N mod gpus)``, the controller (``master``) -> ``cuda:0``; ``cpu``
    when there is no GPU.

    Args:
        worker_id: ``gw0``, ``gw1``... or ``master`` (no xdist).
        gpus: visible GPU count.
    """
    if gpus <= 0:
        return "cpu"
    index = int(worker_id[2:]) if worker_id.startswith("gw") and worker_id[2:].isdigit() else 0
    return f"cuda:{index % gpus}"


@pytest.fixture(scope="session")
def benchgate_device(worker_id: str, pytestconfig: pytest.Config) -> str:
    """The device this worker's ``device: auto`` models use (``cuda:N`` or ``cpu``)."""
    state = get_state(pytestconfig)
    local = any(m.backend == "transformers" for m in state.models)
    return worker_device(worker_id, visible_gpus() if local else 0)


def _cpu_threads(config: pytest.Config) -> int:
    workers = int(getattr(config, "workerinput", {}).get("workercount", 1))
    return max(1, (os.cpu_count() or 1) // max(1, workers))


@pytest.fixture(scope="session")
def benchgate_evaluator(pytestconfig: pytest.Config, benchgate_device: str, worker_id: str):
    """This worker's :class:`Evaluator` (one model load per model per worker)."""
    state = get_state(pytestconfig)
    root = cache_dir(pytestconfig)
    cache = ResponseCache(root) if root is not None else None
    scores = ScoreCache(root / "scores") if root is not None else None
    # Converted model copies live in the cache directory even under --no-cache (they
    # hold no answers); torch threads are set when weights load, never on a cached run.
    store = Path(pytestconfig.getoption("benchgate_cache_dir")
                 or project_root(pytestconfig) / ".benchgate-cache") / "models"
    factory = BackendFactory(
        device=benchgate_device,
        batch_size=pytestconfig.getoption("benchgate_batch_size"),
        batching=pytestconfig.getoption("benchgate_batching"),
        store_dir=str(store),
        threads=_cpu_threads(pytestconfig) if benchgate_device == "cpu" else None,
    )
    from benchgate.plugin.progress import make_writer

    evaluator = Evaluator({m.id: m for m in state.models}, factory, cache, state.replicas,
                          progress=make_writer(pytestconfig, worker_id).task, scores=scores,
                          rescore=pytestconfig.getoption("benchgate_rescore"))
    pytestconfig.stash[EVALUATOR_KEY] = evaluator
    yield evaluator
    evaluator.close()


_GROUPS_KEY = pytest.StashKey[dict]()


def _group_item_ids(session: pytest.Session, model: str, benchmark: str) -> list[str]:
    """Item ids of ``model`` x ``benchmark`` among this process's collected items."""
    groups = session.stash.get(_GROUPS_KEY, None)
    if groups is None:
        groups = defaultdict(list)
        for node in session.items:
            callspec = getattr(node, "callspec", None)
            case = callspec.params.get("bench_case") if callspec else None
            if isinstance(case, Case):
                groups[(case.model, case.benchmark)].append(case.item_id)
        session.stash[_GROUPS_KEY] = groups
    return groups[(model, benchmark)]


@pytest.fixture
def bench_case(request: pytest.FixtureRequest) -> Case:
    """The (model, benchmark, item) of this test, set by parametrisation."""
    return request.param


@pytest.fixture
def bench_outcome(request: pytest.FixtureRequest, bench_case: Case, benchgate_evaluator: Evaluator,
                  record_property) -> Outcome:
    """Generate and score this test's item.

    Generation is batched with the rest of the group (or read from the cache); the outcome
    is recorded as a test-report property for the controller.
    """
    record_property(CASE_PROPERTY, {"model": bench_case.model, "benchmark": bench_case.benchmark,
                                    "item_id": bench_case.item_id})
    state = get_state(request.config)
    loaded = state.benchmarks[bench_case.benchmark]
    item = loaded.item(bench_case.item_id)
    group = [loaded.item(i) for i in _group_item_ids(request.session, bench_case.model, bench_case.benchmark)]
    outcome = benchgate_evaluator.outcome(bench_case.model, loaded, item, group)
    outcome.nodeid = request.node.nodeid
    record_property(OUTCOME_PROPERTY, outcome.to_dict())
    return outcome


class ItemError(Exception):
    """An *error* outcome: generation, the backend or the sandbox failed (not a wrong answer)."""


def _tail(text: str, n: int = 300) -> str:
    text = text.strip()
    return text if len(text) <= n else "..." + text[-n:]


def check_outcome(outcome: Outcome) -> None:
    """Pass a correct outcome; fail the others with a message a reader can act on.

    Raises:
        AssertionError: (via ``pytest.fail``) incorrect: extracted vs reference;
            no_answer: the format failure and the completion's tail.
        ItemError: error outcomes (generation/backend/sandbox failure).
    """
    status = Status(outcome.status)
    if status is Status.CORRECT:
        return
    if status is Status.INCORRECT:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        pytest.fail(
            f"incorrect: extracted {outcome.extracted!r}, reference {outcome.reference!r}{detail}",
            pytrace=False,
        )
    if status is Status.NO_ANSWER:
        pytest.fail(
            f"no_answer (format failure): {outcome.detail or 'no answer extracted'}; "
            f"finish_reason={outcome.finish_reason}; completion ends: {_tail(outcome.completion)!r}",
            pytrace=False,
        )
    raise ItemError(f"error: {outcome.error or outcome.detail or 'unknown failure'}")

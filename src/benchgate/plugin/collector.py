"""Controller-side aggregation: every item's outcome, as reports arrive, into results.jsonl.

Only the controller (``is_controller``) writes; workers only attach outcomes to their test
reports (xdist serialises ``user_properties``). A line is appended and flushed per item, so
a crash loses nothing already run. A failed report that carries no outcome (a crashed
worker, a fixture error) still becomes an *error* outcome with the reason: no result is
silently dropped.
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest

from benchgate.plugin.fixtures import CASE_PROPERTY, EVALUATOR_KEY, OUTCOME_PROPERTY
from benchgate.plugin.state import cache_dir, get_state, is_controller
from benchgate.records import Outcome, Status

log = logging.getLogger(__name__)


@dataclass
class Collected:
    """Outcomes gathered on the controller.

    Attributes:
        outcomes: by pytest node id (the last report wins: a retried item is counted once).
        results_path: the results.jsonl being written.
        handle: the open results.jsonl (unbuffered bytes: each line is written whole or,
            on a failed write, cut back off).
        backends: per model id, the identity and device of its backend as the process that
            ran it reported (model, revision or weights hash, dtype, chat template...).
        generated: completions generated (not read from the cache), summed over processes.
        cache_hits: completions read from the response cache, summed over processes.
        cache_write_errors: completions that could not be written to the cache (full disk,
            read-only directory), summed over processes; a re-run regenerates them.
        skipped: benchmark items skipped at run time: benchmark -> model -> item -> reason
            (an unplanned loss for the gate).
        workers_down: xdist workers that went down, with xdist's reason.
        energy: per model id, how its energy was measured or why not (from the processes).
    """

    outcomes: dict[str, Outcome] = field(default_factory=dict)
    results_path: Path | None = None
    handle: IO[bytes] | None = None
    backends: dict[str, dict] = field(default_factory=dict)
    generated: int = 0
    cache_hits: int = 0
    cache_write_errors: int = 0
    skipped: dict[str, dict[str, dict[str, str]]] = field(default_factory=dict)
    workers_down: list[str] = field(default_factory=list)
    energy: dict[str, dict] = field(default_factory=dict)


COLLECTED_KEY = pytest.StashKey[Collected]()


def collected(config: pytest.Config) -> Collected:
    """Return the controller's :class:`Collected` (empty on workers)."""
    found = config.stash.get(COLLECTED_KEY, None)
    if found is None:
        found = Collected()
        config.stash[COLLECTED_KEY] = found
    return found


def prepare_reports_dir(path: Path) -> None:
    """Create ``path`` and prove it is writable now, not at the end of a long run.

    Raises:
        pytest.UsageError: it cannot be created or written (permissions, full disk).
    """
    _prove_writable(path, "reports directory", "free disk space, fix its permissions, or pass "
                    "--reports-dir DIR.")


def prepare_cache_dir(path: Path) -> None:
    """Create the response cache directory ``path`` and prove it is writable now.

    Raises:
        pytest.UsageError: it cannot be created or written (permissions, full disk).
    """
    _prove_writable(path, "response cache directory", "free disk space, fix its permissions, "
                    "pass --cache-dir DIR, or run with --no-cache.")


def _prove_writable(path: Path, what: str, fix: str) -> None:
    """Create ``path`` and write (then remove) a 64 KiB probe file in it."""
    probe = path / f".write-probe-{os.getpid()}"
    try:
        path.mkdir(parents=True, exist_ok=True)
        try:
            with probe.open("w") as fh:
                fh.write("x" * 65536)
                fh.flush()
                os.fsync(fh.fileno())
        finally:  # never leave the probe behind, least of all on a full disk
            probe.unlink(missing_ok=True)
    except OSError as exc:
        raise pytest.UsageError(
            f"{what} {path} is not writable ({exc.strerror or exc}). Fix: {fix}"
        ) from None


def _append_whole(handle: IO[bytes], line: bytes) -> None:
    """Write ``line`` to an unbuffered file; on failure cut a partial write back off.

    Raises:
        OSError: the write failed (the file is left as it was before the call).
    """
    start = handle.tell()
    view = memoryview(line)
    try:
        while view:
            view = view[handle.write(view) :]
    except OSError:
        try:
            handle.truncate(start)
        except OSError:  # pragma: no cover - truncating frees space; nothing more to do
            pass
        raise


def _properties(report: pytest.TestReport) -> dict:
    return {k: v for k, v in getattr(report, "user_properties", []) if k in (CASE_PROPERTY, OUTCOME_PROPERTY)}


def _report_error(report: pytest.TestReport) -> str:
    """The reason a failed report carries no outcome (its longrepr, cut to 1500 chars)."""
    reason = str(report.longrepr)[-1500:] if report.longrepr else f"{report.when} failed"
    if report.when not in ("setup", "call", "teardown"):  # xdist's report for a crashed worker
        return f"no outcome recorded: {reason}"
    return f"no outcome recorded ({report.when} phase): {reason}"


def _error_outcome(case: dict, nodeid: str, error: str) -> Outcome:
    return Outcome(
        model=case.get("model", "?"),
        benchmark=case.get("benchmark", "?"),
        benchmark_version=0,
        dataset_hash="",
        item_id=case.get("item_id", "?"),
        subject=None,
        status=Status.ERROR.value,
        extracted=None,
        reference=None,
        error=error,
        nodeid=nodeid,
    )


def _case_from_nodeid(config: pytest.Config, nodeid: str) -> dict | None:
    """Recover (model, benchmark, item) from a benchmark test's node id ``...[model-item]``.

    ``--dist loadgroup`` appends ``@<group>`` to node ids; it is ignored.
    """
    if "]@" in nodeid:
        nodeid = nodeid[: nodeid.rindex("]@") + 1]
    if "[" not in nodeid or not nodeid.endswith("]"):
        return None
    param = nodeid[nodeid.index("[") + 1 : -1]
    for model in get_state(config).models:
        if param.startswith(model.id + "-"):
            module = nodeid.split("::")[0].rsplit("/", 1)[-1]
            bench = module.removeprefix("test_").removesuffix(".py")
            return {"model": model.id, "benchmark": bench, "item_id": param[len(model.id) + 1 :]}
    return None


def is_benchmark_report(config: pytest.Config, report: pytest.TestReport) -> bool:
    """True when ``report`` is a benchmark (model, item) test's, crashed ones included."""
    props = dict(getattr(report, "user_properties", []) or [])
    return (
        OUTCOME_PROPERTY in props
        or CASE_PROPERTY in props
        or _case_from_nodeid(config, report.nodeid) is not None
    )


def _skip_reason(report: pytest.TestReport) -> str:
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:
        return str(longrepr[2]).removeprefix("Skipped: ")
    return str(longrepr or "skipped")[-300:]


class OutcomeCollector:
    """The controller's plugin object: records outcomes as reports arrive.

    Registered by :func:`pytest_configure` in the controller only (xdist's own pattern of
    a plugin object holding ``config``).

    A worker killed mid-run (OOM killer, ``kill -9``): xdist reports the item it was running
    as failed and, unless ``--max-worker-restart`` is used up, re-runs the worker's pending
    items on a new worker. That item's error outcome is therefore held back until the
    session ends (a re-run replaces it: one line per item); items that never ran because
    xdist gave up become error outcomes then too, so results.jsonl accounts for every
    collected benchmark item.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.box = collected(config)
        self._expected: dict[str, None] = {}  # node ids the xdist workers collected, in order
        self._reported: set[str] = set()  # node ids that got any report
        self._crashed: dict[str, Outcome] = {}  # crash errors held back (xdist may re-run them)
        self._down: list[str] = []  # workers that went down, with xdist's reason
        self._session: pytest.Session | None = None
        self._write_failed = False
        self._finalized = False

    def record(self, outcome: Outcome) -> None:
        """Store ``outcome`` and append it to results.jsonl as one whole line, written at once.

        If the line cannot be written (the disk filled up during the run), the partial line
        is cut off, so the file holds whole lines only, and the run is stopped with the
        reason: a gate that cannot record its results must not run on for hours.
        """
        self._crashed.pop(outcome.nodeid, None)
        self.box.outcomes[outcome.nodeid] = outcome
        if self.box.results_path is None or self._write_failed:
            return
        text = json.dumps(outcome.to_dict(), ensure_ascii=False, default=str)
        line = (text + "\n").encode("utf-8")
        try:
            if self.box.handle is None:
                self.box.handle = self.box.results_path.open("wb", buffering=0)
            _append_whole(self.box.handle, line)
        except OSError as exc:
            self._write_failed = True
            self._stop(
                f"benchgate: cannot append to {self.box.results_path} ({exc.strerror or exc}); "
                "stopping the run. Fix: free disk space (or pass --reports-dir DIR) and re-run: "
                "items that finished come from the response cache."
            )

    def _stop(self, message: str) -> None:
        """Stop the session after the running items (xdist's controller or plain pytest)."""
        log.error(message)
        dsession = self.config.pluginmanager.get_plugin("dsession")
        if dsession is not None:
            dsession.shouldstop = message
        elif self._session is not None:
            self._session.shouldstop = message

    @pytest.hookimpl(trylast=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Check reports/ and the response cache are writable now, not after a long run.

        results.jsonl itself is started fresh at the first outcome, so a session without
        benchmark items (the project's own tests) leaves a previous run's results alone.
        """
        self._session = session
        state = get_state(self.config)
        prepare_reports_dir(state.reports_dir)
        cache = cache_dir(self.config)
        if cache is not None:
            prepare_cache_dir(cache)
        self.box.results_path = state.reports_dir / "results.jsonl"

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Turn each benchmark test's report into one outcome line."""
        self._reported.add(report.nodeid)
        props = _properties(report)
        if report.when == "call" and OUTCOME_PROPERTY in props:
            outcome = Outcome.from_dict(props[OUTCOME_PROPERTY])
            outcome.nodeid = report.nodeid
            self.record(outcome)
            return
        if report.skipped and report.nodeid not in self.box.outcomes:
            case = props.get(CASE_PROPERTY) or _case_from_nodeid(self.config, report.nodeid)
            if case is not None:
                per_model = self.box.skipped.setdefault(case["benchmark"], {})
                per_model.setdefault(case["model"], {})[case["item_id"]] = _skip_reason(report)
            return
        final = report.nodeid in self.box.outcomes and report.nodeid not in self._crashed
        if not report.failed or final:
            return
        case = props.get(CASE_PROPERTY) or _case_from_nodeid(self.config, report.nodeid)
        if case is None:
            return
        outcome = _error_outcome(case, report.nodeid, _report_error(report))
        if report.when in ("setup", "call", "teardown"):
            self.record(outcome)
        else:  # xdist's "worker crashed while running" report: written at the end unless re-run
            self._crashed[report.nodeid] = outcome
            self.box.outcomes[report.nodeid] = outcome

    def merge_process_report(self, report: dict) -> None:
        """Add one process's backend identities and generation counters."""
        self.box.backends.update(report.get("backends", {}))
        self.box.generated += int(report.get("generated", 0))
        self.box.cache_hits += int(report.get("cache_hits", 0))
        self.box.cache_write_errors += int(report.get("cache_write_errors", 0))
        for model, status in (report.get("energy") or {}).items():
            self.box.energy.setdefault(model, status)

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node, error) -> None:
        """xdist: merge what a finished worker reported in ``workeroutput``.

        A worker that went down with an error is remembered (its counters are lost with it).
        """
        output = getattr(node, "workeroutput", None) or {}
        if PROCESS_REPORT in output:
            self.merge_process_report(output[PROCESS_REPORT])
        if error:
            name = getattr(getattr(node, "gateway", None), "id", "a worker")
            self._down.append(f"worker {name} went down ({error})")
            self.box.workers_down.append(f"worker {name} went down ({error})")

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node, ids) -> None:
        """xdist: remember the items the workers collected, to account for any never run."""
        for nodeid in ids:
            self._expected.setdefault(nodeid, None)

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Finish the record (see :meth:`finalize`)."""
        self.finalize()

    def finalize(self) -> None:
        """Write the outcomes of items lost to a crashed worker; merge this process's report.

        Without xdist this process's own counters are merged here (workers send theirs).
        Idempotent: the gate calls it before deciding, whatever the hook order.
        """
        if self._finalized:
            return
        self._finalized = True
        if not hasattr(self.config, "workerinput"):
            report = process_report(self.config)
            if report:
                self.merge_process_report(report)
        for outcome in list(self._crashed.values()):  # crashed and never re-run
            self.record(outcome)
        if not self._down:
            return
        why = "; ".join(self._down)
        for nodeid in self._expected:
            if nodeid in self._reported or nodeid in self.box.outcomes:
                continue
            case = _case_from_nodeid(self.config, nodeid)
            if case is not None:
                self.record(_error_outcome(
                    case, nodeid,
                    f"not run: {why}, and xdist stopped before this item ran (see "
                    "--max-worker-restart). Fix: re-run; items that finished come from the "
                    "response cache.",
                ))

    def pytest_unconfigure(self) -> None:
        """Close results.jsonl."""
        if self.box.handle is not None:
            self.box.handle.close()
            self.box.handle = None

#: The key under which a process reports its backends and counters.
PROCESS_REPORT = "benchgate_process"


def process_report(config: pytest.Config) -> dict:
    """Return this process's backend identities and counters (builtins).

    Empty when the process ran no benchmark item.
    """
    evaluator = config.stash.get(EVALUATOR_KEY, None)
    if evaluator is None:
        return {}
    cache = evaluator.cache
    return {
        "backends": {m: evaluator.backend_info(m) for m in evaluator.models if evaluator.backend_info(m)},
        "generated": evaluator.generated,
        "cache_hits": cache.stats.hits if cache is not None else 0,
        "cache_write_errors": cache.stats.write_errors if cache is not None else 0,
        "energy": evaluator.energy_status(),
    }


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """On an xdist worker: hand the process report to the controller (``workeroutput``)."""
    config = session.config
    if hasattr(config, "workeroutput"):
        config.workeroutput[PROCESS_REPORT] = process_report(config)


def pytest_configure(config: pytest.Config) -> None:
    """Register the :class:`OutcomeCollector` in the controller process only."""
    if is_controller(config) and not config.getoption("help", False):
        config.pluginmanager.register(OutcomeCollector(config), "benchgate-collector")

"""How many xdist workers ``-n auto`` starts, and the warm-run record that decides it.

A generating run wants workers: one per model (or per GPU), so that models generate side by
side. A run answered wholly from the caches does not: every worker is another interpreter
that imports pytest, the plugins and benchgate and collects every test again, and the
controller then takes each report over a channel. On 2 cores the default main job's warm
re-run took 4.9-5.4 s wall (8.2 s of CPU) with two workers and 4.1-4.4 s (4.3 s of CPU) in
one process (``scripts/bench_warm.py``; issue 13, goal 2). xdist asks
:func:`pytest_xdist_auto_num_workers` for the count before it starts anything, so the
decision has to be made from what is known then: this module keeps a *warm-run record*.

At the end of an ``-n auto`` session the controller writes, under
``<cache-dir>/warm-runs/``, whether every planned item of the session got an outcome that
is not an error (its completion is then in the response cache). The record's key is a
fingerprint of everything that decides which tests run and what their cache keys are
(:func:`invocation_fingerprint`). When the next ``-n auto`` session has the same
fingerprint and the record says complete, it runs in this process (0 workers) and says so
on the terminal. Anything else (no record, another fingerprint, an unreadable cache,
``--no-cache``, ``--rescore``, ``PYTEST_XDIST_AUTO_NUM_WORKERS`` set) keeps the usual count.

The record only chooses a worker count; results never depend on it. A wrong guess (a
response cache emptied by hand, say) costs time, not correctness: the items generate in
one process, and the record is rewritten at the end.
"""

from __future__ import annotations

import hashlib
import logging
import os
import site
import sys
from pathlib import Path
from typing import Any

import pytest

from benchgate.entrystore import EntryStore, digest
from benchgate.fingerprint import package_digest
from benchgate.plugin.state import cache_dir, get_state, project_root

log = logging.getLogger(__name__)

#: Set by :func:`pytest_xdist_auto_num_workers`: the fingerprint of this ``-n auto`` run.
FINGERPRINT_KEY = pytest.StashKey[str]()
#: Set when the warm-run record chose one process.
WARM_KEY = pytest.StashKey[int]()

#: Environment variables that may change what runs or how it is answered.
_ENV_PREFIXES = ("BENCHGATE_", "PYTEST_", "HF_", "CUDA_", "OPENAI_", "TRANSFORMERS_")
#: At most this many files under the test paths are read for the fingerprint.
_MAX_TEST_FILES = 2_000


class WarmRuns(EntryStore):
    """Warm-run records (``<cache-dir>/warm-runs``): fingerprint -> complete or not.

    Args:
        root: the directory (created if missing).

    Raises:
        OSError: the directory cannot be created.
    """

    label = "warm-run record"
    field = "record"
    fmt = 1


def _test_files(config: pytest.Config) -> list[Path]:
    """The Python and YAML files that may define this session's tests, sorted.

    The project's ``conftest.py`` and every ``*.py``/``*.yaml`` under the ini's
    ``testpaths`` and under the paths on the command line (a path inside the data
    directory aside: ``--data-dir ../shared/data`` has its folders fingerprinted apart).

    Raises:
        OSError: more than :data:`_MAX_TEST_FILES` files.
    """
    root = project_root(config)
    data = get_state(config).source.data_dir
    data = data.resolve() if data is not None else None
    paths = [root / "conftest.py"]
    section = config.getini("testpaths") or []
    paths += [root / p for p in section]
    for arg in config.invocation_params.args:
        arg = str(arg).split("::")[0]
        if arg and not arg.startswith("-"):
            path = Path(arg) if Path(arg).is_absolute() else config.invocation_params.dir / arg
            inside = data is not None and (path.resolve() == data
                                           or data in path.resolve().parents)
            if path.exists() and not inside:
                paths.append(path)
    files: set[Path] = set()
    for path in paths:
        found = (p for p in path.rglob("*") if p.suffix in (".py", ".yaml", ".yml")) \
            if path.is_dir() else [path] if path.is_file() else []
        for file in found:  # a walk of ".venv" stops at the cap, not at its end
            files.add(file)
            if len(files) > _MAX_TEST_FILES:
                raise OSError(f"more than {_MAX_TEST_FILES} files under the test paths")
    return sorted(files)


def _args(args: Any) -> list[str]:
    """The command line without ``--basetemp``.

    That is pytest's scratch folder for ``tmp_path``: pytester gives every session its own,
    and it decides no test and no cache key.
    """
    out: list[str] = []
    skip = False
    for arg in map(str, args):
        if skip:
            skip = False
        elif arg == "--basetemp":
            skip = True
        elif not arg.startswith("--basetemp="):
            out.append(arg)
    return out


def _stat(path: Path) -> list[int] | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]


def invocation_fingerprint(config: pytest.Config) -> str:
    """The sha256 hex of what decides a session's tests and their cache keys.

    Covers: the command line and the directory it ran in; the ini file; environment
    variables with the prefixes in :data:`_ENV_PREFIXES`; the validated models (every
    models.yaml field) and the size, times and inode of their local weights or rules files
    (as a path from the working directory and from models.yaml's folder); the sources of
    the benchgate package and of the project's ``conftest.py`` and test files; every
    benchmark folder of the data directory (:func:`benchgate.data.cache.folder_state`); the
    names of the installed distributions (a version change renames its ``dist-info``) and
    the interpreter.

    Raises:
        OSError: a file cannot be read, or a tree is too large to fingerprint.
        pytest.UsageError: from :func:`benchgate.plugin.state.get_state` (bad models.yaml).
    """
    from benchgate.data.cache import folder_state

    state = get_state(config)
    h = hashlib.sha256()

    def add(value: Any) -> None:
        h.update(digest(value).encode())

    params = config.invocation_params
    add({"args": _args(params.args), "dir": str(params.dir),
         "python": sys.version, "executable": sys.executable})
    add({k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIXES)})
    if config.inipath is not None:
        h.update(Path(config.inipath).read_bytes())
    beside = Path(state.models_file).parent if state.models_file else params.dir
    for model in state.models:
        add(model.model_dump(mode="json"))
        where = model.resolved_model_path()  # package:NAME -> the installed package's folder
        for weights in (Path(where).expanduser(), beside / where):
            add([str(weights), _stat(weights),
                 _stat(weights / model.gguf_file) if model.gguf_file else None])
    add(package_digest(("",)))
    for file in _test_files(config):
        h.update(str(file).encode() + b"\0" + file.read_bytes() + b"\0")
    data = state.source.data_dir
    if data is not None:
        for entry in sorted(data.iterdir()):
            if entry.is_dir():
                add([entry.name, folder_state(entry)])
    for folder in site.getsitepackages():
        if os.path.isdir(folder):
            add(sorted(os.listdir(folder)))
    return h.hexdigest()


def _records(config: pytest.Config) -> WarmRuns | None:
    root = cache_dir(config)
    if root is None or config.getoption("benchgate_rescore"):
        return None
    return WarmRuns(root / "warm-runs")


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """Choose the worker count for ``-n auto``.

    One worker per GPU when local models will use GPUs (never fewer: a wrong guess in one
    process would load every model onto one GPU). Otherwise 0 (this process) when the
    warm-run record of this exact invocation says every selected item was answered
    (module docstring), else one worker per model (capped at the CPU count), since all
    items of a model run on one worker. ``PYTEST_XDIST_AUTO_NUM_WORKERS`` set: xdist's own
    count.
    """
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    state = get_state(config)
    groups = max(1, len(state.models))
    local = [m for m in state.models if m.backend == "transformers" and m.device != "cpu"]
    if local:
        from benchgate.plugin.fixtures import visible_gpus

        gpus = visible_gpus()
        if gpus:
            # No warm-run record here: a wrong guess would put every model on one GPU.
            return max(1, min(gpus, groups))
    try:
        records = _records(config)
        if records is not None:
            fingerprint = invocation_fingerprint(config)
            config.stash[FINGERPRINT_KEY] = fingerprint
            record = records.read(fingerprint)
            if record is not None and record.get("complete") is True:
                config.stash[WARM_KEY] = int(record.get("outcomes", 0))
                return 0
    except Exception as exc:  # noqa: BLE001 - the record only saves time
        log.info("benchgate: no warm-run record (%s: %s)", type(exc).__name__, exc)
    return max(1, min(os.cpu_count() or 1, groups))


def warm_line(config: pytest.Config) -> str | None:
    """The terminal line saying ``-n auto`` chose this process, or None."""
    outcomes = config.stash.get(WARM_KEY, None)
    if outcomes is None:
        return None
    return (f"-n auto: one process, no workers (the last identical run answered all "
            f"{outcomes} planned items from the caches or left them there); -n 2 starts workers")


def record_run(config: pytest.Config, plan: Any, outcomes: list[Any]) -> None:
    """Write the warm-run record of this ``-n auto`` session (controller, at its end).

    Complete when every (benchmark, model, item) test the session selected has an outcome
    whose status is not ``error``. Nothing is written for a session that was not
    ``-n auto`` or under ``--no-cache``/``--rescore``; a failed write is logged and costs
    only time.

    Args:
        config: the session's config.
        plan: the session's :class:`benchgate.gate.Plan` (benchmarks, live models,
            deselected tests).
        outcomes: the session's :class:`benchgate.records.Outcome` list.
    """
    fingerprint = config.stash.get(FINGERPRINT_KEY, None)
    if fingerprint is None:
        return
    answered = {(o.benchmark, o.model, o.item_id) for o in outcomes if o.status != "error"}
    wanted = {(name, model, item) for name, bench in plan.benchmarks.items() if bench.available
              for model in plan.model_ids for item in bench.items}
    wanted -= {(name, model, item) for name, by_model in plan.selection.deselected.items()
               for model, ids in by_model.items() for item in ids}
    complete = bool(wanted) and wanted <= answered
    try:
        records = _records(config)
        if records is not None:
            records.write(fingerprint, {"complete": complete, "outcomes": len(wanted)})
    except OSError as exc:
        log.info("benchgate: warm-run record not written (%s)", exc)

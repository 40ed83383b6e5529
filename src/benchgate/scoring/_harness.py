"""The sandbox harness: runs one HumanEval completion against its tests, isolated.

This file is executed as a script, ``python -I -S -B _harness.py ...``, by
:func:`benchgate.scoring.execute.run_humaneval`; it imports the standard library only and
never imports benchgate. See ``docs/sandbox.md`` for the threat model.

Two processes, two trust levels:

* The **judge** (this script's main process) is trusted. It enters new namespaces
  (mount, network, PID, IPC, UTS) where the kernel allows, forks the runner, then executes
  the problem's prompt and test code (trusted dataset text) in a fresh namespace and calls
  ``check(candidate)``, where ``candidate`` is a proxy that forwards each call to the
  runner. It alone holds the report pipe and the per-run nonce, and it writes the verdict.
* The **runner** (the forked child) is untrusted once it has dropped its privileges: it
  executes ``prompt + completion`` and answers the judge's calls. Arguments and return
  values cross the boundary as tagged JSON that decodes to builtin values only (int,
  float, str, bytes, bool, None, list, tuple, dict, set, frozenset, complex), so a value
  with an always-true ``__eq__`` cannot reach the test, and nothing the completion defines
  or redefines (``check``, ``assert`` helpers, ``__builtins__``, ``sys.exit``) executes in
  the judge. The runner never holds the test code, the nonce or the report pipe: it is
  forked before the judge reads the job.

Report protocol (judge -> host, on the inherited ``--report-fd`` pipe): one JSON object
per line, each carrying the nonce; events ``setup`` (isolation applied), ``started``
(untrusted code is about to run) and ``verdict`` (status and detail).
"""

from __future__ import annotations

import builtins
import ctypes
import errno
import json
import os
import resource
import select
import signal
import struct
import sys
import time

# Namespaces, mount flags and prctl options (linux/sched.h, linux/mount.h, linux/prctl.h).
CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY = 0x1
MS_NOSUID = 0x2
MS_NODEV = 0x4
MS_NOEXEC = 0x8
MS_REMOUNT = 0x20
MS_BIND = 0x1000
MS_REC = 0x4000
MS_PRIVATE = 0x40000
PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_CAPBSET_DROP = 24
PR_SET_NO_NEW_PRIVS = 38
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
CAP_LAST_CAP_GUESS = 63

SANDBOX_UID_BASE = 0x50000000  # sandbox uid = base + judge pid (unique while the judge lives)
MAX_FRAME = 16 * 1024 * 1024  # bytes: the largest message either side accepts
MAX_DEPTH = 200  # nesting depth of a value that crosses the boundary
DETAIL_CHARS = 600
SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
_SIGNAL_EXIT_BASE = 190  # the namespace init exits with 190 + signal when one killed the worker

_libc = ctypes.CDLL(None, use_errno=True)


def _check_call(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _unshare(flags: int) -> None:
    _check_call(_libc.unshare(ctypes.c_int(flags)), "unshare")


def _mount(source: str | None, target: str, fstype: str | None, flags: int,
           data: str | None = None) -> None:
    def enc(text: str | None) -> bytes | None:
        return None if text is None else text.encode()

    _check_call(
        _libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}",
    )


def _prctl(option: int, arg: int) -> None:
    _check_call(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0),
                            ctypes.c_ulong(0), ctypes.c_ulong(0)), f"prctl({option})")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def _drop_all_capabilities() -> None:
    """Empty the bounding, effective, permitted and inheritable capability sets."""
    for cap in range(CAP_LAST_CAP_GUESS + 1):
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            if ctypes.get_errno() == errno.EINVAL:  # past the kernel's last capability
                break
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    header = _CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)
    data = (_CapData * 2)()
    _check_call(_libc.capset(ctypes.byref(header), data), "capset")


# ---------------------------------------------------------------------------------------
# Values across the boundary: tagged JSON that decodes to builtin values only.


def encode(value, depth: int = 0):
    """Turn a value into JSON-ready builtins, tagging types JSON lacks.

    Subclasses of builtin types (``Counter``, ``OrderedDict``, named tuples, ``IntEnum``)
    become their builtin base; anything else raises ``TypeError``.
    """
    if depth > MAX_DEPTH:
        raise TypeError("value is nested too deeply to cross the sandbox boundary")
    t = type(value)
    if value is None or t is bool or t is int or t is float or t is str:
        return value
    d = depth + 1
    if t is list:
        return [encode(v, d) for v in value]
    if t is tuple:
        return {"__t": "tuple", "v": [encode(v, d) for v in value]}
    if t is dict:
        return {"__t": "dict", "v": [[encode(k, d), encode(v, d)] for k, v in value.items()]}
    if t is set or t is frozenset:
        return {"__t": t.__name__, "v": [encode(v, d) for v in value]}
    if t is bytes or t is bytearray:
        return {"__t": t.__name__, "v": bytes(value).decode("latin-1")}
    if t is complex:
        return {"__t": "complex", "v": [value.real, value.imag]}
    for base, convert in _BUILTIN_BASES:
        if isinstance(value, base):
            return encode(convert(value), depth)
    raise TypeError(f"a {t.__module__}.{t.__qualname__} cannot cross the sandbox boundary "
                    "(only builtin values can)")


_BUILTIN_BASES = (
    (int, int.__int__), (float, float.__float__), (str, str.__str__), (bytes, bytes),
    (list, list), (tuple, tuple), (dict, dict), (frozenset, frozenset), (set, set),
    (complex, complex),
)
_DECODERS = {
    "tuple": tuple, "set": set, "frozenset": frozenset,
    "dict": lambda pairs: {k: v for k, v in pairs},
    "bytes": lambda s: s.encode("latin-1"), "bytearray": lambda s: bytearray(s, "latin-1"),
    "complex": lambda parts: complex(float(parts[0]), float(parts[1])),
}


def _object_hook(obj: dict):
    if len(obj) == 2 and "__t" in obj and "v" in obj:
        decoder = _DECODERS.get(obj["__t"])
        if decoder is None:
            raise ValueError(f"unknown value tag {obj['__t']!r}")
        return decoder(obj["v"])
    return obj


class Channel:
    """Length-prefixed JSON messages over a pair of pipes.

    With a deadline, every wait is bounded: ``TimeoutError`` past it. ``EOFError`` when
    the other side closed its end; ``ValueError`` for a malformed or oversized message.
    """

    def __init__(self, read_fd: int, write_fd: int, deadline: float | None = None):
        self.read_fd, self.write_fd, self.deadline = read_fd, write_fd, deadline
        if deadline is not None:
            os.set_blocking(read_fd, False)
            os.set_blocking(write_fd, False)

    def _wait(self, fd: int, event: int) -> None:
        if self.deadline is None:
            return
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("deadline passed")
        poller = select.poll()
        poller.register(fd, event)
        if not poller.poll(max(remaining * 1000, 1)):
            raise TimeoutError("deadline passed")

    def send(self, message: dict) -> None:
        data = json.dumps(message, separators=(",", ":")).encode()
        if len(data) > MAX_FRAME:
            raise ValueError(f"message of {len(data)} bytes exceeds the {MAX_FRAME}-byte limit")
        view = memoryview(struct.pack(">I", len(data)) + data)
        while view:
            self._wait(self.write_fd, select.POLLOUT)
            try:
                view = view[os.write(self.write_fd, view):]
            except BlockingIOError:
                continue

    def _read_exact(self, n: int) -> bytes:
        chunks, got = [], 0
        while got < n:
            self._wait(self.read_fd, select.POLLIN)
            try:
                chunk = os.read(self.read_fd, min(n - got, 1 << 20))
            except BlockingIOError:
                continue
            if not chunk:
                raise EOFError("the other side closed the channel")
            chunks.append(chunk)
            got += len(chunk)
        return b"".join(chunks)

    def recv(self) -> dict:
        (size,) = struct.unpack(">I", self._read_exact(4))
        if size > MAX_FRAME:
            raise ValueError(f"message of {size} bytes exceeds the {MAX_FRAME}-byte limit")
        message = json.loads(self._read_exact(size), object_hook=_object_hook)
        if type(message) is not dict:
            raise ValueError("message is not a JSON object")
        return message


# ---------------------------------------------------------------------------------------
# Isolation.


def _unescape_mount_path(path: str) -> str:
    # /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo octal.
    out, i = [], 0
    while i < len(path):
        if path[i] == "\\" and i + 4 <= len(path) and path[i + 1:i + 4].isdigit():
            out.append(chr(int(path[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


def _setup_filesystem(owner_uid: int, owner_gid: int, tmpfs_mb: int) -> list[str]:
    """In the runner's new mount namespace: everything read-only, a private /tmp, new /proc.

    Returns notes about mounts that could not be made read-only.
    """
    notes = []
    _mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing we do propagates to the host
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        entries = [line.split() for line in f]
    for fields in entries:
        mount_point = _unescape_mount_path(fields[4])
        options = set(fields[5].split(","))
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID
        flags |= MS_NODEV if "nodev" in options else 0
        flags |= MS_NOEXEC if "noexec" in options else 0
        try:
            _mount(None, mount_point, None, flags)
        except OSError as exc:
            if mount_point == "/":
                raise
            notes.append(f"could not make {mount_point} read-only ({exc.strerror})")
    _mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
           f"size={tmpfs_mb}m,nr_inodes=4096,mode=0700,uid={owner_uid},gid={owner_gid}")
    _mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    return notes


def _enter_namespaces(mode: str) -> tuple[str, list[str]]:
    """Unshare the judge into new namespaces; return the kind reached and notes."""
    if mode == "none":
        return "none", ["namespaces disabled by the caller"]
    flags = CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS
    if os.geteuid() == 0:
        try:
            _unshare(flags)
            return "full", []
        except OSError as exc:
            # Root without CAP_SYS_ADMIN (e.g. a default Docker container): a user
            # namespace would map the runner to host root, so use a plain uid drop instead.
            return "none", [f"unshare as root failed ({exc.strerror}); no namespaces"]
    uid, gid = os.getuid(), os.getgid()
    try:
        _unshare(flags | CLONE_NEWUSER)
        with open("/proc/self/setgroups", "w") as f:
            f.write("deny")
        with open("/proc/self/uid_map", "w") as f:
            f.write(f"{uid} {uid} 1")
        with open("/proc/self/gid_map", "w") as f:
            f.write(f"{gid} {gid} 1")
        return "userns", ["not root: the runner keeps the judge's uid inside a user namespace, "
                          "with no capabilities"]
    except OSError as exc:
        return "none", [f"unprivileged user namespace unavailable ({exc.strerror}); "
                        "no namespaces"]


def _close_fds_except(keep: set[int]) -> None:
    """Close every descriptor above 2 not in ``keep`` (listed from /proc/self/fd)."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:  # the listing's own descriptor, already closed
                pass


def _set_limits(limits: dict) -> None:
    mib = 1024 * 1024
    for name, value in (
        ("RLIMIT_AS", limits["memory_mb"] * mib),
        ("RLIMIT_CPU", limits["cpu_s"]),
        ("RLIMIT_NPROC", limits["processes"]),
        ("RLIMIT_FSIZE", limits["file_size_mb"] * mib),
        ("RLIMIT_NOFILE", limits["open_files"]),
        ("RLIMIT_CORE", 0),
        ("RLIMIT_MEMLOCK", 0),
        ("RLIMIT_MSGQUEUE", 0),
    ):
        hard = value + 1 if name == "RLIMIT_CPU" else value  # SIGXCPU first, then SIGKILL
        resource.setrlimit(getattr(resource, name), (value, hard))


# ---------------------------------------------------------------------------------------
# The runner (untrusted side).


def _describe(exc: BaseException, source_lines: list[str], filename: str, label: str) -> str:
    """``Type: message`` plus the innermost line of ``filename`` the traceback passed."""
    try:
        message = str(exc)
    except Exception:  # noqa: BLE001 - a broken __str__
        message = ""
    text = f"{type(exc).__name__}: {message}" if message else type(exc).__name__
    if isinstance(exc, SyntaxError):
        return text[:DETAIL_CHARS]
    lineno, tb = 0, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == filename:
            lineno = tb.tb_lineno
        tb = tb.tb_next
    if 0 < lineno <= len(source_lines):
        text += f" at {label} line {lineno}: {source_lines[lineno - 1].strip()}"
    return text[:DETAIL_CHARS]


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the completion may have broken its streams
            pass


def _import_through_fds(path_fds: dict[str, int]) -> None:
    """Point ``sys.path`` and imported packages' ``__path__`` at ``/proc/self/fd/N``.

    The directory fds were opened while privileged, so the unprivileged runner can import
    the standard library even when it lives below a directory it cannot traverse (e.g.
    ``/root/.pyenv``); it reaches nothing else that way (``..`` from there stops at the
    same untraversable directory).
    """
    mapping = {path: f"/proc/self/fd/{fd}" for path, fd in path_fds.items()}

    def translate(entry: str) -> str:
        for path, replacement in mapping.items():
            if entry == path or entry.startswith(path + os.sep):
                return replacement + entry[len(path):]
        return entry

    sys.path[:] = list(mapping.values())
    for module in list(sys.modules.values()):
        search = getattr(module, "__path__", None)
        if isinstance(search, list):
            search[:] = [translate(entry) for entry in search]
    sys.path_importer_cache.clear()


def _namespace_init(worker: int, close_fds: list[int]) -> None:
    """PID 1 of the sandbox's PID namespace: reap everything, exit when ``worker`` does.

    The exit status encodes the worker's: ``190 + signal`` when a signal killed it, else
    its exit status capped at 190. Never returns.
    """
    for fd in close_fds:
        os.close(fd)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while True:
        try:
            pid, status = os.wait()
        except ChildProcessError:
            os._exit(0)
        except InterruptedError:
            continue
        if pid == worker:
            if os.WIFSIGNALED(status):
                os._exit(_SIGNAL_EXIT_BASE + os.WTERMSIG(status))
            os._exit(min(os.WEXITSTATUS(status), _SIGNAL_EXIT_BASE))


def _runner(channel: Channel, kind: str, sandbox_dir: str, path_fds: dict[str, int], uid: int,
            tmpfs_mb: int) -> None:
    """The forked child. Never returns."""
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        _close_fds_except({channel.read_fd, channel.write_fd, *path_fds.values()})
        os.setpgid(0, 0)
        tags = []
        if kind in ("full", "userns"):
            owner = (uid, uid) if kind == "full" else (os.getuid(), os.getgid())
            notes = _setup_filesystem(*owner, tmpfs_mb=tmpfs_mb)
            tags += ["mount-namespace", "readonly-filesystem", "private-tmp", "pid-namespace",
                     "network-namespace", "ipc-namespace", "uts-namespace"]
            workdir = "/tmp"
            # This process is PID 1 of the new namespace: it stays behind as a minimal init
            # (reaps orphans; its death, with the judge's, kills every process in the
            # namespace) and the completion runs in a child with ordinary signal semantics.
            _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
            worker = os.fork()
            if worker != 0:
                _namespace_init(worker, [channel.read_fd, channel.write_fd, *path_fds.values()])
        else:
            notes = []
            workdir = sandbox_dir
        if kind == "full" or (kind == "none" and os.geteuid() == 0):
            if kind == "none":
                os.chown(sandbox_dir, uid, uid)
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            tags.append("unprivileged-uid")
        elif kind == "userns":
            _drop_all_capabilities()
            tags.append("no-capabilities")
        _prctl(PR_SET_NO_NEW_PRIVS, 1)
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
        tags += ["no-new-privileges", "process-group"]
        # Import the standard library through directory fds opened while privileged, so
        # an unprivileged uid can import it even below a directory it cannot traverse.
        _import_through_fds(path_fds)
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update(PATH=SANDBOX_PATH, HOME=workdir, TMPDIR=workdir, LANG="C.UTF-8")
        channel.send({"setup": "ok", "tags": tags, "notes": notes})
    except BaseException as exc:  # noqa: BLE001 - reported to the judge as an error
        try:
            channel.send({"setup_error": f"{type(exc).__name__}: {exc}"})
        finally:
            os._exit(70)

    job = channel.recv()
    _set_limits(job["limits"])
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    source = job["source"]
    lines = source.splitlines()
    namespace = {"__name__": "__sandbox__", "__builtins__": builtins}
    try:
        exec(compile(source, "<completion>", "exec"), namespace)  # noqa: S102 - sandboxed
        function = namespace.get(job["entry_point"])
        if not callable(function):
            raise NameError(f"the completion does not define {job['entry_point']}()")
    except BaseException as exc:  # noqa: BLE001 - any failure to load is the completion's
        _flush_output()
        channel.send({"load_error": _describe(exc, lines, "<completion>", "completion")})
        os._exit(0)
    _flush_output()
    channel.send({"ready": True})
    while True:
        try:
            message = channel.recv()
        except (EOFError, OSError):
            os._exit(0)
        try:
            result = function(*message["args"], **message["kwargs"])
            reply = {"value": encode(result)}
        except BaseException as exc:  # noqa: BLE001 - the candidate's exception
            reply = {"raised": type(exc).__name__, "message": str(exc)[:DETAIL_CHARS],
                     "where": _describe(exc, lines, "<completion>", "completion")}
        _flush_output()
        try:
            channel.send(reply)
        except ValueError as exc:  # too large to send: the candidate's failure, not ours
            channel.send({"raised": "ValueError", "message": str(exc),
                          "where": f"ValueError: return value too large to judge: {exc}"})


# ---------------------------------------------------------------------------------------
# The judge (trusted side).


class _Timeout(BaseException):
    """The wall-clock deadline passed while waiting for the runner."""


class _RunnerGone(BaseException):
    """The runner stopped answering (exited, was killed, or broke the protocol)."""

    channel_closed = True  # False when it broke the protocol on a channel still open


class CandidateError(Exception):
    """Stands in for an exception the candidate raised whose type is not a builtin."""


def _exception_from(reply: dict) -> Exception:
    name, message = str(reply.get("raised")), str(reply.get("message", ""))
    cls = getattr(builtins, name, None)
    exc: Exception
    if isinstance(cls, type) and issubclass(cls, Exception):
        try:
            exc = cls(message)
        except Exception:  # noqa: BLE001 - e.g. UnicodeDecodeError needs five arguments
            exc = CandidateError(f"{name}: {message}")
    else:
        exc = CandidateError(f"{name}: {message}")
    exc.sandbox_where = str(reply.get("where", ""))[:DETAIL_CHARS]  # type: ignore[attr-defined]
    return exc


class _Judge:
    """Talks to the runner for the trusted side, under the run's wall-clock deadline."""

    def __init__(self, channel: Channel):
        self.channel = channel
        self.failure: BaseException | None = None  # sticky: a test cannot swallow it
        self.calls = 0

    def exchange(self, message: dict) -> dict:
        if self.failure is not None:
            raise self.failure
        try:
            self.channel.send(message)
            return self.channel.recv()
        except TimeoutError:
            self.failure = _Timeout()
        except (EOFError, OSError, ValueError, RecursionError, MemoryError) as exc:
            self.failure = _RunnerGone(f"{type(exc).__name__}: {exc}"[:DETAIL_CHARS])
            self.failure.channel_closed = isinstance(exc, EOFError | BrokenPipeError)
        raise self.failure

    def candidate(self, name: str):
        """A function that forwards its calls to the runner's candidate."""
        judge = self

        def candidate(*args, **kwargs):
            judge.calls += 1
            reply = judge.exchange({"args": encode(list(args)),
                                    "kwargs": {str(k): encode(v) for k, v in kwargs.items()}})
            if "value" in reply:
                return reply["value"]
            if "raised" in reply:
                raise _exception_from(reply)
            judge.failure = _RunnerGone("protocol violation: reply has neither value nor raised")
            judge.failure.channel_closed = False
            raise judge.failure

        candidate.__name__ = candidate.__qualname__ = name
        return candidate


def _runner_exit_detail(pid: int, via_init: bool, failure: BaseException | None) -> tuple[str, str]:
    """After the channel broke: (status, detail) from how the runner ended, if it did."""
    status = None
    # A closed channel usually means the runner is dying: give it up to ~0.5 s to finish.
    for _ in range(100 if getattr(failure, "channel_closed", True) else 1):
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
        return "failed", f"the sandbox process stopped answering{reason}"[:DETAIL_CHARS]
    sig = 0
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
    elif via_init and os.WEXITSTATUS(status) > _SIGNAL_EXIT_BASE:
        sig = os.WEXITSTATUS(status) - _SIGNAL_EXIT_BASE
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


def _sweep_uid(uid: int) -> None:
    """Kill every process running as ``uid`` (the sandbox's own uid; root only)."""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setresgid(uid, uid, uid)
            os.setresuid(uid, uid, uid)
            os.kill(-1, signal.SIGKILL)
        except BaseException:  # noqa: BLE001 - ESRCH: nothing left to kill
            pass
        os._exit(0)
    os.waitpid(pid, 0)


def _describe_test_failure(exc: BaseException, test_lines: list[str]) -> str:
    where = getattr(exc, "sandbox_where", "")
    if where:
        return f"candidate raised {where}"[:DETAIL_CHARS]
    return _describe(exc, test_lines, "<test>", "test")


def _judge(job: dict, channel: Channel, child_pid: int, via_init: bool, report) -> None:
    try:
        setup = channel.recv()
    except TimeoutError:
        report("verdict", status="error", detail="the sandbox did not finish its setup in time")
        return
    except (EOFError, OSError, ValueError) as exc:
        report("verdict", status="error", detail=f"the sandbox failed during setup: {exc}")
        return
    if setup.get("setup") != "ok":
        report("verdict", status="error",
               detail=f"the sandbox failed during setup: {setup.get('setup_error')}")
        return
    report("setup", tags=setup.get("tags", []), notes=setup.get("notes", []))

    judge = _Judge(channel)
    report("started")
    try:
        loaded = judge.exchange({"source": job["prompt"] + job["completion"],
                                 "entry_point": job["entry_point"], "limits": job["limits"]})
    except _Timeout:
        report("verdict", status="timeout", detail="the completion did not load in time")
        return
    except _RunnerGone as gone:
        status, detail = _runner_exit_detail(child_pid, via_init, gone)
        report("verdict", status=status, detail=f"while loading the completion: {detail}")
        return
    if "load_error" in loaded:
        report("verdict", status="failed", detail=str(loaded["load_error"])[:DETAIL_CHARS])
        return
    if loaded.get("ready") is not True:
        report("verdict", status="failed", detail="protocol violation while loading")
        return

    namespace = {"__name__": "__benchgate_test__", "__builtins__": builtins}
    test_lines = job["test"].splitlines()
    try:
        exec(compile(job["prompt"], "<prompt>", "exec"), namespace)  # noqa: S102 - trusted
        exec(compile(job["test"], "<test>", "exec"), namespace)  # noqa: S102 - trusted
        check = namespace["check"]
    except BaseException as exc:  # noqa: BLE001 - the dataset's code is broken
        report("verdict", status="error",
               detail=f"the problem's prompt or test does not run: {type(exc).__name__}: {exc}")
        return
    candidate = judge.candidate(job["entry_point"])
    # As in the reference harness, test code that names the entry point gets the candidate.
    namespace[job["entry_point"]] = candidate
    try:
        check(candidate)
        error: BaseException | None = None
    except BaseException as exc:  # noqa: BLE001 - classified below
        error = exc
    if isinstance(judge.failure, _Timeout):
        report("verdict", status="timeout", detail="the tests did not finish in time")
    elif isinstance(judge.failure, _RunnerGone):
        status, detail = _runner_exit_detail(child_pid, via_init, judge.failure)
        report("verdict", status=status, detail=detail)
    elif error is not None:
        report("verdict", status="failed", detail=_describe_test_failure(error, test_lines))
    elif judge.calls == 0:
        report("verdict", status="failed", detail="the tests never called the candidate")
    else:
        report("verdict", status="passed", detail="")


def _main(argv: list[str]) -> int:
    options = dict(zip(argv[1::2], argv[2::2], strict=False))
    if "--sweep-uid" in options:
        _sweep_uid(int(options["--sweep-uid"]))
        return 0
    start = time.monotonic()
    report_fd = int(options["--report-fd"])
    # Open and unlink the job before forking: the runner never sees the test or the nonce.
    job_fd = os.open(options["--job"], os.O_RDONLY | os.O_CLOEXEC)
    os.unlink(options["--job"])
    kind, ns_notes = _enter_namespaces(options.get("--isolation", "auto"))
    # After the uid map is written (a non-dumpable process cannot write its own): no ptrace,
    # no /proc/<pid>/mem or /proc/<pid>/fd access to the judge from a same-uid runner.
    _prctl(PR_SET_DUMPABLE, 0)
    uid = SANDBOX_UID_BASE + os.getpid()
    import typing  # noqa: F401 - nearly every HumanEval prompt imports it: load it once, pre-fork

    path_fds = {p: os.open(p, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                for p in sys.path if os.path.isdir(p)}
    to_runner_r, to_runner_w = os.pipe()
    to_judge_r, to_judge_w = os.pipe()
    child_pid = os.fork()
    if child_pid == 0:
        try:
            for fd in (report_fd, job_fd, to_runner_w, to_judge_r):
                os.close(fd)
            _runner(Channel(to_runner_r, to_judge_w), kind, options["--sandbox-dir"], path_fds,
                    uid, int(options.get("--tmpfs-mb", "64")))
        finally:
            os._exit(71)
    for fd in (to_runner_r, to_judge_w, *path_fds.values()):
        os.close(fd)
    with os.fdopen(job_fd, "rb") as f:
        job = json.loads(f.read())
    if hasattr(sys, "set_int_max_str_digits"):
        sys.set_int_max_str_digits(0)
    nonce = job["nonce"]

    def report(event: str, status: str | None = None, **fields) -> None:
        record = {"nonce": nonce, "event": event, **fields}
        if status is not None:
            record["status"] = status
        os.write(report_fd, (json.dumps(record) + "\n").encode())

    report("namespaces", kind=kind, notes=ns_notes, sandbox_uid=uid)
    try:
        deadline = start + float(job["timeout_s"])
        _judge(job, Channel(to_judge_r, to_runner_w, deadline), child_pid,
               kind in ("full", "userns"), report)
    except BaseException as exc:  # noqa: BLE001 - the harness itself broke
        report("verdict", status="error",
               detail=f"harness error: {type(exc).__name__}: {exc}"[:DETAIL_CHARS])
    finally:
        for kill in (lambda: os.killpg(child_pid, signal.SIGKILL),
                     lambda: os.kill(child_pid, signal.SIGKILL)):
            try:
                kill()
            except OSError:
                pass
        try:
            os.waitpid(child_pid, 0)
        except ChildProcessError:
            pass
        if kind == "none" and os.geteuid() == 0:
            _sweep_uid(uid)  # without a PID namespace, children may have left the group
        report("cleaned")
    return 0


if __name__ == "__main__":
    # Skip interpreter finalisation: everything is reported, the runner is gone.
    os._exit(_main(sys.argv))

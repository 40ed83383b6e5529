"""The sandbox's runner: the untrusted side, forked by the judge (``_sandbox_judge``).

Standard library only (a sibling module of the harness, see ``_harness.py``). The runner
isolates itself while still privileged, tells the judge which layers are in force, then
executes ``prompt + completion`` and answers the judge's calls with builtin values.

Full isolation (``level == "full"``), in this order:

1. join the run's cgroup (where there is one), its own process group;
2. new mount, network, IPC, UTS and cgroup namespaces (the judge made the PID namespace,
   and the user namespace where needed): this process is PID 1 of the run;
3. a fresh root (``_sandbox_os.build_root``): system programs and libraries and the
   standard library read-only, five devices, a private ``/tmp``; nothing of the host's
   ``/run``, ``/var``, ``/tmp``, ``/dev/shm``, home directories or repository;
4. privileges dropped: the run's own uid (as root) or every capability (in a user
   namespace); no new privileges; not dumpable; killed when its parent dies;
5. the syscall filter (``sandbox_seccomp``), inherited by everything it starts;
6. fork: this process stays as the namespace's init (reaps, and its death ends every
   process of the run); the child sets the resource limits and runs the completion.

Any failure before the completion runs is reported to the judge as a setup error naming
the stage; the judge then reports ``error`` (never a weaker sandbox).
"""

from __future__ import annotations

import builtins
import os
import signal
import sys

try:  # imported as part of the package (host side, tests)
    from benchgate.scoring import _sandbox_os as sysos
    from benchgate.scoring import _sandbox_wire as wire
except ImportError:  # inside the harness: python -I -S, siblings on sys.path
    import _sandbox_os as sysos  # type: ignore[no-redef]
    import _sandbox_wire as wire  # type: ignore[no-redef]

SANDBOX_PATH = "/usr/local/bin:/usr/bin:/bin"
SIGNAL_EXIT_BASE = 190  # the namespace init exits with 190 + signal when one killed the worker
FULL_TAGS = ("mount-namespace", "minimal-root", "readonly-filesystem", "private-tmp",
             "no-host-sockets", "pid-namespace", "network-namespace", "ipc-namespace",
             "uts-namespace", "cgroup-namespace", "seccomp-filter")


def _close_fds_except(keep: set[int]) -> None:
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        if fd > 2 and fd not in keep:
            try:
                os.close(fd)
            except OSError:  # the listing's own descriptor, already closed
                pass


def _namespace_init(worker: int, close_fds: list[int]) -> None:
    """PID 1 of the run's PID namespace: reap everything, exit when ``worker`` does.

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
                os._exit(SIGNAL_EXIT_BASE + os.WTERMSIG(status))
            os._exit(min(os.WEXITSTATUS(status), SIGNAL_EXIT_BASE))


def _drop_privileges(kind: str, uid: int) -> list[str]:
    if kind in ("root", "root-userns"):
        sysos.drop_capabilities(keep_effective=True)  # nothing regains them by exec
        os.setgroups([])  # then the uid change empties the other sets
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        return ["unprivileged-uid", "no-capabilities"]
    if kind == "userns":
        sysos.drop_capabilities()
        return ["no-capabilities"]
    if os.geteuid() == 0:  # level none as root: a throwaway uid, best effort
        os.setgroups([])
        os.setresgid(uid, uid, uid)
        os.setresuid(uid, uid, uid)
        return ["unprivileged-uid"]
    return []


def run(channel: wire.Channel, options: dict) -> None:
    """The forked runner. Never returns.

    Args:
        channel: its end of the channel to the judge (replies capped at
            :data:`_sandbox_wire.MAX_REPLY`).
        options: ``level`` (``full`` | ``none``), ``kind`` (how the judge isolated:
            ``root``, ``root-userns``, ``userns``, ``none``), ``uid`` (the run's sandbox
            uid), ``python_dirs``, ``tmpfs_mb``, ``limits``, ``seccomp`` (BPF bytes or
            None), ``cgroup_procs`` (a descriptor of the run's ``cgroup.procs`` or None),
            ``workdir`` (level none: the host directory to run in).
    """
    stage = "setup"
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.close(null)
        tags, notes, joined = ["process-group", "rlimits"], [], False
        if options["cgroup_procs"] is not None:  # optional: the layers below do not need it
            try:
                os.write(options["cgroup_procs"], b"0")
                joined = True
            except OSError as exc:
                notes.append(f"could not join the run's cgroup ({exc.strerror})")
        _close_fds_except({channel.read_fd, channel.write_fd})
        os.setpgid(0, 0)
        level, kind, uid = options["level"], options["kind"], options["uid"]
        if level == "full":
            stage = "namespaces"
            sysos.unshare(sysos.CLONE_NEWNS | sysos.CLONE_NEWNET | sysos.CLONE_NEWIPC
                          | sysos.CLONE_NEWUTS | sysos.CLONE_NEWCGROUP)
            stage = "filesystem"
            owner = (uid, uid) if kind in ("root", "root-userns") else (os.getuid(),
                                                                         os.getgid())
            notes += sysos.build_root(options["python_dirs"], owner, options["tmpfs_mb"])
            workdir = "/tmp"
            tags += FULL_TAGS
        else:
            workdir = options["workdir"]
            if os.geteuid() == 0:
                os.chown(workdir, uid, uid)
        stage = "privileges"
        tags += _drop_privileges(kind, uid)
        sysos.prctl(sysos.PR_SET_NO_NEW_PRIVS, 1)
        sysos.prctl(sysos.PR_SET_PDEATHSIG, signal.SIGKILL)  # after the uid change
        sysos.prctl(sysos.PR_SET_DUMPABLE, 0)
        tags += ["no-new-privileges", "parent-death-signal"]
        if options["seccomp"] is not None:
            stage = "seccomp"
            sysos.load_seccomp(options["seccomp"])
        if level == "full":
            stage = "namespace init"
            worker = os.fork()
            if worker != 0:
                _namespace_init(worker, [channel.read_fd, channel.write_fd])
            sysos.prctl(sysos.PR_SET_PDEATHSIG, signal.SIGKILL)
        stage = "limits"
        sys.path[:] = list(options["python_dirs"])
        sys.path_importer_cache.clear()
        os.chdir(workdir)
        os.environ.clear()
        os.environ.update(PATH=SANDBOX_PATH, HOME=workdir, TMPDIR=workdir, LANG="C.UTF-8")
        sysos.set_rlimits(options["limits"])
        if hasattr(sys, "set_int_max_str_digits"):
            sys.set_int_max_str_digits(0)  # the completion's own arithmetic, as in Python 3.10
        channel.send({"setup": "ok", "tags": sorted(set(tags)), "notes": notes,
                      "cgroup": joined})
    except BaseException as exc:  # noqa: BLE001 - reported to the judge as an error
        try:
            channel.send({"setup_error": f"{type(exc).__name__}: {exc}"[:wire.DETAIL_CHARS],
                          "stage": stage})
        finally:
            os._exit(70)
    _serve(channel)


def _flush_output() -> None:
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 - the completion may have broken its streams
            pass


def _serve(channel: wire.Channel) -> None:
    """Load the completion, then answer calls until the judge closes the channel."""
    try:
        job = channel.recv()
        source, entry_point = job["source"], job["entry_point"]
    except BaseException:  # noqa: BLE001 - the judge went away
        os._exit(0)
    lines = source.splitlines()
    namespace = {"__name__": "__sandbox__", "__builtins__": builtins}
    try:
        exec(compile(source, "<completion>", "exec"), namespace)  # noqa: S102 - sandboxed
        function = namespace.get(entry_point)
        if not callable(function):
            raise NameError(f"the completion does not define {entry_point}()")
    except BaseException as exc:  # noqa: BLE001 - any failure to load is the completion's
        _flush_output()
        channel.send({"load_error": wire.describe(exc, lines, "<completion>", "completion")})
        os._exit(0)
    _flush_output()
    channel.send({"ready": True})
    while True:
        try:
            message = channel.recv()
            args = wire.decode(message["args"])
            kwargs = {k: wire.decode(v) for k, v in message["kwargs"].items()}
        except BaseException:  # noqa: BLE001 - the judge closed the channel
            os._exit(0)
        try:
            reply = {"value": wire.encode(function(*args, **kwargs))}
        except BaseException as exc:  # noqa: BLE001 - the candidate's exception
            try:
                text = str(exc)
            except BaseException:  # noqa: BLE001 - a broken __str__
                text = ""
            reply = {"raised": type(exc).__name__, "message": text[:wire.DETAIL_CHARS],
                     "where": wire.describe(exc, lines, "<completion>", "completion")}
        _flush_output()
        try:
            channel.send(reply)
        except ValueError as exc:  # too large to send: the candidate's failure, not ours
            channel.send({"raised": "ValueError", "message": str(exc),
                          "where": f"ValueError: return value too large to judge: {exc}"})

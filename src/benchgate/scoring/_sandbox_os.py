"""Linux primitives of the sandbox: namespaces, root, privileges, cgroups, reaping, delete.

Namespaces, the runner's root, privileges, cgroup v2, reaping, and a directory delete that
cannot fail on depth.

Standard library only: loaded by the harness (``python -I -S -B``) as a sibling module
and by :mod:`benchgate.scoring.execute` as part of the package. The kernel interfaces
used are documented in the Linux man pages: unshare(2), mount(2), pivot_root(2),
prctl(2), capset(2), seccomp(2), setrlimit(2), proc(5), and the kernel's cgroup v2 guide
(Documentation/admin-guide/cgroup-v2.rst: ``cgroup.kill``, ``cgroup.events``,
``memory.max``, ``pids.max``, ``cpu.max``). See ``docs/sandbox.md`` for the threat model.
"""

from __future__ import annotations

import ctypes
import errno
import os
import signal
import stat
import time

_libc = ctypes.CDLL(None, use_errno=True)
_libc.syscall.restype = ctypes.c_long

CLONE_NEWNS = 0x00020000
CLONE_NEWCGROUP = 0x02000000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_SYNCHRONOUS = 0x1, 0x2, 0x4, 0x8, 0x10
MS_REMOUNT, MS_MANDLOCK, MS_NOATIME, MS_NODIRATIME = 0x20, 0x40, 0x400, 0x800
MS_BIND, MS_REC, MS_PRIVATE, MS_RELATIME = 0x1000, 0x4000, 0x40000, 0x200000
MNT_DETACH = 0x2
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_SECCOMP = 1, 4, 22
PR_CAPBSET_DROP, PR_SET_NO_NEW_PRIVS, PR_SET_CHILD_SUBREAPER = 24, 38, 36
SECCOMP_MODE_FILTER = 2
_LINUX_CAPABILITY_VERSION_3 = 0x20080522
# statvfs f_flag bit -> mount flag (they differ for the atime bits).
_ST_TO_MS = ((1, MS_RDONLY), (2, MS_NOSUID), (4, MS_NODEV), (8, MS_NOEXEC),
             (16, MS_SYNCHRONOUS), (64, MS_MANDLOCK), (1024, MS_NOATIME),
             (2048, MS_NODIRATIME), (4096, MS_RELATIME))
_SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41, "riscv64": 41, "ppc64le": 203,
                   "s390x": 217}
#: Devices the runner's /dev holds (bind-mounted from the host's).
DEVICES = ("null", "zero", "full", "random", "urandom")
_DEV_LINKS = {"fd": "/proc/self/fd", "stdin": "/proc/self/fd/0", "stdout": "/proc/self/fd/1",
              "stderr": "/proc/self/fd/2"}


def _check(result: int, what: str) -> None:
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _enc(text: str | None) -> bytes | None:
    return None if text is None else os.fsencode(text)


def unshare(flags: int) -> None:
    """Move this process into new namespaces (``CLONE_NEW*`` flags); OSError on failure."""
    _check(_libc.unshare(ctypes.c_int(flags)), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int,
          data: str | None = None) -> None:
    """Mount a filesystem or change a mount (the mount syscall); OSError names the target."""
    _check(_libc.mount(_enc(source), _enc(target), _enc(fstype), ctypes.c_ulong(flags),
                       _enc(data)), f"mount {target}")


def prctl(option: int, arg: int) -> None:
    """Set a process attribute (the prctl syscall, one argument); OSError on failure."""
    _check(_libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0),
                       ctypes.c_ulong(0), ctypes.c_ulong(0)), f"prctl({option})")


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities(keep_effective: bool = False) -> None:
    """Empty the bounding set, then (unless ``keep_effective``) every other capability set.

    Args:
        keep_effective: keep the effective set (e.g. CAP_SETUID for a following uid
            change, which itself clears the sets).
    """
    for cap in range(64):
        if _libc.prctl(PR_CAPBSET_DROP, ctypes.c_ulong(cap), 0, 0, 0) != 0:
            if ctypes.get_errno() == errno.EINVAL:  # past the kernel's last capability
                break
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP)")
    if not keep_effective:
        _check(_libc.capset(ctypes.byref(_CapHeader(_LINUX_CAPABILITY_VERSION_3, 0)),
                            (_CapData * 2)()), "capset")


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_seccomp(program: bytes) -> None:
    """Install a seccomp BPF program compiled by libseccomp (``seccomp_export_bpf``).

    Needs ``PR_SET_NO_NEW_PRIVS`` set (or CAP_SYS_ADMIN). Raises OSError when the kernel
    refuses it, ValueError when ``program`` is not whole ``sock_filter`` instructions.
    """
    if not program or len(program) % 8 or len(program) // 8 > 4096:
        raise ValueError(f"a seccomp program is 1-4096 8-byte instructions, got "
                         f"{len(program)} bytes")
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = _SockFprog(len(program) // 8, ctypes.addressof(buffer))
    _check(_libc.prctl(ctypes.c_int(PR_SET_SECCOMP), ctypes.c_ulong(SECCOMP_MODE_FILTER),
                       ctypes.byref(fprog), ctypes.c_ulong(0), ctypes.c_ulong(0)),
           "seccomp filter")


def set_rlimits(limits: dict) -> None:
    """Apply the run's resource limits (MiB, seconds, counts) to this process."""
    import resource

    mib = 1024 * 1024
    for name, value in (
        ("RLIMIT_AS", limits["memory_mb"] * mib), ("RLIMIT_CPU", limits["cpu_s"]),
        ("RLIMIT_NPROC", limits["processes"]), ("RLIMIT_FSIZE", limits["file_size_mb"] * mib),
        ("RLIMIT_NOFILE", limits["open_files"]), ("RLIMIT_CORE", 0), ("RLIMIT_MEMLOCK", 0),
        ("RLIMIT_MSGQUEUE", 0),
    ):
        hard = value + 1 if name == "RLIMIT_CPU" else value  # SIGXCPU first, then SIGKILL
        resource.setrlimit(getattr(resource, name), (value, hard))


# ---------------------------------------------------------------------------------------
# The runner's root: a fresh tmpfs holding read-only binds of the system's programs and
# libraries and of the interpreter's standard library, an empty /dev with five devices, a
# private /tmp and /proc; no host /run, /var, /home, /root, /tmp, /dev/shm or repository.


def _mount_flags(path: str) -> int:
    flags = os.statvfs(path).f_flag
    return sum(ms for st, ms in _ST_TO_MS if flags & st)


def _unescape(path: str) -> str:
    # /proc/self/mountinfo escapes space, tab, newline and backslash as \ooo octal.
    out, i = [], 0
    while i < len(path):
        if path[i] == "\\" and path[i + 1:i + 4].isdigit():
            out.append(chr(int(path[i + 1:i + 4], 8)))
            i += 4
        else:
            out.append(path[i])
            i += 1
    return "".join(out)


def _mount_points() -> list[str]:
    with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
        return [_unescape(line.split()[4]) for line in f]


def _read_only_binds(stage: str, ours: list[str]) -> None:
    """Remount our mounts (and what came with them) read-only and nosuid, keeping locked flags.

    Only mount points at or below ``ours``: the host's own mounts below the stage's mount
    point are covered by it (and detached with the old root), not ours to touch.
    """
    for point in _mount_points():
        if not any(point == o or point.startswith(o + "/") for o in ours):
            continue
        extra = MS_NOSUID if point.startswith(stage + "/dev/") else MS_NOSUID | MS_NODEV
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY | extra | _mount_flags(point)
        mount(None, point, None, flags)


def build_root(python_dirs: list[str], owner: tuple[int, int], tmpfs_mb: int,
               stage: str = "/tmp") -> list[str]:
    """Build the runner's root in its own mount namespace and pivot into it.

    Call after ``unshare(CLONE_NEWNS)``, with CAP_SYS_ADMIN in the mount namespace's user
    namespace. ``stage`` is any existing directory to build on (its host content is
    covered, and gone after the pivot).

    Args:
        python_dirs: the interpreter's standard-library directories (bound read-only at
            the same paths); those under ``/usr`` come with it.
        owner: (uid, gid) owning the writable ``/tmp`` (the runner's working directory).
        tmpfs_mb: size of ``/tmp`` in MiB.
        stage: mount point for the new root while it is built.

    Returns:
        Notes (e.g. that ``/proc`` could not be mounted: the runner then has none).

    Raises:
        OSError: a mount or the pivot failed.
    """
    mount(None, "/", None, MS_REC | MS_PRIVATE)  # nothing done here reaches the host
    links, binds = [], []
    for top in ("bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr"):
        path = "/" + top
        if os.path.islink(path):
            links.append((top, os.readlink(path)))
        elif os.path.isdir(path):
            binds.append(path)
    files = [p for p in ("/etc/ld.so.cache",) if os.path.isfile(p)]
    # The standard library at the path the interpreter knows it by (sys.path and packages'
    # __path__ keep it), unless it already comes with a bound directory such as /usr.
    for path in sorted({os.path.normpath(os.path.abspath(p)) for p in python_dirs
                        if os.path.exists(p)}):
        real = os.path.realpath(path)
        if not any(p == b or p.startswith(b.rstrip("/") + "/") for b in binds
                   for p in (path, real)):
            (binds if os.path.isdir(path) else files).append(path)  # a zip is a file
    files += ["/dev/" + d for d in DEVICES if os.path.exists("/dev/" + d)]
    sources = {p: os.open(p, os.O_PATH | os.O_CLOEXEC) for p in binds + files}
    try:
        mount("tmpfs", stage, "tmpfs", MS_NOSUID | MS_NODEV, "size=4m,nr_inodes=4096,mode=0755")
        for top, target in links:
            os.symlink(target, f"{stage}/{top}")
        os.makedirs(f"{stage}/dev", mode=0o755)
        mount("tmpfs", f"{stage}/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "size=64k,mode=0755")
        for name, target in _DEV_LINKS.items():
            os.symlink(target, f"{stage}/dev/{name}")
        for path, fd in sources.items():
            target = stage + path
            if path in binds:
                os.makedirs(target, mode=0o755, exist_ok=True)
                mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
            else:
                os.makedirs(os.path.dirname(target), mode=0o755, exist_ok=True)
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
                mount(f"/proc/self/fd/{fd}", target, None, MS_BIND)
        for name in ("tmp", "proc", ".oldroot"):
            os.mkdir(f"{stage}/{name}", 0o755)
        mount("tmpfs", f"{stage}/tmp", "tmpfs", MS_NOSUID | MS_NODEV,
              f"size={tmpfs_mb}m,nr_inodes=4096,mode=0700,uid={owner[0]},gid={owner[1]}")
        _read_only_binds(stage, [f"{stage}/dev"] + [stage + p for p in sources])
    finally:
        for fd in sources.values():
            os.close(fd)
    os.chdir(stage)
    _check(_libc.syscall(ctypes.c_long(_SYS_PIVOT_ROOT[os.uname().machine]), b".",
                         b".oldroot"), "pivot_root")
    os.chdir("/")
    _check(_libc.umount2(b"/.oldroot", ctypes.c_int(MNT_DETACH)), "umount /.oldroot")
    os.rmdir("/.oldroot")
    mount(None, "/", None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
    try:
        mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY)
    except OSError as exc:  # e.g. a container that masks parts of the host's /proc
        return [f"no /proc in the sandbox ({exc.strerror})"]
    return []


# ---------------------------------------------------------------------------------------
# cgroup v2: one cgroup per run below <hierarchy root>/benchgate, where writable.


def cgroup2_root() -> str | None:
    """The mount point of the cgroup v2 hierarchy, or None when there is none."""
    try:
        with open("/proc/self/mountinfo", encoding="utf-8", errors="surrogateescape") as f:
            for line in f:
                before, _, after = line.partition(" - ")
                if after.split(" ", 1)[0] == "cgroup2":
                    return _unescape(before.split()[4])
    except OSError:
        pass
    return None


def _write(path: str, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CLOEXEC)
    try:
        os.write(fd, text.encode())
    finally:
        os.close(fd)


def create_cgroup(name: str, limits: dict) -> tuple[str, list[str]] | None:
    """Create the run's cgroup with memory, pids and CPU limits where the kernel allows.

    Args:
        name: the run's cgroup name (unique while the caller lives).
        limits: ``memory_mb`` (MiB for the whole run, page cache and tmpfs included),
            ``processes`` (``pids.max``); CPU is capped at one core (``cpu.max``).

    Returns:
        (path, tags of the limits in force), or None when no cgroup v2 hierarchy is
        writable here.
    """
    root = cgroup2_root()
    if root is None:
        return None
    parent = os.path.join(root, "benchgate")
    try:
        os.makedirs(parent, exist_ok=True)
        with open(os.path.join(parent, "cgroup.controllers"), encoding="ascii") as f:
            offered = set(f.read().split()) & {"memory", "pids", "cpu"}
        if offered:
            try:
                _write(os.path.join(parent, "cgroup.subtree_control"),
                       " ".join(f"+{c}" for c in sorted(offered)))
            except OSError:
                offered = set()
        path = os.path.join(parent, name)
        os.mkdir(path)
    except OSError:
        return None
    tags = ["cgroup"]
    settings = {"memory": [("memory.max", f"{limits['memory_mb'] * 1024 * 1024}"),
                           ("memory.swap.max", "0")],
                "pids": [("pids.max", str(limits["processes"] + 1))],
                "cpu": [("cpu.max", "100000 100000")]}
    for controller in sorted(offered):
        try:
            for file, value in settings[controller]:
                if os.path.exists(os.path.join(path, file)):
                    _write(os.path.join(path, file), value)
            tags.append(f"cgroup-{controller}")
        except OSError:
            pass
    return path, tags


def cgroup_empty(path: str) -> bool:
    """True when no process is left in the cgroup (``populated 0``) or it is gone."""
    try:
        with open(os.path.join(path, "cgroup.events"), encoding="ascii") as f:
            return "populated 0" in f.read()
    except FileNotFoundError:
        return True


def kill_cgroup(path: str, deadline: float) -> bool:
    """Kill every process in the cgroup and remove it; True when it is gone by ``deadline``.

    Uses ``cgroup.kill`` (Linux 5.14+), which no fork can race; on older kernels, kills
    the listed processes until the cgroup is empty.
    """
    kill_file = os.path.join(path, "cgroup.kill")
    has_kill = os.path.exists(kill_file)
    delay = 0.0005
    while True:
        try:
            if has_kill:
                _write(kill_file, "1")
            else:
                with open(os.path.join(path, "cgroup.procs"), encoding="ascii") as f:
                    for pid in f.read().split():
                        _kill(int(pid))
            if cgroup_empty(path):
                os.rmdir(path)
                return True
        except FileNotFoundError:
            return True
        except OSError:
            pass
        if time.monotonic() >= deadline:
            return False
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


# ---------------------------------------------------------------------------------------
# Processes.


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def process_state(pid: int) -> tuple[str, int, int] | None:
    """(state letter, parent pid, start time in clock ticks) of ``pid``, or None if gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            data = f.read()
    except OSError:
        return None
    fields = data[data.rindex(b")") + 2:].split()
    return fields[0].decode(), int(fields[1]), int(fields[19])


def gone(pid: int, start: int) -> bool:
    """True when the process ``pid`` started at ``start`` has ended (gone or a zombie)."""
    state = process_state(pid)
    return state is None or state[2] != start or state[0] in ("Z", "X")


def processes_of_uid(uid: int) -> list[int]:
    """Live (non-zombie) processes whose real uid is ``uid``, from /proc."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", "rb") as f:
                fields = dict(line.split(b":", 1) for line in f if b":" in line)
        except (OSError, ValueError):
            continue
        if (int(fields[b"Uid"].split()[0]) == uid
                and not fields[b"State"].strip().startswith((b"Z", b"X"))):
            found.append(int(entry))
    return found


def kill_uid(uid: int, deadline: float) -> list[int]:
    """As root: SIGKILL every process of ``uid`` until /proc shows none or ``deadline``.

    Each round kills by pid from a fresh listing, so a process that kills its siblings or
    forks meanwhile is caught in a later round (root's signals cannot be blocked by it).

    Returns:
        The processes still alive at the deadline (empty on success).
    """
    delay = 0.0005
    while True:
        alive = processes_of_uid(uid)
        if not alive:
            return []
        for pid in alive:
            _kill(pid)
        if time.monotonic() >= deadline:
            return processes_of_uid(uid)
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


def kill_descendants(deadline: float) -> list[int]:
    """SIGKILL and reap every descendant of this process until none is left.

    With ``PR_SET_CHILD_SUBREAPER`` set on this process beforehand, orphans (double forks,
    daemons) are reparented here, so the listing finds them.

    Returns:
        Descendants still alive at the deadline (empty on success).
    """
    me, delay = os.getpid(), 0.0005
    while True:
        parents: dict[int, list[int]] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                state = process_state(int(entry))
                if state is not None and state[0] not in ("Z", "X"):
                    parents.setdefault(state[1], []).append(int(entry))
        found, stack = [], [me]
        while stack:
            for child in parents.get(stack.pop(), []):
                found.append(child)
                stack.append(child)
        for pid in found:
            _kill(pid)
        while True:
            try:
                if os.waitpid(-1, os.WNOHANG)[0] == 0:
                    break
            except ChildProcessError:
                break
        if not found:
            return []
        if time.monotonic() >= deadline:
            return found
        time.sleep(delay)
        delay = min(delay * 2, 0.02)


# ---------------------------------------------------------------------------------------
# Deleting a directory tree whatever its depth and permissions.


def remove_tree(path: str) -> None:
    """Delete the directory tree at ``path`` without recursion and despite permissions.

    Walks with one directory descriptor at a time (``openat``/``unlinkat``), so neither
    Python's recursion limit, ``PATH_MAX`` nor the open-file limit bounds the depth; makes
    each directory writable by its owner before emptying it. Symlinks are removed, never
    followed.

    Raises:
        OSError: something could not be removed (e.g. a mount point, an immutable file).
    """
    flags = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
    names: list[str] = []
    fd = os.open(path, flags)
    try:
        while True:
            try:
                os.fchmod(fd, stat.S_IRWXU)
            except OSError:  # not ours: root needs no permission bits
                pass
            child, removed = None, False
            with os.scandir(fd) as entries:
                for entry in entries:
                    if entry.is_dir(follow_symlinks=False):
                        child = entry.name
                        break
                    os.unlink(entry.name, dir_fd=fd)
                    removed = True
            if child is not None:
                new = os.open(child, flags, dir_fd=fd)
                os.close(fd)
                fd = new
                names.append(child)
                continue
            if removed:  # entries removed while listing may hide others: list again
                continue
            if not names:
                break
            parent = os.open("..", flags, dir_fd=fd)
            os.close(fd)
            fd = parent
            os.rmdir(names.pop(), dir_fd=fd)
    finally:
        os.close(fd)
    os.rmdir(path)

"""The sandbox's syscall filter, compiled once per process by libseccomp.

:func:`runner_filter` builds the filter with libseccomp (through the ``pyseccomp`` ctypes
binding, https://pypi.org/project/pyseccomp/, API-compatible with libseccomp's own Python
binding) and exports it as a BPF program, which the harness installs in the runner just
before the completion runs. Compiling here, in the host process, keeps libseccomp out of
every sandbox start; the harness only loads the bytes with ``prctl(PR_SET_SECCOMP)``.

What it denies (``EPERM`` unless noted), and why (see ``docs/sandbox.md``):

* ``socket``/``socketpair`` of any family but ``AF_INET``/``AF_INET6``: unix sockets on
  the host (D-Bus, ``/dev/log``, Docker's socket) by path or abstract name, netlink,
  packet sockets; the network namespace already leaves INET only a down loopback.
* ``clone`` with any namespace flag, ``unshare``, ``setns``; ``clone3`` fails with
  ``ENOSYS`` (its flags are out of a filter's reach) so the C library falls back to
  ``clone``: no new namespaces, no joining others.
* ``mount`` and the new mount API, ``pivot_root``, ``chroot``, ``umount2``; ``ptrace``,
  ``process_vm_readv``/``writev``, ``kcmp``, ``pidfd_getfd``; ``bpf``,
  ``perf_event_open``, ``userfaultfd``, ``io_uring_*`` (which could open sockets past
  this filter); ``keyctl``, ``add_key``, ``request_key``; handles, modules, kexec,
  swap, reboot, accounting, quota, syslog, port I/O.
* Syscalls of other ABIs (i386 via ``int 0x80``, x32) kill the process (libseccomp's
  default bad-architecture action).
"""

from __future__ import annotations

import errno
import functools
import socket
import tempfile

CLONE_NAMESPACE_FLAGS = (0x00020000, 0x02000000, 0x04000000, 0x08000000, 0x10000000,
                         0x20000000, 0x40000000)
"""CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET (linux/sched.h)."""

DENIED_SYSCALLS = (
    "unshare", "setns", "mount", "umount2", "pivot_root", "chroot", "open_tree",
    "move_mount", "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr", "ptrace",
    "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd", "bpf", "perf_event_open",
    "userfaultfd", "io_uring_setup", "io_uring_enter", "io_uring_register", "keyctl",
    "add_key", "request_key", "open_by_handle_at", "name_to_handle_at", "kexec_load",
    "kexec_file_load", "init_module", "finit_module", "delete_module", "swapon", "swapoff",
    "reboot", "acct", "quotactl", "syslog", "lookup_dcookie", "iopl", "ioperm", "uselib",
    "vhangup", "sethostname", "setdomainname", "fanotify_init",
)
"""Syscalls the runner may not make at all."""


class SeccompUnavailable(RuntimeError):
    """libseccomp or its Python binding is missing, or it refused to build the filter."""


def _allowed_families_rules(seccomp, deny) -> list[tuple]:
    """Rules denying every socket family but AF_INET and AF_INET6 (two ranges, one each).

    libseccomp compares one argument once per rule, so ``domain not in {2, 10}`` becomes
    ``<= 1``, ``3..9`` and ``>= 11`` (64-bit compares: garbage in the upper half of the
    register is refused too).
    """
    inet, inet6 = int(socket.AF_INET), int(socket.AF_INET6)
    if not inet < inet6:
        raise SeccompUnavailable(f"unexpected AF_INET={inet}, AF_INET6={inet6}")
    rules = []
    for name in ("socket", "socketpair"):
        rules.append((deny, name, seccomp.Arg(0, seccomp.LE, inet - 1)))
        rules += [(deny, name, seccomp.Arg(0, seccomp.EQ, n)) for n in range(inet + 1, inet6)]
        rules.append((deny, name, seccomp.Arg(0, seccomp.GE, inet6 + 1)))
    return rules


@functools.lru_cache(maxsize=1)
def runner_filter() -> bytes:
    """The runner's syscall filter as a BPF program for this machine's architecture.

    Returns:
        The program (``struct sock_filter`` instructions, 8 bytes each), as exported by
        libseccomp's ``seccomp_export_bpf``. Cached: built once per process.

    Raises:
        SeccompUnavailable: ``pyseccomp`` is not installed, libseccomp (the
            ``libseccomp2`` package on Debian/Ubuntu) is not found, or it refused a rule;
            the message says which and how to install it.
    """
    try:
        import pyseccomp as seccomp
    except ImportError as exc:
        raise SeccompUnavailable(
            f"the Python binding of libseccomp is not installed ({exc}); install it with "
            "`pip install pyseccomp` (a benchgate dependency)") from None
    except (OSError, RuntimeError) as exc:  # pyseccomp raises RuntimeError without the library
        raise SeccompUnavailable(
            f"libseccomp is not installed ({exc}); install it with "
            "`apt-get install libseccomp2` (Debian/Ubuntu) or your distribution's "
            "libseccomp package") from None
    deny = seccomp.ERRNO(errno.EPERM)
    try:
        flt = seccomp.SyscallFilter(seccomp.ALLOW)
        rules = [(deny, name) for name in DENIED_SYSCALLS]
        rules += [(deny, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
                  for flag in CLONE_NAMESPACE_FLAGS]
        rules.append((seccomp.ERRNO(errno.ENOSYS), "clone3"))
        rules += _allowed_families_rules(seccomp, deny)
        for action, name, *args in rules:
            if seccomp.resolve_syscall(seccomp.Arch.NATIVE, name) == -1:
                continue  # not a syscall on this architecture
            flt.add_rule(action, name, *args)
        with tempfile.TemporaryFile() as f:
            flt.export_bpf(f)
            f.seek(0)
            program = f.read()
    except OSError as exc:
        raise SeccompUnavailable(f"libseccomp could not build the sandbox's syscall filter: "
                                 f"{exc}") from None
    if not program or len(program) % 8:
        raise SeccompUnavailable(f"libseccomp exported a malformed filter ({len(program)} "
                                 "bytes)")
    return program

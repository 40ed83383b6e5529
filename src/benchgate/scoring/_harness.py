"""The sandbox harness: runs one HumanEval completion against its tests, isolated.

Executed as a script, ``python -I -S -B _harness.py --job PATH --report-fd N --level
full|none --deadline T --limits JSON --tmpfs-mb N --sandbox-dir PATH [--seccomp HEX]``,
by :func:`benchgate.scoring.execute.run_humaneval`. It imports the standard library and
its sibling modules only (never benchgate): ``_sandbox_judge`` (the trusted side),
``_sandbox_runner`` (the untrusted side), ``_sandbox_wire`` (values and messages) and
``_sandbox_os`` (Linux primitives). The host imports those modules once, so their
bytecode is cached and a run does not recompile them. See ``docs/sandbox.md``.

Arguments:
    --job: a 0600 JSON file (nonce, prompt, completion, test, entry_point, timeout_s),
        opened and unlinked before the runner is forked.
    --report-fd: the pipe the verdict goes to (the runner never holds it).
    --level: ``full`` (namespaces, fresh root, seccomp, cgroup where writable) or ``none``.
    --deadline: ``time.monotonic()`` value at which the run times out.
    --limits: the runner's resource limits (``SandboxLimits`` as JSON).
    --tmpfs-mb: size of the runner's private ``/tmp``.
    --sandbox-dir: the runner's working directory at level ``none``.
    --seccomp: the syscall filter (libseccomp BPF, hex), required at level ``full``.
"""

import os
import sys

if __name__ == "__main__":
    # The interpreter's standard-library directories, before the siblings' is added.
    PYTHON_DIRS = [p for p in sys.path if p]
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _sandbox_judge

    # Skip interpreter finalisation: everything is reported, the runner is gone.
    os._exit(_sandbox_judge.main(sys.argv, PYTHON_DIRS))

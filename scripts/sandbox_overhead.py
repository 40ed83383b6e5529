"""Per-run cost of the HumanEval sandbox against the previous implementation, same machine.

The reference is the sandbox as committed at a git revision (default: ``7ef516d``, the
last commit before issue 11, whose single-file harness had namespaces but no seccomp
filter, minimal root or verified reaping; pass ``--ref REV`` for another one that still
has that layout). Its ``execute.py`` and ``_harness.py`` are written to a temporary
directory and imported from there, so both run in this process, interleaved (new, old,
old, new...) on the same completions, and the load on the machine falls on both alike.
Prints each one's median and 90th percentile per run and the ratio of the medians.

Usage::

    .venv/bin/python scripts/sandbox_overhead.py [--runs 60] [--ref 7ef516d]
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
REFERENCE = "7ef516d8aa701bff60398a4939ed319c2faeb0b5"  # before issue 11
PROBLEM = json.loads((REPO / "fixtures" / "adversarial" / "problem.json").read_text())
COMPLETIONS = [
    PROBLEM["canonical_solution"],  # passes
    "    return a - b\n",  # fails an assertion
    "    import math, re, collections\n    return int(math.fsum([a, b])) if a < 2**53 else a + b\n",
]


def _reference(rev: str, where: Path):
    """Import the sandbox's ``execute`` module as committed at ``rev``."""
    for name in ("execute.py", "_harness.py"):
        text = subprocess.run(["git", "show", f"{rev}:src/benchgate/scoring/{name}"],
                              cwd=REPO, check=True, capture_output=True, text=True).stdout
        (where / name).write_text(text)
    spec = importlib.util.spec_from_file_location("benchgate_reference_execute",
                                                  where / "execute.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    module._HARNESS = where / "_harness.py"
    return module


def _time(run) -> float:
    start = time.perf_counter()
    result = run()
    elapsed = time.perf_counter() - start
    if result.status not in ("passed", "failed"):
        raise SystemExit(f"unexpected result: {result.status}: {result.detail}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--runs", type=int, default=60, help="runs of each implementation")
    parser.add_argument("--ref", default=REFERENCE, help="git revision of the reference")
    args = parser.parse_args()

    from benchgate.scoring import execute

    status = execute.isolation_status()  # probed once, before timing
    if not status.available:
        raise SystemExit(status.message)
    with tempfile.TemporaryDirectory(prefix="benchgate-overhead-") as tmp:
        old = _reference(args.ref, Path(tmp))
        new_times, old_times = [], []
        for _ in range(2):  # warm both (page cache, bytecode)
            execute.run_humaneval(PROBLEM, COMPLETIONS[0])
            old.run_humaneval(PROBLEM, COMPLETIONS[0])
        for k in range(args.runs):
            completion = COMPLETIONS[k % len(COMPLETIONS)]
            pair = [("new", lambda c=completion: execute.run_humaneval(PROBLEM, c)),
                    ("old", lambda c=completion: old.run_humaneval(PROBLEM, c))]
            for name, run in pair if k % 2 == 0 else reversed(pair):
                (new_times if name == "new" else old_times).append(_time(run))

    def describe(times: list[float]) -> str:
        q = statistics.quantiles(times, n=10)
        return f"median {1000 * statistics.median(times):6.1f} ms, p90 {1000 * q[-1]:6.1f} ms"

    load = os.getloadavg()
    print(f"runs: {args.runs} each, interleaved; cpus: {os.cpu_count()}; "
          f"load average at end: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    print(f"reference ({args.ref}): {describe(old_times)}")
    print(f"this tree:           {describe(new_times)}")
    print(f"ratio of medians (this tree / reference): "
          f"{statistics.median(new_times) / statistics.median(old_times):.2f}")


if __name__ == "__main__":
    sys.exit(main())

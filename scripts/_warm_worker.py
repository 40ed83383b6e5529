"""For scripts/bench_warm.py: one worker's warm work, in one fresh process, timed by part.

Prints JSON: seconds for imports, loading the benchmarks' items, building each model's
backend and identity, then per benchmark the response-cache reads (render memo included)
and the scoring, and whether torch/transformers got imported. Arguments: cache dir, data
dir, limit, models file.
"""

from __future__ import annotations

import json
import sys
import time

t0 = time.perf_counter()
import importlib  # noqa: E402
from pathlib import Path  # noqa: E402

from benchgate.backends.cache import ResponseCache  # noqa: E402
from benchgate.config import load_models  # noqa: E402
from benchgate.data.sources import DataSource, select_limit  # noqa: E402
from benchgate.evaluate import BackendFactory, Evaluator, LoadedBenchmark  # noqa: E402

cache_dir, data_dir, limit, models_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
out: dict = {"imports_s": time.perf_counter() - t0, "benchmarks": {}}
repo = Path(__file__).resolve().parents[1]
t = time.perf_counter()
benches = {}
for path in sorted((repo / "tests" / "benchmarks").glob("test_*.py")):
    cls = importlib.import_module(f"benchgate.benchmarks.{path.stem[5:]}")
    spec_cls = next(v for v in vars(cls).values()
                    if isinstance(v, type) and getattr(v, "name", None) == path.stem[5:])
    bench = spec_cls()
    try:
        items = bench.load(DataSource(data_dir=Path(data_dir)))
    except Exception:  # noqa: BLE001 - a benchmark without data is skipped, as in a run
        continue
    selected = select_limit(items, limit, 0)
    benches[bench.name] = LoadedBenchmark(spec=bench, selected=selected, n_total=len(items))
out["load_items_s"] = time.perf_counter() - t
models = {m.id: m for m in load_models(Path(models_file))}
evaluator = Evaluator(models, BackendFactory(store_dir=str(Path(cache_dir) / "models")),
                      ResponseCache(cache_dir))
for model_id in models:
    t = time.perf_counter()
    evaluator.backend(model_id)
    out[f"backend_{model_id}_s"] = time.perf_counter() - t
    for name, loaded in benches.items():
        t = time.perf_counter()
        evaluator.ensure(model_id, loaded, loaded.selected)
        reads = time.perf_counter() - t
        t = time.perf_counter()
        for item in loaded.selected:
            evaluator.outcome(model_id, loaded, item, loaded.selected)
        row = out["benchmarks"].setdefault(name, {"cache_s": 0.0, "score_s": 0.0})
        row["cache_s"] += reads
        row["score_s"] += time.perf_counter() - t
out["generated"] = evaluator.generated
out["total_s"] = time.perf_counter() - t0
out["torch_imported"] = "torch" in sys.modules
out["transformers_imported"] = "transformers" in sys.modules
print(json.dumps(out))

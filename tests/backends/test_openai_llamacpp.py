"""The openai backend against a real server: llama-cpp-python serving SmolLM2-135M (Q4_1)."""

from __future__ import annotations

import concurrent.futures
import time

import pytest

from benchgate.backends.base import Request
from benchgate.backends.openai_compat import OpenAIBackend
from benchgate.config import ModelSpec

# One worker runs this module, so the session's llama.cpp server starts once (--dist loadgroup).
pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("llamacpp-server")]

MAX_TOKENS = 32

# GSM8K-style grade-school word problems (written for this test, not taken from the dataset).
PROBLEMS = [
    "Tom has 3 boxes with 12 pencils each. He gives away 9 pencils. How many pencils are left?",
    "A baker makes 48 muffins and sells them in bags of 6. How many bags does she fill?",
    "Sara reads 15 pages a day. How many pages does she read in 2 weeks?",
    "A train goes 60 km per hour for 3 hours, then 40 km per hour for 2 hours. How far does it go?",
    "Liam buys 4 apples at $2 each and 3 pears at $3 each. How much does he spend?",
    "A garden has 7 rows of 9 tulips. 14 tulips are picked. How many remain?",
    "Mia saves $25 each month. How many months does she need to save $300?",
    "A class of 28 students splits into teams of 4. How many teams are there?",
]


def gsm_request(problem: str, **kwargs) -> Request:
    return Request.from_messages(
        [
            {
                "role": "user",
                "content": f"{problem}\nThink step by step, then give the answer after 'Answer:'.",
            }
        ],
        **kwargs,
    )


@pytest.fixture(scope="module")
def backend(llama_server, llamacpp):
    spec = ModelSpec.model_validate(
        {
            "id": "smollm2-llamacpp",
            "backend": "openai",
            "base_url": llama_server.base_url,
            "model": llamacpp.MODEL_ALIAS,
            "system_prompt": "You are a careful math tutor.",
            "generation": {"max_new_tokens": MAX_TOKENS, "temperature": 0.0, "seed": 0},
        }
    )
    return OpenAIBackend(spec)


@pytest.fixture(scope="module")
def first_run(backend):
    return backend.generate([gsm_request(p) for p in PROBLEMS])


def test_batch_of_eight_completes_with_usage(first_run):
    assert len(first_run) == len(PROBLEMS)
    for completion in first_run:
        assert completion.error is None
        assert completion.text.strip()
        assert completion.finish_reason in ("stop", "length")
        assert completion.prompt_tokens > 20  # system prompt + template + problem
        assert 0 < completion.completion_tokens <= MAX_TOKENS
        assert completion.latency_s > 0
        assert completion.reasoning is None and completion.reasoning_tokens is None
    # Different problems give different answers (the order of the batch is kept).
    assert len({c.text for c in first_run}) == len(PROBLEMS)


def test_temperature_zero_is_deterministic_across_calls(backend, first_run):
    again = backend.generate([gsm_request(p) for p in PROBLEMS])
    assert [c.text for c in again] == [c.text for c in first_run]
    assert [c.completion_tokens for c in again] == [c.completion_tokens for c in first_run]


def test_request_token_cap_and_stops_apply(backend):
    capped, stopped = backend.generate(
        [
            gsm_request(PROBLEMS[0], max_new_tokens=5),
            # six stop strings: four go to the server, all are applied
            gsm_request(PROBLEMS[1], stop=["\n", "zzz1", "zzz2", "zzz3", "zzz4", "."]),
        ]
    )
    assert capped.completion_tokens == 5 and capped.finish_reason == "length"
    assert stopped.error is None
    assert "\n" not in stopped.text and "." not in stopped.text
    assert stopped.finish_reason == "stop"


def test_info_reports_the_served_model(backend, llama_server, llamacpp):
    info = backend.info()
    assert info.backend == "openai"
    assert info.device == llama_server.base_url
    server_model = info.identity["server_model"]
    assert server_model["id"] == llamacpp.MODEL_ALIAS
    assert "created" not in server_model
    assert info.identity["system_prompt"] == "You are a careful math tutor."
    assert backend.info() is info  # asked once
    fresh = OpenAIBackend(backend.spec)
    assert fresh.info().key() == info.key()


def test_killed_server_turns_in_flight_and_later_requests_into_errors(make_spec, llamacpp):
    with llamacpp.LlamaCppServer() as server:
        spec = make_spec(
            server.base_url,
            model=llamacpp.MODEL_ALIAS,
            generation={"max_new_tokens": 64},
            retries=1,
        )
        backend = OpenAIBackend(spec, backoff_base_s=0.05, backoff_max_s=0.1)
        with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
            future = pool.submit(backend.generate, [gsm_request(p) for p in PROBLEMS])
            time.sleep(0.5)  # 8 x 64 tokens take seconds: most requests are pending or running
            server.kill()
            completions = future.result(timeout=120)  # no exception
    assert len(completions) == len(PROBLEMS)
    errors = [c for c in completions if c.finish_reason == "error"]
    # llama-cpp-python answers one request at a time, and 8 x 64 tokens take well over the
    # 0.5 s before the kill, so at least the requests still queued must have failed.
    assert len(errors) >= len(PROBLEMS) // 2
    for c in completions:
        if c.finish_reason == "error":
            assert c.text == "" and c.error.startswith("connection error after 1 retries: ")
        else:
            assert c.error is None and c.text.strip()

"""Fault handling against real server processes (the stand-in of fixtures/servers/).

Retries on 5xx, 429 (Retry-After honoured), timeouts and dropped connections; no retry on
other 4xx; a server killed mid-run; the concurrency bound; the API key never leaking.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import logging
import os
import time

import pytest

from benchgate.backends.base import Request
from benchgate.backends.openai_compat import OpenAIBackend

# Tiny backoff so that the tests spend their time on the faults, not on waiting.
FAST = {"backoff_base_s": 0.02, "backoff_max_s": 0.1}


def ask(text: str, **kwargs) -> Request:
    return Request.from_messages([{"role": "user", "content": text}], **kwargs)


def test_500_twice_then_success_takes_two_retries(standin, make_spec):
    server = standin("status500", "--fail-count", "2")
    backend = OpenAIBackend(make_spec(server.base_url, retries=3), **FAST)
    [completion] = backend.generate([ask("What is 6*7?")])
    assert completion.error is None
    assert completion.text == "Echo: What is 6*7?"
    assert completion.finish_reason == "stop"
    assert (completion.prompt_tokens, completion.completion_tokens) == (11, 7)
    assert len(server.stats()["chat"]) == 3  # two failures + the success


def test_persistent_500_becomes_error_completion_after_last_retry(standin, make_spec):
    server = standin("status500", "--fail-count", "-1")
    backend = OpenAIBackend(make_spec(server.base_url, retries=2), **FAST)
    completions = backend.generate([ask("a"), ask("b")])
    for c in completions:
        assert c.finish_reason == "error"
        assert c.text == ""
        assert c.error.startswith("HTTP 500 after 2 retries: ")
        assert "internal error (stand-in)" in c.error
    assert len(server.stats()["chat"]) == 6  # 2 requests x (1 + 2 retries)


def test_client_error_is_not_retried(standin, make_spec):
    server = standin("status400", "--fail-count", "-1")
    backend = OpenAIBackend(make_spec(server.base_url, retries=3), **FAST)
    [completion] = backend.generate([ask("x")])
    assert completion.finish_reason == "error"
    assert completion.error.startswith("HTTP 400 (not retried): ")
    assert len(server.stats()["chat"]) == 1


def test_429_retry_after_is_honoured(standin, make_spec, caplog):
    server = standin("status429", "--fail-count", "1", "--retry-after", "1")
    backend = OpenAIBackend(make_spec(server.base_url, retries=2), **FAST)
    with caplog.at_level(logging.INFO, logger="benchgate.backends.openai_compat"):
        [completion] = backend.generate([ask("x")])
    assert completion.error is None and completion.text == "Echo: x"
    first, second = server.stats()["chat"]
    # The backoff alone would wait <= 0.02 s; the retry came only after the 1 s asked for.
    assert second["t"] - first["t"] >= 0.99
    assert "HTTP 429" in caplog.text and "in 1.00 s" in caplog.text


def test_server_slower_than_timeout_is_an_error_after_retries(standin, make_spec):
    server = standin("slow", "--fail-count", "-1", "--delay", "5")
    backend = OpenAIBackend(make_spec(server.base_url, timeout_s=0.3, retries=1), **FAST)
    [completion] = backend.generate([ask("x")])
    assert completion.finish_reason == "error"
    assert completion.error == "timeout after 1 retries: no response within 0.3 s"
    assert len(server.stats()["chat"]) == 2


def test_slow_first_answer_then_fast_succeeds(standin, make_spec):
    server = standin("slow", "--fail-count", "1", "--delay", "5")
    backend = OpenAIBackend(make_spec(server.base_url, timeout_s=0.3, retries=1), **FAST)
    [completion] = backend.generate([ask("x")])
    assert completion.error is None and completion.text == "Echo: x"


def test_dropped_connection_is_retried(standin, make_spec):
    server = standin("drop", "--fail-count", "1")
    backend = OpenAIBackend(make_spec(server.base_url, retries=1), **FAST)
    [completion] = backend.generate([ask("x")])
    assert completion.error is None and completion.text == "Echo: x"
    assert len(server.stats()["chat"]) == 2


def test_always_dropped_connection_is_an_error(standin, make_spec):
    server = standin("drop", "--fail-count", "-1")
    backend = OpenAIBackend(make_spec(server.base_url, retries=1), **FAST)
    [completion] = backend.generate([ask("x")])
    assert completion.finish_reason == "error"
    assert completion.error.startswith("connection error after 1 retries: ")


def test_server_killed_mid_run_gives_error_completions(standin, make_spec):
    # Every answer takes 30 s, so the requests in flight when the server dies never finish.
    server = standin("slow", "--fail-count", "-1", "--delay", "30")
    backend = OpenAIBackend(make_spec(server.base_url, max_concurrency=2, retries=2), **FAST)
    requests = [ask(f"q{i}") for i in range(6)]
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        future = pool.submit(backend.generate, requests)
        deadline = time.monotonic() + 30
        while len(server.stats()["chat"]) < 2:  # both slots are in flight
            assert time.monotonic() < deadline, "requests never reached the stand-in"
            time.sleep(0.05)
        server.kill()
        completions = future.result(timeout=60)  # no exception
    assert len(completions) == 6
    for c in completions:
        assert c.finish_reason == "error" and c.text == ""
        assert c.error.startswith("connection error after 2 retries: "), c.error
    # The two in flight lost their connection; the four later ones were refused.
    assert sum("ConnectError" in c.error for c in completions) >= 4


def test_concurrency_is_bounded_by_max_concurrency(standin, make_spec):
    server = standin("slow", "--fail-count", "-1", "--delay", "0.4")
    backend = OpenAIBackend(make_spec(server.base_url, max_concurrency=3), **FAST)
    completions = backend.generate([ask(f"q{i}") for i in range(7)])
    assert [c.text for c in completions] == [f"Echo: q{i}" for i in range(7)]  # order kept
    assert server.stats()["max_in_flight"] == 3


def test_batch_runs_concurrently(standin, make_spec):
    server = standin("slow", "--fail-count", "-1", "--delay", "0.4")
    backend = OpenAIBackend(make_spec(server.base_url, max_concurrency=8), **FAST)
    completions = backend.generate([ask(f"q{i}") for i in range(8)])
    assert all(c.error is None for c in completions)
    assert server.stats()["max_in_flight"] == 8


def test_api_key_is_sent_but_never_recorded(standin, make_spec, monkeypatch, caplog):
    secret = "sk-test-0123456789abcdef-SECRET"
    monkeypatch.setenv("BENCHGATE_TEST_API_KEY", secret)
    env = {**os.environ, "STANDIN_EXPECTED_KEY": secret}
    # The first request's 500 body repeats the Authorization header (a careless proxy).
    server = standin("status500", "--fail-count", "1", "--echo-auth", env=env)
    spec = make_spec(
        server.base_url, api_key_env="BENCHGATE_TEST_API_KEY", retries=0, max_concurrency=1
    )
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    backend = OpenAIBackend(spec, **FAST)
    completions = backend.generate([ask("first"), ask("second")])
    info = backend.info()
    chat = server.stats()["chat"]
    assert all(r["authorized"] for r in chat)  # the key was sent on every request
    assert completions[0].finish_reason == "error" and completions[1].text == "Echo: second"
    assert "[redacted]" in completions[0].error
    recorded = [
        caplog.text,
        json.dumps(info.identity, default=str),
        info.device,
        info.key(),
        repr(backend),
        backend.render(ask("x")),
        json.dumps(backend.request_body(ask("x"))),
        *(json.dumps(c.to_dict()) for c in completions),
    ]
    assert caplog.text  # the logs were captured
    for text in recorded:
        assert secret not in text


def test_info_asks_the_server_once_and_drops_volatile_fields(standin, make_spec):
    server = standin("ok")
    backend = OpenAIBackend(make_spec(server.base_url, reasoning_effort="low"), **FAST)
    first = backend.info()
    second = backend.info()
    assert first is second
    stats = server.stats()
    assert stats["models_calls"] == 1 and len(stats["chat"]) == 1  # one /models, one probe
    identity = first.identity
    assert identity["server_model"] == {
        "id": "standin-model",
        "owned_by": "standin",
        "max_model_len": 4096,
    }
    assert identity["system_fingerprint"] == "fp_standin_1"
    assert identity["model"] == "standin-model"
    assert identity["reasoning_effort"] == "low"
    assert identity["generation"]["max_new_tokens"] == 24
    assert first.backend == "openai" and first.device == server.base_url
    # A second backend on a restarted server (new port, new "created") has the same key.
    server.kill()
    again = standin("ok")
    assert (
        OpenAIBackend(make_spec(again.base_url, reasoning_effort="low"), **FAST).info().key()
        == first.key()
    )
    # Any generation setting changes it.
    other = OpenAIBackend(make_spec(again.base_url, reasoning_effort="high"), **FAST)
    assert other.info().key() != first.key()


def test_info_records_unreported_when_server_is_down(standin, make_spec):
    server = standin("ok")
    url = server.base_url
    server.kill()
    backend = OpenAIBackend(make_spec(url, retries=0), **FAST)
    identity = backend.info().identity
    assert identity["server_model"] == "unreported"
    assert identity["system_fingerprint"] == "unreported"


@pytest.mark.parametrize("field", ["reasoning_content", "reasoning"])
def test_split_reasoning_is_read_and_empty_content_kept_empty(standin, make_spec, field):
    server = standin("reasoning", "--fail-count", "-1", "--reasoning-field", field)
    backend = OpenAIBackend(make_spec(server.base_url), **FAST)
    [completion] = backend.generate([ask("x")])
    assert completion.error is None
    assert completion.text == ""
    assert completion.reasoning == "Let me think step by step about this"
    assert completion.finish_reason == "length"
    assert completion.reasoning_tokens == 7


def test_stop_strings_beyond_four_are_cut_client_side(standin, make_spec):
    server = standin("ok")
    backend = OpenAIBackend(make_spec(server.base_url), **FAST)
    stops = ["S1", "S2", "S3", "S4", "STOP5"]
    [completion] = backend.generate([ask("alpha STOP5 beta", stop=stops)])
    assert server.stats()["chat"][0]["body"]["stop"] == ["S1", "S2", "S3", "S4"]
    assert completion.text == "Echo: alpha "
    assert completion.finish_reason == "stop"


def test_generate_works_inside_a_running_event_loop(standin, make_spec):
    server = standin("ok")
    backend = OpenAIBackend(make_spec(server.base_url), **FAST)

    async def main():
        return backend.generate([ask("in a loop")])

    [completion] = asyncio.run(main())
    assert completion.text == "Echo: in a loop"

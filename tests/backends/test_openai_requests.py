"""What the openai backend sends and how it reads answers (no server needed)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import pytest

from benchgate.backends import load_backend
from benchgate.backends.base import Request
from benchgate.backends.openai_compat import OpenAIBackend, _parse_retry_after
from benchgate.config import load_models
from benchgate.errors import BackendError, ConfigError

URL = "http://127.0.0.1:9/v1"  # never contacted in this module


def test_load_backend_builds_openai_backend(make_spec):
    backend = load_backend(make_spec(URL))
    assert isinstance(backend, OpenAIBackend)
    assert backend.base_url == URL


def test_request_body_caps_tokens_merges_stops_and_sends_settings(make_spec):
    spec = make_spec(
        URL,
        model="openai/gpt-oss-120b",
        system_prompt="You are terse.",
        reasoning_effort="high",
        generation={
            "max_new_tokens": 100,
            "temperature": 0.7,
            "top_p": 0.9,
            "seed": 13,
            "stop": ["<|end|>", "\n\nQ:"],
        },
    )
    backend = OpenAIBackend(spec)
    request = Request.from_messages(
        [{"role": "user", "content": "2+2?"}], stop=["A", "\n\nQ:", "B", "C"], max_new_tokens=40
    )
    body = backend.request_body(request)
    assert body["model"] == "openai/gpt-oss-120b"
    assert body["messages"] == [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "2+2?"},
    ]
    # a reasoning model (reasoning_effort set): the benchmark's cap (40) would cut its
    # reasoning short, so only the model's own cap applies
    assert body["max_tokens"] == 100
    assert (body["temperature"], body["top_p"], body["seed"]) == (0.7, 0.9, 13)
    # model's stops first, then the request's, duplicates dropped, first four sent
    assert body["stop"] == ["<|end|>", "\n\nQ:", "A", "B"]
    assert body["reasoning_effort"] == "high"


def test_token_cap_rule_for_direct_and_reasoning_models(make_spec):
    request = Request.from_messages([{"role": "user", "content": "x"}], max_new_tokens=64)
    direct = OpenAIBackend(make_spec(URL, generation={"max_new_tokens": 100}))
    assert direct.request_body(request)["max_tokens"] == 64
    # nothing but URL and name: the benchmark's cap for a direct model ...
    bare = {"generation": {}}
    assert OpenAIBackend(make_spec(URL, **bare)).request_body(request)["max_tokens"] == 64
    # ... and the server's own limit for a reasoning model (gpt-oss on vLLM)
    reasoning = OpenAIBackend(make_spec(URL, reasoning_format="harmony", **bare))
    assert "max_tokens" not in reasoning.request_body(request)


def test_request_body_uses_model_cap_and_omits_unset_fields(make_spec):
    backend = OpenAIBackend(make_spec(URL, generation={"max_new_tokens": 16}))
    body = backend.request_body(
        Request.from_messages([{"role": "user", "content": "x"}], max_new_tokens=64)
    )
    assert body["max_tokens"] == 16
    assert "stop" not in body and "reasoning_effort" not in body
    assert body["messages"] == [{"role": "user", "content": "x"}]


def test_render_is_canonical_json_of_all_messages(make_spec):
    backend = OpenAIBackend(make_spec(URL, system_prompt="Sys ü"))
    request = Request.from_messages(
        [
            {"role": "user", "content": "Q1"},
            {"role": "assistant", "content": "A1"},
            {"role": "user", "content": "Q2"},
        ]
    )
    text = backend.render(request)
    assert text == (
        '[{"content":"Sys ü","role":"system"},{"content":"Q1","role":"user"},'
        '{"content":"A1","role":"assistant"},{"content":"Q2","role":"user"}]'
    )
    assert json.loads(text)[0] == {"role": "system", "content": "Sys ü"}


def test_missing_api_key_variable_is_a_clear_error(make_spec, monkeypatch):
    monkeypatch.delenv("BENCHGATE_TEST_UNSET_KEY", raising=False)
    with pytest.raises(BackendError, match="BENCHGATE_TEST_UNSET_KEY.*not set"):
        OpenAIBackend(make_spec(URL, api_key_env="BENCHGATE_TEST_UNSET_KEY"))


def test_base_url_without_scheme_is_a_config_error_naming_file_entry_and_field(tmp_path):
    models = tmp_path / "models.yaml"
    models.write_text(
        "models:\n  - id: served\n    backend: openai\n    model: m\n"
        "    base_url: [http://127.0.0.1:8000/v1, 127.0.0.1:8001/v1]\n"
    )
    with pytest.raises(ConfigError) as info:
        load_models(models)
    message = str(info.value)
    assert f"{models}: models[0] (id 'served'), field 'base_url'" in message
    assert "'127.0.0.1:8001/v1' is not an http(s) URL" in message
    assert "http://127.0.0.1:8000/v1" in message  # the fix shows the form


def test_a_variable_that_expands_to_a_non_url_is_refused_by_the_backend(make_spec, monkeypatch):
    monkeypatch.setenv("BENCHGATE_TEST_URL", "127.0.0.1:8000/v1")
    with pytest.raises(BackendError, match="'127.0.0.1:8000/v1' is not an http"):
        OpenAIBackend(make_spec("${BENCHGATE_TEST_URL}"))
    monkeypatch.delenv("BENCHGATE_TEST_URL")
    with pytest.raises(BackendError, match="environment variable BENCHGATE_TEST_URL is not set"):
        OpenAIBackend(make_spec("${BENCHGATE_TEST_URL}"))


def test_empty_batch_and_closed_backend(make_spec):
    backend = OpenAIBackend(make_spec(URL))
    assert backend.generate([]) == []
    backend.close()
    with pytest.raises(BackendError, match="after close"):
        backend.generate([Request.from_messages([{"role": "user", "content": "x"}])])


@pytest.mark.parametrize(
    ("value", "expected"),
    [("3", 3.0), (" 0.5 ", 0.5), ("-4", 0.0), ("soon", None), ("", None), (None, None)],
)
def test_retry_after_seconds(value, expected):
    assert _parse_retry_after(value) == expected


def test_retry_after_http_date():
    now = datetime(2025, 1, 1, 12, 0, 0, tzinfo=timezone.utc)
    header = format_datetime(now + timedelta(seconds=30), usegmt=True)
    assert _parse_retry_after(header, now=now) == pytest.approx(30.0)
    past = format_datetime(now - timedelta(seconds=30), usegmt=True)
    assert _parse_retry_after(past, now=now) == 0.0

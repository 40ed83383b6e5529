"""The example models files load with the real loader and say what their comments claim."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchgate.config import load_models, select_models
from benchgate.errors import ConfigError

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "paper-eight-models.yaml"

#: The paper's eight models (arXiv 2508.12461) and the reasoning format each one emits.
EXPECTED = {
    "gpt-oss-120b": ("openai/gpt-oss-120b", "harmony"),
    "gpt-oss-20b": ("openai/gpt-oss-20b", "harmony"),
    "deepseek-r1-distill-llama-70b": ("deepseek-ai/DeepSeek-R1-Distill-Llama-70B", "think-tags"),
    "phi-4-reasoning": ("microsoft/Phi-4-reasoning", "think-tags"),
    "qwen3-235b-a22b": ("Qwen/Qwen3-235B-A22B", "think-tags"),
    "llama-4-scout": ("meta-llama/Llama-4-Scout-17B-16E-Instruct", "none"),
    "gemma-3-27b": ("google/gemma-3-27b-it", "none"),
    "llama-3.3-70b": ("meta-llama/Llama-3.3-70B-Instruct", "none"),
}


def variables() -> list[str]:
    return sorted(set(re.findall(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}", EXAMPLE.read_text())))


@pytest.fixture
def urls(monkeypatch) -> dict[str, str]:
    """Every ${VAR} of the file set to a distinct dummy URL."""
    values = {name: f"http://10.0.0.{i + 1}:8000/v1" for i, name in enumerate(variables())}
    for name, value in values.items():
        monkeypatch.setenv(name, value)
    return values


def test_eight_openai_models_with_the_right_reasoning_formats(urls):
    models = load_models(EXAMPLE)
    assert [m.id for m in models] == list(EXPECTED)
    for spec in models:
        served, fmt = EXPECTED[spec.id]
        assert spec.backend == "openai" and spec.model == served, spec.id
        assert spec.reasoning_format == fmt, spec.id
        assert spec.is_reasoning() == (fmt != "none"), spec.id
        # Harmony models set an effort; think-tag models do not take one.
        assert (spec.reasoning_effort is not None) == (fmt == "harmony"), spec.id
        (url,) = spec.base_urls()
        assert url in urls.values(), spec.id
    assert len({m.base_urls()[0] for m in models}) == 8  # one variable per model


def test_one_baseline_and_caps_for_reasoning_models_only(urls):
    models = {m.id: m for m in load_models(EXAMPLE)}
    assert [i for i, m in models.items() if m.role == "baseline"] == ["gpt-oss-120b"]
    assert all(m.role == "candidate" for i, m in models.items() if i != "gpt-oss-120b")
    for spec in models.values():
        if spec.is_reasoning():
            # A reasoning model's own cap applies, not a benchmark's short one.
            assert spec.generation.max_new_tokens >= 8192, spec.id
            assert spec.max_new_tokens_for(64) == spec.generation.max_new_tokens
            assert spec.generation.temperature > 0 and spec.timeout_s >= 1800, spec.id
        else:
            assert spec.generation.max_new_tokens is None, spec.id
            assert spec.max_new_tokens_for(64) == 64  # the benchmark's cap
            assert spec.generation.temperature == 0.0, spec.id


def test_a_subset_needs_only_its_own_variables(monkeypatch):
    for name in variables():
        monkeypatch.delenv(name, raising=False)
    models = load_models(EXAMPLE)  # loading needs no variable: URLs are filled when used
    (spec,) = select_models(models, "gpt-oss-20b", str(EXAMPLE))
    monkeypatch.setenv("GPT_OSS_20B_URL", "http://127.0.0.1:8001/v1")
    assert spec.base_urls() == ["http://127.0.0.1:8001/v1"]
    other = next(m for m in models if m.id == "qwen3-235b-a22b")
    with pytest.raises(ConfigError, match="environment variable QWEN3_235B_URL is not set"):
        other.base_urls()

"""Real servers for the openai backend's tests.

``llama_server``: llama-cpp-python's OpenAI-compatible server serving the SmolLM2 GGUF on
127.0.0.1, started once per session (per xdist worker) and stopped at the end.
``standin``: a factory for the stand-in server of ``fixtures/servers/standin_openai.py`` (one
process per call, all stopped after the test), for status codes, delays and dropped
connections that a healthy llama.cpp server never produces.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from benchgate.config import ModelSpec

SERVERS = Path(__file__).resolve().parents[2] / "fixtures" / "servers"


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        f"benchgate_fixture_{name}", SERVERS / f"{name}.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


llamacpp_server = _load("llamacpp_server")


def openai_spec(base_url: str, **overrides: Any) -> ModelSpec:
    """Return a validated ``backend: openai`` ModelSpec (overrides as models.yaml keys)."""
    entry: dict[str, Any] = {
        "id": "served",
        "backend": "openai",
        "model": "standin-model",
        "base_url": base_url,
        "generation": {"max_new_tokens": 24},
        "timeout_s": 30.0,
        "retries": 2,
    }
    entry.update(overrides)
    return ModelSpec.model_validate(entry)


class StandIn:
    """A running ``standin_openai.py`` process."""

    def __init__(self, mode: str, *extra: str, env: dict[str, str] | None = None) -> None:
        cmd = [sys.executable, str(SERVERS / "standin_openai.py"), "--mode", mode, *extra]
        self.process = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, env=env)
        assert self.process.stdout is not None
        line = self.process.stdout.readline().strip()
        if not line.startswith("PORT "):
            self.process.kill()
            raise RuntimeError(f"stand-in server did not start (first line {line!r})")
        self.base_url = f"http://127.0.0.1:{int(line.split()[1])}/v1"

    def stats(self) -> dict[str, Any]:
        return httpx.get(self.base_url.removesuffix("/v1") + "/stats", timeout=5.0).json()

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


@pytest.fixture()
def make_spec() -> Callable[..., ModelSpec]:
    """The :func:`openai_spec` factory, for tests."""
    return openai_spec


@pytest.fixture(scope="session")
def llamacpp() -> ModuleType:
    """The ``fixtures/servers/llamacpp_server.py`` module (``LlamaCppServer``, ``MODEL_ALIAS``)."""
    return llamacpp_server


@pytest.fixture(scope="session")
def llama_server() -> Iterator[Any]:
    """llama-cpp-python's server on 127.0.0.1 with the SmolLM2 Q4_1 GGUF (one per session)."""
    server = llamacpp_server.LlamaCppServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture()
def standin() -> Iterator[Callable[..., StandIn]]:
    """Factory: ``standin(mode, *cli_args, env=None)`` starts a stand-in server process."""
    started: list[StandIn] = []

    def start(mode: str, *extra: str, env: dict[str, str] | None = None) -> StandIn:
        server = StandIn(mode, *extra, env=env)
        started.append(server)
        return server

    yield start
    for server in started:
        server.kill()

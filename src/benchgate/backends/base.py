"""The batched backend protocol every model backend implements.

A backend turns a list of :class:`Request` (chat messages) into a list of
:class:`~benchgate.records.Completion` of the same length and order. A failure that
concerns one request (a timeout, a server error after the last retry, an out-of-memory
batch) is returned as a completion with ``finish_reason="error"`` and ``error`` set, never
raised and never turned into an empty answer: the scorer then records an *error* outcome.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from benchgate.records import Completion


@dataclass(frozen=True)
class Request:
    """One prompt for one model.

    Attributes:
        messages: chat messages, each ``{"role": "system"|"user"|"assistant", "content": str}``,
            without the model's system prompt (the backend adds it from models.yaml).
        stop: extra stop strings from the benchmark (added to the model's own).
        max_new_tokens: the benchmark's token cap, or None for the model's setting; the
            smaller of the two applies.
    """

    messages: tuple[tuple[str, str], ...]
    stop: tuple[str, ...] = ()
    max_new_tokens: int | None = None

    @classmethod
    def from_messages(
        cls,
        messages: list[dict[str, str]],
        stop: tuple[str, ...] | list[str] = (),
        max_new_tokens: int | None = None,
    ) -> Request:
        """Build a request from OpenAI-style message dicts."""
        return cls(
            messages=tuple((m["role"], m["content"]) for m in messages),
            stop=tuple(stop),
            max_new_tokens=max_new_tokens,
        )

    def message_dicts(self) -> list[dict[str, str]]:
        """Return the messages as OpenAI-style dicts."""
        return [{"role": r, "content": c} for r, c in self.messages]


@dataclass
class BackendInfo:
    """What identifies a backend's answers, for the response cache and the run log.

    Attributes:
        backend: backend name (``transformers`` | ``openai``).
        identity: everything besides the prompt that changes an answer: model and revision
            or file hash, dtype, chat template hash, generation settings, system prompt,
            server-reported model name. Builtins only.
        device: where the model runs (``cpu``, ``cuda:0``, a URL), for reports.
    """

    backend: str
    identity: dict[str, Any] = field(default_factory=dict)
    device: str = ""

    def key(self) -> str:
        """Return a sha256 hex digest of ``backend`` and ``identity`` (canonical JSON)."""
        blob = json.dumps({"backend": self.backend, **self.identity}, sort_keys=True, default=str)
        return hashlib.sha256(blob.encode()).hexdigest()


@runtime_checkable
class Backend(Protocol):
    """A loaded model that generates completions in batches.

    Implementations: :class:`benchgate.backends.hf.TransformersBackend`,
    :class:`benchgate.backends.openai_compat.OpenAIBackend`.
    """

    def info(self) -> BackendInfo:
        """Return the backend's identity (see :class:`BackendInfo`)."""
        ...

    def render(self, request: Request) -> str:
        """Return the prompt text as the model sees it (chat template applied).

        Remote backends that render on the server return the canonical JSON of the
        messages instead.
        """
        ...

    def generate(self, requests: list[Request]) -> list[Completion]:
        """Generate one completion per request, in the same order.

        Per-request failures are ``finish_reason="error"`` completions, not exceptions.
        """
        ...

    def close(self) -> None:
        """Release the model or connections."""
        ...

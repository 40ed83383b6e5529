"""Model backends behind one batched protocol (see :mod:`benchgate.backends.base`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from benchgate.backends.base import Backend, BackendInfo, Request

if TYPE_CHECKING:
    from benchgate.config import ModelSpec

__all__ = ["Backend", "BackendInfo", "Request", "load_backend"]


def load_backend(
    spec: ModelSpec, device: str = "cpu", batch_size: int = 16, batching: str = "continuous"
) -> Backend:
    """Create the backend a models.yaml entry names (imports torch/httpx lazily).

    Args:
        spec: the model's validated entry.
        device: the worker's device (``cpu`` or ``cuda:N``) used when ``spec.device`` is
            ``auto``.
        batch_size: prompts decoded together by local models.
        batching: ``continuous`` | ``static`` for local models.

    Returns:
        A ready :class:`Backend`.

    Raises:
        BackendError: the model cannot be loaded (message names the model id and the fix).
    """
    if spec.backend == "transformers":
        from benchgate.backends.hf import TransformersBackend

        return TransformersBackend(spec, device=device, batch_size=batch_size, batching=batching)
    if spec.backend == "openai":
        from benchgate.backends.openai_compat import OpenAIBackend

        return OpenAIBackend(spec)
    if spec.backend == "scripted":
        from benchgate.backends.scripted import ScriptedBackend

        return ScriptedBackend(spec)
    raise ValueError(f"unknown backend {spec.backend!r}")  # unreachable: config validates it

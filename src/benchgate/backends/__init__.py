"""Model backends behind one batched protocol (see :mod:`benchgate.backends.base`)."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from benchgate.backends.base import Backend, BackendInfo, Request

if TYPE_CHECKING:
    from benchgate.config import ModelSpec

__all__ = ["Backend", "BackendInfo", "Request", "load_backend"]


def load_backend(
    spec: ModelSpec, device: str = "cpu", batch_size: int = 16, batching: str = "continuous",
    store_dir: str | os.PathLike[str] | None = None, threads: int | None = None,
) -> Backend:
    """Create the backend a models.yaml entry names (imports torch/httpx lazily).

    Args:
        spec: the model's validated entry.
        device: the worker's device (``cpu`` or ``cuda:N``) used when ``spec.device`` is
            ``auto``.
        batch_size: prompts decoded together by local models.
        batching: ``continuous`` | ``static`` for local models.
        store_dir: where local models keep converted copies, cards and render memos
            (:class:`benchgate.backends.model_store.ModelStore`), or None for none.
        threads: CPU threads for a local model on the CPU (None: torch's default).

    Returns:
        A ready :class:`Backend`.

    Raises:
        BackendError: the model cannot be loaded (message names the model id and the fix).
    """
    if spec.backend == "transformers":
        from benchgate.backends.hf import TransformersBackend
        from benchgate.backends.model_store import ModelStore

        store = ModelStore(store_dir) if store_dir is not None else None
        return TransformersBackend(spec, device=device, batch_size=batch_size, batching=batching,
                                   store=store, threads=threads)
    if spec.backend == "openai":
        from benchgate.backends.openai_compat import OpenAIBackend

        return OpenAIBackend(spec)
    if spec.backend == "scripted":
        from benchgate.backends.scripted import ScriptedBackend

        return ScriptedBackend(spec)
    raise ValueError(f"unknown backend {spec.backend!r}")  # unreachable: config validates it

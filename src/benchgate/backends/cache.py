"""On-disk response cache: one JSON file per completion, written atomically, checksummed.

Key: sha256 over everything that changes an answer: the backend's identity
(:meth:`BackendInfo.key`: backend, model and revision or file hash, dtype, chat template,
generation settings, system prompt), the full rendered prompt, the request's stop strings
and token cap, and the benchmark's name, version and settings.

Safe under concurrent xdist workers: each entry is written to a unique temporary file in
the same directory and moved into place with :func:`os.replace` (atomic on POSIX), so a
reader sees either no entry or a whole one. Each entry carries a sha256 of its payload; a
truncated or corrupted entry is detected and regenerated (the new entry replaces it), never
scored. Error completions are not cached, so a re-run retries them. A failed write (full
disk, read-only directory) is logged and skipped: the cache saves time, it never costs an
item its result. The storage is :class:`benchgate.entrystore.EntryStore`.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from benchgate.backends.base import Request
from benchgate.entrystore import CacheStats, EntryStore, digest
from benchgate.records import Completion

__all__ = ["CACHE_FORMAT", "CacheStats", "ResponseCache", "cache_key"]

#: Bumped when the entry layout changes; older entries are then misses.
CACHE_FORMAT = 1


def cache_key(
    backend_key: str, prompt: str, request: Request, benchmark: str, benchmark_version: int,
    benchmark_settings: dict[str, Any] | None = None,
) -> str:
    """Return the cache key (sha256 hex) of one request to one backend.

    Args:
        backend_key: :meth:`BackendInfo.key` of the backend.
        prompt: the prompt as rendered by the backend (:meth:`Backend.render`).
        request: the request (its stop strings and token cap count too).
        benchmark: benchmark name.
        benchmark_version: benchmark spec version.
        benchmark_settings: settings that change prompts (e.g. ``{"shots": 5}``).
    """
    return digest(
        {
            "format": CACHE_FORMAT,
            "backend": backend_key,
            "prompt": prompt,
            "stop": list(request.stop),
            "max_new_tokens": request.max_new_tokens,
            "benchmark": benchmark,
            "benchmark_version": benchmark_version,
            "benchmark_settings": benchmark_settings or {},
        }
    )


class ResponseCache(EntryStore):
    """A directory of cached completions (entries: :class:`benchgate.entrystore.EntryStore`).

    Args:
        root: the cache directory (created if missing).

    Raises:
        OSError: the directory cannot be created.
    """

    label = "response cache"
    field = "completion"
    fmt = CACHE_FORMAT

    def get(self, key: str) -> Completion | None:
        """Return the cached completion for ``key`` (``cached=True``), or None on a miss.

        A corrupted or truncated entry (not UTF-8, bad JSON, wrong checksum, key or format)
        is logged, counted in ``stats.corrupt`` and reported as a miss; it is never returned,
        and the regenerated completion's :meth:`put` replaces it.
        """
        data = self.read(key)
        if data is None:
            return None
        try:
            completion = Completion.from_dict(data)
        except (ValueError, TypeError):
            self.corrupt(key)
            return None
        self.stats.hits += 1
        return dataclasses.replace(completion, cached=True)

    def put(self, key: str, completion: Completion, meta: dict[str, Any] | None = None) -> bool:
        """Store ``completion`` under ``key`` atomically; error completions are not stored.

        Args:
            key: from :func:`cache_key`.
            completion: the completion.
            meta: readable context kept in the entry (model id, benchmark, item id).

        Returns:
            True when written; False for an error completion, or when the write failed
            (full disk, read-only or vanished directory: logged and counted in
            ``stats.write_errors``; the completion is still scored, a re-run regenerates it).
        """
        if completion.error is not None or completion.finish_reason == "error":
            return False
        data = completion.to_dict()
        data["cached"] = False
        return self.write(key, data, meta)

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
item its result.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchgate.backends.base import Request
from benchgate.records import Completion

log = logging.getLogger(__name__)

#: Bumped when the entry layout changes; older entries are then misses.
CACHE_FORMAT = 1


def _digest(payload: dict[str, Any]) -> str:
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


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
    return _digest(
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


@dataclass
class CacheStats:
    """Counters for one process: hits, misses, writes, corrupt entries found, failed writes."""

    hits: int = 0
    misses: int = 0
    writes: int = 0
    corrupt: int = 0
    write_errors: int = 0


class ResponseCache:
    """A directory of cached completions.

    Args:
        root: the cache directory (created if missing).

    Raises:
        OSError: the directory cannot be created.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.stats = CacheStats()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> Completion | None:
        """Return the cached completion for ``key`` (``cached=True``), or None on a miss.

        A corrupted or truncated entry (not UTF-8, bad JSON, wrong checksum, key or format)
        is logged, counted in ``stats.corrupt`` and reported as a miss; it is never returned,
        and the regenerated completion's :meth:`put` replaces it.
        """
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            self.stats.misses += 1
            return None
        except OSError as exc:
            log.warning("response cache: cannot read %s (%s); regenerating", path, exc)
            self.stats.misses += 1
            return None
        completion = None
        try:  # any damage (bad UTF-8, bad JSON, not an object, wrong checksum) is a miss
            entry = json.loads(raw.decode("utf-8"))
            if (
                isinstance(entry, dict)
                and entry.get("key") == key
                and entry.get("format") == CACHE_FORMAT
                and isinstance(entry.get("completion"), dict)
                and entry.get("checksum") == _digest(entry["completion"])
            ):
                completion = Completion.from_dict(entry["completion"])
        except (ValueError, TypeError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            completion = None
        if completion is None:
            # Not unlinked: another worker may have just replaced it with a good entry; the
            # regenerated completion's put() replaces it atomically.
            log.warning("response cache: corrupt entry %s ignored; regenerating", path)
            self.stats.corrupt += 1
            self.stats.misses += 1
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
        entry = {
            "format": CACHE_FORMAT,
            "key": key,
            "meta": meta or {},
            "completion": data,
            "checksum": _digest(data),
        }
        path = self._path(key)
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{key[:8]}.", suffix=".tmp", dir=path.parent)
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entry, fh, ensure_ascii=False)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, path)
        except BaseException as exc:
            if tmp is not None:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
            if not isinstance(exc, OSError):
                raise
            # The cache only saves time: a failed write must not cost the item its result.
            log.warning("response cache: cannot write %s (%s); the completion is kept for "
                        "this run only", path, exc.strerror or exc)
            self.stats.write_errors += 1
            return False
        self.stats.writes += 1
        return True

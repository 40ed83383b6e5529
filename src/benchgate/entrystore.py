"""Checksummed JSON entries on disk, one file per key, written atomically.

The storage under both of benchgate's caches: the response cache
(:mod:`benchgate.backends.cache`, completions) and the score cache
(:mod:`benchgate.scoring.cache`, verdicts of expensive scorers). Each owns its key and its
payload; this module owns only how an entry reaches the disk and comes back.

An entry is ``{"format", "key", "meta", <field>: payload, "checksum"}`` at
``root/<key[:2]>/<key>.json``. Safe under concurrent xdist workers: an entry is written to a
unique temporary file in its shard directory and moved into place with :func:`os.replace`
(atomic on POSIX), so a reader sees no entry or a whole one. A truncated or corrupted
entry (bad UTF-8 or JSON, wrong key, format or checksum) is a miss, logged and counted,
never returned; the next write replaces it. A failed write (full disk, read-only or
vanished directory) is logged, counted and skipped: a cache saves time, it never costs an
item its result.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

log = logging.getLogger(__name__)


def digest(payload: Any) -> str:
    """Return the sha256 hex of ``payload`` as canonical JSON (sorted keys, UTF-8).

    Values JSON cannot encode are written with ``str``; the key of a cache entry and the
    checksum of its payload are both this digest.
    """
    blob = json.dumps(payload, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()


@dataclass
class CacheStats:
    """Counters for one process: hits, misses, writes, corrupt entries found, failed writes."""

    hits: int = 0
    misses: int = 0
    writes: int = 0
    corrupt: int = 0
    write_errors: int = 0


class EntryStore:
    """A directory of checksummed JSON entries.

    A subclass names itself in the class attributes and owns its key and payload.

    Attributes:
        label: what the store is called in log lines (``response cache``).
        field: the entry field that holds the payload (``completion``).
        fmt: the entry layout version; entries of another version are misses.

    Args:
        root: the directory (created if missing).

    Raises:
        OSError: the directory cannot be created.
    """

    label: ClassVar[str] = "entry store"
    field: ClassVar[str] = "payload"
    fmt: ClassVar[int] = 1

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        self.stats = CacheStats()

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def read(self, key: str) -> dict[str, Any] | None:
        """Return the verified payload stored under ``key``, or None on a miss.

        A damaged entry is logged, counted in ``stats.corrupt`` and reported as a miss
        (not unlinked: another worker may have just replaced it with a good one).
        ``stats.hits`` is left to the caller, which may still refuse the payload.
        """
        path = self._path(key)
        try:
            raw = path.read_bytes()
        except FileNotFoundError:
            self.stats.misses += 1
            return None
        except OSError as exc:
            log.warning("%s: cannot read %s (%s); treated as a miss", self.label, path, exc)
            self.stats.misses += 1
            return None
        payload = None
        try:  # any damage (bad UTF-8, bad JSON, not an object, wrong checksum) is a miss
            entry = json.loads(raw.decode("utf-8"))
            if (
                isinstance(entry, dict)
                and entry.get("key") == key
                and entry.get("format") == self.fmt
                and isinstance(entry.get(self.field), dict)
                and entry.get("checksum") == digest(entry[self.field])
            ):
                payload = entry[self.field]
        except (ValueError, TypeError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            payload = None
        if payload is None:
            self.corrupt(key)
        return payload

    def corrupt(self, key: str) -> None:
        """Count and log the entry under ``key`` as damaged (a miss)."""
        log.warning("%s: corrupt entry %s ignored; recomputing", self.label, self._path(key))
        self.stats.corrupt += 1
        self.stats.misses += 1

    def write(self, key: str, payload: dict[str, Any], meta: dict[str, Any] | None = None) -> bool:
        """Store ``payload`` under ``key`` atomically (fsynced, then renamed into place).

        Returns:
            True when written; False when the write failed (logged, counted in
            ``stats.write_errors``): the disk refused it, or the payload holds text that
            UTF-8 cannot carry (a lone surrogate, which a server may send as a JSON escape).

        Raises:
            BaseException: anything but an OSError (e.g. KeyboardInterrupt) propagates,
                after the temporary file is removed.
        """
        try:
            checksum = digest(payload)
        except ValueError as exc:  # UnicodeEncodeError: not storable as UTF-8
            log.warning("%s: entry %s not written (%s)", self.label, key, exc)
            self.stats.write_errors += 1
            return False
        entry = {
            "format": self.fmt,
            "key": key,
            "meta": meta or {},
            self.field: payload,
            "checksum": checksum,
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
            log.warning("%s: cannot write %s (%s); the result is kept for this run only",
                        self.label, path, exc.strerror or exc)
            self.stats.write_errors += 1
            return False
        self.stats.writes += 1
        return True

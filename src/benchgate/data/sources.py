"""Shared machinery for benchmark loaders: stable ids, dataset hashes, ``--limit``, sources.

Loaders read the sources' own formats from a local data directory (``--data-dir`` or
``BENCHGATE_DATA_DIR``, laid out as ``shared/data`` documents in its SOURCES.md) or, when
no directory is given, from the Hugging Face hub through ``datasets`` at a pinned revision.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Item

log = logging.getLogger(__name__)

#: Environment variable naming the local data directory (read by the plugin, not here).
DATA_DIR_ENV = "BENCHGATE_DATA_DIR"


@dataclass(frozen=True)
class DataSource:
    """Where a loader reads from.

    Attributes:
        data_dir: a local directory laid out like ``shared/data`` (one folder per benchmark),
            or None to use the Hugging Face hub.
        hub_loader: the function used for the hub, ``datasets.load_dataset`` by default;
            tests pass a stand-in that reads local files in the hub's layout.
    """

    data_dir: Path | None = None
    hub_loader: Callable[..., Any] | None = None

    def folder(self, name: str, fix_hint: str) -> Path:
        """Return ``data_dir / name``.

        Raises:
            DataUnavailableError: the folder does not exist (message gives ``fix_hint``).
        """
        assert self.data_dir is not None
        path = self.data_dir / name
        if not path.is_dir():
            raise DataUnavailableError(
                f"{path} does not exist. Fix: point --data-dir (or {DATA_DIR_ENV}) at a "
                f"directory with a '{name}/' folder ({fix_hint})."
            )
        return path


def content_id(*parts: str, length: int = 10) -> str:
    """Return a short stable id from content: the first ``length`` hex digits of sha1.

    Args:
        parts: the strings that identify the item (e.g. question and choices); joined with
            an ASCII unit separator before hashing.
        length: hex digits kept (10 -> collision chance ~1e-6 for 15k items).

    Returns:
        A lowercase hex string, stable across runs, orderings and filters.
    """
    return hashlib.sha1("\x1f".join(parts).encode("utf-8")).hexdigest()[:length]


def make_unique(ids: Sequence[str]) -> list[str]:
    """Suffix repeated ids with ``-2``, ``-3``... in order of occurrence.

    Real data repeats items (MMLU's test split holds 27 exact duplicates); content ids then
    collide. The suffix depends only on the order among identical items, so ids stay stable
    when other items are filtered or reordered.
    """
    seen: dict[str, int] = defaultdict(int)
    out = []
    for i in ids:
        seen[i] += 1
        out.append(i if seen[i] == 1 else f"{i}-{seen[i]}")
    return out


def dataset_hash(items: Iterable[Item]) -> str:
    """Return a content hash of a benchmark's full item set (16 hex digits of sha256).

    The hash covers each item's id, subject, input and reference in id order, so it is
    independent of file format (local file or hub) and file order. Comparisons across runs
    refuse to pair results whose dataset hashes differ.
    """
    h = hashlib.sha256()
    for item in sorted(items, key=lambda i: i.id):
        h.update(
            json.dumps(
                [item.id, item.subject, item.input, item.reference],
                sort_keys=True,
                ensure_ascii=False,
                default=str,
            ).encode("utf-8")
        )
        h.update(b"\n")
    return h.hexdigest()[:16]


def select_limit(items: Sequence[Item], limit: int | None, seed: int = 0) -> list[Item]:
    """Pick ``limit`` items, seeded and stratified by subject where items have one.

    Selection: allocate ``limit`` over subjects proportionally to their sizes (largest
    remainder; ties broken by a seeded hash of the subject name), then within each subject
    take the items with the smallest ``sha256(seed, item.id)``. It depends only on item ids,
    so the same items are chosen whatever the file order, and a run with a larger limit
    contains the smaller one's items within each subject.

    Args:
        items: all items of a benchmark.
        limit: how many to keep; None or >= len(items) keeps all.
        seed: selection seed.

    Returns:
        The selected items in their original order.

    Raises:
        ValueError: ``limit`` < 1.
    """
    if limit is None or limit >= len(items):
        return list(items)
    if limit < 1:
        raise ValueError(f"--limit must be >= 1 (got {limit})")

    def rank(key: str) -> str:
        return hashlib.sha256(f"{seed}\x1f{key}".encode()).hexdigest()

    groups: dict[str | None, list[Item]] = defaultdict(list)
    for item in items:
        groups[item.subject].append(item)
    total = len(items)
    quotas = {s: limit * len(g) / total for s, g in groups.items()}
    alloc = {s: math.floor(q) for s, q in quotas.items()}
    left = limit - sum(alloc.values())
    order = sorted(groups, key=lambda s: (-(quotas[s] - alloc[s]), rank(str(s))))
    for s in order[:left]:
        alloc[s] += 1
    chosen: set[str] = set()
    for s, group in groups.items():
        for item in sorted(group, key=lambda i: rank(i.id))[: alloc[s]]:
            chosen.add(item.id)
    return [i for i in items if i.id in chosen]


def load_hub(source: DataSource, repo: str, revision: str, **kwargs: Any) -> Any:
    """Load a hub dataset split at a pinned revision through ``datasets.load_dataset``.

    Only failures that mean the data cannot be had (offline mode, gated, not found, no
    network, the hub not answering; see :mod:`benchgate.data.hub`) become
    :class:`DataUnavailableError`, which skips the benchmark once with the reason and the
    fix. Any other exception (a bug such as a ``TypeError``, a broken data file, a
    malformed request) propagates unchanged, so pytest reports a collection error with its
    traceback instead of hiding it as missing data.

    Args:
        source: carries the loader (``datasets.load_dataset`` unless a test replaced it).
        repo: hub dataset id, e.g. ``"openai/gsm8k"``.
        revision: the pinned commit sha (or branch, e.g. ``refs/convert/parquet``).
        kwargs: passed on (``name=``, ``split=``).

    Returns:
        The ``datasets.Dataset`` (or whatever the stand-in loader returns).

    Raises:
        DataUnavailableError: the hub cannot be reached or the dataset is missing or gated
            (the message names the repository, revision, kind, error and fix).
        Exception: any other failure of the loader, unchanged.
    """
    loader = source.hub_loader
    if loader is None:
        try:
            from datasets import load_dataset as loader  # heavy: imported only here
        except ImportError as exc:  # pragma: no cover - datasets is a dependency
            raise DataUnavailableError(
                f"the 'datasets' package is needed to read {repo} from the hub ({exc}). "
                "Fix: pip install datasets, or pass --data-dir."
            ) from None
    try:
        return loader(repo, revision=revision, **kwargs)
    except (DataUnavailableError, DataFormatError):
        raise
    except Exception as exc:
        from benchgate.data.hub import fix_for, unavailable_kind

        kind = unavailable_kind(exc)
        if kind is None:
            raise
        lines = str(exc).strip().splitlines()
        first = lines[0] if lines else type(exc).__name__
        log.debug("hub load of %s failed (%s)", repo, kind, exc_info=True)
        commit = re.fullmatch(r"[0-9a-f]{40}", revision) is not None
        raise DataUnavailableError(
            f"could not load {repo} (revision {revision[:12] if commit else revision}) from the "
            "Hugging Face hub "
            f"({kind}): {type(exc).__name__}: {first[:200]}. Fix: {fix_for(kind, repo)}."
        ) from None


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Read a JSON Lines file.

    Raises:
        DataUnavailableError: the file is missing.
        DataFormatError: a line is not UTF-8 or not a JSON object (names file and line
            number; a cut-off last line is reported as truncated), or the file holds no
            record at all (empty: truncated to nothing).
    """
    if not path.is_file():
        raise DataUnavailableError(f"{path} not found. Fix: check --data-dir.")
    rows = []
    lines = path.read_bytes().split(b"\n")
    for number, blob in enumerate(lines, start=1):
        last = number == len(lines) or (number == len(lines) - 1 and not lines[-1])
        try:
            line = blob.decode("utf-8")
        except UnicodeDecodeError as exc:
            if last and exc.reason == "unexpected end of data":
                what = "truncated (the file ends mid-character)"
            else:
                what = f"not valid UTF-8 (byte {exc.start} of the line: {exc.reason})"
            raise DataFormatError(
                f"{path}, line {number}: {what}. Fix: restore the file from its source."
            ) from None
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            what = "truncated (the file ends mid-record)" if last else f"not valid JSON ({exc.msg})"
            raise DataFormatError(
                f"{path}, line {number}: {what}. Fix: restore the file from its source."
            ) from None
        if not isinstance(row, dict):
            raise DataFormatError(
                f"{path}, line {number}: expected a JSON object, got {type(row).__name__}. "
                "Fix: restore the file from its source."
            )
        rows.append(row)
    if not rows:
        raise DataFormatError(
            f"{path}: no records (the file is empty; truncated?). Fix: restore the file from its "
            "source."
        )
    return rows


def require_fields(row: dict[str, Any], fields: Sequence[str], where: str) -> None:
    """Check that ``row`` has non-null ``fields``.

    Raises:
        DataFormatError: naming ``where`` (file and line/row) and the missing field.
    """
    for f in fields:
        if row.get(f) is None:
            raise DataFormatError(
                f"{where}: missing field '{f}' (has {', '.join(sorted(map(str, row))) or 'none'}). "
                "Fix: use the source's own format (see shared/data/SOURCES.md)."
            )

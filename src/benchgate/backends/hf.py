"""Transformers backend: hub ids, local directories and GGUF files, batched generation.

(Past 600 lines on purpose: loading, identity, rendering and both batching modes share the
backend's lazily loaded tokenizer and model; the converted-copy store lives in
:mod:`benchgate.backends.model_store`, the progress channel in
:mod:`benchgate.backends.progress`.)

Batching modes:

* ``continuous`` (default): a row that stops leaves the batch and the next prompt takes its
  slot. Greedy decoding on models :func:`benchgate.backends.slots.supports` runs on
  :mod:`benchgate.backends.slots` (slot refill over the model's own forward, a dense cache;
  rows also stop on their stop strings); sampling and other models run on transformers'
  :meth:`~transformers.GenerationMixin.generate_batch` (paged cache; stop strings applied
  to the text afterwards), whose 16-row decode step took 370 ms on 2 CPU cores where the
  model's plain batched forward took ~160 ms.
* ``static``: :meth:`transformers.GenerationMixin.generate` on length-sorted, left-padded
  batches of ``batch_size`` with per-row stop strings (``stop_strings=``): the reference.

Loading: ``model`` is a hub id (``revision`` pinned), a local directory, or
``package:NAME``; ``gguf_file`` names a GGUF file in it. With a model store
(:class:`benchgate.backends.model_store.ModelStore`, in the cache directory) a GGUF file is
de-quantised once into safetensors and its tokenizer converted once, and later runs load
those (about a second instead of tens). A run answered wholly from the response cache loads
neither weights nor tokenizer: the identity comes from the stored card and the prompts from
the render memo, so it imports neither torch nor transformers.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import logging
import os
import re
import resource
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchgate.backends.base import BackendInfo, Request
from benchgate.backends.model_store import (
    ModelStore,
    RenderMemo,
    file_sha256,
    messages_digest,
    transformers_version,
)
from benchgate.backends.progress import report
from benchgate.config import ModelSpec
from benchgate.errors import BackendError
from benchgate.records import Completion

if TYPE_CHECKING:
    import torch

__all__ = ["TransformersBackend", "cut_at_stop", "file_sha256", "peak_memory_mb",
           "weights_fingerprint"]

log = logging.getLogger(__name__)

#: Fraction of one GPU's memory above which a model is spread with ``device_map="auto"``.
_FIT_FRACTION = 0.85


def _dtype(name: str) -> Any:
    import torch

    return {"float32": torch.float32, "bfloat16": torch.bfloat16,
            "float16": torch.float16}.get(name, "auto")


def weights_fingerprint(directory: Path, gguf_file: str | None) -> str:
    """Return a content fingerprint of local weights (for the cache key and the run log).

    A GGUF file is hashed whole. For a directory, its config, tokenizer and weight files are
    hashed (files over 2 GiB by size plus their first and last 4 MiB, to keep this fast).

    Raises:
        BackendError: the GGUF file is missing or unreadable.
    """
    if gguf_file:
        path = directory / gguf_file
        try:
            return file_sha256(path)
        except OSError as exc:
            raise BackendError(
                f"GGUF file {path} cannot be read ({exc.strerror or exc}). Fix: check 'model' and "
                "'gguf_file' in models.yaml."
            ) from None
    h = hashlib.sha256()
    suffixes = (".json", ".safetensors", ".bin", ".model", ".txt", ".jinja")
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.suffix not in suffixes:
            continue
        h.update(path.name.encode())
        size = path.stat().st_size
        if size > (2 << 30):
            with path.open("rb") as fh:
                h.update(str(size).encode())
                h.update(fh.read(1 << 22))
                fh.seek(-(1 << 22), os.SEEK_END)
                h.update(fh.read(1 << 22))
        else:
            h.update(file_sha256(path).encode())
    return h.hexdigest()


def peak_memory_mb(device: str) -> float:
    """Return peak memory in MiB.

    ``torch.cuda.max_memory_allocated`` on a GPU, else the process's peak resident set
    size (``ru_maxrss``).
    """
    if device.startswith("cuda"):
        import torch

        return torch.cuda.max_memory_allocated(torch.device(device)) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Cut ``text`` at the earliest stop string; return (text, whether one was found)."""
    positions = [p for p in (text.find(s) for s in stops if s) if p >= 0]
    if not positions:
        return text, False
    return text[: min(positions)], True


class _RowClock:
    """A stopping criterion that never stops: it notes when each row of a static batch ends.

    A row ends at the first step whose new token is an end-of-sequence (or pad, which
    follows a row stopped by a stop string) token; rows that never do end with the batch.
    """

    def __init__(self, rows: int, width: int, end_ids: set[int]) -> None:
        self.ended: list[float | None] = [None] * rows
        self.width = width
        self.end_ids = end_ids

    def __call__(self, input_ids: torch.Tensor, scores: Any, **kwargs: Any) -> torch.Tensor:
        import torch

        now = time.perf_counter()
        if input_ids.shape[1] > self.width:
            for row, token in enumerate(input_ids[:, -1].tolist()):
                if self.ended[row] is None and token in self.end_ids:
                    self.ended[row] = now
        return torch.zeros(input_ids.shape[0], dtype=torch.bool, device=input_ids.device)


class TransformersBackend:
    """A local model run with transformers.

    Args:
        spec: the model's models.yaml entry (``backend: transformers``).
        device: the worker's device for ``device: auto`` (``cpu`` or ``cuda:N``).
        batch_size: rows decoded together (``spec.batch_size`` overrides it).
        batching: ``continuous`` or ``static`` (see the module docstring).
        store: the model store (converted GGUF copies, cards, render memos), or None to
            convert nothing and keep nothing (every load then parses the GGUF file).
        threads: CPU threads for torch when the model runs on the CPU (None: torch's
            default), set when the weights load.

    Nothing heavy happens at construction: the tokenizer loads on the first render that
    the memo cannot answer, the weights on the first :meth:`generate`.

    Raises:
        BackendError: the model files cannot be read (at construction), or the tokenizer or
            the weights cannot be loaded (when first needed); the message names the model
            id, the cause and the fix.
    """

    def __init__(self, spec: ModelSpec, device: str = "cpu", batch_size: int = 16,
                 batching: str = "continuous", store: ModelStore | None = None,
                 threads: int | None = None) -> None:
        self.spec = spec
        self.batch_size = spec.batch_size or batch_size
        self.batching = batching
        self.threads = threads
        self.store = store
        self.device = device if spec.device == "auto" else spec.device
        if self.device.startswith("cuda"):
            import torch

            if not torch.cuda.is_available():
                raise BackendError(
                    f"model '{spec.id}': device '{spec.device}' but no CUDA GPU is visible. Fix: "
                    "set device: auto (or cpu) in models.yaml."
                )
        path = spec.resolved_model_path()
        self._local = Path(path).exists()
        self._path = path
        self._kwargs: dict[str, Any] = {}
        if spec.gguf_file:
            self._kwargs["gguf_file"] = spec.gguf_file
        if spec.revision and not self._local:
            self._kwargs["revision"] = spec.revision
        self._fingerprint = self._weights_fingerprint()
        self._tokenizer: Any = None
        self._model: Any = None
        self._device_map_used: Any = None
        self._template_sha: str | None = None
        self._memos: dict[str, RenderMemo] = {}

    # ------------------------------------------------------------------ loading

    def _weights_fingerprint(self) -> str:
        if not self._local:
            return f"hub:{self._path}@{self.spec.revision or 'main'}"
        directory, gguf = Path(self._path), self.spec.gguf_file
        if self.store is None:
            return weights_fingerprint(directory, gguf)
        target = directory / gguf if gguf else directory
        try:
            return self.store.fingerprint(target, lambda _: weights_fingerprint(directory, gguf))
        except OSError as exc:
            raise BackendError(
                f"model '{self.spec.id}': cannot read {target} ({exc.strerror or exc}). Fix: "
                "check 'model' and 'gguf_file' in models.yaml."
            ) from None

    def _load_error(self, exc: Exception) -> BackendError:
        spec = self.spec
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        return BackendError(
            f"model '{spec.id}': cannot load '{spec.model}'"
            + (f" (gguf_file '{spec.gguf_file}')" if spec.gguf_file else "")
            + f": {type(exc).__name__}: {first[:300]}. Fix: check 'model', 'gguf_file' and "
            "'revision' in models.yaml (a hub id needs network access or a warm HF cache)."
        )

    def _source(self, part: str) -> tuple[str, dict[str, Any]]:
        """Where to load the tokenizer or model (``part``) from.

        The store's converted copy of a GGUF file when there is a store, else the original
        path and keyword arguments.
        """
        if self.store is not None and self.spec.gguf_file and self._local:
            convert = self.store.gguf_tokenizer if part == "tokenizer" else self.store.gguf_model
            try:
                return str(convert(self._path, self.spec.gguf_file, self._fingerprint)), {}
            except OSError as exc:  # the store only saves time: load the GGUF itself
                log.warning("model %s: no converted copy in %s (%s); loading the GGUF file",
                            self.spec.id, self.store.root, exc.strerror or exc)
        return self._path, dict(self._kwargs)

    @property
    def tokenizer(self) -> Any:
        """The tokenizer (left padding, a pad token), loaded on first use.

        Raises:
            BackendError: it cannot be loaded (names the model, file and fix).
        """
        if self._tokenizer is None:
            try:
                from transformers import AutoTokenizer

                path, kwargs = self._source("tokenizer")
                tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
            except Exception as exc:  # noqa: BLE001 - every load failure gets the same message
                raise self._load_error(exc) from None
            tokenizer.padding_side = "left"
            if tokenizer.pad_token_id is None:
                tokenizer.pad_token = tokenizer.eos_token
            self._tokenizer = tokenizer
            sha = hashlib.sha256((tokenizer.chat_template or "").encode()).hexdigest()
            if self.store is not None and self._card_is_trustworthy() and self._template_sha != sha:
                self.store.save_card(self._fingerprint, {"chat_template_sha256": sha})
            self._template_sha = sha
        return self._tokenizer

    @tokenizer.setter
    def tokenizer(self, value: Any) -> None:
        self._tokenizer = value
        self._template_sha = hashlib.sha256((value.chat_template or "").encode()).hexdigest()

    @property
    def model(self) -> Any:
        """The model, loaded on first use (from the store's safetensors copy of a GGUF file).

        Raises:
            BackendError: the weights cannot be loaded (names the model, file and fix).
        """
        if self._model is None:
            import torch
            from transformers import AutoModelForCausalLM
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no tqdm bars in captured test output
            if self.threads and not self.device.startswith("cuda"):
                torch.set_num_threads(self.threads)
            dtype = _dtype(self.spec.dtype)
            try:
                path, kwargs = self._source("model")
                device_map = self._device_map(path, kwargs, dtype)
                # A GGUF load's de-quantisation bar is plain tqdm (not switched off above)
                # and would land in captured test output: send it nowhere.
                with contextlib.redirect_stderr(io.StringIO()):
                    model = AutoModelForCausalLM.from_pretrained(
                        path, dtype=dtype, device_map=device_map, **kwargs
                    )
            except BackendError:
                raise
            except Exception as exc:  # noqa: BLE001 - every load failure gets the same message
                raise self._load_error(exc) from None
            self._model = model.eval()
            self._device_map_used = device_map
        return self._model

    def _device_map(self, path: str, kwargs: dict[str, Any], dtype: Any) -> Any:
        """Choose ``device_map``: the single device, or ``auto`` for a model too big for it."""
        if self.spec.device_map == "auto":
            return "auto"
        if not self.device.startswith("cuda"):
            return self.device
        import torch
        from transformers import AutoConfig, AutoModelForCausalLM

        config = AutoConfig.from_pretrained(path, **kwargs)
        with torch.device("meta"):
            skeleton = AutoModelForCausalLM.from_config(config)
        element = torch.finfo(dtype).bits // 8 if isinstance(dtype, torch.dtype) else 2
        need = sum(p.numel() for p in skeleton.parameters()) * element
        total = torch.cuda.get_device_properties(torch.device(self.device)).total_memory
        if need > _FIT_FRACTION * total:
            log.info(
                "model %s needs %.1f GiB, more than one GPU holds: device_map=auto",
                self.spec.id, need / 2**30,
            )
            return "auto"
        return self.device

    # ------------------------------------------------------------------ identity, prompts

    def _card_is_trustworthy(self) -> bool:
        """Whether a stored card may stand for the tokenizer.

        Only when the weights are pinned by content: local files (hashed) or a hub commit
        (40 hex digits), never a branch name whose tokenizer may change upstream.
        """
        revision = self.spec.revision or ""
        return self._local or bool(re.fullmatch(r"[0-9a-f]{40}", revision))

    def _chat_template_sha(self) -> str:
        if self._template_sha is None and self.store is not None and self._card_is_trustworthy():
            card = self.store.card(self._fingerprint)
            if card and isinstance(card.get("chat_template_sha256"), str):
                self._template_sha = card["chat_template_sha256"]
        if self._template_sha is None:
            self.tokenizer  # noqa: B018 - loading it sets the template hash
        assert self._template_sha is not None
        return self._template_sha

    def info(self) -> BackendInfo:
        """Return what identifies this backend's answers (see :class:`BackendInfo`).

        Needs no tokenizer when the store has the model's card.
        """
        g = self.spec.generation
        model = self.spec.gguf_file if self.spec.model.startswith("package:") else self.spec.model
        return BackendInfo(
            backend="transformers",
            identity={
                "model": model,
                "revision": self.spec.revision,
                "weights": self._fingerprint,
                "dtype": self.spec.dtype,
                "chat_template": self._chat_template_sha()[:16],
                "generation": g.model_dump(),
                "system_prompt": self.spec.system_prompt,
                "transformers": transformers_version(),
            },
            device=str(self._device_map_used or self.device),
        )

    def _messages(self, request: Request) -> list[dict[str, str]]:
        messages = request.message_dicts()
        if self.spec.system_prompt:
            messages = [{"role": "system", "content": self.spec.system_prompt}, *messages]
        return messages

    def _render_now(self, request: Request) -> str:
        """Render with the tokenizer: the chat template with the generation prompt."""
        if self.tokenizer.chat_template:
            return self.tokenizer.apply_chat_template(
                self._messages(request), tokenize=False, add_generation_prompt=True
            )
        return "\n\n".join(m["content"] for m in self._messages(request))

    def _memo_and_digest(self, request: Request) -> tuple[RenderMemo | None, str]:
        """The render memo of the current identity and the request's digest in it.

        The digest covers the identity key as well as the messages, so a memo can never
        answer for another template, system prompt or tokenizer.
        """
        if self.store is None:
            return None, ""
        key = self.info().key()
        memo = self._memos.get(key)
        if memo is None:
            memo = self._memos[key] = self.store.renders(key)
        return memo, messages_digest([key, self._messages(request)])

    def render(self, request: Request) -> str:
        """Return the prompt text: the chat template applied with the generation prompt.

        Answered from the render memo when it has the messages (no tokenizer load).
        """
        memo, digest = self._memo_and_digest(request)
        if memo is not None and (known := memo.get(digest)) is not None:
            return known
        prompt = self._render_now(request)
        if memo is not None:
            memo.put(digest, prompt)
        return prompt

    def _max_new(self, request: Request) -> int:
        cap = self.spec.max_new_tokens_for(request.max_new_tokens)
        assert cap is not None  # local models always get a cap
        return cap

    def _stops(self, request: Request) -> list[str]:
        return [*self.spec.generation.stop, *request.stop]

    # ------------------------------------------------------------------ generation

    def generate(self, requests: list[Request]) -> list[Completion]:
        """Generate completions for ``requests`` (same order), batched.

        The prompts are rendered afresh with the tokenizer (a memo entry that disagrees is
        corrected, with a warning). With ``continuous`` batching every request runs in
        one run (slot refill when greedy, else ``generate_batch``; each row its own cap and
        stop strings); with ``static``,
        requests with different caps or stop strings run in separate groups. A failure (e.g. out of
        memory) turns that run's or group's completions into error completions.

        Progress (items, tokens) is reported through :func:`benchgate.backends.progress.report`.
        """
        if not requests:
            return []
        self.model  # noqa: B018 - load the weights now: a load failure is a BackendError
        prompts = [self._fresh_prompt(r) for r in requests]
        self._flush_memos()
        if self.batching == "continuous":
            from benchgate.backends import slots

            run = (self._generate_slots if self.spec.generation.temperature <= 0
                   and slots.supports(self.model) else self._generate_paged)
            return self._guard(list(range(len(requests))), lambda: run(requests, prompts))
        out: list[Completion | None] = [None] * len(requests)
        groups: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        for index, request in enumerate(requests):
            key = (self._max_new(request), tuple(self._stops(request)))
            groups.setdefault(key, []).append(index)
        for (max_new, stops), indices in groups.items():
            results = self._guard(indices, lambda i=indices, m=max_new, s=stops:
                                  self._generate_static([prompts[k] for k in i], m, list(s)))
            for i, completion in zip(indices, results, strict=True):
                out[i] = completion
        return [c for c in out if c is not None]

    def _guard(self, indices: list[int], run: Any) -> list[Completion]:
        """Run a generation; a failure becomes one error completion per request."""
        try:
            return run()
        except Exception as exc:  # noqa: BLE001 - a failed batch is an error outcome per item
            log.exception("model %s: generation failed", self.spec.id)
            message = f"generation failed: {type(exc).__name__}: {str(exc)[:300]}"
            return [Completion(text="", finish_reason="error", error=message) for _ in indices]

    def _fresh_prompt(self, request: Request) -> str:
        prompt = self._render_now(request)
        memo, digest = self._memo_and_digest(request)
        if memo is not None:
            known = memo.get(digest)
            if known is not None and known != prompt:
                log.warning("model %s: the render memo disagreed with the tokenizer; corrected",
                            self.spec.id)
            memo.put(digest, prompt)
        return prompt

    def _flush_memos(self) -> None:
        for memo in self._memos.values():
            memo.flush()

    def _eos_ids(self) -> set[int]:
        eos = self.model.generation_config.eos_token_id
        ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            ids.add(self.tokenizer.eos_token_id)
        return ids

    def _generation_config(self, max_new: int) -> Any:
        from transformers import GenerationConfig

        g = self.spec.generation
        sample = g.temperature > 0
        return GenerationConfig(
            max_new_tokens=max_new,
            do_sample=sample,
            temperature=g.temperature if sample else None,
            top_p=g.top_p if sample else None,
            eos_token_id=self.model.generation_config.eos_token_id or self.tokenizer.eos_token_id,
            pad_token_id=self.tokenizer.pad_token_id,
        )

    def _finish(self, tokens: list[int], max_new: int, stops: list[str], prompt_tokens: int,
                latency: float, peak: float, batch_wall: float) -> Completion:
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        text, stopped = cut_at_stop(text, stops)
        hit_eos = bool(tokens) and tokens[-1] in self._eos_ids()
        finish = "stop" if stopped or hit_eos or len(tokens) < max_new else "length"
        return Completion(
            text=text,
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(tokens),
            latency_s=latency,
            peak_memory_mb=peak,
            batch_wall_s=batch_wall,
        )

    def _reset_peak(self) -> None:
        if self.device.startswith("cuda"):
            import torch

            torch.cuda.reset_peak_memory_stats(torch.device(self.device))

    def _generate_slots(self, requests: list[Request], prompts: list[str]) -> list[Completion]:
        """Greedy slot-refill batching (:mod:`benchgate.backends.slots`) in one run.

        Each request keeps its own cap and stop strings; progress per finished request.
        """
        from benchgate.backends import slots

        work = [slots.SlotRequest(self.tokenizer(p, add_special_tokens=False).input_ids,
                                  self._max_new(r), tuple(self._stops(r)))
                for r, p in zip(requests, prompts, strict=True)]
        pad = self.tokenizer.pad_token_id
        self._reset_peak()
        start = time.perf_counter()
        results = slots.generate(
            self.model, work, rows=self.batch_size, eos_ids=self._eos_ids(),
            pad_id=pad if pad is not None else 0,
            stop_found=lambda tokens, stops: cut_at_stop(
                self.tokenizer.decode(tokens, skip_special_tokens=True), list(stops))[1],
            on_finish=lambda _i, result: report(1, len(result.tokens)))
        wall = time.perf_counter() - start
        peak = peak_memory_mb(self.device)
        return [self._finish(result.tokens, w.max_new, list(w.stops), len(w.prompt_ids),
                             max(0.0, result.ended - result.started), peak, wall)
                for w, result in zip(work, results, strict=True)]

    def _generate_paged(self, requests: list[Request], prompts: list[str]) -> list[Completion]:
        """Generate with transformers' ``generate_batch`` (continuous batching, paged cache).

        Each request keeps its own cap and stop strings: requests are grouped by cap; stop
        strings are applied to the text afterwards (the engine stops rows on EOS only).
        """
        import torch
        from transformers import ContinuousBatchingConfig

        out: list[Completion | None] = [None] * len(requests)
        groups: dict[int, list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault(self._max_new(request), []).append(index)
        for max_new, indices in groups.items():
            ids = [self.tokenizer(prompts[i], add_special_tokens=False).input_ids for i in indices]
            self._reset_peak()
            cb = ContinuousBatchingConfig(
                max_requests_per_batch=self.batch_size,
                num_blocks=max(8, -(-self.batch_size * (max(map(len, ids)) + max_new) // 256) + 2),
                max_batch_tokens=max(256, min(4096, self.batch_size * 64)),
                seed=self.spec.generation.seed,
            )
            start = time.perf_counter()
            with torch.inference_mode():
                ordered = self._run_paged(ids, self._generation_config(max_new), cb, max_new)
            wall = time.perf_counter() - start
            peak = peak_memory_mb(self.device)
            for i, prompt_ids, result in zip(indices, ids, ordered, strict=True):
                if result is None:
                    out[i] = Completion(text="", finish_reason="error",
                                        error="generation failed: transformers' continuous "
                                        "batching returned no result for this prompt",
                                        prompt_tokens=len(prompt_ids))
                    continue
                if result.error:
                    out[i] = Completion(text="", finish_reason="error",
                                        error=f"generation failed: {result.error}",
                                        prompt_tokens=len(prompt_ids))
                    continue
                end = result.lifespan[1] if result.lifespan[1] > 0 else start + wall
                begin = result.lifespan[0] if result.lifespan[0] > 0 else start
                tokens = list(result.generated_tokens)
                out[i] = self._finish(tokens, max_new, self._stops(requests[i]), len(prompt_ids),
                                      max(0.0, end - begin), peak, wall)
        return [c for c in out if c is not None]

    def _run_paged(self, ids: list[list[int]], config: Any, cb: Any, max_new: int) -> list[Any]:
        """Run one continuous batch; report each request's items and tokens as it finishes.

        The loop of transformers' ``generate_batch`` (same manager, same settings, so the
        same outputs) over its public manager API (``continuous_batching_context_manager``,
        ``add_requests``, ``get_result``), which lets the progress lines count items and
        tokens while the batch runs instead of only when all of it is done.

        Returns:
            The ``GenerationOutput`` of each prompt in input order (None where the manager
            returned nothing for it).

        Raises:
            RuntimeError: the manager's generation thread died before every result came.
        """
        hints: dict[str, Any] = {}
        try:  # sizing hints, as generate_batch passes them (absent in older transformers)
            from transformers.generation.continuous_batching.utils import WorkloadHints

            hints["workload_hints"] = WorkloadHints(
                max_prompt_length=max(map(len, ids)), max_generated_length=max_new,
                num_requests=len(ids))
        except ImportError:
            pass
        results: dict[str, Any] = {}
        with self.model.continuous_batching_context_manager(
            generation_config=config, continuous_batching_config=cb, block=True, timeout=5,
            **hints,
        ) as manager:
            request_ids = manager.add_requests(inputs=ids, max_new_tokens=max_new)
            while len(results) < len(request_ids):
                result = manager.get_result(timeout=1)
                if result is None:
                    if not manager.is_running():
                        raise RuntimeError("the continuous-batching thread stopped early")
                    continue
                if result.is_finished():
                    results[result.request_id] = result
                    report(1, len(result.generated_tokens))
        return [results.get(r) for r in request_ids]

    def _generate_static(
        self, prompts: list[str], max_new: int, stops: list[str]
    ) -> list[Completion]:
        """Length-sorted, left-padded static batches through ``model.generate``."""
        import torch
        from transformers import StoppingCriteriaList

        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        out: list[Completion | None] = [None] * len(prompts)
        pad = self.tokenizer.pad_token_id
        for lo in range(0, len(order), self.batch_size):
            chunk = order[lo : lo + self.batch_size]
            enc = self.tokenizer([prompts[i] for i in chunk], return_tensors="pt", padding=True,
                                 add_special_tokens=False).to(self.model.device)
            width = enc.input_ids.shape[1]
            clock = _RowClock(len(chunk), width, self._eos_ids() | {pad})
            self._reset_peak()
            start = time.perf_counter()
            with torch.inference_mode():
                generated = self.model.generate(
                    **enc,
                    generation_config=self._generation_config(max_new),
                    stop_strings=stops or None,
                    tokenizer=self.tokenizer if stops else None,
                    stopping_criteria=StoppingCriteriaList([clock]),
                )
            end = time.perf_counter()
            peak = peak_memory_mb(self.device)
            for row, i in enumerate(chunk):
                tokens = generated[row, width:].tolist()
                while tokens and tokens[-1] == pad and len(tokens) > 1 and tokens[-2] == pad:
                    tokens.pop()
                latency = (clock.ended[row] or end) - start
                out[i] = self._finish(tokens, max_new, stops, int(enc.attention_mask[row].sum()),
                                      latency, peak, end - start)
                report(1, len(tokens))
        return [c for c in out if c is not None]

    def close(self) -> None:
        """Write the render memo, drop the model and free accelerator memory."""
        self._flush_memos()
        self._model = None
        if self._device_map_used is not None and str(self._device_map_used).startswith("cuda"):
            import torch

            torch.cuda.empty_cache()

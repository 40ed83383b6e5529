"""The records that travel through a benchgate run: items, completions, outcomes.

Everything here is a plain dataclass whose ``to_dict`` gives builtins only (str, int,
float, bool, None, list, dict), because outcomes travel from xdist workers to the
controller on the test report (xdist serialises ``report.__dict__``) and are written
to ``reports/results.jsonl``.
"""

from __future__ import annotations

import dataclasses
import enum
from dataclasses import dataclass, field
from typing import Any


class Status(str, enum.Enum):
    """The outcome of one (model, item) pair.

    Values:
        CORRECT: an answer was extracted and it matches the reference.
        INCORRECT: an answer was extracted and it does not match (a *wrong* answer).
        NO_ANSWER: the completion exists but no answer could be extracted from it
            (a *format failure*; inspect_ai's ``NOANSWER``).
        ERROR: generation or execution failed (backend error, timeout, crash); the model's
            ability was never measured, so this is kept apart from a wrong answer.
    """

    CORRECT = "correct"
    INCORRECT = "incorrect"
    NO_ANSWER = "no_answer"
    ERROR = "error"


@dataclass(frozen=True)
class Item:
    """One benchmark item, as loaded from its source.

    Attributes:
        id: stable, content- or source-derived id (never a position), unique within the
            benchmark; safe in a pytest id (letters, digits, ``_``, ``.``, ``-``).
        benchmark: the benchmark's name, e.g. ``"gsm8k"``.
        input: the fields the prompt is built from (benchmark-specific, builtins only).
        reference: the gold answer in the form the scorer compares against (e.g. ``"42"``,
            ``"B"``); for HumanEval the task's test code is in ``input`` and this is the
            entry point.
        subject: subject or category used for stratified ``--limit`` and per-subject
            accuracy, or None.
    """

    id: str
    benchmark: str
    input: dict[str, Any]
    reference: Any
    subject: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the item as a dict of builtins."""
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Completion:
    """One generated completion for one prompt.

    Attributes:
        text: the generated text (decoded, special tokens removed unless the reasoning
            format needs them), or ``""`` when ``error`` is set.
        finish_reason: ``"stop"`` (EOS or a stop string), ``"length"`` (max_new_tokens
            reached) or ``"error"``.
        prompt_tokens: tokens in the rendered prompt.
        completion_tokens: tokens generated (up to and including the stop).
        latency_s: seconds from the start of the request (or of its batch) until this
            completion finished.
        error: a message when generation failed, else None.
        reasoning: reasoning text the backend returned separately (e.g. an OpenAI-style
            ``reasoning_content`` field), else None.
        reasoning_tokens: tokens spent on reasoning when the backend reports them.
        peak_memory_mb: peak accelerator memory (or process RSS on the CPU) in MiB while
            this completion's batch ran, or None if not measured.
        cached: True when this completion was read from the response cache.
        batch_wall_s: wall-clock seconds of the whole batch (or concurrent request
            window) this completion was generated in, or None when not batched/measured;
            ``latency_s`` is this completion's own time to its last token.
        energy_j: energy in joules apportioned to this completion (GPU by NVML, CPU package
            by RAPL; by token share of its batch), or None when not measurable.
        replica: the server replica (``base_url``) that answered, for multi-replica
            models, else None.
    """

    text: str
    finish_reason: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    error: str | None = None
    reasoning: str | None = None
    reasoning_tokens: int | None = None
    peak_memory_mb: float | None = None
    cached: bool = False
    batch_wall_s: float | None = None
    energy_j: float | None = None
    replica: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """Return the completion as a dict of builtins."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Completion:
        """Build a completion from :meth:`to_dict` output (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})


@dataclass
class Score:
    """What a benchmark's scorer says about one completion.

    Attributes:
        status: correct, incorrect, no_answer or error.
        extracted: the extracted answer (canonical string), or None when none was found.
        value: a graded score in [0, 1] where the benchmark has one (e.g. ROUGE-L), else
            None; ``status`` is then the documented thresholding of it.
        detail: a short human-readable explanation (e.g. the failing assertion).
        rule: the extraction rule that produced ``extracted`` (e.g. ``marker``,
            ``boxed``, ``option-text``), or the reason none did; used to group outcomes in
            reports. None when the scorer has no rules.
        no_answer_kind: for ``no_answer``, its sub-kind (e.g. ``reasoning_only``: an answer
            appears only in the reasoning the server returned separately); else None.
        sandbox: for executed code, the isolation level it ran under (``full`` or
            ``none``); else None.
        reusable: whether the verdict depends only on the completion, the item and the
            scorer, so the score cache may hand it to a later run; False where the
            machine may have decided it (a HumanEval timeout, a sandbox process that
            ended without a verdict).
    """

    status: Status
    extracted: str | None = None
    value: float | None = None
    detail: str | None = None
    rule: str | None = None
    no_answer_kind: str | None = None
    sandbox: str | None = None
    reusable: bool = True

    def to_dict(self) -> dict[str, Any]:
        """Return the score as builtins (``status`` as its string value)."""
        data = dataclasses.asdict(self)
        data["status"] = self.status.value
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Score:
        """Build a score from :meth:`to_dict` output.

        Raises:
            ValueError: ``status`` is not a :class:`Status` value.
            TypeError: a field is missing or unknown.
        """
        return cls(**{**data, "status": Status(data["status"])})


@dataclass
class Outcome:
    """The recorded result of one (model, item) test: what goes into results.jsonl.

    Attributes:
        model: the model id from models.yaml.
        benchmark: the benchmark name.
        benchmark_version: the benchmark spec's version (bumped when prompt, extractor or
            normaliser change).
        dataset_hash: content hash of the benchmark's full item set (before ``--limit``).
        item_id: the item's stable id.
        subject: the item's subject/category, or None.
        status: the :class:`Status` value as a string.
        extracted: the extracted answer, or None.
        reference: the gold answer.
        score: graded score where the benchmark has one, else None.
        prompt: the prompt as sent (chat messages rendered by the backend, or the raw
            messages as JSON text when the backend renders remotely).
        completion: the completion text.
        finish_reason: ``stop`` | ``length`` | ``error``.
        prompt_tokens: prompt tokens.
        completion_tokens: completion tokens.
        reasoning_tokens: reasoning tokens, when known.
        latency_s: seconds (see :class:`Completion`).
        peak_memory_mb: MiB, or None.
        cached: whether the completion came from the response cache.
        score_cached: whether the verdict came from the score cache
            (:mod:`benchgate.scoring.cache`: HumanEval's sandboxed execution, DialogSum's
            ROUGE, not repeated for the same completion and scorer).
        error: error message for ``error`` outcomes, else None.
        detail: scorer detail, else None.
        nodeid: the pytest node id.
        extraction_rule: :attr:`Score.rule`.
        no_answer_kind: :attr:`Score.no_answer_kind`.
        sandbox: :attr:`Score.sandbox`.
        batch_wall_s: :attr:`Completion.batch_wall_s`.
        energy_j: :attr:`Completion.energy_j`.
        replica: :attr:`Completion.replica`.
        extra: anything else worth keeping (e.g. ``reasoning``: the server's separate
            reasoning text), builtins only.
    """

    model: str
    benchmark: str
    benchmark_version: int
    dataset_hash: str
    item_id: str
    subject: str | None
    status: str
    extracted: str | None
    reference: Any
    score: float | None = None
    prompt: str = ""
    completion: str = ""
    finish_reason: str = ""
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int | None = None
    latency_s: float = 0.0
    peak_memory_mb: float | None = None
    cached: bool = False
    score_cached: bool = False
    error: str | None = None
    detail: str | None = None
    nodeid: str = ""
    extraction_rule: str | None = None
    no_answer_kind: str | None = None
    sandbox: str | None = None
    batch_wall_s: float | None = None
    energy_j: float | None = None
    replica: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """Return the outcome as a dict of builtins (the results.jsonl line)."""
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Outcome:
        """Build an outcome from :meth:`to_dict` output (unknown keys are ignored)."""
        names = {f.name for f in dataclasses.fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in names})

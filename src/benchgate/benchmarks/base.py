"""The benchmark spec: data, prompt, extractor, normaliser and scorer in one Python place.

A benchmark is a subclass of :class:`Benchmark`. Its test module in ``tests/benchmarks/``
names the class (``BENCHMARK = GSM8K``) and holds one test function; the pytest plugin
parametrises that function over (model, item).
"""

from __future__ import annotations

import abc
from typing import Any, ClassVar

from benchgate.backends.base import Request
from benchgate.datasets.base import DataSource
from benchgate.records import Completion, Item, Score, Status


class Benchmark(abc.ABC):
    """One benchmark's full specification.

    Class attributes:
        name: short lowercase name used in ids and reports (``gsm8k``).
        version: bumped whenever the prompt, extractor, normaliser or scorer changes;
            runs of different versions are never paired in a comparison.
        max_new_tokens: the benchmark's token cap (the model's own cap applies if smaller).
        stop: stop strings the benchmark adds to the model's.
        stand_in: a note when the data is a stand-in for the paper's set (LegalQA), shown in
            reports; None for the real set.
        supports_shots: whether ``--shots`` changes the prompt.

    Args:
        shots: few-shot exemplars per prompt (0 = zero-shot), for benchmarks that have a
            dev split; ignored by the others.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    max_new_tokens: ClassVar[int | None] = None
    stop: ClassVar[tuple[str, ...]] = ()
    stand_in: ClassVar[str | None] = None
    supports_shots: ClassVar[bool] = False

    def __init__(self, shots: int = 0) -> None:
        if shots < 0:
            raise ValueError(f"shots must be >= 0 (got {shots})")
        self.shots = shots if self.supports_shots else 0
        #: Few-shot exemplars by subject, filled by :meth:`load` where the source has a dev
        #: split: ``(question, choices, label)`` tuples.
        self.dev: dict[str, list] = {}

    def exemplars(self, subject: str) -> list:
        """Return the first ``shots`` dev exemplars of ``subject`` (empty for zero-shot)."""
        return self.dev.get(subject, [])[: self.shots]

    def settings(self) -> dict[str, Any]:
        """Return the settings that change prompts besides ``version`` (e.g. ``shots``)."""
        return {"shots": self.shots} if self.supports_shots else {}

    @abc.abstractmethod
    def load(self, source: DataSource) -> list[Item]:
        """Load every item of the evaluation split.

        Raises:
            DataUnavailableError: no data at the source (the benchmark is skipped once).
            DataFormatError: the data is malformed (names the file, line and field).
        """

    @abc.abstractmethod
    def request(self, item: Item) -> Request:
        """Build the chat request (the prompt) for one item."""

    @abc.abstractmethod
    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Score the final answer text (reasoning already removed) of a completion."""

    def score(self, item: Item, completion: Completion, reasoning_format: str) -> Score:
        """Score one completion: error, no_answer (unfinished reasoning) or the benchmark's own.

        Args:
            item: the item.
            completion: the model's completion.
            reasoning_format: ``none`` | ``think-tags`` | ``harmony`` from models.yaml.

        Returns:
            A :class:`Score`. A completion with ``error`` set scores ``error``; reasoning that
            never reached a final answer scores ``no_answer``.
        """
        if completion.error is not None or completion.finish_reason == "error":
            return Score(Status.ERROR, detail=completion.error or "generation failed")
        from benchgate.scoring import split_reasoning

        # A server that split the reasoning out (``reasoning_content``) left only the final
        # answer in the text: splitting it again would misread a cut-off answer.
        fmt = "none" if completion.reasoning is not None else reasoning_format
        _, final = split_reasoning(completion.text, fmt, completion.finish_reason)
        if final is None:
            return Score(
                Status.NO_ANSWER,
                detail=f"reasoning never ended (finish_reason={completion.finish_reason})",
            )
        return self.score_final(item, final, completion)


def choice_score(extracted: str | None, reference: str, labels: str) -> Score:
    """Score a multiple-choice answer: the extracted label against the reference label.

    Args:
        extracted: the label from :func:`benchgate.scoring.extract_choice`, or None.
        reference: the gold label (one of ``labels``).
        labels: the allowed labels, e.g. ``"ABCD"``.
    """
    if extracted is None:
        return Score(Status.NO_ANSWER, detail=f"no option letter ({', '.join(labels)}) found")
    status = Status.CORRECT if extracted == reference else Status.INCORRECT
    return Score(status, extracted=extracted)

"""The benchmark spec: data, prompt, extractor, normaliser and scorer in one Python place.

A benchmark is a subclass of :class:`Benchmark`. Its test module in ``tests/benchmarks/``
names the class (``BENCHMARK = GSM8K``) and holds one test function; the pytest plugin
parametrises that function over (model, item).
"""

from __future__ import annotations

import abc
import dataclasses
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, ClassVar

from benchgate.backends.base import Request
from benchgate.data.sources import DataSource
from benchgate.records import Completion, Item, Score, Status

if TYPE_CHECKING:
    from benchgate.scoring.extract import Extraction

#: Sub-kinds of a ``no_answer`` outcome (:attr:`Score.no_answer_kind`), set by
#: :meth:`Benchmark.score`: ``reasoning_unfinished`` (the reasoning never ended: an open
#: think block, a harmony analysis without a final channel, or a server-split reasoning
#: cut by the token cap with no content), ``reasoning_only`` (the final text names no
#: answer, but the reasoning does, by an explicit rule such as ``The answer is B``),
#: ``truncated`` (no answer and the completion was cut by the token cap) and ``format``
#: (no answer in a finished completion).
NO_ANSWER_KINDS = ("reasoning_unfinished", "reasoning_only", "truncated", "format")


def question_of(item: Item) -> str | None:
    """The question an item asks (``question``, else PIQA's ``goal``), or None.

    Extractors use it to tell a restated question (still this item's answer) from one the
    model invented (see :func:`benchgate.scoring.extract_choice`).
    """
    value = item.input.get("question") or item.input.get("goal")
    return value if isinstance(value, str) and value.strip() else None


def number_score(
    found: Extraction, matches: Callable[[str], bool], finish_reason: str | None
) -> Score:
    """Turn an extracted number into a score (the numeric benchmarks' shared last step).

    Args:
        found: the :func:`benchgate.scoring.number_extraction` result.
        matches: whether the canonical number equals the reference (the benchmark's
            normaliser, e.g. :func:`benchgate.scoring.normalize.numbers_equal`).
        finish_reason: the completion's finish reason, for the no_answer detail.

    Returns:
        correct / incorrect with the number, or no_answer; ``rule`` is the extraction rule.
    """
    if found.answer is None:
        return Score(
            Status.NO_ANSWER,
            detail=f"no final number in the completion ({found.rule}, "
            f"finish_reason={finish_reason})",
            rule=found.rule,
        )
    status = Status.CORRECT if matches(found.answer) else Status.INCORRECT
    return Score(status, extracted=found.answer, rule=found.rule)


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
        graded: the scorer's Score.value in [0, 1] is the graded metric; comparisons test
            its mean paired difference (DialogSum's ROUGE-L). A benchmark whose data
            decides it (LegalQA: graded on the real free-text set, not on the multiple
            choice stand-in) sets it on the instance in :meth:`load`.
        category: the benchmark's category for grouped rankings (``knowledge``, ``math``,
            ``code``, ``medical``, ``legal``, ``finance``, ``summarisation``,
            ``commonsense``, ``science``), as the paper groups them.
        cache_scores: whether verdicts go to the score cache (:mod:`benchgate.scoring.cache`)
            so that a re-run on the same completion does not repeat the scoring. Set only
            where scoring is expensive (HumanEval executes code in the sandbox, DialogSum
            imports ROUGE and NLTK); rule-based extraction is cheaper than a cache read.

    Args:
        shots: few-shot exemplars per prompt (0 = zero-shot), for benchmarks that have a
            dev split; ignored by the others.
        sandbox: ``--sandbox``: how benchmarks that execute model-written code isolate it
            (``auto``: full isolation or an error outcome; ``none``: no isolation, by
            explicit choice); ignored by benchmarks that run no code.
    """

    name: ClassVar[str]
    version: ClassVar[int]
    max_new_tokens: ClassVar[int | None] = None
    stop: ClassVar[tuple[str, ...]] = ()
    stand_in: ClassVar[str | None] = None
    supports_shots: ClassVar[bool] = False
    graded: ClassVar[bool] = False
    category: ClassVar[str] = "other"
    cache_scores: ClassVar[bool] = False

    def __init__(self, shots: int = 0, sandbox: str = "auto") -> None:
        if shots < 0:
            raise ValueError(f"shots must be >= 0 (got {shots})")
        self.shots = shots if self.supports_shots else 0
        self.sandbox = sandbox
        #: Few-shot exemplars by subject, filled by :meth:`load` where the source has a dev
        #: split: ``(question, choices, label)`` tuples.
        self.dev: dict[str, list] = {}

    def exemplars(self, subject: str) -> list:
        """Return the first ``shots`` dev exemplars of ``subject`` (empty for zero-shot)."""
        return self.dev.get(subject, [])[: self.shots]

    def settings(self) -> dict[str, Any]:
        """Return the settings that change prompts besides ``version`` (e.g. ``shots``)."""
        return {"shots": self.shots} if self.supports_shots else {}

    def score_settings(self) -> dict[str, Any]:
        """Return what changes a verdict besides the completion, the item and ``version``.

        Part of the score cache key (:func:`benchgate.scoring.cache.score_key`), e.g.
        HumanEval's isolation level and time limit. Empty by default.
        """
        return {}

    def score_cacheable(self, score: Score) -> bool:
        """Whether a later run may reuse ``score`` from the score cache.

        Only verdicts that depend on nothing but the completion, the item and the scorer:
        never an ``error`` (a sandbox or scorer failure: a re-run tries again), never a
        score its scorer marked not :attr:`Score.reusable` (HumanEval: timeouts, a
        sandbox process that ended without a verdict).
        """
        return score.status is not Status.ERROR and score.reusable

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

    def extract(self, item: Item, text: str, *, fallback: bool = True) -> Extraction | None:
        """Read this benchmark's answer from ``text`` without scoring it.

        :meth:`score` runs it on the reasoning of a completion whose final text holds no
        answer, to tell ``reasoning_only`` apart. Benchmarks whose answers are free text or
        code return None (the default): nothing is read from their reasoning.

        Args:
            item: the item.
            text: any text of the completion (final text or reasoning).
            fallback: whether weak rules (the last number) may answer; False for reasoning
                and for completions cut by the token cap.

        Returns:
            The :class:`~benchgate.scoring.extract.Extraction`, or None when the benchmark
            has no extractor to run on free text.
        """
        return None

    def score(
        self,
        item: Item,
        completion: Completion,
        reasoning_format: str,
        delimiters: Sequence[str] | None = None,
    ) -> Score:
        """Score one completion: error, no_answer (unfinished reasoning) or the benchmark's own.

        The reasoning is split off first (:func:`benchgate.scoring.split_reasoning`). A
        ``no_answer`` gets its sub-kind (:data:`NO_ANSWER_KINDS`) in ``no_answer_kind``:
        an answer present only in the reasoning (the server's separate reasoning field,
        ``Completion.reasoning``, or the in-text reasoning block) is ``reasoning_only``,
        counted apart in reports rather than silently lost.

        Args:
            item: the item.
            completion: the model's completion.
            reasoning_format: ``none`` | ``think-tags`` | ``harmony`` from models.yaml.
            delimiters: the model's own reasoning delimiters (models.yaml
                ``reasoning_delimiters``) for ``think-tags``, or None.

        Returns:
            A :class:`Score`. A completion with ``error`` set scores ``error``; reasoning that
            never reached a final answer scores ``no_answer`` (``reasoning_unfinished``).
        """
        if completion.error is not None or completion.finish_reason == "error":
            return Score(Status.ERROR, detail=completion.error or "generation failed")
        from benchgate.scoring import split_reasoning

        # A server that split the reasoning out (``reasoning_content``) left only the final
        # answer in the text: splitting it again would misread a cut-off answer.
        server_split = completion.reasoning is not None
        fmt = "none" if server_split else reasoning_format
        reasoning, final = split_reasoning(
            completion.text, fmt, completion.finish_reason,
            delimiters if fmt == "think-tags" else None,
        )
        if server_split:
            reasoning = completion.reasoning
            if not completion.text.strip() and completion.finish_reason == "length":
                final = None  # cut inside the reasoning: no content was ever written
        if final is None:
            return Score(
                Status.NO_ANSWER,
                detail=f"reasoning never ended (finish_reason={completion.finish_reason})",
                rule="reasoning-unfinished",
                no_answer_kind="reasoning_unfinished",
            )
        score = self.score_final(item, final, completion)
        if score.status is Status.NO_ANSWER and score.no_answer_kind is None:
            score = self._classify_no_answer(item, score, reasoning, completion)
        return score

    def _classify_no_answer(
        self, item: Item, score: Score, reasoning: str | None, completion: Completion
    ) -> Score:
        """Set the sub-kind of a ``no_answer`` whose final text was read (see score)."""
        from benchgate.safetext import clean_text
        from benchgate.scoring.extract import EXPLICIT_RULES

        found = self.extract(item, reasoning, fallback=False) if reasoning else None
        if found is not None and found.answer is not None and found.rule in EXPLICIT_RULES:
            detail = clean_text(
                f"the answer {found.answer!r} appears only in the reasoning "
                f"(rule {found.rule}); the final text names none",
                limit=300,
            )
            return dataclasses.replace(score, no_answer_kind="reasoning_only", detail=detail)
        kind = "truncated" if completion.finish_reason == "length" else "format"
        return dataclasses.replace(score, no_answer_kind=kind)

"""Multiple-choice prompts and scoring shared by the choice benchmarks.

Used by MMLU, SciQ, PIQA, MedQA, C-Eval and LegalQA: options rendered as ``A. ...`` lines,
k-shot exemplars as chat turns, and one scoring path by construction: every choice
benchmark is a :class:`ChoiceBenchmark`, whose :meth:`~ChoiceBenchmark.score_final`
extracts the chosen label with the item's option texts and question
(:func:`score_choice`); none defines its own.

The defaults reproduce MMLU's prompt exactly (English ``Answer:`` cue, labels ``ABCD``);
C-Eval passes the Chinese cue ``答案：`` and PIQA the labels ``AB``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, ClassVar

from benchgate.benchmarks.base import Benchmark, question_of
from benchgate.records import Completion, Item, Score, Status

if TYPE_CHECKING:
    from benchgate.scoring.extract import Extraction

#: The default option labels (four options).
LABELS = "ABCD"


def label_phrase(labels: str) -> str:
    """Return the labels as an English list: ``"ABCD"`` -> ``"A, B, C or D"``."""
    if len(labels) == 1:
        return labels
    return ", ".join(labels[:-1]) + " or " + labels[-1]


def format_question(
    question: str, choices: Sequence[str], labels: str = LABELS, cue: str = "Answer:"
) -> str:
    """Render a question and its options as ``A. ...`` lines, ending with ``cue``.

    Args:
        question: the question text (stripped).
        choices: the option texts in source order; ``len(choices) <= len(labels)``.
        labels: the option labels in order.
        cue: the last line, inviting the answer (``"Answer:"``, ``"答案："``).

    Returns:
        The user-turn text.

    Raises:
        ValueError: more choices than labels.
    """
    if len(choices) > len(labels):
        raise ValueError(f"{len(choices)} choices but only {len(labels)} labels ({labels!r})")
    lines = [question.strip()]
    pairs = zip(labels, choices, strict=False)
    lines += [f"{label}. {str(choice).strip()}" for label, choice in pairs]
    return "\n".join(lines) + "\n" + cue


def multiple_choice_messages(
    instruction: str,
    question: str,
    choices: Sequence[str],
    shots: Sequence[tuple],
    labels: str = LABELS,
    cue: str = "Answer:",
    reply: str = "Answer: {label}",
) -> list[dict[str, str]]:
    """Build chat messages: k exemplar turns, then the item's question.

    Each exemplar is a user question and an assistant reply; the instruction heads the
    first user turn.

    Args:
        instruction: the task instruction.
        question: the item's question.
        choices: its options in source order.
        shots: (question, choices, label) exemplars, possibly empty.
        labels: the option labels.
        cue: the answer cue ending each question (see :func:`format_question`).
        reply: the assistant's exemplar answer, formatted with ``label``.

    Returns:
        OpenAI-style message dicts (``role``, ``content``).
    """
    messages: list[dict[str, str]] = []
    for q, c, label in shots:
        messages.append({"role": "user", "content": format_question(q, c, labels, cue)})
        messages.append({"role": "assistant", "content": reply.format(label=label)})
    messages.append({"role": "user", "content": format_question(question, choices, labels, cue)})
    messages[0] = {"role": "user", "content": f"{instruction}\n\n{messages[0]['content']}"}
    return messages


def choice_score(found: Extraction, reference: str, labels: str) -> Score:
    """Turn an extracted label into a score against the reference label.

    Args:
        found: the :func:`benchgate.scoring.choice_extraction` result (label and rule).
        reference: the gold label (one of ``labels``).
        labels: the allowed labels, e.g. ``"ABCD"``.

    Returns:
        correct / incorrect with the label, or no_answer; ``rule`` is the extraction rule.
    """
    if found.answer is None:
        return Score(
            Status.NO_ANSWER,
            detail=f"no option letter ({', '.join(labels)}) found ({found.rule})",
            rule=found.rule,
        )
    status = Status.CORRECT if found.answer == reference else Status.INCORRECT
    return Score(status, extracted=found.answer, rule=found.rule)


def score_choice(
    final: str,
    reference: str,
    choices: Sequence[str],
    labels: str,
    question: str | None = None,
) -> Score:
    """Extract the chosen label from a final text and compare it with the reference label.

    Extractor: :func:`benchgate.scoring.choice_extraction` with the item's option texts
    (an answer that names an option's text instead of its letter, ``The answer is:
    mitochondria``, counts when exactly one option matches) and the item's question (a
    restated question still answers this item; an invented next one never does).

    Args:
        final: the final text (reasoning removed).
        reference: the gold label.
        choices: the option texts in label order.
        labels: the labels of these options (``labels[:len(choices)]`` is used).
        question: the item's question, or None.

    Returns:
        correct / incorrect with the extracted label, or no_answer.
    """
    from benchgate.scoring import choice_extraction

    labs = labels[: len(choices)]
    found = choice_extraction(final, labs, options=list(choices), question=question)
    return choice_score(found, reference, labs)


class ChoiceBenchmark(Benchmark):
    """A multiple-choice benchmark: items carry ``input["choices"]``, references a label.

    Every choice benchmark subclasses this and none overrides :meth:`score_final` for its
    multiple-choice items, so all of them score the same way: :func:`score_choice` with
    the item's options and question.

    Class attributes:
        labels: the option labels in order (``"ABCD"``; PIQA ``"AB"``); an item with
            fewer choices uses the first ``len(choices)``.
    """

    labels: ClassVar[str] = LABELS

    def extract(self, item: Item, text: str, *, fallback: bool = True) -> Extraction:
        """Read the chosen label from ``text`` (see :func:`score_choice`)."""
        from benchgate.scoring import choice_extraction

        choices = list(item.input["choices"])
        return choice_extraction(
            text, self.labels[: len(choices)], options=choices, question=question_of(item)
        )

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the option letter and compare it with the reference letter."""
        return score_choice(
            final, item.reference, item.input["choices"], self.labels, question_of(item)
        )

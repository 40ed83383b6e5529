"""Multiple-choice prompts and scoring shared by the choice benchmarks.

Used by MMLU, SciQ, PIQA, MedQA, C-Eval and LegalQA: options rendered as ``A. ...`` lines,
k-shot exemplars as chat turns, and the scorer that extracts the chosen label.

The defaults reproduce MMLU's prompt exactly (English ``Answer:`` cue, labels ``ABCD``);
C-Eval passes the Chinese cue ``答案：`` and PIQA the labels ``AB``.
"""

from __future__ import annotations

from collections.abc import Sequence

from benchgate.benchmarks.base import choice_score
from benchgate.records import Score

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


def score_choice(final: str, reference: str, choices: Sequence[str], labels: str) -> Score:
    """Extract the chosen label from a final text and compare it with the reference label.

    Extractor: :func:`benchgate.scoring.extract_choice` with the item's option texts, so
    an answer that names an option's text instead of its letter (``The answer is:
    mitochondria``) counts when exactly one option matches.

    Args:
        final: the final text (reasoning removed).
        reference: the gold label.
        choices: the option texts in label order.
        labels: the labels of these options (``labels[:len(choices)]`` is used).

    Returns:
        correct / incorrect with the extracted label, or no_answer.
    """
    from benchgate.scoring import extract_choice

    labs = labels[: len(choices)]
    return choice_score(extract_choice(final, labs, options=list(choices)), reference, labs)

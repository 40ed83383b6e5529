"""MMLU: 57-subject multiple choice, letter answer, zero-shot or k-shot from the dev split."""

from __future__ import annotations

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark, choice_score
from benchgate.datasets.base import DataSource
from benchgate.datasets.mmlu import LABELS, load_mmlu
from benchgate.records import Completion, Item, Score

INSTRUCTION = (
    "The following is a multiple choice question about {subject}. Answer with the letter "
    "of the correct option (A, B, C or D)."
)


def format_question(question: str, choices: list[str]) -> str:
    """Render a question and its options as ``A. ...`` lines, ending with ``Answer:``."""
    lines = [question.strip()]
    lines += [f"{label}. {str(choice).strip()}" for label, choice in zip(LABELS, choices)]
    return "\n".join(lines) + "\nAnswer:"


def multiple_choice_messages(
    instruction: str, question: str, choices: list[str], shots: list[tuple]
) -> list[dict[str, str]]:
    """Build chat messages: k exemplar turns (user question / assistant "Answer: X"), then
    the item's question. The instruction heads the first user turn.

    Args:
        instruction: the task instruction.
        question: the item's question.
        choices: its options in source order.
        shots: (question, choices, label) exemplars, possibly empty.
    """
    messages: list[dict[str, str]] = []
    for q, c, label in shots:
        messages.append({"role": "user", "content": format_question(q, c)})
        messages.append({"role": "assistant", "content": f"Answer: {label}"})
    messages.append({"role": "user", "content": format_question(question, choices)})
    messages[0] = {"role": "user", "content": f"{instruction}\n\n{messages[0]['content']}"}
    return messages


class MMLU(Benchmark):
    """MMLU (Hendrycks et al. 2021, arXiv 2009.03300), test split, chat prompt.

    ``--shots k`` (0-5) prepends k dev-split exemplars of the item's subject as chat turns.
    Extractor: :func:`benchgate.scoring.extract_choice` with labels ``ABCD``.
    """

    name = "mmlu"
    version = 1
    max_new_tokens = 256
    supports_shots = True

    def __init__(self, shots: int = 0) -> None:
        super().__init__(shots)
        self._dev: dict[str, list] = {}

    def load(self, source: DataSource) -> list[Item]:
        """Load test items (and dev exemplars for ``--shots``)."""
        items, self._dev = load_mmlu(source)
        return items

    def request(self, item: Item) -> Request:
        """Return the chat messages for ``item`` with ``shots`` dev exemplars."""
        subject = item.input["subject"]
        shots = self._dev.get(subject, [])[: self.shots]
        instruction = INSTRUCTION.format(subject=subject.replace("_", " "))
        return Request.from_messages(
            multiple_choice_messages(instruction, item.input["question"], item.input["choices"], shots),
            max_new_tokens=self.max_new_tokens,
        )

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the option letter and compare it with the reference letter."""
        from benchgate.scoring import extract_choice

        return choice_score(extract_choice(final, LABELS), item.reference, LABELS)

"""MMLU: 57-subject multiple choice, letter answer, zero-shot or k-shot from the dev split."""

from __future__ import annotations

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark, choice_score
from benchgate.benchmarks.choice import format_question, multiple_choice_messages
from benchgate.datasets.base import DataSource
from benchgate.datasets.mmlu import LABELS, load_mmlu
from benchgate.records import Completion, Item, Score

INSTRUCTION = (
    "The following is a multiple choice question about {subject}. Answer with the letter "
    "of the correct option (A, B, C or D)."
)

__all__ = ["INSTRUCTION", "MMLU", "format_question", "multiple_choice_messages"]


class MMLU(Benchmark):
    """MMLU (Hendrycks et al. 2021, arXiv 2009.03300), test split, chat prompt.

    ``--shots k`` (0-5) prepends k dev-split exemplars of the item's subject as chat turns.
    Extractor: :func:`benchgate.scoring.extract_choice` with labels ``ABCD``.
    """

    name = "mmlu"
    version = 1
    max_new_tokens = 256
    supports_shots = True

    def load(self, source: DataSource) -> list[Item]:
        """Load test items (and dev exemplars for ``--shots``)."""
        items, self.dev = load_mmlu(source)
        return items

    def request(self, item: Item) -> Request:
        """Return the chat messages for ``item`` with ``shots`` dev exemplars."""
        subject = item.input["subject"]
        shots = self.exemplars(subject)
        instruction = INSTRUCTION.format(subject=subject.replace("_", " "))
        return Request.from_messages(
            multiple_choice_messages(instruction, item.input["question"], item.input["choices"], shots),
            max_new_tokens=self.max_new_tokens,
        )

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the option letter and compare it with the reference letter."""
        from benchgate.scoring import extract_choice

        return choice_score(extract_choice(final, LABELS), item.reference, LABELS)

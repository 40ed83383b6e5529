"""PIQA: physical commonsense, choose the better of two solutions to a goal."""

from __future__ import annotations

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.benchmarks.choice import multiple_choice_messages, score_choice
from benchgate.datasets.base import DataSource
from benchgate.datasets.piqa import LABELS, load_piqa
from benchgate.records import Completion, Item, Score

INSTRUCTION = (
    "Choose the more appropriate solution to achieve the goal. Answer with the letter of "
    "the correct option (A or B)."
)


class PIQA(Benchmark):
    """PIQA (Bisk et al. 2020, AAAI, arXiv 1911.11641), validation split, zero-shot chat prompt.

    Options in source order (A = ``sol1``, B = ``sol2``). Extractor:
    :func:`benchgate.scoring.extract_choice` with labels ``AB`` and the two solutions'
    texts, so a reply that restates one solution instead of its letter still counts.
    """

    name = "piqa"
    version = 1
    max_new_tokens = 256

    def load(self, source: DataSource) -> list[Item]:
        """Load the validation split (see :func:`benchgate.datasets.piqa.load_piqa`)."""
        return load_piqa(source)

    def request(self, item: Item) -> Request:
        """Return the zero-shot user message for ``item``."""
        return Request.from_messages(
            multiple_choice_messages(
                INSTRUCTION, f"Goal: {item.input['goal']}", item.input["choices"], [], LABELS
            ),
            max_new_tokens=self.max_new_tokens,
        )

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the option letter (A or B) and compare it with the reference."""
        return score_choice(final, item.reference, item.input["choices"], LABELS)

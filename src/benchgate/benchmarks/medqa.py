"""MedQA (USMLE, 4 options): medical board-exam multiple choice."""

from __future__ import annotations

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.benchmarks.choice import multiple_choice_messages, score_choice
from benchgate.datasets.base import DataSource
from benchgate.datasets.medqa import LABELS, load_medqa
from benchgate.records import Completion, Item, Score

INSTRUCTION = (
    "The following is a multiple choice question from the United States Medical Licensing "
    "Examination (USMLE). Answer with the letter of the correct option (A, B, C or D)."
)


class MedQA(Benchmark):
    """MedQA (Jin et al. 2021, arXiv 2009.13081), USMLE 4-option test split, zero-shot.

    Options in source order A-D. Subject: the USMLE step (``step1`` | ``step2&3``).
    Extractor: :func:`benchgate.scoring.extract_choice` with labels ``ABCD`` and the
    option texts.
    """

    name = "medqa"
    version = 1
    max_new_tokens = 256

    def load(self, source: DataSource) -> list[Item]:
        """Load the test split (see :func:`benchgate.datasets.medqa.load_medqa`)."""
        return load_medqa(source)

    def request(self, item: Item) -> Request:
        """Return the zero-shot user message for ``item``."""
        return Request.from_messages(
            multiple_choice_messages(
                INSTRUCTION, item.input["question"], item.input["choices"], [], LABELS
            ),
            max_new_tokens=self.max_new_tokens,
        )

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the option letter and compare it with the reference letter."""
        return score_choice(final, item.reference, item.input["choices"], LABELS)

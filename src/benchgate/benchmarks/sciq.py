"""SciQ: crowd-sourced science exam questions, multiple choice with a support paragraph."""

from __future__ import annotations

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.benchmarks.choice import label_phrase, multiple_choice_messages, score_choice
from benchgate.datasets.base import DataSource
from benchgate.datasets.sciq import LABELS, load_sciq
from benchgate.records import Completion, Item, Score

INSTRUCTION = (
    "The following is a multiple choice science question. Answer with the letter of the "
    "correct option ({labels})."
)


class SciQ(Benchmark):
    """SciQ (Welbl et al. 2017, W-NUT, arXiv 1707.06209), test split, zero-shot chat prompt.

    Prompt: the item's ``support`` paragraph (when the source has one; 116 of 1000 test
    items have none), then the question and its options in the loader's content-hash order
    (:mod:`benchgate.datasets.sciq`), as in the SciQ paper's reading setting and
    lm-evaluation-harness's ``sciq`` task. Extractor:
    :func:`benchgate.scoring.extract_choice` with the item's labels and option texts.
    """

    name = "sciq"
    version = 1
    max_new_tokens = 256

    def load(self, source: DataSource) -> list[Item]:
        """Load the test split (see :func:`benchgate.datasets.sciq.load_sciq`)."""
        return load_sciq(source)

    def request(self, item: Item) -> Request:
        """Return the zero-shot user message for ``item``."""
        choices = item.input["choices"]
        labels = LABELS[: len(choices)]
        question = item.input["question"]
        if item.input.get("support"):
            question = f"{item.input['support']}\n\nQuestion: {question}"
        return Request.from_messages(
            multiple_choice_messages(
                INSTRUCTION.format(labels=label_phrase(labels)), question, choices, [], labels
            ),
            max_new_tokens=self.max_new_tokens,
        )

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the option letter and compare it with the reference letter."""
        return score_choice(final, item.reference, item.input["choices"], LABELS)

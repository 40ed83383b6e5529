"""GSM8K: grade-school math word problems, scored on the final number (exact match)."""

from __future__ import annotations

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.datasets.base import DataSource
from benchgate.datasets.gsm8k import load_gsm8k
from benchgate.records import Completion, Item, Score, Status

PROMPT = (
    "Solve the following math problem. End your reply with the sentence "
    '"The answer is" followed by the final number.\n\nQuestion: {question}'
)


class GSM8K(Benchmark):
    r"""GSM8K (Cobbe et al. 2021, arXiv 2110.14168), test split, zero-shot chat prompt.

    Extractor: :func:`benchgate.scoring.extract_number` on the final text (an explicit
    "The answer is" / ``####`` / ``\\boxed{}`` wins over the last number). Normaliser:
    canonical decimal strings compared numerically (:func:`numbers_equal`).
    """

    name = "gsm8k"
    version = 1
    max_new_tokens = 320

    def load(self, source: DataSource) -> list[Item]:
        """Load the test split (see :func:`benchgate.datasets.gsm8k.load_gsm8k`)."""
        return load_gsm8k(source)

    def request(self, item: Item) -> Request:
        """Return the zero-shot user message for ``item``."""
        return Request.from_messages(
            [{"role": "user", "content": PROMPT.format(question=item.input["question"])}],
            max_new_tokens=self.max_new_tokens,
        )

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the final number and compare it with the reference numerically."""
        from benchgate.scoring import extract_number
        from benchgate.scoring.normalize import numbers_equal

        # A chain of thought cut off by the token cap has no final answer yet: its last
        # number is an intermediate result, never scored.
        extracted = extract_number(final, last_number_fallback=completion.finish_reason != "length")
        if extracted is None:
            return Score(Status.NO_ANSWER, detail="no final number in the completion "
                         f"(finish_reason={completion.finish_reason})")
        ok = numbers_equal(extracted, item.reference)
        return Score(Status.CORRECT if ok else Status.INCORRECT, extracted=extracted)

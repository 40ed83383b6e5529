"""MGSM: GSM8K problems in 11 languages, scored on the final number (exact match)."""

from __future__ import annotations

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.datasets.base import DataSource
from benchgate.datasets.mgsm import load_mgsm
from benchgate.records import Completion, Item, Score, Status

#: The instruction is in English for every language (the question stays in its own
#: language), as in MGSM's "English chain-of-thought" setting (Shi et al. 2022, EN-CoT):
#: one prompt to maintain, and small models follow English instructions most reliably.
#: The extractor also reads the native phrases ("La respuesta es", "答案是", "Jibu ni"...).
PROMPT = (
    "Solve the following math problem. End your reply with the sentence "
    '"The answer is" followed by the final number.\n\nQuestion: {question}'
)

#: Languages whose number format writes "," as the decimal separator and "." between
#: thousands ("1.250,5"); MGSM answers there are read with ``decimal_comma=True``.
DECIMAL_COMMA = frozenset({"de", "es", "fr", "ru"})


class MGSM(Benchmark):
    """MGSM (Shi et al. 2022, arXiv 2210.03057), all 11 languages x 250 problems, zero-shot.

    Subject: the language, so per-subject accuracy is per-language accuracy. Extractor:
    :func:`benchgate.scoring.extract_number` (``decimal_comma`` for German, Spanish,
    French and Russian: ``1.250`` -> 1250, ``3,5`` -> 3.5). Normaliser: canonical decimal
    strings compared numerically (:func:`benchgate.scoring.normalize.numbers_equal`).
    """

    name = "mgsm"
    version = 1
    max_new_tokens = 320

    def load(self, source: DataSource) -> list[Item]:
        """Load all languages (see :func:`benchgate.datasets.mgsm.load_mgsm`)."""
        return load_mgsm(source)

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

        extracted = extract_number(final, decimal_comma=item.input["language"] in DECIMAL_COMMA)
        if extracted is None:
            return Score(Status.NO_ANSWER, detail="no number found in the completion")
        ok = numbers_equal(extracted, item.reference)
        return Score(Status.CORRECT if ok else Status.INCORRECT, extracted=extracted)

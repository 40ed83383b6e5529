"""MGSM: GSM8K problems in 11 languages, scored on the final number (exact match)."""

from __future__ import annotations

from decimal import Decimal

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
#: thousands ("1.250,5"); MGSM answers there are read with ``decimal_comma=True`` first.
DECIMAL_COMMA = frozenset({"de", "es", "fr", "ru"})


def _is_integer(canonical: str) -> bool:
    return "." not in canonical


def mgsm_number(final: str, language: str, last_number_fallback: bool = True) -> str | None:
    """Extract MGSM's final number, resolving the ``,``/``.`` separator ambiguity.

    The number is read in the language's convention first (``decimal_comma`` for
    :data:`DECIMAL_COMMA`). Every MGSM answer is an integer (a property of the benchmark,
    not of an item), so when that reading is a fraction and the other convention reads
    the same text as exactly 1000 times it, an integer (one separator followed by three
    digits: ``2,500`` / ``2.500``), the integer wins: both read 2500 in every language
    (models answering German questions often write English-style numbers and vice versa),
    while ``3,5`` in German and ``3.5`` in English still read 3.5.

    Args:
        final: the completion's final text.
        language: the item's language code.
        last_number_fallback: whether the last number counts when no answer marker is found
            (False for completions cut off by the token cap).

    Returns:
        A canonical decimal string, or None when the text states no number.
    """
    from benchgate.scoring import extract_number

    native = language in DECIMAL_COMMA
    first = extract_number(final, decimal_comma=native, last_number_fallback=last_number_fallback)
    if first is None or _is_integer(first):
        return first
    other = extract_number(final, decimal_comma=not native, last_number_fallback=last_number_fallback)
    if other is not None and _is_integer(other) and Decimal(other) == Decimal(first) * 1000:
        return other
    return first


class MGSM(Benchmark):
    """MGSM (Shi et al. 2022, arXiv 2210.03057), all 11 languages x 250 problems, zero-shot.

    Subject: the language, so per-subject accuracy is per-language accuracy. Extractor:
    :func:`mgsm_number` (:func:`benchgate.scoring.extract_number` in the language's
    number convention, with the integer rule for ``1,250`` / ``1.250``). Normaliser:
    canonical decimal strings compared numerically
    (:func:`benchgate.scoring.normalize.numbers_equal`).
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
        from benchgate.scoring.normalize import numbers_equal

        extracted = mgsm_number(final, item.input["language"], completion.finish_reason != "length")
        if extracted is None:
            return Score(Status.NO_ANSWER, detail="no number found in the completion")
        ok = numbers_equal(extracted, item.reference)
        return Score(Status.CORRECT if ok else Status.INCORRECT, extracted=extracted)

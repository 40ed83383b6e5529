r"""MGSM: GSM8K problems in 11 languages, scored on the final number (exact match).

Data: MGSM (Shi et al. 2022, arXiv 2210.03057): 250 GSM8K test problems in 11 languages.

The English problems and their translations into 10 languages. Local
``mgsm/mgsm_<lang>.tsv`` or hub ``juletxara/mgsm``.

Local format (shared/data/SOURCES.md): TSV, UTF-8, no header, 250 lines per language:
``<question>\t<numeric answer>`` (answers may carry thousands commas: ``2,125``). Hub
format: one config per language, split ``test``, fields ``question`` and ``answer_number``.

Item ids: ``<lang>-<n>``, n = the 1-based line (row) number. The source has no ids, and its
line numbers are its own identity: line n is the same problem in every language, which is
what lets MGSM compare languages item by item. Subject = the language code.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark, number_score, question_of
from benchgate.data.files import read_text_lines
from benchgate.data.sources import DataSource, load_hub
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Completion, Item, Score

if TYPE_CHECKING:
    from benchgate.scoring.extract import Extraction

HUB_REPO = "juletxara/mgsm"
#: Hub revision of juletxara/mgsm. Its ``main`` branch was a loading script (not run by
#: ``datasets`` >= 4), so the Hub's Parquet conversion is read. A branch name, not a commit:
#: the dataset hash recorded with every run refuses to pair runs whose items differ.
HUB_REVISION = "refs/convert/parquet"

#: MGSM's 11 languages (ISO 639-1), in the source's file order.
LANGUAGES = ("bn", "de", "en", "es", "fr", "ja", "ru", "sw", "te", "th", "zh")
#: Language names, used in reports and prompts.
LANGUAGE_NAMES = {
    "bn": "Bengali",
    "de": "German",
    "en": "English",
    "es": "Spanish",
    "fr": "French",
    "ja": "Japanese",
    "ru": "Russian",
    "sw": "Swahili",
    "te": "Telugu",
    "th": "Thai",
    "zh": "Chinese",
}
_FIX = "restore mgsm/mgsm_<lang>.tsv from google-research/url-nlp (see SOURCES.md)"


def _reference(value: object, where: str) -> str:
    from benchgate.scoring.normalize import canonical_number

    try:
        return canonical_number(str(value).strip())
    except ValueError:
        raise DataFormatError(f"{where}: answer {value!r} is not a number. Fix: {_FIX}.") from None


def _item(lang: str, n: int, question: str, reference: str) -> Item:
    return Item(
        id=f"{lang}-{n}",
        benchmark="mgsm",
        input={"question": question.strip(), "language": lang},
        reference=reference,
        subject=lang,
    )


def load_mgsm(source: DataSource, languages: tuple[str, ...] = LANGUAGES) -> list[Item]:
    """Load MGSM: 250 problems in each of ``languages`` (2750 items for all 11).

    Args:
        source: ``data_dir/mgsm/mgsm_<lang>.tsv`` when a data dir is set, else the hub.
        languages: language codes to load (default: all 11).

    Returns:
        Items with ``input = {question, language}``, the canonical answer number as
        reference and the language code as subject, ordered by language then line.

    Raises:
        DataUnavailableError: a language's file is missing / hub unreachable.
        DataFormatError: a line without exactly one tab, an empty question or a
            non-numeric answer (file and line named).
    """
    items: list[Item] = []
    if source.data_dir is not None:
        folder = source.folder("mgsm", "mgsm_<lang>.tsv for the 11 languages")
        for lang in languages:
            path = folder / f"mgsm_{lang}.tsv"
            if not path.is_file():
                raise DataUnavailableError(
                    f"{path} not found (MGSM needs all of {', '.join(languages)}). Fix: {_FIX}."
                )
            for n, line in enumerate(read_text_lines(path, _FIX), start=1):
                where = f"{path}, line {n}"
                fields = line.split("\t")
                if len(fields) != 2 or not fields[0].strip():
                    raise DataFormatError(
                        f"{where}: expected '<question><TAB><answer>', got {len(fields)} "
                        f"tab-separated field(s). Fix: {_FIX}."
                    )
                items.append(_item(lang, n, fields[0], _reference(fields[1], where)))
        return items
    for lang in languages:
        where = f"hub {HUB_REPO}@{HUB_REVISION} config {lang}"
        rows = load_hub(source, HUB_REPO, HUB_REVISION, name=lang, split="test")
        for n, row in enumerate(rows, start=1):
            row = dict(row)
            if not str(row.get("question") or "").strip() or row.get("answer_number") is None:
                raise DataFormatError(
                    f"{where}, row {n}: missing field 'question' or 'answer_number'."
                )
            reference = _reference(row["answer_number"], f"{where}, row {n}")
            items.append(_item(lang, n, str(row["question"]), reference))
    return items


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


def mgsm_extraction(
    final: str, language: str, last_number_fallback: bool = True, question: str | None = None
) -> Extraction:
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
        question: the item's question (restated vs invented continuation pieces).

    Returns:
        The :class:`~benchgate.scoring.extract.Extraction` (canonical decimal or None, rule).
    """
    from benchgate.scoring import number_extraction

    native = language in DECIMAL_COMMA
    first = number_extraction(
        final, decimal_comma=native, last_number_fallback=last_number_fallback, question=question
    )
    if first.answer is None or _is_integer(first.answer):
        return first
    other = number_extraction(
        final, decimal_comma=not native, last_number_fallback=last_number_fallback,
        question=question,
    )
    if (
        other.answer is not None
        and _is_integer(other.answer)
        and Decimal(other.answer) == Decimal(first.answer) * 1000
    ):
        return other
    return first


def mgsm_number(final: str, language: str, last_number_fallback: bool = True) -> str | None:
    """The number of :func:`mgsm_extraction` alone: a canonical decimal string, or None."""
    return mgsm_extraction(final, language, last_number_fallback).answer


class MGSM(Benchmark):
    """MGSM (Shi et al. 2022, arXiv 2210.03057), all 11 languages x 250 problems, zero-shot.

    Subject: the language, so per-subject accuracy is per-language accuracy. Extractor:
    :func:`mgsm_number` (:func:`benchgate.scoring.extract_number` in the language's
    number convention, with the integer rule for ``1,250`` / ``1.250``). Normaliser:
    canonical decimal strings compared numerically
    (:func:`benchgate.scoring.normalize.numbers_equal`).
    """

    name = "mgsm"
    category = "math"
    #: 2: answer markers in every MGSM language, restated questions, negated numbers,
    #: scientific notation, space thousands groups.
    version = 2
    max_new_tokens = 320

    def load(self, source: DataSource) -> list[Item]:
        """Load all languages (see :func:`load_mgsm`)."""
        return load_mgsm(source)

    def request(self, item: Item) -> Request:
        """Return the zero-shot user message for ``item``."""
        return Request.from_messages(
            [{"role": "user", "content": PROMPT.format(question=item.input["question"])}],
            max_new_tokens=self.max_new_tokens,
        )

    def extract(self, item: Item, text: str, *, fallback: bool = True) -> Extraction:
        """Read the final number of ``text`` in the item's language (see mgsm_extraction)."""
        return mgsm_extraction(text, item.input["language"], fallback, question_of(item))

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the final number and compare it with the reference numerically."""
        from benchgate.scoring.normalize import numbers_equal

        found = self.extract(item, final, fallback=completion.finish_reason != "length")
        return number_score(
            found, lambda x: numbers_equal(x, item.reference), completion.finish_reason
        )

r"""MGSM (Shi et al. 2022, arXiv 2210.03057): 250 GSM8K test problems in 11 languages.

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

from benchgate.datasets._files import read_text_lines
from benchgate.datasets.base import DataSource, load_hub
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Item

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

"""MedQA (USMLE, 4 options): medical board-exam multiple choice.

Data: MedQA, USMLE 4-option test split (Jin et al. 2021), local or from the hub.

Local: ``medqa/phrases_no_exclude_test.jsonl``; hub: ``GBaker/MedQA-USMLE-4-options``.

Format (both sources): ``question`` (str), ``options`` (object ``A``..``D`` -> str),
``answer_idx`` (``A``-``D``), ``answer`` (the correct option's text), ``meta_info``
(``step1`` | ``step2&3``), ``metamap_phrases``.

Options keep the source order A-D. Item ids are content hashes of the question and options
(the source has no ids). Subject = ``meta_info`` normalised by :func:`normalize_step`: the
local file spells one item's ``meta_info`` ``stfep2&3`` (line 72), which an independent copy
spells ``step2&3``.
"""

from __future__ import annotations

import re
from typing import Any

from benchgate.backends.base import Request
from benchgate.benchmarks.choice import ChoiceBenchmark, multiple_choice_messages
from benchgate.data.sources import (
    DataSource,
    content_id,
    load_hub,
    make_unique,
    read_jsonl,
    require_fields,
)
from benchgate.errors import DataFormatError
from benchgate.records import Item

HUB_REPO = "GBaker/MedQA-USMLE-4-options"
#: Pinned hub commit of GBaker/MedQA-USMLE-4-options (config "default").
HUB_REVISION = "0fb93dd23a7339b6dcd27e241cb9b5eca62d4d18"
LABELS = "ABCD"
_FIX = "restore medqa/phrases_no_exclude_test.jsonl from the MedQA release (see SOURCES.md)"


def normalize_step(meta_info: Any) -> str:
    """Normalise MedQA's ``meta_info`` to ``step1`` or ``step2&3``.

    Rule: a value naming 2 or 3 (``step2&3``, the typo ``stfep2&3``, ``Step 2/3``) is
    ``step2&3``; one naming 1 only is ``step1``; anything else is kept, lower-cased and
    stripped.
    """
    text = str(meta_info).strip().lower()
    digits = set(re.findall(r"[123]", text))
    if digits & {"2", "3"}:
        return "step2&3"
    if digits == {"1"}:
        return "step1"
    return text


def _items(rows: list[dict[str, Any]], where: str) -> list[Item]:
    built = []
    for index, row in enumerate(rows, start=1):
        at = f"{where}, line {index}"
        require_fields(row, ("question", "options", "answer_idx"), at)
        options = row["options"]
        complete = isinstance(options, dict) and all(
            str(options.get(k) or "").strip() for k in LABELS
        )
        if not complete:
            raise DataFormatError(
                f"{at}: field 'options' must map A, B, C and D to option texts, got {options!r}. "
                f"Fix: {_FIX}."
            )
        answer = str(row["answer_idx"]).strip().upper()
        if answer not in LABELS:
            raise DataFormatError(
                f"{at}: field 'answer_idx' is {row['answer_idx']!r}, expected one of A-D. "
                f"Fix: {_FIX}."
            )
        text = row.get("answer")
        if text is not None and str(text).strip() != str(options[answer]).strip():
            raise DataFormatError(
                f"{at}: field 'answer' ({row['answer']!r}) is not the text of option {answer} "
                f"({options[answer]!r}). Fix: {_FIX}."
            )
        question = str(row["question"]).strip()
        choices = [str(options[k]).strip() for k in LABELS]
        step = normalize_step(row.get("meta_info", "unknown"))
        built.append((content_id(question, *choices), question, choices, answer, step))
    ids = make_unique([b[0] for b in built])
    return [
        Item(id=i, benchmark="medqa", input={"question": q, "choices": c}, reference=a, subject=s)
        for i, (_, q, c, a, s) in zip(ids, built, strict=False)
    ]


def load_medqa(source: DataSource) -> list[Item]:
    """Load the 1273 MedQA (USMLE, 4 options) test items.

    Args:
        source: ``data_dir/medqa/phrases_no_exclude_test.jsonl`` when a data dir is set,
            else the hub (split ``test``).

    Returns:
        Items with ``input = {question, choices (A-D)}``, the answer letter as reference and
        the normalised USMLE step as subject.

    Raises:
        DataUnavailableError: no file / hub unreachable.
        DataFormatError: a malformed line, a missing field, options other than A-D, an
            ``answer_idx`` outside A-D, or an ``answer`` text that is not that option's.
    """
    if source.data_dir is not None:
        name = "phrases_no_exclude_test.jsonl"
        path = source.folder("medqa", name) / name
        return _items(read_jsonl(path), str(path))
    ds = load_hub(source, HUB_REPO, HUB_REVISION, split="test")
    return _items([dict(r) for r in ds], f"hub {HUB_REPO}@{HUB_REVISION[:12]}")


INSTRUCTION = (
    "The following is a multiple choice question from the United States Medical Licensing "
    "Examination (USMLE). Answer with the letter of the correct option (A, B, C or D)."
)


class MedQA(ChoiceBenchmark):
    """MedQA (Jin et al. 2021, arXiv 2009.13081), USMLE 4-option test split, zero-shot.

    Options in source order A-D. Subject: the USMLE step (``step1`` | ``step2&3``).
    Extractor: :func:`benchgate.scoring.extract_choice` with labels ``ABCD`` and the
    option texts.
    """

    name = "medqa"
    category = "medical"
    #: 2: the shared choice scoring path (multilingual markers, restated questions).
    version = 2
    max_new_tokens = 256

    def load(self, source: DataSource) -> list[Item]:
        """Load the test split (see :func:`load_medqa`)."""
        return load_medqa(source)

    def request(self, item: Item) -> Request:
        """Return the zero-shot user message for ``item``."""
        return Request.from_messages(
            multiple_choice_messages(
                INSTRUCTION, item.input["question"], item.input["choices"], [], LABELS
            ),
            max_new_tokens=self.max_new_tokens,
        )

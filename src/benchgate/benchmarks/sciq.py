"""SciQ: crowd-sourced science exam questions, multiple choice with a support paragraph.

Data: SciQ test split (Welbl et al. 2017): local ``sciq/sciq_test.json`` or hub ``allenai/sciq``.

Local format (shared/data/SOURCES.md): one JSON array of 1000 objects with the original
fields ``question``, ``correct_answer``, ``distractor1..3``, ``support`` and the mirror's
``id`` (``sciq_test_1`` ... in the official order). Hub format (``allenai/sciq``, split
``test``): the same original fields, no id.

Item ids: the source's ``id`` where it has one, else a content hash of the question and the
correct answer.

Repeated options: 9 test items repeat an option text, two of them the correct answer
(``sciq_test_719``: "evaporation" twice; ``sciq_test_885``: "five" twice). A repeated text
is shown once (:func:`distinct_options`), so those items have three options (A-C) and
exactly one right one.

Option order: SciQ has none (one correct answer plus three distractors), and listing the
correct answer first would make the answer always A. Options are therefore sorted by
``sha256(question, role, option text)`` (role = ``correct``/``distractor1``...), a fixed
pseudo-random order that depends only on the item's content, so it is the same on every run,
machine and Python version, and the correct answer's position is near-uniform over A-D
(on the real test split: 252 A, 227 B, 271 C, 250 D).
"""

from __future__ import annotations

import hashlib
from typing import Any

from benchgate.backends.base import Request
from benchgate.benchmarks.choice import ChoiceBenchmark, label_phrase, multiple_choice_messages
from benchgate.data.files import read_json_array
from benchgate.data.sources import DataSource, content_id, load_hub, make_unique, require_fields
from benchgate.errors import DataFormatError
from benchgate.records import Item

HUB_REPO = "allenai/sciq"
#: Pinned hub commit of allenai/sciq (parquet, config "default").
HUB_REVISION = "2c94ad3e1aafab77146f384e23536f97a4849815"
LABELS = "ABCD"
_FIX = "restore sciq/sciq_test.json from the source named in shared/data/SOURCES.md"
_FIELDS = ("question", "correct_answer", "distractor1", "distractor2", "distractor3")


def clean_option(text: Any) -> str:
    """Strip whitespace and zero-width spaces (U+200B, which the hub's distractors carry)."""
    return str(text).replace("\u200b", "").strip()


def distinct_options(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Drop options whose text (case-insensitive) repeats an earlier one.

    The correct answer comes first, so it is always kept and an item never has two right
    options.

    Args:
        pairs: (role, text) pairs, the correct answer first.

    Returns:
        The pairs with repeated texts removed, in the same order.
    """
    seen: set[str] = set()
    out = []
    for role, text in pairs:
        if text.casefold() not in seen:
            seen.add(text.casefold())
            out.append((role, text))
    return out


def option_order(question: str, options: list[tuple[str, str]]) -> list[tuple[str, str]]:
    r"""Return ``options`` in SciQ's deterministic content-hash order (see module docstring).

    Args:
        question: the question text.
        options: (role, text) pairs, e.g. ``[("correct", "oxidants"), ("distractor1", ...)]``.

    Returns:
        The same pairs sorted by ``sha256(question \x1f role \x1f text)``.
    """

    def key(pair: tuple[str, str]) -> str:
        role, text = pair
        return hashlib.sha256(f"{question}\x1f{role}\x1f{text}".encode()).hexdigest()

    return sorted(options, key=key)


def _items(rows: list[dict[str, Any]], where: str, line_word: str) -> list[Item]:
    built = []
    for index, row in enumerate(rows, start=1):
        at = f"{where}, {line_word} {index}"
        require_fields(row, _FIELDS, at)
        question = str(row["question"]).strip()
        pairs = [("correct", clean_option(row["correct_answer"]))]
        pairs += [(f"distractor{k}", clean_option(row[f"distractor{k}"])) for k in (1, 2, 3)]
        if any(not text for _, text in pairs) or not question:
            raise DataFormatError(f"{at}: an empty question or option. Fix: {_FIX}.")
        pairs = distinct_options(pairs)
        ordered = option_order(question, pairs)
        reference = LABELS[[role for role, _ in ordered].index("correct")]
        raw_id = row.get("id")
        built.append(
            (
                str(raw_id) if raw_id is not None else content_id(question, pairs[0][1]),
                {
                    "question": question,
                    "choices": [text for _, text in ordered],
                    "support": str(row.get("support") or "").strip(),
                },
                reference,
            )
        )
    ids = make_unique([b[0] for b in built])
    return [
        Item(id=i, benchmark="sciq", input=inp, reference=ref)
        for i, (_, inp, ref) in zip(ids, built, strict=False)
    ]


def load_sciq(source: DataSource) -> list[Item]:
    """Load the 1000 SciQ test items.

    Args:
        source: ``data_dir/sciq/sciq_test.json`` when a data dir is set, else the hub.

    Returns:
        Items with ``input = {question, choices (3-4, hash order), support}`` and the correct
        option's label as reference; no subject (SciQ has none).

    Raises:
        DataUnavailableError: no file / hub unreachable.
        DataFormatError: malformed file, missing field or empty question/option.
    """
    if source.data_dir is not None:
        folder = source.folder("sciq", "sciq_test.json, a JSON array of SciQ test items")
        path = folder / "sciq_test.json"
        return _items(read_json_array(path, _FIX), str(path), "item")
    ds = load_hub(source, HUB_REPO, HUB_REVISION, split="test")
    return _items([dict(r) for r in ds], f"hub {HUB_REPO}@{HUB_REVISION[:12]}", "row")


INSTRUCTION = (
    "The following is a multiple choice science question. Answer with the letter of the "
    "correct option ({labels})."
)


class SciQ(ChoiceBenchmark):
    """SciQ (Welbl et al. 2017, W-NUT, arXiv 1707.06209), test split, zero-shot chat prompt.

    Prompt: the item's ``support`` paragraph (when the source has one; 116 of 1000 test
    items have none), then the question and its options in the loader's content-hash order
    (:func:`option_order` above), as in the SciQ paper's reading setting and
    lm-evaluation-harness's ``sciq`` task. Extractor:
    :func:`benchgate.scoring.extract_choice` with the item's labels and option texts.
    """

    name = "sciq"
    category = "science"
    #: 2: the shared choice scoring path (multilingual markers, restated questions).
    version = 2
    max_new_tokens = 256

    def load(self, source: DataSource) -> list[Item]:
        """Load the test split (see :func:`load_sciq`)."""
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

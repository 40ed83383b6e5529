"""GSM8K: grade-school math word problems, scored on the final number (exact match).

Data: GSM8K test split (Cobbe et al. 2021): local ``gsm8k/test.jsonl`` or hub ``openai/gsm8k``.

Format (both sources): ``question`` (str) and ``answer`` (worked solution whose last line
is ``#### <number>``). Item ids are content hashes of the question (the source has no ids).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark, number_score, question_of
from benchgate.data.sources import (
    DataSource,
    content_id,
    load_hub,
    make_unique,
    read_jsonl,
    require_fields,
)
from benchgate.errors import DataFormatError
from benchgate.records import Completion, Item, Score

if TYPE_CHECKING:
    from benchgate.scoring.extract import Extraction

HUB_REPO = "openai/gsm8k"
#: Pinned hub commit of openai/gsm8k (config "main").
HUB_REVISION = "740312add88f781978c0658806c59bc2815b9866"

_FINAL = re.compile(r"####\s*(-?[\d,]*\.?\d+)\s*$")


def reference_number(answer: str, where: str) -> str:
    """Return the canonical number after ``####`` in a GSM8K answer.

    Raises:
        DataFormatError: no ``#### <number>`` line (names ``where``).
    """
    match = _FINAL.search(answer.strip())
    if not match:
        raise DataFormatError(
            f"{where}: field 'answer' has no final '#### <number>' line. Fix: restore the "
            "file from openai/grade-school-math."
        )
    from benchgate.scoring import extract_number

    number = extract_number(match.group(1).replace(",", ""))
    assert number is not None  # the regex matched a number
    return number


def _items(rows: list[dict], where: str) -> list[Item]:
    refs = []
    for index, row in enumerate(rows, start=1):
        require_fields(row, ("question", "answer"), f"{where}, line {index}")
        refs.append(reference_number(str(row["answer"]), f"{where}, line {index}"))
    ids = make_unique([content_id(str(r["question"])) for r in rows])
    return [
        Item(
            id=i,
            benchmark="gsm8k",
            input={"question": r["question"], "solution": r["answer"]},
            reference=ref,
        )
        for i, r, ref in zip(ids, rows, refs, strict=True)
    ]


def load_gsm8k(source: DataSource) -> list[Item]:
    """Load the 1319 GSM8K test items.

    Args:
        source: ``data_dir/gsm8k/test.jsonl`` when a data dir is set, else the hub.

    Returns:
        Items with ``input = {question, solution}`` and the final number as reference.

    Raises:
        DataUnavailableError: no file / hub unreachable.
        DataFormatError: a line is malformed or lacks ``question``/``answer``.
    """
    if source.data_dir is not None:
        path = source.folder("gsm8k", "test.jsonl from openai/grade-school-math") / "test.jsonl"
        return _items(read_jsonl(path), str(path))
    ds = load_hub(source, HUB_REPO, HUB_REVISION, name="main", split="test")
    return _items([dict(r) for r in ds], f"hub {HUB_REPO}@{HUB_REVISION[:12]}")


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
    category = "math"
    #: 2: restated questions, negated numbers, scientific notation, space thousands groups.
    version = 2
    max_new_tokens = 320

    def load(self, source: DataSource) -> list[Item]:
        """Load the test split (see :func:`load_gsm8k`)."""
        return load_gsm8k(source)

    def request(self, item: Item) -> Request:
        """Return the zero-shot user message for ``item``."""
        return Request.from_messages(
            [{"role": "user", "content": PROMPT.format(question=item.input["question"])}],
            max_new_tokens=self.max_new_tokens,
        )

    def extract(self, item: Item, text: str, *, fallback: bool = True) -> Extraction:
        """Read the final number of ``text`` (the item's question tells restated pieces)."""
        from benchgate.scoring import number_extraction

        return number_extraction(text, last_number_fallback=fallback, question=question_of(item))

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the final number and compare it with the reference numerically."""
        from benchgate.scoring.normalize import numbers_equal

        # A chain of thought cut off by the token cap has no final answer yet: its last
        # number is an intermediate result, never scored.
        found = self.extract(item, final, fallback=completion.finish_reason != "length")
        return number_score(
            found, lambda x: numbers_equal(x, item.reference), completion.finish_reason
        )

"""MMLU: 57-subject multiple choice, letter answer, zero-shot or k-shot from the dev split.

Data: MMLU (Hendrycks et al. 2021) from local subject CSVs or the hub (``cais/mmlu``).

Local: ``mmlu/{test,dev}/<subject>_{test,dev}.csv``.

Local format (shared/data/SOURCES.md): CSV with header ``question,choice0..choice3,answer``,
answer = 0-based index. The original Berkeley layout (no header, answer letter) is accepted
too. Hub format: ``question``, ``subject``, ``choices`` (4 str), ``answer`` (int).
Item ids: ``<subject>-<content hash>``; 27 exact duplicates in the test split get ``-2``.
"""

from __future__ import annotations

import csv
from collections import defaultdict
from pathlib import Path

from benchgate.backends.base import Request
from benchgate.benchmarks.choice import (
    ChoiceBenchmark,
    format_question,
    multiple_choice_messages,
)
from benchgate.data.sources import DataSource, content_id, load_hub, make_unique
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Item

HUB_REPO = "cais/mmlu"
#: Pinned hub commit of cais/mmlu (config "all").
HUB_REVISION = "c30699e8356da336a370243923dbaf21066bb9fe"
LABELS = "ABCD"


def _read_csv(path: Path) -> list[tuple[str, list[str], int]]:
    """Read one subject file into (question, choices, answer index) rows.

    Raises:
        DataFormatError: wrong columns or a bad row (names file and row).
    """
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataFormatError(f"{path}: not a UTF-8 CSV file ({exc}). Fix: restore it.") from None
    if not rows:
        raise DataFormatError(f"{path}: empty file. Fix: restore it from the source.")
    start = 0
    if rows[0] and rows[0][0] == "question":
        expected = ["question", "choice0", "choice1", "choice2", "choice3", "answer"]
        if rows[0] != expected:
            raise DataFormatError(
                f"{path}, row 1: header is {rows[0]}, expected {expected}. Fix: use the "
                "cais/mmlu CSV layout or the original headerless layout."
            )
        start = 1
    out = []
    for number, row in enumerate(rows[start:], start=start + 1):
        if not row:
            continue
        if len(row) != 6:
            raise DataFormatError(
                f"{path}, row {number}: {len(row)} columns, expected 6 (question, 4 choices, "
                "answer); the file may be truncated. Fix: restore it from the source."
            )
        answer = row[5].strip()
        if answer in ("0", "1", "2", "3"):
            index = int(answer)
        elif answer in LABELS:
            index = LABELS.index(answer)
        else:
            raise DataFormatError(
                f"{path}, row {number}, field 'answer': {answer!r} is neither 0-3 nor A-D. "
                "Fix: restore the file from the source."
            )
        out.append((row[0], row[1:5], index))
    return out


def _subject_files(folder: Path, split: str) -> dict[str, Path]:
    suffix = f"_{split}.csv"
    return {p.name[: -len(suffix)]: p for p in sorted(folder.glob(f"*{suffix}"))}


def _make_items(rows: list[tuple[str, str, list[str], int]], benchmark: str) -> list[Item]:
    ids = make_unique([f"{s}-{content_id(q, *c)}" for s, q, c, _ in rows])
    return [
        Item(
            id=i,
            benchmark=benchmark,
            input={"question": q, "choices": list(c), "subject": s},
            reference=LABELS[a],
            subject=s,
        )
        for i, (s, q, c, a) in zip(ids, rows, strict=True)
    ]


def load_mmlu_local(folder: Path, benchmark: str = "mmlu") -> tuple[list[Item], dict[str, list]]:
    """Load test items and dev exemplars from an MMLU-layout folder (also used by LegalQA).

    Args:
        folder: holds ``test/<subject>_test.csv`` and optionally ``dev/<subject>_dev.csv``.
        benchmark: the benchmark name to put on items.

    Returns:
        (test items, dev exemplars by subject as (question, choices, label) tuples).

    Raises:
        DataUnavailableError: no test files.
        DataFormatError: a malformed file.
    """
    tests = _subject_files(folder / "test", "test")
    if not tests:
        raise DataUnavailableError(
            f"{folder / 'test'} holds no <subject>_test.csv files. Fix: point --data-dir at a "
            "directory laid out as shared/data (see its SOURCES.md)."
        )
    rows = [(s, q, c, a) for s, p in tests.items() for q, c, a in _read_csv(p)]
    dev: dict[str, list] = defaultdict(list)
    for s, p in _subject_files(folder / "dev", "dev").items():
        dev[s] = [(q, c, LABELS[a]) for q, c, a in _read_csv(p)]
    return _make_items(rows, benchmark), dict(dev)


def load_mmlu_hub(source: DataSource) -> tuple[list[Item], dict[str, list]]:
    """Load MMLU test items and dev exemplars from the hub (``cais/mmlu``, config ``all``).

    Raises:
        DataUnavailableError: hub unreachable.
        DataFormatError: a row lacks a field.
    """
    test = load_hub(source, HUB_REPO, HUB_REVISION, name="all", split="test")
    dev_rows = load_hub(source, HUB_REPO, HUB_REVISION, name="all", split="dev")
    where = f"hub {HUB_REPO}@{HUB_REVISION[:12]}"

    def rows(ds, split):
        out = []
        for n, r in enumerate(ds, start=1):
            r = dict(r)
            for f in ("question", "subject", "choices", "answer"):
                if f not in r:
                    raise DataFormatError(f"{where} {split} row {n}: missing field '{f}'.")
            out.append((r["subject"], r["question"], list(r["choices"]), int(r["answer"])))
        return out

    dev: dict[str, list] = defaultdict(list)
    for s, q, c, a in rows(dev_rows, "dev"):
        dev[s].append((q, c, LABELS[a]))
    return _make_items(rows(test, "test"), "mmlu"), dict(dev)


def load_mmlu(source: DataSource) -> tuple[list[Item], dict[str, list]]:
    """Load MMLU from ``data_dir/mmlu`` or the hub; see :func:`load_mmlu_local`."""
    if source.data_dir is not None:
        return load_mmlu_local(source.folder("mmlu", "test/ and dev/ subject CSVs"))
    return load_mmlu_hub(source)


INSTRUCTION = (
    "The following is a multiple choice question about {subject}. Answer with the letter "
    "of the correct option (A, B, C or D)."
)

__all__ = ["INSTRUCTION", "MMLU", "format_question", "multiple_choice_messages"]


class MMLU(ChoiceBenchmark):
    """MMLU (Hendrycks et al. 2021, arXiv 2009.03300), test split, chat prompt.

    ``--shots k`` (0-5) prepends k dev-split exemplars of the item's subject as chat turns.
    Extractor: the shared choice path (:class:`~benchgate.benchmarks.choice.ChoiceBenchmark`):
    :func:`benchgate.scoring.extract_choice` with labels ``ABCD``, the option texts and
    the question.
    """

    name = "mmlu"
    category = "knowledge"
    #: 2: the shared choice scoring path (multilingual markers, restated questions).
    version = 2
    max_new_tokens = 256
    supports_shots = True

    def load(self, source: DataSource) -> list[Item]:
        """Load test items (and dev exemplars for ``--shots``)."""
        items, self.dev = load_mmlu(source)
        return items

    def request(self, item: Item) -> Request:
        """Return the chat messages for ``item`` with ``shots`` dev exemplars."""
        subject = item.input["subject"]
        shots = self.exemplars(subject)
        instruction = INSTRUCTION.format(subject=subject.replace("_", " "))
        return Request.from_messages(
            multiple_choice_messages(
                instruction, item.input["question"], item.input["choices"], shots
            ),
            max_new_tokens=self.max_new_tokens,
        )

"""DialogSum test split (Chen et al. 2021, Findings of ACL), read from local files.

File: ``dialogsum/dialogsum.test.jsonl``.

Format (shared/data/SOURCES.md; cylnlp/dialogsum): JSON Lines, 500 objects with ``fname``
(``test_0`` ... ``test_499``), ``dialogue`` (turns ``#Person1#: ...`` separated by
newlines), three human reference summaries ``summary1..3`` and topics ``topic1..3``.

Item ids: the source's ``fname``. Reference: the three summaries (a list); the scorer takes
the best ROUGE-L over them. No subject (the topics are free text, one per annotator).

Only local files are read: the hub copies split each dialogue into three rows and none
could be pinned offline, so without ``--data-dir`` the benchmark is skipped with the reason.
"""

from __future__ import annotations

import re
from typing import Any

from benchgate.datasets.base import DataSource, make_unique, read_jsonl, require_fields
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Item

_FIX = "restore dialogsum/dialogsum.test.jsonl from cylnlp/dialogsum (see SOURCES.md)"
_SUMMARIES = ("summary1", "summary2", "summary3")


def _items(rows: list[dict[str, Any]], where: str) -> list[Item]:
    built = []
    for index, row in enumerate(rows, start=1):
        at = f"{where}, line {index}"
        require_fields(row, ("fname", "dialogue", *_SUMMARIES), at)
        fname = str(row["fname"]).strip()
        if not re.fullmatch(r"[0-9A-Za-z_.-]+", fname):
            raise DataFormatError(
                f"{at}: field 'fname' is {row['fname']!r}; expected an id like 'test_0'. "
                f"Fix: {_FIX}."
            )
        summaries = [str(row[k]).strip() for k in _SUMMARIES]
        if not str(row["dialogue"]).strip() or not all(summaries):
            raise DataFormatError(f"{at}: empty dialogue or reference summary. Fix: {_FIX}.")
        topics = [str(row.get(f"topic{k}") or "").strip() for k in (1, 2, 3)]
        built.append((fname, str(row["dialogue"]).strip(), summaries, topics))
    ids = make_unique([b[0] for b in built])
    return [
        Item(id=i, benchmark="dialogsum", input={"dialogue": d, "topics": t}, reference=s)
        for i, (_, d, s, t) in zip(ids, built, strict=False)
    ]


def load_dialogsum(source: DataSource) -> list[Item]:
    """Load the 500 DialogSum test dialogues.

    Args:
        source: reads ``data_dir/dialogsum/dialogsum.test.jsonl``.

    Returns:
        Items with ``input = {dialogue, topics}`` and the three reference summaries (list
        of str) as reference.

    Raises:
        DataUnavailableError: no data dir or no file.
        DataFormatError: a malformed line, a missing field, an empty summary or a bad
            ``fname``.
    """
    if source.data_dir is None:
        raise DataUnavailableError(
            "DialogSum is read from local files only. Fix: pass --data-dir DIR (or set "
            "BENCHGATE_DATA_DIR) with dialogsum/dialogsum.test.jsonl from cylnlp/dialogsum."
        )
    folder = source.folder("dialogsum", "dialogsum.test.jsonl from cylnlp/dialogsum")
    path = folder / "dialogsum.test.jsonl"
    return _items(read_jsonl(path), str(path))

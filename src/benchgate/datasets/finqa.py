"""FinQA test split (Chen et al. 2021, EMNLP, arXiv 2109.00122), local or from the hub.

Local: ``finqa/test.json`` (the official czyssrs/FinQA file); hub: ``dreamerdeo/finqa``.

Official format (``dataset/test.json``, 1147 items): one JSON array of objects with
``pre_text`` (list of str), ``post_text`` (list of str), ``table`` (list of rows, each a list
of cell strings, first row the header), ``id`` (``"ADI/2009/page_49.pdf-1"``), ``filename``
and ``qa`` {``question``, ``answer`` (the human answer as written: ``"14.1%"``, ``"380"``),
``program``, ``exe_ans`` (the program's executed result: a float, or ``"yes"``/``"no"``
for comparison programs), ``gold_inds``, ...}. The hub copy has ``id``, ``pre_text``,
``post_text``, ``table``, ``question`` and ``answers`` (= ``qa.answer``) per row.

The test file is not in shared/data (every copy is >= 4 MiB; see SOURCES.md), so without
``--data-dir`` pointing at a ``finqa/test.json`` and without the hub the benchmark is skipped
with that reason. ``fixtures/finqa/test.json`` holds a few items in the official format.

Reference (see :func:`finqa_reference`): ``"yes"``/``"no"`` for comparison questions,
else ``qa.answer`` when it is a number, else ``exe_ans``. Item ids: the source's ``id``
with characters outside ``[A-Za-z0-9_.-]`` replaced by ``_`` (``ADI_2009_page_49.pdf-1``).
No subject.
"""

from __future__ import annotations

import re
from typing import Any

from benchgate.datasets._files import read_json_array
from benchgate.datasets.base import DataSource, load_hub, make_unique, require_fields
from benchgate.errors import DataFormatError
from benchgate.records import Item

HUB_REPO = "dreamerdeo/finqa"
#: Hub revision of dreamerdeo/finqa. Its ``main`` branch holds a loading script (commit
#: dc8bb77d189d2633f1ce24bc2255b2b0097342f5), which ``datasets`` >= 4 no longer runs, so the
#: Hub's Parquet conversion is read. A branch name, not a commit: the dataset hash recorded
#: with every run refuses to pair runs whose items differ.
HUB_REVISION = "refs/convert/parquet"
_FIX = (
    "use the official FinQA test.json (czyssrs/FinQA dataset/test.json): a JSON array of "
    "objects with pre_text, post_text, table, id and qa {question, answer, exe_ans}"
)


def safe_id(raw: str) -> str:
    """Make a FinQA id safe for a pytest id: characters outside ``[A-Za-z0-9_.-]`` -> ``_``."""
    return re.sub(r"[^0-9A-Za-z_.-]", "_", raw.strip())


def finqa_reference(answer: Any, exe_ans: Any, where: str) -> tuple[str, str | None]:
    """Choose the reference of a FinQA item.

    Rule: ``"yes"``/``"no"`` when either field is yes/no (comparison programs); else the
    human ``answer`` when it parses as a number (``"14.1%"``, ``"$ 380"`` is not one), else
    ``exe_ans`` written canonically.

    Args:
        answer: ``qa.answer`` (str, possibly empty) or None.
        exe_ans: ``qa.exe_ans`` (float, int, ``"yes"``/``"no"``) or None.
        where: file and item, for the error message.

    Returns:
        ``(reference, exe_ans)``: the reference string and ``exe_ans`` as a canonical
        decimal string (None when absent or yes/no).

    Raises:
        DataFormatError: neither field gives a number or yes/no.
    """
    from benchgate.scoring.normalize import canonical_number, parse_number

    text = "" if answer is None else str(answer).strip()
    exe = None if exe_ans is None else str(exe_ans).strip()
    for value in (text, exe):
        if value is not None and value.lower() in ("yes", "no"):
            return value.lower(), None
    exe_canonical = None
    if exe:
        try:
            exe_canonical = canonical_number(exe)
        except ValueError:
            exe_canonical = None
    if text:
        try:
            parse_number(text)
            return text, exe_canonical
        except ValueError:
            pass
    if exe_canonical is not None:
        return exe_canonical, exe_canonical
    raise DataFormatError(
        f"{where}: neither qa.answer ({answer!r}) nor qa.exe_ans ({exe_ans!r}) is a number or "
        f"yes/no. Fix: {_FIX}."
    )


def _text_list(value: Any, field: str, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise DataFormatError(f"{where}: field '{field}' must be a list of strings. Fix: {_FIX}.")
    return [str(v) for v in value]


def _table(value: Any, where: str) -> list[list[str]]:
    if not isinstance(value, list) or any(not isinstance(r, list) for r in value):
        raise DataFormatError(
            f"{where}: field 'table' must be a list of rows (lists of cell strings). Fix: {_FIX}."
        )
    return [[str(c) for c in r] for r in value]


def _items(rows: list[dict[str, Any]], where: str, unit: str) -> list[Item]:
    built = []
    for index, row in enumerate(rows, start=1):
        at = f"{where}, {unit} {index}"
        require_fields(row, ("id", "pre_text", "post_text", "table", "qa"), at)
        qa = row["qa"]
        if not isinstance(qa, dict):
            raise DataFormatError(f"{at}: field 'qa' must be an object. Fix: {_FIX}.")
        require_fields(qa, ("question",), f"{at}, field 'qa'")
        if qa.get("answer") is None and qa.get("exe_ans") is None:
            raise DataFormatError(
                f"{at}: field 'qa' has neither 'answer' nor 'exe_ans'. Fix: {_FIX}."
            )
        reference, exe = finqa_reference(qa.get("answer"), qa.get("exe_ans"), at)
        built.append(
            (
                safe_id(str(row["id"])),
                {
                    "question": str(qa["question"]).strip(),
                    "pre_text": _text_list(row["pre_text"], "pre_text", at),
                    "post_text": _text_list(row["post_text"], "post_text", at),
                    "table": _table(row["table"], at),
                    "exe_ans": exe,
                    "source_id": str(row["id"]),
                },
                reference,
            )
        )
    ids = make_unique([b[0] for b in built])
    return [
        Item(id=i, benchmark="finqa", input=inp, reference=ref)
        for i, (_, inp, ref) in zip(ids, built, strict=False)
    ]


def _hub_row(row: dict[str, Any]) -> dict[str, Any]:
    """Reshape a hub row (``question``/``answers`` at top level) into the official layout."""
    if "qa" in row:
        return row
    qa = {"question": row.get("question"), "answer": row.get("answers", row.get("answer"))}
    if row.get("final_result") is not None:
        qa["exe_ans"] = row["final_result"]
    return {**{k: row.get(k) for k in ("id", "pre_text", "post_text", "table")}, "qa": qa}


def load_finqa(source: DataSource) -> list[Item]:
    """Load the FinQA test items (1147 in the official file).

    Args:
        source: ``data_dir/finqa/test.json`` when a data dir is set, else the hub.

    Returns:
        Items with ``input = {question, pre_text, post_text, table, exe_ans, source_id}``
        and the reference of :func:`finqa_reference`.

    Raises:
        DataUnavailableError: no file (shared/data has none) / hub unreachable.
        DataFormatError: a malformed file, a missing field or an item without a numeric
            or yes/no answer.
    """
    if source.data_dir is not None:
        folder = source.folder("finqa", "test.json from czyssrs/FinQA (not in shared/data)")
        path = folder / "test.json"
        return _items(read_json_array(path, _FIX), str(path), "item")
    ds = load_hub(source, HUB_REPO, HUB_REVISION, split="test")
    return _items([_hub_row(dict(r)) for r in ds], f"hub {HUB_REPO}@{HUB_REVISION}", "row")

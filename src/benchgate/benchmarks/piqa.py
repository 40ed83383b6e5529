"""PIQA: physical commonsense, choose the better of two solutions to a goal.

Data: PIQA validation split (Bisk et al. 2020), local or from the hub.

Local: ``piqa/valid.jsonl`` + ``valid-labels.lst``; hub: ``ybisk/piqa``.

Local format (shared/data/SOURCES.md): ``valid.jsonl`` holds ``goal``, ``sol1``, ``sol2``;
``valid-labels.lst`` holds one label per line (``0`` = sol1, ``1`` = sol2), aligned line by
line. Hub format: the same fields plus ``label`` (int) in one row. The test split's labels
are not public, so the validation split (1838 items) is the evaluation split, as in the
PIQA paper's and lm-evaluation-harness's reporting.

Options keep the source order: A = ``sol1``, B = ``sol2``. Item ids are content hashes of
goal and both solutions (the source has no ids). No subject.
"""

from __future__ import annotations

from typing import Any

from benchgate.backends.base import Request
from benchgate.benchmarks.choice import ChoiceBenchmark, multiple_choice_messages
from benchgate.data.files import read_text_lines
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

HUB_REPO = "ybisk/piqa"
#: Hub revision of ybisk/piqa. Its ``main`` branch holds a loading script, which
#: ``datasets`` >= 4 no longer runs, so the Hub's own Parquet conversion of that script's
#: output (config ``plain_text``) is read. This is a branch name, not a commit: the dataset
#: hash recorded with every run still refuses to pair runs whose items differ.
HUB_REVISION = "refs/convert/parquet"
LABELS = "AB"
_FIX = (
    "restore piqa/valid.jsonl and piqa/valid-labels.lst from ybisk/ybisk.github.io "
    "(see SOURCES.md)"
)


def _items(rows: list[dict[str, Any]], labels: list[Any], where: str) -> list[Item]:
    built = []
    for index, (row, label) in enumerate(zip(rows, labels, strict=False), start=1):
        at = f"{where}, line {index}"
        require_fields(row, ("goal", "sol1", "sol2"), at)
        if str(label).strip() not in ("0", "1"):
            raise DataFormatError(
                f"{at}: label {label!r} is neither 0 (sol1) nor 1 (sol2). Fix: {_FIX}."
            )
        goal, sol1, sol2 = (str(row[k]).strip() for k in ("goal", "sol1", "sol2"))
        reference = LABELS[int(str(label).strip())]
        built.append((content_id(goal, sol1, sol2), goal, [sol1, sol2], reference))
    ids = make_unique([b[0] for b in built])
    return [
        Item(id=i, benchmark="piqa", input={"goal": g, "choices": c}, reference=ref)
        for i, (_, g, c, ref) in zip(ids, built, strict=False)
    ]


def load_piqa(source: DataSource) -> list[Item]:
    """Load the 1838 PIQA validation items.

    Args:
        source: ``data_dir/piqa/{valid.jsonl, valid-labels.lst}`` when a data dir is set,
            else the hub (split ``validation``).

    Returns:
        Items with ``input = {goal, choices: [sol1, sol2]}`` and ``"A"``/``"B"`` as reference.

    Raises:
        DataUnavailableError: no files / hub unreachable.
        DataFormatError: a malformed line, a missing field, a label other than 0/1, or a
            labels file whose length differs from the items file.
    """
    if source.data_dir is not None:
        folder = source.folder("piqa", "valid.jsonl and valid-labels.lst")
        rows = read_jsonl(folder / "valid.jsonl")
        labels = read_text_lines(folder / "valid-labels.lst", _FIX)
        if len(labels) != len(rows):
            raise DataFormatError(
                f"{folder / 'valid-labels.lst'}: {len(labels)} labels for {len(rows)} items in "
                f"{folder / 'valid.jsonl'}; the files must align line by line. Fix: {_FIX}."
            )
        return _items(rows, labels, str(folder / "valid.jsonl"))
    ds = load_hub(source, HUB_REPO, HUB_REVISION, name="plain_text", split="validation")
    rows = [dict(r) for r in ds]
    where = f"hub {HUB_REPO}@{HUB_REVISION}"
    for n, r in enumerate(rows, start=1):
        require_fields(r, ("label",), f"{where}, row {n}")
    return _items(rows, [r["label"] for r in rows], where)


INSTRUCTION = (
    "Choose the more appropriate solution to achieve the goal. Answer with the letter of "
    "the correct option (A or B)."
)


class PIQA(ChoiceBenchmark):
    """PIQA (Bisk et al. 2020, AAAI, arXiv 1911.11641), validation split, zero-shot chat prompt.

    Options in source order (A = ``sol1``, B = ``sol2``). Extractor:
    :func:`benchgate.scoring.extract_choice` with labels ``AB`` and the two solutions'
    texts, so a reply that restates one solution instead of its letter still counts.
    """

    name = "piqa"
    category = "commonsense"
    #: 2: the shared choice scoring path (multilingual markers, restated questions).
    version = 2
    labels = LABELS
    max_new_tokens = 256

    def load(self, source: DataSource) -> list[Item]:
        """Load the validation split (see :func:`load_piqa`)."""
        return load_piqa(source)

    def request(self, item: Item) -> Request:
        """Return the zero-shot user message for ``item``."""
        return Request.from_messages(
            multiple_choice_messages(
                INSTRUCTION, f"Goal: {item.input['goal']}", item.input["choices"], [], LABELS
            ),
            max_new_tokens=self.max_new_tokens,
        )

"""LegalQA: the paper's set from the hub, or the local stand-in (MMLU's law subjects).

The paper's set: Li, Bhambhoria, Dahan & Zhu 2024 (arXiv 2409.07713), hub
``jonathanli/law_qa_eval``. The stand-in: ``legalqa/``, MMLU's three law subjects.

The real set is not available offline. ``shared/data/legalqa`` holds a stand-in, byte-identical
copies of MMLU's ``professional_law`` (1534), ``jurisprudence`` (108) and
``international_law`` (121) test files plus their dev files, in MMLU's CSV layout (read with
:func:`benchgate.datasets.mmlu.load_mmlu_local`). Reports must label results on it as a
stand-in (see :data:`STAND_IN`).

Source order: a data dir with a ``legalqa/`` folder -> the stand-in; otherwise (no data dir,
or a data dir without ``legalqa/``) -> the real set from the hub, split ``test`` (229 rows:
``instruction``, ``input`` = the question, ``output`` = a reference answer written as free
text). If neither is available the benchmark is skipped with both reasons.

Item ids: stand-in ``<subject>-<content hash>`` as in MMLU; real set a content hash of
instruction and question (the source has no ids). Subject: the MMLU subject for the
stand-in, None for the real set.
"""

from __future__ import annotations

from typing import Any

from benchgate.datasets.base import DataSource, content_id, load_hub, make_unique, require_fields
from benchgate.datasets.mmlu import load_mmlu_local
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Item

HUB_REPO = "jonathanli/law_qa_eval"
#: Pinned hub commit of jonathanli/law_qa_eval (parquet, config "default").
HUB_REVISION = "8552e6437e1622b43360291171b2a516ce72f4d4"

#: The label every report shows next to LegalQA results read from the local stand-in.
STAND_IN = (
    "stand-in: MMLU's law subjects (professional_law, jurisprudence, international_law; "
    "multiple choice) stand in for the paper's LegalQA set (Li et al. 2024, "
    "jonathanli/law_qa_eval, free-text answers), which is not available offline; "
    "results are not comparable with published LegalQA numbers"
)


def _real_items(rows: list[dict[str, Any]], where: str) -> list[Item]:
    built = []
    for index, row in enumerate(rows, start=1):
        at = f"{where}, row {index}"
        require_fields(row, ("instruction", "input", "output"), at)
        question = str(row["input"]).strip()
        reference = str(row["output"]).strip()
        if not question or not reference:
            raise DataFormatError(f"{at}: empty field 'input' or 'output'.")
        instruction = str(row["instruction"]).strip()
        built.append((content_id(instruction, question), instruction, question, reference))
    ids = make_unique([b[0] for b in built])
    return [
        Item(
            id=i,
            benchmark="legalqa",
            input={"instruction": ins, "question": q},
            reference=ref,
        )
        for i, (_, ins, q, ref) in zip(ids, built, strict=False)
    ]


def load_legalqa(source: DataSource) -> tuple[list[Item], dict[str, list], bool]:
    """Load LegalQA: the local stand-in when ``data_dir/legalqa`` exists, else the real set.

    Args:
        source: the data source.

    Returns:
        ``(items, dev exemplars by subject, is_stand_in)``. Stand-in items are multiple
        choice (``input = {question, choices, subject}``, reference a letter); real-set
        items are free text (``input = {instruction, question}``, reference the answer text)
        and come with no exemplars.

    Raises:
        DataUnavailableError: no ``legalqa/`` folder and the hub unreachable (both reasons
            given).
        DataFormatError: malformed data.
    """
    if source.data_dir is not None and (source.data_dir / "legalqa").is_dir():
        items, dev = load_mmlu_local(source.data_dir / "legalqa", benchmark="legalqa")
        return items, dev, True
    try:
        ds = load_hub(source, HUB_REPO, HUB_REVISION, split="test")
    except DataUnavailableError as exc:
        local = (
            f"{source.data_dir / 'legalqa'} does not exist"
            if source.data_dir is not None
            else "no --data-dir was given"
        )
        raise DataUnavailableError(
            f"LegalQA: {local}, and the real set is unavailable: {exc}"
        ) from None
    return _real_items([dict(r) for r in ds], f"hub {HUB_REPO}@{HUB_REVISION[:12]}"), {}, False

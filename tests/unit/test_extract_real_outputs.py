"""The reasoning split on completions in the shapes of real model outputs.

Rows: fixtures/real_outputs/reasoning.jsonl (see its README for the fields and the public
sources each shape is taken from).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchgate.benchmarks.gsm8k import GSM8K
from benchgate.benchmarks.mmlu import MMLU
from benchgate.records import Completion, Item, Status
from benchgate.scoring import extract_choice, extract_number, split_reasoning

CORPUS = Path(__file__).resolve().parents[2] / "fixtures" / "real_outputs" / "reasoning.jsonl"
ROWS = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines() if line]
REQUIRED = {"id", "source_repo", "source_file", "shape", "text", "reasoning_format",
            "finish_reason", "expected_reasoning", "expected_final", "extract", "expected"}


def test_every_row_cites_its_source():
    assert len(ROWS) >= 15
    for row in ROWS:
        assert REQUIRED <= set(row), row["id"]
        assert "/" in row["source_repo"] and row["source_file"], row["id"]
    families = {row["reasoning_format"] for row in ROWS}
    assert families == {"harmony", "think-tags"}


def extract(row: dict, text: str) -> str | None:
    return extract_choice(text) if row["extract"] == "choice" else extract_number(text)


@pytest.mark.parametrize("row", [pytest.param(r, id=r["id"]) for r in ROWS])
def test_split_and_extract(row: dict) -> None:
    reasoning, final = split_reasoning(row["text"], row["reasoning_format"], row["finish_reason"])
    assert (reasoning, final) == (row["expected_reasoning"], row["expected_final"])
    answer = None if final is None else extract(row, final)
    assert answer == row["expected"]
    if row["finish_reason"] == "stop" and final is not None:
        # the extractors' safety net reads the same answer from the whole completion
        assert extract(row, row["text"]) == row["expected"]


ITEMS = {
    "number": (GSM8K(), Item(id="g", benchmark="gsm8k", input={"question": "Q?"}, reference="18")),
    "choice": (
        MMLU(),
        Item(
            id="m",
            benchmark="mmlu",
            input={"question": "Q?", "choices": ["w", "x", "y", "z"], "subject": "s"},
            reference="B",
        ),
    ),
}


@pytest.mark.parametrize(
    "row", [pytest.param(r, id=r["id"]) for r in ROWS if r.get("expected_kind")]
)
def test_no_answer_kind(row: dict) -> None:
    spec, item = ITEMS[row["extract"]]
    completion = Completion(text=row["text"], finish_reason=row["finish_reason"])
    score = spec.score(item, completion, row["reasoning_format"])
    assert score.status is Status.NO_ANSWER
    assert score.no_answer_kind == row["expected_kind"]

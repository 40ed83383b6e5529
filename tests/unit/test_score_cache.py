"""The score cache (issue 13, warm re-runs): a verdict is reused only if nothing it uses changed.

A re-run on the same completion must not execute HumanEval code again or re-import ROUGE,
but a verdict may only come back when the scorer's code, its libraries, the benchmark's
version and settings (HumanEval's isolation and time limit), the item and the completion are
all the same. Errors and timeouts are never kept; ``--rescore`` scores again; a damaged
entry is a miss. The whole-session version (real sandbox, real isolation levels) is in
``tests/reliability/test_sandbox_users.py``.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchgate import fingerprint
from benchgate.backends.base import Request
from benchgate.backends.cache import ResponseCache
from benchgate.benchmarks.base import Benchmark
from benchgate.benchmarks.humaneval import HumanEval
from benchgate.config import ModelSpec
from benchgate.evaluate import BackendFactory, Evaluator, LoadedBenchmark
from benchgate.records import Completion, Item, Score, Status
from benchgate.scoring import cache as score_cache
from benchgate.scoring.cache import SCORE_FORMAT, ScoreCache, score_key
from benchgate.scoring.execute import ExecutionResult

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"


class Counted(Benchmark):
    """Three items; the scorer counts its calls; item 'boom' crashes it, 'err' scores error."""

    name = "counted"
    version = 1
    cache_scores = True
    calls: list[str] = []

    def load(self, source):
        return [Item(id=i, benchmark="counted", input={"q": f"What is 3+4? ({i})"}, reference="7")
                for i in ("a", "b", "err")]

    def request(self, item):
        return Request.from_messages([{"role": "user", "content": item.input["q"]}])

    def score_final(self, item, final, completion):
        type(self).calls.append(item.id)
        if item.id == "err":
            return Score(Status.ERROR, detail="sandbox error: could not start")
        extracted = final.strip().split()[-1]
        return Score(Status.CORRECT if extracted == item.reference else Status.INCORRECT,
                     extracted=extracted, rule="last-word")


class Uncached(Counted):
    name = "uncached"
    cache_scores = False


def _run(tmp_path: Path, bench_cls=Counted, rescore=False, scores=True, answer="7"):
    script = tmp_path / f"script-{answer}.yaml"
    script.write_text(f'rules:\n  - match: "3\\\\+4"\n    text: "The answer is {answer}"\n')
    spec = ModelSpec(id="m", backend="scripted", model=str(script))
    bench = bench_cls()
    items = bench.load(None)
    loaded = LoadedBenchmark(spec=bench, selected=items, n_total=len(items))
    evaluator = Evaluator({"m": spec}, BackendFactory(), ResponseCache(tmp_path / "cache"),
                          scores=ScoreCache(tmp_path / "cache" / "scores") if scores else None,
                          rescore=rescore)
    bench_cls.calls = []
    return {i.id: evaluator.outcome("m", loaded, i, items) for i in items}, evaluator


def test_a_verdict_is_scored_once_then_read_back_with_the_same_fields(tmp_path):
    first, ev1 = _run(tmp_path)
    assert Counted.calls == ["a", "b", "err"]
    assert {k: o.score_cached for k, o in first.items()} == {"a": False, "b": False, "err": False}
    assert ev1.scores.stats.writes == 2  # the error verdict is not kept

    second, ev2 = _run(tmp_path)
    assert Counted.calls == ["err"]  # only the error is scored again
    assert second["a"].score_cached and second["b"].score_cached and not second["err"].score_cached
    for key in ("a", "b"):
        a, b = first[key].to_dict(), second[key].to_dict()
        for field in ("status", "extracted", "extraction_rule", "detail", "score", "sandbox"):
            assert a[field] == b[field], field
    assert second["err"].status == "error" and ev2.scores.stats.hits == 2


def test_rescore_scores_everything_again_and_refreshes_the_entries(tmp_path):
    _run(tmp_path)
    third, ev = _run(tmp_path, rescore=True)
    assert Counted.calls == ["a", "b", "err"]
    assert not any(o.score_cached for o in third.values())
    assert ev.scores.stats.hits == 0 and ev.scores.stats.writes == 2


def test_benchmarks_without_cache_scores_and_runs_without_a_score_cache_always_score(tmp_path):
    _run(tmp_path, Uncached)
    _run(tmp_path, Uncached)
    assert Uncached.calls == ["a", "b", "err"]
    assert not (tmp_path / "cache" / "scores").exists() or not any(
        (tmp_path / "cache" / "scores").rglob("*.json"))
    _run(tmp_path, scores=False)
    outcomes, _ = _run(tmp_path, scores=False)
    assert Counted.calls == ["a", "b", "err"] and not any(o.score_cached for o in outcomes.values())


def test_another_completion_is_another_verdict(tmp_path):
    _run(tmp_path, answer="7")
    outcomes, _ = _run(tmp_path, answer="8")
    assert Counted.calls == ["a", "b", "err"]
    assert {o.status for k, o in outcomes.items() if k != "err"} == {"incorrect"}


def _key(**change):
    item = Item(id="x", benchmark="humaneval", input={"prompt": "def f():", "test": "assert 1"},
                reference="f")
    completion = Completion(text="def f(): pass", finish_reason="stop")
    parts = dict(scorer=HumanEval, benchmark="humaneval", version=2, settings={}, score_settings={
        "isolation": "full", "timeout_s": 10.0}, item=item, completion=completion,
        reasoning_format="none", delimiters=None)
    parts.update(change)
    return score_key(**parts)


@pytest.mark.parametrize("change", [
    {"version": 3},
    {"benchmark": "other"},
    {"settings": {"shots": 5}},
    {"score_settings": {"isolation": "none", "timeout_s": 10.0}},
    {"score_settings": {"isolation": "full", "timeout_s": 3.0}},
    {"item": Item(id="x", benchmark="humaneval",
                  input={"prompt": "def f():", "test": "assert 0"}, reference="f")},
    {"item": Item(id="y", benchmark="humaneval",
                  input={"prompt": "def f():", "test": "assert 1"}, reference="f")},
    {"completion": Completion(text="def f(): return 1", finish_reason="stop")},
    {"completion": Completion(text="def f(): pass", finish_reason="length")},
    {"completion": Completion(text="def f(): pass", finish_reason="stop", reasoning="think")},
    {"reasoning_format": "think-tags"},
    {"delimiters": ["<think>", "</think>"]},
], ids=lambda c: next(iter(c)) + "=" + str(next(iter(c.values())))[:20])
def test_every_input_of_a_verdict_is_in_its_key(change):
    assert _key(**change) != _key()


def test_the_scorer_fingerprint_is_in_the_key(monkeypatch):
    before = _key()
    monkeypatch.setattr(score_cache, "scorer_fingerprint", lambda cls: "0" * 64)
    assert _key() != before


class StrictHumanEval(HumanEval):
    """A project's own subclass: its module's source is part of its scorer."""


def test_a_subclass_is_another_scorer_and_its_module_is_in_the_fingerprint():
    assert _key(scorer=StrictHumanEval) != _key()
    assert __file__ in fingerprint.class_sources(StrictHumanEval)


def _fingerprint(src: Path) -> str:
    code = ("from benchgate.scoring.cache import scorer_fingerprint\n"
            "from benchgate.benchmarks.humaneval import HumanEval\n"
            "print(scorer_fingerprint(HumanEval))")
    env = {**os.environ, "PYTHONPATH": str(src)}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                          check=True, cwd=src)
    return done.stdout.strip()


@pytest.mark.parametrize("edit", [
    "benchgate/scoring/extract/__init__.py",  # an extractor
    "benchgate/benchmarks/humaneval.py",  # a benchmark's scorer
    "benchgate/records.py",  # the Score record
])
def test_editing_the_scorers_code_changes_the_fingerprint(tmp_path, edit):
    copy = tmp_path / "src"
    shutil.copytree(SRC / "benchgate", copy / "benchgate",
                    ignore=shutil.ignore_patterns("__pycache__"))
    before = _fingerprint(copy)
    assert before == _fingerprint(copy)  # stable across processes
    path = copy / edit
    path.write_text(path.read_text() + "\n# edited\n")
    assert _fingerprint(copy) != before
    other = copy / "benchgate" / "reporting" / "terminal.py"  # not a scorer
    after = _fingerprint(copy)
    other.write_text(other.read_text() + "\n# edited\n")
    assert _fingerprint(copy) == after


def _execution(status: str, detail: str) -> ExecutionResult:
    return ExecutionResult(passed=status == "passed", status=status, detail=detail, stdout="",
                           stderr="", duration_s=0.1, sandbox="full")


# (status, detail as the sandbox words it, may a later run reuse the verdict?)
EXECUTIONS = [
    ("passed", "", True),
    ("failed", "AssertionError at test line 3: assert candidate(1, 2) == 3", True),
    ("failed", "candidate raised ValueError: no idea at completion line 2", True),
    ("failed", "SyntaxError: '(' was never closed (completion line 1)", True),
    ("failed", "the completion does not define add", True),
    ("failed", "the tests never called the candidate", True),
    ("failed", "the sandbox process was killed by SIGKILL before answering", False),
    ("failed", "the sandbox process exited with status 3 before the tests finished", False),
    ("failed", "the sandbox process stopped answering (channel closed)", False),
    ("failed", "the sandbox process ended before answering", False),
    ("failed", "while loading the completion: the sandbox process was killed by SIGSEGV "
               "before answering", False),
    ("failed", "the sandbox ended without a verdict (killed by SIGTERM)", False),
    ("failed", "the completion broke the sandbox's protocol: reply is neither", False),
    ("timeout", "the tests did not finish in time", False),
    ("error", "the sandbox failed during setup: mount", False),
]


@pytest.mark.parametrize("status, detail, reusable", EXECUTIONS,
                         ids=[f"{e[0]}-{i}" for i, e in enumerate(EXECUTIONS)])
def test_humaneval_keeps_only_verdicts_the_completion_decided(monkeypatch, status, detail,
                                                             reusable):
    from benchgate.scoring import execute

    result = _execution(status, detail)
    assert result.definitive is reusable
    monkeypatch.setattr(execute, "run_humaneval", lambda *a, **k: result)
    bench = HumanEval()
    item = Item(id="x", benchmark="humaneval", reference="add",
                input={"prompt": "def add(a, b):\n", "entry_point": "add", "test": ""})
    score = bench.score_final(item, "```python\ndef add(a, b):\n    return a\n```", None)
    assert score.sandbox == "full" and score.status.value == {
        "passed": "correct", "failed": "incorrect", "timeout": "incorrect",
        "error": "error"}[status]
    assert bench.score_cacheable(score) is reusable


def test_humaneval_keys_its_isolation_and_time_limit():
    assert HumanEval().score_cacheable(Score(Status.NO_ANSWER, detail="no code found"))
    assert HumanEval().score_settings() == {"isolation": "full", "timeout_s": 10.0}
    assert HumanEval(sandbox="none").score_settings()["isolation"] == "none"


@pytest.mark.parametrize("damage", ["truncate", "bad-status", "stale-checksum", "old-format"])
def test_a_damaged_entry_is_a_miss_and_is_replaced(tmp_path, damage):
    _run(tmp_path)
    path = next(p for p in (tmp_path / "cache" / "scores").rglob("*.json")
                if json.loads(p.read_text())["meta"]["item"] == "a")
    entry = json.loads(path.read_text())
    if damage == "truncate":
        path.write_text(path.read_text()[:40])
    elif damage == "bad-status":  # checksum recomputed: only the value is wrong
        entry["score"]["status"] = "maybe"
        from benchgate.entrystore import digest

        entry["checksum"] = digest(entry["score"])
        path.write_text(json.dumps(entry))
    elif damage == "stale-checksum":
        entry["score"]["status"] = "incorrect"
        path.write_text(json.dumps(entry))
    else:
        entry["format"] = SCORE_FORMAT + 1
        path.write_text(json.dumps(entry))
    outcomes, ev = _run(tmp_path)
    assert Counted.calls == ["a", "err"]
    assert outcomes["a"].status == "correct" and not outcomes["a"].score_cached
    assert ev.scores.stats.corrupt == 1
    again, ev = _run(tmp_path)
    assert again["a"].score_cached and ev.scores.stats.corrupt == 0


def test_a_completion_the_cache_cannot_encode_is_scored_and_not_kept(tmp_path):
    """A lone surrogate (an OpenAI-style server may send one as a JSON escape) is no crash."""
    spec = ModelSpec(id="m", backend="scripted", model=str(tmp_path / "unused.yaml"))
    bench = Counted()
    items = bench.load(None)
    loaded = LoadedBenchmark(spec=bench, selected=items, n_total=len(items))
    evaluator = Evaluator({"m": spec}, BackendFactory(), None,
                          scores=ScoreCache(tmp_path / "scores"))
    text = "The answer is 7 \ud800"
    evaluator._completions[("m", "counted", "a")] = ("prompt", Completion(text=text,
                                                                          finish_reason="stop"))
    for _ in range(2):
        Counted.calls = []
        outcome = evaluator.outcome("m", loaded, items[0], [items[0]])
        assert outcome.status == "incorrect" and not outcome.score_cached
        assert Counted.calls == ["a"]
    assert not any((tmp_path / "scores").rglob("*.json"))

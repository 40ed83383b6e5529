"""Spine units: --limit selection, stable ids, dataset hashes, devices, worker counts."""

from __future__ import annotations

import random
import textwrap

import pytest

from benchgate.data.sources import content_id, dataset_hash, make_unique, select_limit
from benchgate.plugin.fixtures import worker_device
from benchgate.records import Item


def items(n_per_subject: dict[str | None, int]) -> list[Item]:
    out = []
    for subject, n in n_per_subject.items():
        for k in range(n):
            out.append(Item(id=content_id(f"{subject}-{k}"), benchmark="x", input={"q": k},
                            reference="A", subject=subject))
    return out


def test_limit_is_stratified_proportionally():
    pool = items({"law": 60, "math": 30, "art": 10})
    chosen = select_limit(pool, 10, seed=0)
    counts = {s: sum(1 for i in chosen if i.subject == s) for s in ("law", "math", "art")}
    assert counts == {"law": 6, "math": 3, "art": 1}


def test_limit_depends_on_ids_not_order_and_grows_monotonically():
    pool = items({"a": 40, "b": 25, None: 5})
    shuffled = pool[:]
    random.Random(1).shuffle(shuffled)
    assert {i.id for i in select_limit(pool, 12, seed=3)} == {i.id for i in select_limit(shuffled, 12, seed=3)}
    small = {i.id for i in select_limit(pool, 10, seed=3) if i.subject == "a"}
    large = {i.id for i in select_limit(pool, 30, seed=3) if i.subject == "a"}
    assert small <= large
    assert {i.id for i in select_limit(pool, 12, seed=3)} != {i.id for i in select_limit(pool, 12, seed=4)}


def test_limit_without_subjects_and_edge_values():
    pool = items({None: 50})
    assert len(select_limit(pool, 7, seed=0)) == 7
    assert select_limit(pool, None) == pool and select_limit(pool, 500) == pool
    with pytest.raises(ValueError, match="--limit"):
        select_limit(pool, 0)


def test_more_subjects_than_limit_still_gives_exactly_limit():
    pool = items({f"s{k}": 3 for k in range(57)})
    assert len(select_limit(pool, 20, seed=0)) == 20


def test_duplicate_content_gets_stable_suffixes():
    assert make_unique(["a", "b", "a", "a"]) == ["a", "b", "a-2", "a-3"]


def test_dataset_hash_ignores_order_but_not_content():
    pool = items({"a": 5})
    assert dataset_hash(pool) == dataset_hash(list(reversed(pool)))
    changed = [*pool[:-1], Item(id=pool[-1].id, benchmark="x", input={"q": 99}, reference="A", subject="a")]
    assert dataset_hash(changed) != dataset_hash(pool)


@pytest.mark.parametrize(
    ("worker", "gpus", "device"),
    [("gw0", 0, "cpu"), ("master", 0, "cpu"), ("master", 2, "cuda:0"), ("gw0", 2, "cuda:0"),
     ("gw1", 2, "cuda:1"), ("gw5", 2, "cuda:1"), ("gw7", 8, "cuda:7"), ("gw8", 8, "cuda:0")],
)
def test_worker_device_maps_gwN_to_gpu_N_mod_visible(worker, gpus, device):
    assert worker_device(worker, gpus) == device


SCRIPT = """
rules:
  - match: "two plus two"
    text: "The answer is 4"
default: "The answer is 0"
"""

BENCH = '''
from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.plugin.fixtures import check_outcome
from benchgate.records import Item, Score, Status


class Tiny(Benchmark):
    name = "tiny"
    version = 1

    def load(self, source):
        return [Item(id=f"q{k}", benchmark="tiny", input={"q": q}, reference="4")
                for k, q in enumerate(["two plus two", "three plus one", "two plus two again"])]

    def request(self, item):
        return Request.from_messages([{"role": "user", "content": item.input["q"]}])

    def score_final(self, item, final, completion):
        got = final.rsplit(" ", 1)[-1]
        return Score(Status.CORRECT if got == item.reference else Status.INCORRECT, extracted=got)


BENCHMARK = Tiny


def test_tiny(bench_outcome):
    check_outcome(bench_outcome)
'''


def models_yaml(n: int) -> str:
    return "models:\n" + "".join(
        f"  - id: m{k}\n    backend: scripted\n    model: script.yaml\n" for k in range(n)
    )


@pytest.fixture
def tiny_project(pytester):
    pytester.makefile(".yaml", script=SCRIPT)
    pytester.makeconftest('pytest_plugins = ("benchgate.plugin",)')
    pytester.makefile(".ini", pytest="[pytest]\ntestpaths = tests/benchmarks\naddopts = --dist loadgroup -p no:benchmark\n")
    (pytester.path / "tests" / "benchmarks").mkdir(parents=True)
    (pytester.path / "tests" / "benchmarks" / "test_tiny.py").write_text(BENCH)
    (pytester.path / "tests" / "test_not_a_benchmark.py").write_text("def test_x():\n    assert False\n")
    return pytester


def test_ids_are_model_dash_item_and_outcomes_reach_results(tiny_project):
    tiny_project.makefile(".yaml", models=models_yaml(2))
    result = tiny_project.runpytest("-n", "0", "-v", "--gate", "off")
    # -v: one line per item; a wrong answer is INCORRECT, not a failed test of benchgate.
    result.stdout.fnmatch_lines(["*test_tiny[[]m0-q0[]] PASSED*", "*test_tiny[[]m1-q1[]] INCORRECT*"])
    assert "incorrect: extracted '0', reference '4'" not in result.stdout.str()  # no section
    details = tiny_project.runpytest("-n", "0", "-v", "--gate", "off", "--benchgate-details")
    details.stdout.fnmatch_lines(["*test_tiny[[]m1-q1[]] FAILED*",
                                  "*incorrect: extracted '0', reference '4'*"])
    lines = (tiny_project.path / "reports" / "results.jsonl").read_text().splitlines()
    assert len(lines) == 6


@pytest.mark.parametrize("n_models", [1, 3])
def test_n_auto_starts_one_worker_per_model_capped_by_cpus(tiny_project, n_models):
    import os

    tiny_project.makefile(".yaml", models=models_yaml(n_models))
    result = tiny_project.runpytest_subprocess("-n", "auto", "--gate", "off")
    expected = min(n_models, os.cpu_count() or 1)
    result.stdout.re_match_lines([rf".*\b{expected} workers? \[{3 * n_models} items\].*"])


def test_path_valued_option_with_a_space_keeps_the_project_ini(tiny_project, tmp_path):
    """`pytest --data-dir ../data` makes pytest pick the wrong rootdir before plugins load;
    the plugin restores the ini's testpaths and --dist loadgroup."""
    tiny_project.makefile(".yaml", models=models_yaml(2))
    data = tiny_project.path.parent / "data-beside"
    data.mkdir(exist_ok=True)
    result = tiny_project.runpytest_subprocess("-n", "2", "--data-dir", str(data), "--gate", "off", "-v")
    out = result.stdout.str()
    assert "test_not_a_benchmark" not in out  # testpaths restored
    assert "6 item outcomes" in out or len(
        (tiny_project.path / "reports" / "results.jsonl").read_text().splitlines()) == 6
    # loadgroup: each model's items ran on a single worker
    workers = {}
    for line in out.splitlines():
        if "test_tiny[" in line and ("PASSED" in line or "INCORRECT" in line) and "[gw" in line:
            worker = line.split("[gw", 1)[1].split("]", 1)[0]
            model = line.split("test_tiny[", 1)[1].split("-", 1)[0]
            workers.setdefault(model, set()).add(worker)
    assert workers and all(len(w) == 1 for w in workers.values()), workers


def test_bad_models_file_is_a_usage_error_naming_file_field_and_fix(tiny_project):
    tiny_project.makefile(".yaml", models=textwrap.dedent("""
        models:
          - id: m0
            backend: scripted
            model: script.yaml
            generation: {max_new_tokens: -3}
    """))
    result = tiny_project.runpytest("-n", "0")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*models.yaml: models[[]0[]] (id 'm0'), field 'generation.max_new_tokens'*Fix:*"])


def _gsm8k_item(reference: str = "12") -> Item:
    return Item(id="x", benchmark="gsm8k", input={"question": "q"}, reference=reference)


def test_cut_off_chain_of_thought_is_no_answer_not_its_last_number():
    from benchgate.benchmarks.gsm8k import GSM8K
    from benchgate.records import Completion

    text = "First, 3 * 4 = 12 eggs. Then she sells"
    cut = GSM8K().score(_gsm8k_item(), Completion(text=text, finish_reason="length"), "none")
    assert cut.status.value == "no_answer"
    done = GSM8K().score(_gsm8k_item(), Completion(text=text + " 12.", finish_reason="stop"), "none")
    assert (done.status.value, done.extracted) == ("correct", "12")


def test_reasoning_split_by_the_server_is_not_split_again():
    from benchgate.benchmarks.gsm8k import GSM8K
    from benchgate.records import Completion

    answer = Completion(text="The answer is 12", finish_reason="stop", reasoning="3 * 4 = 12")
    assert GSM8K().score(_gsm8k_item(), answer, "think-tags").status.value == "correct"
    unfinished = Completion(text="<think>3 * 4 = 12", finish_reason="length")
    assert GSM8K().score(_gsm8k_item(), unfinished, "think-tags").status.value == "no_answer"


def test_error_completion_is_an_error_outcome_not_a_wrong_answer():
    from benchgate.benchmarks.gsm8k import GSM8K
    from benchgate.records import Completion

    failed = Completion(text="", finish_reason="error", error="HTTP 500 after 3 retries")
    score = GSM8K().score(_gsm8k_item(), failed, "none")
    assert score.status.value == "error" and "HTTP 500" in score.detail

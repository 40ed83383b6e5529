"""HumanEval: one test per (model, item); the spec lives in benchgate.benchmarks.humaneval."""

from benchgate.benchmarks.humaneval import HumanEval
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = HumanEval


def test_humaneval(bench_outcome):
    check_outcome(bench_outcome)

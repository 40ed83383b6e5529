"""FinQA: one test per (model, item); the spec lives in benchgate.benchmarks.finqa."""

from benchgate.benchmarks.finqa import FinQA
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = FinQA


def test_finqa(bench_outcome):
    check_outcome(bench_outcome)

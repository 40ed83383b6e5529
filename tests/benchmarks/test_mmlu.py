"""MMLU: one test per (model, item); the spec lives in benchgate.benchmarks.mmlu."""

from benchgate.benchmarks.mmlu import MMLU
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = MMLU


def test_mmlu(bench_outcome):
    check_outcome(bench_outcome)

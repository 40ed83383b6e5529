"""MedQA: one test per (model, item); the spec lives in benchgate.benchmarks.medqa."""

from benchgate.benchmarks.medqa import MedQA
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = MedQA


def test_medqa(bench_outcome):
    check_outcome(bench_outcome)

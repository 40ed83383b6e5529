"""LegalQA: one test per (model, item); the spec lives in benchgate.benchmarks.legalqa."""

from benchgate.benchmarks.legalqa import LegalQA
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = LegalQA


def test_legalqa(bench_outcome):
    check_outcome(bench_outcome)

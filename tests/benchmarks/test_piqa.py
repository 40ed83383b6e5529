"""PIQA: one test per (model, item); the spec lives in benchgate.benchmarks.piqa."""

from benchgate.benchmarks.piqa import PIQA
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = PIQA


def test_piqa(bench_outcome):
    check_outcome(bench_outcome)

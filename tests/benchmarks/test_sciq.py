"""SciQ: one test per (model, item); the spec lives in benchgate.benchmarks.sciq."""

from benchgate.benchmarks.sciq import SciQ
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = SciQ


def test_sciq(bench_outcome):
    check_outcome(bench_outcome)

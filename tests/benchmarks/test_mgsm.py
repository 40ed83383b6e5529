"""MGSM: one test per (model, item); the spec lives in benchgate.benchmarks.mgsm."""

from benchgate.benchmarks.mgsm import MGSM
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = MGSM


def test_mgsm(bench_outcome):
    check_outcome(bench_outcome)

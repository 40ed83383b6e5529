"""C-Eval: one test per (model, item); the spec lives in benchgate.benchmarks.ceval."""

from benchgate.benchmarks.ceval import CEval
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = CEval


def test_ceval(bench_outcome):
    check_outcome(bench_outcome)

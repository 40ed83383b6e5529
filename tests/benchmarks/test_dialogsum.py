"""DialogSum: one test per (model, item); the spec lives in benchgate.benchmarks.dialogsum."""

from benchgate.benchmarks.dialogsum import DialogSum
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = DialogSum


def test_dialogsum(bench_outcome):
    check_outcome(bench_outcome)

"""GSM8K: one test per (model, item); the spec lives in benchgate.benchmarks.gsm8k."""

from benchgate.benchmarks.gsm8k import GSM8K
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = GSM8K


def test_gsm8k(bench_outcome):
    check_outcome(bench_outcome)

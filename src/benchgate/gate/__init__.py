"""The gate's pure logic: plan, pairing, comparisons, coverage, verdict, and the Run.

No pytest here: the plugin (:mod:`benchgate.plugin.gate`) builds the plan and the run log,
:func:`build_run` turns a run log into a :class:`Run` (every number computed once), and the
reporters (:mod:`benchgate.reporting`) format it. ``python -m benchgate report RUN_DIR``
does the same from a stored run without pytest.
"""

from benchgate.gate.comparison import (
    INCONCLUSIVE,
    PASS,
    REGRESSION,
    VERDICTS,
    Comparison,
    GradedDifference,
    Interval,
    NoAnswerShift,
    WorstCase,
    compare_family,
    decide,
    detectable_drop,
    measure,
)
from benchgate.gate.coverage import CoverageRow, Gap, coverage_rows
from benchgate.gate.pairing import Flip, IncompatibleRunsError, PairedItems, Side, pair_outcomes
from benchgate.gate.plan import BenchmarkPlan, Plan, Selection, plan_pairs
from benchgate.gate.run import Run, build_run
from benchgate.gate.settings import FINDING_KINDS, GateSettings, ThresholdError, parse_fraction
from benchgate.gate.tables import AccuracyRow, ErrorRate, ResourceRow, accuracy_rows, error_rates
from benchgate.gate.verdict import Finding, Verdict

__all__ = [
    "FINDING_KINDS",
    "INCONCLUSIVE",
    "PASS",
    "REGRESSION",
    "VERDICTS",
    "AccuracyRow",
    "BenchmarkPlan",
    "Comparison",
    "CoverageRow",
    "ErrorRate",
    "Finding",
    "Flip",
    "Gap",
    "GateSettings",
    "GradedDifference",
    "IncompatibleRunsError",
    "Interval",
    "NoAnswerShift",
    "PairedItems",
    "Plan",
    "ResourceRow",
    "Run",
    "Selection",
    "Side",
    "ThresholdError",
    "Verdict",
    "WorstCase",
    "accuracy_rows",
    "build_run",
    "compare_family",
    "coverage_rows",
    "decide",
    "detectable_drop",
    "error_rates",
    "measure",
    "pair_outcomes",
    "parse_fraction",
    "plan_pairs",
]

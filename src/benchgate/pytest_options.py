"""benchgate's command-line options, alone in a module so it can load early and anywhere.

The package's ``pytest11`` entry point, named exactly ``benchgate.pytest_options``, loads
this module before pytest parses the command line: options with separate values
(``--data-dir ../shared/data``) are then known at once, and their values are not taken for
test paths when pytest looks for the rootdir. It only adds options, so it is inert in
other projects; the plugin proper is loaded by the root conftest.py.
"""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """Register benchgate's command-line options (group ``benchgate``)."""
    group = parser.getgroup("benchgate", "benchgate: LLM regression gate")
    group.addoption("--models", dest="benchgate_models", default=None,
                    help="comma-separated model ids from models.yaml to run (default: all)")
    group.addoption("--models-file", dest="benchgate_models_file", default=None,
                    help="the models file (default: models.yaml in the rootdir)")
    group.addoption("--limit", dest="benchgate_limit", type=int, default=None,
                    help="items per benchmark, seeded and stratified by subject (default: all)")
    group.addoption("--seed", dest="benchgate_seed", type=int, default=0,
                    help="seed for --limit's selection (default 0)")
    group.addoption("--data-dir", dest="benchgate_data_dir", default=None,
                    help="local benchmark data laid out like shared/data "
                         "(default: $BENCHGATE_DATA_DIR, else the Hugging Face hub)")
    group.addoption("--shots", dest="benchgate_shots", type=int, default=0,
                    help="few-shot exemplars from the dev split for MMLU/C-Eval (0-5, default 0)")
    group.addoption("--batch-size", dest="benchgate_batch_size", type=int, default=16,
                    help="prompts decoded together by local models (default 16)")
    group.addoption("--batching", dest="benchgate_batching", default="continuous",
                    choices=("continuous", "static"),
                    help="local models: continuous batching (default) or static batches")
    group.addoption("--cache-dir", dest="benchgate_cache_dir", default=None,
                    help="response cache directory (default: .benchgate-cache in the rootdir)")
    group.addoption("--no-cache", dest="benchgate_no_cache", action="store_true",
                    help="neither read nor write the response cache")
    group.addoption("--reports-dir", dest="benchgate_reports_dir", default=None,
                    help="where results.jsonl and reports go (default: reports/ in the rootdir)")

    # The gate (benchgate.plugin.gate): comparisons, verdicts, exit status, reports.
    gate = parser.getgroup("benchgate-gate", "benchgate: regression gate and reports")
    gate.addoption("--gate", dest="benchgate_gate", default="on", choices=("on", "off"),
                   help="on (default): the exit status is the gate's (0 nothing regressed, 1 a "
                        "regression or too many errors); off: pytest's plain exit status")
    gate.addoption("--baseline", dest="benchgate_baseline", default=None, metavar="ID",
                   help="the baseline model (default: role baseline in models.yaml; with "
                        "--baseline-run, a model of the stored run)")
    gate.addoption("--candidate", dest="benchgate_candidate", default=None, metavar="IDS",
                   help="comma-separated candidate models (default: role candidate, else all "
                        "other models)")
    gate.addoption("--compare", dest="benchgate_compare", default="roles", choices=("roles", "all"),
                   help="roles (default): the baseline against each candidate; all: every pair "
                        "of models, Holm over the whole family")
    gate.addoption("--baseline-run", dest="benchgate_baseline_run", default=None, metavar="PATH",
                   help="compare with the baseline's outcomes stored by an earlier run "
                        "(reports/runs/<run_id>) instead of running the baseline")
    gate.addoption("--alpha", dest="benchgate_alpha", type=float, default=0.05,
                   help="family-wise significance level of the one-sided regression test "
                        "(Holm-adjusted mid-p McNemar; default 0.05)")
    gate.addoption("--margin", dest="benchgate_margin", type=float, default=0.0, metavar="POINTS",
                   help="a significant drop counts as a regression only above this many "
                        "accuracy points (default 0)")
    gate.addoption("--mde-max", dest="benchgate_mde_max", type=float, default=5.0, metavar="POINTS",
                   help="largest acceptable minimum detectable drop in accuracy points; above "
                        "it a comparison is inconclusive (default 5)")
    gate.addoption("--power", dest="benchgate_power", type=float, default=0.8,
                   help="power for the minimum detectable drop (default 0.8)")
    gate.addoption("--strict-power", dest="benchgate_strict_power", action="store_true",
                   help="an inconclusive comparison fails the gate")
    gate.addoption("--max-error-rate", dest="benchgate_max_error_rate", type=float, default=0.05,
                   metavar="FRACTION",
                   help="share of error outcomes of a model on a benchmark above which the gate "
                        "fails (0-1, default 0.05)")
    gate.addoption("--no-answer-jump", dest="benchgate_no_answer_jump", type=float, default=5.0,
                   metavar="POINTS",
                   help="report a rise of the candidate's no_answer rate above this many points "
                        "(default 5)")

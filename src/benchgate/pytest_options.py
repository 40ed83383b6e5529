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
    group.addoption("--models", dest="benchgate_models", default=None, metavar="IDS",
                    help="comma-separated model ids from models.yaml to run (default: all)")
    group.addoption("--models-file", dest="benchgate_models_file", default=None, metavar="PATH",
                    help="the models file (default: models.yaml in the rootdir)")
    group.addoption("--limit", dest="benchgate_limit", type=int, default=None, metavar="N",
                    help="items per benchmark, seeded and stratified by subject (default: all)")
    group.addoption("--seed", dest="benchgate_seed", type=int, default=0, metavar="N",
                    help="seed for --limit's selection (default 0)")
    group.addoption("--data-dir", dest="benchgate_data_dir", default=None, metavar="DIR",
                    help="local benchmark data laid out like shared/data "
                         "(default: $BENCHGATE_DATA_DIR, else the Hugging Face hub)")
    group.addoption("--shots", dest="benchgate_shots", type=int, default=0, metavar="K",
                    help="few-shot exemplars from the dev split for MMLU/C-Eval (0-5, default 0)")
    group.addoption("--batch-size", dest="benchgate_batch_size", type=int, default=16, metavar="N",
                    help="prompts decoded together by local models (default 16)")
    group.addoption("--batching", dest="benchgate_batching", default="continuous",
                    choices=("continuous", "static"),
                    help="local models: continuous batching (default) or static batches")
    group.addoption("--cache-dir", dest="benchgate_cache_dir", default=None, metavar="DIR",
                    help="response cache directory (default: .benchgate-cache in the rootdir)")
    group.addoption("--no-cache", dest="benchgate_no_cache", action="store_true",
                    help="neither read nor write the response, score and dataset caches")
    group.addoption("--rescore", dest="benchgate_rescore", action="store_true",
                    help="score every item again (HumanEval re-executes, DialogSum re-runs "
                         "ROUGE) instead of reusing verdicts from the score cache, and "
                         "refresh them")
    group.addoption("--sandbox", dest="benchgate_sandbox", default="auto", choices=("auto", "none"),
                    help="isolation of model-written code (HumanEval): auto (default) runs it "
                         "only under full isolation, else every code item is an error outcome; "
                         "none runs it without isolation (warned and recorded in the reports)")
    group.addoption("--reports-dir", dest="benchgate_reports_dir", default=None, metavar="DIR",
                    help="where results.jsonl and reports go (default: reports/ in the rootdir)")

    # The gate (benchgate.plugin.gate): comparisons, verdicts, exit status, reports.
    # Thresholds take one unit: 5% = 5pt = 0.05 (a bare number above 1 is refused).
    gate = parser.getgroup("benchgate-gate", "benchgate: regression gate and reports")
    gate.addoption("--gate", dest="benchgate_gate", default="on",
                   choices=("on", "off", "record"),
                   help="on (default): the exit status is the gate's: 0 measured and no "
                        "regression, 1 a regression, too many errors or a planned item not "
                        "measured, 4 a configuration error; record: run the baseline alone "
                        "and store its run log (0 when everything planned was measured); "
                        "off: pytest's own exit status")
    gate.addoption("--baseline", dest="benchgate_baseline", default=None, metavar="ID",
                   help="the baseline model (default: role baseline in models.yaml; with "
                        "--baseline-run, a model of the stored run)")
    gate.addoption("--candidate", dest="benchgate_candidate", default=None, metavar="IDS",
                   help="comma-separated candidate models (default: role candidate, else all "
                        "other models)")
    gate.addoption("--compare", dest="benchgate_compare", default="roles", choices=("roles", "all"),
                   help="roles (default): the baseline against each candidate; all: also "
                        "report every other pair and the multi-model table (they do not gate)")
    gate.addoption("--baseline-run", dest="benchgate_baseline_run", default=None, metavar="PATH",
                   help="compare with the baseline's outcomes stored by an earlier run "
                        "(reports/runs/<run_id>) instead of running the baseline")
    gate.addoption("--benchmarks", dest="benchgate_benchmarks", default=None, metavar="NAMES",
                   help="comma-separated benchmarks that must be measured (overrides "
                        "'benchmarks:' in models.yaml); one not measured fails the gate")
    gate.addoption("--alpha", dest="benchgate_alpha", default="0.05", metavar="RATE",
                   help="family-wise significance level of the one-sided regression test "
                        "(Holm-adjusted mid-p McNemar; 0.05 or 5%%; default 0.05)")
    gate.addoption("--margin", dest="benchgate_margin", default="0", metavar="RATE",
                   help="a significant drop counts as a regression only above this (e.g. 2pt, "
                        "2%% or 0.02; default 0)")
    gate.addoption("--mde-max", dest="benchgate_mde_max", default="5pt", metavar="RATE",
                   help="largest acceptable minimum detectable drop; above it a comparison is "
                        "inconclusive (e.g. 5pt, 5%% or 0.05; default 5pt)")
    gate.addoption("--power", dest="benchgate_power", default="0.8", metavar="RATE",
                   help="power for the minimum detectable drop (0.8 or 80%%; default 0.8)")
    gate.addoption("--strict-power", dest="benchgate_strict_power", action="store_true",
                   help="an inconclusive comparison fails the gate")
    gate.addoption("--max-error-rate", dest="benchgate_max_error_rate", default="5%",
                   metavar="RATE",
                   help="share of error outcomes of a model on a benchmark above which the gate "
                        "fails (e.g. 5%% or 0.05; default 5%%)")
    gate.addoption("--no-answer-jump", dest="benchgate_no_answer_jump", default="5pt",
                   metavar="RATE",
                   help="report a rise of the candidate's no_answer rate above this (e.g. 5pt; "
                        "default 5pt); --fail-on no-answer-jump makes it fail the gate")
    gate.addoption("--fail-on", dest="benchgate_fail_on", default=None, metavar="KINDS",
                   help="comma-separated finding kinds that fail the gate: no-answer-jump, "
                        "errors-excluded, not-measured, inconclusive, reasoning-only, "
                        "noise-floor, stand-in, unpaired-extra, sandbox-none")
    gate.addoption("--allow-partial", dest="benchgate_allow_partial", action="store_true",
                   help="evaluate the gate on the complete pairs of a run that did not measure "
                        "everything it planned (deselected, stopped early, lost items); the "
                        "reports say so")
    gate.addoption("--noise-floor", dest="benchgate_noise_floor", action="store_true",
                   help="run the baseline twice (other batch order and sampling seed) and "
                        "report the A/A flip rate per benchmark")
    gate.addoption("--benchgate-details", dest="benchgate_details", action="store_true",
                   help="print every wrong benchmark item's failure section (default: one "
                        "line per item with -v, none otherwise)")
    gate.addoption("--allure-history", dest="benchgate_allure_history", default=None,
                   metavar="DIR",
                   help="the history/ folder of the previous Allure report, carried into "
                        "--alluredir so trend panels fill")

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

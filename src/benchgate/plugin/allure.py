"""Per-item Allure decoration, in whichever process runs the test (xdist workers included).

With ``--alluredir`` (allure-pytest writing results), every benchmark test gets, at
collection, its suite labels (parent suite = model, suite = benchmark, marked when the data
is a stand-in, sub-suite = the item's subject) and a ``benchgate_item`` label naming its
(model, benchmark, item); and, during its call, its parameters as plain strings, a
description (outcome, extraction rule, tokens, the item's own latency and the batch's wall
time, each labelled) and its texts as ``text/plain`` attachments cleaned of control
characters (prompt, completion, reasoning, extracted answer, reference, error).

The controller later adds what only it knows (pairs, flips, the gate): see
:mod:`benchgate.reporting.allure`. Workers never clean the results folder: only the
controller does, before they start (allure-python #807/#847 broke under xdist).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

import pytest

from benchgate.plugin.fixtures import OUTCOME_PROPERTY
from benchgate.plugin.parametrize import Case
from benchgate.plugin.state import get_state, is_controller
from benchgate.reporting.allure_items import (
    ATTACHMENT_LIMIT,
    ITEM_LABEL,
    UNAVAILABLE_LABEL,
    benchmark_title,
    item_description,
)

log = logging.getLogger(__name__)


class _Plain:
    """A parameter value shown as is: allure-pytest shows ``repr(value)`` (``'ceval'``)."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def allure_active(config: pytest.Config) -> bool:
    """True when allure-pytest writes results in this session (``--alluredir`` given)."""
    return bool(getattr(config.option, "allure_report_dir", None))


def item_markers(
    model: str, benchmark: str, subject: str | None, stand_in: str | None = None
) -> list[Any]:
    """Allure labels of one (model, item) test, as pytest markers.

    Args:
        model: the model id (parent suite).
        benchmark: the benchmark (suite; ``name (stand-in)`` for stand-in data).
        subject: the item's subject or category (sub-suite), or None.
        stand_in: the benchmark's stand-in note, or None.

    Returns:
        Marker decorators for ``item.add_marker``.
    """
    import allure

    marks = [allure.parent_suite(model), allure.suite(benchmark_title(benchmark, stand_in))]
    if subject:
        marks.append(allure.sub_suite(subject))
    if stand_in:
        marks.append(allure.tag("stand-in"))
    return marks


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Keep xdist workers from cleaning the Allure results folder (the controller did)."""
    if not is_controller(config) and hasattr(config.option, "clean_alluredir"):
        config.option.clean_alluredir = False


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--alluredir``, label each benchmark test (suites, item identity, stand-in).

    A benchmark whose data is unavailable has one skipped placeholder test; it is labelled
    ``benchgate_unavailable`` so the controller replaces it by the gate's coverage entry
    (no stray ``tests.benchmarks`` suite).
    """
    import allure

    if not allure_active(config):
        return
    state = get_state(config)
    for item in items:
        callspec = getattr(item, "callspec", None)
        if callspec is None or "bench_case" not in callspec.params:
            continue
        case = callspec.params["bench_case"]
        if not isinstance(case, Case):
            module = getattr(item, "module", None)
            bench = getattr(getattr(module, "BENCHMARK", None), "name", None) or item.name
            item.add_marker(allure.label(UNAVAILABLE_LABEL, bench))
            item.add_marker(allure.parent_suite("gate"))
            item.add_marker(allure.suite("coverage"))
            continue
        loaded = state.benchmarks.get(case.benchmark)
        subject = stand_in = None
        if loaded is not None:
            stand_in = getattr(loaded.spec, "stand_in", None)
            try:
                subject = loaded.item(case.item_id).subject
            except KeyError:
                subject = None
        identity = json.dumps(
            {"model": case.model, "benchmark": case.benchmark, "item": case.item_id},
            sort_keys=True,
        )
        item.add_marker(allure.label(ITEM_LABEL, identity))
        for mark in item_markers(case.model, case.benchmark, subject, stand_in):
            item.add_marker(mark)


def record_item(outcome: Mapping[str, Any]) -> None:
    """Add an item's parameters, description and attachments to the running Allure test.

    Call it during the test's call phase (allure-pytest's current test).

    Args:
        outcome: the item's :meth:`benchgate.records.Outcome.to_dict`.
    """
    import allure

    from benchgate.safetext import clean_text

    model, bench, item = outcome["model"], outcome["benchmark"], outcome["item_id"]
    # Display only: the history id hashes the original bench_case value, which is kept.
    allure.dynamic.parameter("bench_case", _Plain(f"{model}-{item}"))
    for name, value in (("model", model), ("benchmark", bench), ("item", item)):
        allure.dynamic.parameter(name, _Plain(str(value)), excluded=True)
    if outcome.get("subject"):
        allure.dynamic.parameter("subject", _Plain(str(outcome["subject"])), excluded=True)
    allure.dynamic.description_html(item_description(outcome))
    text = allure.attachment_type.TEXT

    def attach(body: Any, name: str) -> None:
        allure.attach(clean_text(body, limit=ATTACHMENT_LIMIT), name=name, attachment_type=text)

    attach(outcome.get("prompt", ""), "prompt")
    attach(outcome.get("completion", ""), "completion")
    reasoning = (outcome.get("extra") or {}).get("reasoning")
    if reasoning:
        attach(reasoning, "reasoning")
    extracted = outcome.get("extracted")
    attach("(none: no answer extracted)" if extracted is None else extracted, "extracted answer")
    attach(outcome.get("reference"), "reference")
    if outcome.get("error"):
        attach(outcome["error"], "error")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """With ``--alluredir``, attach the item's texts to its Allure result (any process)."""
    try:
        return (yield)
    finally:
        if allure_active(item.config):
            outcome = dict(item.user_properties).get(OUTCOME_PROPERTY)
            if outcome is not None:
                try:
                    record_item(outcome)
                except Exception:  # noqa: BLE001 - the report must not fail the test
                    log.exception("benchgate: Allure attachments for %s failed", item.nodeid)

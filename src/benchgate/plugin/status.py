"""How benchmark items appear in pytest's own terminal output.

A wrong answer is an expected result of a benchmark, not a failure of the software under
test, so benchmark items are reported in their own categories instead of ``failed``:
``incorrect``, ``no_answer`` and ``errored`` (pytest's summary line then reads e.g.
``72 passed, 300 incorrect, 28 no_answer``). pytest prints no failure section and no ``-ra``
``FAILED`` line for them; ``-v`` prints one line per item; ``--benchgate-details`` restores
the full per-item failure sections. The test *reports* stay failed (Allure, JUnit, ``--lf``
and pytest's own exit status see them as before); the gate decides the exit status.

An error outcome's failure text is its error message (completion-controlled text cleaned by
:func:`benchgate.safetext.clean_text`), never a traceback through plugin code.
"""

from __future__ import annotations

from collections.abc import Generator
from typing import Any

import pytest

from benchgate.plugin.fixtures import OUTCOME_PROPERTY
from benchgate.records import Status

#: Category, short letter and verbose word of each non-passing outcome status.
CATEGORIES: dict[str, tuple[str, str, str]] = {
    Status.INCORRECT.value: ("incorrect", "i", "INCORRECT"),
    Status.NO_ANSWER.value: ("no_answer", "n", "NO_ANSWER"),
    Status.ERROR.value: ("errored", "E", "ERRORED"),
}


def _outcome(report: Any) -> dict | None:
    props = dict(getattr(report, "user_properties", None) or [])
    outcome = props.get(OUTCOME_PROPERTY)
    return outcome if isinstance(outcome, dict) else None


def pytest_report_teststatus(report: Any, config: pytest.Config) -> tuple | None:
    """Put failed benchmark items in their outcome's category (not ``failed``)."""
    if report.when != "call" or not report.failed:
        return None
    if config.getoption("benchgate_details", False):
        return None
    outcome = _outcome(report)
    if outcome is None:
        return None
    found = CATEGORIES.get(outcome.get("status"))
    if found is None:
        return None
    category, letter, word = found
    colour = {"red": True} if category == "errored" else {"yellow": True}
    return category, letter, (word, colour)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo
) -> Generator[None, Any, Any]:
    """Give an error outcome's report its error message instead of a traceback."""
    report = yield
    if report.when == "call" and report.failed:
        outcome = _outcome(report)
        if outcome is not None and outcome.get("status") == Status.ERROR.value:
            from benchgate.safetext import clean_text

            report.longrepr = "error: " + clean_text(
                outcome.get("error") or outcome.get("detail") or "unknown failure", limit=1500
            )
    return report

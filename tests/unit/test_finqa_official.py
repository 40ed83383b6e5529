"""FinQA's scorer against the rules of FinQA's official evaluation script.

The official script (czyssrs/FinQA ``code/evaluate/evaluate.py``) executes a predicted
program and counts it correct when the result, rounded to 5 decimals, equals the item's
``exe_ans``; numbers are read by its ``str_to_num``: commas dropped, ``"x%"`` read as
x / 100. :func:`official_correct` below restates those two rules (our own code) for an
answer written as text, so that benchgate's FinQA scorer can be compared with them on the
same predictions:

* wherever the official rules accept an answer, benchgate accepts it too;
* where both read a percent sign, benchgate rejects what the official rules reject
  (``0.2%`` and ``2000%`` for a 20 % reference, issue 12 kind 8);
* the departures documented on :class:`benchgate.benchmarks.finqa.FinQA` (tolerance, a
  percent written without its sign, accounting negatives) are listed one by one: the
  official rules reject them, benchgate accepts them.
"""

from __future__ import annotations

import pytest

from benchgate.benchmarks.finqa import FinQA, finqa_reference
from benchgate.records import Completion, Item, Status


def official_str_to_num(text: str) -> float | None:
    """FinQA's ``str_to_num`` rule: commas dropped; ``x%`` is x / 100; else not a number."""
    text = text.replace(",", "")
    try:
        return float(text)
    except ValueError:
        pass
    if "%" in text:
        try:
            return float(text.replace("%", "")) / 100.0
        except ValueError:
            return None
    return None


def official_correct(answer: str, exe_ans: float | str) -> bool:
    """FinQA's execution-accuracy rule for a result written as ``answer``."""
    if isinstance(exe_ans, str):  # yes/no from the "greater" operation
        return answer == exe_ans
    value = official_str_to_num(answer)
    return value is not None and round(value, 5) == exe_ans


def item_for(answer: str, exe_ans: float | str) -> Item:
    reference, exe = finqa_reference(answer, exe_ans, "test")
    return Item(
        id="X_2015_page_1.pdf-1",
        benchmark="finqa",
        input={
            "question": "what is it?",
            "pre_text": [],
            "post_text": [],
            "table": [],
            "exe_ans": exe,
            "source_id": "X/2015/page_1.pdf-1",
        },
        reference=reference,
    )


def benchgate_correct(said: str, answer: str, exe_ans: float | str) -> bool:
    completion = Completion(text=f"The answer is {said}.", finish_reason="stop")
    score = FinQA().score(item_for(answer, exe_ans), completion, "none")
    assert score.status in (Status.CORRECT, Status.INCORRECT), score
    return score.status is Status.CORRECT


# (what the model says, qa.answer, qa.exe_ans)
OFFICIAL_ACCEPTS = [
    ("0.14116", "14.1%", 0.14116),
    ("14.116%", "14.1%", 0.14116),
    ("1,234", "1234", 1234.0),
    ("-0.02", "-2%", -0.02),
    ("2%", "2%", 0.02),
    ("380", "380", 380.0),
    ("0.35", "0.35", 0.35),
    ("yes", "yes", "yes"),
    ("no", "no", "no"),
]


@pytest.mark.parametrize(("said", "answer", "exe_ans"), OFFICIAL_ACCEPTS)
def test_benchgate_accepts_what_the_official_rules_accept(said, answer, exe_ans):
    assert official_correct(said, exe_ans)
    assert benchgate_correct(said, answer, exe_ans)


# Both read the percent sign the same way: these are wrong under both rules.
BOTH_REJECT = [
    ("0.2%", "20%", 0.2),
    ("2000%", "20%", 0.2),
    ("0.002", "20%", 0.2),
    ("14.5%", "14.1%", 0.14116),
    ("1234", "-1234", -1234.0),
    ("no", "yes", "yes"),
]


@pytest.mark.parametrize(("said", "answer", "exe_ans"), BOTH_REJECT)
def test_benchgate_rejects_what_the_official_rules_reject(said, answer, exe_ans):
    assert not official_correct(said, exe_ans)
    assert not benchgate_correct(said, answer, exe_ans)


# The documented departures: the official rules reject these, benchgate accepts them.
# (what the model says, qa.answer, qa.exe_ans, why)
DEPARTURES = [
    ("14.1%", "14.1%", 0.14116, "a rounded figure: tolerance instead of 5-decimal equality"),
    ("0.1412", "14.1%", 0.14116, "a rounded ratio: tolerance"),
    ("20", "20%", 0.2, "a percent written without its sign"),
    ("14.1", "14.1%", 0.14116, "a percent written without its sign, rounded"),
    ("(1,234)", "-1234", -1234.0, "the accounting convention for a negative number"),
    ("($1,234)", "-1234", -1234.0, "the accounting convention with a currency sign"),
]


@pytest.mark.parametrize(("said", "answer", "exe_ans", "why"), DEPARTURES)
def test_documented_departures_from_the_official_rules(said, answer, exe_ans, why):
    assert not official_correct(said, exe_ans), why
    assert benchgate_correct(said, answer, exe_ans), why


def test_the_departures_are_documented_on_the_benchmark():
    doc = FinQA.__doc__
    assert "code/evaluate/evaluate.py" in doc
    for topic in ("5 decimals", "str_to_num", "(1,234)", "exe_ans"):
        assert topic in doc, topic

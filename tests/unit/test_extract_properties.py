"""Properties the extractors keep for any text (hypothesis, derandomised: deterministic).

Whatever a model emits, the extractors never raise, return only values of their
documented form, and extract_code never hands the runner a SyntaxError.
"""

from __future__ import annotations

import pytest

hypothesis = pytest.importorskip("hypothesis", reason="hypothesis (dev extra) is not installed")
st = hypothesis.strategies

from benchgate.scoring import (  # noqa: E402 - after importorskip
    extract_choice,
    extract_code,
    extract_number,
    split_reasoning,
)
from benchgate.scoring.normalize import canonical_number  # noqa: E402

SETTINGS = hypothesis.settings(max_examples=150, derandomize=True, deadline=None)

# Fragments real completions are made of, so that random text hits the interesting paths.
FRAGMENTS = [
    "The answer is ",
    "Answer: ",
    "答案：",
    "选",
    "####",
    "\\boxed{",
    "}",
    "Final Answer: ",
    "A",
    "B",
    "C",
    "D",
    "a",
    "(B)",
    "B)",
    "B.",
    "Option ",
    " or ",
    " and ",
    "is correct",
    "<think>",
    "</think>",
    "<|channel|>",
    "final",
    "analysis",
    "<|message|>",
    "<|end|>",
    "assistantfinal",
    "<|im_end|>",
    "Question: ",
    "\nQ: ",
    "\n",
    "\n\n",
    " ",
    "$",
    "-",
    "−",
    "1",
    "18",
    "1,250.50",
    "3/4",
    "\\frac{1}{3}",
    "%",
    ".",
    ",",
    "=",
    "+",
    "*",
    "five",
    "１８",
    "১৮",
    "\u00a0",
    "```python\n",
    "```",
    "def f(x):",
    "    return x",
    "\t",
    "import math",
    "print(1)",
    "if __name__ == '__main__':",
    "(",
    ")",
    '"""',
    "'",
    ":",
]
text_strategy = st.one_of(
    st.text(max_size=80),
    st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join),
)

PROMPT = 'def f(x):\n    """Return x."""\n'


@SETTINGS
@hypothesis.given(text=text_strategy, labels=st.sampled_from(["ABCD", "AB", "ABCDE"]))
def test_extract_choice_returns_a_label_or_none(text: str, labels: str) -> None:
    got = extract_choice(text, labels)
    assert got is None or got in labels


@SETTINGS
@hypothesis.given(text=text_strategy, decimal_comma=st.booleans())
def test_extract_number_returns_canonical_or_none(text: str, decimal_comma: bool) -> None:
    got = extract_number(text, decimal_comma=decimal_comma)
    assert got is None or canonical_number(got) == got


@SETTINGS
@hypothesis.given(
    text=text_strategy,
    fmt=st.sampled_from(["none", "think-tags", "harmony"]),
    finish=st.sampled_from(["stop", "length", None]),
)
def test_split_reasoning_shapes(text: str, fmt: str, finish: str | None) -> None:
    reasoning, final = split_reasoning(text, fmt, finish)
    assert reasoning is None or isinstance(reasoning, str)
    assert final is None or isinstance(final, str)
    if fmt == "none":
        assert (reasoning, final) == (None, text)


@pytest.mark.filterwarnings("ignore::SyntaxWarning")
@SETTINGS
@hypothesis.given(text=text_strategy)
def test_extract_code_always_compiles(text: str) -> None:
    completion = extract_code(text, "f")
    compile(PROMPT + completion, "<check>", "exec")

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


# --------------------------------------------------------------------------------------
# Issue 12 properties
# --------------------------------------------------------------------------------------

from benchgate.benchmarks.gsm8k import GSM8K  # noqa: E402
from benchgate.records import Completion, Item, Status  # noqa: E402
from benchgate.scoring import (  # noqa: E402
    choice_extraction,
    number_extraction,
    yes_no_extraction,
)

MORE_FRAGMENTS = [
    *FRAGMENTS,
    "Réponse : ",
    "Respuesta: ",
    "答：",
    "選",
    "정답은 ",
    "Ответ: ",
    "◁think▷",
    "◁/think▷",
    "<reasoning>",
    "</reasoning>",
    "[THINK]",
    "[/THINK]",
    "<seed:think>",
    "(1,234)",
    "12 500",
    "12\u2009500",
    " × 10^5",
    "⁵",
    " not ",
    " or ",
    "yes",
    "No",
    "Question: Which organelle makes ATP?\n",
    "analysisthe",
    "assistantfinal",
]
unicode_text = st.one_of(
    st.text(max_size=120),
    st.lists(st.sampled_from(MORE_FRAGMENTS), max_size=30).map("".join),
    st.lists(st.one_of(st.sampled_from(MORE_FRAGMENTS), st.text(max_size=5)), max_size=30).map(
        "".join
    ),
)


@SETTINGS
@hypothesis.given(
    text=unicode_text,
    labels=st.sampled_from(["ABCD", "AB"]),
    with_options=st.booleans(),
    question=st.one_of(st.none(), st.text(max_size=40)),
)
def test_choice_extraction_never_raises(text, labels, with_options, question) -> None:
    organelles = ["nucleus", "mitochondria", "ribosome", "Golgi"]
    options = organelles[: len(labels)] if with_options else None
    found = choice_extraction(text, labels, options=options, question=question)
    assert found.answer is None or found.answer in labels
    assert isinstance(found.rule, str) and found.rule


@SETTINGS
@hypothesis.given(
    text=unicode_text,
    decimal_comma=st.booleans(),
    fallback=st.booleans(),
    accounting=st.booleans(),
    question=st.one_of(st.none(), st.text(max_size=40)),
)
def test_number_extraction_never_raises(
    text, decimal_comma, fallback, accounting, question
) -> None:
    found = number_extraction(
        text,
        decimal_comma=decimal_comma,
        last_number_fallback=fallback,
        accounting_negatives=accounting,
        question=question,
    )
    assert found.answer is None or canonical_number(found.answer) == found.answer


@SETTINGS
@hypothesis.given(
    text=unicode_text,
    fmt=st.sampled_from(["none", "think-tags", "harmony"]),
    finish=st.sampled_from(["stop", "length", None]),
)
def test_yes_no_and_split_never_raise(text, fmt, finish) -> None:
    assert yes_no_extraction(text).answer in (None, "yes", "no")
    delimiters = ["<<p>>", "<</p>>"] if fmt == "think-tags" else None
    reasoning, final = split_reasoning(text, fmt, finish, delimiters)
    assert reasoning is None or isinstance(reasoning, str)
    assert final is None or isinstance(final, str)


# Option lists quoted back (the question restated without an answer): a label that
# appears only inside the list is never chosen.
WORDS = st.sampled_from(
    "cell water energy light the of plants make sugar from carbon dioxide which one is "
    "true about these options question following consider".split()
)
OPTION_TEXT = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)
PROSE = st.lists(WORDS, max_size=8).map(" ".join)
LIST_FORMATS = ["{l}) {t}", "{l}. {t}", "({l}) {t}", "{l}: {t}", "[{l}] {t}", "**{l}.** {t}"]


@SETTINGS
@hypothesis.given(
    n=st.integers(min_value=2, max_value=4),
    texts=st.lists(OPTION_TEXT, min_size=4, max_size=4),
    fmt=st.sampled_from(LIST_FORMATS),
    inline=st.booleans(),
    before=PROSE,
    after=PROSE,
)
def test_never_picks_a_label_only_inside_a_quoted_option_list(n, texts, fmt, inline, before, after):
    labels = "ABCD"[:n]
    items = [fmt.format(l=lab, t=t) for lab, t in zip(labels, texts, strict=False)]
    listing = (" " if inline else "\n").join(items)
    text = f"{before}\n{listing}\n{after}".strip()
    assert extract_choice(text, labels) is None, text
    assert extract_choice(text, labels, question="Which one is true?") is None, text


# A completion cut by the token cap inside its reasoning never yields a number.
REASONING_BITS = st.lists(
    st.sampled_from(
        [
            "The answer is 18. ",
            "\\boxed{17} ",
            "#### 72 ",
            "so 9 * 2 = 18",
            "Final Answer: 5",
            "答案是 12",
            "Answer: B ",
            "wait, ",
            "\n",
            "16 - 3 - 4 = 9 ",
        ]
    ),
    min_size=1,
    max_size=12,
).map("".join)
OPENINGS = [
    ("think-tags", "<think>"),
    ("think-tags", ""),  # the template opened the block in the prompt
    ("think-tags", "◁think▷"),
    ("think-tags", "<reasoning>"),
    ("think-tags", "[THINK]"),
    ("harmony", "<|channel|>analysis<|message|>"),
    ("harmony", "<|start|>assistant<|channel|>analysis<|message|>"),
    ("harmony", "analysis"),
    ("harmony", "analysisthe user asks. "),
]
GSM_ITEM = Item(id="g", benchmark="gsm8k", input={"question": "How much?"}, reference="18")


@SETTINGS
@hypothesis.given(opening=st.sampled_from(OPENINGS), body=REASONING_BITS)
def test_cut_reasoning_never_yields_a_number(opening, body) -> None:
    fmt, head = opening
    text = head + body
    _, final = split_reasoning(text, fmt, "length")
    assert final is None, text
    score = GSM8K().score(GSM_ITEM, Completion(text=text, finish_reason="length"), fmt)
    assert score.status is Status.NO_ANSWER and score.extracted is None, text
    assert score.no_answer_kind == "reasoning_unfinished"

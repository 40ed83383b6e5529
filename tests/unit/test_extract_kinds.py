"""Issue 12's fault kinds, one table per kind (extractor level; benchmark level in
test_benchmark_scoring.py).

Longer than 600 lines on purpose: it is data, one table per kind in the issue's order, so
that the kept-back cases of a kind are added next to the issue's own examples.

Each table starts with the issue's own examples (ids ``issue-*``), then inputs of our own,
including ones that must stay unanswered or wrong. Kind 10 (ROUGE) is tested with
benchgate.scoring.rouge.
"""

from __future__ import annotations

import pytest

from benchgate.scoring import (
    choice_extraction,
    extract_choice,
    extract_code,
    extract_number,
    number_extraction,
    split_reasoning,
)

# --------------------------------------------------------------------------------------
# Kind 1: answer markers in other languages and scripts
# --------------------------------------------------------------------------------------

# (id, text, expected label)
MARKER_CHOICE_ROWS = [
    ("issue-fr", "Réponse : D", "D"),
    ("issue-es", "Respuesta: B", "B"),
    ("issue-zh-hant", "我選擇 B", "B"),
    ("issue-zh-bare-da", "所以答B", "B"),
    ("en", "The answer is C.", "C"),
    ("fr-sentence", "La bonne réponse est (B).", "B"),
    ("fr-nbsp-colon", "Réponse\u00a0: A", "A"),
    ("es-sentence", "La respuesta correcta es C.", "C"),
    ("es-option", "Opción correcta: A", "A"),
    ("pt-sentence", "A resposta é B.", "B"),
    ("pt-colon", "Resposta: C", "C"),
    ("pt-alternativa", "Alternativa correta: D", "D"),
    ("de-ist", "Die richtige Antwort ist B.", "B"),
    ("de-colon", "Antwort: C", "C"),
    ("de-lautet", "Die Antwort lautet D.", "D"),
    ("de-loesung", "Lösung: A", "A"),
    ("it", "La risposta corretta è B", "B"),
    ("ru-colon", "Ответ: B", "B"),
    ("ru-dash", "Правильный ответ — C", "C"),
    ("sw-ni", "Jibu ni B", "B"),
    ("sw-sahihi", "Jibu sahihi: C", "C"),
    ("bn-colon", "উত্তর: B", "B"),
    ("bn-hal", "সঠিক উত্তর হল C", "C"),
    ("te-samadhanam", "సమాధానం: B", "B"),
    ("te-javabu", "జవాబు: D", "D"),
    ("th-khue", "คำตอบคือ B", "B"),
    ("th-colon", "คำตอบ: C", "C"),
    ("th-bare", "ตอบ: D", "D"),
    ("ja-wa", "答えはBです。", "B"),
    ("ja-colon", "答え：C", "C"),
    ("ja-seikai", "正解はD", "D"),
    ("ko-colon", "정답: B", "B"),
    ("ko-eun", "정답은 C입니다.", "C"),
    ("ko-bare", "답: D", "D"),
    ("ko-bare-eun", "답은 A입니다", "A"),
    ("zh-colon", "答案：B", "B"),
    ("zh-shi", "答案是C", "C"),
    ("zh-xuanze", "我选择B", "B"),
    ("zh-da-fullwidth-colon", "答：C", "C"),
    ("zh-da-ascii-colon", "答:C", "C"),
    ("zh-da-bare", "答B", "B"),
    ("zh-hant-xuan", "選B", "B"),
    ("zh-xuan", "选C", "C"),
    ("zh-xuan-colon", "选：D", "D"),
    ("zh-xuanxiang-zhengque", "选项B正确", "B"),
    ("zh-hant-xuanxiang-zhengque", "選項C正確", "C"),
    ("zh-guxuan", "故选D。", "D"),
    ("zh-hant-zhengque-daan", "正確答案是A", "A"),
    ("zh-daan-xuan", "所以答案选B", "B"),
    ("zh-hant-wei", "答案為C", "C"),
    ("zh-fullwidth-letter", "答案：Ｄ", "D"),
    ("hi", "उत्तर: B", "B"),
    ("vi", "Đáp án: C", "C"),
    ("id", "Jawaban: D", "D"),
    ("tr", "Cevap: B", "B"),
    ("es-article", "La respuesta correcta es la B", "B"),
    ("ru-variant", "Ответ: вариант B", "B"),
    ("ko-beon", "정답은 B번입니다", "B"),
    ("fr-lettre", "La réponse est la lettre C", "C"),
    ("de-option", "Die richtige Antwort ist Option C", "C"),
    # --- must stay unanswered ------------------------------------------------------------
    ("fr-no-answer", "Réponse : je ne sais pas", None),
    ("zh-no-answer", "答案：不知道", None),
    ("zh-option-wrong", "选项B不正确", None),
    ("ko-no-answer", "정답을 모르겠습니다", None),
    ("de-two", "Antwort: A und B", None),
    ("es-two", "Respuesta: A o B", None),
    ("pt-negated-prose", "A resposta não é clara.", None),
    ("ru-no-answer", "Ответ: не знаю", None),
    ("de-negated", "Die Antwort ist nicht A.", None),
    ("zh-two", "答：A、B都对", None),
    ("fr-list-quoted", "Réponse :\nA) Paris\nB) Londres\nC) Berlin", None),
]


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in MARKER_CHOICE_ROWS]
)
def test_kind1_choice_markers(text: str, expected: str | None) -> None:
    assert extract_choice(text) == expected


# Every marker with an ASCII colon, a full-width colon, a spaced colon (French style) and
# no space: the same answer.
COLON_MARKERS = [
    "Answer", "Réponse", "Respuesta", "Resposta", "Risposta", "Antwort", "Lösung", "Ответ",
    "Jibu", "উত্তর", "సమాధానం", "జవాబు", "คำตอบ", "答案", "答", "答え", "正解", "정답", "답",
    "उत्तर", "Đáp án", "Jawaban", "Cevap",
]
COLONS = {"ascii": ": ", "fullwidth": "：", "spaced": " : ", "tight": ":"}


@pytest.mark.parametrize("colon", COLONS.values(), ids=list(COLONS))
@pytest.mark.parametrize("marker", COLON_MARKERS)
def test_kind1_every_marker_with_every_colon(marker: str, colon: str) -> None:
    assert extract_choice(f"{marker}{colon}C") == "C"
    assert extract_number(f"{marker}{colon}18") == "18"
    # a marker that names nothing stays unanswered
    assert extract_choice(f"{marker}{colon}?") is None


# (id, text, expected number)
MARKER_NUMBER_ROWS = [
    ("fr-colon", "Réponse : 18", "18"),
    ("fr-est", "La réponse est 18.", "18"),
    ("es-colon", "Respuesta: 18", "18"),
    ("pt", "A resposta é 18.", "18"),
    ("de-colon", "Antwort: 18", "18"),
    ("de-lautet", "Die Antwort lautet 18.", "18"),
    ("ru", "Ответ: 18", "18"),
    ("sw", "Jibu ni 18", "18"),
    ("bn-digits", "উত্তর: ১৮", "18"),
    ("te", "సమాధానం: 18", "18"),
    ("th", "คำตอบคือ 18", "18"),
    ("zh", "答案：18", "18"),
    ("zh-da", "答：18元", "18"),
    ("zh-hant", "答案為 18", "18"),
    ("ja", "答えは18です", "18"),
    ("ko-colon", "정답: 18", "18"),
    ("ko-eun", "정답은 18입니다", "18"),
    ("it", "La risposta è 18", "18"),
    ("vi", "Đáp án: 18", "18"),
    ("sw-final", "Jibu la mwisho ni 18, si 20", "18"),
    ("fr-spaced-colon", "Donc, la réponse est : 18", "18"),
    # the marker wins over the last number
    ("de-marker-beats-last", "Die Antwort lautet 18. Probe: 9 * 2 = 18, 16 - 7 = 9.", "18"),
    ("fr-marker-beats-last", "Réponse : 7. Vérification : 3 + 4 = 7 et 2 * 5 = 10.", "7"),
    # --- must stay unanswered ------------------------------------------------------------
    ("fr-hedge", "Réponse : je ne sais pas, peut-être 3 ou 4 ?", None),
    ("de-placeholder", "Die Rechnung: 9 * 2 = 18.\nDie Antwort lautet N.", None),
    ("es-hedge", "La respuesta es 3 o 4.", None),
]


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in MARKER_NUMBER_ROWS]
)
def test_kind1_number_markers(text: str, expected: str | None) -> None:
    assert extract_number(text) == expected


# --------------------------------------------------------------------------------------
# Kind 2: the answer later in the marker's sentence
# --------------------------------------------------------------------------------------

LATER_ROWS = [
    ("issue-after-weighing", "Answer: after weighing both, C", "C"),
    ("after-data-period", "Answer: given the data in the table, B.", "B"),
    ("with-reason", "Answer: I would go for C because it is larger", "C"),
    ("fr", "Réponse : après réflexion, D", "D"),
    ("parenthetical-copula", "The answer, after weighing both options, is C", "C"),
    ("negated-then-chosen", "The correct answer is clearly not B but C.", "C"),
    # --- must stay unanswered ------------------------------------------------------------
    ("two-alternatives", "Answer: it depends on A and B", None),
    ("not-alone", "Answer: not A", None),
    ("article", "Answer: A plant cell has chloroplasts.", None),
    ("compared-neither", "Answer: comparing A with C, neither fits", None),
    ("marker-then-list", "Answer:\nA) Paris\nB) London\nC) Berlin", None),
    ("next-sentence", "Answer: I am not sure. C was mentioned in class.", None),
]


@pytest.mark.parametrize(("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in LATER_ROWS])
def test_kind2_label_later_in_marker_sentence(text: str, expected: str | None) -> None:
    assert extract_choice(text) == expected


# --------------------------------------------------------------------------------------
# Kind 3: a letter followed by the other options being dismissed
# --------------------------------------------------------------------------------------

DISMISSED_ROWS = [
    ("issue-distractor", "Answer: B, A is only a distractor.", "B"),
    ("semicolon-plural", "The answer is C; A and B are wrong.", "C"),
    ("not-b", "Answer: D, not B.", "D"),
    ("zh-distractor", "答案：C，A是干扰项", "C"),
    ("ruled-out", "Answer: B, A can be ruled out", "B"),
    ("parenthetical", "Answer: C (A and B are distractors)", "C"),
    ("and-trap", "Answer: B, and A is a trap", "B"),
    ("de", "Antwort: C, A ist falsch.", "C"),
    # --- must stay unanswered ------------------------------------------------------------
    ("two-labels", "Answer: B, A", None),
    ("three-labels", "Answer: B, A or C", None),
    ("second-also-correct", "Answer: B, A is also correct", None),
    ("both-dismissed", "Answer: A and C are wrong", None),
    ("both-ruled-out", "Answer: A and C can be ruled out", None),
    ("zh-both-distractors", "答案：A和B是干扰项", None),
    ("hedged-alternative", "The answer is B or maybe C", None),
    ("hedged-comma", "The answer is B, or perhaps C.", None),
    ("fr-hedged", "Réponse : B ou peut-être C", None),
]


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in DISMISSED_ROWS]
)
def test_kind3_other_options_dismissed(text: str, expected: str | None) -> None:
    assert extract_choice(text) == expected


# --------------------------------------------------------------------------------------
# Kind 4: option texts (the extractor side; MMLU's own path is in test_benchmark_scoring.py)
# --------------------------------------------------------------------------------------

ORGANELLES = ["nucleus", "mitochondria", "ribosome", "Golgi apparatus"]
OPTION_TEXT_ROWS = [
    ("issue-boxed-text", "\\boxed{mitochondria}", "B"),
    ("answer-is-text", "The answer is: the mitochondria", "B"),
    ("answer-colon-text", "Answer: Golgi apparatus", "D"),
    ("bold-text", "**Answer:** ribosome.", "C"),
    # --- must stay unanswered ------------------------------------------------------------
    ("not-an-option", "The answer is: an organelle", None),
    ("two-options", "\\boxed{nucleus or mitochondria}", None),
    ("options-quoted", "A) nucleus\nB) mitochondria\nC) ribosome\nD) Golgi apparatus", None),
]


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in OPTION_TEXT_ROWS]
)
def test_kind4_option_text(text: str, expected: str | None) -> None:
    assert extract_choice(text, "ABCD", options=ORGANELLES) == expected


# --------------------------------------------------------------------------------------
# Kind 5: a restated question vs an invented next question
# --------------------------------------------------------------------------------------

QUESTION = "Which organelle produces most of the ATP in a eukaryotic cell?"
MATH_QUESTION = (
    "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and "
    "bakes muffins for her friends every day with four. She sells the remainder for $2 "
    "each. How much does she make every day?"
)

# (id, text, question, expected label)
RESTATED_CHOICE_ROWS = [
    (
        "issue-weak-then-restated-explicit",
        f"(A) looks plausible at first.\n\nQuestion: {QUESTION}\nThe answer is C",
        QUESTION,
        "C",
    ),
    (
        "restated-paraphrase-case",
        "Maybe (B).\n\nQuestion: which organelle produces most of the ATP in a eukaryotic "
        "cell\nAnswer: C",
        QUESTION,
        "C",
    ),
    (
        "own-explicit-beats-restated-weak",
        f"The answer is C.\n\nQuestion: {QUESTION}\n(A) is a common guess.",
        QUESTION,
        "C",
    ),
    (
        "zh-restated",
        "可能是(A)。\n\n问题：下列哪种细胞器产生ATP最多？\n答案：C",
        "下列哪种细胞器产生ATP最多？",
        "C",
    ),
    # --- invented next questions never count --------------------------------------------
    (
        "invented-after-weak",
        "Only (C) fits.\n\nQuestion: What is the capital of France?\nA) Paris\nAnswer: A",
        QUESTION,
        "C",
    ),
    (
        "invented-only",
        "I am not sure.\n\nQuestion: What is 2+2?\nA) 3\nB) 4\nAnswer: B",
        QUESTION,
        None,
    ),
    (
        "restated-without-answer",
        f"Let me restate it.\n\nQuestion: {QUESTION}\nA) nucleus\nB) ribosome\nC) mitochondria",
        QUESTION,
        None,
    ),
    # without the question the first piece that answers still wins (documented)
    (
        "no-question-first-piece",
        f"(A) looks plausible at first.\n\nQuestion: {QUESTION}\nThe answer is C",
        None,
        "A",
    ),
]


@pytest.mark.parametrize(
    ("text", "question", "expected"),
    [pytest.param(t, q, e, id=i) for i, t, q, e in RESTATED_CHOICE_ROWS],
)
def test_kind5_restated_question_choice(text: str, question: str | None, expected: str) -> None:
    assert extract_choice(text, question=question) == expected


RESTATED_NUMBER_ROWS = [
    (
        "issue-last-number-then-restated-explicit",
        f"Let me see, 5 + 3 = 8.\n\nQuestion: {MATH_QUESTION}\nThe answer is 18",
        "18",
    ),
    (
        "restated-hashes",
        f"16 - 3 = 13\n\nQuestion: {MATH_QUESTION}\n16 - 3 - 4 = 9, 9 * 2 = 18\n#### 18",
        "18",
    ),
    (
        "own-marker-beats-restated-last-number",
        f"The answer is 18.\n\nQuestion: {MATH_QUESTION}\nShe eats 3 and bakes 4, 9 left.",
        "18",
    ),
    # --- invented next questions never count --------------------------------------------
    (
        "invented-next-question",
        "So she earns 18 dollars.\n\nQuestion: Weng earns $12 an hour for babysitting. "
        "Yesterday she did 50 minutes. How much did she earn?\nThe answer is 10",
        "18",
    ),
    (
        "invented-only",
        "I cannot tell.\n\nQuestion: What is 2 + 2?\nThe answer is 4",
        None,
    ),
]


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in RESTATED_NUMBER_ROWS]
)
def test_kind5_restated_question_number(text: str, expected: str | None) -> None:
    assert extract_number(text, question=MATH_QUESTION) == expected


# --------------------------------------------------------------------------------------
# Kind 6: decoded harmony starting in lower case
# --------------------------------------------------------------------------------------

HARMONY_ROWS = [
    # (id, text, finish, expected final, expected number)
    (
        "issue-lowercase",
        "analysisthe user wants 6*7...assistantfinalThe answer is 42",
        "stop",
        "The answer is 42",
        "42",
    ),
    ("issue-lowercase-cut", "analysisthe user wants 6*7 = 42 so", "length", None, None),
    ("lowercase-digits-final", "analysiswe need 3+4=7.assistantfinal7", "stop", "7", "7"),
    (
        "commentary-first",
        "commentarylet me check the table...assistantfinalThe answer is 12.",
        "stop",
        "The answer is 12.",
        "12",
    ),
    ("lowercase-stop-no-final", "analysisso the answer is 42, but", "stop", None, None),
    # --- prose that merely starts like a channel name --------------------------------------
    ("finally-prose", "finally, the answer is 42", "stop", "finally, the answer is 42", "42"),
    ("analysis-space-prose", "analysis shows 42", "stop", "analysis shows 42", "42"),
    ("finalize-prose", "finalize: 42", "stop", "finalize: 42", "42"),
]


@pytest.mark.parametrize(
    ("text", "finish", "final", "number"),
    [pytest.param(t, f, fin, n, id=i) for i, t, f, fin, n in HARMONY_ROWS],
)
def test_kind6_decoded_harmony(text: str, finish: str, final: str | None, number: str) -> None:
    _, got = split_reasoning(text, "harmony", finish)
    assert got == final
    assert (None if got is None else extract_number(got)) == number
    if finish == "stop":  # the safety net agrees when the whole text reaches the extractor
        assert extract_number(text) == number


# --------------------------------------------------------------------------------------
# Kind 7: numeric answer phrases
# --------------------------------------------------------------------------------------

# (id, text, expected, kwargs)
NUMBER_PHRASE_ROWS = [
    # negation
    ("issue-not-20-it-is-18", "The answer is not 20; it is 18", "18", {}),
    ("isnt-its", "The answer isn't 7; it's 9.", "9", {}),
    ("not-but", "The total is not 12 but 15.", "15", {}),
    ("comma-not", "The answer is 20, not 18.", "20", {}),
    ("not-alone", "The answer is not 20.", None, {}),
    ("rejected-after", "20 is not the answer.", None, {}),
    ("alternatives", "The answer is 3 or 4.", None, {}),
    # scientific notation
    ("issue-times-caret", "1.2 × 10^5", "120000", {}),
    ("issue-e-notation", "1.2e5", "120000", {}),
    ("issue-x-superscript", "1.2 x 10⁵", "120000", {}),
    ("negative-exponent", "The answer is 3.5 × 10^-2", "0.035", {}),
    ("latex-braces", "\\boxed{6.02 \\times 10^{23}}", "602000000000000000000000", {}),
    ("middle-dot-superscript", "The answer is 2·10³.", "2000", {}),
    ("python-power", "The answer is 1.5 * 10**3", "1500", {}),
    ("ten-superscript-alone", "About 10⁶ cells.", "1000000", {}),
    ("decimal-comma-mantissa", "Die Antwort lautet 1,2 × 10^5.", "120000", {"decimal_comma": True}),
    ("decimal-comma-e-notation", "Die Antwort lautet 1,2e5", "120000", {"decimal_comma": True}),
    # space and thin-space thousands separators
    ("issue-space-group", "12 500", "12500", {}),
    ("thin-space", "12\u2009500", "12500", {}),
    ("narrow-nbsp", "The answer is 12\u202f500", "12500", {}),
    ("figure-space", "The answer is 12\u2007500", "12500", {}),
    ("one-digit-after-is", "The answer is 4 500", "4500", {}),
    ("three-groups", "The answer is 1 250 000", "1250000", {}),
    ("with-decimals", "The answer is 2 500.75", "2500.75", {}),
    ("range-stays-split", "between 3 and 4 500 ml", "500", {}),
    ("range-decimal-comma", "entre 3 et 4 500 ml", "4500", {"decimal_comma": True}),
    ("range-thin-space", "between 3 and 4\u2009500 ml", "4500", {}),
    ("compound-stays-split", "I bought 3 200-gram packs", "200", {}),
    ("two-digit-compound", "She ran 12 400-meter laps", "400", {}),
]


@pytest.mark.parametrize(
    ("text", "expected", "kwargs"),
    [pytest.param(t, e, kw, id=i) for i, t, e, kw in NUMBER_PHRASE_ROWS],
)
def test_kind7_number_phrases(text: str, expected: str | None, kwargs: dict) -> None:
    assert extract_number(text, **kwargs) == expected


# (id, text, expected, percent)
ACCOUNTING_ROWS = [
    ("issue-parenthesized", "The net change is (1,234).", "-1234", False),
    ("currency-inside", "The loss was ($1,234) million.", "-1234", False),
    ("currency-outside", "Net income: $(2,500)", "-2500", False),
    ("percent", "The change is (12.5%).", "-12.5", True),
    ("signed-stays", "The answer is -7 (see above).", "-7", False),
    ("explanation-in-parens", "The answer is 12 (rounded).", "12", False),
]


@pytest.mark.parametrize(
    ("text", "expected", "percent"),
    [pytest.param(t, e, p, id=i) for i, t, e, p in ACCOUNTING_ROWS],
)
def test_kind8_accounting_negatives(text: str, expected: str, percent: bool) -> None:
    found = number_extraction(text, accounting_negatives=True)
    assert (found.answer, found.percent) == (expected, percent)


def test_accounting_negatives_are_opt_in() -> None:
    assert extract_number("The net change is (1,234).") == "1234"


# --------------------------------------------------------------------------------------
# Kind 9: any top-level binding of the HumanEval entry point
# --------------------------------------------------------------------------------------

ADD_PROMPT = 'def add(a: int, b: int) -> int:\n    """Return a + b."""\n'
ADD_TEST = (
    "def check(candidate):\n    assert candidate(2, 3) == 5\n    assert candidate(-1, 1) == 0\n"
)


def run_add(completion: str) -> str:
    program = ADD_PROMPT + completion + "\n" + ADD_TEST + "\ncheck(add)\n"
    code = compile(program, "<check>", "exec")  # a SyntaxError fails the test loudly
    try:
        exec(code, {"__name__": "check_program"})
    except Exception as exc:  # noqa: BLE001 - any runtime failure is a failed check
        return f"failed: {type(exc).__name__}"
    return "passed"


BINDING_ROWS = [
    ("issue-lambda", "add = lambda a, b: a + b\n", "passed"),
    ("fenced-lambda", "```python\nadd = lambda a, b: a + b\n```", "passed"),
    (
        "annotated",
        "from typing import Callable\n\nadd: Callable[[int, int], int] = lambda a, b: a + b\n",
        "passed",
    ),
    ("import-as", "from operator import add as plus\nadd = plus\n", "passed"),
    ("from-import", "```python\nfrom operator import add\n```", "passed"),
    ("import-module-as", "import operator\nadd = operator.add\n", "passed"),
    (
        "decorated-def",
        "import functools\n\n\n@functools.lru_cache(maxsize=None)\ndef add(a, b):\n"
        "    return a + b\n",
        "passed",
    ),
    (
        "callable-instance",
        "class _Adder:\n    def __call__(self, a, b):\n        return a + b\n\n\nadd = _Adder()\n",
        "passed",
    ),
    ("alias-of-helper", "def _plus(a, b):\n    return a + b\n\n\nadd = _plus\n", "passed"),
    (
        "tuple-target",
        "add, sub = (lambda a, b: a + b), (lambda a, b: a - b)\n",
        "passed",
    ),
    ("prose-then-lambda", "Here is a one-liner:\n\nadd = lambda a, b: a + b\n", "passed"),
    # --- must stay wrong, or stay a body -------------------------------------------------
    ("bound-to-none", "add = None\n", "failed"),
    ("wrong-lambda", "add = lambda a, b: a - b\n", "failed"),
    # a stripped body whose first line assigns a local named like the function
    ("local-variable-body", "add = a + b\n    return add\n", "passed"),
    ("call-not-binding", "    return a + b\n\nresult = add(2, 3)\nprint(result)\n", "passed"),
]


@pytest.mark.parametrize(
    ("text", "expected"), [pytest.param(t, e, id=i) for i, t, e in BINDING_ROWS]
)
def test_kind9_entry_point_bindings(text: str, expected: str) -> None:
    assert run_add(extract_code(text, "add")).split(":")[0] == expected


# --------------------------------------------------------------------------------------
# Kind 11: reasoning markup beyond the three formats
# --------------------------------------------------------------------------------------

# (id, text, finish, expected final, expected number)
DELIMITER_ROWS = [
    (
        "issue-kimi",
        "◁think▷maybe \\boxed{3}◁/think▷The answer is 4",
        "stop",
        "The answer is 4",
        "4",
    ),
    (
        "issue-reasoning-tag",
        "<reasoning>first guess \\boxed{3}</reasoning>\nThe answer is 4",
        "stop",
        "The answer is 4",
        "4",
    ),
    (
        "issue-vendor-seed",
        "<seed:think>\\boxed{3}?</seed:think>\\boxed{4}",
        "stop",
        "\\boxed{4}",
        "4",
    ),
    ("minimax", "<mm:think>\\boxed{3}</mm:think>Final: 4", "stop", "Final: 4", "4"),
    ("mistral", "[THINK]\\boxed{3}[/THINK]The answer is 4.", "stop", "The answer is 4.", "4"),
    (
        "cohere",
        "<|START_THINKING|>\\boxed{3}<|END_THINKING|>The answer is 4",
        "stop",
        "The answer is 4",
        "4",
    ),
    ("pipe-think", "<|think|>\\boxed{3}<|/think|>The answer is 4", "stop", "The answer is 4", "4"),
    (
        "open-thoughts",
        "<|begin_of_thought|>\\boxed{3}<|end_of_thought|>\\boxed{4}",
        "stop",
        "\\boxed{4}",
        "4",
    ),
    # --- unfinished reasoning is never scored --------------------------------------------
    ("kimi-unclosed", "◁think▷the answer is \\boxed{3}", "length", None, None),
    ("reasoning-unclosed-stop", "<reasoning>so \\boxed{3}", "stop", None, None),
    ("mistral-unclosed", "[THINK]so 3", "length", None, None),
]


@pytest.mark.parametrize(
    ("text", "finish", "final", "number"),
    [pytest.param(t, f, fin, n, id=i) for i, t, f, fin, n in DELIMITER_ROWS],
)
def test_kind11_builtin_delimiters(text: str, finish: str, final: str | None, number: str) -> None:
    _, got = split_reasoning(text, "think-tags", finish)
    assert got == final
    assert (None if got is None else extract_number(got)) == number
    # the safety net drops the block even when the model's format is set to "none"
    assert extract_number(text) == number


CUSTOM = ["<<plan>>", "<</plan>>"]


def test_kind11_custom_delimiters() -> None:
    text = "<<plan>>Maybe \\boxed{7}.<</plan>> The answer is 8"
    expected = ("Maybe \\boxed{7}.", "The answer is 8")
    assert split_reasoning(text, "think-tags", "stop", CUSTOM) == expected
    # without the pair the block is not known: it stays in the final text
    assert split_reasoning(text, "think-tags", "stop")[1] == text
    assert split_reasoning("<<plan>>Maybe 7", "think-tags", "length", CUSTOM) == ("Maybe 7", None)
    assert split_reasoning("<<plan>>Maybe 7", "think-tags", "stop", CUSTOM) == ("Maybe 7", None)


@pytest.mark.parametrize(
    ("delimiters", "fmt", "message"),
    [
        (["<x>"], "think-tags", "list of two strings"),
        (["<x>", "<x>"], "think-tags", "must differ"),
        (["", "</x>"], "think-tags", "must not be blank"),
        ("<x>", "think-tags", "list of two strings"),
        (["<x>", "</x>"], "harmony", "apply to reasoning_format 'think-tags'"),
        (["<x>", "</x>"], "none", "apply to reasoning_format 'think-tags'"),
    ],
)
def test_kind11_bad_delimiters(delimiters: object, fmt: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        split_reasoning("x", fmt, "stop", delimiters)  # type: ignore[arg-type]


# --------------------------------------------------------------------------------------
# Score.rule: the rule names are stable
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("The answer is B.", "marker"),
        ("\\boxed{C}", "boxed"),
        ("Answer: after weighing both, C", "marker-sentence"),
        ("B is correct.", "label-first"),
        ("I think it's B.", "soft-marker"),
        ("B", "lone-label"),
        ("C. make NADH", "leading-label"),
        ("Only (C) matches.", "weak-label"),
        ("", "empty"),
        ("A) x\nB) y\nC) z", "option-list"),
        ("I don't know.", "no-label"),
    ],
)
def test_choice_rules(text: str, rule: str) -> None:
    assert choice_extraction(text).rule == rule


@pytest.mark.parametrize(
    ("text", "rule"),
    [
        ("\\boxed{18}", "boxed"),
        ("#### 18", "hashes"),
        ("Final Answer: 18", "final-answer"),
        ("The answer is 18.", "marker"),
        ("18 is the answer.", "is-the-answer"),
        ("9 * 2 = 18", "last-number"),
        ("  ", "empty"),
        ("no digits here", "no-number"),
        ("The answer is not 18.", "negated"),
        ("9 * 2 = 18\nThe answer is N.", "marker-without-number"),
    ],
)
def test_number_rules(text: str, rule: str) -> None:
    assert number_extraction(text).rule == rule


def test_number_rule_without_fallback() -> None:
    assert number_extraction("9 * 2 = 18", last_number_fallback=False).rule == "no-marker"


BASE_ENTRY = "models:\n  - id: m\n    backend: scripted\n    model: rules.yaml\n"


@pytest.mark.parametrize(
    ("extra", "fmt", "pair"),
    [
        (
            "    reasoning_delimiters: ['<<plan>>', '<</plan>>']\n",
            "think-tags",
            ["<<plan>>", "<</plan>>"],
        ),
        (
            "    reasoning_format: think-tags\n    reasoning_delimiters: ['[R]', '[/R]']\n",
            "think-tags",
            ["[R]", "[/R]"],
        ),
        ("", "none", None),
    ],
)
def test_kind11_models_yaml_delimiters(tmp_path, extra: str, fmt: str, pair: list | None) -> None:
    from benchgate.config import load_models

    path = tmp_path / "models.yaml"
    path.write_text(BASE_ENTRY + extra, encoding="utf-8")
    spec = load_models(path)[0]
    assert (spec.reasoning_format, spec.reasoning_delimiters) == (fmt, pair)
    assert spec.is_reasoning() is (pair is not None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ("    reasoning_delimiters: ['<t>']\n", "list of two strings"),
        ("    reasoning_delimiters: ['<t>', '<t>']\n", "must differ"),
        ("    reasoning_delimiters: ['  ', '</t>']\n", "must not be blank"),
        ("    reasoning_delimiters: '<t>'\n", "valid list"),
        (
            "    reasoning_format: harmony\n    reasoning_delimiters: ['<t>', '</t>']\n",
            "set reasoning_format: think-tags",
        ),
        (
            "    reasoning_format: none\n    reasoning_delimiters: ['<t>', '</t>']\n",
            "set reasoning_format: think-tags",
        ),
    ],
)
def test_kind11_bad_models_yaml_delimiters_name_file_entry_field_and_fix(
    tmp_path, extra: str, message: str
) -> None:
    from benchgate.config import load_models
    from benchgate.errors import ConfigError

    path = tmp_path / "models.yaml"
    path.write_text(BASE_ENTRY + extra, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_models(path)
    text = str(info.value)
    assert str(path) in text and "models[0] (id 'm')" in text
    assert "field 'reasoning_delimiters'" in text and "Fix:" in text and message in text

"""Table-driven tests of answer extraction (issue 5, "Extraction").

Every row is one class of completion; the issue's own examples come first in each table
and must pass exactly as stated. Longer realistic completions live in
fixtures/completions/ (test_extract_corpus.py); code extraction is in
test_extract_code.py.
"""

from __future__ import annotations

import pytest

from benchgate.scoring import extract_choice, extract_number, split_reasoning

# (id, text, labels, expected)
CHOICE_ROWS = [
    # --- issue 5 examples -------------------------------------------------------------
    ("issue-correct-option-bold-paren", "The correct option is **(C)**.", "ABCD", "C"),
    ("issue-chinese-colon", "答案：B", "ABCD", "B"),
    ("issue-later-answer-wins", "I think it's A. Wait, no: the final answer is D.", "ABCD", "D"),
    ("issue-article-sentence", "A plant cell has a cell wall.", "ABCD", None),
    ("issue-article-after-marker", "Answer: A plant cell has chloroplasts.", "ABCD", None),
    ("issue-capital-word-because", "Because the enzyme is denatured.", "ABCD", None),
    ("issue-capital-word-definitely", "Definitely the mitochondria.", "ABCD", None),
    ("issue-capital-words-many", "Both Cells Divide And Accumulate.", "ABCD", None),
    # --- explicit markers ------------------------------------------------------------
    ("answer-is", "The answer is B.", "ABCD", "B"),
    ("answer-colon-paren-text", "Answer: A) Paris", "ABCD", "A"),
    ("answer-is-label-colon-text", "The answer is B: London", "ABCD", "B"),
    ("answer-because", "The answer is A because chlorophyll absorbs light.", "ABCD", "A"),
    ("answer-comma-since", "The answer is A, since chlorophyll absorbs light.", "ABCD", "A"),
    ("answer-option-word", "The correct answer is option C.", "ABCD", "C"),
    ("answer-colon-paren", "The correct answer is: (D) None of the above", "ABCD", "D"),
    ("answer-heading-newline", "### Answer\nB", "ABCD", "B"),
    ("answer-bold-heading", "**Answer:** C", "ABCD", "C"),
    ("answer-colon-newline-bold", "Answer:\n\n**C**", "ABCD", "C"),
    ("best-answer", "Of these, the best answer would be D.", "ABCD", "D"),
    ("boxed", "\\boxed{C}", "ABCD", "C"),
    ("boxed-text", "$\\boxed{\\text{B}}$", "ABCD", "B"),
    ("label-is-correct", "B is correct.", "ABCD", "B"),
    ("paren-label-is-correct-answer", "(B) is the correct answer.", "ABCD", "B"),
    ("option-is-correct", "Option D is correct because it lists all three.", "ABCD", "D"),
    ("later-marker-wins", "Answer: A\nOn reflection, the answer is C.", "ABCD", "C"),
    (
        "label-then-explicit",
        "A. Helper T cells\n\nThe correct answer is D. Plasma cells.",
        "ABCD",
        "D",
    ),
    ("full-width", "答案：Ｂ．", "ABCD", "B"),
    ("full-width-bare", "Ｃ", "ABCD", "C"),
    # --- Chinese / Japanese ----------------------------------------------------------
    ("zh-answer-is", "答案是C", "ABCD", "C"),
    ("zh-xuan", "选C", "ABCD", "C"),
    ("zh-guxuan", "故选D。", "ABCD", "D"),
    ("zh-correct-answer-wei", "正确答案为A，因为……", "ABCD", "A"),
    ("zh-correct-answer-colon", "正确答案是：B。理由如下。", "ABCD", "B"),
    ("zh-option-correct", "C选项正确。", "ABCD", "C"),
    ("zh-elimination", "A选项错误，B选项错误，C选项正确，D选项错误。", "ABCD", "C"),
    ("zh-negated", "A选项不正确。", "ABCD", None),
    ("zh-answer-xiang", "答案是C项", "ABCD", "C"),
    ("ja-answer", "答えはBです。", "ABCD", "B"),
    # --- softer commitments ----------------------------------------------------------
    ("soft-go-with", "I'll go with B.", "ABCD", "B"),
    ("soft-think-its", "Hmm, I think it's C.", "ABCD", "C"),
    ("soft-choose", "I choose D", "ABCD", "D"),
    ("soft-article", "It is A good question, but I cannot say.", "ABCD", None),
    # --- the answer's form -----------------------------------------------------------
    ("bare", "B", "ABCD", "B"),
    ("bare-dot", "B.", "ABCD", "B"),
    ("bare-paren", "(B)", "ABCD", "B"),
    ("bare-bold", "**B**", "ABCD", "B"),
    ("option-d", "Option D", "ABCD", "D"),
    ("option-d-dot", "Option D.", "ABCD", "D"),
    ("label-dot-text", "C. make NADH", "ABCD", "C"),
    ("paren-label-text", "(B) London is the capital.", "ABCD", "B"),
    ("last-line-label", "Chloroplasts capture light energy.\n\nB", "ABCD", "B"),
    (
        "other-options-enumerated",
        "The answer is D. The other options (A, B, C) are wrong.",
        "ABCD",
        "D",
    ),
    ("answer-then-other-wrong", "The answer is A. B is wrong because it is smaller.", "ABCD", "A"),
    ("choice-here-is", "The right choice here is B", "ABCD", "B"),
    ("quoted-label", 'The answer is "B".', "ABCD", "B"),
    ("all-of-the-above-paren", "All of the above (D)", "ABCD", "D"),
    (
        "analysis-per-option-then-answer",
        "Let's analyze each option:\n\nA. Paris - the capital of France.\n"
        "B. London - the capital of the UK.\n\nTherefore, the answer is A.",
        "ABCD",
        "A",
    ),
    (
        "starts-article-then-explicit",
        "A deletion of one nucleotide shifts the frame. The correct answer is C.",
        "ABCD",
        "C",
    ),
    # --- lower case (documented: only after a marker or alone, followed by punctuation)
    ("lower-after-marker", "answer: c", "ABCD", "C"),
    ("lower-after-marker-dot", "the answer is b.", "ABCD", "B"),
    ("lower-paren", "Answer: a) Paris", "ABCD", "A"),
    ("lower-bare", "b", "ABCD", "B"),
    ("lower-article", "the answer is a mitochondrion", "ABCD", None),
    ("lower-prose", "a cell is a unit of life", "ABCD", None),
    # --- refusals, hedges and lists --------------------------------------------------
    ("not-a", "The answer is not A.", "ABCD", None),
    ("a-or-b", "The answer is A or B", "ABCD", None),
    ("a-and-c", "The answer is A and C.", "ABCD", None),
    ("parens-or", "The answer is (A) Paris or (B) London.", "ABCD", None),
    ("neither-nor", "Neither A nor B is correct.", "ABCD", None),
    ("both-correct", "Both A and B are correct", "ABCD", None),
    ("three-labels", "The answer is B, C and D", "ABCD", None),
    ("zh-two-answers", "答案：B、C", "ABCD", None),
    ("is-incorrect", "B is incorrect.", "ABCD", None),
    ("options-list", "A) Paris\nB) London\nC) Berlin\nD) Madrid", "ABCD", None),
    ("options-inline", "A) Paris B) London C) Berlin D) Madrid", "ABCD", None),
    (
        "options-list-then-answer",
        "A) Paris\nB) London\nC) Berlin\nD) Madrid\nAnswer: C",
        "ABCD",
        "C",
    ),
    ("answer-colon-then-list", "Answer:\nA) Paris\nB) London\nC) Berlin", "ABCD", None),
    ("weak-paren", "Only (C) matches the description.", "ABCD", "C"),
    ("weak-two-parens", "I'm torn between (A) and (C).", "ABCD", None),
    ("b-cells", "B-cells make antibodies.", "ABCD", None),
    ("ad", "The answer is A.D. 1066", "ABCD", None),
    ("apostrophe", "A's allele dominates.", "ABCD", None),
    ("no-answer", "I don't know.", "ABCD", None),
    ("empty", "", "ABCD", None),
    # --- continuations and leaked tokens ---------------------------------------------
    (
        "continuation-first-wins",
        "Answer: A\n\nQuestion: What is 2+2?\nA) 3\nB) 4\nAnswer: B",
        "ABCD",
        "A",
    ),
    ("continuation-q", "B\n\nQ: Which gas do plants release?\nAnswer: C", "ABCD", "B"),
    (
        "question-echo-then-answer",
        "Question: Which is a noble gas?\nA) Neon\nB) Iron\nAnswer: A",
        "ABCD",
        "A",
    ),
    ("chatml-leak", "Answer: B<|im_end|>\n<|im_start|>user\nAnswer: D", "ABCD", "B"),
    # --- label sets ------------------------------------------------------------------
    ("out-of-range", "The answer is E", "ABCD", None),
    ("five-options", "The answer is E", "ABCDE", "E"),
    ("piqa-out-of-range", "The answer is C.", "AB", None),
    ("piqa-solution", "The better solution is B.", "AB", "B"),
    ("piqa-bare", "A", "AB", "A"),
    ("lowercase-labels-arg", "The answer is B.", "abcd", "B"),
    # --- reasoning that reached the extractor (safety net) ---------------------------
    ("think-closed", "<think>It is A? no</think>\n\nThe answer is C.", "ABCD", "C"),
    ("think-unclosed", "<think>It is A? The answer is A", "ABCD", None),
    (
        "harmony-raw",
        "<|channel|>analysis<|message|>Maybe A<|end|><|start|>assistant<|channel|>final"
        "<|message|>B<|return|>",
        "ABCD",
        "B",
    ),
    ("harmony-decoded", "analysisThe options... maybe A.assistantfinalB", "ABCD", "B"),
    ("harmony-decoded-no-final", "analysisThe answer is A, probably", "ABCD", None),
    ("prose-starting-analysis", "analysis of the options shows the answer is B.", "ABCD", "B"),
]


@pytest.mark.parametrize(
    ("text", "labels", "expected"),
    [pytest.param(t, lab, e, id=i) for i, t, lab, e in CHOICE_ROWS],
)
def test_extract_choice(text: str, labels: str, expected: str | None) -> None:
    assert extract_choice(text, labels) == expected


OPTIONS = ["Paris", "London", "Berlin", "Madrid"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("The answer is: Berlin.", "C", id="names-option-text"),
        pytest.param("Answer: C Berlin", "C", id="label-then-its-text"),
        pytest.param("Answer: A Berlin", None, id="label-then-other-text"),
        pytest.param("Madrid", "D", id="whole-text-is-option"),
        pytest.param("The answer is: somewhere in Europe.", None, id="no-option-named"),
        pytest.param("The answer is: Paris or London.", None, id="two-options-named"),
    ],
)
def test_extract_choice_with_options(text: str, expected: str | None) -> None:
    assert extract_choice(text, "ABCD", options=OPTIONS) == expected


def test_option_text_needs_options() -> None:
    assert extract_choice("The answer is: Berlin.") is None
    assert extract_choice("Answer: C Berlin") is None


@pytest.mark.parametrize("labels", ["", "AB1", "AAB", "A B"])
def test_extract_choice_rejects_bad_labels(labels: str) -> None:
    with pytest.raises(ValueError, match="labels"):
        extract_choice("B", labels)


def test_extract_choice_rejects_options_of_wrong_length() -> None:
    with pytest.raises(ValueError, match="options has 2 entries"):
        extract_choice("B", "ABCD", options=["x", "y"])


def test_extract_choice_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="must be a str"):
        extract_choice(None)  # type: ignore[arg-type]


# (id, text, expected, kwargs)
NUMBER_ROWS = [
    # --- issue 5 examples -------------------------------------------------------------
    ("issue-final-answer-boxed", "Final Answer: \\boxed{42}", "42", {}),
    ("issue-currency-commas", "She pays $1,250.50 in total.", "1250.5", {}),
    ("issue-hashes-negative", "#### -7", "-7", {}),
    (
        "issue-exemplar-in-reasoning",
        "<think>The exemplar's answer was #### 72.</think>She pays 18 dollars.",
        "18",
        {},
    ),
    (
        "issue-exemplar-continuation",
        "So she makes $18.\n\nQuestion: Weng earns $12 an hour...\n#### 72",
        "18",
        {},
    ),
    (
        "issue-exemplar-quoted-then-answer",
        "In the example the answer is 72. Here 9 * 2 = 18, so the answer is 18.",
        "18",
        {},
    ),
    ("issue-think-41", "<think>try 40 ... no</think> The answer is 41", "41", {}),
    ("issue-think-unclosed", "<think>try 40 ...", None, {}),
    # --- markers -----------------------------------------------------------------------
    ("so-the-answer", "So the answer is 18.", "18", {}),
    ("answer-calc", "The answer is 5 + 13 = 18", "18", {}),
    ("answer-sentence", "The answer is: she earns $18 per day.", "18", {}),
    (
        "answer-heads-solution",
        "Answer: Janet sells 16 - 3 - 4 = 9 eggs. She makes 9 * 2 = $18.",
        "18",
        {},
    ),
    ("answer-colon-newline", "Answer:\n\n18", "18", {}),
    (
        "answer-then-explanation",
        "The answer is 18. Explanation: 16 - 3 - 4 = 9, 9 * 2 = 18 and 7 eggs kept.",
        "18",
        {},
    ),
    ("explicit-beats-last", "The answer is 20. Check: 4 * 6 = 24", "20", {}),
    ("approximately", "The answer is approximately 18.5. Other values: 3, 4.", "18.5", {}),
    ("minerva", "Final Answer: The final answer is $18$. I hope it is correct.", "18", {}),
    ("final-beats-answer", "The answer is 40? No. Final answer: 41", "41", {}),
    ("hashes-beats-answer-is", "The answer is 17.\n#### 18", "18", {}),
    ("last-boxed-wins", "First \\boxed{17}, corrected: \\boxed{18}", "18", {}),
    ("n-is-the-answer", "So 18 is the answer, since 9 * 2 = 18 and 7 were used.", "18", {}),
    ("answer-to-question", "The answer to how much she makes is $18.", "18", {}),
    ("placeholder-n", "So 9 * 2 = 18.\nThe answer is N.", None, {}),
    ("marker-then-later-number", "The answer is not obvious. Compute: 9 * 2 = 18", "18", {}),
    ("words", "The answer is five.", "5", {}),
    ("words-compound", "The answer is twenty-five.", "25", {}),
    ("words-not-in-fallback", "She has five eggs left.", None, {}),
    # --- last number ---------------------------------------------------------------------
    ("last-number", "16 - 3 - 4 = 9 eggs, sold for 9 * 2 = $18.", "18", {}),
    ("trailing-period", "She earns 18.", "18", {}),
    ("fallback-off", "She earns 18.", None, {"last_number_fallback": False}),
    ("fallback-off-marker", "The answer is 18.", "18", {"last_number_fallback": False}),
    ("no-number", "I'm not sure.", None, {}),
    ("empty", "", None, {}),
    # --- number forms ----------------------------------------------------------------
    ("negative-zero", "The answer is -0", "0", {}),
    ("negative-zero-decimal", "The answer is -0.00", "0", {}),
    ("trailing-zeros", "The answer is 0.250", "0.25", {}),
    ("leading-dot", "The answer is .5", "0.5", {}),
    ("money-cents", "The answer is $18.00.", "18", {}),
    ("negative-dollar", "The loss is -$7.", "-7", {}),
    ("paren-negative", "x equals (-7)", "-7", {}),
    ("unicode-minus", "The temperature is −5 degrees", "-5", {}),
    ("subtraction-not-sign", "16-3", "3", {}),
    ("millions-commas", "The answer is 1,000,000", "1000000", {}),
    ("bad-grouping", "Values 1,25", "25", {}),
    ("nbsp-group", "The answer is 1\u00a0250", "1250", {}),
    ("space-group-currency", "Net proceeds: $400 000 - $282 000 = $118 000.", "118000", {}),
    ("space-group-zero", "The answer is 118 000", "118000", {}),
    ("space-not-group", "I bought 3 200-gram packs", "200", {}),
    ("percent", "The answer is 45%.", "45", {}),
    ("exponent", "The answer is 1e3", "1000", {}),
    ("fraction", "The answer is 3/4", "0.75", {}),
    ("fraction-repeating", "The answer is 1/3", "0.3333333333", {}),
    ("fraction-zero-denominator", "The ratio 1/0 is undefined; the answer is 5", "5", {}),
    ("date-not-fraction", "On 3/4/2021 she had 7", "7", {}),
    ("latex-frac", "\\boxed{\\frac{3}{4}}", "0.75", {}),
    ("latex-dfrac", "\\boxed{\\dfrac{1}{2}}", "0.5", {}),
    ("latex-frac-short", "\\boxed{\\frac12}", "0.5", {}),
    ("latex-dollar", "\\boxed{\\$18.00}", "18", {}),
    ("latex-thin-space", "\\boxed{1\\,250}", "1250", {}),
    ("latex-brace-comma", "\\boxed{1{,}250}", "1250", {}),
    ("latex-text-unit", "\\boxed{18 \\text{ dollars}}", "18", {}),
    ("latex-percent", "\\boxed{12\\%}", "12", {}),
    ("latex-inline", "The answer is \\(18\\).", "18", {}),
    ("boxed-equation", "\\boxed{x = 5}", "5", {}),
    ("glued-to-letter", "H2O", None, {}),
    ("ordinal", "She finished 3rd", "3", {}),
    ("power", "The answer is 10^6", "1000000", {}),
    ("scale-word-not-applied", "The answer is 1.5 million", "1.5", {}),
    (
        "gsm8k-reference",
        "Natalia sold 48/2 = <<48/2=24>>24 clips in May.\n"
        "Natalia sold 48+24 = <<48+24=72>>72 clips altogether in April and May.\n#### 72",
        "72",
        {},
    ),
    # --- other languages (MGSM) ------------------------------------------------------
    ("zh", "答案是18", "18", {}),
    ("zh-da", "答：18元", "18", {}),
    ("zh-fullwidth", "答案是１８", "18", {}),
    ("ja", "答えは18です", "18", {}),
    ("de", "Die Antwort lautet 18.", "18", {}),
    ("es", "La respuesta es 18.", "18", {}),
    ("fr", "La réponse est 18.", "18", {}),
    ("ru", "Ответ: 18", "18", {}),
    ("th", "คำตอบคือ 18", "18", {}),
    ("th-digits", "คำตอบคือ ๑๘", "18", {}),
    ("sw", "Jibu ni 18.", "18", {}),
    ("bn-digits", "উত্তর হল ১৮", "18", {}),
    ("te", "సమాధానం 18", "18", {}),
    ("de-thousands-english-mode", "Die Antwort lautet 70.000.", "70", {}),
    ("de-thousands", "Die Antwort lautet 70.000.", "70000", {"decimal_comma": True}),
    ("de-decimal-comma", "Die Antwort lautet 3,5.", "3.5", {"decimal_comma": True}),
    ("de-both", "Sie zahlt 1.250,50 €.", "1250.5", {"decimal_comma": True}),
    ("de-english-decimal", "Die Antwort lautet 3.5.", "3.5", {"decimal_comma": True}),
    ("fr-space-group", "La réponse est 1 250.", "1250", {"decimal_comma": True}),
    # issue 12 kind 7: a one-digit group right after an answer marker joins its group
    ("fr-space-group-english-mode", "La réponse est 1 250.", "1250", {}),
    ("de-many-commas", "Die Antwort lautet 1,250,000.", "1250000", {"decimal_comma": True}),
    ("multi-dot-groups", "The answer is 1.250.000", "1250000", {}),
    # --- leaked tokens and harmony -----------------------------------------------------
    ("im-end-leak", "The answer is 18.<|im_end|>\n<|im_start|>user\nThe answer is 3", "18", {}),
    ("harmony-decoded", "analysisWe compute 9*2=18.assistantfinalShe makes $18.", "18", {}),
    ("harmony-raw-no-final", "<|channel|>analysis<|message|>9*2=18", None, {}),
]


@pytest.mark.parametrize(
    ("text", "expected", "kwargs"),
    [pytest.param(t, e, kw, id=i) for i, t, e, kw in NUMBER_ROWS],
)
def test_extract_number(text: str, expected: str | None, kwargs: dict) -> None:
    assert extract_number(text, **kwargs) == expected


def test_extract_number_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="must be a str"):
        extract_number(b"18")  # type: ignore[arg-type]


# (id, text, format, finish_reason, expected (reasoning, final))
REASONING_ROWS = [
    # --- issue 5 examples -------------------------------------------------------------
    (
        "issue-think-closed",
        "<think>try 40 ... no</think> The answer is 41",
        "think-tags",
        "stop",
        ("try 40 ... no", "The answer is 41"),
    ),
    (
        "issue-think-unclosed-length",
        "<think>try 40 ...",
        "think-tags",
        "length",
        ("try 40 ...", None),
    ),
    (
        "issue-harmony-raw",
        "<|channel|>analysis<|message|>A or B? B.<|end|><|start|>assistant<|channel|>final"
        "<|message|>B",
        "harmony",
        "stop",
        ("A or B? B.", "B"),
    ),
    (
        "issue-harmony-decoded",
        "analysisA or B? B.assistantfinalB",
        "harmony",
        "stop",
        ("A or B? B.", "B"),
    ),
    (
        "issue-harmony-no-final",
        "<|channel|>analysis<|message|>A or B? Let me",
        "harmony",
        "length",
        ("A or B? Let me", None),
    ),
    # --- none ----------------------------------------------------------------------------
    ("none", "The answer is 41", "none", "stop", (None, "The answer is 41")),
    ("none-keeps-tags", "<think>x</think> 41", "none", "length", (None, "<think>x</think> 41")),
    # --- think tags ----------------------------------------------------------------------
    ("think-unclosed-stop", "<think>I wonder", "think-tags", "stop", ("I wonder", None)),
    (
        "think-prompt-opened",
        "Let me compute 40 + 1 = 41.\n</think>\n\nThe answer is 41",
        "think-tags",
        "stop",
        ("Let me compute 40 + 1 = 41.", "The answer is 41"),
    ),
    (
        "think-no-tags-length",
        "Let me compute 40 + 1 =",
        "think-tags",
        "length",
        ("Let me compute 40 + 1 =", None),
    ),
    ("think-no-tags-stop", "The answer is 41", "think-tags", "stop", (None, "The answer is 41")),
    ("think-empty-block", "<think>\n\n</think>\n\nB", "think-tags", "stop", (None, "B")),
    ("think-closed-then-empty", "<think>hmm</think>", "think-tags", "length", ("hmm", "")),
    (
        "think-two-blocks",
        "<think>a</think>draft<think>b</think>The answer is 41",
        "think-tags",
        "stop",
        ("a\ndraft\nb", "The answer is 41"),
    ),
    (
        "think-reopened",
        "<think>a</think>The answer is 41<think>but maybe",
        "think-tags",
        "length",
        ("a\n\nbut maybe", "The answer is 41"),
    ),
    ("thinking-variant", "<thinking>a</thinking>B", "think-tags", "stop", ("a", "B")),
    ("think-uppercase", "<THINK>a</THINK>B", "think-tags", "stop", ("a", "B")),
    ("think-finish-none", "<think>a</think>B", "think-tags", None, ("a", "B")),
    # --- harmony -------------------------------------------------------------------------
    (
        "harmony-full-raw",
        "<|start|>assistant<|channel|>analysis<|message|>think<|end|><|start|>assistant"
        "<|channel|>final<|message|>The answer is 41.<|return|>",
        "harmony",
        "stop",
        ("think", "The answer is 41."),
    ),
    (
        "harmony-commentary",
        "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>commentary"
        "<|message|>b<|end|><|start|>assistant<|channel|>final<|message|>D<|return|>",
        "harmony",
        "stop",
        ("a\n\nb", "D"),
    ),
    (
        "harmony-final-truncated",
        "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>final"
        "<|message|>The answer is",
        "harmony",
        "length",
        ("a", "The answer is"),
    ),
    (
        "harmony-constrain-header",
        "<|channel|>analysis<|message|>a<|end|><|start|>assistant<|channel|>final "
        "<|constrain|>text<|message|>B<|return|>",
        "harmony",
        "stop",
        ("a", "B"),
    ),
    (
        "harmony-decoded-no-final",
        "analysisWe need to decide between",
        "harmony",
        "length",
        ("We need to decide between", None),
    ),
    (
        "harmony-decoded-commentary",
        "analysisAassistantcommentaryBassistantfinalD",
        "harmony",
        "stop",
        ("A\n\nB", "D"),
    ),
    ("harmony-server-split", "The answer is 42.", "harmony", "stop", (None, "The answer is 42.")),
    ("harmony-server-split-leftover-token", "B<|return|>", "harmony", "stop", (None, "B")),
    ("harmony-lowercase-prose", "analysis shows B", "harmony", "stop", (None, "analysis shows B")),
]


@pytest.mark.parametrize(
    ("text", "fmt", "finish", "expected"),
    [pytest.param(t, f, fin, e, id=i) for i, t, f, fin, e in REASONING_ROWS],
)
def test_split_reasoning(
    text: str, fmt: str, finish: str | None, expected: tuple[str | None, str | None]
) -> None:
    assert split_reasoning(text, fmt, finish) == expected


def test_split_reasoning_rejects_unknown_format() -> None:
    with pytest.raises(ValueError, match="reasoning_format='think'.*models.yaml"):
        split_reasoning("x", "think", "stop")


def test_split_reasoning_rejects_non_text() -> None:
    with pytest.raises(TypeError, match="must be a str"):
        split_reasoning(None, "none", "stop")  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("text", "fmt", "finish", "choice", "number"),
    [
        pytest.param(
            "<think>A? 40?</think>The answer is C.", "think-tags", "stop", "C", None, id="think"
        ),
        pytest.param(
            "<think>The answer is A, 40", "think-tags", "length", None, None, id="think-truncated"
        ),
        pytest.param(
            "analysisA? 40?assistantfinalB, 41", "harmony", "stop", "B", "41", id="harmony"
        ),
    ],
)
def test_no_number_or_letter_from_reasoning(
    text: str, fmt: str, finish: str, choice: str | None, number: str | None
) -> None:
    """The pipeline a benchmark runs: split, then extract from the final text only."""
    _, final = split_reasoning(text, fmt, finish)
    got_choice = None if final is None else extract_choice(final)
    got_number = None if final is None else extract_number(final)
    assert (got_choice, got_number) == (choice, number)

"""Each new benchmark spec's request() and score() on realistic completions.

Completions are of the kinds real models produce: SmolLM2-135M-Instruct's short answers
(``B. Store it in the refrigerator ...``, runaway dialogue continuations), chat models'
worded answers, reasoning models' ``<think>`` blocks (closed, or cut off by the token cap)
and backend failures. Every spec is checked for correct / incorrect / no_answer / error.

Past 600 lines on purpose: the items and completions defined here are shared by every
benchmark's cases, including issue 12's (last section), which would otherwise repeat them.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchgate.benchmarks.ceval import CEval
from benchgate.benchmarks.choice import format_question, label_phrase, multiple_choice_messages
from benchgate.benchmarks.dialogsum import THRESHOLD, DialogSum, summary_text
from benchgate.benchmarks.finqa import FinQA, render_table
from benchgate.benchmarks.gsm8k import GSM8K
from benchgate.benchmarks.legalqa import FREE_TEXT_THRESHOLD, STAND_IN, LegalQA
from benchgate.benchmarks.medqa import MedQA
from benchgate.benchmarks.mgsm import MGSM, mgsm_number
from benchgate.benchmarks.mmlu import MMLU
from benchgate.benchmarks.piqa import PIQA
from benchgate.benchmarks.sciq import SciQ
from benchgate.records import Completion, Item, Status
from benchgate.scoring.rouge import rouge_l_best


def done(text: str, finish: str = "stop") -> Completion:
    return Completion(text=text, finish_reason=finish, completion_tokens=len(text.split()))


FAILED = Completion(text="", finish_reason="error", error="server returned 503 after 3 retries")

SCIQ_ITEM = Item(
    id="sciq_test_1",
    benchmark="sciq",
    input={
        "question": "Compounds that are capable of accepting electrons are called what?",
        "choices": ["residues", "oxidants", "Oxygen", "antioxidants"],
        "support": "Compounds that accept electrons are called oxidants.",
    },
    reference="B",
)
PIQA_ITEM = Item(
    id="d8ff7ce72b",
    benchmark="piqa",
    input={
        "goal": "How do I keep leftover soup fresh?",
        "choices": [
            "Leave it on the stove overnight.",
            "Store it in the refrigerator until you need it again.",
        ],
    },
    reference="B",
)
MEDQA_ITEM = Item(
    id="e639c23ff6",
    benchmark="medqa",
    input={
        "question": "A 7-year-old has a sore throat and fever. What is the best next step?",
        "choices": ["Throat culture", "Chest radiograph", "Lumbar puncture", "Observation"],
    },
    reference="A",
    subject="step1",
)
CEVAL_ITEM = Item(
    id="law-0",
    benchmark="ceval",
    input={
        "question": "下列关于法律推理的表述，能够成立的是____。",
        "choices": [
            "演绎推理是一种或然性推理",
            "归纳推理是从一般知识推出个别知识的推理",
            "类比推理是判例法国家运用的一种基本的法律推理方法",
            "辩证推理实际上是一种立法活动",
        ],
        "subject": "law",
        "subject_zh": "法学",
        "category": "Humanities",
    },
    reference="C",
    subject="law",
)
LEGAL_MC_ITEM = Item(
    id="international_law-1a2b3c4d5e",
    benchmark="legalqa",
    input={
        "question": "Which State ordinarily exercises jurisdiction over crimes on board vessels?",
        "choices": ["The coastal State", "The flag State", "All States", "The ITLOS"],
        "subject": "international_law",
    },
    reference="B",
    subject="international_law",
)
LEGAL_FREE_ITEM = Item(
    id="0f1e2d3c4b",
    benchmark="legalqa",
    input={
        "instruction": "Answer the following legal question as a lawyer would.",
        "question": "My landlord kept my whole security deposit without a reason. What can I do?",
    },
    reference=(
        "A landlord must return the security deposit or give an itemized list of "
        "deductions within a set time. Send a written demand letter and, if there is no "
        "response, file a claim in small claims court."
    ),
)
MGSM_DE = Item(
    id="de-1",
    benchmark="mgsm",
    input={"question": "Janets Enten legen 16 Eier pro Tag ...", "language": "de"},
    reference="18",
    subject="de",
)
MGSM_EN_BIG = Item(
    id="en-200",
    benchmark="mgsm",
    input={"question": "A shop sells ...", "language": "en"},
    reference="2125",
    subject="en",
)
DIALOG_ITEM = Item(
    id="test_477",
    benchmark="dialogsum",
    input={
        "dialogue": "#Person1#: Harry, you look pale.\n#Person2#: I was almost hit by a car.",
        "topics": ["accident"] * 3,
    },
    reference=[
        "Harry tells #Person1# that he was almost hit by a car and he will be more careful "
        "next time.",
        "Harry tells #Person1# that he crossed the street while reading the newspaper and "
        "almost got hit by a car.",
        "Harry tells #Person1# he was almost hit by a car and he will be more careful next time.",
    ],
)
FINQA_INPUT = {
    "pre_text": ["net revenue by year ( in millions ) :"],
    "post_text": ["growth was strong ."],
    "table": [["", "2009", "2008"], ["net revenue", "$ 1200.5", "$ 1052.0"]],
    "question": "what was the percentage change in net revenue from 2008 to 2009?",
    "exe_ans": "0.14116",
    "source_id": "X/2009/page_1.pdf-1",
}
FINQA_PCT = Item(id="X_2009_page_1.pdf-1", benchmark="finqa", input=FINQA_INPUT, reference="14.1%")
FINQA_EXE_ONLY = Item(
    id="X_2011_page_2.pdf-1",
    benchmark="finqa",
    input={**FINQA_INPUT, "exe_ans": "0.35", "question": "what is the ratio?"},
    reference="0.35",
)
FINQA_YES = Item(
    id="X_2010_page_3.pdf-1",
    benchmark="finqa",
    input={**FINQA_INPUT, "exe_ans": None, "question": "was revenue greater in 2009?"},
    reference="yes",
)


def messages(spec, item):
    return spec.request(item).message_dicts()


# --------------------------------------------------------------------------------------
# Prompts (request)
# --------------------------------------------------------------------------------------


def test_mmlu_prompt_unchanged_by_the_shared_choice_module():
    assert format_question("Q?", ["a", "b", "c", "d"]) == "Q?\nA. a\nB. b\nC. c\nD. d\nAnswer:"
    msgs = multiple_choice_messages(
        "Instr.", "Q?", ["a", "b", "c", "d"], [("E?", ["w", "x", "y", "z"], "C")]
    )
    assert msgs == [
        {"role": "user", "content": "Instr.\n\nE?\nA. w\nB. x\nC. y\nD. z\nAnswer:"},
        {"role": "assistant", "content": "Answer: C"},
        {"role": "user", "content": "Q?\nA. a\nB. b\nC. c\nD. d\nAnswer:"},
    ]
    from benchgate.benchmarks import mmlu

    # Version 2 is the shared choice scoring path (issue 12); the prompt is unchanged.
    assert mmlu.format_question is format_question and MMLU.version == 2


def test_label_phrase():
    assert [label_phrase(x) for x in ("ABCD", "ABC", "AB")] == [
        "A, B, C or D",
        "A, B or C",
        "A or B",
    ]


@pytest.mark.parametrize(
    ("spec", "item", "cap", "must_contain"),
    [
        (
            SciQ(),
            SCIQ_ITEM,
            256,
            [
                "(A, B, C or D)",
                "Compounds that accept electrons",
                "Question: Compounds",
                "B. oxidants",
                "\nAnswer:",
            ],
        ),
        (
            PIQA(),
            PIQA_ITEM,
            256,
            ["(A or B)", "Goal: How do I keep", "B. Store it in the refrigerator"],
        ),
        (MedQA(), MEDQA_ITEM, 256, ["USMLE", "A. Throat culture", "D. Observation"]),
        (
            CEval(),
            CEVAL_ITEM,
            256,
            ["以下是中国关于法学考试的单项选择题", "C. 类比推理", "\n答案："],
        ),
        (LegalQA(), LEGAL_MC_ITEM, 256, ["about international law", "B. The flag State"]),
        (LegalQA(), LEGAL_FREE_ITEM, 256, ["as a lawyer would.\n\nMy landlord"]),
        (MGSM(), MGSM_DE, 320, ['"The answer is"', "Question: Janets Enten"]),
        (
            FinQA(),
            FINQA_PCT,
            320,
            [
                "net revenue by year",
                "| net revenue | $ 1200.5 | $ 1052.0 |",
                "growth was strong",
                "Question: what was the percentage change",
                "yes or no",
            ],
        ),
        (
            DialogSum(),
            DIALOG_ITEM,
            160,
            ["one or two sentences", "#Person1#: Harry, you look pale."],
        ),
    ],
)
def test_request(spec, item, cap, must_contain):
    request = spec.request(item)
    assert request.max_new_tokens == cap == spec.max_new_tokens
    text = "\n".join(m["content"] for m in request.message_dicts())
    for part in must_contain:
        assert part in text
    assert request.message_dicts()[-1]["role"] == "user"


def test_sciq_without_support_has_no_passage():
    item = Item(
        id="x",
        benchmark="sciq",
        reference="A",
        input={
            "question": "What is the SI unit of force?",
            "choices": ["newton", "watt", "joule"],
            "support": "",
        },
    )
    text = messages(SciQ(), item)[0]["content"]
    assert "Question:" not in text and "(A, B or C)" in text and "C. joule" in text


def test_ceval_shots_come_from_the_subjects_dev_split():
    spec = CEval(shots=2)
    spec.dev = {
        "law": [
            ("法律的制定机关是____。", ["法院", "立法机关", "检察院", "公安机关"], "B"),
            ("宪法是____。", ["根本法", "普通法", "程序法", "实体法"], "A"),
            ("third", ["a", "b", "c", "d"], "D"),
        ],
        "logic": [("other subject", ["a", "b", "c", "d"], "A")],
    }
    msgs = messages(spec, CEVAL_ITEM)
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant", "user"]
    assert msgs[0]["content"].startswith("以下是中国关于法学考试的单项选择题")
    assert msgs[1]["content"] == "答案：B" and msgs[3]["content"] == "答案：A"
    assert "third" not in str(msgs) and "other subject" not in str(msgs)
    assert spec.settings() == {"shots": 2}
    assert messages(CEval(shots=0), CEVAL_ITEM)[0]["content"].startswith("以下是中国关于法学")


def test_shots_ignored_where_unsupported():
    assert SciQ(shots=3).shots == 0 and SciQ(shots=3).settings() == {}
    assert LegalQA(shots=3).settings() == {"shots": 3}


def test_finqa_table_rendering():
    assert render_table([["", "2009"], ["a", " 1 "]]) == "|  | 2009 |\n| a | 1 |"


# --------------------------------------------------------------------------------------
# Scores (score)
# --------------------------------------------------------------------------------------

CASES = [
    # (spec, item, completion, reasoning_format, status, extracted)
    (SciQ(), SCIQ_ITEM, done("B. oxidants"), "none", Status.CORRECT, "B"),
    (SciQ(), SCIQ_ITEM, done("The answer is: oxidants"), "none", Status.CORRECT, "B"),
    (SciQ(), SCIQ_ITEM, done("D. antioxidants"), "none", Status.INCORRECT, "D"),
    (
        SciQ(),
        SCIQ_ITEM,
        done("Compounds that accept electrons are reduced in the process."),
        "none",
        Status.NO_ANSWER,
        None,
    ),
    (SciQ(), SCIQ_ITEM, FAILED, "none", Status.ERROR, None),
    (
        PIQA(),
        PIQA_ITEM,
        done("B. Store it in the refrigerator until you need it again"),
        "none",
        Status.CORRECT,
        "B",
    ),
    (
        PIQA(),
        PIQA_ITEM,
        done("<think>Soup spoils at room temperature... so not A.</think>\nAnswer: B"),
        "think-tags",
        Status.CORRECT,
        "B",
    ),
    (PIQA(), PIQA_ITEM, done("A."), "none", Status.INCORRECT, "A"),
    (
        PIQA(),
        PIQA_ITEM,
        done("<think>Option A leaves it out, option B", "length"),
        "think-tags",
        Status.NO_ANSWER,
        None,
    ),
    (MedQA(), MEDQA_ITEM, done("A. Throat culture"), "none", Status.CORRECT, "A"),
    (
        MedQA(),
        MEDQA_ITEM,
        done("I think it's A. Wait, no: the final answer is D."),
        "none",
        Status.INCORRECT,
        "D",
    ),
    (
        MedQA(),
        MEDQA_ITEM,
        done(
            "<|channel|>analysis<|message|>Strep is likely; culture first."
            "<|end|><|start|>assistant<|channel|>final<|message|>**A**"
        ),
        "harmony",
        Status.CORRECT,
        "A",
    ),
    (
        MedQA(),
        MEDQA_ITEM,
        done("analysisThe child likely has strep throat so"),
        "harmony",
        Status.NO_ANSWER,
        None,
    ),
    (CEval(), CEVAL_ITEM, done("答案：C"), "none", Status.CORRECT, "C"),
    (
        CEval(),
        CEVAL_ITEM,
        done("A. 可比非受控价格法\n\n所以选择：B. 成本加成法"),
        "none",
        Status.INCORRECT,
        "B",
    ),
    (CEval(), CEVAL_ITEM, done("这道题考查法律推理的类型。"), "none", Status.NO_ANSWER, None),
    (LegalQA(), LEGAL_MC_ITEM, done("B. The flag State"), "none", Status.CORRECT, "B"),
    (
        LegalQA(),
        LEGAL_MC_ITEM,
        done("A. No, because the coastal State has jurisdiction."),
        "none",
        Status.INCORRECT,
        "A",
    ),
    (
        MGSM(),
        MGSM_DE,
        done("16 - 3 - 4 = 9 Eier. 9 * 2 = 18. Die Antwort lautet 18."),
        "none",
        Status.CORRECT,
        "18",
    ),
    (MGSM(), MGSM_DE, done("The answer is 12."), "none", Status.INCORRECT, "12"),
    (MGSM(), MGSM_DE, done("Sie verkauft die restlichen Eier."), "none", Status.NO_ANSWER, None),
    (MGSM(), MGSM_EN_BIG, done("The answer is 2,125."), "none", Status.CORRECT, "2125"),
    (
        MGSM(),
        MGSM_DE,
        done("<think>16-3-4=9, 9*2=18", "length"),
        "think-tags",
        Status.NO_ANSWER,
        None,
    ),
    (MGSM(), MGSM_DE, FAILED, "none", Status.ERROR, None),
    (
        FinQA(),
        FINQA_PCT,
        done("(1200.5 - 1052.0) / 1052.0 = 0.1412. The answer is 14.1%."),
        "none",
        Status.CORRECT,
        "14.1%",
    ),
    (FinQA(), FINQA_PCT, done("The answer is 0.141"), "none", Status.CORRECT, "0.141"),
    (FinQA(), FINQA_PCT, done("The answer is 148.5"), "none", Status.INCORRECT, "148.5"),
    (FinQA(), FINQA_PCT, done("Net revenue increased."), "none", Status.NO_ANSWER, None),
    (FinQA(), FINQA_EXE_ONLY, done("The ratio is 35%."), "none", Status.CORRECT, "35%"),
    (
        FinQA(),
        FINQA_YES,
        done("96.0 > 88.0, so yes. The answer is yes."),
        "none",
        Status.CORRECT,
        "yes",
    ),
    (FinQA(), FINQA_YES, done("No, it was not."), "none", Status.INCORRECT, "no"),
    (FinQA(), FINQA_YES, done("It grew by 8.0."), "none", Status.NO_ANSWER, None),
    (FinQA(), FINQA_PCT, FAILED, "none", Status.ERROR, None),
]


@pytest.mark.parametrize(
    ("spec", "item", "completion", "fmt", "status", "extracted"),
    CASES,
    ids=[f"{c[0].name}-{i}" for i, c in enumerate(CASES)],
)
def test_score(spec, item, completion, fmt, status, extracted):
    score = spec.score(item, completion, fmt)
    assert score.status is status, score
    assert score.extracted == extracted


def test_dialogsum_scores():
    spec = DialogSum()
    good = spec.score(
        DIALOG_ITEM,
        done("Harry tells #Person1# he was almost hit by a car and will be more careful."),
        "none",
    )
    assert good.status is Status.CORRECT and good.value > THRESHOLD
    # SmolLM2-135M's typical failure: it continues the dialogue instead of summarising.
    runaway = done(
        "#Person1#: I'm sorry, I'm not familiar with the term \"damage control\".\n"
        "#Person2#: I'm sorry, I'm not familiar with the term \"damage control\".",
        "length",
    )
    bad = spec.score(DIALOG_ITEM, runaway, "none")
    assert bad.status is Status.INCORRECT and 0 <= bad.value < THRESHOLD
    assert spec.score(DIALOG_ITEM, done("   "), "none").status is Status.NO_ANSWER
    assert (
        spec.score(DIALOG_ITEM, done("<think>who is Harry", "length"), "think-tags").status
        is Status.NO_ANSWER
    )
    assert spec.score(DIALOG_ITEM, FAILED, "none").status is Status.ERROR
    exact = spec.score(DIALOG_ITEM, done(f"Summary: {DIALOG_ITEM.reference[1]}"), "none")
    assert exact.value == pytest.approx(1.0) and exact.extracted == DIALOG_ITEM.reference[1]


def test_rouge_l_best_against_rouge_score_directly():
    from rouge_score import rouge_scorer

    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    candidate = "Harry was nearly hit by a car while reading a newspaper."
    direct = [scorer.score(r, candidate)["rougeL"].fmeasure for r in DIALOG_ITEM.reference]
    assert rouge_l_best(candidate, DIALOG_ITEM.reference) == max(direct)
    assert max(direct) > min(direct)  # the best reference is chosen, not the first
    with pytest.raises(ValueError):
        rouge_l_best(candidate, [])


@pytest.mark.parametrize(
    ("text", "out"),
    [
        ("Summary: A and B talk.", "A and B talk."),
        ("**Summary:** A and B talk.", "A and B talk."),
        ("A and B talk.", "A and B talk."),
        ("  ", ""),
    ],
)
def test_summary_text(text, out):
    assert summary_text(text) == out


def test_legalqa_free_text_scores():
    spec = LegalQA()
    close = spec.score(
        LEGAL_FREE_ITEM,
        done(
            "Your landlord must return the security deposit or give an itemized list of "
            "deductions. "
            "Send a written demand letter, then file a claim in small claims court."
        ),
        "none",
    )
    assert close.status is Status.CORRECT and close.value >= FREE_TEXT_THRESHOLD
    off = spec.score(LEGAL_FREE_ITEM, done("I cannot give legal advice."), "none")
    assert off.status is Status.INCORRECT and off.value < FREE_TEXT_THRESHOLD
    assert spec.score(LEGAL_FREE_ITEM, done(""), "none").status is Status.NO_ANSWER


def test_legalqa_stand_in_label_follows_the_data(tmp_path):
    from benchgate.data.sources import DataSource

    assert LegalQA.stand_in == STAND_IN
    spec = LegalQA()
    rows = [{"instruction": "Answer.", "input": "Q?", "output": "A."}]
    spec.load(DataSource(data_dir=tmp_path, hub_loader=lambda *a, **k: rows))
    assert spec.stand_in is None  # the real set is not a stand-in
    (tmp_path / "legalqa" / "test").mkdir(parents=True)
    (tmp_path / "legalqa" / "test" / "jurisprudence_test.csv").write_text(
        "question,choice0,choice1,choice2,choice3,answer\nQ?,a,b,c,d,1\n"
    )
    items = spec.load(DataSource(data_dir=tmp_path))
    assert spec.stand_in == STAND_IN and items[0].reference == "B"


@pytest.mark.parametrize(
    ("text", "language", "number"),
    [
        ("Die Antwort lautet 2.500.", "de", "2500"),
        ("The answer is 2,500", "de", "2500"),
        ("The answer is 2,500", "en", "2500"),
        ("Die Antwort ist 3,5", "de", "3.5"),
        ("The answer is 3.5", "en", "3.5"),
        ("The answer is 1.250", "en", "1250"),
        ("La respuesta es 18", "es", "18"),
        ("Jibu ni 880.", "sw", "880"),
        ("答案是 18", "zh", "18"),
        ("no number here", "en", None),
    ],
)
def test_mgsm_number(text, language, number):
    assert mgsm_number(text, language) == number


# --------------------------------------------------------------------------------------
# Every real item yields a well-formed prompt
# --------------------------------------------------------------------------------------

DATA = Path(__file__).resolve().parents[3] / "shared" / "data"


@pytest.mark.skipif(not (DATA / "SOURCES.md").is_file(), reason=f"no benchmark data at {DATA}")
@pytest.mark.parametrize("cls", [SciQ, PIQA, MedQA, CEval, LegalQA, MGSM, DialogSum])
def test_every_real_item_has_a_prompt(cls):
    from benchgate.data.sources import DataSource

    spec = cls(shots=5)
    for item in spec.load(DataSource(data_dir=DATA)):
        msgs = spec.request(item).message_dicts()
        text = msgs[-1]["content"]
        if "choices" in item.input:
            labels = "ABCD"[: len(item.input["choices"])]
            assert all(f"\n{label}. " in text for label in labels), item.id
            assert item.reference in labels
        else:
            key = "dialogue" if cls is DialogSum else "question"
            assert item.input[key][:40] in text, item.id


# --------------------------------------------------------------------------------------
# Issue 12: scoring that reads real answers (benchmark level)
# --------------------------------------------------------------------------------------

MMLU_ITEM = Item(
    id="high_school_biology-1",
    benchmark="mmlu",
    input={
        "question": "Which organelle produces most of the ATP in a eukaryotic cell?",
        "choices": ["nucleus", "mitochondria", "ribosome", "Golgi apparatus"],
        "subject": "high_school_biology",
    },
    reference="B",
    subject="high_school_biology",
)
GSM_ITEM = Item(
    id="gsm-janet",
    benchmark="gsm8k",
    input={
        "question": "Janet's ducks lay 16 eggs per day. She eats three for breakfast and bakes "
        "muffins with four. She sells the remainder for $2 each. How much does she make?"
    },
    reference="18",
)
FINQA_20 = Item(
    id="X_2012_page_4.pdf-1",
    benchmark="finqa",
    input={**FINQA_INPUT, "exe_ans": "0.2", "question": "what was the growth rate?"},
    reference="20%",
)
FINQA_NEG = Item(
    id="X_2012_page_5.pdf-1",
    benchmark="finqa",
    input={**FINQA_INPUT, "exe_ans": "-1234", "question": "what was the net change?"},
    reference="-1234",
)


def test_every_choice_benchmark_shares_one_scoring_path():
    from benchgate.benchmarks.choice import ChoiceBenchmark

    for cls in (MMLU, SciQ, PIQA, MedQA, CEval):
        assert issubclass(cls, ChoiceBenchmark), cls
        assert cls.score_final is ChoiceBenchmark.score_final, f"{cls.__name__} scores its own way"
    assert issubclass(LegalQA, ChoiceBenchmark)
    # LegalQA's multiple-choice items go through the same path as MMLU's
    item = Item(id="x", benchmark="legalqa", input=dict(MMLU_ITEM.input), reference="B")
    for text in ("\\boxed{mitochondria}", "Réponse : B", "Answer: after weighing both, B"):
        assert LegalQA().score(item, done(text), "none") == MMLU().score(item, done(text), "none")


@pytest.mark.parametrize(
    ("text", "status", "extracted", "rule"),
    [
        ("\\boxed{mitochondria}", Status.CORRECT, "B", "option-text"),  # issue 12 kind 4
        ("The answer is: the mitochondria", Status.CORRECT, "B", "option-text"),
        ("Answer: Golgi apparatus", Status.INCORRECT, "D", "option-text"),
        ("The answer is: an organelle", Status.NO_ANSWER, None, "no-label"),
        ("Réponse : B", Status.CORRECT, "B", "marker"),
        (
            "(A) looks plausible.\n\nQuestion: Which organelle produces most of the ATP in a "
            "eukaryotic cell?\nThe answer is B",
            Status.CORRECT,
            "B",
            "marker",
        ),
        (
            "Only (B) fits.\n\nQuestion: What is the capital of France?\nAnswer: A",
            Status.CORRECT,
            "B",
            "weak-label",
        ),
    ],
)
def test_mmlu_reads_option_texts_and_questions(text, status, extracted, rule):
    score = MMLU().score(MMLU_ITEM, done(text), "none")
    assert (score.status, score.extracted, score.rule) == (status, extracted, rule)


@pytest.mark.parametrize(
    ("text", "finish", "status", "extracted"),
    [
        (
            f"Let me see, 5 + 3 = 8.\n\nQuestion: {GSM_ITEM.input['question']}\nThe answer is 18",
            "stop",
            Status.CORRECT,
            "18",
        ),
        (
            "She makes 18 dollars.\n\nQuestion: Weng earns $12 an hour. How much for 50 "
            "minutes?\nThe answer is 10",
            "stop",
            Status.CORRECT,
            "18",
        ),
        ("The answer is not 20; it is 18", "stop", Status.CORRECT, "18"),
        ("The answer is not 20.", "stop", Status.NO_ANSWER, None),
        ("16 - 3 - 4 = 9 and 9 * 2 =", "length", Status.NO_ANSWER, None),
    ],
)
def test_gsm8k_kinds(text, finish, status, extracted):
    score = GSM8K().score(GSM_ITEM, done(text, finish), "none")
    assert (score.status, score.extracted) == (status, extracted)


@pytest.mark.parametrize(
    ("item", "text", "status", "extracted"),
    [
        # issue 12 kind 8: the explicit answer wins over a later "No further ..."
        (FINQA_YES, "The answer is yes. No further analysis is needed.", Status.CORRECT, "yes"),
        (FINQA_YES, "Yes, it was greater. No other year comes close.", Status.CORRECT, "yes"),
        (FINQA_YES, "No further data is given.", Status.NO_ANSWER, None),
        (FINQA_YES, "Yes or no? Revenue rose by 8.0.", Status.NO_ANSWER, None),
        (FINQA_YES, "The answer is no.", Status.INCORRECT, "no"),
        # the percent sign keeps its scale: 0.2% and 2000% are not 20%
        (FINQA_20, "The answer is 0.2%.", Status.INCORRECT, "0.2%"),
        (FINQA_20, "The answer is 2000%.", Status.INCORRECT, "2000%"),
        (FINQA_20, "The answer is 20%.", Status.CORRECT, "20%"),
        (FINQA_20, "The answer is 0.2.", Status.CORRECT, "0.2"),
        (FINQA_20, "The answer is 20.", Status.CORRECT, "20"),
        (FINQA_20, "The answer is 0.002.", Status.INCORRECT, "0.002"),
        # accounting negatives
        (FINQA_NEG, "The net change is (1,234).", Status.CORRECT, "-1234"),
        (FINQA_NEG, "The answer is ($1,234).", Status.CORRECT, "-1234"),
        (FINQA_NEG, "The answer is 1,234.", Status.INCORRECT, "1234"),
    ],
)
def test_finqa_kinds(item, text, status, extracted):
    score = FinQA().score(item, done(text), "none")
    assert (score.status, score.extracted) == (status, extracted), score


def test_finqa_exe_ans_is_put_on_the_reference_scale():
    from benchgate.benchmarks.finqa import exe_in_reference_scale

    assert exe_in_reference_scale("20%", "0.2") == "20%"
    assert exe_in_reference_scale("14.1%", "14.116") == "14.116%"
    assert exe_in_reference_scale("14.1%", "0.14116") == "14.116%"
    assert exe_in_reference_scale("20%", "0.9") is None  # the fields disagree
    assert exe_in_reference_scale("0.35", "0.35") == "0.35"
    assert exe_in_reference_scale("20%", None) is None


def server_split(text, reasoning, finish="stop"):
    return Completion(text=text, finish_reason=finish, reasoning=reasoning)


@pytest.mark.parametrize(
    ("spec", "item", "completion", "fmt", "kind"),
    [
        # an answer present only in the server's separate reasoning field
        (MMLU(), MMLU_ITEM, server_split("", "So the answer is B."), "none", "reasoning_only"),
        (
            GSM8K(),
            GSM_ITEM,
            server_split("I cannot tell.", "9 * 2 = 18. The answer is 18."),
            "none",
            "reasoning_only",
        ),
        # ... or only in the in-text reasoning block
        (
            GSM8K(),
            GSM_ITEM,
            done("<think>The answer is 18.</think>Sorry, I am not sure."),
            "think-tags",
            "reasoning_only",
        ),
        # reasoning without an explicit answer is a plain format failure
        (GSM8K(), GSM_ITEM, server_split("", "9 * 2 = 18"), "none", "format"),
        # the server's reasoning was cut by the token cap before any content
        (GSM8K(), GSM_ITEM, server_split("", "9 * 2 =", "length"), "none", "reasoning_unfinished"),
        (
            GSM8K(),
            GSM_ITEM,
            done("<think>9 * 2 = 18", "length"),
            "think-tags",
            "reasoning_unfinished",
        ),
        (MMLU(), MMLU_ITEM, done("I am not sure.", "length"), "none", "truncated"),
        (MMLU(), MMLU_ITEM, done("I am not sure."), "none", "format"),
    ],
)
def test_no_answer_kinds(spec, item, completion, fmt, kind):
    score = spec.score(item, completion, fmt)
    assert score.status is Status.NO_ANSWER and score.extracted is None
    assert score.no_answer_kind == kind, score


def test_reasoning_only_detail_names_the_answer():
    score = GSM8K().score(GSM_ITEM, server_split("", "The answer is 18."), "none")
    assert "'18'" in score.detail and "reasoning" in score.detail


def test_boxed_inside_custom_reasoning_never_beats_the_final_answer():
    text = "<<plan>>quick guess \\boxed{17}<</plan>>16 - 3 - 4 = 9, 9 * 2 = 18. The answer is 18."
    score = GSM8K().score(GSM_ITEM, done(text), "think-tags", ["<<plan>>", "<</plan>>"])
    assert (score.status, score.extracted) == (Status.CORRECT, "18")
    # and the built-in pairs need no configuration
    kimi = "◁think▷quick guess \\boxed{17}◁/think▷The answer is 18."
    assert GSM8K().score(GSM_ITEM, done(kimi), "none").extracted == "18"


def test_changed_benchmarks_bumped_their_version():
    from benchgate.benchmarks.humaneval import HumanEval

    # issue 12 changed every benchmark's extraction except DialogSum's
    for cls in (MMLU, SciQ, PIQA, MedQA, CEval, GSM8K, MGSM, FinQA, HumanEval):
        assert cls.version >= 2, cls
    assert LegalQA.version >= 3

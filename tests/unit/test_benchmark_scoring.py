"""Each new benchmark spec's request() and score() on realistic completions.

Completions are of the kinds real models produce: SmolLM2-135M-Instruct's short answers
(``B. Store it in the refrigerator ...``, runaway dialogue continuations), chat models'
worded answers, reasoning models' ``<think>`` blocks (closed, or cut off by the token cap)
and backend failures. Every spec is checked for correct / incorrect / no_answer / error.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from benchgate.benchmarks.ceval import CEval
from benchgate.benchmarks.choice import format_question, label_phrase, multiple_choice_messages
from benchgate.benchmarks.dialogsum import THRESHOLD, DialogSum, rouge_l_best, summary_text
from benchgate.benchmarks.finqa import FinQA, render_table
from benchgate.benchmarks.legalqa import FREE_TEXT_THRESHOLD, LegalQA
from benchgate.benchmarks.medqa import MedQA
from benchgate.benchmarks.mgsm import MGSM, mgsm_number
from benchgate.benchmarks.mmlu import MMLU
from benchgate.benchmarks.piqa import PIQA
from benchgate.benchmarks.sciq import SciQ
from benchgate.datasets.legalqa import STAND_IN
from benchgate.records import Completion, Item, Status


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

    assert mmlu.format_question is format_question and MMLU.version == 1


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
        "14.1",
    ),
    (FinQA(), FINQA_PCT, done("The answer is 0.141"), "none", Status.CORRECT, "0.141"),
    (FinQA(), FINQA_PCT, done("The answer is 148.5"), "none", Status.INCORRECT, "148.5"),
    (FinQA(), FINQA_PCT, done("Net revenue increased."), "none", Status.NO_ANSWER, None),
    (FinQA(), FINQA_EXE_ONLY, done("The ratio is 35%."), "none", Status.CORRECT, "35"),
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
    from benchgate.datasets.base import DataSource

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
    from benchgate.datasets.base import DataSource

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

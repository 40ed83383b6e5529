"""ROUGE-L on text in any script (issue 12, item 10), and English exactly as before.

rouge-score's default tokenizer keeps only ``[a-z0-9]``: two identical Chinese answers score
0.0. ``benchgate.scoring.rouge.UnicodeTokenizer`` keeps every script (one token per
character for scripts written without spaces); on English it must give rouge-score's own
tokens, shown here on every text of the real DialogSum test split and on every score the
benchmark and its calibration compute from them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rouge_score import rouge_scorer, tokenizers

from benchgate.benchmarks.dialogsum import THRESHOLD, DialogSum
from benchgate.benchmarks.legalqa import FREE_TEXT_THRESHOLD, LegalQA
from benchgate.records import Completion, Item, Status
from benchgate.scoring.rouge import UnicodeTokenizer, rouge_l_best, rouge_l_score

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "dialogsum"
FILE = DATA / "dialogsum.test.jsonl"
needs_data = pytest.mark.skipif(not FILE.is_file(), reason=f"no DialogSum data at {FILE}")

TOKENS = UnicodeTokenizer(use_stemmer=True)


# --------------------------------------------------------------------------------------
# Tokens, one table per kind of text
# --------------------------------------------------------------------------------------

TOKEN_TABLE = [
    # Chinese: one token per character; digits and Latin words stay whole.
    ("zh", "我喜欢机器学习。", ["我", "喜", "欢", "机", "器", "学", "习"]),
    ("zh mixed", "我用Python3写了2023年的报告",
     ["我", "用", "python3", "写", "了", "2023", "年", "的", "报", "告"]),
    ("zh full-width", "ＧＰＵ有８０ＧＢ内存", ["gpu", "有", "80gb", "内", "存"]),
    ("zh punctuation only", "，。！？、“”《》", []),
    # Japanese: kanji, hiragana, katakana each per character; the long-vowel mark too.
    ("ja", "東京へ行きました", ["東", "京", "へ", "行", "き", "ま", "し", "た"]),
    ("ja katakana", "コーヒー", ["コ", "ー", "ヒ", "ー"]),
    ("ja half-width katakana", "ｺｰﾋｰ", ["コ", "ー", "ヒ", "ー"]),  # NFKC -> full width
    # Scripts with spaces: words, lower-cased, not stemmed (Porter is English).
    ("ru", "Привет, мир! Системы РАБОТАЮТ.", ["привет", "мир", "системы", "работают"]),
    ("ar", "مرحبا بالعالم، كيف حالك؟", ["مرحبا", "بالعالم", "كيف", "حالك"]),
    ("ko", "한국어 문장입니다.", ["한국어", "문장입니다"]),
    ("hi (combining vowel signs stay in the word)", "हिन्दी भाषा", ["हिन्दी", "भाषा"]),
    ("el", "Καλημέρα κόσμε", ["καλημέρα", "κόσμε"]),
    ("he", "שלום עולם", ["שלום", "עולם"]),
    # Thai: no spaces between words; per character, a combining mark stays with its base.
    ("th", "ง่ายมาก", ["ง่", "า", "ย", "ม", "า", "ก"]),
    # Accented Latin: kept whole, composed (NFKC), not stemmed.
    ("accented", "Café naïve résumé ZÜRICH", ["café", "naïve", "résumé", "zürich"]),
    ("decomposed accents", "Cafe\u0301", ["café"]),
    ("ligature", "ﬁnal ﬂow", ["final", "flow"]),
    # Mixed scripts in one text.
    ("mixed", "GPT-4 说: «Привет» 👋 done!", ["gpt", "4", "说", "привет", "done"]),
    ("mixed no space", "Zürich市", ["zürich", "市"]),
    # English: rouge-score's own tokens (Porter stemming above 3 characters).
    ("en", "The cats were running quickly, don't they?",
     ["the", "cat", "were", "run", "quickli", "don", "t", "they"]),
    ("en markup", "#Person1#: Hi, Mr. Smith. I'm Doctor Hawkins.",
     ["person1", "hi", "mr", "smith", "i", "m", "doctor", "hawkin"]),
    ("en numbers", "It costs $1,250.50 (about 20%).",
     ["it", "cost", "1", "250", "50", "about", "20"]),
    ("snake_case", "max_new_tokens", ["max", "new", "token"]),
    # Nothing to score.
    ("empty", "", []),
    ("spaces", "  \n\t ", []),
    ("symbols", "!!! --- ... 🙂 ★", []),
]


@pytest.mark.parametrize(
    "text,tokens", [t[1:] for t in TOKEN_TABLE], ids=[t[0] for t in TOKEN_TABLE]
)
def test_tokens(text, tokens):
    assert TOKENS.tokenize(text) == tokens


def test_it_is_a_rouge_score_tokenizer_and_none_is_empty():
    assert isinstance(TOKENS, tokenizers.Tokenizer)
    assert TOKENS.tokenize(None) == []
    assert UnicodeTokenizer(use_stemmer=False).tokenize("The cats were running") == [
        "the", "cats", "were", "running"
    ]


# --------------------------------------------------------------------------------------
# Scores, one table per kind of text: (candidate, reference, expected F1)
# --------------------------------------------------------------------------------------

SCORE_TABLE = [
    ("zh identical", "我喜欢机器学习", "我喜欢机器学习", 1.0),
    # LCS 我喜欢学习 = 5 of 7 (candidate) and 5 of 5 (reference): F1 = 2*5/(7+5).
    ("zh partial", "我喜欢机器学习", "我喜欢学习", 10 / 12),
    ("zh disjoint", "今天天气很好", "我喜欢机器学习", 0.0),
    ("ja identical", "東京へ行きました", "東京へ行きました", 1.0),
    ("ja partial", "東京へ行きます", "東京へ行きました", 2 * 6 / (7 + 8)),
    ("ru identical", "Системы работают хорошо", "Системы работают хорошо", 1.0),
    ("ru partial", "Системы работают", "Системы работают хорошо", 2 * 2 / (2 + 3)),
    ("ru inflected (no stemming)", "система работает", "системы работают", 0.0),
    ("ar identical", "مرحبا بالعالم", "مرحبا بالعالم", 1.0),
    ("ar partial", "مرحبا", "مرحبا بالعالم", 2 * 1 / (1 + 2)),
    ("accented identical", "Le café est très bon", "Le café est très bon", 1.0),
    ("accented vs bare", "cafe", "café", 0.0),
    ("case and NFKC", "ＣＡＦÉ", "café", 1.0),
    ("mixed", "Das Modell GPT说你好", "GPT说你好 Modell", 2 * 4 / (6 + 5)),
    ("en", "Person1 is running late.", "#Person1# runs late for work.", 2 * 3 / (4 + 5)),
    ("empty candidate", "", "我喜欢机器学习", 0.0),
    ("empty reference", "我喜欢机器学习", "", 0.0),
    ("both empty", "", "", 0.0),
    ("punctuation only", "。！？", "。！？", 0.0),
]


@pytest.mark.parametrize(
    "candidate,reference,expected", [t[1:] for t in SCORE_TABLE], ids=[t[0] for t in SCORE_TABLE]
)
def test_rouge_l_f1(candidate, reference, expected):
    assert rouge_l_best(candidate, [reference]) == pytest.approx(expected, abs=1e-12)


def test_the_default_tokenizer_is_what_the_issue_says():
    """The bug this fixes: rouge-score's default scores identical Chinese answers 0.0."""
    default = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    assert default.score("我喜欢机器学习", "我喜欢机器学习")["rougeL"].fmeasure == 0.0
    assert rouge_l_best("我喜欢机器学习", ["我喜欢机器学习"]) == 1.0


def test_best_reference_wins_and_no_reference_is_an_error():
    assert rouge_l_best("我喜欢学习", ["今天天气很好", "我喜欢学习"]) == 1.0
    with pytest.raises(ValueError, match="at least one reference"):
        rouge_l_best("我喜欢学习", [])


def test_thresholded_score_keeps_the_graded_value():
    score = rouge_l_score("我喜欢机器学习", ["我喜欢学习"], threshold=0.8)
    assert score.status is Status.CORRECT and score.value == pytest.approx(10 / 12)
    assert score.extracted == "我喜欢机器学习" and "ROUGE-L F1 0.833" in score.detail
    score = rouge_l_score("今天天气很好", ["我喜欢学习"], threshold=0.3)
    assert score.status is Status.INCORRECT and score.value == 0.0


def _completion(text: str) -> Completion:
    return Completion(text=text, finish_reason="stop")


def test_dialogsum_and_legalqa_score_chinese_answers():
    item = Item(id="zh-1", benchmark="dialogsum", input={"dialogue": "…"},
                reference=["两个人讨论了周末去北京旅行的计划。"])
    score = DialogSum().score_final(item, "两个人讨论了周末去北京旅行的计划。", _completion("x"))
    assert score.status is Status.CORRECT and score.value == 1.0 and THRESHOLD < 1.0
    legal = Item(id="zh-2", benchmark="legalqa", input={"instruction": "回答", "question": "？"},
                 reference="房东必须在三十天内退还押金。")
    score = LegalQA().score_final(legal, "房东必须在三十天内退还押金。", _completion("x"))
    assert score.status is Status.CORRECT and score.value == 1.0 > FREE_TEXT_THRESHOLD


def test_scoring_benchmarks_carry_a_new_version():
    assert DialogSum.version >= 2 and LegalQA.version >= 2


# --------------------------------------------------------------------------------------
# English unchanged, on the real DialogSum test split
# --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dialogsum_rows():
    rows = [json.loads(line) for line in FILE.read_text(encoding="utf-8").splitlines() if line]
    assert len(rows) == 500
    return rows


def _first_two_turns(dialogue: str) -> str:
    return " ".join(dialogue.strip().split("\n")[:2])


@needs_data
def test_english_tokens_are_rouge_scores_own_on_every_dialogsum_text(dialogsum_rows):
    default = tokenizers.DefaultTokenizer(use_stemmer=True)
    texts = [r[k] for r in dialogsum_rows for k in ("dialogue", "summary1", "summary2", "summary3")]
    assert len(texts) == 2000
    differ = [t for t in texts if TOKENS.tokenize(t) != default.tokenize(t)]
    assert differ == []


@needs_data
def test_english_scores_are_unchanged_on_all_500_items_times_3_references(dialogsum_rows):
    """Every score DialogSum's calibration computes: each human summary and the copy-the-
    first-two-turns baseline against each of the 3 references, old scorer vs new, equal."""
    default = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=True)
    compared = 0
    for row in dialogsum_rows:
        references = [row[f"summary{k}"] for k in (1, 2, 3)]
        candidates = [*references, _first_two_turns(row["dialogue"])]
        for reference in references:
            for candidate in candidates:
                old = default.score(reference, candidate)["rougeL"].fmeasure
                assert rouge_l_best(candidate, [reference]) == old, (row["fname"], candidate)
                compared += 1
    assert compared == 500 * 3 * 4


# --------------------------------------------------------------------------------------
# The threshold's calibration figures are reproduced by scripts/dialogsum_calibration.py
# --------------------------------------------------------------------------------------


def _calibration_script():
    import importlib.util

    path = Path(__file__).resolve().parents[2] / "scripts" / "dialogsum_calibration.py"
    spec = importlib.util.spec_from_file_location("dialogsum_calibration", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@needs_data
def test_calibration_script_reproduces_the_quoted_figures_and_fails_when_they_differ(
    tmp_path, monkeypatch, capsys
):
    script = _calibration_script()
    assert script.quoted_figures(Path(script.dialogsum.__file__)) == {
        "human_at_0.30_pct": 91.5,
        "human_median": 0.5,
        "copy_at_0.30_pct": 27.6,
        "human_at_0.25_pct": 96.3,
        "copy_at_0.25_pct": 45.0,
    }
    measured = script.figures(script.dialogsum.load_dialogsum(script.DataSource(DATA.parent)))
    monkeypatch.setattr(script, "figures", lambda items: measured)  # computed once, here
    assert script.main(["--data-dir", str(DATA.parent)]) == 0
    out = capsys.readouterr().out
    assert "human_at_0.30_pct       91.4667     91.5  yes" in out
    assert "all figures equal those quoted in dialogsum.py" in out

    changed = tmp_path / "dialogsum.py"
    text = Path(script.dialogsum.__file__).read_text(encoding="utf-8")
    changed.write_text(text.replace("reaches it in only 27.6 %", "reaches it in only 27.5 %"))
    monkeypatch.setattr(script.dialogsum, "__file__", str(changed))
    assert script.main(["--data-dir", str(DATA.parent)]) == 1
    assert "copy_at_0.30_pct        27.6000     27.5  NO" in capsys.readouterr().out

    changed.write_text(text.replace("(median 0.50)", "(half of them above 0.50)"))
    assert script.main(["--data-dir", str(DATA.parent)]) == 2
    assert script.main(["--data-dir", str(tmp_path / "nothing")]) == 2

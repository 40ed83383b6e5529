r"""Text preparation shared by every extractor (the thin ``_common`` of inspect_ai's scorers).

What lives here, and nowhere else:

* :class:`Extraction`: an extractor's answer with the name of the rule that produced it;
* :func:`check_text` and :func:`fold`: type check, newlines, full-width forms, other
  scripts' digits and space characters folded to ASCII;
* :func:`cut_at_end_token`: end-of-turn tokens end the text;
* :func:`pieces`: the text cut where it starts a new turn (``Question:`` ...), each piece
  marked as the item's own text, a restatement of the item's question, or an invented
  next question; :func:`best_piece` chooses among the pieces' answers;
* :func:`unwrap_latex_text`: ``\text{B}`` -> ``B``;
* the answer-marker lexicon in many languages (:data:`ANSWER_MARKERS`), shared by the
  choice and number extractors.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections.abc import Sequence
from typing import NamedTuple

__all__ = [
    "ANSWER_MARKERS",
    "EXPLICIT_RULES",
    "Extraction",
    "Piece",
    "best_piece",
    "check_text",
    "cut_at_end_token",
    "fold",
    "pieces",
    "unwrap_latex_text",
]


class Extraction(NamedTuple):
    """An extractor's result: the answer and the rule that produced it (or why none did).

    Attributes:
        answer: the extracted answer in the extractor's canonical form, or None.
        rule: a short stable name: the rule that produced ``answer`` (``marker``,
            ``boxed``, ``option-text``, ``last-number`` ...) or, when ``answer`` is None,
            why none did (``empty``, ``no-answer``, ``negated``, ``marker-without-answer``
            ...). Reports group outcomes by it (``Score.rule``).
        percent: for numbers, whether the answer was written with a percent sign
            (``45%``); the scale is then known (FinQA's scorer needs it).
    """

    answer: str | None
    rule: str
    percent: bool = False


#: Rules that name an answer explicitly (a marker, a box, "B is correct"), as opposed to
#: rules that read the answer's form (a lone label, the last number). An answer found in
#: a model's reasoning counts as ``reasoning_only`` only through one of these.
EXPLICIT_RULES = frozenset(
    {
        "boxed",
        "hashes",
        "final-answer",
        "marker",
        "marker-sentence",
        "label-first",
        "is-the-answer",
        "soft-marker",
        "option-text",
        "yes-no-marker",
    }
)

# --------------------------------------------------------------------------------------
# Folding
# --------------------------------------------------------------------------------------

_FOLD_TABLE = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FOLD_TABLE.update({0x3000: 0x20, 0x2212: ord("-")})
# Figure, punctuation and hair spaces read as the thin space (a thousands separator).
_FOLD_TABLE.update({0x2007: 0x2009, 0x2008: 0x2009, 0x200A: 0x2009})
_NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")


def check_text(text: object) -> str:
    """Return ``text`` if it is a str.

    Raises:
        TypeError: it is not (the message says what to pass).
    """
    if not isinstance(text, str):
        raise TypeError(
            f"the completion text must be a str, got {type(text).__name__}; pass "
            "Completion.text (or the final text from split_reasoning)"
        )
    return text


def fold(text: str) -> str:
    r"""Normalise newlines, full-width ASCII forms, U+2212 minus, spaces and other digits.

    ``\r\n`` and ``\r`` become ``\n``; ``Ｃ``/``：``/``１２`` become ``C``/``:``/``12``; the
    ideographic space becomes a space; figure/punctuation/hair spaces become the thin
    space; every Unicode decimal digit (Bengali ``১৮``, Thai ``๑๘``) becomes ASCII.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_FOLD_TABLE)
    if not text.isascii():
        text = _NON_ASCII_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group())), text)
    return text


# Tokens after which nothing belongs to this turn.
_END_TOKEN = re.compile(
    r"<\|(?:im_end|im_start|endoftext|end_of_text|eot_id|eom_id|return|EOT)\|>"
    r"|</s>|<end_of_turn>|<\|end▁of▁sentence\|>"
)


def cut_at_end_token(text: str) -> str:
    """Cut ``text`` at its first end-of-turn token (``<|im_end|>``, ``</s>`` ...)."""
    end = _END_TOKEN.search(text)
    return text[: end.start()] if end else text


_LATEX_WRAP = re.compile(
    r"\\(?:text|textbf|textit|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]*)\}"
)


def unwrap_latex_text(text: str) -> str:
    r"""Replace ``\text{x}``, ``\textbf{x}``, ``\mathrm{x}`` ... by ``x`` (three levels)."""
    for _ in range(3):
        new = _LATEX_WRAP.sub(r"\1", text)
        if new == text:
            break
        text = new
    return text


# --------------------------------------------------------------------------------------
# Pieces: the item's own text, a restated question, an invented next question
# --------------------------------------------------------------------------------------

# A line that starts a new turn or a new exemplar.
_CONTINUATION = re.compile(
    r"^[ \t>*]*(?:Question|Q|Problem|Human|User|Instruction|问题|题目|問題|題目|Pregunta|Frage"
    r"|Aufgabe|Pergunta|Domanda|Вопрос|Задача|질문|質問|Swali|প্রশ্ন|ప్రశ్న|คำถาม)"
    r"[ \t]*(?:\d+[ \t]*)?:"
    r"|^[ \t]*#{1,6}[ \t]*(?:Question|Problem|Instruction)\b",
    re.MULTILINE,
)
# How much of a question is compared, and how alike two must be to be the same question.
_QUESTION_CHARS = 160
_SAME_QUESTION = 0.6


class Piece(NamedTuple):
    """One piece of a completion cut at the lines that start a new turn.

    Attributes:
        text: the piece.
        kind: ``own`` (the first piece: the answer to this item), ``restated`` (it
            repeats the item's question, so its answer is still to this item) or
            ``invented`` (a next question the model made up, or, when the item's question
            is unknown, any later piece).
    """

    text: str
    kind: str


def _question_key(text: str) -> str:
    """Letters, digits and CJK characters of ``text``, case-folded, spaces collapsed."""
    text = re.sub(r"[^\w\s]", " ", text.casefold())
    return re.sub(r"\s+", " ", text).strip()[:_QUESTION_CHARS]


def restates(piece: str, question: str) -> bool:
    """Whether a continuation piece opens with the item's question.

    The text after the piece's ``Question:`` label is compared with the question, both
    reduced to letters and digits (case folded) and cut to the same length (at most
    :data:`_QUESTION_CHARS` characters); they are the same question when
    :class:`difflib.SequenceMatcher`'s ratio is at least :data:`_SAME_QUESTION`.
    """
    head = _CONTINUATION.match(piece)
    body = piece[head.end() :] if head else piece
    q, p = _question_key(question), _question_key(body)
    n = min(len(q), len(p))
    if n < 8:
        return bool(q) and q == p
    return difflib.SequenceMatcher(None, q[:n], p[:n], autojunk=False).ratio() >= _SAME_QUESTION


def pieces(text: str, question: str | None = None) -> list[Piece]:
    """Cut ``text`` where a line starts a new turn and say whose answer each piece holds.

    Args:
        text: prepared (folded) text.
        question: the item's question, or None when unknown.

    Returns:
        The pieces in order; the first is ``own``; a later piece is ``restated`` when
        :func:`restates` says it repeats ``question``, else ``invented``.
    """
    starts = [m.start() for m in _CONTINUATION.finditer(text) if m.start() > 0]
    bounds = [0, *starts, len(text)]
    out = []
    for index, (a, b) in enumerate(zip(bounds, bounds[1:], strict=False)):
        chunk = text[a:b]
        if index == 0:
            kind = "own"
        elif question is not None and restates(chunk, question):
            kind = "restated"
        else:
            kind = "invented"
        out.append(Piece(chunk, kind))
    return out


class Found(NamedTuple):
    """An answer found in one piece: its tier (1 = strongest), answer and rule."""

    tier: int
    answer: str
    rule: str
    percent: bool = False


def best_piece(found: Sequence[tuple[Piece, Found | None]], question_known: bool) -> Found | None:
    """Choose among the answers found in the pieces of one completion.

    Rule: when the item's question is unknown, the first piece that holds an answer wins
    (the answer to the model's own question beats the answer to one it invented next).
    When it is known, only ``own`` and ``restated`` pieces count (an invented next
    question's answer never does); among them the strongest tier wins and, within a
    tier, the later piece (a restated question answered explicitly beats a weak mention
    before it, as a later marker corrects an earlier one within a piece).

    Args:
        found: ``(piece, answer or None)`` in text order.
        question_known: whether the pieces were classified against the item's question.

    Returns:
        The chosen answer, or None.
    """
    if not question_known:
        return next((f for _, f in found if f is not None), None)
    mine = [f for piece, f in found if f is not None and piece.kind != "invented"]
    if not mine:
        return None
    best = min(f.tier for f in mine)
    return [f for f in mine if f.tier == best][-1]


# --------------------------------------------------------------------------------------
# Answer markers in many languages
# --------------------------------------------------------------------------------------

#: Answer markers other than English, one pattern per language, each ending where the
#: answer starts (after its copula or colon; full-width colons are folded to ``:``
#: first). English markers differ by extractor and live there. Shared by
#: :func:`~benchgate.scoring.extract.choice.extract_choice` and
#: :func:`~benchgate.scoring.extract.number.extract_number`. Languages: the eleven of
#: MGSM (bn, de, en, es, fr, ja, ru, sw, te, th, zh), C-Eval's Chinese (simplified and
#: traditional), Portuguese, Italian, Korean, Hindi, Vietnamese, Indonesian and Turkish.
ANSWER_MARKERS: dict[str, str] = {
    "zh": r"(?:正确|正確|最终|最終|最佳|参考)?答案(?:\s*(?:应该|应当|應該|應當|应|應|就|即))?"
    r"(?:\s*(?:是|为|為|选|選))?(?:\s*[:=])?",
    "ja": r"(?:正しい)?(?:答え|正解|解答|回答|選択肢)\s*(?:は|:)",
    "ko": r"(?:정답|(?<![가-힣])답(?:변)?)\s*(?:은|는|:|=)",
    "fr": r"\b(?:la\s+)?(?:bonne\s+|vraie\s+)?r[ée]ponse(?:\s+(?:correcte|finale|exacte))?"
    r"\s*(?:est|serait|:)",
    "es": r"\b(?:la\s+)?respuesta(?:\s+(?:correcta|final))?\s*(?:es|ser[íi]a|:)",
    "pt": r"\b(?:a\s+)?resposta(?:\s+(?:correta|certa|final))?\s*(?:é|e\b|seria|:)",
    "it": r"\b(?:la\s+)?risposta(?:\s+(?:corretta|giusta|finale))?\s*(?:è|e\b|sarebbe|:)",
    "de": r"\b(?:die\s+)?(?:richtige\s+|korrekte\s+)?antwort(?:\s+(?:lautet|ist|wäre)|\s*:)"
    r"|\bl[öo]sung\s*(?:lautet|ist|:)",
    "ru": r"(?:правильный\s+)?\bответ\s*(?::|—|–|-|будет|составляет|равен|это)?",
    "sw": r"\bjibu(?:\s+(?:sahihi|la\s+mwisho))?\s*(?:ni\b|:)",
    "bn": r"(?:সঠিক\s+)?উত্তর\s*(?:হল|হলো|হবে|:)?",
    "te": r"(?:సరైన\s+)?(?:సమాధానం|జవాబు)\s*(?::|=)?",
    "th": r"คำตอบ(?:ที่ถูกต้อง)?\s*(?:คือ|:)?|(?<!คำ)ตอบ\s*(?:คือ|:)",
    "hi": r"(?:सही\s+)?उत्तर\s*(?:है|:)",
    "vi": r"\bđáp\s+án(?:\s+đúng)?\s*(?:là|:)?",
    "id": r"\bjawaban(?:nya)?(?:\s+yang\s+benar)?\s*(?:adalah|:)",
    "tr": r"\b(?:doğru\s+)?cevap\s*(?::|budur)",
}


def marker_alternation(extra: Sequence[str] = ()) -> str:
    """The lexicon as one regex alternation (non-capturing), ``extra`` patterns first."""
    return "|".join(f"(?:{p})" for p in (*extra, *ANSWER_MARKERS.values()))

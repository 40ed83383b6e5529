r"""Numeric extraction: the final numeric answer of a completion, in canonical form.

:func:`extract_number` returns the canonical decimal string; :func:`number_extraction`
also names the rule that found it and whether a percent sign was written. The rules are
documented on :func:`extract_number` and tested in ``tests/unit/test_extract.py`` and
``test_extract_kinds.py``.

About 600 lines: one extractor (number forms, tiers and their documentation); the shared
text preparation is in ``_common``.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import NamedTuple

from benchgate.scoring.extract._common import (
    Extraction,
    Found,
    best_piece,
    check_text,
    cut_at_end_token,
    fold,
    marker_alternation,
    pieces,
    unwrap_latex_text,
)
from benchgate.scoring.extract.reasoning import final_text
from benchgate.scoring.normalize import canonical_number, fraction_to_decimal

__all__ = ["extract_number", "number_extraction"]

_CURRENCY = "$€£¥₹"
_THIN = "\u00a0\u202f\u2009"
_NUMBER_EN = re.compile(
    rf"""
    (?<![A-Za-z0-9_./])
    (?P<sign>[-+](?=[{_CURRENCY}]?\s?\.?\d))?
    (?:[{_CURRENCY}]\s?)?
    (?:
        (?P<frac>\d+/\d+)(?![/\d])
      | (?P<num>
            \d{{1,3}}(?:,\d{{3}})+(?!\d)(?:\.\d+)?
          | \d{{1,3}}(?:[{_THIN}]\d{{3}})+(?!\d)(?:\.\d+)?
          | \d{{1,3}}(?:\.\d{{3}}){{2,}}(?![\d.])
          | \d+(?:\.\d+)?(?:[eE][-+]?\d+(?![A-Za-z\d]))?
          | \.\d+
        )
    )
    """,
    re.VERBOSE,
)
_NUMBER_DECIMAL_COMMA = re.compile(
    rf"""
    (?<![A-Za-z0-9_./,])
    (?P<sign>[-+](?=[{_CURRENCY}]?\s?\d))?
    (?:[{_CURRENCY}]\s?)?
    (?:
        (?P<frac>\d+/\d+)(?![/\d])
      | (?P<num>
            \d{{1,3}}(?:\.\d{{3}})+(?!\d)(?:,\d+)?
          | \d{{1,3}}(?:[{_THIN}]\d{{3}})+(?!\d)(?:,\d+)?
          | \d{{1,3}}(?:,\d{{3}}){{2,}}(?![\d,])
          | \d+\.(?:\d{{1,2}}|\d{{4,}})(?!\d)(?:[eE][-+]?\d+(?![A-Za-z\d]))?
          | \d+(?:,\d+)?(?:[eE][-+]?\d+(?![A-Za-z\d]))?
        )
    )
    """,
    re.VERBOSE,
)

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_TIER_A = re.compile(
    r"####|(?i:\bfinal\s+answer\b(?:\s*(?:is|:|=|would\s+be|will\s+be|should\s+be))?)"
    r"|最终答案\s*(?:是|为|:)?|最終答案\s*(?:是|為|:)?"
)
_ENGLISH_B = (
    r"\banswer\b(?:\s*,[^,.;\n]{1,60},)?(?:\s+to\s+[^.\n\d]{1,80}?)?\s*"
    r"(?:is|:|=|would\s+be|will\s+be|should\s+be|must\s+be|comes\s+to|equals)",
    r"答\s*:",
)
_TIER_B = re.compile(marker_alternation(_ENGLISH_B), re.IGNORECASE)
_IS_THE_ANSWER = re.compile(
    r"(?i)\s*(?:is|would\s+be)\s+(?:the\s+)?(?:final\s+|correct\s+)?answer\b"
)
# A number taken out of the running by the words before or after it.
_NEGATED_BEFORE = re.compile(
    r"(?i)(?:\bnot|n['’]t|\bnever|\brather\s+than|\binstead\s+of|\bno\s+longer)"
    r"\s+(?:exactly\s+|quite\s+|just\s+|simply\s+|equal\s+to\s+|be\s+)?[-+]?$"
)
_REJECTED_AFTER = re.compile(
    r"(?i)\s*%?\s*(?:(?:is|was)\s+not|isn['’]t|wasn['’]t)\s+(?:the\s+|our\s+|my\s+|a\s+)?"
    r"(?:correct\s+|right\s+|final\s+)?(?:answer|result|solution)\b"
    r"|\s*%?\s*(?:is|was)\s+(?:wrong|incorrect)\b"
)
# "not 20; it is 18": the negated clause at the start of a marker's span is skipped.
_NEGATION_CLAUSE = re.compile(
    r"(?i)^[\s:=*]*(?:not|n['’]t)\s+[^;,.\n]*?\d[^;,\n]*?(?:[;,]|\bbut\b|—|–)\s*"
    r"(?:(?:it|that|this)\s*(?:is|['’]s|was)\s+|rather\s+|instead\s+|actually\s+)*"
)
_LEAD = re.compile(r"[\s:=*\"'“(\[]*")
# Two numbers offered as alternatives ("3 or 4", "3 ou 4"): neither is an answer.
_OR = r"(?:or|ou|o|oder|или|hoặc|atau|veya|au|หรือ|또는|或者|或|か)"
_OR_NUMBER_AFTER = re.compile(rf"(?i)\s*%?\s*{_OR}\s*[-+$€£¥₹]?\d")
_OR_NUMBER_BEFORE = re.compile(rf"(?i)\d\s*%?\s*{_OR}\s*[-+]?[$€£¥₹]?\s*$")
_EXCLUDED_BEFORE = re.compile(
    "(?i)(?:{})|(?:{})".format(
        *(p.pattern.removeprefix("(?i)") for p in (_NEGATED_BEFORE, _OR_NUMBER_BEFORE))
    )
)
_PERCENT_AFTER = re.compile(r"(?i)\s*(?:%|percent\b|per\s*cent\b|pct\b)")

_WORD_NUMBERS = {
    w: i
    for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen "
        "fourteen fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
_WORD_NUMBERS.update(
    {w: 10 * i for i, w in enumerate("thirty forty fifty sixty seventy eighty ninety".split(), 3)}
)
_WORD_NUMBER = re.compile(
    r"(?i)\b("
    + "|".join(sorted(_WORD_NUMBERS, key=len, reverse=True))
    + r")(?:[- ]("
    + "|".join(w for w in _WORD_NUMBERS if _WORD_NUMBERS[w] < 10 and w != "zero")
    + r"))?\b(?!\s+of\b)"
)
_OPERATOR_AFTER = re.compile(r"\s*(?:[-+*/×÷^]|x(?=\s*\d))")
# How far after a marker its answer may be read (an answer sentence is short; the bound
# keeps extraction linear in the text's length).
_SPAN_CHARS = 400
_SENTENCE_END = re.compile(r"\n|[.!?。](?=\s|$)|;")

# Scientific notation: "1.2 × 10^5", "1.2 x 10⁵", "1,2·10^5", "1.2 * 10**5".
_SUPERSCRIPT = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺", "0123456789-+")
_SCIENTIFIC = re.compile(
    r"(?<![\d.,])(\d+(?:[.,]\d+)?)\s*(?:[x×*·⋅]|\\times|\\cdot)\s*10\s*"
    r"(?:\^\s*\{?\s*([-+−]?\d{1,2})\s*\}?|\*\*\s*\(?\s*([-+]?\d{1,2})\s*\)?"
    r"|([⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2}))(?![\d⁰¹²³⁴⁵⁶⁷⁸⁹])"
)
_TEN_SUPERSCRIPT = re.compile(r"(?<![\d.,])10([⁻⁺]?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,2})(?![\d⁰¹²³⁴⁵⁶⁷⁸⁹])")
# A one-digit group joins a plain-space thousands group only after these words
# ("The answer is 4 500"), not in a list or range ("between 3 and 4 500 ml").
_JOIN_AFTER = re.compile(
    r"(?i)(?:[=:]|\b(?:is|are|was|were|be|equals?|of|about|approximately|roughly|total))\s*$"
)
_DROP_THIN = {ord(c): None for c in _THIN}
_COMPOUND_AFTER = re.compile(r"-[^\W\d_]")
_ACCOUNTING_BEFORE = re.compile(rf"\(\s*[{_CURRENCY}]?\s*$")
_ACCOUNTING_AFTER = re.compile(r"\s*%?\s*\)")
_GROUP_HEAD = re.compile(rf"[-+]?(?:[{_CURRENCY}]\s?)?(\d{{1,3}})")
_GROUP_NEXT = re.compile(r"\d{3}(?:[.,]\d+)?")


class _Tok(NamedTuple):
    """One number in a text: where it sits, as written, its value and how it reads.

    ``negated``: taken out of the running by its context (``not 20``, ``20 is wrong``,
    ``3 or 4``).
    """

    begin: int
    finish: int
    raw: str
    value: Decimal
    percent: bool = False
    negated: bool = False


def _decimal_text(value: Decimal, decimal_comma: bool) -> str:
    text = canonical_number(value)
    return text.replace(".", ",") if decimal_comma else text


def _scientific(text: str, decimal_comma: bool) -> str:
    """Write ``m × 10^k`` (and ``10⁵``) as the plain number it denotes."""

    def mantissa_times(m: re.Match[str]) -> str:
        written = m.group(2) or m.group(3) or m.group(4)
        exp = int(written.translate(_SUPERSCRIPT).replace("−", "-"))
        mantissa = Decimal(m.group(1).replace(",", "."))
        return _decimal_text(mantissa.scaleb(exp), decimal_comma)

    def power(m: re.Match[str]) -> str:
        exp = int(m.group(1).translate(_SUPERSCRIPT))
        return _decimal_text(Decimal(1).scaleb(exp), decimal_comma)

    return _TEN_SUPERSCRIPT.sub(power, _SCIENTIFIC.sub(mantissa_times, text))


def _power(m: re.Match[str]) -> str:
    """``10^6`` -> ``1000000`` (small integer powers only)."""
    return str(int(m.group(1)) ** int(m.group(2)))


def _latex_to_plain(text: str, decimal_comma: bool) -> str:
    """Rewrite the LaTeX that wraps numeric answers into plain text (see extract_number)."""
    text = unwrap_latex_text(text)
    text = re.sub(r"\\[dt]frac", r"\\frac", text)
    signed = r"(-?\d+(?:\.\d+)?)"
    text = re.sub(r"\\frac\s*\{\s*" + signed + r"\s*\}\s*\{\s*" + signed + r"\s*\}", r"\1/\2", text)
    text = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\1/\2", text)
    text = text.replace("\\$", "$").replace("\\%", "%").replace("{,}", ",")
    text = re.sub(r"(?<=\d)\\[,;:! ](?=\d{3}(?!\d))", "", text)  # 1\,250 -> 1250
    text = re.sub(r"\\(?:left|right)\b", "", text)
    text = re.sub(r"\^\s*\{?\\circ\}?", "", text)
    text = _scientific(text, decimal_comma)
    text = re.sub(r"\\(?:cdot|times)", " * ", text)
    text = re.sub(r"(?<![\d.])(\d{1,6})\s*\^\s*(?:\{\s*)?(\d{1,2})(?:\s*\})?", _power, text)
    text = re.sub(r"\\[()\[\]]", " ", text)
    return text.replace("**", "")


def _token_value(m: re.Match[str], decimal_comma: bool) -> Decimal | None:
    if m.group("frac"):
        a, b = (int(x) for x in m.group("frac").split("/"))
        value = fraction_to_decimal(Fraction(a, b)) if b else None
    else:
        raw = m.group("num").translate(_DROP_THIN)
        if not decimal_comma:
            raw = raw.replace(",", "")
            raw = raw.replace(".", "") if raw.count(".") >= 2 else raw
        elif raw.count(",") >= 2:
            raw = raw.replace(",", "")
        elif not re.fullmatch(r"\d+\.(?:\d{1,2}|\d{4,})(?:[eE][-+]?\d+)?", raw):  # else a point
            raw = raw.replace(".", "").replace(",", ".")
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the patterns admit only numbers
            return None
    if value is None:
        return None
    return -value if m.group("sign") == "-" else value


def _may_join(
    text: str, head: _Tok, digits: str, groups: list[_Tok], decimal_comma: bool, lead: int
) -> bool:
    """Whether plain-space groups after ``head`` are thousands groups (see extract_number).

    ``lead``: where the text's first non-space character is.
    """
    if _COMPOUND_AFTER.match(text, groups[-1].finish):
        return False  # "3 200-gram packs"
    return (
        decimal_comma
        or any(c in head.raw for c in _CURRENCY)
        or any(g.raw.startswith("0") for g in groups)
        or len(digits) >= 2
        or re.search(r"[.,]", groups[-1].raw) is not None
        or _JOIN_AFTER.search(text[max(0, head.begin - 24) : head.begin]) is not None
        or head.begin <= lead  # the text (or a marker's span) starts with it
    )


def _join_groups(text: str, tokens: list[_Tok], decimal_comma: bool) -> list[_Tok]:
    """Join thousands groups separated by one plain space (``12 500``, ``$400 000``)."""
    out: list[_Tok] = []
    lead = len(text) - len(text.lstrip())
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        head = _GROUP_HEAD.fullmatch(tok.raw)
        j = i
        while (
            head is not None
            and j + 1 < len(tokens)
            and text[tokens[j].finish : tokens[j + 1].begin] == " "
            and _GROUP_NEXT.fullmatch(tokens[j + 1].raw)
            and (j == i or not re.search(r"[.,]", tokens[j].raw))
        ):
            j += 1
        groups = tokens[i + 1 : j + 1]
        if groups and _may_join(text, tok, head.group(1), groups, decimal_comma, lead):
            total = Decimal(head.group(1))
            for g in groups:
                total = total * 1000 + g.value
            end = groups[-1].finish
            value = -total if tok.raw[0] == "-" else total
            tok = _Tok(tok.begin, end, text[tok.begin : end], value)
        else:
            j = i
        out.append(tok)
        i = j + 1
    return out


def _annotate(text: str, tok: _Tok, accounting: bool) -> _Tok:
    """Percent sign, accounting parentheses, negation and alternatives around one number."""
    end = tok.finish
    before = text[max(0, tok.begin - 32) : tok.begin]
    value = tok.value
    if (
        accounting
        and tok.raw[0] not in "-+"
        and _ACCOUNTING_BEFORE.search(before)
        and _ACCOUNTING_AFTER.match(text, end)
    ):
        value = -value  # "(1,234)" is -1234 in a financial statement
    negated = bool(
        _EXCLUDED_BEFORE.search(before)
        or _REJECTED_AFTER.match(text, end)
        or _OR_NUMBER_AFTER.match(text, end)
    )
    percent = _PERCENT_AFTER.match(text, end) is not None
    return tok._replace(value=value, percent=percent, negated=negated)


def _numbers(text: str, decimal_comma: bool, accounting: bool = False) -> list[_Tok]:
    """Every number in ``text``, in order (thousands groups joined, see extract_number)."""
    pattern = _NUMBER_DECIMAL_COMMA if decimal_comma else _NUMBER_EN
    tokens = []
    for m in pattern.finditer(text):
        value = _token_value(m, decimal_comma)
        if value is not None:
            tokens.append(_Tok(m.start(), m.end(), m.group(), value))
    return [_annotate(text, t, accounting) for t in _join_groups(text, tokens, decimal_comma)]


class _Ctx(NamedTuple):
    decimal_comma: bool
    fallback: bool
    accounting: bool


def _word_number(window: str, max_words: int) -> _Tok | None:
    word = _WORD_NUMBER.search(window)
    if not word or len(window[: word.start()].split()) > max_words:
        return None
    value = _WORD_NUMBERS[word.group(1).lower()]
    if word.group(2):
        value += _WORD_NUMBERS[word.group(2).lower()]
    return _Tok(word.start(), word.end(), word.group(), Decimal(value))


def _answer_from_span(span: str, ctx: _Ctx, *, strict: bool, max_words: int = 3) -> _Tok | None:
    """The number a marker's span states.

    A leading negated clause (``not 20; it is 18``) is skipped. The span is cut at the
    end of its first sentence. Its first number that is not negated is the answer,
    unless an arithmetic operator follows it and an ``=`` comes later, in which case the
    number after the last ``=`` is (``The answer is 5 + 13 = 18``). With ``strict``, the
    number must come within the first ``max_words`` words.
    """
    clause = _NEGATION_CLAUSE.match(span)
    start = clause.end() if clause else 0
    lead = _LEAD.match(span, start)
    end = _SENTENCE_END.search(span, lead.end())
    # The window keeps the decorations before the answer: "($1,234)" is read whole.
    window = span[start : end.start() if end else len(span)]
    offset = lead.end() - start
    nums = [t for t in _numbers(window, ctx.decimal_comma, ctx.accounting) if not t.negated]
    if not nums:
        if re.search(r"\d", window):
            return None  # only negated numbers: "not 20"
        return _word_number(window[offset:], max_words if strict else 6)
    first = nums[0]
    before = window[offset : first.begin] if first.begin > offset else ""
    if strict and (len(before.split()) > max_words or re.search(r"\d", before)):
        return None
    if _OPERATOR_AFTER.match(window, first.finish) and "=" in window[first.finish :]:
        after = window.rfind("=")
        later = [t for t in nums if t.begin > after]
        if later:
            return later[0]
    return first


def _numbers_after_sentence(seg: str, start: int, numbers: list[_Tok]) -> bool:
    window = seg[start : start + _SPAN_CHARS]
    lead = _LEAD.match(window)
    end = _SENTENCE_END.search(window, lead.end() if lead else 0)
    stop = start + (end.end() if end else len(window))
    return bool(numbers) and numbers[-1].begin >= stop


def _marker_value(seg: str, m: re.Match[str], numbers: list[_Tok], ctx: _Ctx) -> _Tok | None:
    """The number stated by the marker ``m`` (see :func:`_answer_from_span`).

    ``####`` takes the first number after it. A worded marker takes the number that
    starts its sentence; a number later in the sentence counts when no number follows
    the sentence (``The answer is: she earns $18 per day.``), or, after ``is`` rather
    than a colon, when at most three words precede it (``The answer is approximately
    18. Because ...``). Otherwise the marker heads a whole solution (``Answer: Janet
    sells 16 - 3 - 4 = 9 eggs. She makes 9 * 2 = $18.``) and states nothing.
    """
    span = seg[m.end() : m.end() + _SPAN_CHARS]
    if m.group() == "####":
        return _answer_from_span(span, ctx, strict=False)
    immediate = _answer_from_span(span, ctx, strict=True, max_words=0)
    if immediate is not None:
        return immediate
    value = _answer_from_span(span, ctx, strict=False)
    if value is None or not _numbers_after_sentence(seg, m.end(), numbers):
        return value
    if m.group().rstrip().endswith((":", "=")):
        return None
    return _answer_from_span(span, ctx, strict=True)


def _boxed_spans(seg: str) -> list[tuple[int, str]]:
    spans = []
    for m in _BOXED.finditer(seg):
        depth, i = 1, m.end()
        limit = min(len(seg), m.end() + _SPAN_CHARS)
        while i < limit and depth:
            depth += {"{": 1, "}": -1}.get(seg[i], 0)
            i += 1
        spans.append((m.start(), seg[m.end() : i - 1 if depth == 0 else i]))
    return spans


def _found(tier: int, tok: _Tok, rule: str) -> Found:
    return Found(tier, canonical_number(tok.value), rule, tok.percent)


def _tier_a(seg: str, numbers: list[_Tok], ctx: _Ctx) -> Found | None:
    r"""``\boxed{}``, ``####`` and ``Final Answer``; the last that states a number wins."""
    hits: list[tuple[int, _Tok, str]] = []
    for pos, content in _boxed_spans(seg):
        tok = _answer_from_span(content, ctx, strict=False)
        if tok is not None:
            hits.append((pos, tok, "boxed"))
    for m in _TIER_A.finditer(seg):
        tok = _marker_value(seg, m, numbers, ctx)
        if tok is not None:
            hits.append((m.start(), tok, "hashes" if m.group() == "####" else "final-answer"))
    if not hits:
        return None
    _, tok, rule = max(hits, key=lambda h: h[0])
    return _found(1, tok, rule)


def _tier_b(seg: str, numbers: list[_Tok], ctx: _Ctx) -> Found | None:
    """``The answer is``, ``Answer:``, the lexicon's markers, and ``18 is the answer``."""
    hits: list[tuple[int, _Tok, str]] = []
    for m in _TIER_B.finditer(seg):
        tok = _marker_value(seg, m, numbers, ctx)
        if tok is not None:
            hits.append((m.start(), tok, "marker"))
    for tok in numbers:
        if not tok.negated and _IS_THE_ANSWER.match(seg, tok.finish):
            hits.append((tok.begin, tok, "is-the-answer"))
    if not hits:
        return None
    _, tok, rule = max(hits, key=lambda h: h[0])
    return _found(2, tok, rule)


def _tier_c(seg: str, numbers: list[_Tok], ctx: _Ctx) -> Found | None:
    """The last number that is not negated, unless a marker naming no number ends the text."""
    live = [t for t in numbers if not t.negated]
    if not ctx.fallback or not live:
        return None
    marker_ends = [m.end() for m in _TIER_A.finditer(seg)]
    marker_ends += [m.end() for m in _TIER_B.finditer(seg)]
    if marker_ends and live[-1].begin < max(marker_ends):
        return None
    return _found(3, live[-1], "last-number")


def _number_in_piece(seg: str, ctx: _Ctx) -> Found | None:
    numbers = _numbers(seg, ctx.decimal_comma, ctx.accounting)
    for tier in (_tier_a, _tier_b, _tier_c):
        found = tier(seg, numbers, ctx)
        if found is not None:
            return found
    return None


def _why_none(seg: str, found: list, ctx: _Ctx) -> str:
    """The rule name of a completion that states no number."""
    if not seg.strip():
        return "empty"
    if any(f is not None for _, f in found):
        return "invented-question"
    numbers = _numbers(seg, ctx.decimal_comma, ctx.accounting)
    if not numbers:
        return "no-number"
    if all(t.negated for t in numbers):
        return "negated"
    if not ctx.fallback:
        return "no-marker"
    return "marker-without-number"


def number_extraction(
    text: str,
    *,
    decimal_comma: bool = False,
    last_number_fallback: bool = True,
    accounting_negatives: bool = False,
    question: str | None = None,
) -> Extraction:
    """Find the final numeric answer of a completion, and the rule that found it.

    Same rules and arguments as :func:`extract_number`.

    Returns:
        An :class:`~benchgate.scoring.extract._common.Extraction`: the canonical number
        (or None), whether it was written with a percent sign, and the rule: ``boxed``,
        ``hashes``, ``final-answer`` (tier A), ``marker``, ``is-the-answer`` (tier B),
        ``last-number`` (tier C); when none: ``empty``, ``no-number``, ``negated`` (only
        negated numbers: ``not 20``), ``no-marker`` (fallback off), ``invented-question``
        or ``marker-without-number`` (``The answer is N.``).
    """
    ctx = _Ctx(decimal_comma, last_number_fallback, accounting_negatives)
    prepared = cut_at_end_token(final_text(fold(check_text(text))))
    prepared = _latex_to_plain(prepared, decimal_comma)
    found = [(p, _number_in_piece(p.text, ctx)) for p in pieces(prepared, question)]
    best = best_piece(found, question is not None)
    if best is None:
        return Extraction(None, _why_none(prepared, found, ctx))
    return Extraction(best.answer, best.rule, best.percent)


def extract_number(
    text: str,
    *,
    decimal_comma: bool = False,
    last_number_fallback: bool = True,
    accounting_negatives: bool = False,
    question: str | None = None,
) -> str | None:
    r"""Find the final numeric answer of a completion, in canonical decimal form.

    Tiers, the first that finds a number wins; within a tier the **last** marker wins:

    A. ``\boxed{...}``, ``#### N`` (GSM8K), ``Final Answer: ...``, ``最终答案``;
    B. ``The answer is N``, ``Answer: N``, ``答案是N``, ``答：N``, the answer markers of
       :data:`~benchgate.scoring.extract._common.ANSWER_MARKERS` (``La respuesta es``,
       ``Réponse :``, ``Die Antwort lautet``, ``Ответ``, ``คำตอบคือ``, ``Jibu ni``,
       ``উত্তর হল``, ``సమాధానం``, ``答えは``, ``정답은``, ``A resposta é`` ...), and ``N
       is the answer``;
    C. the last number in the text (unless ``last_number_fallback`` is False).

    After a marker, the answer is the first number of its sentence, or the result after
    the last ``=`` when the sentence is a calculation (``The answer is 5 + 13 = 18``).
    After a worded marker the number must start the sentence (``The answer is $18``,
    ``答案是 18``), or be the last number of the text (``The answer is: she earns $18
    per day.``), or, after ``is``, come within three words (``The answer is
    approximately 18. Because ...``); otherwise the marker heads a whole solution
    (``Answer: Janet sells 16 - 3 - 4 = 9 eggs. She makes 9 * 2 = $18.``) and tier C
    reads 18. When the text ends with a marker that names no number (a small model
    copying the prompt's placeholder: ``The answer is N.``), the result is None rather
    than a number scraped from the reasoning before it. Spelled numbers zero to
    ninety-nine count right after a marker (``The answer is five.``), never in tier C.

    Negation: a number after ``not``/``n't``/``never``/``rather than``/``instead of``,
    or followed by ``is not the answer``/``is wrong``, is not an answer in any tier;
    after a marker a leading negated clause is skipped (``The answer is not 20; it is
    18`` -> ``"18"``, ``The answer is not 20.`` -> None).

    Number forms: ``$1,250.50`` -> ``"1250.5"`` (currency ``$ € £ ¥ ₹`` and thousands
    commas dropped; commas must form groups of three, so ``1,25`` is two numbers),
    ``-7`` and ``−7`` (a sign counts only before a digit and after a space or
    bracket: ``16-3`` is a subtraction), ``45%`` -> ``"45"`` (the percent sign is
    dropped and reported by :func:`number_extraction`), ``.5``, ``1e3`` -> ``"1000"``,
    ``10^6`` -> ``"1000000"``, scientific notation ``1.2 × 10^5``, ``1.2 x 10⁵``,
    ``1.2·10^5``, ``1.2 * 10**5``, ``\(1.2 \times 10^{5}\)`` -> ``"120000"``,
    ``1.250.000`` -> ``"1250000"``, a trailing period (``18.``). Fractions: ``3/4`` ->
    ``"0.75"``, ``\frac{1}{3}`` -> ``"0.3333333333"`` (10 places when the expansion does
    not end); a mixed number ``1 1/2`` is read as two numbers. LaTeX: ``\boxed``,
    ``\frac``/``\dfrac``, ``\$``, ``\%``, ``\text{}``, ``1{,}250``, ``1\,250``. Scale
    words (thousand, million) are not applied: ``1.5 million`` -> ``"1.5"``. A number
    glued after a letter (``H2O``, ``x2``, ``A1``) is not a number.

    Space as a thousands separator (French, Russian and SI style): a no-break, narrow
    no-break, thin, figure or hair space between a 1-3 digit group and 3-digit groups
    always joins them (``12 500`` written with U+202F -> ``"12500"``). A plain space
    joins them, unless the last group is followed by a hyphen and a word (``3 200-gram
    packs`` stays 3 and 200), when: ``decimal_comma`` is on, a currency sign leads, a
    group starts with 0 (``118 000``), the last group has decimals, the first group has
    two or three digits (``12 500`` -> ``"12500"``), or a one-digit first group follows
    ``=``, ``:``, ``is``/``are``/``was``/``equals``/``of``/``about``/``total`` or opens
    the text (``The answer is 4 500`` -> ``"4500"``). Otherwise a one-digit group before a
    plain space stays its own number: in ``between 3 and 4 500 ml`` the range is read
    as 3, 4 and 500 (last number 500), because in English text a digit followed by a
    space and a count (``3 200-gram``, ``4 500 ml bottles``) is as likely as a
    thousands group; write ``4,500`` or a thin space to be unambiguous.

    Args:
        text: the final text of a completion (see :func:`split_reasoning`).
        decimal_comma: read ``,`` as the decimal separator and ``.`` as the thousands
            separator (German, Spanish, French, Russian: ``70.000`` -> ``"70000"``,
            ``3,5`` -> ``"3.5"``); a dot followed by other than three digits is still a
            decimal point (``3.5`` -> ``"3.5"``), and plain-space thousands groups are
            joined (``1 250`` -> ``"1250"``). Default False (English).
        last_number_fallback: allow tier C. Pass False to require an explicit marker,
            e.g. for a completion cut by ``max_new_tokens``.
        accounting_negatives: read a number in parentheses, ``(1,234)`` or ``($1,234)``,
            as negative (financial statements; FinQA). Default False.
        question: the item's question, optional: continuation pieces that restate it
            still answer this item, pieces that pose another question never count (see
            :func:`~benchgate.scoring.extract.choice.extract_choice`).

    Returns:
        The canonical decimal string (``"1250.5"``, ``"-7"``, ``"0.25"``; never ``"-0"``),
        or None when the completion states no number.

    Raises:
        TypeError: ``text`` is not a str.
    """
    return number_extraction(
        text,
        decimal_comma=decimal_comma,
        last_number_fallback=last_number_fallback,
        accounting_negatives=accounting_negatives,
        question=question,
    ).answer

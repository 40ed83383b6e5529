r"""Multiple-choice extraction: the option label a completion chose, or None.

:func:`extract_choice` returns the label; :func:`choice_extraction` also names the rule
that found it (``Score.rule``). The rules are documented on :func:`extract_choice` and
tested row by row in ``tests/unit/test_extract.py`` and ``test_extract_kinds.py``.

About 600 lines: one extractor, whose tiers share the label tests (``_follow_ok``,
``_label_at``); the shared text preparation is in ``_common``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

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
from benchgate.scoring.normalize import check_labels

__all__ = ["choice_extraction", "extract_choice"]

# Decorations that may stand between a marker and the label: spaces, newlines, quotes
# and opening brackets (full-width ones are folded to ASCII first).
_OPEN = r"[ \t\n\"'“‘(\[{<【「『]*"
# Words that may follow an option label without making it an English word
# ("The answer is A because ...", but not "A plant cell ...").
_CONNECTORS = frozenset(
    "because since as which so given due is was would seems appears and but or here "
    "in from with that then therefore thus hence this the it its since".split()
)
_DELIMS = set(")]}>.:,;!?-–—/\"'”’|】」』。、，；！？")
# Words joining two labels as alternatives or a list, in the lexicon's languages.
_CONJUNCTIONS = (
    r"\band\b|\bor\b|\bnor\b|\bund\b|\boder\b|\bou\b|\bet\b|\bna\b|\bau\b"
    r"|\bили\b|\bveya\b|\bve\b|\bhoặc\b|\bvà\b|\batau\b|\bdan\b|และ|หรือ|또는|및"
    r"|或者|或|和|及|と|か"
)
_HEDGE = (
    r"(?:maybe|perhaps|possibly|probably|even|vielleicht|peut-être|quizás|tal\s+vez|talvez"
    r"|forse|может\s+быть)"
)
_LIST_SEP = (
    rf"(?:\s*(?:,|/|&|、|，|{_CONJUNCTIONS})(?:\s+{_HEDGE})?"
    rf"|\s*,?\s*(?:or|oder|ou|o|или)\s+{_HEDGE}"
    r"|[)\]]?(?:[ \t]+[^\s,.;:]+){0,3}[ \t]+or\b)"
)
# One-letter conjunctions (Spanish y/o, Portuguese/Italian e, Russian и): only before a
# capital label, so that "B e a ragione" stays B.
_SHORT_SEP = r"\s+(?:y|o|e|и)\s+"
# "A is not ...", "B is incorrect": a label judged wrong is not chosen.
_JUDGED_WRONG = re.compile(
    r"(?i)(?:is|was|seems|would\s+be|appears)\s+(?:\w+\s+)?(?:not\b|incorrect|wrong|false|untrue|unlikely)"
)
# Chinese/Japanese judgement right after a label: "B不正确", "C选项错误".
_JUDGED_WRONG_CJK = re.compile(
    r"[ \t]?(?:选项|選項|项|項)?(?:是|为|為)?(?:不|错|錯|非|并非|並非|誤)"
)
# A label dismissed by what follows it: "A is only a distractor", "A can be ruled out",
# "B不正确"; a list of labels shares a plural predicate: "A and C are wrong", "A和B是干扰项".
_WRONG_WORDS = (
    r"(?:only\s+|just\s+|merely\s+|simply\s+|clearly\s+|obviously\s+|also\s+|definitely\s+)?"
    r"(?:a\s+|an\s+|the\s+)?"
    r"(?:distractors?|wrong|incorrect|false|untrue|not\b|irrelevant|unrelated|implausible|"
    r"unlikely|traps?\b|decoys?|red\s+herrings?|ruled\s+out|eliminated|excluded)"
)
_FOREIGN_WRONG = (
    r"(?:auch\s+|aussi\s+|también\s+)?"
    r"(?:falsch|nicht|faux|fausses?|pas|incorrect[aeos]*|errad[ao]s?|fals[ao]s?|"
    r"sbagliat[aeio]|non\b|no\b|não)"
)
_RULED_OUT = r"\s+(?:can|could|may)\s+be\s+(?:ruled\s+out|eliminated|excluded|discarded)"
_CJK_WRONG = r"(?:选项|選項|项|項)?(?:都|均)?(?:是|为|為)?(?:错误|錯誤|不正确|不正確|干扰项|干擾項)"
_DISMISSED_ONE = (
    rf"\s+(?:is|was|seems|would\s+be|must\s+be)\s+{_WRONG_WORDS}"
    rf"|\s+(?:ist|est|es|é|è)\s+{_FOREIGN_WRONG}"
    r"|\s*(?:—|-|–)?\s*(?:неверн|неправильн|ошибочн)"
    rf"|{_RULED_OUT}|[ \t]?{_CJK_WRONG}"
)
_DISMISSED_MANY = (
    rf"\s+(?:are|were)\s+{_WRONG_WORDS}|\s+(?:sind|sont|son|são|sono)\s+{_FOREIGN_WRONG}"
)
_AND = r"\s*,?\s*(?:\band\b|\bund\b|\bet\b|\by\b|\be\b|&)\s*"
_CJK_AND = r"\s*(?:和|与|與|及|、)\s*"
# Words before a label that take it out of the running: "not A", "rather than B".
_NEGATED_BEFORE = re.compile(
    r"(?i)\b(?:not|nor|neither|either|and|or|both|if|whether|than)\s+(?:option\s+|choice\s+)?[(\[]?$"
)
_EXCLUDED_BEFORE = re.compile(
    r"(?i)(?:\bnot|\bnor|\bneither|\brather\s+than|\binstead\s+of|\bover|\bunlike|\bexcept"
    r"|\bexcluding|\bbesides|\bother\s+than|\bbut\s+not|\bnicht|\bkeine?|\bpas|\bnão"
    r"|\bnao|\bno|\bnon|\bне|\bnicht\s+etwa|不是|而非|并非|並非|아닌)"
    r"\s*(?:option\s+|choice\s+|选项|選項)?[(\[]?$"
)

_ENGLISH_STRONG = r"""
    \b(?:(?:the|my|our|your|final|correct|right|best|true|only|most\s+(?:likely|appropriate|accurate))\s+)*
      (?:answer|option|choice|response|solution)(?:\s+(?:choice|option|letter))?
      (?:\s*,[^,.;\n]{1,60},)?
      (?:\s+(?:here|then|now|in\s+this\s+case|for\s+this\s+question))?
      \s*(?:is|would\s+be|will\s+be|should\s+be|must\s+be|seems\s+to\s+be|appears\s+to\s+be|=|:|-|–|—|\n)
      (?:\s*(?:therefore|thus|hence|so|then|clearly|definitely|certainly|probably|likely|indeed|
              actually|simply|just|option|choice|letter|answer)\b)*
      \s*[:\-–—]?
  | \\(?:boxed|fbox)\s*\{
"""
# Markers that only a choice can follow: "the correct option" in the lexicon's languages,
# and the Chinese (simplified and traditional) choice forms.
_CHOICE_ONLY = (
    r"\b(?:opci[óo]n|alternativa|op[çc][ãa]o|opzione)\s+(?:correcta|correta|corretta)"
    r"\s*(?:es|é|è|:)",
    r"\b(?:la\s+)?bonne\s+(?:option|réponse|reponse)\s*(?:est|:)",
    r"\b(?:die\s+)?richtige\s+(?:option|wahl|lösung)\s*(?:ist|lautet|:)",
    r"(?:正确|正確|最佳)的?(?:选项|選項)(?:\s*(?:应该|應該|应|應|就))?\s*(?:是|为|為|:)",
    r"(?:故|所以|因此|因而|则|則|应|應|应该|應該|我|本题|本題|只能)?(?:选|選)(?![项項])"
    r"(?:择|擇)?\s*(?:是|为|為|:)?",
    r"(?:故|所以|因此|因而|则|則)?答(?![案え])\s*(?:是|为|為|:)?",
)
_STRONG_MARKER = re.compile(
    f"(?x:{_ENGLISH_STRONG})|" + marker_alternation(_CHOICE_ONLY), re.IGNORECASE
)

_SOFT_MARKER = re.compile(
    r"""
    (?:\bI\s+(?:think|believe|guess|choose|pick|select|am\s+going\s+with|
               would\s+(?:say|choose|pick|select|go\s+with)|
               ['’]d\s+(?:say|choose|pick|select|go\s+with)|
               ['’]ll\s+(?:choose|pick|select|go\s+with)|
               will\s+(?:choose|pick|select|go\s+with))
     |\bit['’]?s|\bit\s+is|\bthat['’]?s|\bthat\s+is|\bmust\s+be|\bgo\s+with|\bchoose|\bpick|\bselect)
    \b\s*(?:that\s+)?(?:it['’]?s\s+|it\s+is\s+)?(?:the\s+)?(?:(?:correct|right|best)\s+)?
    (?:option|choice|answer|letter)?\s*:?
    """,
    re.IGNORECASE | re.VERBOSE,
)
# The end of the sentence an answer marker opens (kind "marker-sentence").
_SENTENCE_END = re.compile(r"\n|[.!?。！？](?=\s|$)")
_SENTENCE_CHARS = 160
# A reason after the chosen label: "C because ...", "C, since ...".
_REASON_AFTER = re.compile(
    r"(?i)[ \t]*[,;:]?[ \t]*(?:because|since|as|given|due\s+to|weil|car|porque|perché|因为|因為)\b"
)


@functools.lru_cache(maxsize=64)
def _choice_patterns(labels: str) -> dict[str, re.Pattern[str]]:
    up = re.escape(labels)
    both = re.escape(labels + labels.lower())
    return {
        "label": re.compile(_OPEN + rf"(?<![A-Za-z0-9_])([{both}])(?![A-Za-z0-9])"),
        "ambiguous": re.compile(
            _LIST_SEP + _OPEN + rf"[{both}](?![A-Za-z0-9])"
            rf"|{_SHORT_SEP}[(\[]?[{up}](?![A-Za-z0-9])"
        ),
        "dismissed": re.compile(
            rf"(?:{_DISMISSED_ONE})"
            rf"|(?:{_LIST_SEP}{_OPEN}[{up}](?![A-Za-z0-9])[)\]]?)+(?:{_DISMISSED_MANY})"
            rf"|(?:{_AND}{_OPEN}[{up}](?![A-Za-z0-9])[)\]]?)+{_RULED_OUT}"
            rf"|(?:{_CJK_AND}[{up}])+[ \t]?{_CJK_WRONG}",
            re.IGNORECASE,
        ),
        "alternative_end": re.compile(
            rf"(?<![A-Za-z0-9])[{up}][)\]]?(?:{_LIST_SEP}|{_SHORT_SEP})[ \t\"'(\[]*$"
        ),
        "cap_label": re.compile(rf"(?<![A-Za-z0-9_])(?<![A-Za-z]\.)([{up}])(?![A-Za-z0-9])"),
        "label_first": re.compile(
            rf"(?<![A-Za-z0-9_])(?:(?i:option|choice)\s+)?[(\[]?([{up}])[)\]]?\s*"
            r"(?i:is|would\s+be|seems\s+to\s+be|must\s+be)\s+(?i:the\s+)?(?i:(?:only|most)\s+)?"
            r"(?i:correct|right|best|true|accurate|appropriate)\b(?!\s*\?)"
            rf"|(?<![A-Za-z0-9_])([{up}])[ \t]?(?:选项|選項|项|項)?(?:是|为|為)?"
            r"(?:正确|正確|对的|對的|符合题意|符合題意|当选|當選)"
        ),
        "list_item": re.compile(rf"^[ \t]*[(\[]?([{up}])[ \t]*[).:]", re.MULTILINE),
        "inline_item": re.compile(rf"(?<![A-Za-z0-9_(])([{up}])\)"),
        "inline_dot": re.compile(rf"(?<![A-Za-z0-9_(\[])([{up}])[.:](?=[ \t]+[^\s\d])"),
        "lone_line": re.compile(
            rf"^[ \t]*(?:(?i:option|choice|answer)[ \t]*(?::[ \t]*)?)?(?:[(\[][ \t]*)?([{both}])"
            r"(?:[ \t]*[)\]])?(?:[ \t]*[.:])?[ \t]*$",
            re.MULTILINE,
        ),
        "start": re.compile(r"^[ \t\n\"'(\[]*" + rf"([{both}])(?![A-Za-z0-9])"),
        "weak": re.compile(
            rf"\(([{up}])\)|\[([{up}])\]|【([{up}])】"
            rf"|(?i:\b(?:option|choice|solution))\s+([{up}])(?![A-Za-z0-9])"
            rf"|(?:^|(?<=\s))(?<!,\s)([{up}])\)",
            re.MULTILINE,
        ),
    }


def _norm_option(text: str) -> str:
    text = re.sub(r"\s+", " ", text.casefold()).strip()
    return text.strip(" .,:;!?\"'“”‘’()[]")


def _option_text_match(text: str, options: Sequence[str] | None, labels: str) -> str | None:
    """The label whose option text ``text`` names, if exactly one does."""
    if not options:
        return None
    s = _norm_option(text.split("\n", 1)[0])
    if not s:
        return None
    normed = [_norm_option(o) for o in options]
    exact = [labels[i] for i, o in enumerate(normed) if o and o == s]
    if len(exact) == 1:
        return exact[0]
    hits = [
        (i, o)
        for i, o in enumerate(normed)
        if o and re.search(r"(?<!\w)" + re.escape(o) + r"(?!\w)", s)
    ]
    # Drop options that are contained in another hit ("cat" inside "black cat").
    hits = [(i, o) for i, o in hits if not any(o != p and o in p for _, p in hits)]
    if len(hits) == 1:
        return labels[hits[0][0]]
    return None


# --------------------------------------------------------------------------------------
# Does a label stand alone?
# --------------------------------------------------------------------------------------


def _lower_follow_ok(rest: str) -> bool:
    """A lower-case label is followed only by punctuation (``answer: c.``)."""
    c, nxt = rest[0], rest[1:2]
    if c in ")]}>,:":
        return True
    if c == ".":
        return not (nxt.isascii() and nxt.isalnum())
    return c in " \t" and rest.lstrip(" \t")[:1] in ("", "\n")


def _word_follow_ok(
    stripped: str, char: str, labels: str, options: Sequence[str] | None, cjk_ok: bool
) -> bool:
    """What follows a capital label after spaces: punctuation, a connector, its option."""
    if not stripped or stripped[0] == "\n" or stripped[0] in _DELIMS or stripped[0] in "([":
        return True
    if not stripped[0].isascii():
        return cjk_ok and not _JUDGED_WRONG_CJK.match(stripped)
    word = re.match(r"[A-Za-z]+", stripped)
    if word and word.group().islower() and word.group() in _CONNECTORS:
        return not _JUDGED_WRONG.match(stripped)
    if options is not None:
        opt = _norm_option(options[labels.index(char.upper())])
        return bool(opt) and _norm_option(stripped).startswith(opt)
    return False


def _follow_ok(
    seg: str,
    end: int,
    char: str,
    labels: str,
    options: Sequence[str] | None,
    *,
    cjk_ok: bool = True,
) -> bool:
    """Whether the label ending at ``end`` stands on its own (not a word, not an article).

    ``cjk_ok``: a CJK character may follow directly (``答案是C项``); off where the label
    opens the text, since ``A选项不正确`` talks about option A without choosing it.
    """
    rest = seg[end:]
    if not rest or rest[0] == "\n":
        return True
    if char.islower():
        return _lower_follow_ok(rest)
    c, nxt = rest[0], rest[1:2]
    glued = nxt.isascii() and nxt.isalnum()
    if (c in "'’" and nxt.isascii() and nxt.isalpha()) or (c in ".-" and glued):
        return False  # "A's", "A.D.", "B-cells"
    if c in _DELIMS:
        return True
    if c in " \t":
        return _word_follow_ok(rest.lstrip(" \t"), char, labels, options, cjk_ok)
    if c.isascii() and c.isalnum():
        return False
    return cjk_ok and not _JUDGED_WRONG_CJK.match(rest)  # "答案是C项", not "C不正确"


def _ambiguous_after(seg: str, end: int, pats: dict[str, re.Pattern[str]]) -> bool:
    """Whether another label follows as an alternative (``A or B``, ``A, C``).

    A following label that is dismissed (``B, A is only a distractor``) is no alternative.
    """
    amb = pats["ambiguous"].match(seg, end)
    if amb is None:
        return False
    return pats["dismissed"].match(seg, amb.end()) is None


def _label_at(
    seg: str,
    pos: int,
    pats: dict[str, re.Pattern[str]],
    labels: str,
    options: Sequence[str] | None,
    *,
    allow_lower: bool = True,
) -> tuple[int, str] | None:
    """The label right after position ``pos`` (after decorations), as (position, label)."""
    m = pats["label"].match(seg, pos)
    if m is None:
        return None
    char = m.group(1)
    if char.islower() and not allow_lower:
        return None
    if not _follow_ok(seg, m.end(), char, labels, options):
        return None
    if _ambiguous_after(seg, m.end(), pats) or pats["dismissed"].match(seg, m.end()):
        return None  # "A and B", "A or C", "A/B"; "A is wrong"
    if _starts_list(seg, m.end(), char.upper(), pats):
        return None
    return m.start(1), char.upper()


def _starts_list(seg: str, end: int, label: str, pats: dict[str, re.Pattern[str]]) -> bool:
    r"""Whether the label at ``end`` opens an option list ("A) x\nB) y" or "A) x B) y")."""
    if end >= len(seg) or seg[end] not in ").:":
        return False
    line_end = seg.find("\n", end)
    same_line = seg[end : line_end if line_end >= 0 else len(seg)]
    if seg[end] == ")" and any(
        m.group(1) != label for m in pats["inline_item"].finditer(same_line)
    ):
        return True
    if line_end < 0:
        return False
    nxt = pats["list_item"].search(seg, line_end + 1)
    if nxt is None:
        return False
    between = seg[line_end + 1 : nxt.start()]
    return not between.strip() and nxt.group(1) != label


def _is_option_list(seg: str, pats: dict[str, re.Pattern[str]]) -> bool:
    """Whether ``seg`` lists options (a model repeating the question).

    Two ``A) x`` / ``A. x`` items at line starts, two ``A) x`` items anywhere, or two
    ``A. x`` items on one line (``A. cell B. water``).
    """
    starts = {m.group(1) for m in pats["list_item"].finditer(seg)}
    inline = {m.group(1) for m in pats["inline_item"].finditer(seg)}
    if len(starts) >= 2 or len(inline) >= 2:
        return True
    return any(
        len({m.group(1) for m in pats["inline_dot"].finditer(line)}) >= 2
        for line in seg.split("\n")
    )


# --------------------------------------------------------------------------------------
# Tiers
# --------------------------------------------------------------------------------------


def _label_in_sentence(
    seg: str, start: int, pats: dict[str, re.Pattern[str]], labels: str,
    options: Sequence[str] | None,
) -> tuple[int, str] | None:
    """A label later in the sentence a marker opens (``Answer: after weighing both, C``).

    The sentence runs from ``start`` to the first newline or sentence-ending punctuation
    (at most :data:`_SENTENCE_CHARS` characters). Capital labels that stand alone count,
    except those negated before (``not A``, ``rather than B``) or dismissed after (``A
    is wrong``). The last of them is the answer when it ends the sentence (only
    punctuation after it) or is followed by a reason (``C because ...``), and it is not
    one of an ``A or B`` / ``A und B`` pair; with several distinct labels, none may be
    joined to it as an alternative (``comparing A with C, neither fits`` names nothing).
    A marker followed by a list of options (``A) x B) y``, one per line or inline) names
    nothing.
    """
    lead = re.match(r"[ \t:\-–—]*", seg[start:])
    begin = start + (lead.end() if lead else 0)
    window = seg[begin : begin + _SENTENCE_CHARS]
    end = _SENTENCE_END.search(window)
    sentence = window[: end.start() if end else len(window)]
    if _is_option_list(window, pats):
        return None
    cands = []
    for m in pats["cap_label"].finditer(sentence):
        if not _follow_ok(seg, begin + m.end(), m.group(1), labels, options):
            continue
        if _EXCLUDED_BEFORE.search(sentence[max(0, m.start() - 24) : m.start()]):
            continue
        if pats["dismissed"].match(sentence, m.end()):
            continue
        cands.append(m)
    if not cands:
        return None
    last = cands[-1]
    if pats["alternative_end"].search(sentence[: last.start()]):
        return None  # "A und B": the last label is one of two alternatives
    tail = sentence[last.end() :]
    if tail.strip(" \t.,;:!?)]}\"'*。、") and not _REASON_AFTER.match(tail):
        return None  # "comparing A with C, neither fits": C does not end the sentence
    if len({m.group(1) for m in cands}) > 1:
        between = sentence[cands[-2].end() : last.start()]
        if re.search(rf"(?i){_CONJUNCTIONS}|{_SHORT_SEP}|[/&、，,]", between):
            return None
    return begin + last.start(), last.group(1)


def _strong_hits(seg: str, labels: str, options: Sequence[str] | None) -> Found | None:
    r"""Tier 1: explicit markers, ``\boxed{}``, and ``B is correct``; the last wins."""
    pats = _choice_patterns(labels)
    hits: list[tuple[int, str, str]] = []
    for m in _STRONG_MARKER.finditer(seg):
        rule = "boxed" if m.group().lstrip().startswith("\\") else "marker"
        got = _label_at(seg, m.end(), pats, labels, options)
        if got is not None:
            hits.append((*got, rule))
            continue
        window = seg[m.end() :].lstrip(" \t\n:")
        named = _option_text_match(window, options, labels)
        if named is not None and not re.match(r"[A-Za-z][ \t]", window):
            hits.append((m.end(), named, "option-text"))
            continue
        later = _label_in_sentence(seg, m.end(), pats, labels, options)
        if later is not None:
            hits.append((*later, "marker-sentence"))
    for m in pats["label_first"].finditer(seg):
        char = m.group(1) or m.group(2)
        start = m.start(1) if m.group(1) else m.start(2)
        if _NEGATED_BEFORE.search(seg[max(0, m.start() - 16) : m.start()]):
            continue
        hits.append((start, char, "label-first"))
    if not hits:
        return None
    _, char, rule = max(hits, key=lambda h: h[0])
    return Found(1, char, rule)


def _soft_hits(seg: str, labels: str, options: Sequence[str] | None) -> Found | None:
    """Tier 2: softer commitments (``I think it's B``, ``I'll go with C``); capitals only."""
    pats = _choice_patterns(labels)
    soft = []
    for m in _SOFT_MARKER.finditer(seg):
        got = _label_at(seg, m.end(), pats, labels, options, allow_lower=False)
        if got is not None:
            soft.append(got)
    return Found(2, max(soft)[1], "soft-marker") if soft else None


def _form_hits(seg: str, labels: str, options: Sequence[str] | None) -> Found | None:
    """Tier 3: a line that is only a label, text opening with one, or one option's text."""
    pats = _choice_patterns(labels)
    lone = list(pats["lone_line"].finditer(seg))
    if lone:
        return Found(3, lone[-1].group(1).upper(), "lone-label")
    if not _is_option_list(seg, pats):
        m = pats["start"].match(seg)
        if m is not None:
            char = m.group(1)
            ok_lower = char.isupper() or seg[m.end() : m.end() + 1] == ")"
            if ok_lower and _follow_ok(seg, m.end(), char, labels, options, cjk_ok=False):
                return Found(3, char.upper(), "leading-label")
    if options:
        whole = _norm_option(seg)
        same = [labels[i] for i, o in enumerate(options) if whole and _norm_option(o) == whole]
        if len(same) == 1:
            return Found(3, same[0], "option-text")
    return None


def _weak_hits(seg: str, labels: str, options: Sequence[str] | None) -> Found | None:
    """Tier 4: label tokens that cannot be words (``(C)``, ``option D``), if all agree."""
    pats = _choice_patterns(labels)
    weak = set()
    for m in pats["weak"].finditer(seg):
        char = next(g for g in m.groups() if g)
        if m.group(4) and not _follow_ok(seg, m.end(), char, labels, options):
            continue
        weak.add(char)
    return Found(4, weak.pop(), "weak-label") if len(weak) == 1 else None


_TIERS = (_strong_hits, _soft_hits, _form_hits, _weak_hits)


def _choice_in_piece(seg: str, labels: str, options: Sequence[str] | None) -> Found | None:
    for tier in _TIERS:
        found = tier(seg, labels, options)
        if found is not None:
            return found
    return None


def _prepare_choice(text: object) -> str:
    text = cut_at_end_token(final_text(fold(check_text(text))))
    text = unwrap_latex_text(text)
    text = re.sub(r"\\[()\[\]]", " ", text)
    return re.sub(r"[*`$]", "", text)


def _why_none(prepared: str, labels: str, found: list) -> str:
    """The rule name of a completion that chose no label."""
    if not prepared.strip():
        return "empty"
    if any(f is not None for _, f in found):
        return "invented-question"
    if _is_option_list(prepared, _choice_patterns(labels)):
        return "option-list"
    return "no-label"


def choice_extraction(
    text: str,
    labels: str = "ABCD",
    *,
    options: Sequence[str] | None = None,
    question: str | None = None,
) -> Extraction:
    """Find the option label a completion chose, and the rule that found it.

    Same rules and arguments as :func:`extract_choice`.

    Returns:
        An :class:`~benchgate.scoring.extract._common.Extraction`: the label (or None) and
        the rule: ``marker``, ``boxed``, ``marker-sentence``, ``option-text``,
        ``label-first`` (tier 1), ``soft-marker`` (tier 2), ``lone-label``,
        ``leading-label`` (tier 3), ``weak-label`` (tier 4); when no label:
        ``empty``, ``option-list``, ``invented-question`` or ``no-label``.
    """
    labs = check_labels(labels)
    if options is not None and len(options) != len(labs):
        raise ValueError(
            f"options has {len(options)} entries but labels {labs!r} has {len(labs)}; "
            "pass one option text per label"
        )
    prepared = _prepare_choice(text)
    found = [(p, _choice_in_piece(p.text, labs, options)) for p in pieces(prepared, question)]
    best = best_piece(found, question is not None)
    if best is None:
        return Extraction(None, _why_none(prepared, labs, found))
    return Extraction(best.answer, best.rule)


def extract_choice(
    text: str,
    labels: str = "ABCD",
    *,
    options: Sequence[str] | None = None,
    question: str | None = None,
) -> str | None:
    r"""Find the option label a completion chose.

    Tiers, the first that finds something wins; within a tier the **last** mention wins,
    so a later explicit answer corrects an earlier one
    (``"I think it's A. Wait, no: the final answer is D."`` -> ``"D"``):

    1. explicit markers followed by a label: ``answer is``/``answer:``, ``the correct
       option is``, ``final answer``, ``\boxed{C}``, ``Answer: A) text``,
       ``The answer is B: ...``; ``B is correct``, ``(B) is the correct answer``; in other
       languages (:data:`~benchgate.scoring.extract._common.ANSWER_MARKERS`): ``Réponse :
       D``, ``La respuesta es B``, ``Die Antwort lautet C``, ``A resposta é B``, ``Ответ:
       B``, ``Jibu ni C``, ``정답은 B``, ``答えはB``, ``答案：B``, ``答案是C``; and the
       Chinese choice forms ``选C``/``選C``, ``故选D``, ``我選擇 B``, ``所以答B``/``答：B``,
       ``正确答案为A``, ``C选项正确``/``选项C正确``. When no label follows the marker
       directly, the marker's sentence is read on (``Answer: after weighing both, C``):
       see :func:`_label_in_sentence`. With ``options``, the marker may name an option's
       text instead (``The answer is: mitochondria``);
    2. softer commitments: ``I think it's B``, ``I'll go with C``, ``I choose A``;
    3. the answer's form: a line holding only a label (``B``, ``(B)``, ``**B**``,
       ``Option D.``), or text starting with one (``C. make NADH``, ``(B) ...``), unless
       the text lists the options (``A) x\nB) y``: a model repeating the question);
       with ``options``, text equal to one option's text;
    4. label tokens that cannot be words (``(C)``, ``[C]``, ``option C``), if all agree.

    A label counts only when it stands alone: not inside a word (``Because``,
    ``Definitely``, ``B-cells``, ``A.D.``), and not an English article. After a
    capital label may come punctuation, a newline, a CJK character, or a connector word
    (``A because``, ``B is``); ``Answer: A plant cell ...`` is an article, not option
    A. Lower-case labels count only after an explicit marker, as a lone line, or opening
    the text as ``c)``, and only when nothing but punctuation follows (``answer: c`` -> ``"C"``,
    ``the answer is a mitochondrion`` -> None). A marker followed by two labels
    (``A and B``, ``A or C``, ``B、C``) is ambiguous and names nothing, unless the second
    is dismissed (``Answer: B, A is only a distractor.`` -> ``"B"``); a label judged
    wrong (``A is wrong``, ``B不正确``) or negated (``The answer is not A``) is not
    chosen. Markdown emphasis, backticks, ``$`` and ``\text{}`` are ignored.

    Continuations (see :func:`~benchgate.scoring.extract._common.pieces`): the text is
    cut where a line starts a new turn (``Question:``, ``Q:``, ``问题：`` ...). Without
    ``question``, the first piece holding a label wins. With ``question``, a piece that
    restates the item's question is still this item's answer and one that poses another
    question never counts; the strongest tier among the item's pieces wins, the later on
    a tie (``(A) ...\nQuestion: <the same question>\nThe answer is C`` -> ``"C"``).

    Args:
        text: the final text of a completion (see :func:`split_reasoning`).
        labels: the valid labels in order, e.g. ``"ABCD"`` (MMLU), ``"AB"`` (PIQA),
            ``"ABCDE"``; letters outside it are never returned.
        options: the option texts in label order, optional. When given, an answer that
            names an option's text instead of its letter (``The answer is: mitochondria``)
            maps to that option when exactly one matches, and a label followed by its own
            option text (``Answer: C Berlin``) is accepted.
        question: the item's question, optional (see Continuations above).

    Returns:
        One label from ``labels``, upper case, or None when the completion chose none.

    Raises:
        ValueError: ``labels`` is not distinct ASCII letters, or ``options`` has a
            different length.
        TypeError: ``text`` is not a str.
    """
    return choice_extraction(text, labels, options=options, question=question).answer

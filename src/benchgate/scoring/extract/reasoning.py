r"""Reasoning split: a reasoning model's chain of thought apart from its final text.

:func:`split_reasoning` is what a benchmark calls before extracting an answer;
:func:`final_text` is the extractors' safety net, applied to whatever text reaches them.

Formats (a model's ``reasoning_format`` in models.yaml):

* ``none``: the model does not reason separately;
* ``think-tags``: a reasoning block between an opening and a closing delimiter. Built in
  (:data:`BUILTIN_DELIMITERS`, after the reasoning parsers of sglang
  ``python/sglang/srt/parser/reasoning_parser.py`` and vLLM ``vllm/reasoning/``):
  ``<think>…</think>`` (DeepSeek-R1, Qwen3, GLM-4.5, MiniMax), ``<thinking>``,
  ``<thought>``, ``<reasoning>…</reasoning>``, vendor-prefixed tags
  ``<seed:think>…</seed:think>`` (Seed-OSS) and ``<mm:think>`` (MiniMax-M3),
  ``◁think▷…◁/think▷`` (Kimi), ``[THINK]…[/THINK]`` (Magistral, Mistral Small),
  ``<|START_THINKING|>…<|END_THINKING|>`` (Command A Reasoning),
  ``<|begin_of_thought|>…<|end_of_thought|>`` (Sky-T1, OpenThoughts),
  ``<|think|>…<|/think|>``, ``<|inner_prefix|>…<|inner_suffix|>`` (Apertus) and
  ``<|channel>thought…<channel|>`` (Gemma 4); a model's own pair is added with
  ``reasoning_delimiters: [open, close]`` in models.yaml;
* ``harmony``: gpt-oss channels, raw (``<|channel|>analysis<|message|>…``) or decoded
  with the special tokens skipped (``analysis…assistantfinal…``).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from benchgate.scoring.extract._common import check_text

__all__ = [
    "BUILTIN_DELIMITERS",
    "REASONING_FORMATS",
    "check_delimiters",
    "final_text",
    "split_reasoning",
]

#: The reasoning formats :func:`split_reasoning` understands.
REASONING_FORMATS = ("none", "think-tags", "harmony")

#: Built-in reasoning delimiter pairs (regular expressions, matched case-insensitively).
BUILTIN_DELIMITERS: tuple[tuple[str, str], ...] = (
    (r"<(?:[a-z]+:)?(?:think|thinking|thought|reasoning)>",
     r"</(?:[a-z]+:)?(?:think|thinking|thought|reasoning)>"),
    (r"◁think▷", r"◁/think▷"),
    (r"\[THINK\]", r"\[/THINK\]"),
    (r"<\|START_THINKING\|>", r"<\|END_THINKING\|>"),
    (r"<\|begin_of_thought\|>", r"<\|end_of_thought\|>"),
    (r"<\|think\|>", r"<\|/think\|>|<\|end_?think\|>"),
    (r"<\|inner_prefix\|>", r"<\|inner_suffix\|>"),
    (r"<\|channel>thought", r"<channel\|>"),
)


def check_delimiters(delimiters: Sequence[str] | None) -> tuple[str, str] | None:
    """Validate a model's own reasoning delimiters: two different, non-empty strings.

    Args:
        delimiters: ``[open, close]`` from models.yaml, or None.

    Returns:
        The pair as a tuple, or None.

    Raises:
        ValueError: not two strings, an empty or blank one, or open equal to close.
    """
    if delimiters is None:
        return None
    if (
        isinstance(delimiters, str)
        or len(delimiters) != 2
        or not all(isinstance(d, str) for d in delimiters)
    ):
        raise ValueError(
            "reasoning_delimiters must be a list of two strings, the opening and the "
            "closing marker, e.g. ['<think>', '</think>']"
        )
    opening, closing = delimiters
    if not opening.strip() or not closing.strip():
        raise ValueError("reasoning_delimiters: the opening and closing markers must not be blank")
    if opening == closing:
        raise ValueError(
            "reasoning_delimiters: the opening and closing markers must differ "
            f"(both are {opening!r}); give e.g. ['<think>', '</think>']"
        )
    return opening, closing


@functools.lru_cache(maxsize=32)
def _delimiter_patterns(extra: tuple[str, str] | None) -> tuple[re.Pattern[str], re.Pattern[str]]:
    pairs = list(BUILTIN_DELIMITERS)
    if extra is not None:
        pairs.insert(0, (re.escape(extra[0]), re.escape(extra[1])))
    opening = "|".join(f"(?:{o})" for o, _ in pairs)
    closing = "|".join(f"(?:{c})" for _, c in pairs)
    return re.compile(opening, re.IGNORECASE), re.compile(closing, re.IGNORECASE)


# --------------------------------------------------------------------------------------
# harmony
# --------------------------------------------------------------------------------------

_HARMONY_TOKEN = re.compile(r"<\|(?:start|end|message|channel|return|call|constrain|endoftext)\|>")
_HARMONY_CHANNEL = re.compile(r"<\|channel\|>")
_HARMONY_STOP = re.compile(r"<\|(?:end|return|call|start|channel|endoftext)\|>")
# Decoded harmony (special tokens skipped): "analysis...assistantfinal...".
_DECODED_SPLIT = re.compile(r"assistant(analysis|commentary|final)")
# A channel name glued to its message. The message may start in lower case
# ("analysisthe user wants ..."); English words that merely start like a channel name
# ("finally", "finals", "finalist", "finale", "finalize") do not count, nor does prose
# with a space after the name ("analysis shows B").
_DECODED_START = re.compile(
    r"^\s*(analysis|commentary|final)(?=\S)"
    r"(?!['’]|(?:ly|s|ist|ists|e|es|ity|ise|ize|ised|ized|ises|izes|ising|izing)\b)"
)


def _harmony_markers(text: str) -> bool:
    return (
        "<|channel|>" in text
        or "<|message|>" in text
        or _DECODED_SPLIT.search(text) is not None
        or _DECODED_START.match(text) is not None
    )


def _raw_messages(text: str) -> list[tuple[str, str]]:
    """(channel, body) of each message in harmony text with its special tokens."""
    messages = []
    for m in _HARMONY_CHANNEL.finditer(text):
        msg_at = text.find("<|message|>", m.end())
        if msg_at < 0:
            continue
        header = text[m.end() : msg_at]
        if "<|channel|>" in header:
            continue  # a stray header ("commentary to=assistant") before the real one
        channel = (re.split(r"[\s<]", header.strip(), maxsplit=1) or [""])[0]
        start = msg_at + len("<|message|>")
        stop = _HARMONY_STOP.search(text, start)
        messages.append((channel, text[start : stop.start() if stop else len(text)]))
    if not messages and "<|message|>" in text:
        # Header rendered by the prompt: the completion starts with the content.
        messages.append(("analysis", text.split("<|message|>", 1)[1]))
    return messages


def _decoded_messages(text: str) -> list[tuple[str, str]]:
    """(channel, body) of each message in decoded harmony (special tokens skipped)."""
    first = _DECODED_START.match(text)
    pieces = _DECODED_SPLIT.split(text)  # [head, channel1, body1, channel2, body2, ...]
    head = pieces[0]
    messages = []
    if first:
        messages.append((first.group(1), head[first.end() :]))
    elif head.strip():
        messages.append(("analysis", head))
    messages.extend(zip(pieces[1::2], pieces[2::2], strict=False))
    return messages


def _split_harmony(text: str) -> tuple[str | None, str | None]:
    """Split harmony output into (reasoning, final); final None when no final channel."""
    raw = "<|channel|>" in text or "<|message|>" in text
    messages = _raw_messages(text) if raw else _decoded_messages(text)
    finals = [body for channel, body in messages if channel == "final"]
    thoughts = [body.strip() for channel, body in messages if channel != "final"]
    reasoning = "\n\n".join(t for t in thoughts if t) or None
    if not finals:
        return reasoning, None
    return reasoning, _HARMONY_TOKEN.sub("", finals[-1]).strip()


def _split_tags(
    text: str, finish_reason: str | None, delimiters: tuple[str, str] | None
) -> tuple[str | None, str | None]:
    opening, closing = _delimiter_patterns(delimiters)
    closes = list(closing.finditer(text))
    if closes:
        last = closes[-1]
        reasoning = opening.sub("\n", closing.sub("\n", text[: last.start()])).strip()
        final = text[last.end() :]
        reopened = opening.search(final)
        if reopened:
            tail = final[reopened.end() :].strip()
            reasoning = "\n\n".join(p for p in (reasoning, tail) if p)
            final = final[: reopened.start()]
        return (reasoning or None), final.strip()
    opened = opening.search(text)
    if opened:
        return text[opened.end() :].strip() or None, None
    if finish_reason == "length":
        return text.strip() or None, None
    return None, text.strip()


def split_reasoning(
    text: str,
    reasoning_format: str,
    finish_reason: str | None,
    delimiters: Sequence[str] | None = None,
) -> tuple[str | None, str | None]:
    r"""Separate a completion's reasoning from its final text.

    Rules per format:

    * ``"none"``: ``(None, text)``; the model does not reason separately.
    * ``"think-tags"``: any pair of :data:`BUILTIN_DELIMITERS`, plus ``delimiters``. The
      final text is what follows the **last** closing delimiter; the reasoning is what
      precedes it, delimiters removed. Only the closing delimiter may appear: chat
      templates that open the block in the prompt (DeepSeek-R1, Qwen3-Thinking-2507) make
      the completion start inside the reasoning. An opening delimiter that never closes
      means the reasoning never ended: ``final`` is None, whatever the finish reason
      (with ``"stop"`` the model ended its turn inside its reasoning). A completion with
      no delimiter at all is reasoning that never ended when ``finish_reason ==
      "length"`` (the prompt may have opened the block, and a truncated chain of thought
      is not an answer), and a direct answer otherwise. A block reopened after the last
      closing delimiter and left open is cut from the final text. An empty block
      (Qwen3's ``<think>\n\n</think>`` when thinking is off) gives reasoning None.
    * ``"harmony"`` (gpt-oss): messages are read from raw special tokens
      (``<|channel|>analysis<|message|>...<|end|><|start|>assistant<|channel|>final
      <|message|>B<|return|>``) or from the decoded form where the special tokens were
      skipped (``analysis...assistantfinalB``; the message may start in lower case,
      ``analysisthe user wants...``, while ``finally``/``analysis shows`` are prose).
      The final text is the last ``final`` channel message (a truncated final message is
      still returned); the reasoning joins the ``analysis`` and ``commentary`` messages.
      Harmony markers without a final channel give ``final`` None, so unfinished
      reasoning is never scored. Text with no harmony marker at all is taken as the final
      text (a server, e.g. vLLM with a reasoning parser, already split it).

    Args:
        text: the completion text (``Completion.text``).
        reasoning_format: ``"none"``, ``"think-tags"`` or ``"harmony"`` (the model's
            ``reasoning_format`` in models.yaml).
        finish_reason: ``"stop"``, ``"length"`` or ``"error"`` (``Completion.finish_reason``);
            None is read as ``"stop"``.
        delimiters: the model's own ``[open, close]`` pair (models.yaml
            ``reasoning_delimiters``), literal strings, used with ``"think-tags"`` in
            addition to the built-in pairs; None for the built-in pairs only.

    Returns:
        ``(reasoning, final)``: the reasoning text stripped, or None when there is none;
        the final text stripped (possibly ``""``), or None when the reasoning never
        ended (the benchmark then records ``no_answer``).

    Raises:
        ValueError: ``reasoning_format`` is not one of :data:`REASONING_FORMATS`, or
            ``delimiters`` is given with another format or is not two different strings.
        TypeError: ``text`` is not a str.
    """
    if reasoning_format not in REASONING_FORMATS:
        raise ValueError(
            f"reasoning_format={reasoning_format!r} is not one of {', '.join(REASONING_FORMATS)}; "
            "set it in models.yaml to match the model's chat template"
        )
    pair = check_delimiters(delimiters)
    if pair is not None and reasoning_format != "think-tags":
        raise ValueError(
            f"reasoning delimiters apply to reasoning_format 'think-tags', not "
            f"{reasoning_format!r}; set reasoning_format: think-tags in models.yaml"
        )
    text = check_text(text).replace("\r\n", "\n")
    if reasoning_format == "none":
        return None, text
    if reasoning_format == "harmony":
        if not _harmony_markers(text):
            return None, _HARMONY_TOKEN.sub("", text).strip()
        return _split_harmony(text)
    return _split_tags(text, finish_reason, pair)


def final_text(text: str) -> str:
    """The safety net: drop any reasoning that reached an extractor.

    Whatever the model's format, everything up to the last closing delimiter of a
    built-in pair is dropped, everything from an opening delimiter left open is dropped,
    and of harmony output (raw or decoded) only the final channel is kept (``""`` when
    there is none). So a number or letter inside reasoning is never extracted, even when
    a model's ``reasoning_format`` is set wrong.

    Args:
        text: any completion text (already folded by the caller).

    Returns:
        The text a model meant as its answer.
    """
    opening, closing = _delimiter_patterns(None)
    closes = list(closing.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    opened = opening.search(text)
    if opened:
        text = text[: opened.start()]
    if _harmony_markers(text):
        _, final = _split_harmony(text)
        text = final or ""
    return text

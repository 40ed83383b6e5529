r"""Yes/no extraction: the answer to a yes/no question (FinQA's comparison questions).

:func:`yes_no_extraction` returns ``"yes"``, ``"no"`` or None with the rule that decided.
"""

from __future__ import annotations

import re

from benchgate.scoring.extract._common import (
    Extraction,
    Found,
    best_piece,
    check_text,
    cut_at_end_token,
    fold,
    pieces,
)
from benchgate.scoring.extract.reasoning import final_text

__all__ = ["yes_no_extraction"]

_DECOR = r"[\s*_\"'“”‘’`(\[]*"
_MARKER = re.compile(
    r"(?i)\b(?:(?:the|my|final|correct)\s+)*answer\b(?:\s+to\s+[^.\n]{1,80}?)?\s*"
    r"(?:is|would\s+be|will\s+be|:|=|-)" + _DECOR + r"(?:simply\s+|clearly\s+|definitely\s+)?"
    r"(yes|no)\b(?!\s*(?:or|/)\s*(?:yes|no)\b)"
)
# A standalone yes/no that answers: followed by punctuation or the end, never "no
# further", "no change" (a determiner), "yes or no" (the question restated), "not yes".
_STANDALONE = re.compile(
    r"(?i)(?<![\w/-])(?<!not\s)(?<!or\s)(yes|no)(?=\s*(?:[,.;:!?)\]\n]|$))"
    r"(?!\s*(?:or|/)\s*(?:yes|no)\b)"
)
_OPENING = re.compile(
    r"(?i)^" + _DECOR + r"(yes|no)\b"
    r"(?=\s*(?:[,.;:!?\n]|$|(?:it|they|the|there|that|this|we|he|she)\b))"
)


def _yes_no_in_piece(text: str) -> Found | None:
    marked = list(_MARKER.finditer(text))
    if marked:
        return Found(1, marked[-1].group(1).lower(), "yes-no-marker")
    opening = _OPENING.match(text)
    if opening:
        return Found(2, opening.group(1).lower(), "yes-no-opening")
    said = {m.group(1).lower() for m in _STANDALONE.finditer(text)}
    if len(said) == 1:
        return Found(3, said.pop(), "yes-no-standalone")
    return None


def yes_no_extraction(text: str, *, question: str | None = None) -> Extraction:
    """Find the yes/no answer of a completion, and the rule that found it.

    Rules, the first that finds an answer wins:

    1. ``yes-no-marker``: an answer marker followed by yes or no (``The answer is yes``,
       ``Answer: **No**``); the last such marker wins, so ``The answer is yes. No
       further analysis is needed.`` is ``"yes"``;
    2. ``yes-no-opening``: the text opens with Yes or No followed by punctuation, the end
       or a pronoun (``No, it was not.``, ``Yes it did``), not a determiner (``No
       change``);
    3. ``yes-no-standalone``: every yes/no standing alone (followed by punctuation or the
       end) agrees.

    ``yes or no`` / ``yes/no`` (the question restated) and ``not yes`` never count. The
    text is prepared as for the other extractors (reasoning dropped, continuation pieces,
    see :func:`~benchgate.scoring.extract.choice.extract_choice`).

    Args:
        text: the final text of a completion.
        question: the item's question, optional (continuation pieces).

    Returns:
        An :class:`~benchgate.scoring.extract._common.Extraction` with ``"yes"``, ``"no"``
        or None (rule ``empty``, ``conflicting-yes-no`` or ``no-yes-no``).

    Raises:
        TypeError: ``text`` is not a str.
    """
    prepared = cut_at_end_token(final_text(fold(check_text(text))))
    prepared = re.sub(r"[*`]", "", prepared)
    found = [(p, _yes_no_in_piece(p.text)) for p in pieces(prepared, question)]
    best = best_piece(found, question is not None)
    if best is not None:
        return Extraction(best.answer, best.rule)
    if not prepared.strip():
        return Extraction(None, "empty")
    said = {m.group(1).lower() for m in _STANDALONE.finditer(prepared)}
    return Extraction(None, "conflicting-yes-no" if len(said) > 1 else "no-yes-no")

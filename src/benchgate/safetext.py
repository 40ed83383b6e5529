"""Make text that a model (or its code) controls safe to show: terminal, files, Allure.

Completions, and the output of code a completion wrote, can hold ANSI escape sequences
(recolour or clear the terminal, move the cursor over the verdict line), carriage returns
(overwrite a line), NUL bytes, and Unicode bidirectional overrides (show text in another
order than it is stored). :func:`clean_text` removes them, keeping newlines and tabs, and
caps the length, so a report shows what was written and nothing can pose as benchgate's own
output. It is applied wherever such text leaves benchgate: outcome ``detail``/``error``,
results.jsonl, the terminal, summary.md/html and Allure attachments.
"""

from __future__ import annotations

import re

#: Characters kept by :func:`clean_text` (default cap of a cleaned string).
DEFAULT_LIMIT = 4000

# ECMA-48: CSI (ESC [ ... final byte), OSC (ESC ] ... BEL or ST), other two-byte escapes,
# and the 8-bit C1 forms (U+009B CSI, U+009D OSC).
_ANSI = re.compile(
    r"(?:\x1b\[|\x9b)[0-?]*[ -/]*[@-~]"  # CSI ... final
    r"|(?:\x1b\]|\x9d)[^\x07\x1b\x9c]*(?:\x07|\x1b\\|\x9c)?"  # OSC ... BEL/ST (or cut off)
    r"|\x1b[PX^_][^\x1b\x9c]*(?:\x1b\\|\x9c)?"  # DCS/SOS/PM/APC strings
    r"|\x1b[ -/]*[0-~]?"  # other escapes (and a lone ESC)
)
# C0 controls except \t and \n, DEL, C1 controls; Unicode bidi embeddings, overrides and
# isolates (U+202A-U+202E, U+2066-U+2069) and the line/paragraph separators.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u2028\u2029]")


def clean_text(text: object, limit: int | None = DEFAULT_LIMIT) -> str:
    r"""Return ``text`` without terminal control sequences or control characters, capped.

    Args:
        text: any value; None becomes ``""``, other non-strings ``str(text)``.
        limit: most characters kept (a marker saying how many were cut is appended), or
            None for no cap.

    Returns:
        The text with ANSI/ECMA-48 escape sequences removed, ``\\r\\n`` and lone ``\\r``
        turned into ``\\n``, every other C0/C1 control character, DEL and Unicode bidi
        control removed; ``\\n`` and ``\\t`` are kept. Printable text (any script) is
        unchanged.
    """
    if text is None:
        return ""
    s = text if isinstance(text, str) else str(text)
    original = len(s)
    if limit is not None and len(s) > 4 * limit + 1024:
        s = s[: 4 * limit + 1024]  # bound the regex work; the cap below applies anyway
    s = _ANSI.sub("", s)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    s = _CONTROL.sub("", s)
    if limit is not None and len(s) > limit:
        s = s[:limit] + f" ... [cut at {limit} of {original} characters]"
    return s

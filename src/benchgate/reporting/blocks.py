"""A tiny document model for the summaries: blocks rendered as Markdown or HTML.

:mod:`benchgate.reporting.markdown` builds summary.md and the HTML summary from one list of
:class:`Block` s, so the two cannot drift apart; the number formats (points, p-values) are
shared with the plots and the Allure descriptions, so every report prints a number alike.
Every text is escaped for its output format here: plain strings can never inject Markdown
links or HTML (``Block("html", ...)`` is the one exception, for fragments already escaped).
"""

from __future__ import annotations

import html
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

# --- a tiny document model, rendered twice ---------------------------------------------------


@dataclass(frozen=True)
class Strong:
    """Bold text in a cell or paragraph."""

    text: str


@dataclass(frozen=True)
class Code:
    """Monospace text (an id, a value)."""

    text: str


Inline = str | Strong | Code | list


@dataclass
class Block:
    """One block of the summary.

    Attributes:
        kind: ``h`` (heading), ``p`` (paragraph), ``table``, ``list``, ``details``,
            ``html`` (raw HTML, already escaped), ``img``.
        text: the heading, paragraph, details summary, image alt text or raw HTML.
        level: heading level.
        header: table header cells.
        rows: table rows (cells are :data:`Inline`).
        items: list items.
        children: the blocks inside ``details``.
        src: the image path.
    """

    kind: str
    text: Inline = ""
    level: int = 2
    header: list[str] = field(default_factory=list)
    rows: list[list[Inline]] = field(default_factory=list)
    items: list[Inline] = field(default_factory=list)
    children: list[Block] = field(default_factory=list)
    src: str = ""


def _md_inline(value: Inline, cell: bool = False) -> str:
    if isinstance(value, list):
        return "".join(_md_inline(v, cell) for v in value)
    if isinstance(value, Strong):
        return f"**{_md_inline(value.text, cell)}**" if value.text else ""
    if isinstance(value, Code):
        text = value.text.replace("`", "'").replace("\n", " ")
        text = text.replace("|", "\\|") if cell else text
        return f"`{text}`" if text else ""
    text = html.escape(str(value), quote=False)
    for ch in ("\\", "*", "_", "[", "]", "`"):
        text = text.replace(ch, "\\" + ch)
    if cell:
        text = text.replace("|", "\\|").replace("\n", "<br>")
    return text


def _html_inline(value: Inline) -> str:
    if isinstance(value, list):
        return "".join(_html_inline(v) for v in value)
    if isinstance(value, Strong):
        return f"<strong>{_html_inline(value.text)}</strong>"
    if isinstance(value, Code):
        return f"<code>{html.escape(value.text)}</code>"
    return html.escape(str(value)).replace("\n", "<br>")


def render_markdown(blocks: Sequence[Block]) -> str:
    """Render blocks as GitHub-flavoured Markdown (HTML only for ``details`` and flips)."""
    out: list[str] = []
    for b in blocks:
        if b.kind == "h":
            out += ["#" * b.level + " " + _md_inline(b.text), ""]
        elif b.kind == "p":
            out += [_md_inline(b.text), ""]
        elif b.kind == "list":
            out += [f"- {_md_inline(i)}" for i in b.items] + [""]
        elif b.kind == "table":
            out.append("| " + " | ".join(_md_inline(h, True) for h in b.header) + " |")
            out.append("|" + "|".join("---" for _ in b.header) + "|")
            out += ["| " + " | ".join(_md_inline(c, True) for c in r) + " |" for r in b.rows]
            out.append("")
        elif b.kind == "details":
            out += [f"<details><summary>{_html_inline(b.text)}</summary>", ""]
            out.append(render_markdown(b.children).rstrip("\n"))
            out += ["", "</details>", ""]
        elif b.kind == "html":
            out += [str(b.text), ""]
        elif b.kind == "img":
            out += [f"![{_md_inline(b.text)}]({b.src})", ""]
    return "\n".join(out)


_CELL = ' style="border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top"'
_TABLE = ' style="border-collapse:collapse;margin:6px 0 12px"'


def render_html(blocks: Sequence[Block], inline_style: bool = False) -> str:
    """Render blocks as an HTML fragment.

    Args:
        blocks: the blocks.
        inline_style: put table borders and padding in ``style`` attributes (for hosts
            that drop stylesheets, e.g. an Allure description).
    """
    cell = _CELL if inline_style else ""
    table = _TABLE if inline_style else ""
    out: list[str] = []
    for b in blocks:
        if b.kind == "h":
            out.append(f"<h{b.level}>{_html_inline(b.text)}</h{b.level}>")
        elif b.kind == "p":
            out.append(f"<p>{_html_inline(b.text)}</p>")
        elif b.kind == "list":
            out.append("<ul>" + "".join(f"<li>{_html_inline(i)}</li>" for i in b.items) + "</ul>")
        elif b.kind == "table":
            head = "".join(f"<th{cell}>{_html_inline(h)}</th>" for h in b.header)
            body = "".join(
                "<tr>" + "".join(f"<td{cell}>{_html_inline(c)}</td>" for c in r) + "</tr>"
                for r in b.rows
            )
            out.append(f"<table{table}><thead><tr>{head}</tr></thead><tbody>{body}</tbody>"
                       "</table>")
        elif b.kind == "details":
            out.append(f"<details><summary>{_html_inline(b.text)}</summary>"
                       f"{render_html(b.children, inline_style)}</details>")
        elif b.kind == "html":
            out.append(str(b.text))
        elif b.kind == "img":
            out.append(f'<p><img src="{html.escape(b.src)}" alt="{_html_inline(b.text)}" '
                       'style="max-width:100%"></p>')
    return "\n".join(out)


# --- numbers -------------------------------------------------------------------------------


def pts(x: float | None, signed: bool = False) -> str:
    """A fraction as accuracy points (``0.125`` -> ``12.5``); ``-`` for None or nan."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "inf" if x > 0 else "-inf"
    return f"{100 * x:+.1f}" if signed else f"{100 * x:.1f}"


def pvalue(p: float | None) -> str:
    """A p-value with two significant digits (``<0.0001`` below that)."""
    if p is None or math.isnan(p):
        return "-"
    if p < 1e-4:
        return "<0.0001"
    return f"{p:.2g}" if p < 0.01 else f"{p:.2f}".rstrip("0").rstrip(".") if p < 1 else "1"


def p_equals(p: float | None) -> str:
    """``p = 0.33`` or ``p < 0.0001``."""
    text = pvalue(p)
    return f"p < {text[1:]}" if text.startswith("<") else f"p = {text}"


def number(x: float | None, digits: int = 3) -> str:
    """A number with ``digits`` significant digits; ``-`` for None or nan."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "inf"
    return f"{x:.{digits}g}"

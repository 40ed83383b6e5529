"""FinQA: numeric questions over financial reports (text + table), relative-tolerance match."""

from __future__ import annotations

import re

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.datasets.base import DataSource
from benchgate.datasets.finqa import load_finqa
from benchgate.records import Completion, Item, Score, Status

PROMPT = (
    "Answer the question using the financial report below. End your reply with the "
    'sentence "The answer is" followed by the final number (or by yes or no for a yes/no '
    "question).\n\n{context}\n\nQuestion: {question}"
)

#: Relative tolerance of the numeric match (see :class:`FinQA`).
REL_TOL = 0.01

_YES_NO = re.compile(r"\b(yes|no)\b", re.IGNORECASE)


def render_table(table: list[list[str]]) -> str:
    """Render a FinQA table as Markdown-style rows: cells joined by `` | ``."""
    return "\n".join("| " + " | ".join(c.strip() for c in row) + " |" for row in table)


def render_context(item_input: dict) -> str:
    """The report excerpt of a FinQA item: text before the table, the table, text after."""
    parts = [
        " ".join(s.strip() for s in item_input["pre_text"] if s.strip()),
        render_table(item_input["table"]),
        " ".join(s.strip() for s in item_input["post_text"] if s.strip()),
    ]
    return "\n\n".join(p for p in parts if p)


class FinQA(Benchmark):
    """FinQA (Chen et al. 2021, EMNLP, arXiv 2109.00122), test split, zero-shot chat prompt.

    Prompt: the report's text before the table, the table (one row per line, cells joined
    by ``|``), the text after, then the question.

    Scoring rule, numeric questions: the final number (:func:`benchgate.scoring.extract_number`)
    matches when :func:`benchgate.scoring.normalize.finqa_equal` accepts it against the
    reference (``qa.answer`` when numeric) or against the executed ``exe_ans``:

    * relative tolerance 1 % (:data:`REL_TOL`), which absorbs the drift of rounding
      intermediate results in multi-step programs, or half a unit in the reference's last
      written decimal place if larger (``"14.1%"`` accepts 14.05-14.15);
    * percent scale: the prediction p also matches as 100 p or p / 100, because FinQA
      writes the same ratio as ``"14.1%"`` (answer) and ``0.141`` (exe_ans), and a model
      may use either;
    * scale words (thousand, million) are not applied on either side: FinQA tables state
      their unit once and references are in that unit (``"$1.5 million"`` reads as 1.5).

    Yes/no questions (comparison programs, reference ``yes``/``no``): the last standalone
    ``yes`` or ``no`` in the final text is the answer. No number (or no yes/no) -> no_answer.
    """

    name = "finqa"
    version = 1
    max_new_tokens = 320

    def load(self, source: DataSource) -> list[Item]:
        """Load the test split (see :func:`benchgate.datasets.finqa.load_finqa`).

        Without a ``finqa/test.json`` the benchmark is skipped with the reason.
        """
        return load_finqa(source)

    def request(self, item: Item) -> Request:
        """Return the zero-shot user message for ``item``."""
        content = PROMPT.format(context=render_context(item.input), question=item.input["question"])
        return Request.from_messages(
            [{"role": "user", "content": content}], max_new_tokens=self.max_new_tokens
        )

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Match yes/no, or the final number with tolerance and percent scale."""
        if item.reference in ("yes", "no"):
            found = _YES_NO.findall(final)
            if not found:
                return Score(Status.NO_ANSWER, detail="no yes/no found in the completion")
            said = found[-1].lower()
            return Score(
                Status.CORRECT if said == item.reference else Status.INCORRECT, extracted=said
            )
        from benchgate.scoring import extract_number
        from benchgate.scoring.normalize import finqa_equal

        extracted = extract_number(final, last_number_fallback=completion.finish_reason != "length")
        if extracted is None:
            return Score(Status.NO_ANSWER, detail="no number found in the completion")
        ok = finqa_equal(extracted, item.reference, rel_tol=REL_TOL) or (
            item.input.get("exe_ans") is not None
            and finqa_equal(extracted, item.input["exe_ans"], rel_tol=REL_TOL)
        )
        return Score(Status.CORRECT if ok else Status.INCORRECT, extracted=extracted)

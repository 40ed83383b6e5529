"""FinQA: numeric questions over financial reports (text + table), relative-tolerance match.

Data: FinQA test split (Chen et al. 2021, EMNLP, arXiv 2109.00122), local or from the hub.

Local: ``finqa/test.json`` (the official czyssrs/FinQA file); hub: ``dreamerdeo/finqa``.

Official format (``dataset/test.json``, 1147 items): one JSON array of objects with
``pre_text`` (list of str), ``post_text`` (list of str), ``table`` (list of rows, each a list
of cell strings, first row the header), ``id`` (``"ADI/2009/page_49.pdf-1"``), ``filename``
and ``qa`` {``question``, ``answer`` (the human answer as written: ``"14.1%"``, ``"380"``),
``program``, ``exe_ans`` (the program's executed result: a float, or ``"yes"``/``"no"``
for comparison programs), ``gold_inds``, ...}. The hub copy has ``id``, ``pre_text``,
``post_text``, ``table``, ``question`` and ``answers`` (= ``qa.answer``) per row.

The test file is not in shared/data (every copy is >= 4 MiB; see SOURCES.md), so without
``--data-dir`` pointing at a ``finqa/test.json`` and without the hub the benchmark is skipped
with that reason. ``fixtures/finqa/test.json`` holds a few items in the official format.

Reference (see :func:`finqa_reference`): ``"yes"``/``"no"`` for comparison questions,
else ``qa.answer`` when it is a number, else ``exe_ans``. Item ids: the source's ``id``
with characters outside ``[A-Za-z0-9_.-]`` replaced by ``_`` (``ADI_2009_page_49.pdf-1``).
No subject.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark, question_of
from benchgate.data.files import read_json_array
from benchgate.data.sources import DataSource, load_hub, make_unique, require_fields
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Completion, Item, Score, Status

if TYPE_CHECKING:
    from benchgate.scoring.extract import Extraction

HUB_REPO = "dreamerdeo/finqa"
#: Hub revision of dreamerdeo/finqa. Its ``main`` branch holds a loading script (commit
#: dc8bb77d189d2633f1ce24bc2255b2b0097342f5), which ``datasets`` >= 4 no longer runs, so the
#: Hub's Parquet conversion is read. A branch name, not a commit: the dataset hash recorded
#: with every run refuses to pair runs whose items differ.
HUB_REVISION = "refs/convert/parquet"
_FIX = (
    "use the official FinQA test.json (czyssrs/FinQA dataset/test.json): a JSON array of "
    "objects with pre_text, post_text, table, id and qa {question, answer, exe_ans}"
)
#: Where to get FinQA's data and where ``--data-dir`` expects it (ends every skip message).
GET_DATA = (
    "Fix: save dataset/test.json from FinQA's official repository "
    "https://github.com/czyssrs/FinQA as DIR/finqa/test.json and pass --data-dir DIR (or set "
    "BENCHGATE_DATA_DIR=DIR), DIR being the folder with the other benchmarks' folders; the "
    "file (1147 items) at commit 0f16e286: https://github.com/czyssrs/FinQA/raw/"
    "0f16e2867befa6840783e58be38c9efb9229d742/dataset/test.json"
)


def safe_id(raw: str) -> str:
    """Make a FinQA id safe for a pytest id: characters outside ``[A-Za-z0-9_.-]`` -> ``_``."""
    return re.sub(r"[^0-9A-Za-z_.-]", "_", raw.strip())


def finqa_reference(answer: Any, exe_ans: Any, where: str) -> tuple[str, str | None]:
    """Choose the reference of a FinQA item.

    Rule: ``"yes"``/``"no"`` when either field is yes/no (comparison programs); else the
    human ``answer`` when it parses as a number (``"14.1%"``, ``"$ 380"`` is not one), else
    ``exe_ans`` written canonically.

    Args:
        answer: ``qa.answer`` (str, possibly empty) or None.
        exe_ans: ``qa.exe_ans`` (float, int, ``"yes"``/``"no"``) or None.
        where: file and item, for the error message.

    Returns:
        ``(reference, exe_ans)``: the reference string and ``exe_ans`` as a canonical
        decimal string (None when absent or yes/no).

    Raises:
        DataFormatError: neither field gives a number or yes/no.
    """
    from benchgate.scoring.normalize import canonical_number, parse_number

    text = "" if answer is None else str(answer).strip()
    exe = None if exe_ans is None else str(exe_ans).strip()
    for value in (text, exe):
        if value is not None and value.lower() in ("yes", "no"):
            return value.lower(), None
    exe_canonical = None
    if exe:
        try:
            exe_canonical = canonical_number(exe)
        except ValueError:
            exe_canonical = None
    if text:
        try:
            parse_number(text)
            return text, exe_canonical
        except ValueError:
            pass
    if exe_canonical is not None:
        return exe_canonical, exe_canonical
    raise DataFormatError(
        f"{where}: neither qa.answer ({answer!r}) nor qa.exe_ans ({exe_ans!r}) is a number or "
        f"yes/no. Fix: {_FIX}."
    )


def _text_list(value: Any, field: str, where: str) -> list[str]:
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        raise DataFormatError(f"{where}: field '{field}' must be a list of strings. Fix: {_FIX}.")
    return [str(v) for v in value]


def _table(value: Any, where: str) -> list[list[str]]:
    if not isinstance(value, list) or any(not isinstance(r, list) for r in value):
        raise DataFormatError(
            f"{where}: field 'table' must be a list of rows (lists of cell strings). Fix: {_FIX}."
        )
    return [[str(c) for c in r] for r in value]


def _items(rows: list[dict[str, Any]], where: str, unit: str) -> list[Item]:
    built = []
    for index, row in enumerate(rows, start=1):
        at = f"{where}, {unit} {index}"
        require_fields(row, ("id", "pre_text", "post_text", "table", "qa"), at)
        qa = row["qa"]
        if not isinstance(qa, dict):
            raise DataFormatError(f"{at}: field 'qa' must be an object. Fix: {_FIX}.")
        require_fields(qa, ("question",), f"{at}, field 'qa'")
        if qa.get("answer") is None and qa.get("exe_ans") is None:
            raise DataFormatError(
                f"{at}: field 'qa' has neither 'answer' nor 'exe_ans'. Fix: {_FIX}."
            )
        reference, exe = finqa_reference(qa.get("answer"), qa.get("exe_ans"), at)
        built.append(
            (
                safe_id(str(row["id"])),
                {
                    "question": str(qa["question"]).strip(),
                    "pre_text": _text_list(row["pre_text"], "pre_text", at),
                    "post_text": _text_list(row["post_text"], "post_text", at),
                    "table": _table(row["table"], at),
                    "exe_ans": exe,
                    "source_id": str(row["id"]),
                },
                reference,
            )
        )
    ids = make_unique([b[0] for b in built])
    return [
        Item(id=i, benchmark="finqa", input=inp, reference=ref)
        for i, (_, inp, ref) in zip(ids, built, strict=False)
    ]


def _hub_row(row: dict[str, Any]) -> dict[str, Any]:
    """Reshape a hub row (``question``/``answers`` at top level) into the official layout."""
    if "qa" in row:
        return row
    qa = {"question": row.get("question"), "answer": row.get("answers", row.get("answer"))}
    if row.get("final_result") is not None:
        qa["exe_ans"] = row["final_result"]
    return {**{k: row.get(k) for k in ("id", "pre_text", "post_text", "table")}, "qa": qa}


def load_finqa(source: DataSource) -> list[Item]:
    """Load the FinQA test items (1147 in the official file).

    Args:
        source: ``data_dir/finqa/test.json`` when a data dir is set, else the hub.

    Returns:
        Items with ``input = {question, pre_text, post_text, table, exe_ans, source_id}``
        and the reference of :func:`finqa_reference`.

    Raises:
        DataUnavailableError: no file (shared/data has none) / hub unavailable; the message
            says where to get the official file and where ``--data-dir`` expects it
            (:data:`GET_DATA`).
        DataFormatError: a malformed file, a missing field or an item without a numeric
            or yes/no answer.
    """
    if source.data_dir is not None:
        folder = source.data_dir / "finqa"
        path = folder / "test.json"
        if not path.is_file():
            what = "does not exist" if not folder.is_dir() else "holds no test.json"
            raise DataUnavailableError(
                f"FinQA: {folder} {what} (FinQA is not in shared/data). {GET_DATA}"
            )
        return _items(read_json_array(path, _FIX), str(path), "item")
    try:
        ds = load_hub(source, HUB_REPO, HUB_REVISION, split="test")
    except DataUnavailableError as exc:
        reason = str(exc).split(" Fix: ")[0].rstrip(".")  # GET_DATA is the fix here
        raise DataUnavailableError(
            f"FinQA: no --data-dir was given, and {reason}. {GET_DATA}"
        ) from None
    return _items([_hub_row(dict(r)) for r in ds], f"hub {HUB_REPO}@{HUB_REVISION}", "row")


PROMPT = (
    "Answer the question using the financial report below. End your reply with the "
    'sentence "The answer is" followed by the final number (or by yes or no for a yes/no '
    "question).\n\n{context}\n\nQuestion: {question}"
)

#: Relative tolerance of the numeric match (see :class:`FinQA`).
REL_TOL = 0.01



def exe_in_reference_scale(reference: str, exe_ans: str | None) -> str | None:
    """``exe_ans`` written on the reference's scale, for the second comparison of FinQA.

    When the reference is written with ``%`` (``"14.1%"``), ``exe_ans`` holds either the
    ratio (0.14116) or the percent (14.116); it is returned as a percent string
    (``"14.116%"``), so that the percent sign of a prediction keeps its meaning against it
    too. When the two fields disagree beyond :data:`REL_TOL`, None (the answer field
    decides). A reference without ``%`` leaves ``exe_ans`` unchanged.

    Args:
        reference: the item's reference (``qa.answer`` or ``exe_ans``).
        exe_ans: the canonical ``exe_ans`` string, or None.

    Returns:
        The string to compare against, or None.
    """
    from benchgate.scoring.normalize import (
        canonical_number,
        finqa_equal,
        parse_number,
        written_percent,
    )

    if exe_ans is None or not written_percent(reference):
        return exe_ans
    exe = parse_number(exe_ans)
    for value in (exe * 100, exe):
        text = canonical_number(value) + "%"
        if finqa_equal(text, reference, rel_tol=REL_TOL, percent_scale=False):
            return text
    return None


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

    Scoring rule, numeric questions: the final number
    (:func:`benchgate.scoring.number_extraction`, with ``accounting_negatives``: ``(1,234)``
    reads as -1234) matches when :func:`benchgate.scoring.normalize.finqa_equal` accepts it
    against the reference (``qa.answer`` when numeric) or against the executed ``exe_ans``
    put on the reference's scale (:func:`exe_in_reference_scale`):

    * relative tolerance 1 % (:data:`REL_TOL`), which absorbs the drift of rounding
      intermediate results in multi-step programs, or half a unit in the reference's last
      written decimal place if larger (``"14.1%"`` accepts 14.05-14.15);
    * percent scale: a number written with ``%`` is a percent and is compared as one
      (``"0.2%"`` and ``"2000%"`` never match ``"20%"``); a number written without it may
      be the ratio or the percent (``0.2`` and ``20`` both match ``"20%"``), because FinQA
      writes the same ratio as ``"14.1%"`` (answer) and ``0.141`` (exe_ans) and the prompt
      does not say which to use. The extracted answer is recorded with its ``%``;
    * scale words (thousand, million) are not applied on either side: FinQA tables state
      their unit once and references are in that unit (``"$1.5 million"`` reads as 1.5).

    Yes/no questions (comparison programs, reference ``yes``/``no``):
    :func:`benchgate.scoring.yes_no_extraction`: an explicit ``The answer is yes`` wins
    over any later ``No further ...``; else an opening ``Yes,``/``No,``; else every
    standalone yes/no must agree. No number (or no yes/no) -> no_answer.

    Where benchgate departs from FinQA's official scorer (czyssrs/FinQA
    ``code/evaluate/evaluate.py``), and why:

    * The official script scores a generated *program*: it executes it over the table
      (``eval_program``) and counts it correct when the result, rounded to 5 decimals,
      equals ``exe_ans`` exactly (execution accuracy), and also compares programs
      symbolically (program accuracy). Chat models answer in text and write no program,
      so benchgate scores the number in the text; program accuracy has no counterpart.
    * Exact equality after rounding to 5 decimals becomes the tolerance above: a model
      writes a rounded figure (``14.1%`` for 0.14116), which execution never does.
    * ``%``: the official ``str_to_num`` reads ``"x%"`` as x / 100, as benchgate does for
      a prediction written with the sign. benchgate also accepts a number written without
      the sign on either scale (``20`` for 20%), which the official script, comparing
      with the ratio ``exe_ans``, would not: FinQA's own ``answer`` field writes the
      percent while ``exe_ans`` holds the ratio.
    * Both ``qa.answer`` and ``exe_ans`` are references (the official script uses
      ``exe_ans`` only): ``answer`` is what the annotators wrote and what the prompt's
      "final number" asks for.
    * ``(1,234)`` is -1234 (the accounting convention of the reports); the official table
      reader cuts cells at ``(`` and so never reads one.
    * Yes/no answers are read from text with the rules above; the official script
      compares the ``greater`` operation's ``"yes"``/``"no"`` exactly.

    Tests: ``tests/unit/test_finqa_official.py`` checks these rules against the official
    script's ``str_to_num`` and rounding on the same predictions.
    """

    name = "finqa"
    category = "finance"
    #: 2: percent sign keeps its scale, accounting negatives, explicit yes/no first.
    version = 2
    max_new_tokens = 320

    def load(self, source: DataSource) -> list[Item]:
        """Load the test split (see :func:`load_finqa`).

        Without a ``finqa/test.json`` the benchmark is skipped with the reason.
        """
        return load_finqa(source)

    def request(self, item: Item) -> Request:
        """Return the zero-shot user message for ``item``."""
        content = PROMPT.format(context=render_context(item.input), question=item.input["question"])
        return Request.from_messages(
            [{"role": "user", "content": content}], max_new_tokens=self.max_new_tokens
        )

    def extract(self, item: Item, text: str, *, fallback: bool = True) -> Extraction:
        """Read the yes/no or the final number (``%`` kept) of ``text``."""
        from benchgate.scoring import number_extraction, yes_no_extraction

        question = question_of(item)
        if item.reference in ("yes", "no"):
            return yes_no_extraction(text, question=question)
        found = number_extraction(
            text, last_number_fallback=fallback, accounting_negatives=True, question=question
        )
        if found.answer is not None and found.percent:
            return found._replace(answer=found.answer + "%")
        return found

    def score_final(self, item: Item, final: str, completion: Completion) -> Score:
        """Match yes/no, or the final number with tolerance and percent scale."""
        from benchgate.scoring.normalize import finqa_equal

        found = self.extract(item, final, fallback=completion.finish_reason != "length")
        if found.answer is None:
            what = "yes/no" if item.reference in ("yes", "no") else "number"
            return Score(
                Status.NO_ANSWER, detail=f"no {what} found in the completion ({found.rule})",
                rule=found.rule,
            )
        if item.reference in ("yes", "no"):
            ok = found.answer == item.reference
        else:
            exe = exe_in_reference_scale(item.reference, item.input.get("exe_ans"))
            ok = finqa_equal(found.answer, item.reference, rel_tol=REL_TOL) or (
                exe is not None and finqa_equal(found.answer, exe, rel_tol=REL_TOL)
            )
        status = Status.CORRECT if ok else Status.INCORRECT
        return Score(status, extracted=found.answer, rule=found.rule)

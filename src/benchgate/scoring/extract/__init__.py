r"""Answer extraction: from a model's completion text to an answer, or None.

One module per extractor over one small shared text-preparation module (the way
inspect_ai keeps one scorer per module over a thin ``_common``):

* :mod:`.reasoning`: :func:`split_reasoning` separates a reasoning model's chain of
  thought from its final text (think-tag pairs, gpt-oss *harmony* channels, a model's
  own ``reasoning_delimiters``) and says when the reasoning never ended, so that a
  truncated chain of thought is never scored as an answer;
* :mod:`.choice`: :func:`extract_choice` finds the option label (``"A"`` ...) a
  completion chose;
* :mod:`.number`: :func:`extract_number` finds the final numeric answer in canonical
  decimal form (:func:`benchgate.scoring.normalize.canonical_number`);
* :mod:`.yesno`: :func:`yes_no_extraction` finds a yes/no answer (FinQA);
* :mod:`.code`: :func:`extract_code` turns a HumanEval completion into text that runs
  as ``prompt + completion``;
* :mod:`._common`: folding, end-of-turn tokens, continuation pieces, the answer-marker
  lexicon and :class:`Extraction`.

An extractor returns ``None`` when the completion holds no answer (inspect_ai's
``NOANSWER``); the benchmark then records ``no_answer``, never a sentinel string. The
``*_extraction`` variants also name the rule that found the answer, or why none did
(``Score.rule``, grouped in reports).

Shared rules (tested row by row in ``tests/unit/test_extract.py`` and
``test_extract_kinds.py``, and over the corpora in ``fixtures/completions/`` and
``fixtures/real_outputs/``):

* **Final text only.** Pass ``final`` from :func:`split_reasoning`. As a safety net the
  extractors also drop everything up to the last closing reasoning delimiter of a
  built-in pair, everything from an opening delimiter left open, and keep only the final
  channel of harmony output (raw or decoded); a number or letter inside reasoning is
  therefore never extracted.
* **Hallucinated continuations are cut.** Small models often answer and then write the
  next few-shot exemplar themselves (``Answer: B\n\nQuestion: ...\nAnswer: C``). The
  text is cut where a line starts a new turn (``Question:``, ``Q:``, ``Problem:``,
  ``Human:``, ``User:``, ``问题：``, ``Вопрос:``, ``### Question`` ...) or at an
  end-of-turn token (``<|im_end|>``, ``<|endoftext|>``, ``</s>``, ``<|eot_id|>`` ...).
  Given the item's ``question``, a piece that restates it still answers this item and
  one that poses another question never counts; without it the first piece that holds
  an answer wins.
* **Width, digits and spaces are folded.** Full-width forms (``Ｃ``, ``：``, ``１２``),
  other scripts' decimal digits (Bengali ``১৮``, Thai ``๑๘``) read as ASCII.
"""

from __future__ import annotations

from benchgate.scoring.extract._common import ANSWER_MARKERS, EXPLICIT_RULES, Extraction
from benchgate.scoring.extract.choice import choice_extraction, extract_choice
from benchgate.scoring.extract.code import extract_code
from benchgate.scoring.extract.number import extract_number, number_extraction
from benchgate.scoring.extract.reasoning import (
    BUILTIN_DELIMITERS,
    REASONING_FORMATS,
    check_delimiters,
    final_text,
    split_reasoning,
)
from benchgate.scoring.extract.yesno import yes_no_extraction

__all__ = [
    "ANSWER_MARKERS",
    "BUILTIN_DELIMITERS",
    "EXPLICIT_RULES",
    "REASONING_FORMATS",
    "Extraction",
    "check_delimiters",
    "choice_extraction",
    "extract_choice",
    "extract_code",
    "extract_number",
    "final_text",
    "number_extraction",
    "split_reasoning",
    "yes_no_extraction",
]

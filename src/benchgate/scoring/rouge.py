"""ROUGE-L for free-text answers in any script (DialogSum, LegalQA's real set).

The scorer is ``rouge-score`` (Google Research's reimplementation of Lin 2004, the package
the summarisation literature reports with): ``RougeScorer(["rougeL"])``, sentence-level
LCS F1, with :class:`UnicodeTokenizer` through its ``tokenizer=`` hook.

Why a tokenizer of our own: rouge-score's default tokenizer lower-cases, replaces every
character outside ``[a-z0-9]`` by a space and keeps ``[a-z0-9]+`` tokens, so Chinese,
Russian or Arabic text has no tokens at all and two identical Chinese answers score 0.0.
:class:`UnicodeTokenizer` keeps letters, digits and combining marks of every script, splits
scripts written without spaces between words (Han, Hiragana, Katakana, Bopomofo, Thai, Lao,
Khmer, Myanmar) into one token per character (with its combining marks), the usual
character-level ROUGE for Chinese and Japanese, and hands every ASCII token to rouge-score's
own tokenizer (lower case, Porter stemming of tokens longer than 3 characters), so English
text scores exactly as with ``RougeScorer(["rougeL"], use_stemmer=True)``: shown on all
500 x 3 DialogSum references in ``tests/unit/test_rouge.py``.

This module imports ``rouge_score`` (and through it ``nltk``, seconds to import): import it
where a score is computed, not at collection.
"""

from __future__ import annotations

import functools
import unicodedata
from collections.abc import Sequence

import regex
from nltk.stem import porter
from rouge_score import rouge_scorer, tokenize, tokenizers

from benchgate.records import Score, Status

#: Scripts written without spaces between words: one token per character.
NO_SPACE_SCRIPTS = ("Han", "Hiragana", "Katakana", "Bopomofo", "Thai", "Lao", "Khmer", "Myanmar")

_NO_SPACE = "".join(rf"\p{{{s}}}" for s in NO_SPACE_SCRIPTS)
# A character of a script without spaces (a letter or digit) with its combining marks, or a
# word: a run of letters, digits and combining marks of the other scripts.
_TOKEN = regex.compile(
    rf"[[\p{{L}}\p{{N}}]&&[{_NO_SPACE}]]\p{{M}}*|[[\p{{L}}\p{{N}}\p{{M}}]--[{_NO_SPACE}]]+",
    flags=regex.V1,
)


class UnicodeTokenizer(tokenizers.Tokenizer):
    """rouge-score tokenizer that keeps every script; English exactly as rouge-score's own.

    Rule, for a text:

    1. Unicode NFKC normalisation (full-width ``ＡＢＣ１２３`` -> ``ABC123``, ligatures
       split), then lower case (``str.lower``, as rouge-score does);
    2. tokens are runs of letters, digits and combining marks (Unicode categories L, N, M);
       everything else (spaces, punctuation, symbols, ``_``) separates tokens;
    3. a character of :data:`NO_SPACE_SCRIPTS` is always a token of its own (with its
       combining marks): ``我喜欢Python3`` -> ``我 喜 欢 python3``;
    4. an ASCII token goes through rouge-score's own ``tokenize.tokenize`` (Porter stemming
       of tokens longer than 3 characters when ``use_stemmer``); other tokens are kept as
       they are (Porter's rules are English ones).

    On ASCII text, steps 1-3 give the tokens rouge-score's default tokenizer gives (both
    split on every character outside ``[a-z0-9]``), and step 4 is that tokenizer, so the
    token lists are identical.

    Args:
        use_stemmer: Porter-stem ASCII tokens longer than 3 characters (rouge-score's
            ``use_stemmer``).

    References:
        Lin, C.-Y. (2004). ROUGE: A Package for Automatic Evaluation of Summaries.
        Unicode Standard Annex #15 (normalisation forms) and #24 (script property).
    """

    def __init__(self, use_stemmer: bool = True) -> None:
        self._stemmer = porter.PorterStemmer() if use_stemmer else None

    def tokenize(self, text: str) -> list[str]:
        """Split ``text`` into ROUGE tokens.

        Args:
            text: any text; None is read as empty.

        Returns:
            The tokens in order; empty for a text without letters or digits.
        """
        text = unicodedata.normalize("NFKC", text or "").lower()
        tokens: list[str] = []
        for token in _TOKEN.findall(text):
            if token.isascii():
                tokens.extend(tokenize.tokenize(token, self._stemmer))
            else:
                tokens.append(token)
        return tokens


@functools.lru_cache(maxsize=1)
def _scorer() -> rouge_scorer.RougeScorer:
    return rouge_scorer.RougeScorer(["rougeL"], tokenizer=UnicodeTokenizer(use_stemmer=True))


def rouge_l_best(candidate: str, references: Sequence[str]) -> float:
    """ROUGE-L F1 of ``candidate`` against the best-matching reference.

    ``rouge-score``'s ``RougeScorer(["rougeL"])`` (sentence-level LCS; F1 = harmonic mean
    of LCS/len(reference) and LCS/len(candidate)) over :class:`UnicodeTokenizer` tokens
    with Porter stemming of English tokens.

    Args:
        candidate: the text to score.
        references: one or more reference texts.

    Returns:
        ``max_r F1(r, candidate)`` in [0, 1]; 0.0 when ``candidate`` (or every reference)
        has no tokens.

    Raises:
        ValueError: ``references`` is empty.

    References:
        Lin, C.-Y. (2004). ROUGE: A Package for Automatic Evaluation of Summaries.
    """
    if not references:
        raise ValueError("rouge_l_best needs at least one reference")
    scorer = _scorer()
    return max(scorer.score(ref, candidate)["rougeL"].fmeasure for ref in references)


def rouge_l_score(text: str, references: Sequence[str], threshold: float) -> Score:
    """Score free text by ROUGE-L F1 against the best reference, thresholded.

    Args:
        text: the model's (non-empty) answer.
        references: the reference texts.
        threshold: the F1 at or above which the item counts as correct.

    Returns:
        A :class:`~benchgate.records.Score` with ``value`` = the best ROUGE-L F1 in [0, 1]
        (:func:`rouge_l_best`) and status correct (``value >= threshold``) or incorrect.
    """
    value = rouge_l_best(text, references)
    return Score(
        Status.CORRECT if value >= threshold else Status.INCORRECT,
        extracted=text,
        value=value,
        detail=f"ROUGE-L F1 {value:.3f} (threshold {threshold})",
    )

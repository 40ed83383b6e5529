"""Compact letter display of all-pairwise comparisons (Piepho's insert-absorb algorithm)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from benchgate.stats import _validate

# Single-character labels first, as R's multcompView: a-z, A-Z; then "." prefixes (".a", ...).
_LETTERS = tuple("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")


@dataclass(frozen=True, slots=True)
class CompactLetterDisplay:
    """Outcome of :func:`compact_letter_display`.

    Attributes:
        models: The models, best first (descending ``order_by``; ties keep the given order).
        letters: Each model's letters, aligned with ``models``, e.g. ``"ab"``. Two models
            share a letter exactly when they are not significantly different (see
            ``exact``). Labels are ``a``-``z``, then ``A``-``Z``, then ``.a``, ``.b``, ...
            (each further label starts with ``.``, so a string stays readable).
        labels: The letter labels in order, e.g. ``("a", "b", "c")``.
        groups: For each label, the models carrying it (in ``models`` order): a maximal set
            of models among which no pair is significantly different.
        exact: True when, for every pair of models, "share a letter" holds if and only if
            "not significantly different". The insert-absorb display is always exact; the
            field records the check.
    """

    models: tuple[str, ...]
    letters: tuple[str, ...]
    labels: tuple[str, ...]
    groups: tuple[tuple[str, ...], ...]
    exact: bool

    def letters_of(self, model: str) -> str:
        """Return the letters of ``model``.

        Args:
            model: A model name from ``models``.

        Returns:
            Its letters, e.g. ``"ab"``.

        Raises:
            ValueError: If ``model`` is not in the display.
        """
        if model not in self.models:
            raise ValueError(f"model {model!r} is not in this letter display {list(self.models)}")
        return self.letters[self.models.index(model)]


def compact_letter_display(
    models: Sequence[str],
    significant_pairs: Iterable[tuple[str, str]],
    order_by: Mapping[str, float] | Sequence[float],
) -> CompactLetterDisplay:
    """Letters such that models sharing a letter are not significantly different.

    Args:
        models: Model names, each once (at least one).
        significant_pairs: The unordered pairs ``(model_a, model_b)`` found significantly
            different, e.g. ``[(r.row_model, r.column_model) for r in
            pairwise_mcnemar(...) if r.pvalue_holm <= alpha]``. Every other pair counts as
            not significantly different. A pair may appear in either orientation and more
            than once.
        order_by: A number per model, higher is better (accuracy): a mapping ``model ->
            value`` covering every model, or a sequence aligned with ``models``. The best
            model gets ``"a"``; labels follow the order of the best model in each group.

    Returns:
        A :class:`CompactLetterDisplay`.

    Raises:
        ValueError: If ``models`` is empty or repeats a name, a pair names an unknown model
            or the same model twice, or ``order_by`` misses a model or holds a value that is
            not a finite number.

    Notes:
        Insert-absorb (Piepho 2004, section 2), as implemented in R's
        ``multcompView::multcompLetters``: start with one letter shared by all models. For
        each significant pair ``(i, j)``, every letter carried by both is split in two, one
        copy without ``i`` and one without ``j`` (insert); then every letter whose models
        are a subset of another letter's are dropped (absorb). At the end each letter is a
        *maximal* set of models with no significant difference inside it, and the set of
        letters is unique: it does not depend on the order in which the pairs are
        processed. Piepho's optional sweeping step, which removes redundant letters at the
        cost of that uniqueness, is not applied (multcompView does not apply it either).
        The display is exact: two models share a letter if and only if the pair is not
        significant.

        Letters are ordered by their members' positions in ``models`` sorted best first,
        compared lexicographically (multcompView's ``sortCols`` with the levels in that
        order): the group holding the best model is ``a``.

        Significance is taken as given (e.g. Holm-adjusted mid-p McNemar within one
        benchmark). A display is a summary of those decisions, not a test: "not
        significantly different" is not "equal".

    References:
        Piepho H-P (2004). An algorithm for a letter-based representation of all-pairwise
        comparisons. Journal of Computational and Graphical Statistics 13(2):456-466.
        doi:10.1198/1061860043515
        Graves S, Piepho H-P, Selzer L, Dorai-Raj S (2019). multcompView: Visualizations of
        Paired Comparisons. R package version 0.1-8.
    """
    names = _validate.model_names("models", models)
    if not names:
        raise ValueError("models must name at least one model, got none")
    values = _order_values(names, order_by)
    # Best first; ties keep the given order (sorted is stable).
    ranked = tuple(sorted(range(len(names)), key=lambda i: -values[i]))
    position = {model: rank for rank, model in enumerate(names[i] for i in ranked)}
    significant = _pairs(significant_pairs, position)

    columns: list[frozenset[int]] = [frozenset(range(len(names)))]
    for i, j in sorted(significant):
        if not any(i in column and j in column for column in columns):
            continue
        split: list[frozenset[int]] = []
        for column in columns:
            if i in column and j in column:
                split.extend((column - {j}, column - {i}))
            else:
                split.append(column)
        columns = _absorb(split)
    columns.sort(key=sorted)
    labels = _labels(len(columns))
    ordered = tuple(names[i] for i in ranked)
    letters = tuple(
        "".join(label for label, column in zip(labels, columns, strict=True) if rank in column)
        for rank in range(len(names))
    )
    groups = tuple(tuple(ordered[rank] for rank in sorted(column)) for column in columns)
    share = {
        (i, j)
        for column in columns
        for i in column
        for j in column
        if i < j  # positions in best-first order
    }
    exact = all(
        ((i, j) in share) != ((i, j) in significant)
        for i in range(len(names))
        for j in range(i + 1, len(names))
    )
    return CompactLetterDisplay(
        models=ordered, letters=letters, labels=labels, groups=groups, exact=exact
    )


def _order_values(
    names: tuple[str, ...], order_by: Mapping[str, float] | Sequence[float]
) -> list[float]:
    if isinstance(order_by, Mapping):
        missing = [model for model in names if model not in order_by]
        if missing:
            raise ValueError(f"order_by must give a value for every model, missing {missing}")
        raw = [order_by[model] for model in names]
    elif isinstance(order_by, Sequence) and not isinstance(order_by, str | bytes):
        if len(order_by) != len(names):
            raise ValueError(
                f"order_by must have one value per model ({len(names)}), got {len(order_by)}"
            )
        raw = list(order_by)
    else:
        raise ValueError(
            f"order_by must be a mapping model -> value or a sequence aligned with models, "
            f"got {order_by!r}"
        )
    values = []
    for model, value in zip(names, raw, strict=True):
        if (
            isinstance(value, bool)
            or not isinstance(value, numbers.Real)
            or not math.isfinite(float(value))
        ):
            raise ValueError(f"order_by[{model!r}] must be a finite number, got {value!r}")
        values.append(float(value))
    return values


def _pairs(pairs: Iterable[tuple[str, str]], position: dict[str, int]) -> set[tuple[int, int]]:
    """Significant pairs as ``(i, j)`` positions in best-first order, ``i < j``."""
    if isinstance(pairs, str | bytes | Mapping):
        raise ValueError(
            f"significant_pairs must be an iterable of (model, model) pairs, got {pairs!r}"
        )
    result: set[tuple[int, int]] = set()
    for index, pair in enumerate(pairs):
        try:
            if isinstance(pair, str | bytes):
                raise TypeError
            first, second = pair
        except (TypeError, ValueError):
            raise ValueError(
                f"significant_pairs[{index}] must be a pair of model names, got {pair!r}"
            ) from None
        for model in (first, second):
            if not isinstance(model, str) or model not in position:
                raise ValueError(
                    f"significant_pairs[{index}] names {model!r}, which is not one of the "
                    f"models {sorted(position)}"
                )
        if first == second:
            raise ValueError(
                f"significant_pairs[{index}] pairs model {first!r} with itself; a pair needs "
                f"two different models"
            )
        i, j = sorted((position[first], position[second]))
        result.add((i, j))
    return result


def _absorb(columns: list[frozenset[int]]) -> list[frozenset[int]]:
    """Drop every column contained in another (keeping the first of equal columns)."""
    kept: list[frozenset[int]] = []
    for index, column in enumerate(columns):
        contained = any(
            column < other or (column == other and later < index)
            for later, other in enumerate(columns)
            if later != index
        )
        if not contained:
            kept.append(column)
    return kept


def _labels(count: int) -> tuple[str, ...]:
    """``count`` labels: a-z, A-Z, then the same with one more leading ``.`` per round."""
    labels = []
    prefix = ""
    while len(labels) < count:
        labels.extend(prefix + letter for letter in _LETTERS)
        prefix += "."
    return tuple(labels[:count])

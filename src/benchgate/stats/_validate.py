"""Argument checks shared by the ``benchgate.stats`` functions.

Every check raises :class:`ValueError` whose message names the argument, the value received
and what is allowed, so a bad count coming from a results file is easy to trace.
"""

from __future__ import annotations

import inspect
import math
import numbers
from collections.abc import KeysView, Mapping, Sequence

import numpy as np

ALTERNATIVES = ("two-sided", "less", "greater")


def count(name: str, value: object) -> int:
    """Return ``value`` as a non-negative ``int`` count.

    Accepts Python and NumPy integers and integer-valued finite floats (``3.0``). Rejects
    booleans, fractional or non-finite floats, negative numbers, strings and anything else.

    Args:
        name: Argument name used in the error message.
        value: The value to check.

    Returns:
        The count as a built-in ``int``.

    Raises:
        ValueError: If ``value`` is not a non-negative whole number.
    """
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{name} must be a non-negative whole number (a count), got {value!r}")
    if isinstance(value, numbers.Integral):
        result = int(value)
    elif isinstance(value, numbers.Real) and math.isfinite(float(value)):
        as_float = float(value)
        if not as_float.is_integer():
            raise ValueError(f"{name} must be a non-negative whole number (a count), got {value!r}")
        result = int(as_float)
    else:
        raise ValueError(f"{name} must be a non-negative whole number (a count), got {value!r}")
    if result < 0:
        raise ValueError(f"{name} must be a non-negative whole number (a count), got {value!r}")
    return result


def probability(name: str, value: object, *, open_low: bool, open_high: bool) -> float:
    """Return ``value`` as a float inside [0, 1] (ends excluded as requested).

    Args:
        name: Argument name used in the error message.
        value: The value to check.
        open_low: If true, 0 itself is rejected.
        open_high: If true, 1 itself is rejected.

    Returns:
        The value as a built-in ``float``.

    Raises:
        ValueError: If ``value`` is not a real number in the allowed range.
    """
    low = "(0" if open_low else "[0"
    high = "1)" if open_high else "1]"
    message = f"{name} must be a number in {low}, {high}, got {value!r}"
    if isinstance(value, bool | np.bool_) or not isinstance(value, numbers.Real):
        raise ValueError(message)
    result = float(value)
    if not math.isfinite(result):
        raise ValueError(message)
    if result < 0.0 or result > 1.0 or (open_low and result == 0.0):
        raise ValueError(message)
    if open_high and result == 1.0:
        raise ValueError(message)
    return result


def confidence(value: object) -> float:
    """Return a confidence level strictly between 0 and 1.

    Args:
        value: The confidence level, e.g. ``0.95``.

    Returns:
        The level as a ``float``.

    Raises:
        ValueError: If it is not a number in (0, 1).
    """
    return probability("confidence", value, open_low=True, open_high=True)


def alternative(value: object) -> str:
    """Check the ``alternative`` keyword.

    Args:
        value: One of ``"two-sided"``, ``"less"``, ``"greater"``.

    Returns:
        The value unchanged.

    Raises:
        ValueError: For any other value.
    """
    if not isinstance(value, str) or value not in ALTERNATIVES:
        raise ValueError(f"alternative must be one of {ALTERNATIVES}, got {value!r}")
    return str(value)


def seed(value: object) -> int:
    """Return a random seed as a non-negative ``int``.

    Args:
        value: The seed passed by the caller (an explicit seed: there is no default
            randomness anywhere in ``benchgate.stats``).

    Returns:
        The seed as a built-in ``int``.

    Raises:
        ValueError: If it is not a non-negative whole number.
    """
    return count("seed", value)


def resamples(value: object, minimum: int = 1) -> int:
    """Return a number of resamples, at least ``minimum``.

    Args:
        value: The requested number of bootstrap or permutation resamples.
        minimum: The smallest number allowed.

    Returns:
        The number as a built-in ``int``.

    Raises:
        ValueError: If it is not a whole number of at least ``minimum``.
    """
    number = count("n_resamples", value)
    if number < minimum:
        raise ValueError(f"n_resamples must be at least {minimum}, got {value!r}")
    return number


def model_names(name: str, values: object) -> tuple[str, ...]:
    """Return model names as a tuple of distinct, non-empty strings.

    Args:
        name: Argument name used in the error message.
        values: A sequence of model names.

    Returns:
        The names, in the order given.

    Raises:
        ValueError: If ``values`` is a plain string, holds something other than a
            non-empty string, or repeats a name.
    """
    if isinstance(values, str | bytes) or not isinstance(values, Sequence | KeysView):
        raise ValueError(f"{name} must be a sequence of model names, got {values!r}")
    names = tuple(values)
    seen: set[str] = set()
    for position, model in enumerate(names):
        if not isinstance(model, str) or not model:
            raise ValueError(f"{name}[{position}] must be a non-empty model name, got {model!r}")
        if model in seen:
            raise ValueError(f"{name} names model {model!r} twice; every model once, please")
        seen.add(model)
    return names


def correctness_matrix(
    correct: object, models: Sequence[str] | None, *, what: str = "correct"
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Check per-item correctness of several models on the same items.

    Args:
        correct: Either an array-like of shape ``(n_items, n_models)`` of bools (or 0/1),
            ``True`` where the model answered the item correctly, with columns in the order
            of ``models``; or a mapping ``model -> sequence of bools``, one entry per item,
            all of the same length and item-aligned (entry ``i`` of every model is the same
            item).
        models: Model names: required for an array (one per column); for a mapping, the
            order to use (it must name exactly the mapping's keys), or ``None`` for the
            mapping's own order.
        what: Name of the ``correct`` argument, for error messages.

    Returns:
        ``(matrix, names)``: a boolean array of shape ``(n_items, n_models)`` and the model
        names in column order.

    Raises:
        ValueError: If there are fewer than two models or no item, lengths differ, a model
            is missing or named twice, or a cell is not a bool / 0 / 1 (the message names
            the model and item position).
    """
    if isinstance(correct, Mapping):
        if models is None:
            names = model_names(f"the keys of {what}", list(correct.keys()))
        else:
            names = model_names("models", models)
            missing = [m for m in names if m not in correct]
            extra = [m for m in correct if m not in set(names)]
            if missing or extra:
                raise ValueError(
                    f"models must name exactly the models in {what}: missing from {what}: "
                    f"{missing}, not listed in models: {extra}"
                )
        columns = [_array(f"{what}[{model!r}]", correct[model]) for model in names]
        for model, column in zip(names, columns, strict=True):
            if column.ndim != 1:
                raise ValueError(
                    f"{what}[{model!r}] must be a 1-D sequence of per-item bools, got shape "
                    f"{column.shape}"
                )
        lengths = {model: column.size for model, column in zip(names, columns, strict=True)}
        if len(set(lengths.values())) > 1:
            raise ValueError(
                f"every model in {what} must be scored on the same items (same length, "
                f"item-aligned), got lengths {lengths}"
            )
        matrix = [
            _bool_column(column, what, model) for model, column in zip(names, columns, strict=True)
        ]
        result = np.column_stack(matrix) if matrix else np.zeros((0, 0), dtype=bool)
    else:
        if models is None:
            raise ValueError(
                f"models must name the columns of {what} (one model name per column) when "
                f"{what} is an array"
            )
        names = model_names("models", models)
        raw = _array(what, correct)
        if raw.ndim != 2:
            raise ValueError(
                f"{what} must be 2-D with shape (n_items, n_models), got shape {raw.shape}"
            )
        if raw.shape[1] != len(names):
            raise ValueError(
                f"{what} has {raw.shape[1]} columns but models names {len(names)} models "
                f"{list(names)}"
            )
        result = (
            np.column_stack([_bool_column(raw[:, j], what, model) for j, model in enumerate(names)])
            if raw.shape[1]
            else np.zeros(raw.shape, dtype=bool)
        )
    if len(names) < 2:
        raise ValueError(f"{what} needs at least 2 models to compare, got {list(names)}")
    if result.shape[0] < 1:
        raise ValueError(f"{what} needs at least 1 item scored for every model, got none")
    return result.reshape(-1, len(names)), names


def _array(what: str, values: object) -> np.ndarray:
    try:
        return np.asarray(values)
    except (TypeError, ValueError):  # ragged nested sequences
        try:
            return np.asarray(values, dtype=object)
        except (TypeError, ValueError) as error:
            raise ValueError(
                f"{what} must be an array of per-item bools, got {values!r}"
            ) from error


def _bool_column(column: np.ndarray, what: str, model: str) -> np.ndarray:
    """Return one model's column as bool, or raise naming the first cell that is not 0/1."""
    if column.dtype == np.bool_:
        return column
    if column.dtype.kind in "iuf":
        ok = (column == 0) | (column == 1)
    else:
        ok = np.fromiter(
            (
                isinstance(v, bool | np.bool_)
                or (isinstance(v, numbers.Real) and math.isfinite(v) and v in (0, 1))
                for v in column
            ),
            dtype=bool,
            count=column.size,
        )
    if not ok.all():
        row = int(np.flatnonzero(~ok)[0])
        value = column[row]
        value = value.item() if isinstance(value, np.generic) else value
        raise ValueError(
            f"{what} must hold only True/False (or 1/0) per item: model {model!r}, item "
            f"{row} is {value!r} (resolve errors and missing answers to correct or "
            f"incorrect, or drop the item for every model, before comparing)"
        )
    return column.astype(bool)


def rng_keyword(function: object) -> str:
    """Name of the keyword that takes a ``numpy.random.Generator`` in a scipy function.

    Args:
        function: A scipy function such as ``scipy.stats.bootstrap``.

    Returns:
        ``"rng"`` (scipy >= 1.15) when the function takes it, else ``"random_state"``; both
        accept a Generator, so seeds are passed explicitly either way.
    """
    return "rng" if "rng" in inspect.signature(function).parameters else "random_state"

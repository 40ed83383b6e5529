"""Argument checks shared by the ``benchgate.stats`` functions.

Every check raises :class:`ValueError` whose message names the argument, the value received
and what is allowed, so a bad count coming from a results file is easy to trace.
"""

from __future__ import annotations

import math
import numbers

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

"""Normalisers that compare an extracted answer with a benchmark's reference.

Three small families, each used by the benchmark specs in ``tests/benchmarks/``:

* numbers: :func:`parse_number`, :func:`canonical_number` and :func:`numbers_equal`
  (GSM8K, MGSM and every other free-form numeric answer);
* FinQA-style numbers: :func:`finqa_equal`, which also forgives the percent scale
  (``"12%"`` vs ``"0.12"``, unless both are written with ``%``) and the rounding of the
  reference;
* multiple-choice labels: :func:`normalize_label` and :func:`labels_equal`.

Numbers are handled as :class:`decimal.Decimal` so that ``"0.1" + "0.2"`` style float
artefacts never decide a comparison; floats given by a caller are converted through
``repr`` (``0.1 -> Decimal("0.1")``), not through their binary expansion.
"""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation, localcontext
from fractions import Fraction

__all__ = [
    "FRACTION_PLACES",
    "canonical_number",
    "check_labels",
    "finqa_equal",
    "fraction_to_decimal",
    "labels_equal",
    "normalize_label",
    "numbers_equal",
    "parse_number",
    "written_percent",
]

# Places kept when a fraction has no finite decimal expansion (1/3 -> 0.3333333333).
FRACTION_PLACES = 10

_CURRENCY = "$€£¥₹"
# One number as a reference or an extracted answer may spell it: optional sign, optional
# currency, digits with valid thousands groups, optional decimals, optional exponent,
# optional percent sign; or a fraction ``a/b``.
_STRICT_NUMBER = re.compile(
    rf"""
    (?P<sign>[-+\u2212])?
    (?:\s*(?:[{_CURRENCY}]|US\$|USD(?=\s)|Rs\.?))?
    \s*
    (?:
        (?P<frac>\d+\s*/\s*\d+)
      | (?P<num>(?:\d{{1,3}}(?:,\d{{3}})+|\d+)(?:\.\d*)?(?:[eE][-+]?\d+)?|\.\d+(?:[eE][-+]?\d+)?)
    )
    (?:\s*(?:%|percent|per\s+cent))?\.?""",
    re.VERBOSE | re.IGNORECASE,
)


def fraction_to_decimal(value: Fraction) -> Decimal:
    """Convert a fraction to a decimal: exact when the expansion ends, else rounded.

    Args:
        value: the fraction.

    Returns:
        The exact decimal when the reduced denominator has no prime factor other than 2
        and 5 (``3/4 -> 0.75``), else the value rounded half-even to
        :data:`FRACTION_PLACES` decimal places (``1/3 -> 0.3333333333``).
    """
    num, den = value.numerator, value.denominator
    d = den
    for p in (2, 5):
        while d % p == 0:
            d //= p
    if d == 1:
        # Exact: enough precision for any terminating expansion of these sizes.
        places = max(len(str(den)) * 4, 28)
        with localcontext() as ctx:
            ctx.prec = places + len(str(abs(num)))
            return Decimal(num) / Decimal(den)
    with localcontext() as ctx:
        ctx.prec = len(str(abs(num) // den)) + FRACTION_PLACES + 5
        return (Decimal(num) / Decimal(den)).quantize(Decimal(1).scaleb(-FRACTION_PLACES))


def parse_number(value: str | int | float | Decimal) -> Decimal:
    """Parse one number written on its own (a reference or an extracted answer).

    Accepts what a dataset's reference or :func:`benchgate.scoring.extract_number`'s
    output look like: ``"42"``, ``"-7"``, ``"1,250.50"``, ``"$18"``, ``"12%"``
    (read as 12: the percent sign is dropped, see :func:`finqa_equal` for the scale),
    ``"3/4"``, ``"1e-3"``, ``"−5"`` (U+2212 minus), a trailing period. Thousands commas
    must form valid groups of three (``"1,25"`` is refused).

    Args:
        value: a string, int, float or Decimal. Floats go through ``repr`` so ``0.1``
            becomes ``Decimal("0.1")``.

    Returns:
        The value as a Decimal.

    Raises:
        ValueError: the value is not a single finite number (the message names it), or
            it is a bool, NaN or infinite.
        TypeError: the value is of another type.
    """
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a bool, not a number")
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"{value!r} is not a finite number")
        return value
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"{value!r} is not a finite number")
        return Decimal(repr(value))
    if not isinstance(value, str):
        raise TypeError(f"expected str, int, float or Decimal, got {type(value).__name__}")
    m = _STRICT_NUMBER.fullmatch(value.strip())
    if m is None:
        raise ValueError(
            f"{value!r} is not a single number; write it like '42', '-7', '1,250.5', "
            "'12%' or '3/4'"
        )
    negative = m.group("sign") in ("-", "\u2212")
    if m.group("frac"):
        a, b = (int(x) for x in m.group("frac").replace(" ", "").split("/"))
        if b == 0:
            raise ValueError(f"{value!r} divides by zero")
        out = fraction_to_decimal(Fraction(a, b))
    else:
        try:
            out = Decimal(m.group("num").replace(",", ""))
        except InvalidOperation as exc:  # pragma: no cover - the regex admits only numbers
            raise ValueError(f"{value!r} is not a number") from exc
    return -out if negative else out


def canonical_number(value: str | int | float | Decimal) -> str:
    """Write a number in benchgate's canonical decimal form.

    The form is what :func:`benchgate.scoring.extract_number` returns and what the
    numeric benchmarks store as the extracted answer: plain positional notation, ``-``
    for negatives, no thousands separators, no trailing zeros or trailing point, and
    zero always as ``"0"`` (never ``"-0"``). Examples: ``"1,250.50" -> "1250.5"``,
    ``"-0.0" -> "0"``, ``"1e3" -> "1000"``, ``".25" -> "0.25"``, ``"3/4" -> "0.75"``.

    Args:
        value: anything :func:`parse_number` accepts.

    Returns:
        The canonical string.

    Raises:
        ValueError: the value is not a number (see :func:`parse_number`).
    """
    d = parse_number(value)
    if d == 0:
        return "0"
    text = format(d, "f")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _as_decimal(value: str | int | float | Decimal | None) -> Decimal | None:
    return None if value is None else parse_number(value)


def numbers_equal(
    a: str | int | float | Decimal | None,
    b: str | int | float | Decimal | None,
    *,
    rel_tol: float = 1e-9,
    abs_tol: float = 1e-9,
) -> bool:
    """Whether two numbers are equal within a tolerance (``math.isclose`` semantics).

    ``|a - b| <= max(rel_tol * max(|a|, |b|), abs_tol)``, computed in Decimal. The
    defaults accept only representation noise (``"18"`` vs ``"18.000000"`` vs
    ``18.0``, ``1/3`` rounded to 10 places vs ``0.333333333333``) and never an integer
    off by one below 10**9 (``"1000000"`` vs ``"1000001"`` differ); pass
    ``rel_tol=0, abs_tol=0`` for exact equality.

    Args:
        a: the extracted answer (canonical string), or None when there was none.
        b: the reference, or None.
        rel_tol: relative tolerance, >= 0.
        abs_tol: absolute tolerance, >= 0 (matters near zero).

    Returns:
        True when both are numbers and close; False when either is None.

    Raises:
        ValueError: a value is not a number, or a tolerance is negative.
    """
    if rel_tol < 0 or abs_tol < 0:
        raise ValueError(f"tolerances must be >= 0, got rel_tol={rel_tol}, abs_tol={abs_tol}")
    x, y = _as_decimal(a), _as_decimal(b)
    if x is None or y is None:
        return False
    return _close(x, y, Decimal(repr(rel_tol)), Decimal(repr(abs_tol)))


def _close(x: Decimal, y: Decimal, rel: Decimal, abs_: Decimal) -> bool:
    return abs(x - y) <= max(rel * max(abs(x), abs(y)), abs_)


def _reference_half_unit(reference: str) -> Decimal | None:
    """Half a unit in the last written decimal place of a reference string, if any."""
    m = re.search(r"\d(?:\.(\d+))?\s*%?\s*\.?\s*$", reference.strip())
    if m is None:
        return None
    places = len(m.group(1) or "")
    return Decimal(5).scaleb(-(places + 1))


_PERCENT_WRITTEN = re.compile(r"%|percent|per\s+cent", re.IGNORECASE)


def written_percent(value: object) -> bool:
    """Whether ``value`` is a string written with a percent sign (``"12%"``, ``"12 percent"``)."""
    return isinstance(value, str) and _PERCENT_WRITTEN.search(value) is not None


def _percent_scales(predicted: object, reference: object) -> tuple[Decimal, ...]:
    """The factors that may bring the prediction to the reference's scale (see finqa_equal)."""
    one, hundred, hundredth = Decimal(1), Decimal(100), Decimal("0.01")
    p_pct, r_pct = written_percent(predicted), written_percent(reference)
    if p_pct and r_pct:
        return (one,)
    if p_pct:
        return (one, hundredth)  # "14.1%" vs "14.1" (a percent without its sign) or 0.141
    if r_pct:
        return (one, hundred)  # "14.1" (percent without its sign) or 0.141 vs "14.1%"
    return (one, hundred, hundredth)


def finqa_equal(
    predicted: str | int | float | Decimal | None,
    reference: str | int | float | Decimal | None,
    *,
    rel_tol: float = 0.01,
    percent_scale: bool = True,
) -> bool:
    """FinQA-style numeric match: relative tolerance, percent scale and reference rounding.

    FinQA references mix two scales for the same quantity: a percent written as
    ``"12%"`` and the same ratio as a fraction (``0.12``, the executed program's
    ``exe_ans``). A model may answer in either, with or without the percent sign. With
    ``percent_scale`` the prediction ``p`` may be multiplied by a factor before the
    comparison, and the percent sign, when written, fixes the scale:

    * both written with ``%``: no factor (``"0.2%"`` and ``"2000%"`` never match
      ``"20%"``);
    * only the prediction: 1 or 1/100 (``"20%"`` matches ``"20"`` and ``0.2``);
    * only the reference: 1 or 100 (``"20"`` and ``"0.2"`` match ``"20%"``);
    * neither: 1, 100 or 1/100 (``"0.12"`` and ``"12"`` match both ways).

    The sign is read from the strings as written (``parse_number`` reads ``"12%"`` as 12).

    *Close* means within ``max(rel_tol * |r|, h)``, where ``h`` is half a unit in the last
    decimal place written in a string reference (``"14.1%"`` accepts 14.05 to 14.15,
    i.e. any prediction that rounds to the reference), and 0 for numeric references.
    Scale words (thousand, million, billion) are not applied on either side: FinQA
    tables state their unit once and references are in that unit.

    Args:
        predicted: the extracted answer, ``"%"`` appended when the model wrote one
            (:func:`benchgate.scoring.number_extraction` reports it), or None.
        reference: the gold answer (string from the ``answer`` field, or the float
            ``exe_ans``), or None.
        rel_tol: relative tolerance, >= 0; the default (1 %) absorbs the drift from
            rounding intermediate results to two decimals in multi-step programs.
        percent_scale: allow the factors above; False compares ``p`` and ``r`` as written.

    Returns:
        True when they match, False otherwise or when either is None.

    Raises:
        ValueError: a value is not a number, or ``rel_tol`` is negative.
    """
    if rel_tol < 0:
        raise ValueError(f"rel_tol must be >= 0, got {rel_tol}")
    p, r = _as_decimal(predicted), _as_decimal(reference)
    if p is None or r is None:
        return False
    half = _reference_half_unit(reference) if isinstance(reference, str) else None
    tol = max(Decimal(repr(rel_tol)) * abs(r), half or Decimal(0))
    scales = _percent_scales(predicted, reference) if percent_scale else (Decimal(1),)
    return any(abs(p * s - r) <= tol for s in scales)


def check_labels(labels: str) -> str:
    """Validate a set of option labels and return it in capitals.

    Args:
        labels: the option labels in order, e.g. ``"ABCD"``, ``"AB"`` (PIQA),
            ``"ABCDE"``; lower case is accepted and upper-cased.

    Returns:
        The labels in upper case.

    Raises:
        ValueError: empty, not ASCII letters, or a repeated label.
    """
    if not isinstance(labels, str) or not labels:
        raise ValueError(f"labels must be a non-empty string like 'ABCD', got {labels!r}")
    up = labels.upper()
    if not all("A" <= ch <= "Z" for ch in up) or len(set(up)) != len(up):
        raise ValueError(
            f"labels must be distinct ASCII letters in order, like 'ABCD' or 'AB'; got {labels!r}"
        )
    return up


_LABEL_TEXT = re.compile(
    r"(?:(?:option|choice|answer)\s*)?[\[(（【\"'*]*([A-Za-z])[\])）】\"'*]*[.:)]?",
    re.IGNORECASE,
)


def normalize_label(value: str | int, labels: str = "ABCD") -> str:
    """Turn a multiple-choice label or 0-based index into its canonical capital letter.

    Accepts the forms references come in: ``"B"``, ``"b"``, ``" (B) "``, ``"B."``,
    ``"Option B"``, full-width ``"Ｂ"``, or an int index counted from 0 (MMLU's
    ``answer`` column, PIQA's label file: ``1 -> "B"``). A digit *string* is refused
    because it is ambiguous between 0- and 1-based numbering; convert it with ``int``
    knowing which the source uses.

    Args:
        value: the label or 0-based index.
        labels: the valid labels, e.g. ``"ABCD"``.

    Returns:
        The label as one capital letter from ``labels``.

    Raises:
        ValueError: the value is not one of the labels, or the index is out of range.
    """
    labs = check_labels(labels)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is a bool, not a label or index")
    if isinstance(value, int):
        if not 0 <= value < len(labs):
            raise ValueError(f"index {value} is out of range for labels {labs!r} (0-based)")
        return labs[value]
    if not isinstance(value, str):
        raise ValueError(f"expected a label string or int index, got {type(value).__name__}")
    folded = "".join(chr(ord(ch) - 0xFEE0) if "\uff01" <= ch <= "\uff5e" else ch for ch in value)
    m = _LABEL_TEXT.fullmatch(folded.strip())
    if m is None or m.group(1).upper() not in labs:
        raise ValueError(f"{value!r} is not one of the labels {labs!r}")
    return m.group(1).upper()


def labels_equal(a: str | int | None, b: str | int | None, labels: str = "ABCD") -> bool:
    """Whether two multiple-choice answers name the same option.

    Args:
        a: the extracted label, or None when there was none.
        b: the reference label or 0-based index, or None.
        labels: the valid labels.

    Returns:
        True when both normalise to the same label; False when either is None.

    Raises:
        ValueError: a value is not a valid label (see :func:`normalize_label`).
    """
    if a is None or b is None:
        return False
    return normalize_label(a, labels) == normalize_label(b, labels)

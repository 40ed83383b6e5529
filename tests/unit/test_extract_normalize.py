"""Table-driven tests of the answer normalisers in benchgate.scoring.normalize."""

from __future__ import annotations

from decimal import Decimal

import pytest

from benchgate.scoring.normalize import (
    canonical_number,
    finqa_equal,
    labels_equal,
    normalize_label,
    numbers_equal,
    parse_number,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("42", "42"),
        ("-7", "-7"),
        ("1,250.50", "1250.5"),
        ("$1,250.50", "1250.5"),
        ("-0", "0"),
        ("-0.000", "0"),
        ("0.250", "0.25"),
        (".25", "0.25"),
        ("18.", "18"),
        ("1e3", "1000"),
        ("1E-3", "0.001"),
        ("12%", "12"),
        ("3/4", "0.75"),
        ("-3/4", "-0.75"),
        ("1/3", "0.3333333333"),
        ("2/3", "0.6666666667"),
        ("1/1024", "0.0009765625"),
        ("\u22125", "-5"),
        (" +4 ", "4"),
        (18, "18"),
        (-0.0, "0"),
        (0.1, "0.1"),
        (2.50, "2.5"),
        (Decimal("100.00"), "100"),
        (10**20, "100000000000000000000"),
        (str(10**30) + "/3", "333333333333333333333333333333.3333333333"),
    ],
)
def test_canonical_number(value: object, expected: str) -> None:
    assert canonical_number(value) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("value", ["", "abc", "1,25", "1 2", "1/0", "12.5.3", "--5", "NaN"])
def test_parse_number_rejects(value: str) -> None:
    with pytest.raises(ValueError):
        parse_number(value)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), True, Decimal("NaN")])
def test_parse_number_rejects_non_finite_and_bool(value: object) -> None:
    with pytest.raises(ValueError):
        parse_number(value)  # type: ignore[arg-type]


def test_parse_number_rejects_other_types() -> None:
    with pytest.raises(TypeError, match="expected str, int, float or Decimal"):
        parse_number([1])  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "kwargs", "expected"),
    [
        ("18", "18", {}, True),
        ("18", "18.000", {}, True),
        ("18", 18.0, {}, True),
        ("1250.5", "1,250.50", {}, True),
        ("0.3333333333", "1/3", {}, True),
        ("0.3333333333", "0.333333333333", {}, True),
        ("1000000", "1000001", {}, False),
        ("99999999", "100000000", {}, False),
        ("18", "19", {}, False),
        ("0.1", 0.1, {}, True),
        ("100", "101", {"rel_tol": 0.02}, True),
        ("100", "101", {"rel_tol": 0.005}, False),
        ("0", "0.0000000001", {}, True),
        ("0", "0.001", {}, False),
        ("0", "0.001", {"abs_tol": 0.01}, True),
        ("18", "18.0000001", {"rel_tol": 0, "abs_tol": 0}, False),
        (None, "18", {}, False),
        ("18", None, {}, False),
        ("-7", "-7", {}, True),
        ("-7", "7", {}, False),
    ],
)
def test_numbers_equal(a: object, b: object, kwargs: dict, expected: bool) -> None:
    assert numbers_equal(a, b, **kwargs) is expected  # type: ignore[arg-type]


def test_numbers_equal_rejects_negative_tolerance() -> None:
    with pytest.raises(ValueError, match="tolerances must be >= 0"):
        numbers_equal("1", "1", rel_tol=-1)


def test_numbers_equal_rejects_non_number() -> None:
    with pytest.raises(ValueError, match="'eighteen' is not a single number"):
        numbers_equal("18", "eighteen")


@pytest.mark.parametrize(
    ("predicted", "reference", "kwargs", "expected"),
    [
        # percent scale, both directions
        ("12", "12%", {}, True),
        ("0.12", "12%", {}, True),
        ("12", "0.12", {}, True),
        ("0.12", 0.12, {}, True),
        ("12", 0.12, {}, True),
        ("0.12", "12%", {"percent_scale": False}, False),
        # rounding of the written reference: 14.1% accepts 14.05 .. 14.15
        ("14.06", "14.1%", {"rel_tol": 0}, True),
        ("0.1406", "14.1%", {"rel_tol": 0}, True),
        ("14.2", "14.1%", {"rel_tol": 0}, False),
        ("14", "14.1%", {"rel_tol": 0}, False),
        ("93.7", "94%", {"rel_tol": 0}, True),
        # relative tolerance against a full-precision exe_ans
        ("14.06", 0.14058, {}, True),
        ("14.5", 0.14058, {}, False),
        ("2.12", "2.1", {}, True),
        ("2.2", "2.1", {}, False),
        ("-0.02", "-2%", {}, True),
        ("0.02", "-2%", {}, False),
        ("1234", "1,234", {}, True),
        # scale words are not applied
        ("1200000", "1.2", {}, False),
        (None, "12%", {}, False),
        ("12", None, {}, False),
    ],
)
def test_finqa_equal(predicted: object, reference: object, kwargs: dict, expected: bool) -> None:
    assert finqa_equal(predicted, reference, **kwargs) is expected  # type: ignore[arg-type]


def test_finqa_equal_rejects_negative_tolerance() -> None:
    with pytest.raises(ValueError, match="rel_tol must be >= 0"):
        finqa_equal("1", "1", rel_tol=-0.1)


@pytest.mark.parametrize(
    ("value", "labels", "expected"),
    [
        ("B", "ABCD", "B"),
        ("b", "ABCD", "B"),
        (" (B) ", "ABCD", "B"),
        ("B.", "ABCD", "B"),
        ("B)", "ABCD", "B"),
        ("Option B", "ABCD", "B"),
        ("[C]", "ABCD", "C"),
        ("\uff22", "ABCD", "B"),
        (0, "ABCD", "A"),
        (1, "AB", "B"),
        ("E", "ABCDE", "E"),
    ],
)
def test_normalize_label(value: object, labels: str, expected: str) -> None:
    assert normalize_label(value, labels) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("value", "labels", "match"),
    [
        ("E", "ABCD", "not one of the labels"),
        ("1", "ABCD", "not one of the labels"),
        ("AB", "ABCD", "not one of the labels"),
        (4, "ABCD", "out of range"),
        (-1, "ABCD", "out of range"),
        (True, "ABCD", "bool"),
        ("A", "A1", "distinct ASCII letters"),
        ("A", "", "non-empty"),
    ],
)
def test_normalize_label_rejects(value: object, labels: str, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        normalize_label(value, labels)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [("B", 1, True), ("B", "b", True), ("B", "C", False), (None, "B", False), ("B", None, False)],
)
def test_labels_equal(a: object, b: object, expected: bool) -> None:
    assert labels_equal(a, b) is expected  # type: ignore[arg-type]

"""Small file readers shared by the loaders of SciQ, FinQA, PIQA, MGSM and C-Eval.

Each raises :class:`~benchgate.errors.DataUnavailableError` for a missing file and
:class:`~benchgate.errors.DataFormatError` naming the file (and line) for a malformed one.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from benchgate.errors import DataFormatError, DataUnavailableError


def read_json_array(path: Path, fix: str) -> list[dict[str, Any]]:
    """Read a JSON file holding one array of objects (SciQ's and FinQA's layout).

    Args:
        path: the file.
        fix: how to restore the file, appended to error messages.

    Returns:
        The objects, in file order.

    Raises:
        DataUnavailableError: the file is missing.
        DataFormatError: not JSON (line and column named; a cut-off file is reported as
            truncated), not an array, or an element that is not an object (index named).
    """
    if not path.is_file():
        raise DataUnavailableError(f"{path} not found. Fix: {fix}.")
    text = path.read_text(encoding="utf-8")
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        truncated = exc.pos >= len(text.rstrip()) - 1
        what = (
            "truncated (the file ends mid-record)" if truncated else f"not valid JSON ({exc.msg})"
        )
        raise DataFormatError(
            f"{path}, line {exc.lineno}, column {exc.colno}: {what}. Fix: {fix}."
        ) from None
    if not isinstance(data, list):
        raise DataFormatError(
            f"{path}: expected a JSON array of items, got {type(data).__name__}. Fix: {fix}."
        )
    for index, row in enumerate(data):
        if not isinstance(row, dict):
            raise DataFormatError(
                f"{path}, item {index + 1}: expected a JSON object, got {type(row).__name__}. "
                f"Fix: {fix}."
            )
    return data


def read_text_lines(path: Path, fix: str) -> list[str]:
    """Read a UTF-8 text file as lines (without newlines); a final newline adds no line.

    Raises:
        DataUnavailableError: the file is missing.
        DataFormatError: not UTF-8.
    """
    if not path.is_file():
        raise DataUnavailableError(f"{path} not found. Fix: {fix}.")
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise DataFormatError(f"{path}: not UTF-8 text ({exc}). Fix: {fix}.") from None
    lines = text.replace("\r\n", "\n").split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines


def read_csv_dicts(path: Path, expected: list[str], fix: str) -> list[tuple[int, dict[str, str]]]:
    """Read a CSV file with a header row into (row number, row dict) pairs.

    Args:
        path: the file.
        expected: the columns the header must start with (extra columns are allowed).
        fix: how to restore the file.

    Returns:
        ``(row number counted from 1 = header, {column: value})`` for each data row.

    Raises:
        DataUnavailableError: the file is missing.
        DataFormatError: not UTF-8 CSV, a different header, or a row with a different
            number of fields (often a truncated file).
    """
    if not path.is_file():
        raise DataUnavailableError(f"{path} not found. Fix: {fix}.")
    try:
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.reader(fh))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DataFormatError(f"{path}: not a UTF-8 CSV file ({exc}). Fix: {fix}.") from None
    if not rows:
        raise DataFormatError(f"{path}: empty file. Fix: {fix}.")
    header = [h.strip().lstrip("\ufeff") for h in rows[0]]
    if header[: len(expected)] != expected:
        raise DataFormatError(
            f"{path}, row 1: header is {header}, expected it to start with {expected}. Fix: {fix}."
        )
    out = []
    for number, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != len(header):
            raise DataFormatError(
                f"{path}, row {number}: {len(row)} fields, expected {len(header)} "
                f"({', '.join(header)}); the file may be truncated. Fix: {fix}."
            )
        out.append((number, dict(zip(header, row, strict=False))))
    return out

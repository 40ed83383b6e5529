"""Dataset files under bad input (issues 2 and 7), through the real GSM8K and MMLU loaders.

A truncated file, a bad row or the wrong columns must raise one
:class:`~benchgate.errors.DataFormatError` naming the file, the line or row, the field
where there is one, and the fix; missing data raises
:class:`~benchgate.errors.DataUnavailableError` (the plugin skips the benchmark once with
it). The malformed files are ours (``fixtures/bad/data``); the real-data cases cut a copy of
the real file in a tmp dir and skip when ``../shared/data`` is absent. Whole-session
versions are in ``tests/reliability/test_faults.py``.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from benchgate.benchmarks.gsm8k import load_gsm8k
from benchgate.benchmarks.mmlu import load_mmlu
from benchgate.data.sources import DataSource
from benchgate.errors import DataFormatError, DataUnavailableError

REPO = Path(__file__).resolve().parents[2]
BAD = REPO / "fixtures" / "bad" / "data"
DATA = REPO.parent / "shared" / "data"  # CI's data dir: ../shared/data next to the repo


def _snapshot() -> dict:
    state: dict = {"top": sorted(os.listdir(REPO))}
    roots = [REPO / "fixtures" / "bad", DATA / "gsm8k", DATA / "mmlu"]
    for root in roots:
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            st = path.lstat()
            state[str(path)] = (st.st_size, st.st_mtime_ns)
    return state


@pytest.fixture(autouse=True)
def _nothing_outside_tmp_changes():
    before = _snapshot()
    yield
    assert _snapshot() == before, "a test changed files outside its tmp dir"


def _in_order(message: str, fragments: list[str]) -> None:
    position = 0
    for fragment in fragments:
        found = message.find(fragment, position)
        assert found >= 0, f"{fragment!r} missing (in order) from: {message}"
        position = found + len(fragment)


def _gsm8k_dir(tmp_path: Path, source: Path) -> Path:
    (tmp_path / "gsm8k").mkdir()
    shutil.copy(source, tmp_path / "gsm8k" / "test.jsonl")
    return tmp_path / "gsm8k" / "test.jsonl"


GSM8K_BAD = [
    ("truncated.jsonl", ["line 4: truncated (the file ends mid-record)"]),
    ("truncated_utf8.jsonl", ["line 3: truncated (the file ends mid-character)"]),
    ("bad_row.jsonl", ["line 2: not valid JSON (Expecting property name"]),
    ("wrong_columns.jsonl", ["line 1: missing field 'question' (has problem, solution)"]),
    ("no_final_answer.jsonl", ["line 3: field 'answer' has no final '#### <number>' line"]),
    ("empty.jsonl", [": no records (the file is empty; truncated?)"]),
]


@pytest.mark.parametrize("name,fragments", GSM8K_BAD, ids=[n for n, _ in GSM8K_BAD])
def test_bad_gsm8k_file_names_file_line_field_and_fix(tmp_path, name, fragments):
    target = _gsm8k_dir(tmp_path, BAD / "gsm8k" / name)
    with pytest.raises(DataFormatError) as info:
        load_gsm8k(DataSource(data_dir=tmp_path))
    message = str(info.value)
    assert len(message.splitlines()) == 1
    _in_order(message, [str(target), *fragments, "Fix: "])


MMLU_BAD = [
    ("truncated_test.csv", ["row 4: 1 columns, expected 6", "the file may be truncated"]),
    ("bad_row_test.csv", ["row 4, field 'answer': 'E' is neither 0-3 nor A-D"]),
    (
        "wrong_columns_test.csv",
        [
            "row 1: header is ['question', 'A', 'B', 'C', 'D', 'answer']",
            "expected ['question', 'choice0'",
        ],
    ),
    ("short_row_test.csv", ["row 3: 4 columns, expected 6"]),
]


@pytest.mark.parametrize("name,fragments", MMLU_BAD, ids=[n for n, _ in MMLU_BAD])
def test_bad_mmlu_file_names_file_row_field_and_fix(tmp_path, name, fragments):
    (tmp_path / "mmlu" / "test").mkdir(parents=True)
    target = tmp_path / "mmlu" / "test" / "science_test.csv"
    shutil.copy(BAD / "mmlu" / name, target)
    with pytest.raises(DataFormatError) as info:
        load_mmlu(DataSource(data_dir=tmp_path))
    message = str(info.value)
    assert len(message.splitlines()) == 1
    _in_order(message, [str(target), *fragments, "Fix: "])


def test_every_bad_data_fixture_is_covered():
    assert {p.name for p in (BAD / "gsm8k").iterdir()} == {n for n, _ in GSM8K_BAD}
    assert {p.name for p in (BAD / "mmlu").iterdir()} == {n for n, _ in MMLU_BAD}


def test_a_dev_file_is_checked_like_a_test_file(tmp_path):
    (tmp_path / "mmlu" / "test").mkdir(parents=True)
    (tmp_path / "mmlu" / "dev").mkdir()
    good = "question,choice0,choice1,choice2,choice3,answer\nWhat is 2+2?,3,4,5,6,1\n"
    (tmp_path / "mmlu" / "test" / "math_test.csv").write_text(good, encoding="utf-8")
    shutil.copy(BAD / "mmlu" / "bad_row_test.csv", tmp_path / "mmlu" / "dev" / "math_dev.csv")
    with pytest.raises(DataFormatError, match=r"math_dev\.csv, row 4, field 'answer'"):
        load_mmlu(DataSource(data_dir=tmp_path))


def test_missing_data_is_unavailable_with_the_fix_not_a_format_error(tmp_path):
    with pytest.raises(DataUnavailableError) as info:
        load_gsm8k(DataSource(data_dir=tmp_path))
    _in_order(
        str(info.value),
        [str(tmp_path / "gsm8k"), "does not exist", "Fix: point --data-dir", "'gsm8k/' folder"],
    )
    (tmp_path / "gsm8k").mkdir()
    with pytest.raises(
        DataUnavailableError, match=r"test\.jsonl not found\. Fix: check --data-dir"
    ):
        load_gsm8k(DataSource(data_dir=tmp_path))
    (tmp_path / "mmlu" / "test").mkdir(parents=True)
    with pytest.raises(DataUnavailableError, match=r"holds no <subject>_test\.csv files\. Fix: "):
        load_mmlu(DataSource(data_dir=tmp_path))


needs_data = pytest.mark.skipif(
    not (DATA / "gsm8k" / "test.jsonl").is_file(),
    reason=f"real data not found at {DATA} (CI keeps it in ../shared/data)",
)


@needs_data
def test_the_real_gsm8k_file_cut_mid_record_is_reported_truncated(tmp_path):
    blob = (DATA / "gsm8k" / "test.jsonl").read_bytes()
    lines = blob.split(b"\n")
    (tmp_path / "gsm8k").mkdir()
    (tmp_path / "gsm8k" / "test.jsonl").write_bytes(
        b"\n".join(lines[:5]) + b"\n" + lines[5][: len(lines[5]) // 2]
    )
    with pytest.raises(
        DataFormatError, match=r"test\.jsonl, line 6: truncated \(the file ends mid-record\)"
    ):
        load_gsm8k(DataSource(data_dir=tmp_path))
    assert len(load_gsm8k(DataSource(data_dir=DATA))) == 1319  # the real file itself is fine


@needs_data
def test_a_real_mmlu_file_cut_mid_row_is_reported_with_its_row(tmp_path):
    source = DATA / "mmlu" / "test" / "abstract_algebra_test.csv"
    text = source.read_text(encoding="utf-8")
    cut = text.index("\n", len(text) // 2)  # the end of a row near the middle...
    cut = text.rindex(",", 0, cut)  # ...minus its answer column
    (tmp_path / "mmlu" / "test").mkdir(parents=True)
    (tmp_path / "mmlu" / "test" / "abstract_algebra_test.csv").write_text(
        text[:cut], encoding="utf-8"
    )
    with pytest.raises(DataFormatError) as info:
        load_mmlu(DataSource(data_dir=tmp_path))
    _in_order(
        str(info.value),
        ["abstract_algebra_test.csv, row ", ": 5 columns, expected 6", "may be truncated", "Fix: "],
    )

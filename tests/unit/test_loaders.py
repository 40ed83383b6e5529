"""Loaders of SciQ, PIQA, MedQA, C-Eval, LegalQA, MGSM, FinQA and DialogSum.

Three groups:

* the real files in ``../shared/data`` (skipped when absent): item counts from its
  SOURCES.md, unique, stable and pytest-safe ids, references checked against the raw files
  parsed independently here;
* the hub code paths, offline: a stand-in ``hub_loader`` reads rows written in each hub
  repository's schema from ``fixtures/hub/`` and records how it was called;
* malformed files: each gives DataFormatError / DataUnavailableError naming the file, the
  line or item, the field and the fix.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from pathlib import Path

import pytest

from benchgate.benchmarks.ceval import SUBJECTS, load_ceval
from benchgate.benchmarks.dialogsum import load_dialogsum
from benchgate.benchmarks.finqa import load_finqa
from benchgate.benchmarks.legalqa import STAND_IN, load_legalqa
from benchgate.benchmarks.medqa import load_medqa, normalize_step
from benchgate.benchmarks.mgsm import LANGUAGES, load_mgsm
from benchgate.benchmarks.piqa import load_piqa
from benchgate.benchmarks.sciq import load_sciq
from benchgate.data.sources import DataSource, dataset_hash
from benchgate.errors import DataFormatError, DataUnavailableError

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
FIXTURES = REPO / "fixtures"
HUB = FIXTURES / "hub"
SAFE_ID = re.compile(r"^[0-9A-Za-z_.-]+$")

needs_data = pytest.mark.skipif(
    not (DATA / "SOURCES.md").is_file(), reason=f"no benchmark data at {DATA}"
)
LOCAL = DataSource(data_dir=DATA)


def _ceval_items(source):
    return load_ceval(source)[0]


def _legalqa_items(source):
    return load_legalqa(source)[0]


# (name, loader returning items, item count from shared/data/SOURCES.md)
REAL = [
    ("sciq", load_sciq, 1000),
    ("piqa", load_piqa, 1838),
    ("medqa", load_medqa, 1273),
    ("ceval", _ceval_items, 1346),
    ("legalqa", _legalqa_items, 1534 + 108 + 121),
    ("mgsm", load_mgsm, 11 * 250),
    ("dialogsum", load_dialogsum, 500),
]


@pytest.fixture(scope="module")
def real():
    """Every real benchmark loaded once for the module: name -> items."""
    return {name: loader(LOCAL) for name, loader, _ in REAL}


# --------------------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------------------


@needs_data
@pytest.mark.parametrize(("name", "count"), [(n, c) for n, _, c in REAL])
def test_real_counts_and_ids(real, name, count):
    items = real[name]
    assert len(items) == count
    ids = [i.id for i in items]
    assert len(set(ids)) == len(ids)
    assert all(SAFE_ID.match(i) for i in ids), [i for i in ids if not SAFE_ID.match(i)][:5]
    assert {i.benchmark for i in items} == {name}


@needs_data
@pytest.mark.parametrize(("name", "loader"), [(n, fn) for n, fn, _ in REAL])
def test_real_ids_and_hash_are_stable(real, name, loader):
    again = loader(LOCAL)
    assert [i.id for i in again] == [i.id for i in real[name]]
    assert dataset_hash(again) == dataset_hash(real[name])


@needs_data
def test_sciq_references_match_the_file():
    raw = {
        r["id"]: r
        for r in json.loads((DATA / "sciq" / "sciq_test.json").read_text(encoding="utf-8"))
    }
    items = load_sciq(LOCAL)
    for item in items:
        row = raw[item.id]
        chosen = item.input["choices"]["ABCD".index(item.reference)]
        assert chosen == row["correct_answer"].strip()
        # Every option text of the source is offered once (repeats shown once).
        # (U+200B, which some distractors carry, is stripped)
        texts = {
            row[k].replace("\u200b", "").strip().casefold()
            for k in ("correct_answer", "distractor1", "distractor2", "distractor3")
        }
        assert {c.casefold() for c in item.input["choices"]} == texts
    positions = Counter(i.reference for i in items)
    assert set(positions) == set("ABCD") and all(
        200 <= n <= 300 for n in positions.values()
    ), positions
    by_id = {i.id: i for i in items}
    assert (
        by_id["sciq_test_1"].input["choices"][ord(by_id["sciq_test_1"].reference) - 65]
        == "oxidants"
    )
    # The two items whose distractor repeats the correct answer keep one right option.
    assert by_id["sciq_test_719"].input["choices"].count("evaporation") == 1
    assert len(by_id["sciq_test_885"].input["choices"]) == 3
    assert sum(len(i.input["choices"]) == 3 for i in items) == 9


@needs_data
def test_piqa_references_match_the_files():
    rows = [json.loads(line) for line in (DATA / "piqa" / "valid.jsonl").read_text().splitlines()]
    labels = (DATA / "piqa" / "valid-labels.lst").read_text().split()
    items = load_piqa(LOCAL)
    for item, row, label in zip(items, rows, labels, strict=True):
        assert item.input["choices"] == [row["sol1"].strip(), row["sol2"].strip()]
        assert item.reference == "AB"[int(label)]
    assert Counter(i.reference for i in items) == {"A": 910, "B": 928}


@needs_data
def test_medqa_references_and_steps():
    rows = [
        json.loads(line)
        for line in (DATA / "medqa" / "phrases_no_exclude_test.jsonl")
        .read_text(encoding="utf-8")
        .splitlines()
    ]
    items = load_medqa(LOCAL)
    for item, row in zip(items, rows, strict=True):
        assert item.input["choices"]["ABCD".index(item.reference)] == row["answer"].strip()
    # line 72's typo "stfep2&3" is normalised
    assert Counter(i.subject for i in items) == {"step1": 679, "step2&3": 594}
    assert items[71].subject == "step2&3"


@needs_data
def test_ceval_ids_subjects_and_dev():
    items, dev = load_ceval(LOCAL)
    assert len({i.subject for i in items}) == 52 == len(SUBJECTS)
    assert sum(len(v) for v in dev.values()) == 260 and all(len(v) == 5 for v in dev.values())
    with (DATA / "ceval" / "val" / "law_val.csv").open(encoding="utf-8", newline="") as fh:
        first = next(csv.DictReader(fh))
    law0 = next(i for i in items if i.id == "law-0")
    assert law0.reference == first["answer"] and law0.input["question"] == first["question"]
    assert law0.input["subject_zh"] == "法学" and law0.input["category"] == "Humanities"
    assert all(i.reference in "ABCD" for i in items)


@needs_data
def test_legalqa_stand_in():
    items, dev, is_stand_in = load_legalqa(LOCAL)
    assert is_stand_in
    assert Counter(i.subject for i in items) == {
        "professional_law": 1534,
        "jurisprudence": 108,
        "international_law": 121,
    }
    assert sum(len(v) for v in dev.values()) == 15
    assert all(i.reference in "ABCD" and len(i.input["choices"]) == 4 for i in items)
    assert "stand-in" in STAND_IN and "LegalQA" in STAND_IN and "MMLU" in STAND_IN


@needs_data
def test_mgsm_languages_correspond_line_by_line():
    items = load_mgsm(LOCAL)
    assert Counter(i.subject for i in items) == dict.fromkeys(LANGUAGES, 250)
    by_id = {i.id: i for i in items}
    assert by_id["en-1"].reference == "18" and by_id["zh-1"].reference == "18"
    for n in range(1, 251):
        assert len({by_id[f"{lang}-{n}"].reference for lang in LANGUAGES}) == 1
    # thousands commas in the source ("2,125") are read as thousands
    assert "2125" in {i.reference for i in items}
    assert all(re.fullmatch(r"-?\d+(\.\d+)?", i.reference) for i in items)


@needs_data
def test_dialogsum_ids_and_references():
    items = load_dialogsum(LOCAL)
    assert [i.id for i in items[:2]] == ["test_0", "test_1"]
    assert all(len(i.reference) == 3 and all(i.reference) for i in items)
    assert items[0].input["dialogue"].startswith("#Person1#:")


@needs_data
def test_finqa_absent_from_shared_data_is_unavailable():
    with pytest.raises(DataUnavailableError, match=r"finqa.*Fix: save dataset/test.json"):
        load_finqa(LOCAL)


# --------------------------------------------------------------------------------------
# FinQA fixture items (official test.json format)
# --------------------------------------------------------------------------------------


def test_finqa_fixture_items():
    items = load_finqa(DataSource(data_dir=FIXTURES))
    assert [i.id for i in items] == [
        "BENCHGATE_2009_page_12.pdf-1",
        "BENCHGATE_2010_page_40.pdf-2",
        "BENCHGATE_2010_page_22.pdf-3",
        "BENCHGATE_2011_page_61.pdf-1",
        "BENCHGATE_2012_page_33.pdf-2",
    ]
    assert [i.reference for i in items] == ["14.1%", "380", "yes", "0.35", "-12.5"]
    assert [i.input["exe_ans"] for i in items] == ["0.14116", "380", None, "0.35", "-12.5"]
    assert items[0].input["source_id"] == "BENCHGATE/2009/page_12.pdf-1"
    assert items[0].input["table"][3] == ["net revenue", "$ 1200.5", "$ 1052.0"]


# --------------------------------------------------------------------------------------
# Hub code paths with a local stand-in loader
# --------------------------------------------------------------------------------------


class FakeHub:
    """Stand-in for ``datasets.load_dataset``: rows from ``fixtures/hub/<owner>__<name>/
    <config>/<split>.jsonl``; records every call. ``missing_ok`` returns no rows for a
    config without a file (C-Eval's 52 configs), otherwise a missing file raises."""

    def __init__(self, missing_ok: bool = False, fail: Exception | None = None) -> None:
        self.calls: list[tuple] = []
        self.missing_ok = missing_ok
        self.fail = fail

    def __call__(self, repo, revision=None, name=None, split=None):
        self.calls.append((repo, revision, name, split))
        if self.fail is not None:
            raise self.fail
        path = HUB / repo.replace("/", "__") / (name or "default") / f"{split}.jsonl"
        if not path.is_file():
            if self.missing_ok:
                return []
            raise FileNotFoundError(f"{repo}: no config {name!r} split {split!r}")
        return [
            json.loads(line)
            for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]


def hub(**kw) -> tuple[DataSource, FakeHub]:
    fake = FakeHub(**kw)
    return DataSource(data_dir=None, hub_loader=fake), fake


def test_sciq_hub():
    from benchgate.benchmarks.sciq import HUB_REPO, HUB_REVISION

    source, fake = hub()
    items = load_sciq(source)
    assert fake.calls == [(HUB_REPO, HUB_REVISION, None, "test")]
    assert len(items) == 3 and all(re.fullmatch(r"[0-9a-f]{10}", i.id) for i in items)
    first = items[0]
    assert "helium" in first.input["choices"]  # the trailing U+200B is stripped
    assert first.input["choices"]["ABCD".index(first.reference)] == "carbon dioxide"
    assert items[1].input["support"] == ""
    assert sorted(items[2].input["choices"]) == ["joule", "newton", "watt"]  # repeat shown once


def test_piqa_hub():
    from benchgate.benchmarks.piqa import HUB_REPO, HUB_REVISION

    source, fake = hub()
    items = load_piqa(source)
    assert fake.calls == [(HUB_REPO, HUB_REVISION, "plain_text", "validation")]
    assert [i.reference for i in items] == ["A", "B"]
    assert items[1].input["choices"][1].startswith("Run the lid under hot water")


def test_medqa_hub():
    from benchgate.benchmarks.medqa import HUB_REPO, HUB_REVISION

    source, fake = hub()
    items = load_medqa(source)
    assert fake.calls == [(HUB_REPO, HUB_REVISION, None, "test")]
    assert [(i.reference, i.subject) for i in items] == [("B", "step1"), ("C", "step2&3")]


def test_ceval_hub():
    from benchgate.benchmarks.ceval import HUB_REPO, HUB_REVISION

    source, fake = hub(missing_ok=True)
    items, dev = load_ceval(source)
    assert [i.id for i in items] == ["computer_network-0", "computer_network-1", "law-0"]
    assert [i.reference for i in items] == ["B", "B", "C"]
    assert dev["law"] == [
        ("法律的制定机关通常是____。", ["法院", "立法机关", "检察院", "公安机关"], "B")
    ]
    assert len(fake.calls) == 2 * len(SUBJECTS)
    assert {c[:2] for c in fake.calls} == {(HUB_REPO, HUB_REVISION)}
    assert {c[3] for c in fake.calls} == {"val", "dev"}


def test_ceval_hub_with_no_rows_is_an_error():
    empty = DataSource(data_dir=None, hub_loader=lambda *a, **k: [])
    with pytest.raises(DataFormatError, match="no val rows"):
        load_ceval(empty)


def test_mgsm_hub():
    from benchgate.benchmarks.mgsm import HUB_REPO, HUB_REVISION

    source, fake = hub()
    items = load_mgsm(source, languages=("en", "de"))
    assert [i.id for i in items] == ["en-1", "en-2", "de-1", "de-2"]
    assert [i.reference for i in items] == ["10", "2500", "10", "2500"]
    assert fake.calls == [
        (HUB_REPO, HUB_REVISION, "en", "test"),
        (HUB_REPO, HUB_REVISION, "de", "test"),
    ]


def test_mgsm_hub_missing_language_is_unavailable():
    source, _ = hub()  # the fixtures hold only en and de
    with pytest.raises(DataUnavailableError, match=r"juletxara/mgsm.*Fix"):
        load_mgsm(source)


def test_legalqa_real_set_from_hub_when_no_local_folder(tmp_path):
    from benchgate.benchmarks.legalqa import HUB_REPO, HUB_REVISION

    fake = FakeHub()
    items, dev, is_stand_in = load_legalqa(DataSource(data_dir=tmp_path, hub_loader=fake))
    assert not is_stand_in and dev == {}
    assert fake.calls == [(HUB_REPO, HUB_REVISION, None, "test")]
    assert len(items) == 2 and items[0].subject is None
    assert items[0].reference.startswith("In most jurisdictions a landlord must return")
    assert "choices" not in items[0].input and items[0].input["question"].startswith("My landlord")


def test_legalqa_neither_source_names_both_reasons(tmp_path):
    source = DataSource(data_dir=tmp_path, hub_loader=FakeHub(fail=ConnectionError("offline")))
    with pytest.raises(DataUnavailableError) as info:
        load_legalqa(source)
    message = str(info.value)
    assert f"{tmp_path / 'legalqa'} does not exist" in message
    assert "jonathanli/law_qa_eval" in message and "offline" in message


def test_finqa_hub():
    from benchgate.benchmarks.finqa import HUB_REPO, HUB_REVISION

    source, fake = hub()
    items = load_finqa(source)
    assert fake.calls == [(HUB_REPO, HUB_REVISION, None, "test")]
    assert [i.id for i in items] == ["HUBCO_2010_page_5.pdf-1", "HUBCO_2010_page_9.pdf-2"]
    assert [i.reference for i in items] == ["25%", "450"]
    assert items[0].input["table"][1] == ["revenue", "$ 125", "$ 100"]


def test_finqa_hub_unreachable_is_unavailable_and_says_where_to_get_the_data():
    source = DataSource(data_dir=None, hub_loader=FakeHub(fail=ConnectionError("refused")))
    with pytest.raises(DataUnavailableError) as info:
        load_finqa(source)
    message = str(info.value)
    assert message.startswith(
        "FinQA: no --data-dir was given, and could not load dreamerdeo/finqa (revision "
        "refs/convert/parquet) from the Hugging Face hub (no network): ConnectionError: refused. "
        "Fix: save dataset/test.json from FinQA's official repository "
        "https://github.com/czyssrs/FinQA as DIR/finqa/test.json and pass --data-dir DIR"
    )
    assert message.count("Fix:") == 1


def test_finqa_hub_failing_for_another_reason_propagates():
    source = DataSource(data_dir=None, hub_loader=FakeHub(fail=OSError("disk I/O error")))
    with pytest.raises(OSError, match="disk I/O error"):
        load_finqa(source)


@pytest.mark.parametrize("make", ["nothing", "folder", "other file"])
def test_finqa_missing_file_says_where_to_get_it_and_where_it_goes(tmp_path, make):
    if make != "nothing":
        (tmp_path / "finqa").mkdir()
    if make == "other file":
        (tmp_path / "finqa" / "dev.json").write_text("[]")
    with pytest.raises(DataUnavailableError) as info:
        load_finqa(DataSource(data_dir=tmp_path))
    message = str(info.value)
    what = "does not exist" if make == "nothing" else "holds no test.json"
    assert message.startswith(f"FinQA: {tmp_path / 'finqa'} {what} (FinQA is not in shared/data).")
    for fragment in (
        "https://github.com/czyssrs/FinQA",
        "0f16e2867befa6840783e58be38c9efb9229d742/dataset/test.json",
        "as DIR/finqa/test.json",
        "pass --data-dir DIR (or set BENCHGATE_DATA_DIR=DIR)",
    ):
        assert fragment in message


def test_dialogsum_needs_a_data_dir():
    with pytest.raises(DataUnavailableError, match="--data-dir"):
        load_dialogsum(DataSource(data_dir=None))


# --------------------------------------------------------------------------------------
# Missing and malformed files
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("loader", "folder"),
    [
        (load_sciq, "sciq"),
        (load_piqa, "piqa"),
        (load_medqa, "medqa"),
        (load_ceval, "ceval"),
        (load_mgsm, "mgsm"),
        (load_dialogsum, "dialogsum"),
        (load_finqa, "finqa"),
    ],
)
def test_missing_folder_is_unavailable(tmp_path, loader, folder):
    with pytest.raises(DataUnavailableError, match=rf"{folder}.*does not exist.*Fix"):
        loader(DataSource(data_dir=tmp_path))


def write(tmp_path: Path, rel: str, text: str) -> Path:
    path = tmp_path / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


SCIQ_ROW = {
    "id": "sciq_test_1",
    "question": "Q?",
    "correct_answer": "a",
    "distractor1": "b",
    "distractor2": "c",
    "distractor3": "d",
    "support": "",
}


def test_sciq_truncated_file(tmp_path):
    text = json.dumps([SCIQ_ROW, SCIQ_ROW], indent=1)
    write(tmp_path, "sciq/sciq_test.json", text[: len(text) // 2])
    with pytest.raises(DataFormatError, match=r"sciq_test\.json, line \d+, column \d+: truncated"):
        load_sciq(DataSource(data_dir=tmp_path))


def test_sciq_missing_field(tmp_path):
    row = {k: v for k, v in SCIQ_ROW.items() if k != "distractor2"}
    write(tmp_path, "sciq/sciq_test.json", json.dumps([SCIQ_ROW, row]))
    with pytest.raises(
        DataFormatError, match=r"sciq_test\.json, item 2: missing field 'distractor2'"
    ):
        load_sciq(DataSource(data_dir=tmp_path))


def test_sciq_not_an_array(tmp_path):
    write(tmp_path, "sciq/sciq_test.json", json.dumps(SCIQ_ROW))
    with pytest.raises(DataFormatError, match="expected a JSON array"):
        load_sciq(DataSource(data_dir=tmp_path))


def test_piqa_labels_misaligned(tmp_path):
    row = json.dumps({"goal": "g", "sol1": "x", "sol2": "y"})
    write(tmp_path, "piqa/valid.jsonl", f"{row}\n{row}\n")
    write(tmp_path, "piqa/valid-labels.lst", "0\n")
    with pytest.raises(
        DataFormatError, match=r"valid-labels\.lst: 1 labels for 2 items.*line by line"
    ):
        load_piqa(DataSource(data_dir=tmp_path))


def test_piqa_bad_label(tmp_path):
    row = json.dumps({"goal": "g", "sol1": "x", "sol2": "y"})
    write(tmp_path, "piqa/valid.jsonl", f"{row}\n{row}\n")
    write(tmp_path, "piqa/valid-labels.lst", "0\n2\n")
    with pytest.raises(DataFormatError, match=r"valid\.jsonl, line 2: label '2' is neither 0"):
        load_piqa(DataSource(data_dir=tmp_path))


MEDQA_ROW = {
    "question": "Q?",
    "options": {"A": "a", "B": "b", "C": "c", "D": "d"},
    "answer": "b",
    "answer_idx": "B",
    "meta_info": "step1",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"answer_idx": "E"}, r"line 2: field 'answer_idx' is 'E'"),
        (
            {"options": {"A": "a", "B": "b", "C": "c"}},
            r"line 2: field 'options' must map A, B, C and D",
        ),
        ({"answer": "c"}, r"line 2: field 'answer' \('c'\) is not the text of option B"),
    ],
)
def test_medqa_bad_rows(tmp_path, change, message):
    write(
        tmp_path,
        "medqa/phrases_no_exclude_test.jsonl",
        json.dumps(MEDQA_ROW) + "\n" + json.dumps({**MEDQA_ROW, **change}) + "\n",
    )
    with pytest.raises(DataFormatError, match=message):
        load_medqa(DataSource(data_dir=tmp_path))


def test_medqa_truncated_last_line(tmp_path):
    line = json.dumps(MEDQA_ROW)
    write(tmp_path, "medqa/phrases_no_exclude_test.jsonl", line + "\n" + line[:20])
    with pytest.raises(DataFormatError, match=r"line 2: truncated"):
        load_medqa(DataSource(data_dir=tmp_path))


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("id,question,A,B,C,answer\n0,q,a,b,c,A\n", r"law_val\.csv, row 1: header is"),
        (
            "id,question,A,B,C,D,answer\n0,q,a,b,c,d,E\n",
            r"law_val\.csv, row 2: field 'answer' is 'E'",
        ),
        (
            "id,question,A,B,C,D,answer\n0,q,a,b,c,d,A\n1,q,a,b\n",
            r"law_val\.csv, row 3: 4 fields, expected 7",
        ),
        (
            "id,question,A,B,C,D,answer\n0,,a,b,c,d,A\n",
            r"law_val\.csv, row 2: missing or empty field 'question'",
        ),
    ],
)
def test_ceval_bad_csv(tmp_path, text, message):
    write(tmp_path, "ceval/val/law_val.csv", text)
    with pytest.raises(DataFormatError, match=message):
        load_ceval(DataSource(data_dir=tmp_path))


def test_ceval_no_val_files(tmp_path):
    (tmp_path / "ceval" / "val").mkdir(parents=True)
    with pytest.raises(DataUnavailableError, match=r"no <subject>_val\.csv files"):
        load_ceval(DataSource(data_dir=tmp_path))


def _mgsm_files(tmp_path: Path, en: str) -> None:
    for lang in LANGUAGES:
        write(tmp_path, f"mgsm/mgsm_{lang}.tsv", en if lang == "en" else "q\t1\n")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("q\t1\nno tab here\n", r"mgsm_en\.tsv, line 2: expected '<question><TAB><answer>', got 1"),
        ("q\t1\nq\tmany\n", r"mgsm_en\.tsv, line 2: answer 'many' is not a number"),
    ],
)
def test_mgsm_bad_lines(tmp_path, text, message):
    _mgsm_files(tmp_path, text)
    with pytest.raises(DataFormatError, match=message):
        load_mgsm(DataSource(data_dir=tmp_path))


def test_mgsm_missing_language(tmp_path):
    _mgsm_files(tmp_path, "q\t1\n")
    (tmp_path / "mgsm" / "mgsm_sw.tsv").unlink()
    with pytest.raises(DataUnavailableError, match=r"mgsm_sw\.tsv not found"):
        load_mgsm(DataSource(data_dir=tmp_path))


DIALOG_ROW = {
    "fname": "test_0",
    "dialogue": "#Person1#: Hi.\n#Person2#: Hello.",
    "summary1": "a",
    "summary2": "b",
    "summary3": "c",
    "topic1": "t",
    "topic2": "t",
    "topic3": "t",
}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"summary3": None}, r"line 2: missing field 'summary3'"),
        ({"fname": "test 1/x"}, r"line 2: field 'fname' is 'test 1/x'"),
        ({"summary1": "  "}, r"line 2: empty dialogue or reference summary"),
    ],
)
def test_dialogsum_bad_rows(tmp_path, change, message):
    write(
        tmp_path,
        "dialogsum/dialogsum.test.jsonl",
        json.dumps(DIALOG_ROW) + "\n" + json.dumps({**DIALOG_ROW, **change}) + "\n",
    )
    with pytest.raises(DataFormatError, match=message):
        load_dialogsum(DataSource(data_dir=tmp_path))


def _finqa_rows():
    return json.loads((FIXTURES / "finqa" / "test.json").read_text())


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda r: r.pop("qa"), r"test\.json, item 2: missing field 'qa'"),
        (lambda r: r.update(table="a | b"), r"item 2: field 'table' must be a list of rows"),
        (
            lambda r: r["qa"].update(answer="n/a", exe_ans=None),
            r"item 2: neither qa\.answer \('n/a'\)",
        ),
        (lambda r: r["qa"].pop("question"), r"item 2, field 'qa': missing field 'question'"),
    ],
)
def test_finqa_bad_items(tmp_path, mutate, message):
    rows = _finqa_rows()
    mutate(rows[1])
    write(tmp_path, "finqa/test.json", json.dumps(rows))
    with pytest.raises(DataFormatError, match=message):
        load_finqa(DataSource(data_dir=tmp_path))


@pytest.mark.parametrize(
    ("value", "step"),
    [
        ("step1", "step1"),
        ("step2&3", "step2&3"),
        ("stfep2&3", "step2&3"),
        (" Step 2/3 ", "step2&3"),
        ("other", "other"),
    ],
)
def test_normalize_step(value, step):
    assert normalize_step(value) == step

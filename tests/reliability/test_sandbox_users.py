"""The sandbox where CI runners and containers put it: not root, no namespaces (issue 11).

The test process runs as root (as CI does) and puts benchgate, for real, where others meet
it, with ``fixtures/adversarial/as_user.py``: as an unprivileged uid with user namespaces
available (full isolation, the same attacks contained), and with namespaces disabled the
way Docker's default seccomp profile disables them, both as that uid and as root. Without
namespaces every code item is an ``error`` with one message saying what is missing and how
to enable it, and a whole pytest session of the gate fails; ``--sandbox none`` runs the
code, records ``sandbox: none`` on every outcome and warns. Control characters written by
completions never reach the report files.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")

REPO = Path(__file__).resolve().parents[2]
AS_USER = REPO / "fixtures" / "adversarial" / "as_user.py"
UID = 0x4B000000 + os.getpid() % 65536  # no passwd entry, no groups, nobody else's
ROOT = os.geteuid() == 0
CONTROL = re.compile(rb"[\x00-\x08\x0b-\x1f\x7f]|\xc2[\x80-\x9f]|\xe2\x80[\xaa-\xae]")


@pytest.fixture(scope="module", autouse=True)
def _as_root():
    if not ROOT:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs as root: these tests drop to other users from there")
        pytest.skip("needs root to drop to an unprivileged user and to filter syscalls")
    pytest.importorskip("pyseccomp")


@pytest.fixture
def workdir():
    """A directory the unprivileged uid owns (and root can clean)."""
    path = Path(tempfile.mkdtemp(prefix="benchgate-users-"))
    path.chmod(0o755)
    os.chown(path, UID, UID)
    yield path
    shutil.rmtree(path, ignore_errors=True)


def as_user(argv: list[str], cwd: Path, uid: int | None, no_namespaces: bool,
            drop_sys_admin: bool = False, timeout: float = 600) -> subprocess.CompletedProcess:
    """Run ``argv`` via as_user.py (as ``uid`` or root, without namespaces or CAP_SYS_ADMIN)."""
    options = ["--expose", str(REPO), "--expose", str(cwd)]
    if uid is not None:
        options += ["--uid", str(uid)]
    if no_namespaces:
        options.append("--no-namespaces")
    if drop_sys_admin:
        options.append("--drop-sys-admin")
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(cwd),
           "USER": "benchgate-test", "LANG": "C.UTF-8", "MPLCONFIGDIR": str(cwd / ".mpl"),
           "CI": os.environ.get("CI", "")}
    return subprocess.run([sys.executable, str(AS_USER), *options, "--", *argv], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=timeout, check=False)


SCRIPT = """\
import json, sys
from benchgate.scoring.execute import isolation_status, run_humaneval
problem = json.loads(open(sys.argv[1]).read())
out = {"probe": isolation_status().__dict__}
out["layers"] = list(out["probe"]["layers"])
runs = json.loads(sys.argv[2])
out["runs"] = []
for code, level, timeout in runs:
    r = run_humaneval(problem, code, timeout_s=timeout, isolation=level)
    out["runs"].append({"status": r.status, "detail": r.detail, "sandbox": r.sandbox,
                        "stdout": r.stdout})
print("RESULT " + json.dumps(out, default=list))
"""


def run_script(workdir: Path, runs: list, uid: int | None, no_namespaces: bool,
               drop_sys_admin: bool = False) -> dict:
    script = workdir / "script.py"
    script.write_text(SCRIPT)
    problem = REPO / "fixtures" / "adversarial" / "problem.json"
    proc = as_user([sys.executable, str(script), str(problem), json.dumps(runs)], workdir, uid,
                   no_namespaces, drop_sys_admin)
    lines = [line for line in proc.stdout.splitlines() if line.startswith("RESULT ")]
    assert proc.returncode == 0 and lines, proc.stderr[-3000:]
    return json.loads(lines[-1][len("RESULT "):])


def corpus(name: str, **subs: str) -> str:
    code = (REPO / "fixtures" / "adversarial" / "completions" / f"{name}.completion").read_text()
    for key, value in subs.items():
        code = code.replace(f"@@{key}@@", value)
    return code


def marked_processes(mark: str) -> list[int]:
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
        if stat[stat.rindex(b")") + 2:][:1] not in (b"Z", b"X") and (
                mark.encode() in stat or mark.encode() in cmdline):
            found.append(int(entry))
    return found


# ---------------------------------------------------------------------------------------
# Not root, user namespaces available: full isolation.


def test_an_unprivileged_user_gets_full_isolation(workdir):
    listeners, paths = [], []
    for directory in ("/tmp", "/dev/shm", "/run"):
        path = f"{directory}/benchgate-{uuid.uuid4().hex[:12]}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        os.chmod(path, 0o777)  # the unprivileged user could connect, were it not sandboxed
        sock.listen()
        sock.setblocking(False)
        listeners.append(sock)
        paths.append(path)
    marks = [f"{uuid.uuid4().int % 10**8:08d}" for _ in range(5)]
    runs = [["    return a + b\n", "full", 10],
            [corpus("unix_socket_host", UNIX_PATHS=json.dumps(paths)), "full", 10],
            [corpus("syscalls_denied"), "full", 10],
            ["    open('/tmp/x', 'w').write('y')\n    import os\n"
             "    print(sorted(os.listdir('/')), os.getuid())\n    return a + b\n", "full", 10]]
    runs += [[corpus("kill_spinner", MARK=mark), "full", 3] for mark in marks]
    try:
        out = run_script(workdir, runs, UID, no_namespaces=False)
        for sock in listeners:
            with pytest.raises(BlockingIOError):
                sock.accept()
    finally:
        for sock, path in zip(listeners, paths, strict=True):
            sock.close()
            os.unlink(path)
    assert out["probe"]["available"], out["probe"]["message"]
    assert {"seccomp-filter", "no-host-sockets", "pid-namespace", "network-namespace",
            "no-capabilities"} <= set(out["layers"])
    assert "unprivileged-uid" not in out["layers"]  # it keeps its own uid, without capabilities
    statuses = [r["status"] for r in out["runs"]]
    assert statuses[:4] == ["passed", "failed", "failed", "passed"], out["runs"]
    assert all(r["sandbox"] == "full" for r in out["runs"])
    for path in paths:
        assert f"unix blocked: {path} [Errno 1]" in out["runs"][1]["stdout"]
    allowed = [line for line in out["runs"][2]["stdout"].splitlines() if "ALLOWED" in line]
    assert allowed == ["socket inet ALLOWED"]
    assert str(UID) in out["runs"][3]["stdout"] and "'work'" not in out["runs"][3]["stdout"]
    assert set(statuses[4:]) <= {"failed", "timeout"}
    assert [marked_processes(mark) for mark in marks] == [[]] * len(marks)


def test_root_without_cap_sys_admin_isolates_through_a_user_namespace(workdir):
    marks = [f"{uuid.uuid4().int % 10**8:08d}" for _ in range(3)]
    runs = [["    import os\n    print(os.getuid())\n    return a + b\n", "full", 10],
            [corpus("syscalls_denied"), "full", 10]]
    runs += [[corpus("kill_spinner", MARK=mark), "full", 3] for mark in marks]
    out = run_script(workdir, runs, None, no_namespaces=False, drop_sys_admin=True)
    assert out["probe"]["available"], out["probe"]["message"]
    assert {"unprivileged-uid", "seccomp-filter", "pid-namespace"} <= set(out["layers"])
    first, syscalls, *spinners = out["runs"]
    assert first["status"] == "passed" and int(first["stdout"].split()[0]) >= 0x50000000
    assert [line for line in syscalls["stdout"].splitlines() if "ALLOWED" in line] == [
        "socket inet ALLOWED"]
    assert {r["status"] for r in spinners} <= {"failed", "timeout"}
    assert [marked_processes(mark) for mark in marks] == [[]] * len(marks)


# ---------------------------------------------------------------------------------------
# Namespaces disabled: fail closed, one message.


@pytest.mark.parametrize("who", ["root", "unprivileged"])
def test_without_namespaces_every_code_item_is_an_error(workdir, who):
    uid = UID if who == "unprivileged" else None
    runs = [["    return a + b\n", "full", 10], ["    return a - b\n", "full", 10],
            ["    return a + b\n", "none", 10]]
    out = run_script(workdir, runs, uid, no_namespaces=True)
    message = out["probe"]["message"]
    assert not out["probe"]["available"]
    assert "full sandbox isolation is unavailable" in message and "--sandbox none" in message
    if who == "root":
        assert "--cap-add SYS_ADMIN" in message and "seccomp=unconfined" in message
    else:
        assert "user namespace" in message and "sysctl" in message
    full, wrong, none = out["runs"]
    assert (full["status"], full["sandbox"], full["detail"]) == ("error", None, message)
    assert (wrong["status"], wrong["detail"]) == ("error", message)  # not even run
    assert (none["status"], none["sandbox"]) == ("passed", "none")


# ---------------------------------------------------------------------------------------
# Whole sessions of the gate.

BENCH = '''\
import json
from pathlib import Path

from benchgate.benchmarks.humaneval import HumanEval
from benchgate.plugin.fixtures import check_outcome
from benchgate.records import Item

PROBLEM = json.loads(Path({problem!r}).read_text())


class TinyEval(HumanEval):
    name = "tinyeval"
    version = 1

    def load(self, source):
        return [Item(id=f"add{{k}}", benchmark=self.name,
                     input=dict(PROBLEM, task_id=f"tiny/{{k}}",
                                prompt=f"# tiny item {{k}}\\n" + PROBLEM["prompt"]),
                     reference="add") for k in range(4)]


BENCHMARK = TinyEval


def test_tinyeval(bench_outcome):
    check_outcome(bench_outcome)
'''


def make_project(root: Path, candidate_code: str) -> Path:
    """A benchgate project: two scripted models answering a HumanEval subclass's items."""
    (root / "tests" / "benchmarks").mkdir(parents=True)
    (root / "pytest.ini").write_text(
        "[pytest]\ntestpaths = tests/benchmarks\naddopts = -p no:cacheprovider "
        "-p no:benchmark -p no:hypothesispytest\n")
    (root / "conftest.py").write_text('pytest_plugins = ("benchgate.plugin",)\n')
    (root / "models.yaml").write_text(
        "models:\n  - id: base\n    role: baseline\n    backend: scripted\n    model: base.yaml\n"
        "  - id: cand\n    role: candidate\n    backend: scripted\n    model: cand.yaml\n")
    fence = "```"
    for name, code in (("base", "def add(a, b):\n    return a + b\n"), ("cand", candidate_code)):
        (root / f"{name}.yaml").write_text(json.dumps(
            {"rules": [], "default": f"{fence}python\n{code}{fence}\n"}))
    (root / "tests" / "benchmarks" / "test_tinyeval.py").write_text(
        BENCH.format(problem=str(REPO / "fixtures" / "adversarial" / "problem.json")))
    for path in [root, *root.rglob("*")]:
        os.chown(path, UID, UID)
    return root


def run_session(project: Path, uid: int | None, no_namespaces: bool,
                *args: str) -> subprocess.CompletedProcess:
    return as_user([sys.executable, "-m", "pytest", "-n", "0", "--no-cache", *args], project,
                   uid, no_namespaces)


def outcomes(project: Path) -> list[dict]:
    lines = (project / "reports" / "results.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@pytest.mark.parametrize("who", ["root", "unprivileged"])
def test_without_namespaces_the_gate_fails(workdir, who):
    project = make_project(workdir, "def add(a, b):\n    return a + b\n")
    result = run_session(project, UID if who == "unprivileged" else None, True)
    assert result.returncode == 1, result.stdout[-3000:] + result.stderr[-2000:]
    rows = outcomes(project)
    assert len(rows) == 8 and {r["status"] for r in rows} == {"error"}, rows
    assert all("full sandbox isolation is unavailable" in (r["error"] or "") for r in rows)
    assert all(r.get("sandbox") is None for r in rows)
    assert "gate FAIL" in result.stdout, result.stdout[-3000:]


def test_sandbox_none_runs_the_code_and_warns(workdir):
    project = make_project(workdir, "def add(a, b):\n    return a - b\n")
    result = run_session(project, None, True, "--sandbox", "none")
    rows = outcomes(project)
    assert len(rows) == 8 and all(r["sandbox"] == "none" for r in rows), rows
    assert {r["status"] for r in rows if r["model"] == "base"} == {"correct"}
    assert {r["status"] for r in rows if r["model"] == "cand"} == {"incorrect"}
    assert "WARNING: --sandbox none: model-written code ran WITHOUT isolation" in result.stdout
    summary = json.loads((project / "reports" / "summary.json").read_text())
    assert "sandbox-none" in json.dumps(summary), summary


def test_verdicts_come_back_from_the_score_cache_only_under_their_isolation(workdir):
    """A warm re-run executes nothing; a --sandbox none verdict never answers a full run."""
    project = make_project(workdir, "def add(a, b):\n    return a - b\n")

    def run(*args: str, no_namespaces: bool = False) -> tuple[subprocess.CompletedProcess, list]:
        done = as_user([sys.executable, "-m", "pytest", "-n", "0", "--cache-dir",
                        str(project / "cache"), *args], project, UID, no_namespaces)
        rows = outcomes(project)
        assert len(rows) == 8, done.stdout[-3000:] + done.stderr[-2000:]
        return done, rows

    def statuses(rows: list) -> dict:
        return {(r["model"], r["item_id"]): r["status"] for r in rows}

    first, rows = run()
    assert {r["sandbox"] for r in rows} == {"full"} and not any(r["score_cached"] for r in rows)
    expected = statuses(rows)
    assert {s for (m, _), s in expected.items() if m == "base"} == {"correct"}
    assert {s for (m, _), s in expected.items() if m == "cand"} == {"incorrect"}
    assert "from the score cache" not in first.stdout

    warm, rows = run()  # the verdicts come back; nothing executes
    assert all(r["score_cached"] and r["sandbox"] == "full" for r in rows), rows
    assert statuses(rows) == expected and warm.returncode == first.returncode
    assert "8 verdicts from the score cache" in warm.stdout, warm.stdout[-3000:]

    # Isolation is unavailable now: verdicts obtained under full isolation still stand,
    # because no code runs to reach them.
    jailed, rows = run(no_namespaces=True)
    assert all(r["score_cached"] and r["sandbox"] == "full" for r in rows), rows
    assert statuses(rows) == expected and jailed.returncode == first.returncode

    # --sandbox none asks another question: the code runs (unisolated, as asked) ...
    _, rows = run("--sandbox", "none", no_namespaces=True)
    assert not any(r["score_cached"] for r in rows) and {r["sandbox"] for r in rows} == {"none"}
    # ... and its verdicts never answer a run that asks for full isolation.
    _, rows = run()
    assert all(r["score_cached"] and r["sandbox"] == "full" for r in rows), rows

    _, rows = run("--rescore")  # executes again, under full isolation
    assert not any(r["score_cached"] for r in rows) and {r["sandbox"] for r in rows} == {"full"}
    assert statuses(rows) == expected


def test_control_characters_never_reach_the_report_files(workdir):
    code = (REPO / "fixtures" / "adversarial" / "completions" / "control_bytes.completion")
    project = make_project(workdir, code.read_text())
    result = run_session(project, UID, False, "--alluredir", "reports/allure-results")
    rows = outcomes(project)
    assert {r["status"] for r in rows if r["model"] == "cand"} == {"incorrect"}, (
        rows, result.stdout[-3000:])
    assert any("PASSED" in (r["detail"] or "") or "Evil" in (r["detail"] or "") for r in rows)
    files = [p for p in (project / "reports").rglob("*") if p.is_file() and p.suffix != ".png"]
    assert any(p.name.endswith("-result.json") for p in files)
    dirty = [str(p) for p in files if _has_control(p)]
    assert dirty == []
    assert not CONTROL.search(result.stdout.encode())


def _has_control(path: Path) -> bool:
    """Raw control bytes, or (in JSON) strings that decode to control characters."""
    data = path.read_bytes()
    if CONTROL.search(data):
        return True
    if path.suffix not in (".json", ".jsonl"):
        return False
    text = data.decode()
    stack: list = ([json.loads(line) for line in text.splitlines() if line.strip()]
                   if path.suffix == ".jsonl" else [json.loads(text)])
    while stack:
        value = stack.pop()
        if isinstance(value, str):
            if CONTROL.search(value.encode()):
                return True
        elif isinstance(value, dict):
            stack += list(value.keys()) + list(value.values())
        elif isinstance(value, list):
            stack += value
    return False

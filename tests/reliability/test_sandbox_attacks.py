"""The escapes of issue 11, closed by kind, with attacks written for these tests.

1. A completion cannot turn its wrong answer into an ``error``: every protocol violation
   (found through ``gc``, at load or during a call, of any shape) fails its tests.
2. No host unix socket is reachable: the paths do not exist in the runner's root and the
   syscall filter refuses AF_UNIX (and every family but INET/INET6) anyway.
3. Nothing of a run survives it (a daemon spinning ``kill(-1)``, a double-forked sleeper:
   20 of 20 tries, at full isolation and at level none as root), and its directory goes,
   however deep and unwritable the tree it left.
4. The judge's own work is bounded: huge replies end within ``timeout_s + 1`` s.
5. Control characters never reach a result's detail, stdout or stderr.

The isolation-unavailable path (fail closed) is in ``test_sandbox_users.py``.
"""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest

from benchgate.scoring import _sandbox_judge as judge
from benchgate.scoring import _sandbox_os as sysos
from benchgate.scoring import execute, run_humaneval

pytestmark = pytest.mark.skipif(sys.platform != "linux", reason="the sandbox needs Linux")

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "fixtures" / "adversarial" / "completions"
PROBLEM = json.loads((REPO / "fixtures" / "adversarial" / "problem.json").read_text())
ROOT = os.geteuid() == 0
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _skip_unless_ci(reason: str) -> None:
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI must provide this: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module", autouse=True)
def full_isolation():
    status = execute.isolation_status()
    if not status.available:
        _skip_unless_ci(status.message)


def attack(name: str, **subs: str) -> str:
    code = (CORPUS / f"{name}.completion").read_text()
    for key, value in subs.items():
        code = code.replace(f"@@{key}@@", value)
    return code


def marked_processes(mark: str) -> list[int]:
    """Live processes whose name or command line carries ``mark``."""
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


# ---------------------------------------------------------------------------------------
# 1. Protocol violations are the runner's failure.

_FIND = ("import gc, json, os, struct\n"
         "def _raw(body):\n"
         "    ch = next(o for o in gc.get_objects() if type(o).__name__ == 'Channel')\n"
         "    os.write(ch.write_fd, struct.pack('>I', len(body)) + body)\n"
         "def _msg(m):\n"
         "    _raw(json.dumps(m).encode())\n")


def _during_call(statement: str) -> str:
    return _FIND + f"def add(a, b):\n    {statement}\n    return a + b\n"


def _at_load(statement: str) -> str:
    return _FIND + statement + "\ndef add(a, b):\n    return a + b\n"


VIOLATIONS = {
    # the shape: a malformed tagged value while the module loads
    "load-bad-tag": _at_load("_msg({'value': {'__t': 'dict', 'v': 5}})"),
    "load-not-an-object": _at_load("_raw(b'[1, 2, 3]')"),
    "load-oversized-header": _at_load(
        "os.write(next(o for o in gc.get_objects() if type(o).__name__ == 'Channel')"
        ".write_fd, struct.pack('>I', 2**31 + 5))"),
    "load-ready-and-more": _at_load("_msg({'ready': True, 'extra': 1})"),
    "call-unhashable-set": _during_call("_msg({'value': {'__t': 'set', 'v': [[1]]}})"),
    "call-unhashable-key": _during_call("_msg({'value': {'__t': 'dict', 'v': [[[1], 2]]}})"),
    "call-bytes-not-latin1": _during_call("_msg({'value': {'__t': 'bytes', 'v': '\\u20ac'}})"),
    "call-complex-of-strings": _during_call("_msg({'value': {'__t': 'complex', 'v': ['a', 'b']}})"),
    "call-tag-is-a-dict": _during_call("_msg({'value': {'__t': {'x': 1}, 'v': 1}})"),
    "call-untagged-object": _during_call("_msg({'value': {'a': 1}})"),
    "call-raised-not-str": _during_call("_msg({'raised': 5, 'message': [], 'where': None})"),
    "call-both-keys": _during_call("_msg({'value': 5, 'raised': 'KeyError'})"),
    "call-bad-hex-int": _during_call("_msg({'value': {'__t': 'int', 'v': 'zz'}})"),
    "call-invalid-utf8": _during_call("_raw(b'\\xff\\xfe\\xfd')"),
    "call-deep-nesting": _during_call(
        "_raw(b'{\"value\":' + b'[' * 200000 + b']' * 200000 + b'}')"),
    "call-digits": _during_call("_raw(b'{\"value\": ' + b'9' * 100000 + b'}')"),
    "call-truncated-then-exit": _during_call(
        "os.write(next(o for o in gc.get_objects() if type(o).__name__ == 'Channel')"
        ".write_fd, struct.pack('>I', 100) + b'{\"va'); os._exit(0)"),
}


@pytest.mark.parametrize("name", sorted(VIOLATIONS))
def test_a_protocol_violation_fails_the_completion_never_errors(name):
    result = run_humaneval(PROBLEM, VIOLATIONS[name], timeout_s=5)
    assert result.status == "failed", (result.status, result.detail)
    assert result.sandbox == "full"


@pytest.mark.parametrize("sandbox", ["auto", "none"])
def test_the_benchmark_scores_a_protocol_violation_incorrect(sandbox):
    if sandbox == "none" and not ROOT:
        _skip_unless_ci("level none contains a completion only as root")
    from benchgate.benchmarks.humaneval import HumanEval
    from benchgate.records import Completion, Item, Status

    item = Item(id="add", benchmark="humaneval", input=PROBLEM, reference="add")
    final = "```python\n" + attack("channel_bad_tag") + "```\n"
    score = HumanEval(sandbox=sandbox).score_final(item, final, Completion(final, "stop"))
    level = "none" if sandbox == "none" else "full"
    assert score.status is Status.INCORRECT and score.sandbox == level, score
    score = HumanEval(sandbox=sandbox).score_final(
        item, "```python\ndef add(a, b):\n    return a + b\n```", Completion("", "stop"))
    assert score.status is Status.CORRECT and score.sandbox == level, score


@pytest.mark.parametrize("name", ["channel_bad_tag", "channel_wrong_shape"])
def test_corpus_protocol_attacks_fail(name):
    result = run_humaneval(PROBLEM, attack(name), timeout_s=5)
    assert result.status == "failed" and "protocol" in result.detail, result


# ---------------------------------------------------------------------------------------
# 2. Host sockets and the filesystem view.


@pytest.fixture
def unix_listeners():
    """Listeners this test holds on unix sockets in /tmp, /dev/shm and /run."""
    socks, paths = [], []
    for directory in ("/tmp", "/dev/shm", "/run"):
        path = f"{directory}/benchgate-{uuid.uuid4().hex[:12]}.sock"
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        sock.bind(path)
        os.chmod(path, 0o777)
        sock.listen()
        sock.setblocking(False)
        socks.append(sock)
        paths.append(path)
    yield paths, socks
    for sock, path in zip(socks, paths, strict=True):
        sock.close()
        os.unlink(path)


def test_unix_sockets_on_the_host_are_unreachable(unix_listeners):
    paths, socks = unix_listeners
    result = run_humaneval(PROBLEM, attack("unix_socket_host", UNIX_PATHS=json.dumps(paths)))
    assert result.status == "failed"
    for path in paths:
        assert f"{path} absent" in result.stdout
        assert f"unix blocked: {path} [Errno 1] Operation not permitted" in result.stdout
        assert f"connected {path}" not in result.stdout
    for directory in ("/run", "/var/run", "/dev/shm", "/var/tmp"):
        assert f"{directory} unreadable: [Errno 2]" in result.stdout
    assert "/tmp []" in result.stdout
    for sock in socks:
        with pytest.raises(BlockingIOError):
            sock.accept()


def test_the_runner_sees_a_minimal_read_only_root():
    probe = ("    import os, json\n"
             "    seen = {p: os.path.exists(p) for p in json.loads(@@PATHS@@)}\n"
             "    writable = []\n"
             "    for d in ('/', '/usr', '/etc', '/dev', '/proc'):\n"
             "        try:\n"
             "            open(os.path.join(d, 'benchgate-w'), 'w').close()\n"
             "            writable.append(d)\n"
             "        except OSError:\n"
             "            pass\n"
             "    open('/tmp/ok', 'w').close()\n"
             "    print(json.dumps({'root': sorted(os.listdir('/')), 'seen': seen,\n"
             "                      'dev': sorted(os.listdir('/dev')), 'writable': writable,\n"
             "                      'cwd': os.getcwd(), 'uid': os.getuid()}))\n"
             "    return a + b\n")
    host_paths = [str(REPO), str(Path.home()), "/home", "/run", "/var", "/srv", "/mnt",
                  "/sys", "/dev/shm", "/dev/log", sys.prefix, tempfile.gettempdir() + "/x"]
    result = run_humaneval(PROBLEM, probe.replace("@@PATHS@@", repr(json.dumps(host_paths))))
    assert result.passed, result
    view = json.loads(result.stdout.splitlines()[0])
    assert set(view["root"]) <= {"bin", "sbin", "lib", "lib32", "lib64", "libx32", "usr", "etc",
                                 "dev", "tmp", "proc", "root", "opt", "home", "nix", "srv"}
    exposed = {p for p, there in view["seen"].items() if there}
    # The standard library is bound at its own path (here below /root/.pyenv): only it.
    assert exposed <= {p for p in host_paths if Path(sys.base_prefix).is_relative_to(p)}, exposed
    assert view["dev"] == sorted(["fd", "stdin", "stdout", "stderr", *sysos.DEVICES])
    assert view["writable"] == [] and view["cwd"] == "/tmp"
    if ROOT:
        assert view["uid"] >= judge.SANDBOX_UID_BASE


def test_host_mounts_below_tmp_neither_break_nor_show_in_the_sandbox():
    # Other jobs mount things below /tmp (bind mounts, tmpfs): the runner's root is built
    # on a tmpfs over /tmp, which covers them; they must not break the build or show.
    if not ROOT:
        _skip_unless_ci("mounting below /tmp needs root")
    code = (
        "import json, os, sys, tempfile\n"
        "from benchgate.scoring import _sandbox_os as so\n"
        "from benchgate.scoring.execute import run_humaneval\n"
        "so.unshare(so.CLONE_NEWNS)\n"
        "so.mount(None, '/', None, so.MS_REC | so.MS_PRIVATE)\n"
        "top = tempfile.mkdtemp(prefix='benchgate-covered-')\n"
        "os.mkdir(top + '/ro')\n"
        "so.mount('tmpfs', top + '/ro', 'tmpfs', 0, 'size=1m')\n"
        "open(top + '/ro/secret', 'w').write('x')\n"
        "so.mount(top + '/ro', top + '/ro', None, so.MS_BIND | so.MS_RDONLY)\n"
        "problem = json.loads(sys.argv[1])\n"
        "r = run_humaneval(problem, '    import os\\n    print(os.path.exists(%r))\\n'\n"
        "                  '    return a + b\\n' % (top + '/ro/secret'))\n"
        "print(json.dumps([r.status, r.detail, r.stdout]))\n")
    proc = subprocess.run([sys.executable, "-c", code, json.dumps(PROBLEM)], capture_output=True,
                          text=True, timeout=120, check=True)
    status, detail, stdout = json.loads(proc.stdout.splitlines()[-1])
    assert (status, stdout.split()[0]) == ("passed", "False"), (status, detail)


def test_escape_syscalls_are_denied():
    result = run_humaneval(PROBLEM, attack("syscalls_denied"))
    assert result.status == "failed"
    allowed = [line for line in result.stdout.splitlines() if "ALLOWED" in line]
    assert allowed == ["socket inet ALLOWED"], result.stdout
    if os.uname().machine == "x86_64":
        assert "clone(CLONE_NEWUSER) EPERM" in result.stdout and "clone3 ENOSYS" in result.stdout


# ---------------------------------------------------------------------------------------
# 3. Reaping and cleanup.


@pytest.mark.parametrize("level", ["full", "none"])
def test_a_kill_spinning_daemon_and_a_sleeper_never_survive(level):
    if level == "none" and not ROOT:
        _skip_unless_ci("level none reaps by uid only as root")
    outcomes = []
    for _ in range(20):
        mark = f"{uuid.uuid4().int % 10**8:08d}"
        result = run_humaneval(PROBLEM, attack("kill_spinner", MARK=mark), timeout_s=3,
                               isolation=level)
        outcomes.append((result.status, marked_processes(mark)))
    assert [left for _, left in outcomes] == [[]] * 20
    assert {status for status, _ in outcomes} <= {"failed", "timeout"}, outcomes


@pytest.mark.parametrize("level", ["full", "none"])
def test_a_2000_deep_unwritable_tree_is_cleaned(level, monkeypatch):
    if level == "none":
        if not ROOT:
            _skip_unless_ci("level none drops to a throwaway uid only as root")
        # On tmpfs, so that 2,000 directory removals do not wait on a slow disk.
        monkeypatch.setattr(tempfile, "tempdir", "/dev/shm")
    made, mkdtemp = [], tempfile.mkdtemp

    def recording_mkdtemp(*args, **kwargs):
        made.append(Path(mkdtemp(*args, **kwargs)))
        return str(made[-1])

    monkeypatch.setattr(tempfile, "mkdtemp", recording_mkdtemp)
    result = run_humaneval(PROBLEM, attack("deep_tree"), timeout_s=30, isolation=level)
    assert result.status == "failed", result
    assert len(made) == 1 and not made[0].exists()


def test_remove_tree_has_no_depth_or_permission_limit(tmp_path_factory):
    # On tmpfs where there is one: the slow disk of a CI machine adds nothing to the test.
    base = Path("/dev/shm") if os.access("/dev/shm", os.W_OK) else tmp_path_factory.mktemp("t")
    tmp_path = Path(tempfile.mkdtemp(dir=base))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("x")
    top = tmp_path / "tree"
    top.mkdir()
    fd = os.open(top, os.O_RDONLY)
    for depth in range(2000):
        os.mkdir("d", dir_fd=fd)
        os.close(os.open("f", os.O_CREAT | os.O_WRONLY, 0, dir_fd=fd))
        if depth % 500 == 0:
            os.symlink(str(outside), "link", dir_fd=fd)
        child = os.open("d", os.O_RDONLY, dir_fd=fd)
        os.fchmod(fd, 0o500)
        os.close(fd)
        fd = child
    os.fchmod(fd, 0)
    os.close(fd)
    sysos.remove_tree(str(top))
    assert not top.exists()
    assert (outside / "keep").read_text() == "x"
    sysos.remove_tree(str(tmp_path))


# ---------------------------------------------------------------------------------------
# 4. The judge's own bounds.


@pytest.mark.parametrize("name", ["channel_huge_int", "channel_nested"])
def test_huge_replies_end_within_the_timeout(name):
    timeout_s = 3.0
    start = time.monotonic()
    result = run_humaneval(PROBLEM, attack(name), timeout_s=timeout_s)
    elapsed = time.monotonic() - start
    assert result.status == "failed" and "exceeds" in result.detail, result
    assert elapsed < timeout_s + 1.0, elapsed


def test_the_judge_is_stopped_within_a_second_of_the_timeout():
    # Trusted test code that does unbounded C-level work on the candidate's value: the
    # judge's own alarm cannot interrupt it; the host's backstop does, and the run's
    # processes are still verified gone.
    problem = dict(PROBLEM, test="def check(candidate):\n"
                                 "    assert sum(range(candidate(1, 2))) >= 0\n")
    timeout_s = 2.0
    start = time.monotonic()
    result = run_humaneval(problem, "    return 10**17\n", timeout_s=timeout_s)
    elapsed = time.monotonic() - start
    assert result.status == "timeout", result
    assert elapsed < timeout_s + 1.0, elapsed


def test_big_integers_cross_in_linear_time_and_str_is_bounded_in_the_judge():
    problem = dict(PROBLEM, test="def check(candidate):\n"
                                 "    assert candidate(1, 2) == 3**200000\n")
    assert run_humaneval(problem, "    return 3**200000\n").passed
    problem = dict(PROBLEM, test="def check(candidate):\n"
                                 "    assert str(candidate(1, 2)) != ''\n")
    result = run_humaneval(problem, "    return 3**200000\n")
    assert result.status == "failed" and "ValueError" in result.detail, result
    result = run_humaneval(PROBLEM, "    return 1 << 10_000_000\n", timeout_s=5)
    assert result.status == "failed" and "too large" in result.detail, result


# ---------------------------------------------------------------------------------------
# 5. Sanitised text.


def test_control_characters_never_reach_a_result():
    result = run_humaneval(PROBLEM, attack("control_bytes"))
    assert result.status == "failed"
    for text in (result.detail, result.stdout, result.stderr):
        assert not CONTROL.search(text), repr(text[:200])
    assert "PASSED" in result.stdout and "\r" not in result.stdout
    assert len(result.detail) <= 1100

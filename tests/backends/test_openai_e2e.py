"""Whole benchmark sessions with ``backend: openai`` against a real llama.cpp server.

Each test builds a benchgate project in a tmp dir (the repo's pytest.ini, a conftest that
loads ``benchgate.plugin``, a models.yaml whose only model is llama-cpp-python's server
serving SmolLM2-135M Q4_1, and the repo's own GSM8K/MMLU test modules) and runs
``python -m pytest`` in it on the real data of ``../shared/data``:

* happy path: every item gets a non-error outcome with the server's token usage; the gate
  passes (wrong answers are not errors).
* the server killed in the middle of a run (SIGKILL, between the GSM8K and the MMLU group,
  from a ``pytest_runtest_setup`` hook of the project's conftest, so the point of the kill is
  deterministic): GSM8K keeps its answers, every MMLU item is an *error* outcome (never
  incorrect), the gate fails (exit status 1). The server is started again on another port,
  models.yaml gets the new base_url, and the re-run takes the GSM8K answers from the
  response cache (``cached: true``, same text, same cache entries: the URL is not part of
  the cache key), generates only MMLU and completes without errors.

A session costs ~5-10 s of start-up and gate on 2 shared cores; the items' completions are
capped at a few tokens, so the module runs in about a minute.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

#: Folders of the cache directory that are not the response cache.
OTHER_CACHES = ("datasets", "scores", "models")

REPO = Path(__file__).resolve().parents[2]
DATA = REPO.parent / "shared" / "data"
MODEL_ID = "smollm2-llamacpp"
LIMIT = 4
MAX_NEW_TOKENS = 24

# One worker runs every module of this group, so the session's llama.cpp server starts once.
pytestmark = [
    pytest.mark.slow,
    pytest.mark.xdist_group("llamacpp-server"),
    pytest.mark.skipif(
        not all((DATA / name).is_dir() for name in ("gsm8k", "mmlu")),
        reason=f"no GSM8K/MMLU data at {DATA} (the CI data dir: ../shared/data next to the repo)",
    ),
]

#: The project's conftest: the plugin, plus a fault hook that is inert without kill.json.
CONFTEST = '''\
"""Loads benchgate; kills the llama.cpp server where kill.json says (fault tests only)."""

import json
import os
import signal
import socket
import time
from pathlib import Path

import pytest

pytest_plugins = ("benchgate.plugin",)

KILL_PLAN = Path(__file__).with_name("kill.json")


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    """SIGKILL the server before the first test whose node id contains plan["before"],
    i.e. before that test's fixtures generate; return once its port refuses connections."""
    if not KILL_PLAN.is_file():
        return
    plan = json.loads(KILL_PLAN.read_text())
    if plan["before"] not in item.nodeid:
        return
    KILL_PLAN.unlink()
    os.kill(plan["pid"], signal.SIGKILL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", plan["port"]), timeout=1).close()
        except OSError:
            (KILL_PLAN.parent / "killed-before.txt").write_text(item.nodeid)
            return
        time.sleep(0.05)
    raise RuntimeError(f"the server (pid {plan['pid']}) still answers 30 s after SIGKILL")
'''

#: Plugins installed here that these sessions do not use (hypothesis alone costs ~1 s).
QUIET = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "-p", "no:randomly",
         "-p", "no:benchmark", "-p", "no:anyio", "-p", "no:allure_pytest")  # fmt: skip


#: One model and nothing to compare it with: the run is recorded (a baseline for later) and
#: still judged on its error rate; without it the gate refuses a run with no comparison.
RECORD = ("--gate", "record")


def models_yaml(base_url: str | list[str], alias: str) -> str:
    """One ``backend: openai`` model on the llama.cpp server(s) (greedy, a few tokens)."""
    return (
        "models:\n"
        f"  - id: {MODEL_ID}\n"
        "    backend: openai\n"
        f"    base_url: {json.dumps(base_url)}\n"
        f"    model: {alias}\n"
        "    max_concurrency: 2\n"
        "    timeout_s: 120\n"
        "    retries: 1\n"
        "    generation:\n"
        f"      max_new_tokens: {MAX_NEW_TOKENS}\n"
        "      temperature: 0.0\n"
    )


class Project:
    """A benchgate project in a tmp dir, and the pytest sessions run in it."""

    def __init__(self, root: Path, base_url: str | list[str], alias: str,
                 benchmarks: tuple[str, ...]):
        self.root = root
        self.alias = alias
        self.benchmarks = benchmarks
        (root / "tests" / "benchmarks").mkdir(parents=True)
        (root / "conftest.py").write_text(CONFTEST, encoding="utf-8")
        shutil.copy(REPO / "pytest.ini", root / "pytest.ini")
        for name in benchmarks:
            shutil.copy(
                REPO / "tests" / "benchmarks" / f"test_{name}.py", root / "tests" / "benchmarks"
            )
        self.set_url(base_url)
        self.cache = root / "cache"
        env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "BENCHGATE_"))}
        paths = [str(REPO / "src"), env.get("PYTHONPATH", "")]
        env.update(
            PYTHONPATH=os.pathsep.join(p for p in paths if p),
            PYTHONDONTWRITEBYTECODE="1",
            HF_HUB_OFFLINE="1",
            HF_DATASETS_OFFLINE="1",
            TRANSFORMERS_OFFLINE="1",
        )
        self.env = env

    def set_url(self, base_url: str | list[str]) -> None:
        (self.root / "models.yaml").write_text(models_yaml(base_url, self.alias), encoding="utf-8")

    def run(self, reports: str, *extra: str,
            timeout: float = 300) -> tuple[int, str, dict[str, dict[str, Any]]]:
        """Run one session; return (exit status, output, results.jsonl by (benchmark, item))."""
        command = [
            sys.executable, "-m", "pytest", *QUIET,
            *(f"tests/benchmarks/test_{name}.py" for name in self.benchmarks),
            f"--data-dir={DATA}", f"--limit={LIMIT}",
            f"--cache-dir={self.cache}", f"--reports-dir={self.root / reports}", *extra,
        ]  # fmt: skip
        try:
            done = subprocess.run(
                command, cwd=self.root, env=self.env, capture_output=True, text=True,
                timeout=timeout,
            )  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            pytest.fail(f"session did not finish in {timeout} s:\n{str(exc.stdout)[-3000:]}")
        output = done.stdout + done.stderr
        results = self.root / reports / "results.jsonl"
        why = f"no results.jsonl (exit status {done.returncode}):\n{output[-4000:]}"
        assert results.is_file(), why
        rows = [json.loads(line) for line in results.read_text(encoding="utf-8").splitlines()]
        by_item = {f"{r['benchmark']}/{r['item_id']}": r for r in rows}
        assert len(by_item) == len(rows), "an item has two lines in results.jsonl"
        return done.returncode, output, by_item

    def manifest(self, reports: str) -> dict[str, Any]:
        (run_dir,) = (self.root / reports / "runs").iterdir()
        return json.loads((run_dir / "run.json").read_text(encoding="utf-8"))

    def cache_entries(self) -> set[str]:
        """Files of the response cache (the score and dataset caches beside it aside)."""
        return {str(p.relative_to(self.cache)) for p in self.cache.rglob("*")
                if p.is_file() and p.relative_to(self.cache).parts[0] not in OTHER_CACHES}


def assert_answered(row: dict[str, Any]) -> None:
    """A real completion from the server: not an error, with usage and latency."""
    where = f"{row['benchmark']}/{row['item_id']}"
    assert row["status"] in ("correct", "incorrect", "no_answer"), (
        where,
        row["status"],
        row["error"],
    )
    assert row["error"] is None, where
    assert row["finish_reason"] in ("stop", "length"), where
    assert row["completion"].strip(), where
    assert row["prompt_tokens"] > 20, where  # chat template + question
    assert 0 < row["completion_tokens"] <= MAX_NEW_TOKENS, where
    assert row["latency_s"] > 0, where
    assert row["model"] == MODEL_ID and row["reference"] is not None, where


def test_happy_path_every_item_answered_with_usage(tmp_path, llama_server, llamacpp):
    project = Project(tmp_path, llama_server.base_url, llamacpp.MODEL_ALIAS, ("gsm8k",))
    status, output, rows = project.run("reports", *RECORD)
    assert sorted(rows) == sorted(f"gsm8k/{r['item_id']}" for r in rows.values())
    assert len(rows) == LIMIT, output[-3000:]
    for row in rows.values():
        assert_answered(row)
        assert row["cached"] is False
        # The prompt is the chat messages as sent (the server applies the template).
        assert json.loads(row["prompt"])[-1]["role"] == "user"
    # Wrong answers are not errors: the gate (one model, nothing to compare) passes.
    assert status == 0, output[-3000:]
    summary = json.loads((tmp_path / "reports" / "summary.json").read_text())
    assert summary["gate"]["exit_status"] == 0
    assert [r["errors"] for r in summary["error_rates"]] == [0]
    identity = project.manifest("reports")["models"][0]["backend_identity"]
    assert identity["backend"] == "openai" and identity["model"] == llamacpp.MODEL_ALIAS
    assert identity["server_model"]["id"] == llamacpp.MODEL_ALIAS
    assert identity["device"] == llama_server.base_url


def test_server_killed_mid_run_gives_errors_then_rerun_resumes_from_cache(tmp_path, llamacpp):
    server = llamacpp.LlamaCppServer().start()
    try:
        project = Project(tmp_path, server.base_url, llamacpp.MODEL_ALIAS, ("gsm8k", "mmlu"))
        plan = {"pid": server.process.pid, "port": server.port, "before": "test_mmlu.py::"}
        (tmp_path / "kill.json").write_text(json.dumps(plan))

        # Run 1: GSM8K generates, then the server dies before MMLU's group generates.
        status, output, first = project.run("reports-killed", *RECORD)
        assert not (tmp_path / "kill.json").exists(), "the kill hook never ran"
        assert "test_mmlu.py::" in (tmp_path / "killed-before.txt").read_text()
        assert server.process.poll() is not None, "the server survived the kill"
        counts = Counter(r["benchmark"] for r in first.values())
        assert counts == {"gsm8k": LIMIT, "mmlu": LIMIT}, output[-3000:]
        for row in first.values():
            if row["benchmark"] == "gsm8k":  # answered before the kill
                assert_answered(row)
                continue
            # After the kill: error outcomes with the reason, never a wrong answer.
            assert row["status"] == "error", row
            assert row["finish_reason"] == "error" and row["extracted"] is None
            assert "connection error" in row["error"], row["error"]
            assert row["completion"] == "" and row["cached"] is False
        # The gate refuses to pass: MMLU's error rate (100%) is above --max-error-rate.
        assert status == 1, output[-4000:]
        summary = json.loads((tmp_path / "reports-killed" / "summary.json").read_text())
        gate = summary["gate"]
        assert gate["status"] == "fail" and gate["exit_status"] == 1
        (reason,) = gate["reasons"]
        assert "mmlu" in reason and "error rate" in reason and "100" in reason, reason
        rates = {r["benchmark"]: r["errors"] for r in summary["error_rates"]}
        assert rates == {"gsm8k": 0, "mmlu": LIMIT}
        entries_before = project.cache_entries()
        assert len(entries_before) == LIMIT, entries_before  # GSM8K only: errors are not cached
        killed_identity = project.manifest("reports-killed")["models"][0]["backend_identity"]

        # Run 2: the server comes back on another port; only the URL in models.yaml changes.
        old_url = server.base_url
        server.kill()
        server.start()
        if server.base_url == old_url:  # the kernel handed out the same port: take another
            server.kill()
            server.start()
        assert server.base_url != old_url
        project.set_url(server.base_url)
        status, output, second = project.run("reports-resumed", *RECORD)
        assert status == 0, output[-4000:]
        assert sorted(second) == sorted(first)
        for key, row in second.items():
            assert_answered(row)
            if row["benchmark"] == "gsm8k":  # done before the kill: from the response cache
                assert row["cached"] is True, key
                assert row["completion"] == first[key]["completion"], key
                assert row["status"] == first[key]["status"], key
            else:  # failed before: generated now
                assert row["cached"] is False, key
        assert f"{LIMIT} completions generated, {LIMIT} from the response cache" in output
        # Same cache identity on the new port: the GSM8K entries were read, not rewritten
        # under new keys, and only MMLU's entries were added.
        entries_after = project.cache_entries()
        assert entries_before < entries_after and len(entries_after) == 2 * LIMIT
        resumed_identity = project.manifest("reports-resumed")["models"][0]["backend_identity"]
        assert killed_identity.pop("device") == old_url
        assert resumed_identity.pop("device") == server.base_url
        assert resumed_identity == killed_identity
    finally:
        server.stop()


def test_two_replicas_one_killed_mid_run_every_item_answered_once(tmp_path, llamacpp):
    """base_url lists two llama.cpp servers; the first is SIGKILLed between GSM8K and MMLU.

    Every item is answered exactly once (one results.jsonl line, no error), the kill is
    detected (the replica is taken out, logged once), the survivor answers all of MMLU; a
    re-run against the survivor alone reads every answer from the response cache (the cache
    identity is the model, not the replica).
    """
    doomed, survivor = llamacpp.LlamaCppServer(), llamacpp.LlamaCppServer()
    try:
        doomed.start()
        survivor.start()
        urls = [doomed.base_url, survivor.base_url]
        project = Project(tmp_path, urls, llamacpp.MODEL_ALIAS, ("gsm8k", "mmlu"))
        plan = {"pid": doomed.process.pid, "port": doomed.port, "before": "test_mmlu.py::"}
        (tmp_path / "kill.json").write_text(json.dumps(plan))
        logs = ("-o", "log_cli=true", "--log-cli-level=WARNING")
        status, output, rows = project.run("reports-replicas", "--gate", "off", *logs)
        assert "test_mmlu.py::" in (tmp_path / "killed-before.txt").read_text()
        assert doomed.process.poll() is not None, "the first replica survived the kill"
        counts = Counter(r["benchmark"] for r in rows.values())
        assert counts == {"gsm8k": LIMIT, "mmlu": LIMIT}, output[-3000:]  # once each
        for row in rows.values():
            assert_answered(row)
            assert row["replica"] in urls
        gsm8k = {r["replica"] for r in rows.values() if r["benchmark"] == "gsm8k"}
        assert gsm8k == set(urls)  # before the kill: spread over both
        mmlu = {r["replica"] for r in rows.values() if r["benchmark"] == "mmlu"}
        assert mmlu == {survivor.base_url}  # after it: the survivor alone
        # Detected once, on the first request that found the server gone.
        assert output.count(f"replica {doomed.base_url} taken out (connection error") == 1, (
            output[-4000:]
        )
        assert status in (0, 1)  # --gate off: pytest's own status (wrong answers fail tests)

        # The survivor alone, one URL: every answer comes from the cache.
        project.set_url(survivor.base_url)
        entries = project.cache_entries()
        status, output, again = project.run("reports-survivor", "--gate", "off")
        assert sorted(again) == sorted(rows)
        for key, row in again.items():
            assert row["cached"] is True, key
            assert row["completion"] == rows[key]["completion"], key
            assert row["replica"] == rows[key]["replica"]  # as recorded when generated
        assert project.cache_entries() == entries
    finally:
        doomed.stop()
        survivor.stop()

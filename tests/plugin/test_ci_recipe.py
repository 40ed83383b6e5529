"""The CI recipes of docs/ci/ run end to end: their own commands, in order, on a project.

Not the YAML engines: this test reads docs/ci/github-actions.yml and docs/ci/gitlab-ci.yml
and runs each step's / job's shell commands with bash in a scripted-backend project (the
README's models.yaml layout: a baseline and a candidate that regresses), first as the
main branch (the baseline is recorded and kept as an artifact), then as a pull / merge
request in a fresh workspace (the baseline is downloaded, the candidate gated against it,
reports and the Allure report kept whatever the verdict). What the CI service provides is
stood in for: GitHub's artifact actions by copying folders, GitLab's job-artifacts API by a
local HTTP server that zips a job's artifacts (real curl and unzip fetch them). Installation
steps are skipped (the project runs in the installed .venv). The Allure CLI is real; under
``CI=true`` its absence fails the test.
"""

from __future__ import annotations

import functools
import http.server
import io
import json
import os
import re
import shutil
import subprocess
import threading
import zipfile
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"
#: Installed tools the recipes call besides benchgate.
TOOLS = ("allure", "curl", "unzip", "bash")
#: Workspace folders a fresh CI checkout does not have.
OUTPUTS = ("reports", "baseline-run", "allure-report", "allure-results", "allure-history",
           ".benchgate-cache")


def _need_tools() -> None:
    missing = [t for t in TOOLS if shutil.which(t) is None]
    if missing:
        message = f"the CI recipes need {', '.join(missing)} (allure: npm install -g " \
                  "allure-commandline@2)"
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing real component is a failure)")
        pytest.skip(message)


@pytest.fixture
def project(gate_project):
    gate_project.bench("regress")
    gate_project.bench("improve")
    (gate_project.path / ".venv").symlink_to(REPO / ".venv")
    return gate_project.path


def _base_env(tmp: Path) -> dict[str, str]:
    keep = ("PATH", "LANG", "LC_ALL", "JAVA_HOME", "TMPDIR", "CI")
    env = {k: v for k, v in os.environ.items() if k in keep}
    env["HOME"] = str(tmp / "home")
    (tmp / "home").mkdir(exist_ok=True)
    return env


def _fresh_checkout(workspace: Path) -> None:
    for name in OUTPUTS:
        shutil.rmtree(workspace / name, ignore_errors=True)


def _bash(script: str, cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", script],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


# --- GitHub Actions ------------------------------------------------------------------------


def _gh_condition(expr: str | None, event: str, failed: bool) -> bool:
    """The ``if:`` subset the recipe uses; anything else is refused (the test must know it)."""
    if expr is None:
        return not failed
    expr = expr.strip()
    if expr == "always()":
        return True
    match = re.fullmatch(r"github\.event_name == '(\w+)'", expr)
    assert match, f"unsupported if: {expr!r} (teach the test, or keep the recipe simple)"
    return not failed and match.group(1) == event


def _copy_contents(source: Path, target: Path) -> None:
    target.mkdir(parents=True, exist_ok=True)
    shutil.copytree(source, target, dirs_exist_ok=True)


def run_github(workflow: dict, event: str, workspace: Path, store: Path,
               env: dict[str, str]) -> dict[str, subprocess.CompletedProcess | str]:
    """Run the job's steps as GitHub would for ``event``; returns each step's outcome."""
    (job,) = workflow["jobs"].values()
    env = {**env, **{k: str(v) for k, v in workflow.get("env", {}).items()},
           "GITHUB_EVENT_NAME": event, "GITHUB_STEP_SUMMARY": str(workspace / "step-summary.md")}
    done: dict[str, subprocess.CompletedProcess | str] = {}
    failed = False
    for step in job["steps"]:
        name = step.get("name") or step.get("uses") or step.get("id")
        if step.get("id") == "install" or not _gh_condition(step.get("if"), event, failed):
            done[name] = "skipped"
            continue
        uses = step.get("uses", "")
        args = step.get("with", {})
        if uses.startswith("actions/checkout"):
            done[name] = "checked out"
        elif uses.startswith("actions/upload-artifact"):
            paths = [p for p in str(args["path"]).split("\n") if p.strip()]
            target = store / args["name"]
            shutil.rmtree(target, ignore_errors=True)
            for path in paths:  # one folder: its contents; several: kept by relative path
                source = workspace / path.strip()
                _copy_contents(source, target if len(paths) == 1 else target / path.strip())
            done[name] = "uploaded"
        elif uses.startswith("dawidd6/action-download-artifact"):
            assert args["branch"] == "main" and args["workflow"] == "benchgate.yml"
            source = store / args["name"]
            if source.is_dir():
                _copy_contents(source, workspace / args["path"])
                done[name] = "downloaded"
            elif args.get("if_no_artifact_found") == "fail":
                done[name] = "no artifact"
                failed = True
            else:
                done[name] = "no artifact (warned)"
        else:
            assert "run" in step, f"unsupported step {step}"
            result = _bash(step["run"], workspace, env)
            done[name] = result
            failed = failed or result.returncode != 0
    return done


def test_github_actions_recipe_records_on_main_and_gates_pull_requests(project, tmp_path):
    _need_tools()
    workflow = yaml.safe_load((REPO / "docs" / "ci" / "github-actions.yml").read_text())
    triggers = workflow.get("on", workflow.get(True))
    assert triggers["push"]["branches"] == ["main"] and "pull_request" in triggers
    env = _base_env(tmp_path)
    store = tmp_path / "artifacts"
    # The recipe's default measures the hub's data; the scripted project has its own.
    workflow["env"]["BENCHGATE_ARGS"] = "--no-cache"

    main = run_github(workflow, "push", project, store, env)
    record = main["Record the baseline run (main)"]
    assert record.returncode == 0, record.stdout[-3000:] + record.stderr[-3000:]
    assert "gate RECORD" in record.stdout
    assert main["Gate the candidate against the baseline (pull request)"] == "skipped"
    assert main["Download the Allure history of main"] == "no artifact (warned)"
    stored = json.loads((store / "benchgate-baseline" / "run.json").read_text())
    assert [m["id"] for m in stored["models"]] == ["base"]
    assert (store / "allure-history" / "history-trend.json").is_file()
    assert (store / "benchgate-reports" / "allure-report" / "index.html").is_file()
    assert "gate RECORD" in (project / "step-summary.md").read_text()

    _fresh_checkout(project)
    (project / "step-summary.md").unlink()
    pr = run_github(workflow, "pull_request", project, store, env)
    gate = pr["Gate the candidate against the baseline (pull request)"]
    assert gate.returncode == 1, gate.stdout[-3000:] + gate.stderr[-3000:]
    assert "gate FAIL: regress: cand vs base@" in gate.stdout
    assert pr["Record the baseline run (main)"] == "skipped"
    for step in ("Build the Allure report", "Show summary.md on the run's page"):
        assert pr[step].returncode == 0, pr[step].stderr  # always(), despite the failing gate
    assert pr["Upload the reports"] == "uploaded"
    assert pr["Keep the baseline run (main)"] == "skipped"
    reports = store / "benchgate-reports"
    summary = json.loads((reports / "reports" / "summary.json").read_text())
    assert summary["gate"]["status"] == "fail"
    assert summary["comparisons"][0]["baseline"] == f"base@{stored['run']['id']}"
    assert (project / "step-summary.md").read_text().startswith("# benchgate: gate FAIL")
    trend = json.loads((reports / "allure-report" / "widgets" / "history-trend.json").read_text())
    assert len(trend) == 2  # main's run, then this pull request's: the history carried over


# --- GitLab CI ------------------------------------------------------------------------------


class _Artifacts(http.server.BaseHTTPRequestHandler):
    """GitLab's ``GET /projects/:id/jobs/artifacts/:ref/download?job=NAME``, from a folder."""

    def __init__(self, store: Path, *args, **kwargs):
        self.store = store
        super().__init__(*args, **kwargs)

    def do_GET(self):  # noqa: N802 - http.server's naming
        match = re.fullmatch(r"/api/v4/projects/42/jobs/artifacts/main/download\?job=([\w-]+)",
                             self.path)
        folder = self.store / match.group(1) if match else None
        if folder is None or not folder.is_dir() or not self.headers.get("JOB-TOKEN"):
            self.send_error(404)
            return
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(folder).as_posix())
        body = buffer.getvalue()
        self.send_response(200)
        self.send_header("Content-Type", "application/zip")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):  # noqa: D102 - quiet
        pass


def _expand(value: str, env: dict[str, str]) -> str:
    """GitLab's ``$VAR`` expansion inside variables."""
    return re.sub(r"\$(\w+)", lambda m: env.get(m.group(1), ""), value)


def _gl_rule(job: dict, env: dict[str, str]) -> bool:
    for rule in job.get("rules", []):
        match = re.fullmatch(r'\$(\w+) == (?:\$(\w+)|"([^"]*)")', rule["if"])
        assert match, f"unsupported rule: {rule['if']!r}"
        want = env.get(match.group(2), "") if match.group(2) else match.group(3)
        if env.get(match.group(1)) == want:
            return True
    return False


def run_gitlab(config: dict, name: str, workspace: Path, store: Path,
               env: dict[str, str]) -> tuple[subprocess.CompletedProcess, ...] | None:
    """Run job ``name`` (script, then after_script) if its rules match; keep its artifacts."""
    job = dict(config[name])
    base = config[job.pop("extends")] if "extends" in job else {}
    job = {**base, **job}
    variables = {**env}
    for key, value in config.get("variables", {}).items():
        variables[key] = _expand(str(value), variables)
    if not _gl_rule(job, variables):
        return None
    script = _bash("\n".join(job["script"]), workspace, variables)
    after = _bash("\n".join(job["after_script"]), workspace, variables)
    artifacts = job["artifacts"]
    assert artifacts["when"] == "always"
    target = store / name
    shutil.rmtree(target, ignore_errors=True)
    for path in artifacts["paths"]:
        source = workspace / path
        if source.exists():
            _copy_contents(source, target / path)
    return script, after


def test_gitlab_recipe_records_on_the_default_branch_and_gates_merge_requests(project, tmp_path):
    _need_tools()
    config = yaml.safe_load((REPO / "docs" / "ci" / "gitlab-ci.yml").read_text())
    config["variables"]["BENCHGATE_ARGS"] = "--no-cache"
    store = tmp_path / "artifacts"
    store.mkdir()
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Artifacts, store))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        env = {**_base_env(tmp_path), "CI_API_V4_URL": f"http://127.0.0.1:{server.server_port}"
               "/api/v4", "CI_PROJECT_ID": "42", "CI_JOB_TOKEN": "token",
               "CI_DEFAULT_BRANCH": "main"}
        push = {**env, "CI_COMMIT_BRANCH": "main", "CI_PIPELINE_SOURCE": "push"}
        assert run_gitlab(config, "benchgate-gate", project, store, push) is None
        script, after = run_gitlab(config, "benchgate-baseline", project, store, push)
        assert script.returncode == 0, script.stdout[-3000:] + script.stderr[-3000:]
        assert "no earlier baseline job" in script.stdout and "gate RECORD" in script.stdout
        assert after.returncode == 0, after.stderr
        kept = store / "benchgate-baseline"
        assert (kept / "baseline-run" / "run.json").is_file()
        assert (kept / "allure-report" / "history" / "history-trend.json").is_file()

        _fresh_checkout(project)
        mr = {**env, "CI_PIPELINE_SOURCE": "merge_request_event"}
        assert run_gitlab(config, "benchgate-baseline", project, store, mr) is None
        script, after = run_gitlab(config, "benchgate-gate", project, store, mr)
        assert script.returncode == 1, script.stdout[-3000:] + script.stderr[-3000:]
        assert "gate FAIL: regress: cand vs base@" in script.stdout
        assert after.returncode == 0, after.stderr  # after_script: reports despite the failure
        reports = store / "benchgate-gate"
        summary = json.loads((reports / "reports" / "summary.json").read_text())
        assert summary["gate"]["status"] == "fail"
        trend = json.loads(
            (reports / "allure-report" / "widgets" / "history-trend.json").read_text())
        assert len(trend) == 2
    finally:
        server.shutdown()
        server.server_close()

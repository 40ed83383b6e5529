"""``python -m benchgate report RUN_DIR`` rebuilds every report from a stored run, no pytest."""

from __future__ import annotations

import subprocess
import sys


def _report(*args, cwd):
    return subprocess.run(
        [sys.executable, "-m", "benchgate", "report", *map(str, args)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_report_reproduces_summary_json_byte_for_byte(gate_project, tmp_path):
    for name in ("regress", "same", "fmt"):
        gate_project.bench(name)
    session = gate_project.run(workers=2)
    assert session.ret == 1
    (run_dir,) = gate_project.run_dirs()
    written = (gate_project.reports / "summary.json").read_bytes()
    md = (gate_project.reports / "summary.md").read_text()
    for path in (gate_project.reports / "summary.json", gate_project.reports / "summary.md"):
        path.unlink()

    done = _report(run_dir, cwd=gate_project.path)
    assert done.returncode == 0, done.stderr
    assert (gate_project.reports / "summary.json").read_bytes() == written
    assert (gate_project.reports / "summary.md").read_text() == md
    lines = done.stdout.splitlines()
    assert (
        lines[-1].startswith("gate FAIL: fmt: cand vs base: regression")
        and "(+1 more)" in lines[-1]
    )
    assert "=== benchgate comparisons ===" in lines

    # Elsewhere, with the run's own exit status.
    out = tmp_path / "elsewhere"
    done = _report(run_dir, "--out", out, "--exit-status", "-q", cwd=tmp_path)
    assert done.returncode == 1 and done.stdout == ""
    assert (out / "summary.json").read_bytes() == written
    assert any((out / "plots").glob("*.png"))


def test_report_of_a_missing_or_broken_run_names_the_file_and_the_fix(tmp_path):
    done = _report(tmp_path / "nope", cwd=tmp_path)
    assert done.returncode == 2
    assert "report " in done.stderr and "no run.json there. Fix:" in done.stderr
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "run.json").write_text("{")
    done = _report(tmp_path / "bad", cwd=tmp_path)
    assert done.returncode == 2 and "not readable JSON" in done.stderr
    assert "Traceback" not in done.stderr

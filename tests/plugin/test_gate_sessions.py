"""Whole pytest sessions of the gate on scripted models: verdicts, exit statuses, reports.

Every session runs in a subprocess (pytester). The same project is run with ``-n 0`` and
``-n 2`` where the issue asks for identical summaries, verdicts and exit statuses.
"""

from __future__ import annotations

import json

import pytest


def _without_run_line(markdown: str) -> str:
    return "\n".join(line for line in markdown.splitlines() if not line.startswith("Run `"))


def _png(path) -> bool:
    return path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.stat().st_size > 5000


def test_regression_improvement_and_no_change_agree_for_n0_and_n2(gate_project):
    for name in ("regress", "improve", "same"):
        gate_project.bench(name)
    serial = gate_project.run(workers=0)
    serial_summary = gate_project.summary()
    serial_md = (gate_project.reports / "summary.md").read_text()
    parallel = gate_project.run(workers=2)

    assert serial.ret == parallel.ret == 1, serial.stdout.str()[-3000:]
    assert gate_project.summary() == serial_summary
    assert gate_project.verdicts() == {"regress": "regression", "improve": "pass", "same": "pass"}

    regress = gate_project.comparison("regress")
    assert regress["table"] == {"a": 18, "b": 12, "c": 0, "d": 0}
    assert regress["regressions"] == [f"q{k:03d}" for k in range(12)]
    assert (
        regress["pvalue_regression_holm"]
        < 0.05
        < gate_project.comparison("improve")["pvalue_regression_holm"]
    )
    improve = gate_project.comparison("improve")
    assert improve["table"] == {"a": 15, "b": 0, "c": 15, "d": 0}
    assert improve["difference"]["lower"] > 0
    same = gate_project.comparison("same")
    assert same["table"] == {"a": 70, "b": 0, "c": 0, "d": 10}
    assert same["mdd"] > 0.05 and same["difference"]["lower"] > -0.05
    gate = gate_project.summary()["gate"]
    assert gate["status"] == "fail" and gate["exit_status"] == 1
    assert len(gate["reasons"]) == 1 and gate["reasons"][0].startswith(
        "regress: cand vs base: regression"
    )

    for result in (serial, parallel):
        out = result.stdout.str()
        # The comparison table follows the collector's accuracy table.
        assert out.index("benchgate accuracy") < out.index("benchgate comparisons")
        result.stdout.fnmatch_lines(
            [
                "*benchmark*baseline*candidate*n*b*c*p (mid-p)*p regr. (Holm)*MDD pts*verdict*",
                "*regress*base*cand*30*100.0*60.0*-40.0*12*0*regression*",
                "REGRESSION: regress, cand vs base: candidate drops 40.0 pts*",
                "PASS: same, cand vs base: no regression*",
                "*gate FAIL: exit status 1*",
            ]
        )

    # summary.md: tables, verdicts, and the flipped items with both completions.
    assert _without_run_line(serial_md) == _without_run_line(
        (gate_project.reports / "summary.md").read_text()
    )
    assert "| model | improve | regress | same |" in serial_md
    assert "- **regression**: regress, cand vs base" in serial_md
    assert "**q000** (regression; reference `4`)" in serial_md
    assert "| completion | The answer is 4 | The answer is 5 |" in serial_md
    assert "**q014** (improvement; reference `4`)" in serial_md

    plots = sorted(p.name for p in (gate_project.reports / "plots").iterdir())
    assert plots == [
        "accuracy_heatmap.png",
        "accuracy_ranking.png",
        "output_tokens.png",
        "paired_base_vs_cand.png",
    ]
    assert all(_png(gate_project.reports / "plots" / p) for p in plots)

    runs = gate_project.run_dirs()
    assert len(runs) == 2
    manifest = json.loads((runs[-1] / "run.json").read_text())
    assert manifest["schema_version"] == 1
    assert [m["id"] for m in manifest["models"]] == ["base", "cand"]
    assert manifest["models"][0]["backend_identity"]["backend"] == "scripted"
    assert set(manifest["benchmarks"]) == {"regress", "improve", "same"}
    assert manifest["benchmarks"]["same"]["items"] == {"base": 80, "cand": 80}
    assert len((runs[-1] / "outcomes.jsonl").read_text().splitlines()) == 2 * (30 + 30 + 80)


def test_without_a_regression_the_gate_passes_for_n0_and_n2(gate_project):
    for name in ("improve", "same"):
        gate_project.bench(name)
    serial = gate_project.run(workers=0)
    serial_summary = gate_project.summary()
    parallel = gate_project.run(workers=2)
    # Wrong answers fail their tests (the baseline's on improve, both on same), yet the
    # gate decides the exit status: nothing regressed.
    assert "35 failed" in serial.stdout.str() and "35 failed" in parallel.stdout.str()
    assert serial.ret == parallel.ret == 0
    assert gate_project.summary() == serial_summary
    assert gate_project.verdicts() == {"improve": "pass", "same": "pass"}
    parallel.stdout.fnmatch_lines(["*gate PASS: exit status 0*"])


def test_errors_fail_the_gate_and_a_no_answer_jump_is_a_finding(gate_project):
    gate_project.bench("fmt")
    gate_project.bench("errs")
    result = gate_project.run(workers=0)
    assert result.ret == 1
    summary = gate_project.summary()
    reasons = summary["gate"]["reasons"]
    assert any(
        r.startswith("errs: cand: error rate 33.3% (10/30) above --max-error-rate 0.05")
        for r in reasons
    ), reasons
    notes = summary["gate"]["notes"]
    assert any(
        "fmt: cand vs base: no_answer jump: format failures rose from 0.0% to 40.0%" in n
        for n in notes
    ), notes
    assert any("errs: cand vs base: 10 items with an error outcome left out" in n for n in notes)
    errs = gate_project.comparison("errs")
    assert errs["n"] == 20 and errs["n_errors_excluded"] == 10 and errs["table"]["b"] == 0
    assert gate_project.comparison("fmt")["no_answer"]["newly"] == 12
    result.stdout.fnmatch_lines(
        ["*benchgate findings*", "*no_answer jump*", "*gate FAIL*", "*error rate 33.3%*"]
    )

    # The same errors under a looser limit: fmt still regresses, errs alone passes the gate.
    (gate_project.path / "tests" / "benchmarks" / "test_fmt.py").unlink()
    lenient = gate_project.run("--max-error-rate", "0.5", workers=0)
    assert lenient.ret == 0, lenient.stdout.str()[-2000:]
    assert gate_project.summary()["gate"]["reasons"] == []


def test_gate_off_strict_power_and_inconclusive(gate_project):
    gate_project.bench("same", n=20)  # too few items to rule out a 5-point drop
    default = gate_project.run(workers=0)
    assert default.ret == 0  # inconclusive passes; the 20 wrong answers do not decide
    assert gate_project.verdicts() == {"same": "inconclusive"}
    assert "'no regression' cannot be claimed" in gate_project.comparison("same")["reason"]
    default.stdout.fnmatch_lines(["INCONCLUSIVE: same, cand vs base*"])

    strict = gate_project.run("--strict-power", workers=0)
    assert strict.ret == 1
    assert "--strict-power fails the gate" in gate_project.summary()["gate"]["reasons"][0]

    off = gate_project.run("--gate", "off", "--strict-power", workers=0)
    assert off.ret == 1  # pytest's own status: items failed
    off.stdout.fnmatch_lines(["*--gate off: pytest's own exit status is kept*"])
    wider = gate_project.run("--mde-max", "30", workers=0)
    assert wider.ret == 0 and gate_project.verdicts() == {"same": "pass"}

    # -x stops at the first wrong answer: a verdict on part of the items does not decide.
    first_failure = gate_project.run("-x", "--mde-max", "30", workers=0)
    assert first_failure.ret == 1
    first_failure.stdout.fnmatch_lines(["*the run was cut short (stopping after 1 failures)*"])

    # A failing test that is not a benchmark item keeps pytest's failure status.
    (gate_project.path / "tests" / "benchmarks" / "test_plain.py").write_text(
        "def test_plain():\n    assert 1 == 2\n"
    )
    mixed = gate_project.run("--mde-max", "30", workers=0)
    assert mixed.ret == 1 and gate_project.verdicts() == {"same": "pass"}
    mixed.stdout.fnmatch_lines(["*gate PASS: exit status 1*", "*1 failing non-benchmark tests*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--baseline", "nope"],
            "--baseline nope: not a model of this run. Fix: use one of base, cand",
        ),
        (["--candidate", "base"], "--candidate base: it is the baseline"),
        (["--alpha", "1.5"], "--alpha: alpha must be in (0, 1), got 1.5"),
        (["--mde-max", "500"], "--mde-max is in accuracy points, 0 to 100 (got 500)"),
        (["--baseline-run", "no/such/run"], "--baseline-run *no/such/run: no run.json there"),
    ],
)
def test_configuration_errors_are_usage_errors(gate_project, args, message):
    gate_project.bench("same", n=5)
    result = gate_project.run(*args, workers=0)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_compare_all_runs_every_pair_with_holm_over_the_family(gate_project):
    (gate_project.path / "models.yaml").write_text(
        gate_project.path.joinpath("models.yaml").read_text()
        + "  - id: third\n    backend: scripted\n    model: base.yaml\n"
    )
    gate_project.bench("regress")
    result = gate_project.run("--compare", "all", workers=0)
    assert result.ret == 1
    pairs = [
        (c["baseline"], c["candidate"], c["verdict"]) for c in gate_project.summary()["comparisons"]
    ]
    assert pairs == [
        ("base", "cand", "regression"),
        ("base", "third", "inconclusive"),
        ("cand", "third", "pass"),
    ]
    raw = sorted(c["pvalue_regression"] for c in gate_project.summary()["comparisons"])
    holm = sorted(c["pvalue_regression_holm"] for c in gate_project.summary()["comparisons"])
    assert holm[0] == pytest.approx(3 * raw[0])


def test_stored_baseline_pairs_by_item_id_and_refuses_a_mismatch(gate_project):
    for name in ("regress", "same"):
        gate_project.bench(name)
    first = gate_project.run("--models", "base", workers=0)
    assert first.ret == 0  # one model: nothing to compare, wrong answers do not decide
    (stored,) = gate_project.run_dirs()
    assert json.loads((stored / "run.json").read_text())["outcomes"]["count"] == 110

    # Today: only the candidate, on a seeded subset of the items, paired by item id.
    today = gate_project.run(
        "--models", "cand", "--baseline-run", str(stored), "--limit", "20", workers=0
    )
    assert today.ret == 1, today.stdout.str()[-3000:]
    regress = gate_project.comparison("regress")
    assert regress["baseline"] == f"base@{stored.name}" and regress["baseline_run"] == stored.name
    assert regress["n"] == 20 and regress["n_baseline_only"] == 10
    assert regress["verdict"] == "regression"
    outcomes = [
        json.loads(line)
        for line in (gate_project.reports / "results.jsonl").read_text().splitlines()
    ]
    ran = sorted(o["item_id"] for o in outcomes if o["benchmark"] == "regress")
    assert regress["regressions"] == [i for i in ran if int(i[1:]) < 12]
    assert gate_project.comparison("same")["n"] == 20
    today.stdout.fnmatch_lines([f"*regress*base@{stored.name}*cand*20*regression*"])

    # A changed benchmark version is refused as a usage error, early (the controller stops
    # the xdist workers at the first outcome of that benchmark).
    gate_project.bench("regress", version=2)
    changed = gate_project.run("--models", "cand", "--baseline-run", str(stored), workers=2)
    assert changed.ret == pytest.ExitCode.USAGE_ERROR
    changed.stdout.fnmatch_lines(
        [
            "*--baseline-run refused: benchmark regress is version 2 now "
            "but version 1 in the stored run*Fix:*"
        ]
    )
    # So is other data (a different dataset hash).
    gate_project.bench("regress")
    gate_project.bench("same", question="What is two plus two?")
    edited = gate_project.run("--models", "cand", "--baseline-run", str(stored), workers=0)
    assert edited.ret == pytest.ExitCode.USAGE_ERROR
    edited.stdout.fnmatch_lines(["*--baseline-run refused: benchmark same has dataset hash*"])

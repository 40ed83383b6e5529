"""Whole pytest sessions of the gate on scripted models: verdicts, exit statuses, reports.

Every session runs in a subprocess (pytester). The same project is run with ``-n 0`` and
``-n 2`` where the issue asks for identical summaries, verdicts and exit statuses.
"""

from __future__ import annotations

import json

import pytest


def _without_run_line(markdown: str) -> str:
    """The text without what differs between identical runs: run ids and times."""
    import re

    text = re.sub(r"\d{8}T\d{6}Z-[0-9a-f]{6}", "RUN", markdown)
    return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d", "TIME", text)


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
    assert gate["headline"].startswith("gate FAIL: regress: cand vs base: regression")

    for result in (serial, parallel):
        out = result.stdout.str()
        # The comparison table follows the collector's accuracy table.
        assert out.index("benchgate accuracy") < out.index("benchgate comparisons")
        result.stdout.fnmatch_lines(
            [
                "*benchmark*baseline*candidate*n*base %*cand %*diff pts*b*c*p regr. (Holm)*"
                "MDD pts*verdict*",
                "*regress*base*cand*30*100.0*60.0*-40.0*12*0*regression*",
                "REGRESSION: regress, cand vs base: candidate drops 40.0 pts*",
                "gate FAIL: regress: cand vs base: regression*; exit status 1",
            ]
        )
        # The verdict is the last benchgate line, right above pytest's own counts.
        assert result.stdout.lines[-2].startswith("gate FAIL")
        assert "233 passed, 47 incorrect" in result.stdout.lines[-1]

    # summary.md is the same for -n 0 and -n 2 (but for the run's id and times).
    assert _without_run_line(serial_md) == _without_run_line(
        (gate_project.reports / "summary.md").read_text()
    )
    plots = sorted((gate_project.reports / "plots").glob("*.png"))
    assert plots and all(_png(p) for p in plots)

    runs = gate_project.run_dirs()
    assert len(runs) == 2
    manifest = json.loads((runs[-1] / "run.json").read_text())
    assert manifest["schema_version"] == 2
    assert manifest["plan"]["benchmarks"]["same"]["items"][:2] == ["q000", "q001"]
    assert manifest["session"]["pytest_exit_status"] == 1
    assert [m["id"] for m in manifest["models"]] == ["base", "cand"]
    assert manifest["models"][0]["backend_identity"]["backend"] == "scripted"
    assert set(manifest["benchmarks"]) == {"regress", "improve", "same"}
    assert manifest["benchmarks"]["same"]["items"] == {"base": 80, "cand": 80}
    assert len((runs[-1] / "outcomes.jsonl").read_text().splitlines()) == 2 * (30 + 30 + 80)


def test_junit_xml_carries_the_verdict_as_properties(gate_project):
    gate_project.bench("regress")
    result = gate_project.run("--junitxml=junit.xml", workers=0)
    assert result.ret == 1
    import xml.etree.ElementTree as ET

    suite = ET.parse(gate_project.path / "junit.xml").getroot().find("testsuite")
    props = {p.get("name"): p.get("value") for p in suite.iter("property")}
    assert props["benchgate.gate"] == "fail" and props["benchgate.exit_status"] == "1"
    assert props["benchgate.regress.cand"] == "regression"
    assert props["benchgate.headline"].startswith("gate FAIL: regress")


def test_collect_only_runs_no_gate(gate_project):
    gate_project.bench("same", n=5)
    result = gate_project.run("--collect-only", "-q", workers=0)
    assert result.ret == 0
    assert "gate " not in result.stdout.str() and not (gate_project.reports / "runs").exists()


def test_without_a_regression_the_gate_passes_for_n0_and_n2(gate_project):
    for name in ("improve", "same"):
        gate_project.bench(name)
    serial = gate_project.run(workers=0)
    serial_summary = gate_project.summary()
    parallel = gate_project.run(workers=2)
    # Wrong answers fail their tests (the baseline's on improve, both on same), yet the
    # gate decides the exit status: nothing regressed.
    assert "35 incorrect" in serial.stdout.str() and "35 incorrect" in parallel.stdout.str()
    assert "FAILED" not in serial.stdout.str()  # no -ra flood of benchmark items
    assert serial.ret == parallel.ret == 0
    assert gate_project.summary() == serial_summary
    assert gate_project.verdicts() == {"improve": "pass", "same": "pass"}
    parallel.stdout.fnmatch_lines(["gate PASS: no regression in 2 comparison(s); exit status 0"])


def test_errors_fail_the_gate_and_a_no_answer_jump_is_a_finding(gate_project):
    gate_project.bench("fmt")
    gate_project.bench("errs")
    result = gate_project.run(workers=0)
    assert result.ret == 1
    summary = gate_project.summary()
    reasons = summary["gate"]["reasons"]
    assert any(
        r.startswith("errs: cand: error rate 33.3% (10/30) above --max-error-rate 5%")
        for r in reasons
    ), reasons
    findings = [f["message"] for f in summary["findings"]]
    assert any(
        "fmt: cand vs base: no_answer jump: format failures rose from 0.0% to 40.0%" in n
        for n in findings
    ), findings
    assert any("errs: cand vs base: 10 item(s) with an error outcome left out" in n
               for n in findings)
    errs = gate_project.comparison("errs")
    assert errs["n"] == 20 and errs["n_errors_excluded"] == 10 and errs["table"]["b"] == 0
    assert errs["worst_case"]["b"] == 10 and errs["worst_case"]["regression"] is True
    assert gate_project.comparison("fmt")["no_answer"]["newly"] == 12
    result.stdout.fnmatch_lines(
        ["*benchgate findings*", "*no_answer jump*", "*error rate 33.3%*", "gate FAIL*"]
    )

    # Under a looser error limit the errors still cannot hide a regression: counted
    # against the candidate, the 10 errors on items the baseline got right are one.
    (gate_project.path / "tests" / "benchmarks" / "test_fmt.py").unlink()
    lenient = gate_project.run("--max-error-rate", "50%", workers=0)
    assert lenient.ret == 1, lenient.stdout.str()[-2000:]
    reasons = gate_project.summary()["gate"]["reasons"]
    assert len(reasons) == 1 and "errors could hide a regression" in reasons[0]


def test_gate_off_strict_power_and_inconclusive(gate_project):
    gate_project.bench("same", n=20)  # too few items to rule out a 5-point drop
    default = gate_project.run(workers=0)
    assert default.ret == 0  # inconclusive passes; the 20 wrong answers do not decide
    assert gate_project.verdicts() == {"same": "inconclusive"}
    assert "'no regression' cannot be claimed" in gate_project.comparison("same")["reason"]
    default.stdout.fnmatch_lines(["gate PASS: no regression in 1 comparison(s); 1 of 1 "
                                  "comparisons underpowered (n=20 detects only >= *"])

    strict = gate_project.run("--strict-power", workers=0)
    assert strict.ret == 1
    assert "--strict-power fails the gate" in gate_project.summary()["gate"]["reasons"][0]

    off = gate_project.run("--gate", "off", "--strict-power", workers=0)
    assert off.ret == 1  # pytest's own status: items failed
    off.stdout.fnmatch_lines(["gate off (would be: FAIL: *--gate off: pytest's own exit status (1)*"])
    wider = gate_project.run("--mde-max", "30pt", workers=0)
    assert wider.ret == 0 and gate_project.verdicts() == {"same": "pass"}

    # -x stops at the first wrong answer: the gate is not evaluated on part of the items.
    first_failure = gate_project.run("-x", "--mde-max", "30pt", workers=0)
    assert first_failure.ret == 1
    first_failure.stdout.fnmatch_lines(
        ["gate NOT EVALUATED (partial run: *stopped early (stopping after 1 failures)*"]
    )

    # A failing test that is not a benchmark item keeps pytest's failure status.
    (gate_project.path / "tests" / "benchmarks" / "test_plain.py").write_text(
        "def test_plain():\n    assert 1 == 2\n"
    )
    mixed = gate_project.run("--mde-max", "30pt", workers=0)
    assert mixed.ret == 1 and gate_project.verdicts() == {"same": "pass"}
    mixed.stdout.fnmatch_lines(["gate PASS*exit status 1: 1 failing non-benchmark test(s)*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--baseline", "nope"],
            "--baseline nope: not a model of this run. Fix: use one of base, cand",
        ),
        (["--candidate", "base"], "--candidate base: it is the baseline"),
        (["--alpha", "1.5"], "--alpha '1.5' is ambiguous*Fix: write 1.5pt*"),
        (["--alpha", "100%"], "--alpha: alpha must be in (0, 1), got 1.0"),
        (["--mde-max", "500"], "--mde-max '500' is ambiguous*"),
        (["--mde-max", "5 apples"], "--mde-max '5 apples': not a number*"),
        (["--gate", "record"], "--gate record stores a run of the baseline alone*"),
        (["--baseline-run", "no/such/run"], "--baseline-run *no/such/run: no run.json there"),
    ],
)
def test_configuration_errors_are_usage_errors(gate_project, args, message):
    gate_project.bench("same", n=5)
    result = gate_project.run(*args, workers=0)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}*"])


def test_compare_all_reports_every_pair_and_gates_on_roles(gate_project):
    (gate_project.path / "models.yaml").write_text(
        gate_project.path.joinpath("models.yaml").read_text()
        + "  - id: third\n    backend: scripted\n    model: base.yaml\n"
    )
    gate_project.bench("regress")
    result = gate_project.run("--compare", "all", workers=0)
    assert result.ret == 1
    summary = gate_project.summary()
    pairs = [(c["baseline"], c["candidate"], c["verdict"]) for c in summary["comparisons"]]
    assert pairs == [("base", "cand", "regression")]
    reported = [(c["baseline"], c["candidate"], c["gating"]) for c in summary["reported"]]
    assert reported == [("base", "third", False), ("cand", "third", False)]
    # Holm within each family: the gating one has one member, the reported one two.
    (gating,) = summary["comparisons"]
    assert gating["pvalue_regression_holm"] == pytest.approx(gating["pvalue_regression"])
    (table,) = summary["multi_model"]
    assert table["models"] == ["base", "third", "cand"] and table["n"] == 30


def test_stored_baseline_pairs_by_item_id_and_refuses_a_mismatch(gate_project):
    for name in ("regress", "same"):
        gate_project.bench(name)
    first = gate_project.run("--models", "base", "--gate", "record", workers=0)
    assert first.ret == 0  # the baseline alone, recorded: everything planned was measured
    (stored,) = gate_project.run_dirs()
    assert json.loads((stored / "run.json").read_text())["outcomes"]["count"] == 110

    # Today: only the candidate, on a seeded subset of the items, paired by item id.
    today = gate_project.run(
        "--models", "cand", "--baseline-run", str(stored), "--limit", "20", workers=0
    )
    assert today.ret == 1, today.stdout.str()[-3000:]
    regress = gate_project.comparison("regress")
    assert regress["baseline"] == f"base@{stored.name}" and regress["baseline_run"] == stored.name
    assert regress["n"] == 20 and regress["n_baseline_only"] == 10  # extra stored items
    assert regress["verdict"] == "regression"
    outcomes = [
        json.loads(line)
        for line in (gate_project.reports / "results.jsonl").read_text().splitlines()
    ]
    ran = sorted(o["item_id"] for o in outcomes if o["benchmark"] == "regress")
    assert regress["regressions"] == [i for i in ran if int(i[1:]) < 12]
    assert gate_project.comparison("same")["n"] == 20
    today.stdout.fnmatch_lines([f"*regress*base@{stored.name}*cand*20*regression*"])

    # A changed benchmark version is refused as a usage error, early: the controller checks
    # the plan the first worker delivers, before any test runs.
    gate_project.bench("regress", version=2)
    changed = gate_project.run("--models", "cand", "--baseline-run", str(stored), workers=2)
    assert changed.ret == pytest.ExitCode.USAGE_ERROR
    changed.stdout.fnmatch_lines(
        ["*--baseline-run refused*benchmark regress is version 2 now but version 1 in the "
         "stored run*Fix:*"]
    )
    assert "collected" not in changed.stdout.str().split("refused")[0].split("\n")[-1]
    # So is other data (a different dataset hash).
    gate_project.bench("regress")
    gate_project.bench("same", question="What is two plus two?")
    edited = gate_project.run("--models", "cand", "--baseline-run", str(stored), workers=0)
    assert edited.ret == pytest.ExitCode.USAGE_ERROR
    edited.stdout.fnmatch_lines(["*--baseline-run refused*benchmark same has dataset hash*"])

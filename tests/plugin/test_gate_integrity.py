"""The gate never goes green on a run it did not measure (issue 10, paths 1-10).

Every test runs whole pytest sessions on the real GSM8K and MMLU data (../shared/data,
100 items each), answered by scripted models that plant exactly the outcomes a path needs,
and asserts the exit status and the reason printed; each path also runs with nothing wrong
and must PASS. Paths 1-4 are fail-closed: the exit status 0 they had before would fail
these tests.
"""

from __future__ import annotations

import json

import pytest

BASE, CAND = ("base", "baseline", "base"), ("cand", "candidate", "cand")


def _regress_first(k: int):
    """Plant: the first ``k`` items of each benchmark answered wrong."""
    return lambda bench, index, item: "wrong" if index < k else "right"


def _last_line(result: pytest.RunResult) -> str:
    lines = [line for line in result.stdout.lines if line.startswith("gate ")]
    assert lines, result.stdout.str()[-3000:]
    return lines[-1]


# --- path 1: --lf after a failing gate -------------------------------------------------------


def test_1_last_failed_rerun_is_not_evaluated_never_a_pass(real_project):
    real_project.script("base")
    real_project.script("cand", _regress_first(18))  # 36 regressions on 200 items
    real_project.models(BASE, CAND)
    first = real_project.run()
    assert first.ret == 1, first.stdout.str()[-3000:]
    assert "gate FAIL" in _last_line(first) and "regression" in _last_line(first)

    again = real_project.run("--lf")
    # The re-run selects only the 36 failed items: the gate cannot see the other 364 and
    # must not compare what is left (old behaviour: exit 0 on the 36 both got wrong).
    assert again.ret == 1, again.stdout.str()[-3000:]
    line = _last_line(again)
    assert line.startswith("gate NOT EVALUATED (partial run:"), line
    assert "--lf" in again.stdout.str()
    summary = real_project.summary()
    assert summary["gate"]["status"] == "not_evaluated"
    assert summary["gate"]["exit_status"] == again.ret == 1
    assert summary["comparisons"] == []  # no benchmark complete on both sides


def test_1_last_failed_with_nothing_failed_runs_everything_and_passes(real_project):
    real_project.script("base")
    real_project.script("cand")
    real_project.models(BASE, CAND)
    assert real_project.run().ret == 0
    again = real_project.run("--lf")
    assert again.ret == 0, again.stdout.str()[-3000:]
    assert _last_line(again).startswith("gate PASS")


# --- path 2: a stored baseline that does not cover this run's selection ----------------------


def test_2_stored_baseline_with_another_seed_is_refused_naming_the_option(real_project):
    real_project.script("base", seeds=(0, 1))
    real_project.script("cand", _regress_first(18), seeds=(0, 1))
    real_project.models(BASE, CAND)
    stored = real_project.run("--models", "base", "--gate", "record", "--seed", "0")
    assert stored.ret == 0, stored.stdout.str()[-3000:]
    assert _last_line(stored).startswith("gate RECORD: 200 item outcomes measured")
    (run_dir,) = real_project.run_dirs()

    other = real_project.run("--models", "cand", "--baseline-run", str(run_dir), "--seed", "1")
    assert other.ret == pytest.ExitCode.USAGE_ERROR
    text = other.stdout.str() + other.stderr.str()
    assert "--baseline-run refused" in text and "gsm8k" in text
    assert "--seed stored 0, now 1" in text and "Fix:" in text

    same = real_project.run("--models", "cand", "--baseline-run", str(run_dir), "--seed", "0")
    assert same.ret == 1  # the planted regression is found against the stored baseline
    comp = {c["benchmark"]: c for c in real_project.summary()["comparisons"]}
    assert comp["gsm8k"]["baseline"] == f"base@{run_dir.name}" and comp["gsm8k"]["n"] == 100
    assert comp["gsm8k"]["table"]["b"] == 18 and comp["gsm8k"]["verdict"] == "regression"


def test_2_stored_baseline_with_more_items_pairs_the_subset_and_says_so(real_project):
    real_project.script("base", limit=150)
    real_project.script("cand", limit=150)
    real_project.models(BASE, CAND)
    assert real_project.run("--models", "base", "--gate", "record", limit=150).ret == 0
    (run_dir,) = real_project.run_dirs()
    result = real_project.run(
        "--models", "cand", "--baseline-run", str(run_dir), "--mde-max", "50pt"
    )
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert _last_line(result).startswith("gate PASS")
    findings = [f["message"] for f in real_project.summary()["findings"]]
    assert any("beyond this run's selection" in f for f in findings), findings
    result.stdout.fnmatch_lines(["*stored baseline has * item(s) beyond this run's selection*"])


# --- path 3: no comparison planned --------------------------------------------------------


def test_3_no_roles_and_no_baseline_is_a_usage_error_with_the_fix(real_project):
    real_project.script("base")
    real_project.script("cand")
    real_project.models(("base", None, "base"), ("cand", None, "cand"))
    result = real_project.run()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*no comparison is planned*Fix: mark one model 'role: baseline'*"])
    off = real_project.run("--gate", "off")
    assert off.ret == 0  # pytest's own status: every item right
    assert "gate off" in _last_line(off)
    named = real_project.run("--baseline", "base")
    assert named.ret == 0 and _last_line(named).startswith("gate PASS")


# --- path 4: nothing measured ---------------------------------------------------------------


def test_4_an_empty_data_dir_fails_with_the_reason(real_project, tmp_path):
    real_project.script("base")
    real_project.script("cand")
    real_project.models(BASE, CAND)
    empty = tmp_path / "empty"
    empty.mkdir()
    result = real_project.run(f"--data-dir={empty}")
    assert result.ret == 1, result.stdout.str()[-3000:]
    line = _last_line(result)
    assert line.startswith("gate FAIL: nothing was measured"), line
    assert "gsm8k" in result.stdout.str() and "does not exist" in result.stdout.str()
    assert real_project.summary()["gate"]["status"] == "fail"


def test_4_the_hub_unreachable_fails_with_the_reason(real_project, monkeypatch):
    real_project.script("base")
    real_project.script("cand")
    real_project.models(BASE, CAND)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_DATASETS_OFFLINE", "1")
    monkeypatch.delenv("BENCHGATE_DATA_DIR", raising=False)
    # No --data-dir: the data comes from the hub, which is unreachable.
    result = real_project.pytester.runpytest_subprocess("-n", "2", "--no-cache", "--limit=5")
    assert result.ret == 1, result.stdout.str()[-3000:]
    assert _last_line(result).startswith("gate FAIL: nothing was measured")
    assert "Hugging Face hub" in result.stdout.str()


def test_4_required_benchmark_without_data_fails_and_optional_is_named(real_project, tmp_path):
    real_project.script("base")
    real_project.script("cand")
    real_project.models(BASE, CAND)
    (real_project.path / "tests" / "benchmarks" / "test_finqa.py").write_text(
        "from benchgate.benchmarks.finqa import FinQA\nfrom benchgate.plugin.fixtures import "
        "check_outcome\n\nBENCHMARK = FinQA\n\n\ndef test_finqa(bench_outcome):\n"
        "    check_outcome(bench_outcome)\n"
    )
    optional = real_project.run("--mde-max", "50pt")
    assert optional.ret == 0, optional.stdout.str()[-3000:]
    assert "finqa not measured" in _last_line(optional)
    required = real_project.run("--benchmarks", "gsm8k,finqa", "--mde-max", "50pt")
    assert required.ret == 1
    assert "required benchmark finqa not measured" in _last_line(required)
    # A required benchmark that no test module collects fails too (a typo, a lost module).
    typo = real_project.run("--benchmarks", "gsm8k,mmlu,piqa", "--mde-max", "50pt")
    assert typo.ret == 1
    assert "required benchmark piqa not measured: no test module" in _last_line(typo)


# --- path 5: errors cannot hide regressions ------------------------------------------------


def test_5_candidate_errors_where_the_baseline_was_right_fail_the_worst_case(real_project):
    real_project.script("base")
    real_project.script("cand", lambda b, i, item: "error" if i < 5 else "right")  # 5% errors
    real_project.models(BASE, CAND)
    result = real_project.run()
    assert result.ret == 1, result.stdout.str()[-3000:]
    assert "errors could hide a regression" in _last_line(result)
    comp = real_project.summary()["comparisons"][0]
    assert comp["n_errors_excluded"] == 5 and comp["worst_case"]["regression"] is True
    # Under --max-error-rate (5% is not above it): only the worst case fails the gate.
    assert not any("error rate" in r for r in real_project.summary()["gate"]["reasons"])


def test_5_few_errors_on_items_both_got_wrong_pass(real_project):
    real_project.script("base", lambda b, i, item: "wrong" if i < 30 else "right")
    real_project.script(
        "cand", lambda b, i, item: "error" if i < 2 else ("wrong" if i < 30 else "right")
    )
    real_project.models(BASE, CAND)
    result = real_project.run("--mde-max", "50pt")
    assert result.ret == 0, result.stdout.str()[-3000:]
    assert _last_line(result).startswith("gate PASS")


# --- path 6: --compare all does not depend on file order ----------------------------------


@pytest.mark.parametrize("order", [("m1", "m2"), ("m2", "m1")])
def test_6_compare_all_gates_on_roles_only_whatever_the_order(real_project, order):
    real_project.script("base", lambda b, i, item: "wrong" if i < 50 else "right")  # 50%
    real_project.script("m1", lambda b, i, item: "wrong" if i < 10 else "right")  # 90%
    real_project.script("m2", lambda b, i, item: "wrong" if i < 25 else "right")  # 75%
    real_project.models(*[(m, "candidate", m) for m in order], ("base", "baseline", "base"))
    result = real_project.run("--compare", "all")
    assert result.ret == 0, result.stdout.str()[-3000:]
    summary = real_project.summary()
    gating = sorted((c["baseline"], c["candidate"], c["verdict"]) for c in summary["comparisons"])
    assert gating == [
        ("base", "m1", "pass"),
        ("base", "m1", "pass"),
        ("base", "m2", "pass"),
        ("base", "m2", "pass"),
    ]
    reported = {(c["baseline"], c["candidate"]) for c in summary["reported"]}
    assert reported == {tuple(order)}  # m1 vs m2 is reported, never gating
    multi = {t["benchmark"]: t for t in summary["multi_model"]}
    assert multi["gsm8k"]["models"] == ["m1", "m2", "base"]
    assert multi["gsm8k"]["cochran_q"] > 0 and multi["gsm8k"]["pvalue"] < 0.05


def test_6_a_candidate_worse_than_the_baseline_fails_in_either_order(real_project):
    real_project.script("base", lambda b, i, item: "wrong" if i < 10 else "right")
    real_project.script("m1", lambda b, i, item: "wrong" if i < 10 else "right")
    real_project.script("m2", lambda b, i, item: "wrong" if i < 40 else "right")
    for order in (("m1", "m2"), ("m2", "m1")):
        real_project.models(("base", "baseline", "base"), *[(m, "candidate", m) for m in order])
        result = real_project.run("--compare", "all")
        assert result.ret == 1
        assert "m2 vs base: regression" in _last_line(result)


# --- path 7: reports record the real exit status ---------------------------------------------


def test_7_gate_off_and_stop_early_record_the_process_exit_status(real_project):
    real_project.script("base", lambda b, i, item: "wrong" if i < 3 else "right")
    real_project.script("cand", lambda b, i, item: "wrong" if i < 3 else "right")
    real_project.models(BASE, CAND)
    off = real_project.run("--gate", "off", "--mde-max", "50pt")
    assert off.ret == 1  # pytest's own: wrong answers are failed tests
    gate = real_project.summary()["gate"]
    assert gate["exit_status"] == 1 and gate["would_be"] == "pass" and gate["status"] == "off"
    assert "--gate off" in gate["differs"]
    md = (real_project.reports / "summary.md").read_text()
    assert "exit status 1" in md

    stopped = real_project.run("-x", "--mde-max", "50pt")
    assert stopped.ret == 1
    gate = real_project.summary()["gate"]
    assert gate["exit_status"] == 1 and gate["status"] == "not_evaluated"
    assert "stopped early" in _last_line(stopped)

    clean = real_project.run("--mde-max", "50pt")
    assert clean.ret == 0 and real_project.summary()["gate"]["exit_status"] == 0


# --- path 8: --fail-on turns a finding into a failing status -------------------------------


def test_8_no_answer_jump_on_items_already_wrong_fails_only_with_fail_on(real_project):
    real_project.script("base", lambda b, i, item: "wrong" if i < 30 else "right")
    real_project.script("cand", lambda b, i, item: "none" if i < 30 else "right")
    real_project.models(BASE, CAND)
    default = real_project.run("--mde-max", "50pt")
    assert default.ret == 0, default.stdout.str()[-3000:]
    kinds = [f["kind"] for f in real_project.summary()["findings"]]
    assert kinds.count("no-answer-jump") == 2
    strict = real_project.run("--mde-max", "50pt", "--fail-on", "no-answer-jump")
    assert strict.ret == 1
    assert "--fail-on no-answer-jump" in _last_line(strict)
    bad = real_project.run("--fail-on", "no-such-kind")
    assert bad.ret == pytest.ExitCode.USAGE_ERROR
    bad.stderr.fnmatch_lines(["*unknown finding kind no-such-kind*"])


# --- path 9: one unit for every threshold ----------------------------------------------------


def test_9_thresholds_take_percent_points_or_fractions_and_refuse_ambiguity(real_project):
    real_project.script("base")
    real_project.script("cand")
    real_project.models(BASE, CAND)
    settings = []
    for value in ("5pt", "5%", "0.05"):
        result = real_project.run("--mde-max", value, "--max-error-rate", "5%")
        assert result.ret == 0, result.stdout.str()[-2000:]
        settings.append(real_project.summary()["gate"]["settings"]["mde_max"])
    assert settings == [0.05, 0.05, 0.05]
    for option in ("--mde-max", "--max-error-rate", "--alpha"):
        bad = real_project.run(option, "5")
        assert bad.ret == pytest.ExitCode.USAGE_ERROR
        bad.stderr.fnmatch_lines([f"*{option} '5' is ambiguous*Fix: write 5pt*"])


# --- path 10: every comparison inconclusive ----------------------------------------------


def test_10_all_inconclusive_says_so_in_the_verdict_line(real_project):
    real_project.script("base", lambda b, i, item: "wrong" if i % 3 == 0 else "right")
    real_project.script("cand", lambda b, i, item: "wrong" if i % 3 == 1 else "right")
    real_project.models(BASE, CAND)
    result = real_project.run(limit=20)
    assert result.ret == 0
    line = _last_line(result)
    assert line.startswith(
        "gate PASS: no regression in 2 comparison(s); 2 of 2 comparisons "
        "underpowered (n=20 detects only >= "
    ), line
    assert "--strict-power to fail" in line
    strict = real_project.run("--strict-power", limit=20)
    assert strict.ret == 1 and "--strict-power fails the gate" in _last_line(strict)
    assert (
        json.loads((real_project.reports / "summary.json").read_text())["gate"]["status"] == "fail"
    )

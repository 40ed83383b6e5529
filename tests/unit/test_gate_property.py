"""Property: the gate never returns PASS unless every planned pair was measured on both sides.

Random plans (benchmarks x items x two models), random outcome tables (right, wrong,
unanswered, error, or no outcome at all), random deselections and early stops are turned
into run logs and run through the pure :func:`benchgate.gate.build_run`.
"""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from benchgate.gate import build_run
from benchgate.records import Outcome
from benchgate.reporting.runlog import RunLog

STATUSES = ("correct", "incorrect", "no_answer", "error", "missing")
MODELS = ("base", "cand")


def _log(plan_items, table, deselected, stopped, allow_partial=False, pytest_status=1):
    benchmarks = {
        name: {
            "name": name,
            "status": "planned",
            "version": 1,
            "dataset_hash": "h" + name,
            "items": list(items),
            "n_total": len(items),
        }
        for name, items in plan_items.items()
    }
    outcomes = []
    for (model, bench, item), status in table.items():
        if status == "missing":
            continue
        outcomes.append(
            Outcome(
                model=model,
                benchmark=bench,
                benchmark_version=1,
                dataset_hash="h" + bench,
                item_id=item,
                subject=None,
                status=status,
                extracted=None,
                reference="4",
            )
        )
    manifest = {
        "schema_version": 2,
        "run": {"id": "r"},
        "models": [{"id": "base", "role": "baseline"}, {"id": "cand", "role": "candidate"}],
        "settings": {"allow_partial": allow_partial, "mde_max": 1.0},
        "plan": {
            "models": [{"id": "base", "role": "baseline"}, {"id": "cand", "role": "candidate"}],
            "gating": [["base", "cand"]],
            "benchmarks": benchmarks,
            "selection": {"deselected": deselected, "reasons": ["-k 'x'"] if deselected else []},
            "collected": True,
        },
        "session": {
            "pytest_exit_status": pytest_status,
            "gate": "on",
            "stopped_early": "stopping after 1 failures" if stopped else None,
        },
        "benchmarks": {},
        "outcomes": {"count": len(outcomes)},
    }
    return RunLog(path=None, manifest=manifest, outcomes=outcomes)


@st.composite
def runs(draw):
    names = draw(
        st.lists(st.sampled_from(["gsm8k", "mmlu", "sciq"]), min_size=1, max_size=3, unique=True)
    )
    plan_items = {n: [f"q{k}" for k in range(draw(st.integers(1, 12)))] for n in names}
    table = {}
    deselected: dict = {}
    for bench, items in plan_items.items():
        for model in MODELS:
            for item in items:
                status = draw(st.sampled_from(STATUSES))
                table[(model, bench, item)] = status
                if status == "missing" and draw(st.booleans()):
                    deselected.setdefault(bench, {}).setdefault(model, []).append(item)
    return plan_items, table, deselected, draw(st.booleans())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(runs(), st.sampled_from([0, 1]))
def test_pass_only_when_every_planned_pair_was_measured(case, pytest_status):
    plan_items, table, deselected, stopped = case
    verdict = build_run(
        _log(plan_items, table, deselected, stopped, pytest_status=pytest_status)
    ).verdict
    complete = all(status != "missing" for status in table.values())
    if verdict.status == "pass":
        assert complete, (verdict.headline, table)
        assert verdict.exit_status == 0
    if not complete:
        assert verdict.status in ("fail", "not_evaluated"), verdict.headline
        # Never green: exit status 0 means measured and no regression.
        assert verdict.exit_status != 0, verdict.headline
        lost = any(
            status == "missing" and item not in deselected.get(bench, {}).get(model, [])
            for (model, bench, item), status in table.items()
        )
        if lost and not stopped:
            # An unplanned loss fails; it never leaves the exit status to pytest.
            assert verdict.status == "fail" and verdict.exit_status == 1, verdict.headline


@settings(max_examples=100, deadline=None)
@given(runs())
def test_allow_partial_is_the_only_way_a_partial_run_passes(case):
    plan_items, table, deselected, stopped = case
    run = build_run(_log(plan_items, table, deselected, stopped, allow_partial=True))
    if run.verdict.status == "pass" and any(s == "missing" for s in table.values()):
        assert "PARTIAL run allowed by --allow-partial" in run.verdict.headline


def test_a_partial_run_whose_selected_tests_all_passed_is_not_green():
    items = {"gsm8k": [f"q{k}" for k in range(10)]}
    table = {(m, "gsm8k", i): ("correct" if k < 4 else "missing")
             for m in MODELS for k, i in enumerate(items["gsm8k"])}
    deselected = {"gsm8k": {m: items["gsm8k"][4:] for m in MODELS}}
    verdict = build_run(_log(items, table, deselected, False, pytest_status=0)).verdict
    assert verdict.status == "not_evaluated" and verdict.exit_status == 1
    assert "never green" in verdict.differs
    allowed = build_run(
        _log(items, table, deselected, False, allow_partial=True, pytest_status=0)
    ).verdict
    assert allowed.status == "pass" and allowed.exit_status == 0


def test_identical_complete_outcomes_pass():
    items = {"gsm8k": [f"q{k}" for k in range(40)]}
    table = {(m, "gsm8k", i): "correct" for m in MODELS for i in items["gsm8k"]}
    run = build_run(_log(items, table, {}, False))
    assert run.verdict.status == "pass" and run.verdict.exit_status == 0
    assert run.coverage[0].status == "complete"


def test_a_benchmark_lost_whole_under_allow_partial_is_named_partial():
    """Found by the property above: every item of one benchmark missing (not deselected),
    --allow-partial: the run may pass, and its headline must say it is partial."""
    items = {"gsm8k": ["q0"], "mmlu": ["q0"]}
    table = {("base", "gsm8k", "q0"): "correct", ("cand", "gsm8k", "q0"): "correct",
             ("base", "mmlu", "q0"): "missing", ("cand", "mmlu", "q0"): "missing"}
    run = build_run(_log(items, table, {}, False, allow_partial=True))
    assert run.verdict.status == "pass"
    assert "PARTIAL run allowed by --allow-partial" in run.verdict.headline
    assert "mmlu not measured: no outcome" in run.verdict.headline
    strict = build_run(_log(items, table, {}, False)).verdict
    assert strict.status == "fail" and strict.exit_status == 1

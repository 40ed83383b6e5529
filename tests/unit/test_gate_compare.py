"""benchgate.gate: pairing, the 2x2 table, statistics, Holm, verdicts, worst case, stored runs."""

from __future__ import annotations

import math

import pytest

from benchgate import stats
from benchgate.gate import (
    GateSettings,
    IncompatibleRunsError,
    Plan,
    Side,
    ThresholdError,
    build_run,
    compare_family,
    decide,
    detectable_drop,
    error_rates,
    measure,
    pair_outcomes,
    parse_fraction,
    plan_pairs,
)
from benchgate.gate.plan import BenchmarkPlan
from benchgate.gate.stored import stored_problems
from benchgate.records import Outcome
from benchgate.reporting.runlog import RunLog

BASE, CAND = Side("base"), Side("cand")


def outcome(model, item, status, bench="gsm8k", version=1, dataset="h1", **extra):
    return Outcome(
        model=model,
        benchmark=bench,
        benchmark_version=version,
        dataset_hash=dataset,
        item_id=item,
        subject=None,
        status=status,
        extracted=None,
        reference="4",
        **extra,
    )


def planted(a=0, b=0, c=0, d=0, bench="gsm8k", **kw):
    """Outcomes of base and cand with the given 2x2 counts (items i000...)."""
    cells = ["a"] * a + ["b"] * b + ["c"] * c + ["d"] * d
    status = {
        "a": ("correct", "correct"),
        "b": ("correct", "incorrect"),
        "c": ("incorrect", "correct"),
        "d": ("incorrect", "incorrect"),
    }
    base, cand = [], []
    for k, cell in enumerate(cells):
        s_base, s_cand = status[cell]
        base.append(outcome("base", f"i{k:03d}", s_base, bench, **kw))
        cand.append(outcome("cand", f"i{k:03d}", s_cand, bench, **kw))
    return base, cand


def test_pairing_is_by_item_id_whatever_the_order_and_leaves_out_errors():
    base = [
        outcome("base", "x", "correct"),
        outcome("base", "y", "incorrect"),
        outcome("base", "z", "correct"),
        outcome("base", "only-base", "correct"),
        outcome("base", "e", "error"),
    ]
    cand = [
        outcome("cand", "z", "no_answer"),
        outcome("cand", "only-cand", "correct"),
        outcome("cand", "y", "correct"),
        outcome("cand", "x", "correct"),
        outcome("cand", "e", "correct"),
        outcome("cand", "x", "correct", bench="mmlu"),
    ]
    paired = pair_outcomes("gsm8k", BASE, base, CAND, cand)
    assert [(b.item_id, c.item_id) for b, c in paired.pairs] == [("x", "x"), ("y", "y"), ("z", "z")]
    assert paired.errors_excluded == ["e"]
    assert paired.baseline_only == ["only-base"] and paired.candidate_only == ["only-cand"]
    # x: both right (a); z: baseline right, candidate no_answer (b); y: improvement (c).
    assert paired.table() == (1, 1, 1, 0)


def test_pairing_refuses_other_versions_and_other_data():
    base = [outcome("base", "x", "correct", version=1)]
    with pytest.raises(
        IncompatibleRunsError,
        match=r"gsm8k: base was scored with benchmark " r"version 1 and cand with version 2.*Fix:",
    ):
        pair_outcomes("gsm8k", BASE, base, CAND, [outcome("cand", "x", "correct", version=2)])
    with pytest.raises(
        IncompatibleRunsError,
        match=r"dataset hash 'h1' for base but 'h2' for " r"cand.*Fix: point --data-dir",
    ):
        pair_outcomes("gsm8k", BASE, base, CAND, [outcome("cand", "x", "correct", dataset="h2")])
    mixed = [outcome("cand", "x", "correct"), outcome("cand", "y", "correct", dataset="h9")]
    with pytest.raises(IncompatibleRunsError, match="mix benchmark versions"):
        pair_outcomes("gsm8k", BASE, base, CAND, mixed)
    with pytest.raises(ValueError, match="item 'x' occurs twice"):
        pair_outcomes("gsm8k", BASE, base * 2, CAND, [outcome("cand", "x", "correct")])


def test_a_crash_outcome_without_version_or_hash_does_not_block_pairing():
    crashed = outcome("cand", "y", "error", version=0, dataset="")
    paired = pair_outcomes(
        "gsm8k",
        BASE,
        [outcome("base", "x", "correct"), outcome("base", "y", "correct")],
        CAND,
        [outcome("cand", "x", "correct"), crashed],
    )
    assert paired.errors_excluded == ["y"] and paired.table() == (1, 0, 0, 0)


def test_measure_reports_the_stats_functions_on_the_table():
    base, cand = planted(a=50, b=9, c=2, d=9)
    comp = measure(pair_outcomes("gsm8k", BASE, base, CAND, cand), GateSettings())
    assert (comp.n, comp.a, comp.b, comp.c, comp.d) == (70, 50, 9, 2, 9)
    assert comp.pvalue == stats.mcnemar(9, 2, "midp", "two-sided").pvalue
    assert comp.pvalue_regression == stats.mcnemar(9, 2, "midp", "less").pvalue
    assert comp.baseline_accuracy.estimate == pytest.approx(59 / 70)
    assert comp.baseline_accuracy.lower == stats.wilson_interval(59, 70).lower
    assert comp.candidate_accuracy.estimate == pytest.approx(52 / 70)
    diff = stats.paired_accuracy_difference(9, 2, 70)
    assert (comp.difference.estimate, comp.difference.lower) == (diff.estimate, diff.lower)
    assert comp.odds_ratio.estimate == pytest.approx(2 / 9)
    assert comp.cohens_g == stats.cohens_g(9, 2)
    assert comp.drop == pytest.approx(7 / 70)
    assert [f.kind for f in comp.flips] == ["regression"] * 9 + ["improvement"] * 2


def test_holm_is_applied_over_the_whole_family():
    family = []
    for bench, counts in {
        "a": dict(a=40, b=8, c=1),
        "b": dict(a=40, b=5, c=2),
        "c": dict(a=40, b=1, c=6),
    }.items():
        base, cand = planted(bench=bench, **counts)
        family.append(pair_outcomes(bench, BASE, base, CAND, cand))
    comps = compare_family(family, GateSettings())
    raw = [c.pvalue_regression for c in comps]
    assert [c.pvalue_regression_holm for c in comps] == pytest.approx(list(stats.holm(raw)))
    assert [c.pvalue_holm for c in comps] == pytest.approx(
        list(stats.holm([c.pvalue for c in comps]))
    )
    # The MDD is computed at alpha / 3, the level Holm's first step applies.
    mdd, _ = detectable_drop(comps[0].n, 9, 0.05 / 3)
    assert comps[0].mdd == pytest.approx(mdd)


@pytest.mark.parametrize(
    ("counts", "settings", "verdict"),
    [
        (dict(a=60, b=15, c=1, d=4), GateSettings(), "regression"),
        # Significant, but the 17.5-point drop is within a 20-point margin; a 5-point drop
        # cannot be ruled out either.
        (dict(a=60, b=15, c=1, d=4), GateSettings(margin=0.20), "inconclusive"),
        (dict(a=60, b=15, c=1, d=4), GateSettings(margin=0.20, mde_max=0.5), "pass"),
        # Too few items to rule out a 5-point drop.
        (dict(a=15, b=1, c=1, d=3), GateSettings(), "inconclusive"),
        (dict(a=15, b=1, c=1, d=3), GateSettings(mde_max=0.5), "pass"),
        # No change on enough items: the interval excludes a 5-point drop.
        (dict(a=70, d=10), GateSettings(), "pass"),
        # A clear improvement on few items is not inconclusive: the interval excludes a drop.
        (dict(a=10, c=15, d=5), GateSettings(), "pass"),
        # Many items, little discordance: a 5-point drop would have been detected.
        (dict(a=900, b=10, c=12, d=78), GateSettings(), "pass"),
    ],
)
def test_verdicts(counts, settings, verdict):
    base, cand = planted(**counts)
    (comp,) = compare_family([pair_outcomes("gsm8k", BASE, base, CAND, cand)], settings)
    assert comp.verdict == verdict, comp.reason


def test_reasons_say_why():
    base, cand = planted(a=900, b=10, c=12, d=78)
    (comp,) = compare_family([pair_outcomes("gsm8k", BASE, base, CAND, cand)], GateSettings())
    assert "would have been detected" in comp.reason
    base, cand = planted(a=15, b=1, c=1, d=3)
    (comp,) = compare_family([pair_outcomes("gsm8k", BASE, base, CAND, cand)], GateSettings())
    assert "'no regression' cannot be claimed" in comp.reason and "n=20" in comp.reason
    empty = measure(pair_outcomes("gsm8k", BASE, [], CAND, []), GateSettings())
    assert decide(empty, GateSettings()) == (
        "inconclusive",
        "no item was scored for both models without an error",
    )


def test_detectable_drop_has_the_power_it_claims():
    for n, discordant in [(50, 10), (200, 40), (1000, 0), (1000, 300)]:
        mdd, rate = detectable_drop(n, discordant, 0.05)
        assert 0 < mdd <= rate <= 1
        p_regress, p_improve = (rate + mdd) / 2, (rate - mdd) / 2
        assert stats.mcnemar_power(n, p_regress, p_improve, 0.05) == pytest.approx(0.8, abs=1e-6)
    assert detectable_drop(0, 0, 0.05)[0] == math.inf
    assert detectable_drop(3, 1, 0.05)[0] == math.inf  # three items detect nothing
    drops = [detectable_drop(n, n // 5, 0.05)[0] for n in (50, 100, 400, 1600)]
    assert drops == sorted(drops, reverse=True)  # more items, smaller detectable drop
    # No discordance on many items still has a finite, small detectable drop.
    assert detectable_drop(1000, 0, 0.05)[0] < 0.01


def test_no_answer_shift():
    base = [outcome("base", f"i{k}", "correct") for k in range(20)]
    cand = [outcome("cand", f"i{k}", "no_answer" if k < 6 else "correct") for k in range(20)]
    comp = measure(pair_outcomes("gsm8k", BASE, base, CAND, cand), GateSettings())
    na = comp.no_answer
    assert (na.newly, na.fixed, na.baseline_rate, na.candidate_rate) == (6, 0, 0.0, 0.3)
    assert na.rise == pytest.approx(0.3) and na.flagged
    assert na.pvalue == stats.mcnemar(6, 0, alternative="less").pvalue
    comp = measure(pair_outcomes("gsm8k", BASE, base, CAND, cand), GateSettings(no_answer_jump=0.5))
    assert not comp.no_answer.flagged


def test_plan_pairs():
    models = [("a", None), ("base", "baseline"), ("c1", "candidate"), ("c2", "candidate")]
    assert plan_pairs(models) == ([("base", "c1"), ("base", "c2")], [])
    assert plan_pairs(models, baseline="a")[0] == [("a", "c1"), ("a", "c2")]
    assert plan_pairs(models, candidates=["c2", "a"])[0] == [("base", "c2"), ("base", "a")]
    gating, reported = plan_pairs(models, compare_all=True)
    assert gating == [("base", "c1"), ("base", "c2")]  # roles gate, never the file order
    assert reported == [("base", "a"), ("a", "c1"), ("a", "c2"), ("c1", "c2")]
    # The same models in another order gate the same pairs.
    shuffled = [models[3], models[0], models[2], models[1]]
    assert sorted(plan_pairs(shuffled, compare_all=True)[0]) == sorted(gating)
    assert plan_pairs([("x", None), ("y", None)]) == ([], [])  # no baseline: nothing to gate
    assert plan_pairs([("x", "baseline"), ("y", None)])[0] == [("x", "y")]
    with pytest.raises(
        ValueError, match="--baseline nope: not a model of this run. Fix: use one of a, base"
    ):
        plan_pairs(models, baseline="nope")
    with pytest.raises(ValueError, match="--candidate base: it is the baseline"):
        plan_pairs(models, candidates=["base"])
    with pytest.raises(ValueError, match="--candidate needs a baseline"):
        plan_pairs([("x", None), ("y", None)], candidates=["y"])


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("5%", 0.05),
        ("5pt", 0.05),
        ("5 pts", 0.05),
        ("0.05", 0.05),
        ("0", 0.0),
        ("1", 1.0),
        ("12.5%", 0.125),
        (0.3, 0.3),
        ("100%", 1.0),
    ],
)
def test_thresholds_read_percent_points_and_fractions(text, value):
    assert parse_fraction(text, "--mde-max") == pytest.approx(value)


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ("5", "ambiguous.*Fix: write 5pt"),
        ("50", "ambiguous"),
        ("-1%", "finite value >= 0"),
        ("five", "not a number"),
        ("5 %%", "not a number"),
        ("nan", "not a number"),
        ("inf%", "not a number"),
    ],
)
def test_thresholds_refuse_bad_or_ambiguous_values(text, match):
    with pytest.raises(ThresholdError, match=match):
        parse_fraction(text, "--mde-max")


def test_settings_are_validated():
    for kwargs, match in [
        ({"alpha": 0}, r"alpha must be in \(0, 1\)"),
        ({"margin": 1.0}, r"margin must be in \[0, 1\)"),
        ({"mde_max": 0}, r"mde_max must be in \(0, 1\]"),
        ({"max_error_rate": -0.1}, r"max_error_rate must be in \[0, 1\]"),
        ({"power": float("nan")}, "power must be a number"),
    ]:
        with pytest.raises(ValueError, match=match):
            GateSettings(**kwargs)


def _log(outcomes, gating, items, settings=None, stored=(), stored_side=None):
    """A run log of ``outcomes`` with every benchmark's ``items`` planned."""
    plan = Plan(
        models=[("base", "baseline"), ("cand", "candidate")],
        gating=[(Side.from_label(b), Side.from_label(c)) for b, c in gating],
        collected=True,
    )
    for bench, ids in items.items():
        plan.benchmarks[bench] = BenchmarkPlan(
            name=bench, version=1, dataset_hash="h1", items=list(ids), n_total=len(ids)
        )
    manifest = {
        "schema_version": 2,
        "run": {"id": "r1"},
        "models": [],
        "settings": (settings or GateSettings()).to_dict(),
        "plan": plan.to_dict(),
        "session": {"pytest_exit_status": 1, "gate": "on"},
        "benchmarks": {},
        "stored_baseline": (
            {"model": stored_side.model, "run_id": stored_side.run_id} if stored_side else None
        ),
    }
    return RunLog(path=None, manifest=manifest, outcomes=list(outcomes), stored=list(stored))


def test_gate_fails_on_regression_errors_and_strict_power_only():
    base, cand = planted(a=60, b=15, c=1, d=4, bench="math")
    erring = [
        outcome("cand", f"e{k}", "error" if k < 3 else "correct", bench="qa") for k in range(20)
    ]
    erring_base = [outcome("base", f"e{k}", "correct", bench="qa") for k in range(20)]
    items = {"math": [f"i{k:03d}" for k in range(80)], "qa": [f"e{k}" for k in range(20)]}
    run = build_run(_log(base + cand + erring + erring_base, [("base", "cand")], items))
    verdict = run.verdict
    assert verdict.status == "fail" and verdict.exit_status == 1
    assert verdict.reasons[0].startswith("math: cand vs base: regression")
    assert any(
        r.startswith("qa: cand: error rate 15.0% (3/20) above --max-error-rate 5%")
        for r in verdict.reasons
    ), verdict.reasons
    assert [c.benchmark for c in run.comparisons] == ["math", "qa"]
    assert any("3 item(s) with an error outcome left out" in f.message for f in run.findings)
    assert [e.exceeded for e in error_rates(erring, 0.2)] == [False]

    small_base, small_cand = planted(a=15, b=1, c=1, d=3)
    small = {"gsm8k": [f"i{k:03d}" for k in range(20)]}
    lenient = build_run(_log(small_base + small_cand, [("base", "cand")], small))
    assert lenient.verdict.status == "pass" and lenient.verdict.exit_status == 0
    assert lenient.comparisons[0].verdict == "inconclusive"
    assert "1 of 1 comparisons underpowered" in lenient.verdict.headline
    strict = build_run(
        _log(small_base + small_cand, [("base", "cand")], small, GateSettings(strict_power=True))
    )
    assert strict.verdict.status == "fail"
    assert "--strict-power fails the gate" in strict.verdict.reasons[0]


def test_errors_counted_against_the_candidate_can_fail_the_gate():
    base = [outcome("base", f"i{k:03d}", "correct") for k in range(100)]
    cand = [outcome("cand", f"i{k:03d}", "error" if k < 6 else "correct") for k in range(100)]
    items = {"gsm8k": [f"i{k:03d}" for k in range(100)]}
    run = build_run(_log(base + cand, [("base", "cand")], items, GateSettings(max_error_rate=0.1)))
    (comp,) = run.comparisons
    assert comp.verdict == "pass" and comp.n == 94 and comp.n_errors_excluded == 6
    assert (comp.worst_case.b, comp.worst_case.c, comp.worst_case.regression) == (6, 0, True)
    assert run.verdict.status == "fail"
    assert "errors could hide a regression" in run.verdict.reasons[0]
    # Errors on items the baseline also got wrong do not make a worst-case regression.
    base = [outcome("base", f"i{k:03d}", "incorrect" if k < 6 else "correct") for k in range(100)]
    run = build_run(
        _log(base + cand, [("base", "cand")], items, GateSettings(max_error_rate=0.1, mde_max=0.5))
    )
    assert run.comparisons[0].worst_case.regression is False
    assert run.verdict.status == "pass"


def test_gate_with_a_stored_baseline():
    stored_side = Side("base", "20250101T000000Z-abcdef")
    base, cand = planted(a=30, b=12)
    items = {"gsm8k": [f"i{k:03d}" for k in range(42)]}
    run = build_run(
        _log(cand, [(stored_side.label, "cand")], items, stored=base, stored_side=stored_side)
    )
    (comp,) = run.comparisons
    assert comp.baseline.label == "base@20250101T000000Z-abcdef" and comp.verdict == "regression"
    data = comp.to_dict()
    assert data["baseline_run"] == "20250101T000000Z-abcdef" and data["table"]["b"] == 12
    assert data["regressions"] == [f"i{k:03d}" for k in range(30, 42)]


def test_stored_run_problems_name_the_option_and_the_fix():
    plan = Plan(collected=True)
    plan.benchmarks["gsm8k"] = BenchmarkPlan(
        name="gsm8k", version=2, dataset_hash="h1", items=["a", "b"], settings={"shots": 0}
    )
    stored = [outcome("base", i, "correct") for i in ("a", "c")]
    ident = {"gsm8k": {"version": 2, "dataset_hash": "h1", "settings": {"shots": 0}}}
    problems, _ = stored_problems(
        plan, stored, ident, {"limit": 2, "seed": 0}, {"limit": 2, "seed": 1}, "runs/x", "base"
    )
    assert len(problems) == 1 and "--seed stored 0, now 1" in problems[0] and "Fix:" in problems[0]
    problems, _ = stored_problems(
        plan, stored, {"gsm8k": {**ident["gsm8k"], "version": 1}}, {}, {}, "runs/x", "base"
    )
    assert "is version 2 now but version 1 in the stored run" in problems[0]
    problems, _ = stored_problems(
        plan,
        stored,
        {"gsm8k": {**ident["gsm8k"], "dataset_hash": "h9"}},
        {"data_dir": "/a"},
        {"data_dir": "/b"},
        "runs/x",
        "base",
    )
    assert "dataset hash 'h1' now but 'h9'" in problems[0] and "/a" in problems[0]
    problems, _ = stored_problems(
        plan,
        stored,
        {"gsm8k": {**ident["gsm8k"], "settings": {"shots": 5}}},
        {},
        {},
        "runs/x",
        "base",
    )
    assert "--shots stored 5, now 0" in problems[0]
    problems, extra = stored_problems(
        plan, [outcome("base", i, "correct") for i in "abcd"], ident, {}, {}, "runs/x", "base"
    )
    assert problems == [] and extra == {"gsm8k": 2}
    problems, _ = stored_problems(plan, [], {"gsm8k": None}, {}, {}, "runs/x", "base")
    assert "has no outcome of base on it" in problems[0]

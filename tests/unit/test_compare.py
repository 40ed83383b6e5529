"""benchgate.compare: pairing, the 2x2 table, statistics, Holm, verdicts, findings."""

from __future__ import annotations

import math

import pytest

from benchgate import stats
from benchgate.compare import (
    GateSettings,
    IncompatibleRunsError,
    Side,
    compare_family,
    decide,
    detectable_drop,
    error_rates,
    evaluate_gate,
    measure,
    pair_outcomes,
    plan_pairs,
)
from benchgate.records import Outcome

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
    assert plan_pairs(models) == [("base", "c1"), ("base", "c2")]
    assert plan_pairs(models, baseline="a") == [("a", "c1"), ("a", "c2")]
    assert plan_pairs(models, candidates=["c2", "a"]) == [("base", "c2"), ("base", "a")]
    assert plan_pairs(models, compare_all=True) == [
        ("base", "a"),
        ("base", "c1"),
        ("base", "c2"),
        ("a", "c1"),
        ("a", "c2"),
        ("c1", "c2"),
    ]
    assert plan_pairs([("x", None), ("y", None)]) == []  # no baseline: nothing to gate
    assert plan_pairs([("x", "baseline"), ("y", None)]) == [("x", "y")]
    with pytest.raises(
        ValueError, match="--baseline nope: not a model of this run. Fix: use one of a, base"
    ):
        plan_pairs(models, baseline="nope")
    with pytest.raises(ValueError, match="--candidate base: it is the baseline"):
        plan_pairs(models, candidates=["base"])
    with pytest.raises(ValueError, match="--candidate needs a baseline"):
        plan_pairs([("x", None), ("y", None)], candidates=["y"])


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


def test_gate_fails_on_regression_errors_and_strict_power_only():
    base, cand = planted(a=60, b=15, c=1, d=4, bench="math")
    erring = [
        outcome("cand", f"e{k}", "error" if k < 3 else "correct", bench="qa") for k in range(20)
    ]
    erring_base = [outcome("base", f"e{k}", "correct", bench="qa") for k in range(20)]
    result = evaluate_gate(base + cand + erring + erring_base, [(BASE, CAND)], GateSettings())
    assert not result.passed and result.exit_status == 1
    assert result.reasons[0].startswith("math: cand vs base: regression")
    assert result.reasons[1].startswith(
        "qa: cand: error rate 15.0% (3/20) above --max-error-rate 0.05"
    )
    assert [c.benchmark for c in result.comparisons] == ["math", "qa"]
    assert any("3 items with an error outcome left out" in n for n in result.notes)
    assert [e.exceeded for e in error_rates(erring, 0.2)] == [False]

    small_base, small_cand = planted(a=15, b=1, c=1, d=3)
    lenient = evaluate_gate(small_base + small_cand, [(BASE, CAND)], GateSettings())
    assert lenient.passed and lenient.exit_status == 0
    assert lenient.comparisons[0].verdict == "inconclusive" and lenient.notes == []
    strict = evaluate_gate(small_base + small_cand, [(BASE, CAND)], GateSettings(strict_power=True))
    assert not strict.passed and "--strict-power fails the gate" in strict.reasons[0]


def test_gate_with_a_stored_baseline_and_missing_benchmarks():
    stored_side = Side("base", "20250101T000000Z-abcdef")
    base, cand = planted(a=30, b=12)
    extra = [outcome("cand", "m1", "correct", bench="mmlu")]
    result = evaluate_gate(
        cand + extra, [(stored_side, CAND)], GateSettings(), stored={stored_side: base}
    )
    (comp,) = result.comparisons
    assert comp.baseline.label == "base@20250101T000000Z-abcdef" and comp.verdict == "regression"
    assert (
        "mmlu: cand not compared, base@20250101T000000Z-abcdef has no outcomes on it"
        in result.notes
    )
    data = comp.to_dict()
    assert data["baseline_run"] == "20250101T000000Z-abcdef" and data["table"]["b"] == 12
    assert data["regressions"] == [f"i{k:03d}" for k in range(30, 42)]

"""The paper's whole comparison: many models, graded metrics, the A/A noise floor (issue 14).

Sessions on the real data (GSM8K, DialogSum) answered by scripted models; the multi-model
statistics are checked against independent computations (statsmodels, scipy).
"""

from __future__ import annotations

import json
import random

import pytest


def _models_yaml(project, ids, baseline):
    project.models(*[(m, "baseline" if m == baseline else "candidate", m) for m in ids])


def test_eight_models_cochran_q_and_pairwise_holm_match_statsmodels(make_real_project):
    from scipy import stats as st
    from statsmodels.stats.contingency_tables import cochrans_q
    from statsmodels.stats.multitest import multipletests

    project = make_real_project("gsm8k")
    ids = [f"m{k}" for k in range(8)]
    rng = random.Random(7)
    skill = {m: 0.35 + 0.07 * k for k, m in enumerate(ids)}
    wrong = {m: {i for i in range(100) if rng.random() > skill[m]} for m in ids}
    for m in ids:
        project.script(m, lambda b, i, item, m=m: "wrong" if i in wrong[m] else "right")
    _models_yaml(project, ids, baseline="m7")
    result = project.run("--compare", "all", "--gate", "off")
    assert result.ret in (0, 1)
    summary = project.summary()
    (table,) = summary["multi_model"]
    assert table["n"] == 100 and len(table["models"]) == 8 and len(table["pairwise"]) == 28
    rows = [
        json.loads(line) for line in (project.reports / "results.jsonl").read_text().splitlines()
    ]
    order = [o["item_id"] for o in rows if o["model"] == "m0"]
    right = {(o["model"], o["item_id"]): o["status"] == "correct" for o in rows}
    matrix = [[int(right[(m, i)]) for m in table["models"]] for i in order]
    q = cochrans_q(matrix)
    assert table["cochran_q"] == pytest.approx(q.statistic, rel=1e-9)
    assert table["df"] == q.df and table["pvalue"] == pytest.approx(q.pvalue, rel=1e-9)

    def midp(b, c):  # two-sided mid-p McNemar from the binomial (Fagerland et al. 2013, eq. 4:
        n, k = b + c, min(b, c)  # 2 [P(X <= k) - P(X = k) / 2]; when b = c, 1 - P(X = k) / 2)
        if n == 0:
            return 1.0
        if b == c:
            return 1 - 0.5 * st.binom.pmf(k, n, 0.5)
        return 2 * (st.binom.cdf(k, n, 0.5) - 0.5 * st.binom.pmf(k, n, 0.5))

    raw, ours = [], []
    for pair in table["pairwise"]:
        b = sum(right[(pair["first"], i)] and not right[(pair["second"], i)] for i in order)
        c = sum(right[(pair["second"], i)] and not right[(pair["first"], i)] for i in order)
        assert (pair["b"], pair["c"]) == (b, c)
        raw.append(midp(b, c))
        ours.append(pair["pvalue_holm"])
        assert pair["pvalue"] == pytest.approx(raw[-1], rel=1e-9)
    assert ours == pytest.approx(list(multipletests(raw, method="holm")[1]), rel=1e-9)
    # Letters: two models share one exactly when their pair is not significant.
    letters = {r["model"]: set(r["letters"]) for r in table["ranking"]}
    for pair in table["pairwise"]:
        assert bool(letters[pair["first"]] & letters[pair["second"]]) == (not pair["significant"])
    ranks = [r["model"] for r in summary["overall_ranking"]["rows"]]
    assert ranks == table["models"]  # one benchmark: the same order


def test_a_planted_rouge_regression_fails_the_gate_on_the_graded_test(make_real_project):
    project = make_real_project("dialogsum")
    project.script("base", limit=60)
    project.script("cand", lambda b, i, item: "wrong" if i < 15 else "right", limit=60)
    project.models(("base", "baseline", "base"), ("cand", "candidate", "cand"))
    result = project.run(limit=60)
    assert result.ret == 1, result.stdout.str()[-3000:]
    (comp,) = project.summary()["comparisons"]
    graded = comp["graded"]
    assert graded["baseline_mean"] == pytest.approx(1.0)
    assert graded["candidate_mean"] < 0.9 and graded["pvalue_regression"] < 0.001
    assert graded["difference"]["upper"] < 0 and comp["verdict"] == "regression"
    assert "mean score drops" in comp["reason"] and "permutation" in comp["reason"]
    # The thresholded pass/fail view stays: b counts summaries that fell below 0.30 (most of
    # the 15 planted ones; an opening turn can still overlap a reference by 0.30).
    assert 5 <= comp["table"]["b"] <= 15 and comp["table"]["c"] == 0

    project.script("cand", limit=60)
    same = project.run("--mde-max", "10pt", limit=60)
    assert same.ret == 0, same.stdout.str()[-3000:]
    (comp,) = project.summary()["comparisons"]
    assert comp["graded"]["difference"]["estimate"] == 0 and comp["verdict"] == "pass"


def test_noise_floor_runs_the_baseline_twice_and_later_runs_compare_with_it(gate_project):
    gate_project.bench("same")
    result = gate_project.run("--noise-floor", workers=2)
    assert result.ret == 0, result.stdout.str()[-3000:]
    summary = gate_project.summary()
    (row,) = summary["noise_floor"]
    assert (row["benchmark"], row["baseline"], row["replica"]) == ("same", "base", "base.aa")
    assert (row["n"], row["flips"], row["rate"], row["verdict"]) == (80, 0, 0.0, "pass")
    result.stdout.fnmatch_lines(["*benchgate A/A noise floor*", "same*80*0*0.0*pass"])
    assert summary["multi_model"] == []  # the A/A replica is not a third model
    ids = {
        json.loads(line)["model"]
        for line in (gate_project.reports / "results.jsonl").read_text().splitlines()
    }
    assert ids == {"base", "cand", "base.aa"}
    # The replica never gates and is not a candidate.
    assert [(c["baseline"], c["candidate"]) for c in summary["comparisons"]] == [("base", "cand")]
    (stored,) = gate_project.run_dirs()
    later = gate_project.run("--models", "cand", "--baseline-run", str(stored), workers=0)
    assert later.ret == 0
    later.stdout.fnmatch_lines(["same: cand: observed flips 0/80 vs A/A flip rate 0.0%*"])
    (ref,) = gate_project.summary()["noise_reference"]
    assert ref["aa_rate"] == 0.0 and ref["source"] == stored.name

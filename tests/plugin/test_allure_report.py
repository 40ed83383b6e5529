"""Allure end to end: a real session under xdist, the real Allure CLI, headless Chromium.

Per-item labels and attachments come from the workers, the gate's results and the pair
annotations from the controller, cleaning from the controller only; history ids are stable;
the HTML report shows the verdict on the overview and a regressed item with both answers
(screenshots kept), a comparison's link opens its item's group (the link scheme checked
against the CLI's own tree uids), and the history of one report carries into the next.
Under ``CI=true`` a missing Allure CLI, Chromium or CJK font is a failure, not a skip.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from benchgate.reporting.allure_items import ITEM_LABEL, PAIR_ATTACHMENT, tree_uid

REPO = Path(__file__).resolve().parents[2]
IN_CI = os.environ.get("CI", "").lower() == "true"

# Records, in each process, whether allure-pytest would clean the results folder.
CLEAN_PROBE = """
import os

def pytest_sessionstart(session):
    config = session.config
    who = getattr(config, "workerinput", {}).get("workerid", "controller")
    with open(os.path.join(str(config.rootpath), f"clean-{who}.txt"), "w") as fh:
        fh.write(str(bool(config.option.clean_alluredir)))
"""

MISSING = """
from benchgate.benchmarks.gsm8k import GSM8K
from benchgate.errors import DataUnavailableError
from benchgate.plugin.fixtures import check_outcome


class Missing(GSM8K):
    name = "missing"
    version = 1

    def load(self, source):
        raise DataUnavailableError("no local file missing/test.json; fix: put it there")


BENCHMARK = Missing


def test_missing(bench_outcome):
    check_outcome(bench_outcome)
"""

CJK_RULE = "rules:\n  - match: '\\[cjk-00[0-2]\\]'\n    text: \"我认为二加二等于五。答案是 5\"\n"


def _load_check():
    spec = importlib.util.spec_from_file_location(
        "allure_check", REPO / "scripts" / "allure_check.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _tools(check) -> tuple[str, str]:
    allure, chromium = check.find_tools()
    cjk = shutil.which("fc-list") and subprocess.run(
        ["fc-list", ":lang=zh"], capture_output=True, text=True).stdout.strip()
    missing = [what for what, ok in (("the Allure CLI (npm install -g allure-commandline@2)",
                                      allure),
                                     ("Chromium (apt-get install -y chromium)", chromium),
                                     ("a CJK font (apt-get install -y fonts-noto-cjk)", cjk))
               if not ok]
    if missing:
        message = "the HTML report check needs " + ", ".join(missing)
        if IN_CI:
            pytest.fail(message + " (CI=true: a missing real component is a failure)")
        pytest.skip(message)
    return allure, chromium


def _results(directory: Path) -> dict[str, dict]:
    found = {}
    for path in directory.glob("*-result.json"):
        data = json.loads(path.read_text(encoding="utf-8"))
        found[data["name"]] = data
    return found


def _labels(result: dict) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for label in result["labels"]:
        found.setdefault(label["name"], []).append(label["value"])
    return found


@pytest.fixture
def project(gate_project):
    gate_project.bench("regress")
    gate_project.bench("improve")
    gate_project.bench("cjk", n=6, question="二加二等于几？")
    (gate_project.path / "tests" / "benchmarks" / "test_missing.py").write_text(MISSING)
    cand = gate_project.path / "cand.yaml"
    cand.write_text(cand.read_text().replace("rules:\n", CJK_RULE, 1), encoding="utf-8")
    (gate_project.path / "conftest.py").write_text(
        'pytest_plugins = ("benchgate.plugin", "benchgate.plugin.allure")\n' + CLEAN_PROBE
    )
    return gate_project


def test_allure_results_report_screenshots_links_and_history(project, tmp_path):
    results = project.path / "allure-results"
    results.mkdir()
    (results / "stale-result.json").write_text("{}")  # from an earlier run

    first = project.run("--alluredir", "allure-results", "--clean-alluredir", workers=2)
    assert first.ret == 1, first.stdout.str()[-3000:]
    assert not (results / "stale-result.json").exists()  # the controller cleaned
    probes = {p.stem: p.read_text() for p in project.path.glob("clean-*.txt")}
    assert probes == {"clean-controller": "True", "clean-gw0": "False", "clean-gw1": "False"}
    one = _results(results)
    # 2 models x 66 items from the workers; verdict, 3 comparisons and 1 coverage entry from
    # the controller; the skipped placeholder of the unavailable benchmark is gone.
    assert len(one) == 2 * 66 + 5, sorted(n for n in one if "[" not in n)
    assert not [n for n in one if "data-unavailable" in n]

    item = one["test_regress[cand-q000]"]
    assert item["status"] == "failed"
    assert item["statusDetails"]["message"] == "incorrect: wrong answer (rule marker)"
    assert item["statusDetails"]["trace"].startswith("Failed: incorrect: extracted '5'")
    labels = _labels(item)
    assert (labels["parentSuite"], labels["suite"], labels["subSuite"]) == (
        ["cand"], ["regress"], ["even"])
    assert json.loads(labels[ITEM_LABEL][0]) == {"model": "cand", "benchmark": "regress",
                                                 "item": "q000"}
    assert (labels["epic"], labels["feature"], labels["story"]) == (
        ["cand vs base: regressed"], ["regress"], ["q000"])
    params = {p["name"]: p["value"] for p in item["parameters"]}
    assert params == {"bench_case": "cand-q000", "model": "cand", "benchmark": "regress",
                      "item": "q000", "subject": "even",
                      "candidate (paired with base)": "regression: baseline correct, "
                                                      "candidate incorrect"}
    assert "latency of this item (time to its last token)" in item["descriptionHtml"]
    attachments = {a["name"]: a for a in item["attachments"]}
    assert (results / attachments["completion"]["source"]).read_text() == "The answer is 5"
    assert attachments["completion"]["type"] == "text/plain"
    pair = (results / attachments[PAIR_ATTACHMENT]["source"]).read_text(encoding="utf-8")
    assert "Let me think step by step. The answer is 4" not in pair  # that's an improvement
    assert "The answer is 4" in pair and "The answer is 5" in pair
    base_item = one["test_regress[base-q000]"]
    assert PAIR_ATTACHMENT in {a["name"] for a in base_item["attachments"]}

    verdict = one["gate FAIL"]
    assert verdict["statusDetails"]["message"].startswith(
        "gate FAIL: regress: cand vs base: regression")
    assert _labels(verdict)["parentSuite"] == ["gate"]
    comparison = one["regress: cand vs base"]
    assert comparison["status"] == "failed"
    assert one["cjk: cand vs base"]["status"] == "broken"  # inconclusive on 6 items
    assert one["improve: cand vs base"]["status"] == "passed"
    assert one["missing: not measured"]["status"] == "skipped"
    executor = json.loads((results / "executor.json").read_text())
    assert executor["reportName"] == "benchgate: gate FAIL"

    check = _load_check()
    allure, chromium = _tools(check)
    shots = tmp_path / "screenshots"
    report1 = tmp_path / "report1"
    seen = check.check(results, report1, allure, chromium, shots=shots)
    assert "benchgate: gate FAIL" in seen["overview"] and "gate.exit_status" in seen["overview"]
    assert "Categories: Gate failed" in seen["verdict"]
    assert "all 12 regressed items" in seen["comparison"]
    assert "我认为二加二等于五。答案是 5" in seen["item_pair"]  # a CJK item is preferred
    assert "Wrong answer (incorrect)" in seen["categories"]
    assert "Gate: inconclusive (underpowered)" in seen["categories"]
    assert sorted(p.name for p in shots.glob("*.png")) == [
        "categories.png", "comparison.png", "link.png", "overview.png", "regressed-item.png",
        "verdict.png"]
    # The link scheme: the group uids benchgate computes are the CLI's own.
    behaviors = json.loads((report1 / "data" / "behaviors.json").read_text(encoding="utf-8"))
    epic = next(g for g in behaviors["children"] if g["name"] == "cand vs base: regressed")
    assert epic["uid"] == tree_uid("behaviors", "cand vs base: regressed")
    feature = next(g for g in epic["children"] if g["name"] == "regress")
    story = next(g for g in feature["children"] if g["name"] == "q003")
    assert story["uid"] == tree_uid("behaviors", "cand vs base: regressed", "regress", "q003")
    assert [leaf["name"] for leaf in story["children"]] == ["test_regress[cand-q003]"]
    links = {link["name"]: link["url"] for link in comparison["links"]}
    assert links["regressed: q003"] == f"#behaviors/{story['uid']}"

    # A second run with the first report's history: stable history ids, trend carried over.
    second = project.run("--alluredir", "allure-results", "--clean-alluredir",
                         "--allure-history", str(report1 / "history"), workers=2)
    assert second.ret == 1
    two = _results(results)
    assert two.keys() == one.keys()
    assert {k: v["historyId"] for k, v in two.items()} == {
        k: v["historyId"] for k, v in one.items()}
    assert len({v["historyId"] for v in two.values()}) == len(two)
    assert (results / "history" / "history-trend.json").is_file()
    report2 = tmp_path / "report2"
    check.generate(results, report2, allure)
    trend = json.loads((report2 / "widgets" / "history-trend.json").read_text())
    assert len(trend) == 2, trend

"""A tiny benchgate project for pytester sessions of the gate.

Two scripted models answer from rules files, so a session plants regressions,
improvements, no change, format failures and backend errors exactly. Each benchmark is a
GSM8K subclass (its prompt, extractor and scorer) whose items are made in code: item
``q007`` of benchmark ``regress`` asks ``[regress-007] What is 2 + 2?`` (reference 4), and
the rules match on that marker.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib.backends.backend_agg  # noqa: F401,E402
import matplotlib.figure  # noqa: F401,E402
import psutil  # noqa: F401,E402
import pytest
import scipy.optimize  # noqa: F401,E402
import scipy.stats  # noqa: F401,E402

# In-process sessions (pytester.runpytest) drop the modules they imported when they end;
# numpy refuses a second import in one process, so everything the gate imports lazily is
# imported here, once, before any session.
import benchgate.gate  # noqa: F401,E402
import benchgate.reporting.allure  # noqa: F401,E402
import benchgate.reporting.plots  # noqa: F401,E402
import benchgate.reporting.runlog  # noqa: F401,E402
import benchgate.stats  # noqa: F401,E402

BENCH_MODULE = """\
from benchgate.benchmarks.gsm8k import GSM8K
from benchgate.plugin.fixtures import check_outcome
from benchgate.records import Item


class Tiny(GSM8K):
    name = "{name}"
    version = {version}

    def load(self, source):
        return [Item(id=f"q{{k:03d}}", benchmark=self.name,
                     input={{"question": f"[{name}-{{k:03d}}] {question}"}}, reference="4",
                     subject="odd" if k % 2 else "even") for k in range({n})]


BENCHMARK = Tiny


def test_{name}(bench_outcome):
    check_outcome(bench_outcome)
"""

MODELS = """\
models:
  - id: base
    role: baseline
    backend: scripted
    model: base.yaml
  - id: cand
    role: candidate
    backend: scripted
    model: cand.yaml
"""

# Baseline: wrong on improve 000-014 and on same 000-009; right elsewhere.
BASE_RULES = r"""
rules:
  - match: '\[improve-0(0\d|1[0-4])\]'
    text: "The answer is 3"
  - match: '\[same-00\d\]'
    text: "The answer is 7"
default: "The answer is 4"
"""

# Candidate: wrong on regress 000-011 (12 regressions), same as the baseline on same,
# no number on fmt 000-011 (format failures), backend errors on errs 000-009.
CAND_RULES = r"""
rules:
  - match: '\[regress-0(0\d|1[01])\]'
    text: "The answer is 5"
  - match: '\[same-00\d\]'
    text: "The answer is 7"
  - match: '\[fmt-0(0\d|1[01])\]'
    text: "I would rather not say."
  - match: '\[errs-00\d\]'
    finish_reason: error
    error: "HTTP 500 after 3 retries"
default: "Let me think step by step. The answer is 4"
"""

#: Items per planted benchmark (same needs 80 for its interval to exclude a 5-point drop).
SIZES = {"regress": 30, "improve": 30, "same": 80, "fmt": 30, "errs": 30}


class GateProject:
    """A benchgate project in pytester's directory, with helpers to run and read it."""

    def __init__(self, pytester: pytest.Pytester) -> None:
        self.pytester = pytester
        self.path = pytester.path
        pytester.makefile(
            ".ini",
            pytest="[pytest]\ntestpaths = tests/benchmarks\n"
            "addopts = --dist loadgroup -p no:cacheprovider -p no:benchmark "
            "-p no:hypothesispytest\n",
        )
        (self.path / "conftest.py").write_text('pytest_plugins = ("benchgate.plugin",)\n')
        (self.path / "models.yaml").write_text(MODELS)
        (self.path / "base.yaml").write_text(BASE_RULES)
        (self.path / "cand.yaml").write_text(CAND_RULES)
        (self.path / "tests" / "benchmarks").mkdir(parents=True)

    def bench(
        self, name: str, n: int | None = None, version: int = 1, question: str = "What is 2 + 2?"
    ) -> Path:
        """Write (or rewrite) benchmark ``name``'s test module."""
        path = self.path / "tests" / "benchmarks" / f"test_{name}.py"
        path.write_text(
            BENCH_MODULE.format(name=name, n=n or SIZES[name], version=version, question=question)
        )
        return path

    def run(self, *args: str, workers: int = 0) -> pytest.RunResult:
        """Run a session without the response cache: ``-n 0`` in this process (fast: scipy
        and matplotlib are imported once), ``-n 2`` and up in a subprocess."""
        if workers == 0:
            return self.pytester.runpytest("-n", "0", "--no-cache", *args)
        return self.pytester.runpytest_subprocess("-n", str(workers), "--no-cache", *args)

    @property
    def reports(self) -> Path:
        return self.path / "reports"

    def summary(self) -> dict:
        """summary.json without what differs between identical runs (run id and times)."""
        data = json.loads((self.reports / "summary.json").read_text())
        data.pop("run")
        data.pop("run_log")
        return data

    def verdicts(self) -> dict:
        return {c["benchmark"]: c["verdict"] for c in self.summary()["comparisons"]}

    def comparison(self, benchmark: str) -> dict:
        return next(c for c in self.summary()["comparisons"] if c["benchmark"] == benchmark)

    def run_dirs(self) -> list[Path]:
        return sorted((self.reports / "runs").iterdir())


@pytest.fixture
def gate_project(pytester: pytest.Pytester) -> GateProject:
    return GateProject(pytester)


# --- A project on the real shared data (GSM8K, MMLU), answered by scripted models ---------

#: The real data beside the checkout (../shared/data), as CI lays it out.
SHARED_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data"

REAL_MODULE = """\
from benchgate.benchmarks.{module} import {cls}
from benchgate.plugin.fixtures import check_outcome

BENCHMARK = {cls}


def test_{module}(bench_outcome):
    check_outcome(bench_outcome)
"""

REAL_BENCHMARKS = {"gsm8k": "GSM8K", "mmlu": "MMLU", "dialogsum": "DialogSum"}


def _right(bench: str, item) -> str:
    if bench == "dialogsum":
        return item.reference[0]  # a human reference summary
    return f"The answer is {item.reference}" if bench == "gsm8k" else f"The answer is ({item.reference})"


def _wrong(bench: str, item) -> str:
    if bench == "gsm8k":
        return "The answer is 987654321"
    if bench == "dialogsum":  # the dialogue's opening turn: a poor summary
        return item.input["dialogue"].splitlines()[0][:120]
    return f"The answer is ({'ABCD'[('ABCD'.index(item.reference) + 1) % 4]})"


class RealProject:
    """A benchgate project whose benchmarks are the real GSM8K and MMLU (../shared/data).

    Scripted models answer each selected item from a rules file written from the items
    themselves: right (``The answer is <reference>``), wrong, unanswered or an error, as a
    test plants it. Item selection uses benchgate's own loader and ``select_limit``.
    """

    def __init__(self, pytester: pytest.Pytester, benchmarks=("gsm8k", "mmlu")) -> None:
        if not SHARED_DATA.is_dir():
            pytest.fail(f"the real data is missing at {SHARED_DATA} (CI lays out ../shared/data)")
        self.pytester = pytester
        self.path = pytester.path
        self.benchmarks = tuple(benchmarks)
        pytester.makefile(
            ".ini",
            pytest="[pytest]\ntestpaths = tests/benchmarks\n"
            "addopts = --dist loadgroup -p no:benchmark -p no:hypothesispytest\n",
        )
        (self.path / "conftest.py").write_text('pytest_plugins = ("benchgate.plugin",)\n')
        (self.path / "tests" / "benchmarks").mkdir(parents=True)
        for bench in self.benchmarks:
            (self.path / "tests" / "benchmarks" / f"test_{bench}.py").write_text(
                REAL_MODULE.format(module=bench, cls=REAL_BENCHMARKS[bench])
            )
        self._items: dict[tuple[str, int, int], list] = {}

    def items(self, bench: str, limit: int = 100, seed: int = 0) -> list:
        """The items benchgate selects for ``bench`` with ``--limit``/``--seed``."""
        key = (bench, limit, seed)
        if key not in self._items:
            import importlib

            from benchgate.data.sources import DataSource, select_limit

            module = importlib.import_module(f"benchgate.benchmarks.{bench}")
            spec = getattr(module, REAL_BENCHMARKS[bench])()
            self._items[key] = select_limit(spec.load(DataSource(data_dir=SHARED_DATA)), limit, seed)
        return self._items[key]

    def script(self, name: str, plant=None, limit: int = 100, seeds=(0,)) -> None:
        """Write ``<name>.yaml``: per selected item, the answer ``plant(bench, index, item)``.

        ``plant`` returns ``"right"`` (default), ``"wrong"``, ``"none"`` (no answer) or
        ``"error"``; ``index`` is the item's position in the selection.
        """
        import importlib
        import re

        import yaml

        rules = []
        for bench in self.benchmarks:
            module = importlib.import_module(f"benchgate.benchmarks.{bench}")
            spec = getattr(module, REAL_BENCHMARKS[bench])()
            seen = set()
            for seed in seeds:
                for index, item in enumerate(self.items(bench, limit, seed)):
                    if item.id in seen:
                        continue
                    seen.add(item.id)
                    what = plant(bench, index, item) if plant else "right"
                    content = spec.request(item).message_dicts()[-1]["content"]
                    rule = {"match": "^" + re.escape(content) + "$"}
                    if what == "error":
                        rule.update(finish_reason="error", error="HTTP 500 after 3 retries")
                    elif what == "none":
                        rule["text"] = "I would rather not say."
                    else:
                        rule["text"] = _right(bench, item) if what == "right" else _wrong(bench, item)
                    rules.append(rule)
        (self.path / f"{name}.yaml").write_text(yaml.safe_dump({"rules": rules}, allow_unicode=True))

    def models(self, *entries: tuple[str, str | None, str]) -> None:
        """Write models.yaml: ``(id, role or None, script name)`` per model."""
        lines = ["models:"]
        for model_id, role, script in entries:
            lines += [f"  - id: {model_id}", "    backend: scripted", f"    model: {script}.yaml"]
            if role:
                lines.append(f"    role: {role}")
        (self.path / "models.yaml").write_text("\n".join(lines) + "\n")

    def run(self, *args: str, workers: int = 0, limit: int | None = 100) -> pytest.RunResult:
        """Run a session on the real data (``--limit 100`` unless ``limit`` is None)."""
        base = ["-n", str(workers), "--no-cache", f"--data-dir={SHARED_DATA}"]
        if limit is not None:
            base.append(f"--limit={limit}")
        if workers == 0:
            return self.pytester.runpytest(*base, *args)
        return self.pytester.runpytest_subprocess(*base, *args)

    @property
    def reports(self) -> Path:
        return self.path / "reports"

    def summary(self) -> dict:
        return json.loads((self.reports / "summary.json").read_text())

    def run_dirs(self) -> list[Path]:
        return sorted((self.reports / "runs").iterdir())


@pytest.fixture
def real_project(pytester: pytest.Pytester) -> RealProject:
    return RealProject(pytester)


@pytest.fixture
def make_real_project(pytester: pytest.Pytester):
    """Build a :class:`RealProject` on chosen real benchmarks: ``make_real_project("gsm8k")``."""
    return lambda *benchmarks: RealProject(pytester, benchmarks=benchmarks)

"""The gate: compare models on the controller at session end, decide, report.

Controller only (``is_controller``): after the last test it pairs the outcomes gathered
by :mod:`benchgate.plugin.collector` (baseline with each candidate, every pair with
``--compare all``, or a stored baseline with ``--baseline-run``), runs the statistics of
:mod:`benchgate.compare`, writes the run log, ``summary.{json,md}``, the plots and the
Allure extras, prints the comparison table after the accuracy table, and sets the
session's exit status: 0 when nothing regressed, 1 on a regression (or an error rate above
``--max-error-rate``, or an inconclusive comparison with ``--strict-power``), 4 (pytest's
usage error) on a configuration error. ``--gate off`` keeps pytest's own status.

The exit status is set in ``pytest_sessionfinish`` (``session.exitstatus``, which
``wrap_session`` returns). Under xdist the controller's runtest loop only ends when every
worker is down, so by then every report and every worker's ``workeroutput`` has arrived.

Every process (xdist workers included) also decorates its own benchmark tests for Allure
when ``--alluredir`` is given; only the controller ever cleans the Allure results folder.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from benchgate.compare import GateResult, GateSettings, IncompatibleRunsError, Side, plan_pairs
from benchgate.plugin.collector import _case_from_nodeid, collected
from benchgate.plugin.fixtures import CASE_PROPERTY, OUTCOME_PROPERTY
from benchgate.plugin.parametrize import Case
from benchgate.plugin.state import get_state, is_controller, project_root
from benchgate.records import Outcome
from benchgate.reporting.runlog import RunLog, RunLogError, check_options, load_run

log = logging.getLogger(__name__)

#: pytest's exit statuses the gate leaves alone (interrupted, internal error, usage error).
_KEEP_STATUSES = (
    pytest.ExitCode.INTERRUPTED,
    pytest.ExitCode.INTERNAL_ERROR,
    pytest.ExitCode.USAGE_ERROR,
)


@dataclass
class GatePlan:
    """What the gate compares, decided at configure time.

    Attributes:
        enabled: ``--gate on``: the exit status is the gate's.
        settings: the thresholds (fractions).
        pairs: ``(baseline, candidate)`` sides to compare on every benchmark both ran.
        stored: the ``--baseline-run`` log, or None.
        stored_side: the stored baseline's side, or None.
    """

    enabled: bool
    settings: GateSettings
    pairs: list[tuple[Side, Side]]
    stored: RunLog | None = None
    stored_side: Side | None = None


def _points(config: pytest.Config, name: str, option: str) -> float:
    value = config.getoption(name)
    if not 0.0 <= value <= 100.0:
        raise pytest.UsageError(
            f"{option} is in accuracy points, 0 to 100 (got {value:g}). "
            f"Fix: e.g. {option} 5 for five points."
        )
    return value / 100.0


def build_plan(config: pytest.Config) -> GatePlan:
    """Read the gate's options, validate them and choose the pairs to compare.

    Args:
        config: the controller's config (models come from :func:`get_state`).

    Returns:
        The :class:`GatePlan`. With ``--baseline-run`` the stored run is loaded here, so a
        missing or unreadable run fails before any test runs.

    Raises:
        pytest.UsageError: a bad value, an unknown model id, or an unusable stored run
            (message names the option, the value and the fix).
    """
    state = get_state(config)
    try:
        settings = GateSettings(
            alpha=config.getoption("benchgate_alpha"),
            margin=_points(config, "benchgate_margin", "--margin"),
            mde_max=_points(config, "benchgate_mde_max", "--mde-max"),
            power=config.getoption("benchgate_power"),
            strict_power=config.getoption("benchgate_strict_power"),
            max_error_rate=config.getoption("benchgate_max_error_rate"),
            no_answer_jump=_points(config, "benchgate_no_answer_jump", "--no-answer-jump"),
        )
    except ValueError as exc:
        option = str(exc).split(" ", 1)[0].replace("_", "-")
        raise pytest.UsageError(
            f"--{option}: {exc}. Fix: give a value in that range (pytest --help lists the "
            "gate's options)."
        ) from None
    baseline = config.getoption("benchgate_baseline")
    raw = config.getoption("benchgate_candidate")
    candidates = [c.strip() for c in raw.split(",") if c.strip()] if raw else None
    compare_all = config.getoption("benchgate_compare") == "all"
    models = [(m.id, m.role) for m in state.models]
    plan = GatePlan(enabled=config.getoption("benchgate_gate") == "on", settings=settings, pairs=[])
    stored_path = config.getoption("benchgate_baseline_run")
    try:
        if stored_path:
            path = Path(stored_path)
            if not path.is_absolute():
                path = Path(config.invocation_params.dir) / path
            stored = load_run(path)
            check_options(stored, {"shots": state.shots})
            side = Side(stored.baseline_model(baseline), stored.run_id)
            ids = [m for m, _ in models]
            for cand in candidates or []:
                if cand not in ids:
                    raise ValueError(
                        f"--candidate {cand}: not a model of this run. Fix: use one "
                        f"of {', '.join(ids)} (check --models and models.yaml)."
                    )
            chosen = candidates or [m for m, role in models if role == "candidate"] or ids
            if compare_all:
                chosen = ids
            plan.pairs = [(side, Side(c)) for c in chosen]
            plan.stored, plan.stored_side = stored, side
        else:
            plan.pairs = [
                (Side(b), Side(c)) for b, c in plan_pairs(models, baseline, candidates, compare_all)
            ]
    except (ValueError, RunLogError) as exc:
        raise pytest.UsageError(str(exc)) from None
    return plan


class Gate:
    """The controller's gate plugin object (registered by :func:`pytest_configure`).

    Args:
        config: the controller's config.
        plan: what to compare and how.
    """

    def __init__(self, config: pytest.Config, plan: GatePlan) -> None:
        self.config = config
        self.plan = plan
        self.started = datetime.now(timezone.utc)
        self.checked: set[str] = set()
        self.other_failures: list[str] = []
        self.collection_errors = 0
        self.result: GateResult | None = None
        self.error: str | None = None
        self.written: dict[str, Any] = {}
        self.exit_status: int | None = None
        self.cut_short: str | None = None

    # --- as reports arrive ---------------------------------------------------------------

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Count collection errors (they keep a failing exit status)."""
        if report.failed:
            self.collection_errors += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Track failures that are not benchmark items; check a stored baseline early."""
        props = dict(getattr(report, "user_properties", []) or [])
        # A benchmark item that crashed carries no property; its node id still names it
        # (the collector turns it into an error outcome, judged by the error rate).
        is_bench = (
            OUTCOME_PROPERTY in props
            or CASE_PROPERTY in props
            or _case_from_nodeid(self.config, report.nodeid) is not None
        )
        if report.failed and not is_bench:
            self.other_failures.append(report.nodeid)
        if self.plan.stored is not None and report.when == "call" and OUTCOME_PROPERTY in props:
            self._check_stored(props[OUTCOME_PROPERTY])

    def _check_stored(self, outcome: dict) -> None:
        bench = outcome.get("benchmark")
        if bench in self.checked or not outcome.get("dataset_hash"):
            return
        self.checked.add(bench)
        stored = self.plan.stored
        entry = stored.manifest.get("benchmarks", {}).get(bench)
        if entry is None:
            return
        problem = None
        if entry.get("version") != outcome.get("benchmark_version"):
            problem = (
                f"benchmark {bench} is version {outcome.get('benchmark_version')} now but "
                f"version {entry.get('version')} in the stored run {stored.path}: its prompt, "
                "extractor or normaliser changed, so items cannot be paired"
            )
        elif entry.get("dataset_hash") != outcome.get("dataset_hash"):
            problem = (
                f"benchmark {bench} has dataset hash {outcome.get('dataset_hash')!r} now but "
                f"{entry.get('dataset_hash')!r} in the stored run {stored.path}: the items "
                "differ (another data file or revision), so they cannot be paired"
            )
        if problem:
            self.error = (
                f"--baseline-run refused: {problem}. Fix: re-run the baseline on the "
                "current benchmark and data (drop --baseline-run), or use the data and "
                "benchgate version the stored run used."
            )
            pytest.exit(self.error, returncode=pytest.ExitCode.USAGE_ERROR)

    # --- at the end ------------------------------------------------------------------------

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Decide, write every report, and set the exit status (controller only)."""
        if session.exitstatus in _KEEP_STATUSES:
            return
        outcomes = list(collected(self.config).outcomes.values())
        if not outcomes:
            return
        from benchgate.compare import evaluate_gate

        stored = {}
        if self.plan.stored is not None:
            stored[self.plan.stored_side] = self.plan.stored.outcomes_of(
                self.plan.stored_side.model
            )
        try:
            self.result = evaluate_gate(outcomes, self.plan.pairs, self.plan.settings, stored)
        except IncompatibleRunsError as exc:
            self.error = str(exc)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
            return
        try:
            self.written = self._write_reports(outcomes)
        except Exception as exc:  # noqa: BLE001 - a full disk or a plot must not hide the verdict
            log.exception("benchgate: writing reports failed")
            self.written = {"error": f"{type(exc).__name__}: {exc}"}
        if not self.plan.enabled:
            return
        cut_short = session.shouldfail or session.shouldstop
        if cut_short:  # -x / --maxfail: the verdict is on part of the items only
            self.cut_short = str(cut_short)
            return
        status = self.result.exit_status
        if self.other_failures or self.collection_errors:
            status = max(status, int(pytest.ExitCode.TESTS_FAILED))
        self.exit_status = status
        session.exitstatus = status

    def _write_reports(self, outcomes: list[Outcome]) -> dict[str, Any]:
        from benchgate.reporting import allure as allure_out
        from benchgate.reporting import plots, runlog, summary

        state = get_state(self.config)
        result = self.result
        reports = state.reports_dir
        finished = datetime.now(timezone.utc)
        run_id = runlog.new_run_id(self.started)
        box = collected(self.config)
        manifest = runlog.build_manifest(
            run_id=run_id,
            started=self.started,
            finished=finished,
            root=project_root(self.config),
            models=[m.model_dump(mode="json") for m in state.models],
            backends=box.backends,
            outcomes=outcomes,
            options={
                "limit": state.limit,
                "seed": state.seed,
                "shots": state.shots,
                "data_dir": str(state.source.data_dir) if state.source.data_dir else None,
                "models_file": str(state.models_file),
                "baseline_run": str(self.plan.stored.path) if self.plan.stored else None,
                "args": list(self.config.invocation_params.args),
            },
        )
        run_dir = runlog.write_run(reports / "runs" / run_id, manifest, outcomes)
        by_model: dict[str, list[Outcome]] = {}
        if self.plan.stored_side is not None:
            by_model[self.plan.stored_side.label] = self.plan.stored.outcomes_of(
                self.plan.stored_side.model
            )
        for model in state.models:
            by_model[model.id] = [o for o in outcomes if o.model == model.id]
        known = {m.id for m in state.models}
        for o in outcomes:  # a model id only the outcomes know (a crash report's "?")
            if o.model not in known:
                by_model.setdefault(o.model, []).append(o)
        rows = summary.accuracy_rows({k: v for k, v in by_model.items() if v})
        plot_paths = plots.write_plots(
            reports / "plots", rows, result.comparisons, {k: v for k, v in by_model.items() if v}
        )
        run_info = {
            "id": run_id,
            "started": manifest["run"]["started"],
            "finished": manifest["run"]["finished"],
            "git": manifest["run"]["git"],
        }
        json_path, md_path = summary.write_summary(
            reports, result, rows, run_info, plot_paths, run_dir
        )
        html_path = reports / "comparison.html"
        html_path.write_text(summary.comparison_html(result, rows), encoding="utf-8")
        written: dict[str, Any] = {
            "run_dir": run_dir,
            "summary_json": json_path,
            "summary_md": md_path,
            "plots": plot_paths,
            "run_id": run_id,
        }
        alluredir = getattr(self.config.option, "allure_report_dir", None)
        if alluredir:
            directory = Path(alluredir)
            if not directory.is_absolute():
                directory = Path(self.config.invocation_params.dir) / directory
            allure_out.write_categories(directory)
            allure_out.write_environment(directory, allure_out.environment_properties(manifest))
            pair_plots = {}
            for path in plot_paths:
                for comp in result.comparisons:
                    key = (comp.baseline.label, comp.candidate.label)
                    if path.name == f"paired_{plots._slug(key[0])}_vs_{plots._slug(key[1])}.png":
                        pair_plots[key] = path
            attachments = [(html_path, "comparison table"), (md_path, "summary.md")]
            attachments += [(p, p.stem.replace("_", " ")) for p in plot_paths]
            allure_out.write_gate_results(
                directory,
                result,
                attachments,
                run_id,
                pair_plots,
                start_ms=int(self.started.timestamp() * 1000),
            )
            written["alluredir"] = directory
        return written

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Print the comparisons, verdicts, findings and the gate's decision.

        Runs last, so it follows the collector's accuracy table.
        """
        tr = terminalreporter
        if self.error:
            tr.section("benchgate gate", red=True)
            tr.write_line(f"configuration error (exit status 4): {self.error}", red=True)
            return
        result = self.result
        if result is None:
            return
        from benchgate.reporting.summary import comparison_table

        if result.comparisons:
            tr.section("benchgate comparisons")
            tr.write_line(comparison_table(result.comparisons))
            tr.write_line("")
            for comp in result.comparisons:
                markup = {"regression": {"red": True}, "inconclusive": {"yellow": True}}.get(
                    comp.verdict, {"green": True}
                )
                tr.write_line(
                    f"{comp.verdict.upper()}: {comp.benchmark}, {comp.candidate.label} "
                    f"vs {comp.baseline.label}: {comp.reason}",
                    **markup,
                )
        if result.notes:
            tr.section("benchgate findings")
            for note in result.notes:
                tr.write_line(f"- {note}")
        tr.section("benchgate gate", red=not result.passed, green=result.passed)
        if self.cut_short:
            tr.write_line(
                f"gate {'PASS' if result.passed else 'FAIL'} on the items that ran; the run was "
                f"cut short ({self.cut_short}), so pytest's own exit status is kept",
                yellow=True,
            )
        elif self.plan.enabled:
            tr.write_line(
                f"gate {'PASS' if result.passed else 'FAIL'}: exit status {self.exit_status}",
                red=not result.passed,
                green=result.passed,
                bold=True,
            )
        else:
            tr.write_line(
                f"gate {'PASS' if result.passed else 'FAIL'} (--gate off: pytest's own "
                "exit status is kept)"
            )
        for reason in result.reasons:
            tr.write_line(f"- {reason}", red=True)
        if self.other_failures or self.collection_errors:
            tr.write_line(
                f"- {len(self.other_failures)} failing non-benchmark tests and "
                f"{self.collection_errors} collection errors keep exit status 1",
                red=True,
            )
        if "summary_md" in self.written:
            tr.write_line(
                f"summary: {self.written['summary_md']}; run log: " f"{self.written['run_dir']}"
            )
        elif "error" in self.written:
            tr.write_line(f"reports could not be written: {self.written['error']}", red=True)


GATE_KEY = pytest.StashKey[Gate]()


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the gate on the controller; keep workers from cleaning Allure results.

    Controller: validate the gate's options and register :class:`Gate`. Workers: never
    clean the Allure results folder (the controller did, before they started).
    """
    if not is_controller(config):
        if hasattr(config.option, "clean_alluredir"):
            config.option.clean_alluredir = False
        return
    if config.getoption("help", False) or config.getoption("version", 0):
        return
    gate = Gate(config, build_plan(config))
    config.stash[GATE_KEY] = gate
    config.pluginmanager.register(gate, "benchgate-gate")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """With ``--alluredir``, give each benchmark test its Allure suite labels.

    Parent suite = model, suite = benchmark, sub-suite = the item's subject.
    """
    from benchgate.reporting.allure import allure_active, item_markers

    if not allure_active(config):
        return
    state = get_state(config)
    for item in items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("bench_case") if callspec else None
        if not isinstance(case, Case):
            continue
        loaded = state.benchmarks.get(case.benchmark)
        subject = None
        if loaded is not None:
            try:
                subject = loaded.item(case.item_id).subject
            except KeyError:
                subject = None
        for mark in item_markers(case.model, case.benchmark, subject):
            item.add_marker(mark)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item):
    """With ``--alluredir``, attach the item's texts to its Allure result.

    Prompt, completion, extracted answer and reference, in the process that runs the test.
    """
    try:
        return (yield)
    finally:
        if getattr(item.config.option, "allure_report_dir", None):
            outcome = dict(item.user_properties).get(OUTCOME_PROPERTY)
            if outcome is not None:
                from benchgate.reporting.allure import record_item

                try:
                    record_item(outcome)
                except Exception:  # noqa: BLE001 - the report must not fail the test
                    log.exception("benchgate: Allure attachments for %s failed", item.nodeid)

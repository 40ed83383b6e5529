"""The gate's pytest side: options in, the plan kept, the exit status out.

Controller only (``is_controller``). At configure time it reads the gate's options into
:class:`benchgate.gate.GateSettings` (one unit for every threshold), chooses the gating and
reported pairs (roles or ``--baseline``/``--candidate``, never file order), loads a
``--baseline-run`` and refuses a run without any comparison (exit status 4, unless
``--gate off`` or ``--gate record``). When the collecting process delivers the plan
(:mod:`benchgate.plugin.planning`), a stored baseline is checked against it at once. At the
end it writes the run log (plan, session facts, outcomes), computes
:func:`benchgate.gate.build_run` once, sets the session's exit status from its verdict and
calls every reporter (``pytest_benchgate_report``); the terminal reporter's lines are
printed in the terminal summary, the verdict last.

The exit status is set in ``pytest_sessionfinish`` (``session.exitstatus``, which
``wrap_session`` returns). Under xdist the controller's runtest loop only ends when every
worker is down, so by then every report and every worker's ``workeroutput`` has arrived.
"""

from __future__ import annotations

import importlib
import logging
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest

from benchgate.gate import GateSettings, Plan, Side, ThresholdError, parse_fraction, plan_pairs
from benchgate.plugin.collector import collected, is_benchmark_report
from benchgate.plugin.state import get_state, is_controller, project_root
from benchgate.plugin.workers import record_run, warm_line
from benchgate.reporting.runlog import RunLog, RunLogError, load_run

log = logging.getLogger(__name__)

#: pytest's exit statuses after which the gate writes nothing (usage error: nothing ran).
_NOTHING_TO_REPORT = (pytest.ExitCode.USAGE_ERROR,)

_THRESHOLDS = (
    ("alpha", "benchgate_alpha", "--alpha"),
    ("margin", "benchgate_margin", "--margin"),
    ("mde_max", "benchgate_mde_max", "--mde-max"),
    ("power", "benchgate_power", "--power"),
    ("max_error_rate", "benchgate_max_error_rate", "--max-error-rate"),
    ("no_answer_jump", "benchgate_no_answer_jump", "--no-answer-jump"),
)


def read_settings(config: pytest.Config) -> GateSettings:
    """Read the gate's thresholds from the command line.

    Raises:
        pytest.UsageError: a value that cannot be read or is out of range (the message
            names the option, the value and the fix).
    """
    values: dict[str, Any] = {}
    for name, dest, option in _THRESHOLDS:
        try:
            values[name] = parse_fraction(config.getoption(dest), option)
        except ThresholdError as exc:
            raise pytest.UsageError(str(exc)) from None
    raw = config.getoption("benchgate_fail_on") or ""
    fail_on = tuple(k.strip() for k in raw.split(",") if k.strip())
    try:
        return GateSettings(
            **values,
            strict_power=config.getoption("benchgate_strict_power"),
            fail_on=fail_on,
            allow_partial=config.getoption("benchgate_allow_partial"),
            seed=config.getoption("benchgate_seed"),
        )
    except ValueError as exc:
        name = str(exc).split(" ", 1)[0]
        option = next((o for n, _, o in _THRESHOLDS if n == name), f"--{name.replace('_', '-')}")
        raise pytest.UsageError(
            f"{option}: {exc}. Fix: give a value in that range (pytest --help lists the gate's "
            "options)."
        ) from None


class Gate:
    """The controller's gate plugin object (registered by :func:`pytest_configure`).

    Args:
        config: the controller's config.
        settings: the thresholds.
        plan: models and pairs (benchmarks and selection arrive with the collection).
        stored: the ``--baseline-run`` log and its baseline model, or None.
    """

    def __init__(
        self,
        config: pytest.Config,
        settings: GateSettings,
        plan: Plan,
        stored: tuple[RunLog, str] | None,
    ) -> None:
        self.config = config
        self.settings = settings
        self.plan = plan
        self.stored = stored
        self.stored_extra: dict[str, int] = {}
        self.mode = config.getoption("benchgate_gate")
        self.started = datetime.now(timezone.utc)
        self.other_failures: list[str] = []
        self.collection_errors = 0
        self.run: Any = None
        self.context: Any = None
        self.error: str | None = None
        self._prewarm: threading.Thread | None = None

    # --- as the session goes ---------------------------------------------------------------

    def receive_plan(self, collection: Any) -> None:
        """Take the collecting process's plan; refuse a stored baseline that cannot pair.

        Raises:
            pytest.exit: (exit status 4) the stored baseline does not cover this run.
        """
        self.plan.benchmarks = dict(collection.benchmarks)
        self.plan.selection.deselected = dict(collection.deselected)
        self.plan.selection.reasons = list(collection.reasons)
        self.plan.selection.last_failed = collection.last_failed
        self.plan.collected = True
        if self.stored is None:
            return
        from benchgate.gate.stored import stored_problems

        log_, model = self.stored
        state = get_state(self.config)
        problems, self.stored_extra = stored_problems(
            self.plan,
            log_.outcomes_of(model),
            {name: log_.benchmark_identity(name) for name in self.plan.benchmarks},
            log_.options,
            _options(self.config, state),
            str(log_.path),
            model,
        )
        if problems:
            self.error = "\n".join(problems)
            pytest.exit(self.error, returncode=pytest.ExitCode.USAGE_ERROR)

    def _start_prewarm(self) -> None:
        """Import the statistics stack (SciPy) in a background thread while workers run.

        Under xdist the controller's main thread idles from the workers' start to their last
        report; the verdict's first step, importing :mod:`benchgate.stats`
        (``scipy.stats``, ~1 s on 2 cores), would otherwise start after the last test.
        Started at session start, while the workers start and collect: started when the
        plan arrived instead, it was still running when a warm run's tests ended (median
        warm run 6.2 s vs 5.3 s from session start, ``scripts/bench_warm.py``, 2 cores).
        The session's benchmarks are not known yet, so an xdist session of other tests
        pays the import (~1 s of one core) too. Only under xdist: in one process the
        thread would take the GIL from the tests. :meth:`pytest_sessionfinish` joins it
        first, on every path, so the two threads never import the same modules at once
        and no import is left running at shutdown. A failed import here is ignored; the
        main thread's own import then raises it where it is handled.
        """
        if self._prewarm is not None or not self.config.pluginmanager.has_plugin("dsession"):
            return

        def run() -> None:
            try:
                importlib.import_module("benchgate.stats")
            except Exception:  # noqa: BLE001 - re-raised by the main thread's import
                log.debug("benchgate: background import of benchgate.stats failed", exc_info=True)

        self._prewarm = threading.Thread(target=run, name="benchgate-prewarm", daemon=True)
        self._prewarm.start()

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session: pytest.Session) -> None:
        """Start importing the statistics stack before xdist starts its workers."""
        self._start_prewarm()

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        """Count collection errors (they keep a failing exit status)."""
        if report.failed:
            self.collection_errors += 1

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        """Remember failing tests that are not benchmark items."""
        if report.failed and not is_benchmark_report(self.config, report):
            self.other_failures.append(report.nodeid)

    # --- at the end --------------------------------------------------------------------------

    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        """Write the run log, decide, set the exit status, call the reporters.

        ``tryfirst``: before pytest's JUnit XML writer saves its file (the verdict goes into
        its properties); the collector's record is finished first, explicitly.
        """
        if self._prewarm is not None:  # every path: never left importing at shutdown
            self._prewarm.join()
        collector = self.config.pluginmanager.get_plugin("benchgate-collector")
        if collector is not None:
            collector.finalize()
        if session.exitstatus in _NOTHING_TO_REPORT or self.error:
            return
        if self.config.getoption("collectonly", False):
            return  # nothing was meant to run: no verdict, no run log
        box = collected(self.config)
        outcomes = list(box.outcomes.values())
        if not self.plan.benchmarks and not outcomes:
            return  # no benchmark in this session (the project's own tests)
        from benchgate.gate import build_run
        from benchgate.reporting import runlog

        log_ = self._run_log(session, outcomes)
        try:
            runlog.write_run(get_state(self.config).reports_dir / "runs" / log_.run_id, log_)
        except OSError as exc:
            self.error = f"the run log could not be written ({exc})"
            log.error("benchgate: %s", self.error)
        try:
            self.run = build_run(log_)
        except Exception as exc:  # noqa: BLE001 - a bug must fail closed, never pass
            log.exception("benchgate: computing the verdict failed")
            self.error = (
                f"computing the verdict failed ({type(exc).__name__}: {exc}); the gate "
                "cannot pass (exit status 3). The run log is in reports/runs/."
            )
            session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
            return
        session.exitstatus = self.run.verdict.exit_status
        record_run(self.config, self.plan, outcomes)
        self.context = self._report(self.run)
        lost = [e for e in self.context.errors if e.startswith("benchgate.reporting.summary")]
        if self.error or lost:
            # The verdict stands, but a gate without its record cannot pass: CI would keep
            # no run log or summary to show or to gate a later run against.
            what = "; ".join(filter(None, [self.error, *lost]))
            self.error = f"the gate's record is incomplete ({what}); a PASS becomes exit status 1"
            if session.exitstatus == 0:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def _run_log(self, session: pytest.Session, outcomes: list[Any]) -> RunLog:
        from benchgate.reporting import runlog

        state = get_state(self.config)
        box = collected(self.config)
        finished = datetime.now(timezone.utc)
        stopped = session.shouldfail or session.shouldstop
        stored_meta = None
        stored_outcomes: list[Any] = []
        if self.stored is not None:
            log_, model = self.stored
            wanted = set(self.plan.benchmarks)
            stored_outcomes = [o for o in log_.outcomes_of(model) if o.benchmark in wanted]
            stored_meta = {
                "path": str(log_.path),
                "run_id": log_.run_id,
                "model": model,
                "extra": dict(self.stored_extra),
            }
        session_facts = {
            "pytest_exit_status": int(session.exitstatus),
            "gate": self.mode,
            "stopped_early": str(stopped) if stopped else None,
            "other_failures": list(self.other_failures),
            "collection_errors": self.collection_errors,
            "skipped_items": box.skipped,
            "workers_down": list(box.workers_down),
            "generated": box.generated,
            "cache_hits": box.cache_hits,
            "cache_write_errors": box.cache_write_errors,
            "energy": dict(box.energy),
            "sandbox": state.sandbox,
            "noise_reference": self._noise_reference(),
            "auto_workers": warm_line(self.config),
        }
        manifest = runlog.build_manifest(
            run_id=runlog.new_run_id(self.started),
            started=self.started,
            finished=finished,
            root=project_root(self.config),
            models=[m.model_dump(mode="json") for m in state.models],
            backends=box.backends,
            outcomes=outcomes,
            options=_options(self.config, state),
            settings=self.settings.to_dict(),
            plan=self.plan.to_dict(),
            session=session_facts,
            stored_baseline=stored_meta,
            stored_count=len(stored_outcomes),
        )
        return RunLog(path=None, manifest=manifest, outcomes=outcomes, stored=stored_outcomes)

    def _noise_reference(self) -> dict[str, Any] | None:
        """The stored run's A/A rows, for "observed flips vs A/A flip rate"."""
        if self.stored is None:
            return None
        from benchgate.gate import build_run

        log_, _ = self.stored
        if log_.schema_version < 2 or not (log_.manifest.get("plan") or {}).get("noise_floor"):
            return None
        rows = [r.to_dict() for r in build_run(log_).noise_floor]
        return {"run_id": log_.run_id, "rows": rows} if rows else None

    def _report(self, run: Any) -> Any:
        from benchgate.reporting.hooks import ReportContext, run_reporters

        state = get_state(self.config)
        alluredir = getattr(self.config.option, "allure_report_dir", None)
        history = self.config.getoption("benchgate_allure_history")
        context = ReportContext(
            reports_dir=state.reports_dir,
            alluredir=_absolute(self.config, alluredir) if alluredir else None,
            allure_history=_absolute(self.config, history) if history else None,
            verbose=self.config.get_verbosity(),
            details=self.config.getoption("benchgate_details"),
            junit=_junit_writer(self.config),
        )
        return run_reporters(self.config.hook, run, context)

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        """Print the terminal reporter's lines; the verdict is the last benchgate line."""
        tr = terminalreporter
        if self.error and self.run is None:
            tr.section("benchgate gate", red=True)
            tr.write_line(f"gate FAIL: {self.error}", red=True)
            return
        if self.context is None:
            return
        for text, markup in self.context.lines:
            if text.startswith("=== ") and text.endswith(" ==="):
                tr.section(text[4:-4], **markup)
            else:
                tr.write_line(text, **markup)
        for problem in self.context.errors:
            tr.write_line(f"benchgate: a reporter failed: {problem}", red=True)
        if self.error:
            tr.write_line(f"benchgate: {self.error}", red=True)


def _junit_writer(config: pytest.Config) -> Any:
    """Pytest's JUnit XML plugin object when ``--junitxml`` is active, else None."""
    if not getattr(config.option, "xmlpath", None):
        return None
    for plugin in config.pluginmanager.get_plugins():
        if hasattr(plugin, "add_global_property") and hasattr(plugin, "logfile"):
            return plugin
    return None


def _absolute(config: pytest.Config, path: str) -> Path:
    value = Path(path)
    return value if value.is_absolute() else Path(config.invocation_params.dir) / value


def _options(config: pytest.Config, state: Any) -> dict[str, Any]:
    """The run options recorded in the run log (what changes what is measured)."""
    return {
        "limit": state.limit,
        "seed": state.seed,
        "shots": state.shots,
        "data_dir": str(state.source.data_dir) if state.source.data_dir else None,
        "models_file": str(state.models_file),
        "baseline_run": config.getoption("benchgate_baseline_run"),
        "sandbox": state.sandbox,
        "gate": config.getoption("benchgate_gate"),
        "compare": config.getoption("benchgate_compare"),
        "noise_floor": bool(config.getoption("benchgate_noise_floor")),
        "args": list(config.invocation_params.args),
    }


def build_gate(config: pytest.Config) -> Gate:
    """Read the gate's options, validate them and choose the pairs to compare.

    Raises:
        pytest.UsageError: a bad value, an unknown model id, an unusable stored run, or no
            comparison at all under ``--gate on`` (the message names the option, the value
            and the fix).
    """
    state = get_state(config)
    settings = read_settings(config)
    mode = config.getoption("benchgate_gate")
    baseline = config.getoption("benchgate_baseline")
    raw = config.getoption("benchgate_candidate")
    candidates = [c.strip() for c in raw.split(",") if c.strip()] if raw else None
    compare_all = config.getoption("benchgate_compare") == "all"
    replicas = set(state.replicas)
    models = [(m.id, m.role) for m in state.models if m.id not in replicas]
    plan = Plan(
        models=[(m.id, m.role) for m in state.models],
        required=state.required,
        required_source=state.required_source,
    )
    if state.replicas:
        replica, base = next(iter(state.replicas.items()))
        plan.noise_floor = (base, replica)
    stored = None
    stored_path = config.getoption("benchgate_baseline_run")
    try:
        if stored_path:
            path = _absolute(config, stored_path)
            stored_log = load_run(path)
            stored_model = stored_log.baseline_model(baseline)
            side = Side(stored_model, stored_log.run_id)
            ids = [m for m, _ in models]
            for cand in candidates or []:
                if cand not in ids:
                    raise ValueError(
                        f"--candidate {cand}: not a model of this run. Fix: use one of "
                        f"{', '.join(ids)} (check --models and models.yaml)."
                    )
            chosen = candidates or [m for m, role in models if role == "candidate"] or ids
            plan.gating = [(side, Side(c)) for c in chosen]
            if compare_all:
                order = [side] + [Side(m) for m in ids]
                taken = {(b, c) for b, c in plan.gating}
                plan.reported = [
                    (order[i], order[j])
                    for i in range(len(order))
                    for j in range(i + 1, len(order))
                    if (order[i], order[j]) not in taken
                ]
            stored = (stored_log, stored_model)
        else:
            gating, reported = plan_pairs(models, baseline, candidates, compare_all)
            plan.gating = [(Side(b), Side(c)) for b, c in gating]
            plan.reported = [(Side(b), Side(c)) for b, c in reported]
    except (ValueError, RunLogError) as exc:
        raise pytest.UsageError(str(exc)) from None
    if not plan.gating and mode == "on":
        raise pytest.UsageError(
            "no comparison is planned: this run has no baseline and candidate pair (models: "
            f"{', '.join(m for m, _ in models) or 'none'}). Fix: mark one model 'role: baseline' "
            "and the others 'role: candidate' in models.yaml, or pass --baseline ID (or "
            "--baseline-run PATH); to store a baseline run for later, use --gate record; to run "
            "without a gate, --gate off."
        )
    if plan.gating and mode == "record":
        raise pytest.UsageError(
            "--gate record stores a run of the baseline alone, but this run plans comparisons "
            f"({', '.join(f'{c.label} vs {b.label}' for b, c in plan.gating)}). Fix: select the "
            "baseline only (--models BASELINE_ID), or drop --gate record."
        )
    return Gate(config, settings, plan, stored)


GATE_KEY = pytest.StashKey[Gate]()


def deliver_plan(config: pytest.Config, collection: Any) -> None:
    """Hand a collecting process's plan to the controller's gate (no-op elsewhere)."""
    gate = config.stash.get(GATE_KEY, None)
    if gate is not None:
        gate.receive_plan(collection)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    """Register the reporter hookspec everywhere, and the gate and reporters on the controller."""
    from benchgate.reporting import hooks

    config.pluginmanager.add_hookspecs(hooks)
    if not is_controller(config):
        return
    if config.getoption("help", False) or config.getoption("version", 0):
        return
    for reporter in hooks.builtin_reporters():
        if not config.pluginmanager.is_registered(reporter):
            config.pluginmanager.register(reporter, f"benchgate-reporter-{reporter.__name__}")
    gate = build_gate(config)
    config.stash[GATE_KEY] = gate
    config.pluginmanager.register(gate, "benchgate-gate")

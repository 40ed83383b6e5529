"""Per-process plugin state, kept in ``config.stash`` (never as attributes on ``config``)."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from benchgate.config import ModelSpec, load_models_file, select_models
from benchgate.data.cache import DatasetCache, load_selection
from benchgate.data.sources import DATA_DIR_ENV, DataSource
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.evaluate import LoadedBenchmark

log = logging.getLogger(__name__)


@dataclass
class RunState:
    """What every process of a run knows (controller and workers alike).

    Attributes:
        models: the selected models, in models.yaml order.
        models_file: the models.yaml path.
        source: where benchmark data is read from.
        limit: ``--limit`` (None = all items).
        seed: ``--seed`` for ``--limit`` selection.
        shots: ``--shots`` for benchmarks with few-shot exemplars.
        sandbox: ``--sandbox`` (``auto`` | ``none``) for benchmarks that execute code.
        reports_dir: where reports are written.
        required: benchmarks that must be measured (``--benchmarks`` or models.yaml's
            ``benchmarks:``), or None.
        required_source: ``--benchmarks`` or the models file, else None.
        replicas: replica model id -> the model it repeats (``--noise-floor``: the
            baseline's A/A replica, run in its own batch order with another seed).
        benchmarks: loaded benchmarks by name (filled during collection).
        datasets_dir: where the dataset cache lives (:mod:`benchgate.data.cache`), or None
            under ``--no-cache``; created at the first load, not before (a run that fails
            at start writes nothing).
    """

    models: list[ModelSpec]
    models_file: Path
    source: DataSource
    limit: int | None
    seed: int
    shots: int
    reports_dir: Path
    sandbox: str = "auto"
    required: list[str] | None = None
    required_source: str | None = None
    replicas: dict[str, str] = field(default_factory=dict)
    benchmarks: dict[str, LoadedBenchmark] = field(default_factory=dict)
    datasets_dir: Path | None = None
    _datasets: DatasetCache | None = field(default=None, init=False, repr=False)

    def model(self, model_id: str) -> ModelSpec:
        """Return the model with ``model_id``."""
        return next(m for m in self.models if m.id == model_id)

    def _dataset_cache(self) -> DatasetCache | None:
        """The dataset cache, created on first use; None under ``--no-cache`` or unusable.

        An unusable directory costs speed, not items: the collector's own check of the
        cache directory reports it, and every benchmark is parsed afresh.
        """
        if self._datasets is None and self.datasets_dir is not None:
            try:
                self._datasets = DatasetCache(self.datasets_dir)
            except OSError as exc:
                log.warning("dataset cache: %s cannot be used (%s); parsing every benchmark",
                            self.datasets_dir, exc)
                self.datasets_dir = None
        return self._datasets

    def load_benchmark(self, cls: type) -> LoadedBenchmark:
        """Load (once per process) the benchmark class a test module names.

        Returns:
            The loaded benchmark; ``unavailable`` holds the reason when data is missing.

        Raises:
            pytest.Collector.CollectError: the data exists but is malformed (message names
                file, line, field and fix); the module is reported as a collection error.
        """
        name = cls.name
        if name in self.benchmarks:
            return self.benchmarks[name]
        spec = cls(shots=self.shots, sandbox=self.sandbox)
        loaded = LoadedBenchmark(spec=spec)
        try:
            found = load_selection(spec, self.source, self._dataset_cache(), self.limit,
                                   self.seed)
        except DataUnavailableError as exc:
            loaded.unavailable = str(exc)
        except DataFormatError as exc:
            # A collection error without a traceback: the message names file, line, fix.
            raise pytest.Collector.CollectError(f"benchmark {name}: {exc}") from None
        if loaded.unavailable is None:
            if found.items is not None:  # a selection entry is written only for unique ids
                ids = [i.id for i in found.items]
                if len(set(ids)) != len(ids):
                    raise pytest.UsageError(
                        f"benchmark {name}: item ids are not unique (loader bug)")
            loaded.n_total = found.n_total
            loaded.dataset_hash = found.dataset_hash
            loaded.selected = found.selected
        self.benchmarks[name] = loaded
        return loaded


STATE_KEY = pytest.StashKey[RunState]()


def is_controller(config: pytest.Config) -> bool:
    """Return True in the process that aggregates results.

    That is the xdist controller, or the only process without xdist. Workers have
    ``config.workerinput``.
    """
    return not hasattr(config, "workerinput")


def project_root(config: pytest.Config) -> Path:
    """The directory holding the project's pytest.ini (rootdir), else the invocation dir.

    Default locations (models.yaml, reports/, .benchgate-cache/) are relative to it.
    """
    if config.inipath is not None:
        return Path(config.inipath).parent
    return Path(config.invocation_params.dir)


def cache_dir(config: pytest.Config) -> Path | None:
    """Return the response cache directory, or None with ``--no-cache``.

    ``--cache-dir``, default ``.benchgate-cache`` in the project root.
    """
    if config.getoption("benchgate_no_cache"):
        return None
    return Path(config.getoption("benchgate_cache_dir") or project_root(config) / ".benchgate-cache")


def _option(config: pytest.Config, name: str) -> Any:
    return config.getoption(name)


def build_state(config: pytest.Config) -> RunState:
    """Read options and models.yaml into a :class:`RunState`.

    Raises:
        pytest.UsageError: a bad models.yaml or option (message names file, field, fix).
    """
    from benchgate.errors import ConfigError

    root = project_root(config)
    models_file = Path(_option(config, "benchgate_models_file") or root / "models.yaml")
    if not models_file.is_absolute():
        models_file = Path(config.invocation_params.dir) / models_file
    try:
        parsed = load_models_file(models_file)
        models = select_models(parsed.models, _option(config, "benchgate_models"), str(models_file))
    except ConfigError as exc:
        raise pytest.UsageError(str(exc)) from None
    required, required_source = parsed.benchmarks, (str(models_file) if parsed.benchmarks else None)
    names = _option(config, "benchgate_benchmarks")
    if names is not None:
        required = [n.strip() for n in names.split(",") if n.strip()]
        required_source = "--benchmarks"
        if not required:
            raise pytest.UsageError("--benchmarks: name at least one benchmark (e.g. gsm8k,mmlu).")
    replicas: dict[str, str] = {}
    if _option(config, "benchgate_noise_floor"):
        models, replicas = _with_replica(models, _option(config, "benchgate_baseline"))
    data_dir = _option(config, "benchgate_data_dir") or os.environ.get(DATA_DIR_ENV) or None
    data_path = None
    if data_dir:
        data_path = Path(data_dir)
        if not data_path.is_absolute():
            data_path = Path(config.invocation_params.dir) / data_path
        if not data_path.is_dir():
            raise pytest.UsageError(
                f"--data-dir / {DATA_DIR_ENV}: {data_path} is not a directory. Fix: point it at a "
                "folder laid out like shared/data (one sub-folder per benchmark)."
            )
    limit = _option(config, "benchgate_limit")
    if limit is not None and limit < 1:
        raise pytest.UsageError(f"--limit must be at least 1 (got {limit}).")
    shots = _option(config, "benchgate_shots")
    if shots < 0 or shots > 5:
        raise pytest.UsageError(f"--shots must be between 0 and 5 (got {shots}).")
    reports = Path(_option(config, "benchgate_reports_dir") or root / "reports")
    if not reports.is_absolute():
        reports = Path(config.invocation_params.dir) / reports
    cache = cache_dir(config)
    return RunState(
        datasets_dir=cache / "datasets" if cache is not None else None,
        models=models,
        models_file=models_file,
        source=DataSource(data_dir=data_path),
        limit=limit,
        seed=_option(config, "benchgate_seed"),
        shots=shots,
        reports_dir=reports,
        sandbox=_option(config, "benchgate_sandbox"),
        required=required,
        required_source=required_source,
        replicas=replicas,
    )


#: Suffix of the A/A replica's model id (``--noise-floor``): ``<baseline>.aa``.
REPLICA_SUFFIX = ".aa"


def _with_replica(models: list[ModelSpec], baseline: str | None) -> tuple[list[ModelSpec], dict[str, str]]:
    """Add the baseline's A/A replica for ``--noise-floor``.

    The replica is the baseline's models.yaml entry with id ``<baseline>.aa``, no role, and
    generation seed + 1 (its own response-cache entries; with sampling, other draws); the
    evaluator generates its items in reverse order (other batch composition).

    Raises:
        pytest.UsageError: the run has no baseline to repeat.
    """
    base_id = baseline or next((m.id for m in models if m.role == "baseline"), None)
    base = next((m for m in models if m.id == base_id), None)
    if base is None:
        raise pytest.UsageError(
            "--noise-floor runs the baseline twice, but this run has no baseline model. Fix: "
            "mark one model 'role: baseline' in models.yaml or pass --baseline ID (with "
            "--models, keep the baseline selected)."
        )
    generation = base.generation.model_copy(update={"seed": (base.generation.seed or 0) + 1})
    replica = base.model_copy(
        update={"id": base.id + REPLICA_SUFFIX, "role": None, "generation": generation}
    )
    return [*models, replica], {replica.id: base.id}


def get_state(config: pytest.Config) -> RunState:
    """Return this process's :class:`RunState` (built on first use)."""
    state = config.stash.get(STATE_KEY, None)
    if state is None:
        state = build_state(config)
        config.stash[STATE_KEY] = state
    return state

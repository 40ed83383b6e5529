"""The plan of a run: what it set out to measure, computed at collection time.

The gate evaluates only the complete paired set it planned (README, "What green means").
The plan holds:

* the models and their roles, the **gating pairs** (every candidate against the baseline,
  from roles or ``--baseline``/``--candidate``, never from file order) and the pairs only
  **reported** (``--compare all``);
* per benchmark module collected: its version, dataset hash, the item ids selected by
  ``--limit``/``--seed`` (planned for every model), or why its data is unavailable;
* the **selection**: which planned (model, item) tests this session deselected (``-k``,
  ``-m``, ``--deselect``, ``--lf``, node ids on the command line) and why;
* the benchmarks that must be measured (``benchmarks:`` in models.yaml or
  ``--benchmarks``), if any.

Everything is builtins-serialisable (:meth:`Plan.to_dict`, :meth:`Plan.from_dict`): the
plan travels from the collecting process (an xdist worker) to the controller as a file and
is stored in the run log.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchgate.gate.pairing import Side

#: Status of a planned benchmark.
PLANNED = "planned"
UNAVAILABLE = "unavailable"


@dataclass
class BenchmarkPlan:
    """One benchmark module of the session.

    Attributes:
        name: the benchmark's name.
        status: ``planned`` (data loaded) or ``unavailable`` (skipped; see ``reason``).
        version: the benchmark spec's version.
        dataset_hash: content hash of the full item set (before ``--limit``).
        items: the item ids selected by ``--limit``/``--seed``, in data order; planned for
            every model of the run.
        n_total: items in the split before ``--limit``.
        reason: why the data is unavailable (with the fix), else None.
        stand_in: the note when the data stands in for the paper's set (LegalQA), else None.
        graded: the benchmark's score is graded (``Benchmark.graded``).
        category: the benchmark's category (``Benchmark.category``).
        settings: prompt-changing settings besides the version (e.g. ``{"shots": 0}``).
        token_caps: model id -> the token cap its requests carry on this benchmark
            (:meth:`benchgate.config.ModelSpec.max_new_tokens_for`), None for no cap.
        module: the test module's node id (``tests/benchmarks/test_gsm8k.py``).
    """

    name: str
    status: str = PLANNED
    version: int = 0
    dataset_hash: str = ""
    items: list[str] = field(default_factory=list)
    n_total: int = 0
    reason: str | None = None
    stand_in: str | None = None
    graded: bool = False
    category: str = "other"
    settings: dict[str, Any] = field(default_factory=dict)
    token_caps: dict[str, int | None] = field(default_factory=dict)
    module: str = ""

    @property
    def available(self) -> bool:
        """True when the data loaded and items are planned."""
        return self.status == PLANNED


@dataclass
class Selection:
    """What this session selected of the planned (model, item) tests.

    Attributes:
        deselected: benchmark -> model -> item ids planned but not selected.
        reasons: why tests were deselected, one phrase per active selection option (e.g.
            ``-k 'gsm8k'``, ``--lf``, ``node ids given on the command line``).
        last_failed: ``--lf``/``--last-failed`` was active: whole modules may not even
            have been collected, so the run is partial whatever was deselected.
    """

    deselected: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    reasons: list[str] = field(default_factory=list)
    last_failed: bool = False

    @property
    def partial(self) -> bool:
        """True when the session deliberately selected less than the plan."""
        return self.last_failed or any(
            ids for per_model in self.deselected.values() for ids in per_model.values()
        )

    def count(self, benchmark: str | None = None) -> int:
        """Deselected tests, of one benchmark or of all."""
        return sum(
            len(ids)
            for name, per_model in self.deselected.items()
            if benchmark is None or name == benchmark
            for ids in per_model.values()
        )


@dataclass
class Plan:
    """What a run set out to measure (see the module docstring).

    Attributes:
        models: ``(id, role)`` of the models run live, in models.yaml order.
        gating: ``(baseline, candidate)`` sides whose comparisons decide the gate.
        reported: further pairs compared and reported only (``--compare all``).
        benchmarks: the session's benchmark modules by name (collection order).
        selection: what was deselected and why.
        required: benchmarks that must be measured, or None when no list was given.
        required_source: where ``required`` came from (``models.yaml`` or
            ``--benchmarks``), else None.
        noise_floor: ``(baseline id, replica id)`` when ``--noise-floor`` runs the
            baseline twice, else None.
        collected: True once a collecting process reported its benchmarks; False means
            no collection report arrived (every worker died before collecting).
    """

    models: list[tuple[str, str | None]] = field(default_factory=list)
    gating: list[tuple[Side, Side]] = field(default_factory=list)
    reported: list[tuple[Side, Side]] = field(default_factory=list)
    benchmarks: dict[str, BenchmarkPlan] = field(default_factory=dict)
    selection: Selection = field(default_factory=Selection)
    required: list[str] | None = None
    required_source: str | None = None
    noise_floor: tuple[str, str] | None = None
    collected: bool = False

    @property
    def model_ids(self) -> list[str]:
        """Ids of the models run live."""
        return [m for m, _ in self.models]

    def to_dict(self) -> dict[str, Any]:
        """Return the plan as builtins (the run log's ``plan`` section)."""
        return {
            "models": [{"id": m, "role": r} for m, r in self.models],
            "gating": [[b.label, c.label] for b, c in self.gating],
            "reported": [[b.label, c.label] for b, c in self.reported],
            "benchmarks": {name: dict(b.__dict__) for name, b in self.benchmarks.items()},
            "selection": {
                "deselected": self.selection.deselected,
                "reasons": list(self.selection.reasons),
                "last_failed": self.selection.last_failed,
            },
            "required": self.required,
            "required_source": self.required_source,
            "noise_floor": list(self.noise_floor) if self.noise_floor else None,
            "collected": self.collected,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Plan:
        """Rebuild a plan from :meth:`to_dict` output."""
        sel = data.get("selection") or {}
        names = set(BenchmarkPlan.__dataclass_fields__)
        return cls(
            models=[(m["id"], m.get("role")) for m in data.get("models", [])],
            gating=[(Side.from_label(b), Side.from_label(c)) for b, c in data.get("gating", [])],
            reported=[
                (Side.from_label(b), Side.from_label(c)) for b, c in data.get("reported", [])
            ],
            benchmarks={
                name: BenchmarkPlan(**{k: v for k, v in b.items() if k in names})
                for name, b in (data.get("benchmarks") or {}).items()
            },
            selection=Selection(
                deselected=sel.get("deselected") or {},
                reasons=list(sel.get("reasons") or []),
                last_failed=bool(sel.get("last_failed")),
            ),
            required=data.get("required"),
            required_source=data.get("required_source"),
            noise_floor=tuple(data["noise_floor"]) if data.get("noise_floor") else None,
            collected=bool(data.get("collected")),
        )


def plan_pairs(
    models: Sequence[tuple[str, str | None]],
    baseline: str | None = None,
    candidates: Sequence[str] | None = None,
    compare_all: bool = False,
) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """Choose the gating and the reported (baseline, candidate) model pairs.

    Args:
        models: ``(id, role)`` of the models in this run, in models.yaml order.
        baseline: ``--baseline`` (overrides the role), or None.
        candidates: ``--candidate`` ids (override the roles), or None.
        compare_all: ``--compare all``: also report every other pair of models.

    Returns:
        ``(gating, reported)``. Gating pairs: the baseline against each candidate (roles,
        else every other model); they do not depend on the file's order beyond listing.
        Reported pairs (only with ``compare_all``): every other unordered pair, the model
        listed earlier on the baseline side. Gating is empty when the run has no baseline.

    Raises:
        ValueError: an id given is not among the run's models, a model is its own
            candidate, or ``--candidate`` is given without a baseline; the message names
            the option and the known ids.
    """
    ids = [m for m, _ in models]
    known = ", ".join(ids) or "(none)"
    for option, values in (
        ("--baseline", [baseline] if baseline else []),
        ("--candidate", list(candidates or [])),
    ):
        for value in values:
            if value not in ids:
                raise ValueError(
                    f"{option} {value}: not a model of this run. Fix: use one of "
                    f"{known} (check --models and models.yaml)."
                )
    base = baseline or next((m for m, role in models if role == "baseline"), None)
    gating: list[tuple[str, str]] = []
    if base is None:
        if candidates:
            raise ValueError(
                "--candidate needs a baseline. Fix: mark one model 'role: baseline' "
                "in models.yaml or pass --baseline ID."
            )
    else:
        if candidates:
            if base in candidates:
                raise ValueError(
                    f"--candidate {base}: it is the baseline. Fix: name another model."
                )
            chosen = list(dict.fromkeys(candidates))
        else:
            chosen = [m for m, role in models if role == "candidate" and m != base]
            if not chosen:
                chosen = [m for m in ids if m != base]
        gating = [(base, cand) for cand in chosen]
    reported: list[tuple[str, str]] = []
    if compare_all:
        order = ([base] if base else []) + [m for m in ids if m != base]
        taken = {frozenset(p) for p in gating}
        for i in range(len(order)):
            for j in range(i + 1, len(order)):
                if frozenset((order[i], order[j])) not in taken:
                    reported.append((order[i], order[j]))
    return gating, reported

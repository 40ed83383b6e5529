"""Pair two models' outcomes on one benchmark by item id, against the items the run planned.

Table orientation, as everywhere in :mod:`benchgate.stats`: rows baseline correct/wrong,
columns candidate correct/wrong::

                              candidate correct   candidate wrong
    baseline correct                 a                   b
    baseline wrong                   c                   d

``b`` = **regressions** (baseline right, candidate wrong), ``c`` = **improvements**.
"Wrong" is ``incorrect`` or ``no_answer``; items where either model had an ``error``
outcome are left out of the table (:attr:`PairedItems.errors_excluded`) and judged by the
error-rate rule and by the worst case that counts them against the candidate.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from benchgate.errors import BenchgateError
from benchgate.records import Outcome, Status


class IncompatibleRunsError(BenchgateError):
    """Two sets of outcomes cannot be paired.

    Their benchmark versions or dataset hashes differ (different prompts, extractors or
    items), so a paired test would be meaningless. The message names the benchmark, both
    values and the fix.
    """


@dataclass(frozen=True)
class Side:
    """One side of a comparison: a model's outcomes, live or from a stored run.

    Attributes:
        model: the model id from models.yaml.
        run_id: the stored run the outcomes come from, or None for this run.
    """

    model: str
    run_id: str | None = None

    @property
    def label(self) -> str:
        """``model`` for this run, ``model@run_id`` for a stored run."""
        return self.model if self.run_id is None else f"{self.model}@{self.run_id}"

    @classmethod
    def from_label(cls, label: str) -> Side:
        """Parse :attr:`label` back (``model`` or ``model@run_id``)."""
        model, _, run = label.partition("@")
        return cls(model, run or None)


@dataclass(frozen=True)
class Flip:
    """An item on which the two models disagree about correctness.

    Attributes:
        item_id: the item.
        kind: ``"regression"`` (baseline right, candidate wrong) or ``"improvement"``.
        baseline: the baseline's outcome.
        candidate: the candidate's outcome.
    """

    item_id: str
    kind: str
    baseline: Outcome
    candidate: Outcome


@dataclass
class PairedItems:
    """The outcomes of two models on one benchmark, paired by item id.

    Attributes:
        benchmark: the benchmark name.
        baseline: the baseline side.
        candidate: the candidate side.
        pairs: ``(baseline, candidate)`` outcomes of the items both scored without an
            error, sorted by item id.
        errors: ``(baseline, candidate)`` outcomes of the items both have where either is
            an error, sorted by item id.
        missing_baseline: planned item ids the baseline has no outcome for.
        missing_candidate: planned item ids the candidate has no outcome for.
        baseline_only: ids the baseline has that were not planned for the candidate (a
            stored baseline's extra items), sorted.
        candidate_only: ids the candidate has that the baseline lacks and that were not
            planned (only without a plan), sorted.
        benchmark_version: the common benchmark version.
        dataset_hash: the common dataset hash.
    """

    benchmark: str
    baseline: Side
    candidate: Side
    pairs: list[tuple[Outcome, Outcome]] = field(default_factory=list)
    errors: list[tuple[Outcome, Outcome]] = field(default_factory=list)
    missing_baseline: list[str] = field(default_factory=list)
    missing_candidate: list[str] = field(default_factory=list)
    baseline_only: list[str] = field(default_factory=list)
    candidate_only: list[str] = field(default_factory=list)
    benchmark_version: int = 0
    dataset_hash: str = ""

    @property
    def errors_excluded(self) -> list[str]:
        """Ids of items both sides have where either outcome is an error."""
        return [b.item_id for b, _ in self.errors]

    @property
    def complete(self) -> bool:
        """True when every planned item has an outcome on both sides."""
        return not self.missing_baseline and not self.missing_candidate

    def table(self) -> tuple[int, int, int, int]:
        """Return the 2x2 counts ``(a, b, c, d)`` (orientation in the module docstring)."""
        return table_of(self.pairs)


def table_of(pairs: Sequence[tuple[Outcome, Outcome]]) -> tuple[int, int, int, int]:
    """The 2x2 counts ``(a, b, c, d)`` of ``(baseline, candidate)`` outcome pairs.

    Correct means ``status == "correct"``; every other status is wrong.
    """
    a = b = c = d = 0
    ok = Status.CORRECT.value
    for base, cand in pairs:
        base_ok, cand_ok = base.status == ok, cand.status == ok
        if base_ok and cand_ok:
            a += 1
        elif base_ok:
            b += 1
        elif cand_ok:
            c += 1
        else:
            d += 1
    return a, b, c, d


def _identity(outcomes: Sequence[Outcome], benchmark: str, side: Side) -> tuple[int, str]:
    # An error outcome made up for a crashed test carries no version (0) and no hash.
    found = {(o.benchmark_version, o.dataset_hash) for o in outcomes if o.dataset_hash}
    if not found:
        return 0, ""
    if len(found) > 1:
        raise IncompatibleRunsError(
            f"benchmark {benchmark}: the outcomes of {side.label} mix benchmark versions / "
            f"dataset hashes {sorted(found)}. Fix: compare outcomes of one benchmark version "
            "and dataset only (re-run the model)."
        )
    return next(iter(found))


def _by_id(outcomes: list[Outcome], benchmark: str, side: Side) -> dict[str, Outcome]:
    found: dict[str, Outcome] = {}
    for o in outcomes:
        if o.item_id in found:
            raise ValueError(
                f"benchmark {benchmark}: item {o.item_id!r} occurs twice in the outcomes of "
                f"{side.label}"
            )
        found[o.item_id] = o
    return found


def pair_outcomes(
    benchmark: str,
    baseline: Side,
    baseline_outcomes: Sequence[Outcome],
    candidate: Side,
    candidate_outcomes: Sequence[Outcome],
    planned: Sequence[str] | None = None,
) -> PairedItems:
    """Pair two models' outcomes on one benchmark by item id.

    Args:
        benchmark: the benchmark name; outcomes of other benchmarks are ignored.
        baseline: the baseline side.
        baseline_outcomes: its outcomes (any order; one per item).
        candidate: the candidate side.
        candidate_outcomes: its outcomes.
        planned: the item ids the run planned for both sides (after ``--limit``/``--seed``),
            or None to pair whatever both sides have. With a plan, a planned id without an
            outcome on a side is *missing* (the pair is incomplete), and outcomes of ids
            outside the plan are extras, never paired.

    Returns:
        The :class:`PairedItems`.

    Raises:
        IncompatibleRunsError: the two sides differ in benchmark version or dataset hash
            (or one side mixes several); the message names both values and the fix.
        ValueError: an item id occurs twice on one side.
    """
    base = [o for o in baseline_outcomes if o.benchmark == benchmark]
    cand = [o for o in candidate_outcomes if o.benchmark == benchmark]
    paired = PairedItems(benchmark=benchmark, baseline=baseline, candidate=candidate)
    base_id = _identity(base, benchmark, baseline)
    cand_id = _identity(cand, benchmark, candidate)
    known = bool(base_id[1]) and bool(cand_id[1])  # both sides scored at least one item
    if known and base_id[0] != cand_id[0]:
        raise IncompatibleRunsError(
            f"benchmark {benchmark}: {baseline.label} was scored with benchmark version "
            f"{base_id[0]} and {candidate.label} with version {cand_id[0]}; the prompt, "
            "extractor or normaliser changed in between, so the runs cannot be paired. Fix: "
            "re-run the baseline with the current benchmark version (drop --baseline-run)."
        )
    if known and base_id[1] != cand_id[1]:
        raise IncompatibleRunsError(
            f"benchmark {benchmark}: dataset hash {base_id[1]!r} for {baseline.label} but "
            f"{cand_id[1]!r} for {candidate.label}; the items differ (another dataset file or "
            "revision), so the runs cannot be paired. Fix: point --data-dir at the data the "
            "baseline used, or re-run the baseline on this data (drop --baseline-run)."
        )
    paired.benchmark_version, paired.dataset_hash = base_id if base_id[1] else cand_id
    base_by_id = _by_id(base, benchmark, baseline)
    cand_by_id = _by_id(cand, benchmark, candidate)
    if planned is None:
        ids = sorted(base_by_id.keys() & cand_by_id.keys())
        paired.baseline_only = sorted(base_by_id.keys() - cand_by_id.keys())
        paired.candidate_only = sorted(cand_by_id.keys() - base_by_id.keys())
    else:
        wanted = set(planned)
        ids = sorted(wanted & base_by_id.keys() & cand_by_id.keys())
        paired.missing_baseline = sorted(wanted - base_by_id.keys())
        paired.missing_candidate = sorted(wanted - cand_by_id.keys())
        paired.baseline_only = sorted(base_by_id.keys() - wanted)
        paired.candidate_only = sorted(cand_by_id.keys() - wanted)
    error = Status.ERROR.value
    for item_id in ids:
        b, c = base_by_id[item_id], cand_by_id[item_id]
        if b.status == error or c.status == error:
            paired.errors.append((b, c))
        else:
            paired.pairs.append((b, c))
    return paired


def flips_of(pairs: Sequence[tuple[Outcome, Outcome]]) -> list[Flip]:
    """The discordant items of ``pairs``, regressions first, each kind by item id."""
    ok = Status.CORRECT.value
    flips = []
    for base, cand in pairs:
        base_ok, cand_ok = base.status == ok, cand.status == ok
        if base_ok != cand_ok:
            kind = "regression" if base_ok else "improvement"
            flips.append(Flip(base.item_id, kind, base, cand))
    flips.sort(key=lambda f: (f.kind != "regression", f.item_id))
    return flips

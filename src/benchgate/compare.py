"""Paired comparisons of models on the same items, and the gate's verdicts.

Pure logic (no pytest): the plugin (:mod:`benchgate.plugin.gate`) feeds it the outcomes
gathered on the controller and turns its :class:`GateResult` into an exit status and
reports.

Table orientation, as everywhere in :mod:`benchgate.stats`: rows baseline correct/wrong,
columns candidate correct/wrong::

                              candidate correct   candidate wrong
    baseline correct                 a                   b
    baseline wrong                   c                   d

``b`` = **regressions** (baseline right, candidate wrong), ``c`` = **improvements**.
"Wrong" is ``incorrect`` or ``no_answer``; items where either model had an ``error``
outcome (the model's ability was never measured) are left out of the table, counted in
:attr:`Comparison.n_errors_excluded` and judged by the error-rate rule instead.

The statistics module is imported lazily (scipy costs about a second).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from benchgate.errors import BenchgateError
from benchgate.records import Outcome, Status

#: The verdicts of one comparison.
REGRESSION = "regression"
INCONCLUSIVE = "inconclusive"
PASS = "pass"
VERDICTS = (REGRESSION, INCONCLUSIVE, PASS)


class IncompatibleRunsError(BenchgateError):
    """Two sets of outcomes cannot be paired.

    Their benchmark versions or dataset hashes differ (different prompts, extractors or
    items), so a paired test would be meaningless. The message names the benchmark, both
    values and the fix.
    """


@dataclass(frozen=True)
class GateSettings:
    """The gate's thresholds.

    All rates and differences are fractions of items (0.05 = 5 accuracy points), not
    percentages.

    Attributes:
        alpha: family-wise significance level of the one-sided regression test, in (0, 1).
        margin: a significant drop (baseline minus candidate accuracy) must also exceed
            this to count as a regression, in [0, 1).
        mde_max: largest acceptable minimum detectable drop, in (0, 1]; above it "no
            regression" cannot be claimed (verdict *inconclusive*).
        power: power at which the minimum detectable drop is computed, in (0, 1).
        strict_power: an *inconclusive* comparison fails the gate.
        max_error_rate: share of *error* outcomes of a (model, benchmark) above which the
            gate fails, in [0, 1].
        no_answer_jump: rise of a candidate's no_answer rate over the baseline's (paired
            items) that is reported as a finding, in (0, 1].
        confidence: level of the reported intervals, in (0, 1).

    Raises:
        ValueError: a value out of range (the message names the option and the value).
    """

    alpha: float = 0.05
    margin: float = 0.0
    mde_max: float = 0.05
    power: float = 0.8
    strict_power: bool = False
    max_error_rate: float = 0.05
    no_answer_jump: float = 0.05
    confidence: float = 0.95

    def __post_init__(self) -> None:
        checks = {
            "alpha": (self.alpha, 0.0, 1.0, False, False),
            "margin": (self.margin, 0.0, 1.0, True, False),
            "mde_max": (self.mde_max, 0.0, 1.0, False, True),
            "power": (self.power, 0.0, 1.0, False, False),
            "max_error_rate": (self.max_error_rate, 0.0, 1.0, True, True),
            "no_answer_jump": (self.no_answer_jump, 0.0, 1.0, False, True),
            "confidence": (self.confidence, 0.0, 1.0, False, False),
        }
        for name, (value, low, high, low_ok, high_ok) in checks.items():
            if isinstance(value, bool) or not isinstance(value, int | float) or math.isnan(value):
                raise ValueError(f"{name} must be a number, got {value!r}")
            above = value >= low if low_ok else value > low
            below = value <= high if high_ok else value < high
            if not (above and below):
                lo, hi = ("[" if low_ok else "("), ("]" if high_ok else ")")
                raise ValueError(f"{name} must be in {lo}{low:g}, {high:g}{hi}, got {value!r}")

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as builtins."""
        return dict(self.__dict__)


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
        errors_excluded: ids of items both ran where either outcome is an error.
        baseline_only: ids of items only the baseline ran.
        candidate_only: ids of items only the candidate ran.
        benchmark_version: the common benchmark version.
        dataset_hash: the common dataset hash.
    """

    benchmark: str
    baseline: Side
    candidate: Side
    pairs: list[tuple[Outcome, Outcome]] = field(default_factory=list)
    errors_excluded: list[str] = field(default_factory=list)
    baseline_only: list[str] = field(default_factory=list)
    candidate_only: list[str] = field(default_factory=list)
    benchmark_version: int = 0
    dataset_hash: str = ""

    def table(self) -> tuple[int, int, int, int]:
        """Return the 2x2 counts ``(a, b, c, d)`` (orientation in the module docstring)."""
        a = b = c = d = 0
        for base, cand in self.pairs:
            base_ok = base.status == Status.CORRECT.value
            cand_ok = cand.status == Status.CORRECT.value
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


def pair_outcomes(
    benchmark: str,
    baseline: Side,
    baseline_outcomes: Sequence[Outcome],
    candidate: Side,
    candidate_outcomes: Sequence[Outcome],
) -> PairedItems:
    """Pair two models' outcomes on one benchmark by item id.

    Args:
        benchmark: the benchmark name; outcomes of other benchmarks are ignored.
        baseline: the baseline side.
        baseline_outcomes: its outcomes (any order; one per item).
        candidate: the candidate side.
        candidate_outcomes: its outcomes.

    Returns:
        The :class:`PairedItems`; empty when either side has no outcome on ``benchmark``.

    Raises:
        IncompatibleRunsError: the two sides differ in benchmark version or dataset hash
            (or one side mixes several); the message names both values and the fix.
        ValueError: an item id occurs twice on one side.
    """
    base = [o for o in baseline_outcomes if o.benchmark == benchmark]
    cand = [o for o in candidate_outcomes if o.benchmark == benchmark]
    paired = PairedItems(benchmark=benchmark, baseline=baseline, candidate=candidate)
    if not base or not cand:
        return paired
    base_id = _identity(base, benchmark, baseline)
    cand_id = _identity(cand, benchmark, candidate)
    known = bool(base_id[1]) and bool(cand_id[1])  # both sides scored at least one item
    if known and base_id[0] != cand_id[0]:
        raise IncompatibleRunsError(
            f"benchmark {benchmark}: {baseline.label} was scored with benchmark version "
            f"{base_id[0]} and {candidate.label} with version {cand_id[0]}; the prompt, extractor "
            "or normaliser changed in between, so the runs cannot be paired. Fix: re-run the "
            "baseline with the current benchmark version (drop --baseline-run)."
        )
    if known and base_id[1] != cand_id[1]:
        raise IncompatibleRunsError(
            f"benchmark {benchmark}: dataset hash {base_id[1]!r} for {baseline.label} but "
            f"{cand_id[1]!r} for {candidate.label}; the items differ (another dataset file or "
            "revision), so the runs cannot be paired. Fix: point --data-dir at the data the "
            "baseline used, or re-run the baseline on this data (drop --baseline-run)."
        )
    paired.benchmark_version, paired.dataset_hash = base_id if base_id[1] else cand_id

    def by_id(outcomes: list[Outcome], side: Side) -> dict[str, Outcome]:
        found: dict[str, Outcome] = {}
        for o in outcomes:
            if o.item_id in found:
                raise ValueError(
                    f"benchmark {benchmark}: item {o.item_id!r} occurs twice in the "
                    f"outcomes of {side.label}"
                )
            found[o.item_id] = o
        return found

    base_by_id, cand_by_id = by_id(base, baseline), by_id(cand, candidate)
    error = Status.ERROR.value
    for item_id in sorted(base_by_id.keys() & cand_by_id.keys()):
        b, c = base_by_id[item_id], cand_by_id[item_id]
        if b.status == error or c.status == error:
            paired.errors_excluded.append(item_id)
        else:
            paired.pairs.append((b, c))
    paired.baseline_only = sorted(base_by_id.keys() - cand_by_id.keys())
    paired.candidate_only = sorted(cand_by_id.keys() - base_by_id.keys())
    return paired


@dataclass(frozen=True)
class Interval:
    """A point estimate with its two-sided interval (builtins; ``inf``/``nan`` allowed).

    Attributes:
        estimate: the point estimate.
        lower: lower limit.
        upper: upper limit.
        method: the interval method (``wilson``, ``tango_score``, ``exact_conditional``).
    """

    estimate: float
    lower: float
    upper: float
    method: str

    @classmethod
    def of(cls, estimate: Any) -> Interval:
        """Convert a :class:`benchgate.stats.IntervalEstimate`."""
        return cls(
            float(estimate.estimate), float(estimate.lower), float(estimate.upper), estimate.method
        )


@dataclass(frozen=True)
class NoAnswerShift:
    """How the share of format failures (no_answer) moved from baseline to candidate.

    Attributes:
        baseline_rate: baseline's no_answer share of the paired items.
        candidate_rate: candidate's no_answer share of the paired items.
        newly: items the baseline answered and the candidate did not.
        fixed: items the candidate answered and the baseline did not.
        rise: ``(newly - fixed) / n`` (= ``candidate_rate - baseline_rate``).
        pvalue: one-sided mid-p McNemar p-value that the candidate answers less often
            (unadjusted; a finding, not a gate decision).
        flagged: ``rise`` exceeds the ``no_answer_jump`` threshold.
    """

    baseline_rate: float
    candidate_rate: float
    newly: int
    fixed: int
    rise: float
    pvalue: float
    flagged: bool


@dataclass
class Comparison:
    """One paired comparison (one benchmark, one baseline, one candidate) and its verdict.

    Attributes:
        benchmark: the benchmark name.
        baseline: the baseline side.
        candidate: the candidate side.
        n: items scored for both without an error (the 2x2 table's total).
        n_errors_excluded: items left out because either outcome was an error.
        n_baseline_only: items only the baseline ran.
        n_candidate_only: items only the candidate ran.
        a: both correct.
        b: regressions (baseline right, candidate wrong).
        c: improvements (baseline wrong, candidate right).
        d: both wrong.
        baseline_accuracy: baseline accuracy on the paired items with its Wilson interval
            (None when ``n == 0``).
        candidate_accuracy: the same for the candidate.
        difference: candidate minus baseline accuracy, ``(c - b) / n``, with Tango's
            paired score interval (None when ``n == 0``).
        odds_ratio: conditional odds ratio ``c / b`` with its exact interval (None when
            ``n == 0``).
        cohens_g: Cohen's g of the discordant split, in [0, 0.5].
        pvalue: two-sided mid-p McNemar p-value.
        pvalue_regression: one-sided (candidate worse) mid-p McNemar p-value.
        pvalue_holm: ``pvalue`` Holm-adjusted over the family of comparisons.
        pvalue_regression_holm: ``pvalue_regression`` Holm-adjusted over the family; the
            gate's test.
        mdd: minimum detectable drop (fraction of items) of this run at power
            ``settings.power`` and level ``alpha / family size``; ``inf`` when none is
            detectable.
        mdd_discordance: the discordance rate assumed for ``mdd`` (upper confidence limit
            of the observed ``(b + c) / n``, or the drop itself when larger).
        verdict: ``regression``, ``inconclusive`` or ``pass``.
        reason: one sentence explaining the verdict.
        no_answer: the no_answer shift (None when ``n == 0``).
        flips: the discordant items with both outcomes (regressions first, by item id).
        benchmark_version: the benchmark version both sides were scored with.
        dataset_hash: the dataset hash both sides share.
    """

    benchmark: str
    baseline: Side
    candidate: Side
    n: int
    n_errors_excluded: int
    n_baseline_only: int
    n_candidate_only: int
    a: int
    b: int
    c: int
    d: int
    baseline_accuracy: Interval | None
    candidate_accuracy: Interval | None
    difference: Interval | None
    odds_ratio: Interval | None
    cohens_g: float
    pvalue: float
    pvalue_regression: float
    pvalue_holm: float = math.nan
    pvalue_regression_holm: float = math.nan
    mdd: float = math.inf
    mdd_discordance: float = math.nan
    verdict: str = INCONCLUSIVE
    reason: str = ""
    no_answer: NoAnswerShift | None = None
    flips: list[Flip] = field(default_factory=list)
    benchmark_version: int = 0
    dataset_hash: str = ""

    @property
    def drop(self) -> float:
        """Baseline minus candidate accuracy on the paired items, ``(b - c) / n`` (0 if n=0)."""
        return (self.b - self.c) / self.n if self.n else 0.0

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison as builtins.

        Flips become item ids; ``inf``/``nan`` stay floats (:func:`json.dumps` writes them
        as ``Infinity``/``NaN``; summary.json turns them into strings).
        """

        def interval(value: Interval | None) -> dict[str, Any] | None:
            return None if value is None else dict(value.__dict__)

        return {
            "benchmark": self.benchmark,
            "benchmark_version": self.benchmark_version,
            "dataset_hash": self.dataset_hash,
            "baseline": self.baseline.label,
            "baseline_model": self.baseline.model,
            "baseline_run": self.baseline.run_id,
            "candidate": self.candidate.label,
            "candidate_model": self.candidate.model,
            "candidate_run": self.candidate.run_id,
            "n": self.n,
            "n_errors_excluded": self.n_errors_excluded,
            "n_baseline_only": self.n_baseline_only,
            "n_candidate_only": self.n_candidate_only,
            "table": {"a": self.a, "b": self.b, "c": self.c, "d": self.d},
            "baseline_accuracy": interval(self.baseline_accuracy),
            "candidate_accuracy": interval(self.candidate_accuracy),
            "difference": interval(self.difference),
            "odds_ratio": interval(self.odds_ratio),
            "cohens_g": self.cohens_g,
            "pvalue": self.pvalue,
            "pvalue_regression": self.pvalue_regression,
            "pvalue_holm": self.pvalue_holm,
            "pvalue_regression_holm": self.pvalue_regression_holm,
            "mdd": self.mdd,
            "mdd_discordance": self.mdd_discordance,
            "verdict": self.verdict,
            "reason": self.reason,
            "no_answer": None if self.no_answer is None else dict(self.no_answer.__dict__),
            "regressions": [f.item_id for f in self.flips if f.kind == REGRESSION],
            "improvements": [f.item_id for f in self.flips if f.kind != REGRESSION],
        }


def detectable_drop(
    n: int, discordant: int, alpha: float, power: float = 0.8, confidence: float = 0.95
) -> tuple[float, float]:
    """The smallest accuracy drop a run of ``n`` paired items detects with ``power``.

    Args:
        n: paired items (>= 0).
        discordant: observed discordant pairs ``b + c`` (0 <= discordant <= n).
        alpha: level of the one-sided mid-p McNemar test, in (0, 1).
        power: target power, in (0, 1).
        confidence: level of the upper limit taken for the discordance rate.

    Returns:
        ``(mdd, discordance)``: the drop as a fraction of items (``inf`` when ``n == 0`` or
        no drop up to 100 points reaches ``power``) and the discordance rate it assumes.

    Notes:
        The discordance rate is uncertain, and a drop is harder to detect the more the
        models disagree, so the one-sided upper Wilson limit of ``(b + c) / n`` is used
        (the conservative choice :func:`benchgate.stats.minimum_detectable_difference`
        recommends). A drop of ``delta`` needs at least ``delta`` discordance; when the
        run cannot detect any drop up to that assumed rate, the drop is found with the
        rate equal to the drop itself (every discordant item a regression,
        ``p_regress = delta``, ``p_improve = 0``), where power is monotone in ``delta``.
        Without this, two models that never disagree would have an infinite detectable
        drop at any ``n``.
    """
    from scipy import optimize

    from benchgate.stats import mcnemar_power, minimum_detectable_difference, wilson_interval

    if n <= 0:
        return math.inf, math.nan
    # One-sided upper limit: the upper end of the two-sided interval at 1 - 2 (1 - level).
    rate = wilson_interval(discordant, n, confidence=2 * confidence - 1).upper
    mdd = minimum_detectable_difference(n, rate, alpha=alpha, power=power, alternative="less")
    if math.isfinite(mdd):
        return float(mdd), float(rate)

    def gap(delta: float) -> float:
        return mcnemar_power(n, delta, 0.0, alpha=alpha, alternative="less") - power

    if gap(1.0) < 0:
        return math.inf, math.nan
    delta = float(optimize.brentq(gap, rate, 1.0, xtol=1e-9))
    return delta, delta


def _no_answer_shift(pairs: Sequence[tuple[Outcome, Outcome]], threshold: float) -> NoAnswerShift:
    from benchgate.stats import mcnemar

    na = Status.NO_ANSWER.value
    n = len(pairs)
    base_na = sum(b.status == na for b, _ in pairs)
    cand_na = sum(c.status == na for _, c in pairs)
    newly = sum(b.status != na and c.status == na for b, c in pairs)
    fixed = sum(b.status == na and c.status != na for b, c in pairs)
    rise = (newly - fixed) / n
    pvalue = mcnemar(newly, fixed, alternative="less").pvalue
    return NoAnswerShift(
        base_na / n, cand_na / n, newly, fixed, rise, float(pvalue), rise > threshold
    )


def measure(paired: PairedItems, settings: GateSettings) -> Comparison:
    """Compute every statistic of one comparison (Holm fields and verdict come later).

    Args:
        paired: the paired outcomes.
        settings: the gate settings (interval level, no_answer threshold).

    Returns:
        A :class:`Comparison` with raw p-values; ``pvalue_holm``,
        ``pvalue_regression_holm``, ``mdd`` and ``verdict`` are set by
        :func:`compare_family`.
    """
    from benchgate import stats

    a, b, c, d = paired.table()
    n = a + b + c + d
    level = settings.confidence
    flips = []
    for base, cand in paired.pairs:
        base_ok = base.status == Status.CORRECT.value
        cand_ok = cand.status == Status.CORRECT.value
        if base_ok != cand_ok:
            flips.append(Flip(base.item_id, REGRESSION if base_ok else "improvement", base, cand))
    flips.sort(key=lambda f: (f.kind != REGRESSION, f.item_id))
    two_sided = stats.mcnemar(b, c, method="midp", alternative="two-sided").pvalue
    one_sided = stats.mcnemar(b, c, method="midp", alternative="less").pvalue
    return Comparison(
        benchmark=paired.benchmark,
        baseline=paired.baseline,
        candidate=paired.candidate,
        n=n,
        n_errors_excluded=len(paired.errors_excluded),
        n_baseline_only=len(paired.baseline_only),
        n_candidate_only=len(paired.candidate_only),
        a=a,
        b=b,
        c=c,
        d=d,
        baseline_accuracy=Interval.of(stats.wilson_interval(a + b, n, level)) if n else None,
        candidate_accuracy=Interval.of(stats.wilson_interval(a + c, n, level)) if n else None,
        difference=Interval.of(stats.paired_accuracy_difference(b, c, n, level)) if n else None,
        odds_ratio=Interval.of(stats.conditional_odds_ratio(b, c, level)) if n else None,
        cohens_g=float(stats.cohens_g(b, c)),
        pvalue=float(two_sided),
        pvalue_regression=float(one_sided),
        no_answer=_no_answer_shift(paired.pairs, settings.no_answer_jump) if n else None,
        flips=flips,
        benchmark_version=paired.benchmark_version,
        dataset_hash=paired.dataset_hash,
    )


def _items(count: int) -> str:
    return f"{count} item" + ("" if count == 1 else "s")


def _pct(x: float) -> str:
    return "inf" if math.isinf(x) else f"{100 * x:.1f} pts"


def decide(comparison: Comparison, settings: GateSettings) -> tuple[str, str]:
    """Return the verdict and its reason for a comparison whose Holm p-values and MDD are set.

    Rules (fractions of items):

    * **regression**: ``pvalue_regression_holm < alpha`` and the observed drop
      ``(b - c) / n > margin``;
    * **inconclusive**: not a regression, ``mdd > mde_max``, and the difference's
      interval does not already exclude a drop of ``mde_max`` (its lower limit is at or
      below ``-mde_max``): "no regression" cannot be claimed;
    * **pass**: otherwise.

    A run too small to test anything (``n == 0``) is inconclusive.
    """
    if comparison.n == 0:
        return INCONCLUSIVE, "no item was scored for both models without an error"
    p_adj = comparison.pvalue_regression_holm
    drop = comparison.drop
    if p_adj < settings.alpha and drop > settings.margin:
        margin = f" (> margin {_pct(settings.margin)})" if settings.margin > 0 else ""
        return REGRESSION, (
            f"candidate drops {_pct(drop)}{margin}: b={comparison.b} regressions vs "
            f"c={comparison.c} improvements, Holm-adjusted one-sided p={p_adj:.3g} < "
            f"alpha {settings.alpha:g}"
        )
    if p_adj < settings.alpha:
        detail = (
            f"Holm-adjusted one-sided p={p_adj:.3g} < alpha, but the drop {_pct(drop)} is "
            f"within the margin {_pct(settings.margin)}"
        )
    else:
        detail = f"Holm-adjusted one-sided p={p_adj:.3g}"
    lower = comparison.difference.lower if comparison.difference else -1.0
    level = f"{settings.confidence:.0%}"
    if comparison.mdd > settings.mde_max and lower <= -settings.mde_max:
        return INCONCLUSIVE, (
            f"no regression found ({detail}), but n={comparison.n} cannot rule out a drop of "
            f"{_pct(settings.mde_max)} (--mde-max): the detectable drop is {_pct(comparison.mdd)} "
            f"and the {level} interval of the difference reaches {_pct(lower)}; 'no regression' "
            "cannot be claimed"
        )
    if comparison.mdd > settings.mde_max:
        why = f"the {level} interval of the difference starts at {_pct(lower)}"
    else:
        why = f"a drop of {_pct(comparison.mdd)} would have been detected"
    return PASS, f"no regression ({detail}); {why}"


def compare_family(paired: Sequence[PairedItems], settings: GateSettings) -> list[Comparison]:
    """Compare every pair, adjust over the family with Holm, and give each a verdict.

    Args:
        paired: the family of paired outcome sets (every benchmark x model pair compared
            in this run).
        settings: the gate settings.

    Returns:
        One :class:`Comparison` per entry, in the same order.

    Notes:
        Holm's step-down adjustment controls the family-wise error rate over all
        comparisons of the run (any dependence). The minimum detectable drop is computed
        at ``alpha / m`` for a family of ``m`` comparisons, the level Holm's first step
        applies, so it is what a single regression must clear when nothing else is
        significant.

    References:
        Holm S (1979). Scandinavian Journal of Statistics 6:65-70.
        Fagerland MW, Lydersen S, Laake P (2013). BMC Med Res Methodol 13:91 (mid-p).
    """
    from benchgate.stats import holm

    comparisons = [measure(p, settings) for p in paired]
    if not comparisons:
        return []
    one = holm([c.pvalue_regression for c in comparisons])
    two = holm([c.pvalue for c in comparisons])
    level = settings.alpha / len(comparisons)
    for comparison, p_one, p_two in zip(comparisons, one, two, strict=False):
        comparison.pvalue_regression_holm = float(p_one)
        comparison.pvalue_holm = float(p_two)
        comparison.mdd, comparison.mdd_discordance = detectable_drop(
            comparison.n, comparison.b + comparison.c, level, settings.power, settings.confidence
        )
        comparison.verdict, comparison.reason = decide(comparison, settings)
    return comparisons


def plan_pairs(
    models: Sequence[tuple[str, str | None]],
    baseline: str | None = None,
    candidates: Sequence[str] | None = None,
    compare_all: bool = False,
) -> list[tuple[str, str]]:
    """Choose the (baseline, candidate) model pairs to compare.

    Args:
        models: ``(id, role)`` of the models in this run, in models.yaml order.
        baseline: ``--baseline`` (overrides the role), or None.
        candidates: ``--candidate`` ids (override the roles), or None.
        compare_all: ``--compare all``: every pair, the earlier model in models.yaml
            order (the baseline model always) on the baseline side.

    Returns:
        ``(baseline_id, candidate_id)`` pairs; empty when the run has no baseline (one
        model, or no ``role: baseline`` and no ``--baseline``).

    Raises:
        ValueError: an id given is not among the run's models, or a model is its own
            candidate; the message names the option and the known ids.
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
    if compare_all:
        order = ([base] if base else []) + [m for m in ids if m != base]
        return [(order[i], order[j]) for i in range(len(order)) for j in range(i + 1, len(order))]
    if base is None:
        if candidates:
            raise ValueError(
                "--candidate needs a baseline. Fix: mark one model 'role: baseline' "
                "in models.yaml or pass --baseline ID."
            )
        return []
    if candidates:
        if base in candidates:
            raise ValueError(f"--candidate {base}: it is the baseline. Fix: name another model.")
        chosen = list(dict.fromkeys(candidates))
    else:
        chosen = [m for m, role in models if role == "candidate" and m != base]
        if not chosen:
            chosen = [m for m in ids if m != base]
    return [(base, cand) for cand in chosen]


@dataclass(frozen=True)
class ErrorRate:
    """The share of *error* outcomes of one model on one benchmark in this run.

    Attributes:
        model: the model id.
        benchmark: the benchmark.
        n: outcomes.
        errors: error outcomes.
        rate: ``errors / n``.
        exceeded: ``rate > max_error_rate`` (fails the gate).
    """

    model: str
    benchmark: str
    n: int
    errors: int
    rate: float
    exceeded: bool


def error_rates(outcomes: Iterable[Outcome], max_error_rate: float) -> list[ErrorRate]:
    """Error share per (model, benchmark), sorted by model then benchmark.

    Args:
        outcomes: this run's outcomes.
        max_error_rate: the gate's limit (fraction).
    """
    counts: dict[tuple[str, str], list[int]] = {}
    for o in outcomes:
        entry = counts.setdefault((o.model, o.benchmark), [0, 0])
        entry[0] += 1
        entry[1] += o.status == Status.ERROR.value
    rates = []
    for (model, bench), (n, errors) in sorted(counts.items()):
        rate = errors / n
        rates.append(ErrorRate(model, bench, n, errors, rate, rate > max_error_rate))
    return rates


@dataclass
class GateResult:
    """The gate's decision for a run.

    Attributes:
        passed: True when nothing fails the gate.
        exit_status: 0 (pass) or 1 (fail), the session's exit status under the gate.
        reasons: why the gate failed (one line each); empty when it passed.
        notes: findings that do not fail the gate (no_answer jumps, items left out for
            errors, benchmarks not compared); inconclusive verdicts are in ``comparisons``.
        comparisons: every comparison.
        error_rates: error share per (model, benchmark) of this run.
        settings: the thresholds used.
    """

    passed: bool
    exit_status: int
    reasons: list[str]
    notes: list[str]
    comparisons: list[Comparison]
    error_rates: list[ErrorRate]
    settings: GateSettings

    def to_dict(self) -> dict[str, Any]:
        """Return the result as builtins."""
        return {
            "status": "pass" if self.passed else "fail",
            "exit_status": self.exit_status,
            "reasons": list(self.reasons),
            "notes": list(self.notes),
            "settings": self.settings.to_dict(),
            "comparisons": [c.to_dict() for c in self.comparisons],
            "error_rates": [dict(e.__dict__) for e in self.error_rates],
        }


def evaluate_gate(
    live: Sequence[Outcome],
    pairs: Sequence[tuple[Side, Side]],
    settings: GateSettings,
    stored: Mapping[Side, Sequence[Outcome]] | None = None,
) -> GateResult:
    """Run the whole gate: pair, compare, adjust, decide, and check error rates.

    Args:
        live: this run's outcomes (all models, all benchmarks).
        pairs: ``(baseline, candidate)`` sides to compare on every benchmark both ran.
        settings: thresholds.
        stored: outcomes of stored sides (``Side.run_id`` set), by side.

    Returns:
        The :class:`GateResult`. The gate fails on any regression, on an error rate above
        ``max_error_rate``, and (with ``strict_power``) on any inconclusive comparison.

    Raises:
        IncompatibleRunsError: a pair's benchmark versions or dataset hashes differ.
    """
    stored = stored or {}

    def outcomes_of(side: Side) -> list[Outcome]:
        if side.run_id is not None:
            return list(stored.get(side, []))
        return [o for o in live if o.model == side.model]

    notes: list[str] = []
    family: list[PairedItems] = []
    for base, cand in pairs:
        base_out, cand_out = outcomes_of(base), outcomes_of(cand)
        base_benches = {o.benchmark for o in base_out}
        cand_benches = {o.benchmark for o in cand_out}
        for bench in sorted(base_benches & cand_benches):
            family.append(pair_outcomes(bench, base, base_out, cand, cand_out))
        for bench in sorted(cand_benches - base_benches):
            notes.append(f"{bench}: {cand.label} not compared, {base.label} has no outcomes on it")
    comparisons = compare_family(family, settings)
    reasons: list[str] = []
    for comp in comparisons:
        head = f"{comp.benchmark}: {comp.candidate.label} vs {comp.baseline.label}"
        if comp.verdict == REGRESSION:
            reasons.append(f"{head}: regression ({comp.reason})")
        elif comp.verdict == INCONCLUSIVE and settings.strict_power:
            # Without --strict-power an inconclusive verdict is reported with the
            # comparison, not as a finding.
            reasons.append(f"{head}: inconclusive ({comp.reason}); --strict-power fails the gate")
        if comp.no_answer is not None and comp.no_answer.flagged:
            na = comp.no_answer
            notes.append(
                f"{head}: no_answer jump: format failures rose from {na.baseline_rate:.1%} to "
                f"{na.candidate_rate:.1%} ({_items(na.newly)} newly unanswered, {na.fixed} fixed; "
                f"one-sided p={na.pvalue:.3g})"
            )
        if comp.n_errors_excluded:
            notes.append(
                f"{head}: {_items(comp.n_errors_excluded)} with an error outcome left out "
                "of the paired table"
            )
    rates = error_rates(live, settings.max_error_rate)
    for rate in rates:
        if rate.exceeded:
            reasons.append(
                f"{rate.benchmark}: {rate.model}: error rate {rate.rate:.1%} "
                f"({rate.errors}/{rate.n}) above --max-error-rate {settings.max_error_rate:g}; "
                "errors are not a pass (backend down or failing?)"
            )
    passed = not reasons
    return GateResult(
        passed=passed,
        exit_status=0 if passed else 1,
        reasons=reasons,
        notes=notes,
        comparisons=comparisons,
        error_rates=rates,
        settings=settings,
    )

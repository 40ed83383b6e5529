"""One paired comparison (a benchmark, a baseline, a candidate): statistics and verdict.

Pure logic on :class:`~benchgate.gate.pairing.PairedItems`. A *family* of comparisons (the
gating pairs of a run) is adjusted together with Holm; each comparison then gets its
verdict: **regression**, **inconclusive** (the run cannot rule out a drop of
``--mde-max``) or **pass**. Binary benchmarks are tested with the one-sided mid-p McNemar
test on the discordant pairs (b, c); graded benchmarks (``Benchmark.graded``, e.g. ROUGE-L
on DialogSum) with the paired permutation test of the mean score difference, and their
thresholded pass/fail table is kept as a secondary view. The statistics module is imported
lazily (scipy costs about a second).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from benchgate.gate.pairing import Flip, PairedItems, Side, flips_of, table_of
from benchgate.gate.settings import GateSettings
from benchgate.records import Outcome, Status

#: The verdicts of one comparison.
REGRESSION = "regression"
INCONCLUSIVE = "inconclusive"
PASS = "pass"
VERDICTS = (REGRESSION, INCONCLUSIVE, PASS)


@dataclass(frozen=True)
class Interval:
    """A point estimate with its two-sided interval (builtins; ``inf``/``nan`` allowed).

    Attributes:
        estimate: the point estimate.
        lower: lower limit.
        upper: upper limit.
        method: the interval method (``wilson``, ``tango_score``, ``exact_conditional``,
            ``bootstrap_bca``...).
    """

    estimate: float
    lower: float
    upper: float
    method: str

    @classmethod
    def of(cls, estimate: Any) -> Interval:
        """Convert a :class:`benchgate.stats.IntervalEstimate` (or anything alike)."""
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
            (unadjusted; a finding, not a gate decision unless ``--fail-on``).
        flagged: ``rise`` exceeds the ``no_answer_jump`` threshold.
    """

    baseline_rate: float
    candidate_rate: float
    newly: int
    fixed: int
    rise: float
    pvalue: float
    flagged: bool


@dataclass(frozen=True)
class GradedDifference:
    """The graded comparison of a benchmark whose score is continuous (e.g. ROUGE-L).

    Attributes:
        n: paired items (scored for both without an error).
        baseline_mean: mean baseline score, in the score's units (0-1).
        candidate_mean: mean candidate score.
        difference: candidate minus baseline mean score with its bootstrap interval.
        pvalue: two-sided paired permutation p-value of equal means.
        pvalue_regression: one-sided permutation p-value (candidate worse).
    """

    n: int
    baseline_mean: float
    candidate_mean: float
    difference: Interval
    pvalue: float
    pvalue_regression: float


@dataclass(frozen=True)
class WorstCase:
    """The comparison recomputed with every error counted against the candidate.

    A candidate error counts as wrong (score 0) and a baseline error as right (score 1),
    so errors cannot hide a regression (issue: "Errors cannot hide regressions").

    Attributes:
        errors: error pairs that were counted (either side an error).
        n: paired items including them.
        b: regressions in the worst case.
        c: improvements in the worst case.
        drop: worst-case drop (fraction of items, or score units for graded benchmarks).
        pvalue_regression: worst-case one-sided p-value (McNemar mid-p or permutation).
        pvalue_regression_holm: the same, Holm-adjusted over the family's worst cases.
        regression: the worst case is a significant drop beyond the margin.
    """

    errors: int
    n: int
    b: int
    c: int
    drop: float
    pvalue_regression: float
    pvalue_regression_holm: float = math.nan
    regression: bool = False


@dataclass
class Comparison:
    """One paired comparison (one benchmark, one baseline, one candidate) and its verdict.

    Attributes:
        benchmark: the benchmark name.
        baseline: the baseline side.
        candidate: the candidate side.
        gating: True when the comparison decides the gate (a role or ``--baseline`` /
            ``--candidate`` pair); reported-only pairs (``--compare all``) are False.
        n: items scored for both without an error (the 2x2 table's total).
        n_errors_excluded: items left out because either outcome was an error.
        n_missing: planned items without an outcome on one side (0 for a complete pair).
        n_baseline_only: the baseline's extra items (a stored run's items outside the plan).
        n_candidate_only: the candidate's extra items.
        a: both correct.
        b: regressions (baseline right, candidate wrong).
        c: improvements (baseline wrong, candidate right).
        d: both wrong.
        baseline_accuracy: baseline accuracy on the paired items, Wilson interval (None
            when ``n == 0``).
        candidate_accuracy: the same for the candidate.
        difference: candidate minus baseline accuracy, ``(c - b) / n``, with Tango's paired
            score interval (None when ``n == 0``).
        odds_ratio: conditional odds ratio ``c / b`` with its exact interval.
        cohens_g: Cohen's g of the discordant split, in [0, 0.5].
        pvalue: two-sided mid-p McNemar p-value.
        pvalue_regression: one-sided (candidate worse) mid-p McNemar p-value.
        graded: the graded comparison for graded benchmarks, else None; when set, its
            p-values (not McNemar's) are the gate's test.
        pvalue_holm: the test's two-sided p-value, Holm-adjusted over the family.
        pvalue_regression_holm: the test's one-sided p-value, Holm-adjusted over the
            family; the gate's test.
        mdd: minimum detectable drop (fraction of items) at ``settings.power`` and level
            ``alpha / family size``; ``inf`` when none is detectable; nan for graded.
        mdd_discordance: the discordance rate assumed for ``mdd``.
        verdict: ``regression``, ``inconclusive`` or ``pass``.
        reason: one sentence explaining the verdict.
        no_answer: the no_answer shift (None when ``n == 0``).
        worst_case: the error worst case (None without error pairs).
        flips: the discordant items with both outcomes (regressions first, by item id).
        benchmark_version: the benchmark version both sides were scored with.
        dataset_hash: the dataset hash both sides share.
    """

    benchmark: str
    baseline: Side
    candidate: Side
    gating: bool
    n: int
    n_errors_excluded: int
    n_missing: int
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
    graded: GradedDifference | None = None
    pvalue_holm: float = math.nan
    pvalue_regression_holm: float = math.nan
    mdd: float = math.inf
    mdd_discordance: float = math.nan
    verdict: str = INCONCLUSIVE
    reason: str = ""
    no_answer: NoAnswerShift | None = None
    worst_case: WorstCase | None = None
    flips: list[Flip] = field(default_factory=list)
    benchmark_version: int = 0
    dataset_hash: str = ""

    @property
    def drop(self) -> float:
        """Baseline minus candidate on the paired items (0 when ``n == 0``).

        Accuracy ``(b - c) / n``, or the mean score for graded benchmarks.
        """
        if self.graded is not None:
            return -self.graded.difference.estimate
        return (self.b - self.c) / self.n if self.n else 0.0

    @property
    def test_pvalue_regression(self) -> float:
        """The unadjusted one-sided p-value of the gate's test (graded or McNemar)."""
        return self.graded.pvalue_regression if self.graded else self.pvalue_regression

    @property
    def test_pvalue(self) -> float:
        """The unadjusted two-sided p-value of the gate's test (graded or McNemar)."""
        return self.graded.pvalue if self.graded else self.pvalue

    def to_dict(self) -> dict[str, Any]:
        """Return the comparison as builtins.

        Flips become item ids; ``inf``/``nan`` stay floats (summary.json turns them into
        strings).
        """

        def interval(value: Interval | None) -> dict[str, Any] | None:
            return None if value is None else dict(value.__dict__)

        graded = None
        if self.graded is not None:
            graded = {**self.graded.__dict__, "difference": interval(self.graded.difference)}
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
            "gating": self.gating,
            "n": self.n,
            "n_errors_excluded": self.n_errors_excluded,
            "n_missing": self.n_missing,
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
            "graded": graded,
            "pvalue_holm": self.pvalue_holm,
            "pvalue_regression_holm": self.pvalue_regression_holm,
            "mdd": self.mdd,
            "mdd_discordance": self.mdd_discordance,
            "verdict": self.verdict,
            "reason": self.reason,
            "no_answer": None if self.no_answer is None else dict(self.no_answer.__dict__),
            "worst_case": None if self.worst_case is None else dict(self.worst_case.__dict__),
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
        rate equal to the drop itself (every discordant item a regression), where power is
        monotone in ``delta``. Without this, two models that never disagree would have an
        infinite detectable drop at any ``n``.
    """
    from scipy import optimize

    from benchgate.stats import mcnemar_power, minimum_detectable_difference, wilson_interval

    if n <= 0:
        return math.inf, math.nan
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


def _scores(pairs: Sequence[tuple[Outcome, Outcome]]) -> tuple[list[float], list[float]]:
    return [float(b.score or 0.0) for b, _ in pairs], [float(c.score or 0.0) for _, c in pairs]


def graded_difference(
    pairs: Sequence[tuple[Outcome, Outcome]], settings: GateSettings
) -> GradedDifference | None:
    """The graded comparison of paired outcomes' ``score`` values (None when no pair).

    Args:
        pairs: ``(baseline, candidate)`` outcomes of one graded benchmark (no errors).
        settings: confidence level and resampling seed.

    Notes:
        Mean paired difference with a bootstrap interval and the paired permutation test
        (one- and two-sided) of :func:`benchgate.stats.paired_mean_difference`. A missing
        score (a no_answer) counts as 0.
    """
    from benchgate.stats import paired_mean_difference

    if not pairs:
        return None
    base, cand = _scores(pairs)
    result = paired_mean_difference(base, cand, confidence=settings.confidence, seed=settings.seed)
    return GradedDifference(
        n=len(pairs),
        baseline_mean=sum(base) / len(base),
        candidate_mean=sum(cand) / len(cand),
        difference=Interval.of(result.difference),
        pvalue=float(result.pvalue),
        pvalue_regression=float(result.pvalue_regression),
    )


def measure(
    paired: PairedItems, settings: GateSettings, graded: bool = False, gating: bool = True
) -> Comparison:
    """Compute every statistic of one comparison (Holm fields and verdict come later).

    Args:
        paired: the paired outcomes.
        settings: the gate settings (interval level, no_answer threshold, seed).
        graded: the benchmark is graded: test the mean score difference.
        gating: the comparison decides the gate.

    Returns:
        A :class:`Comparison` with raw p-values; Holm fields, ``mdd``, ``worst_case`` and
        ``verdict`` are set by :func:`compare_family`.
    """
    from benchgate import stats

    a, b, c, d = paired.table()
    n = a + b + c + d
    level = settings.confidence
    two_sided = stats.mcnemar(b, c, method="midp", alternative="two-sided").pvalue
    one_sided = stats.mcnemar(b, c, method="midp", alternative="less").pvalue
    return Comparison(
        benchmark=paired.benchmark,
        baseline=paired.baseline,
        candidate=paired.candidate,
        gating=gating,
        n=n,
        n_errors_excluded=len(paired.errors),
        n_missing=len(set(paired.missing_baseline) | set(paired.missing_candidate)),
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
        graded=graded_difference(paired.pairs, settings) if graded else None,
        no_answer=_no_answer_shift(paired.pairs, settings.no_answer_jump) if n else None,
        flips=flips_of(paired.pairs),
        benchmark_version=paired.benchmark_version,
        dataset_hash=paired.dataset_hash,
    )


def _worst_pairs(paired: PairedItems) -> list[tuple[Outcome, Outcome]]:
    """The error pairs with each error counted against the candidate."""
    import dataclasses

    err = Status.ERROR.value
    out = []
    for base, cand in paired.errors:
        if base.status == err:
            base = dataclasses.replace(base, status=Status.CORRECT.value, score=1.0)
        if cand.status == err:
            cand = dataclasses.replace(cand, status=Status.INCORRECT.value, score=0.0)
        out.append((base, cand))
    return out


def worst_case(paired: PairedItems, settings: GateSettings, graded: bool) -> WorstCase | None:
    """The comparison with every error counted against the candidate (None without errors).

    Args:
        paired: the paired outcomes (``errors`` holds the error pairs).
        settings: the gate settings.
        graded: test the mean score difference instead of McNemar's.
    """
    from benchgate.stats import mcnemar

    if not paired.errors:
        return None
    pairs = list(paired.pairs) + _worst_pairs(paired)
    a, b, c, d = table_of(pairs)
    n = a + b + c + d
    if graded:
        result = graded_difference(pairs, settings)
        drop, p = -result.difference.estimate, result.pvalue_regression
    else:
        drop, p = (b - c) / n, float(mcnemar(b, c, method="midp", alternative="less").pvalue)
    return WorstCase(errors=len(paired.errors), n=n, b=b, c=c, drop=drop, pvalue_regression=p)


def _pts(x: float) -> str:
    return "inf" if math.isinf(x) else f"{100 * x:.1f} pts"


def decide(comparison: Comparison, settings: GateSettings) -> tuple[str, str]:
    """Return the verdict and its reason for a comparison whose Holm p-values are set.

    Rules (fractions of items; score units for graded benchmarks):

    * **regression**: ``pvalue_regression_holm < alpha`` and the observed drop
      ``> margin``;
    * **inconclusive**: not a regression, and "no regression" cannot be claimed: for a
      binary benchmark ``mdd > mde_max`` and the difference's interval reaches
      ``-mde_max``; for a graded one, the bootstrap interval of the mean difference
      reaches ``-mde_max``;
    * **pass**: otherwise. A comparison without any paired item (``n == 0``) is
      inconclusive.
    """
    if comparison.n == 0:
        return INCONCLUSIVE, "no item was scored for both models without an error"
    p_adj = comparison.pvalue_regression_holm
    drop = comparison.drop
    if p_adj < settings.alpha and drop > settings.margin:
        margin = f" (> margin {_pts(settings.margin)})" if settings.margin > 0 else ""
        if comparison.graded is not None:
            g = comparison.graded
            what = (
                f"mean score drops {_pts(drop)}{margin} ({100 * g.baseline_mean:.1f} -> "
                f"{100 * g.candidate_mean:.1f}), paired permutation test"
            )
        else:
            what = (
                f"candidate drops {_pts(drop)}{margin}: b={comparison.b} regressions vs "
                f"c={comparison.c} improvements"
            )
        return (
            REGRESSION,
            f"{what}, Holm-adjusted one-sided p={p_adj:.3g} < alpha {settings.alpha:g}",
        )
    if p_adj < settings.alpha:
        detail = (
            f"Holm-adjusted one-sided p={p_adj:.3g} < alpha, but the drop {_pts(drop)} is "
            f"within the margin {_pts(settings.margin)}"
        )
    else:
        detail = f"Holm-adjusted one-sided p={p_adj:.3g}"
    level = f"{settings.confidence:.0%}"
    if comparison.graded is not None:
        lower = comparison.graded.difference.lower
        if lower <= -settings.mde_max:
            return INCONCLUSIVE, (
                f"no regression found ({detail}), but the {level} interval of the mean score "
                f"difference reaches {_pts(lower)}, so a drop of {_pts(settings.mde_max)} "
                "(--mde-max) cannot be ruled out"
            )
        return PASS, f"no regression ({detail}); the {level} interval starts at {_pts(lower)}"
    lower = comparison.difference.lower if comparison.difference else -1.0
    if comparison.mdd > settings.mde_max and lower <= -settings.mde_max:
        return INCONCLUSIVE, (
            f"no regression found ({detail}), but n={comparison.n} cannot rule out a drop of "
            f"{_pts(settings.mde_max)} (--mde-max): the detectable drop is "
            f"{_pts(comparison.mdd)} and the {level} interval of the difference reaches "
            f"{_pts(lower)}; 'no regression' cannot be claimed"
        )
    if comparison.mdd > settings.mde_max:
        why = f"the {level} interval of the difference starts at {_pts(lower)}"
    else:
        why = f"a drop of {_pts(comparison.mdd)} would have been detected"
    return PASS, f"no regression ({detail}); {why}"


def compare_family(
    paired: Sequence[PairedItems],
    settings: GateSettings,
    graded: Sequence[bool] | None = None,
    gating: bool = True,
) -> list[Comparison]:
    """Compare every pair, adjust over the family with Holm, and give each a verdict.

    Args:
        paired: the family of paired outcome sets (every gating benchmark x model pair of
            the run, or every reported pair).
        settings: the gate settings.
        graded: per entry, whether its benchmark is graded (default: none is).
        gating: whether these comparisons decide the gate (recorded on each).

    Returns:
        One :class:`Comparison` per entry, in the same order, with Holm-adjusted
        p-values, the detectable drop, the error worst case and the verdict.

    Notes:
        Holm's step-down adjustment controls the family-wise error rate over all
        comparisons of the family (any dependence). The minimum detectable drop is
        computed at ``alpha / m`` for a family of ``m`` comparisons, the level Holm's first
        step applies. The worst cases are adjusted as a family of their own.

    References:
        Holm S (1979). Scandinavian Journal of Statistics 6:65-70.
        Fagerland MW, Lydersen S, Laake P (2013). BMC Med Res Methodol 13:91 (mid-p).
    """
    from benchgate.stats import holm

    flags = list(graded) if graded is not None else [False] * len(paired)
    comparisons = [measure(p, settings, g, gating) for p, g in zip(paired, flags, strict=True)]
    if not comparisons:
        return []
    one = holm([c.test_pvalue_regression for c in comparisons])
    two = holm([c.test_pvalue for c in comparisons])
    level = settings.alpha / len(comparisons)
    for comparison, p_one, p_two in zip(comparisons, one, two, strict=True):
        comparison.pvalue_regression_holm = float(p_one)
        comparison.pvalue_holm = float(p_two)
        if comparison.graded is None:
            comparison.mdd, comparison.mdd_discordance = detectable_drop(
                comparison.n,
                comparison.b + comparison.c,
                level,
                settings.power,
                settings.confidence,
            )
        else:
            comparison.mdd, comparison.mdd_discordance = math.nan, math.nan
        comparison.verdict, comparison.reason = decide(comparison, settings)
    worst = [worst_case(p, settings, g) for p, g in zip(paired, flags, strict=True)]
    family = [w if w is not None else None for w in worst]
    pvals = [
        w.pvalue_regression if w else c.test_pvalue_regression
        for w, c in zip(family, comparisons, strict=True)
    ]
    adjusted = holm(pvals)
    for comparison, w, p_adj in zip(comparisons, family, adjusted, strict=True):
        if w is None:
            continue
        regression = float(p_adj) < settings.alpha and w.drop > settings.margin
        comparison.worst_case = WorstCase(
            **{**w.__dict__, "pvalue_regression_holm": float(p_adj), "regression": regression}
        )
    return comparisons

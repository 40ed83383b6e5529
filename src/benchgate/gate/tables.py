"""Per (model, benchmark) tables of a run: accuracy, resources, error rates.

Pure functions of outcomes, computed once by :func:`benchgate.gate.run.build_run`; every
reporter reads the rows, none recomputes them.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from benchgate.records import Outcome, Status


@dataclass(frozen=True)
class AccuracyRow:
    """Accuracy of one model (or stored model) on one benchmark.

    Attributes:
        model: the model label (``id``, or ``id@run_id`` for a stored run).
        benchmark: the benchmark.
        n: outcomes (every status counts; errors and no_answers are not correct).
        correct: correct outcomes.
        incorrect: wrong answers.
        no_answer: format failures.
        error: generation/backend/sandbox failures.
        accuracy: ``correct / n``.
        lower: lower limit of the Wilson interval (level of the run's settings).
        upper: upper limit of the Wilson interval.
        mean_score: mean graded score (``Outcome.score``; a missing score counts 0) for
            graded benchmarks, else None.
        mean_completion_tokens: mean completion tokens over the outcomes.
        truncated: outcomes whose completion hit the token cap (``finish_reason ==
            "length"``).
        token_cap: the token cap of this model's requests on the benchmark, or None.
        no_answer_kinds: no_answer sub-kinds and their counts (e.g. ``reasoning_only``);
            no_answers without a sub-kind are not listed.
        stand_in: the benchmark's stand-in note (e.g. LegalQA), else None.
    """

    model: str
    benchmark: str
    n: int
    correct: int
    incorrect: int
    no_answer: int
    error: int
    accuracy: float
    lower: float
    upper: float
    mean_score: float | None
    mean_completion_tokens: float
    truncated: int
    token_cap: int | None = None
    no_answer_kinds: dict[str, int] = field(default_factory=dict)
    stand_in: str | None = None


def _group(outcomes: Sequence[Outcome]) -> dict[str, list[Outcome]]:
    by_bench: dict[str, list[Outcome]] = {}
    for o in outcomes:
        by_bench.setdefault(o.benchmark, []).append(o)
    return by_bench


def accuracy_rows(
    outcomes_by_model: Mapping[str, Sequence[Outcome]],
    graded: Mapping[str, bool] | None = None,
    token_caps: Mapping[tuple[str, str], int | None] | None = None,
    stand_ins: Mapping[str, str | None] | None = None,
    confidence: float = 0.95,
) -> list[AccuracyRow]:
    """Accuracy per (model, benchmark), models in the given order, benchmarks sorted.

    Args:
        outcomes_by_model: model label -> its outcomes.
        graded: benchmark -> whether it is graded (default: none is).
        token_caps: ``(model id, benchmark)`` -> token cap.
        stand_ins: benchmark -> stand-in note.
        confidence: level of the Wilson intervals.
    """
    from benchgate.stats import wilson_interval

    graded = graded or {}
    token_caps = token_caps or {}
    stand_ins = stand_ins or {}
    rows = []
    for model, outcomes in outcomes_by_model.items():
        by_bench = _group(outcomes)
        for bench in sorted(by_bench):
            items = by_bench[bench]
            counts = {s.value: 0 for s in Status}
            kinds: dict[str, int] = {}
            for o in items:
                counts[o.status] = counts.get(o.status, 0) + 1
                if o.status == Status.NO_ANSWER.value and o.no_answer_kind:
                    kinds[o.no_answer_kind] = kinds.get(o.no_answer_kind, 0) + 1
            n = len(items)
            ci = wilson_interval(counts["correct"], n, confidence)
            mean_score = None
            if graded.get(bench):
                mean_score = sum(float(o.score or 0.0) for o in items) / n
            rows.append(
                AccuracyRow(
                    model=model,
                    benchmark=bench,
                    n=n,
                    correct=counts["correct"],
                    incorrect=counts["incorrect"],
                    no_answer=counts["no_answer"],
                    error=counts["error"],
                    accuracy=counts["correct"] / n,
                    lower=float(ci.lower),
                    upper=float(ci.upper),
                    mean_score=mean_score,
                    mean_completion_tokens=sum(o.completion_tokens for o in items) / n,
                    truncated=sum(o.finish_reason == "length" for o in items),
                    token_cap=token_caps.get((model.partition("@")[0], bench)),
                    no_answer_kinds=dict(sorted(kinds.items())),
                    stand_in=stand_ins.get(bench),
                )
            )
    return rows


@dataclass(frozen=True)
class ResourceRow:
    """What one model spent on one benchmark: tokens, time, memory, energy.

    Attributes:
        model: the model label.
        benchmark: the benchmark.
        responses: outcomes with a completion (error outcomes without one excluded).
        generated: completions generated in this run (not read from the response cache).
        mean_prompt_tokens: mean prompt tokens per response.
        mean_completion_tokens: mean completion tokens per response (reasoning included).
        latency_p50_s: median per-item latency in seconds (time to the item's last token),
            over generated completions; None when none was generated.
        latency_p95_s: 95th percentile of the same (nearest rank).
        peak_memory_mb: the largest peak memory any response reported, MiB, or None.
        energy_j: total energy of the responses that have it, joules, or None.
        energy_per_response_j: ``energy_j`` / responses with energy, or None.
        energy_per_token_j: ``energy_j`` / their prompt + completion tokens, or None.
        energy_note: why energy is missing (from the run log), else None.
    """

    model: str
    benchmark: str
    responses: int
    generated: int
    mean_prompt_tokens: float
    mean_completion_tokens: float
    latency_p50_s: float | None
    latency_p95_s: float | None
    peak_memory_mb: float | None
    energy_j: float | None
    energy_per_response_j: float | None
    energy_per_token_j: float | None
    energy_note: str | None = None


def _nearest_rank(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def resource_rows(
    outcomes_by_model: Mapping[str, Sequence[Outcome]],
    energy_notes: Mapping[str, str | None] | None = None,
) -> list[ResourceRow]:
    """Tokens, per-item latency, peak memory and energy per (model, benchmark).

    Args:
        outcomes_by_model: model label -> its outcomes.
        energy_notes: model id -> why its energy is not measured (None when it is).

    Notes:
        Latency percentiles use only completions generated in this run (a cached
        completion's latency is that of the run that generated it). Energy per token
        divides by prompt + completion tokens, the tokens the accelerator processed.
    """
    energy_notes = energy_notes or {}
    rows = []
    for model, outcomes in outcomes_by_model.items():
        by_bench = _group(outcomes)
        for bench in sorted(by_bench):
            items = [o for o in by_bench[bench] if o.finish_reason != "error"]
            if not items:
                continue
            fresh = [o for o in items if not o.cached]
            with_energy = [o for o in items if o.energy_j is not None]
            energy = sum(o.energy_j for o in with_energy) if with_energy else None
            tokens = sum(o.prompt_tokens + o.completion_tokens for o in with_energy)
            memory = [o.peak_memory_mb for o in items if o.peak_memory_mb is not None]
            rows.append(
                ResourceRow(
                    model=model,
                    benchmark=bench,
                    responses=len(items),
                    generated=len(fresh),
                    mean_prompt_tokens=sum(o.prompt_tokens for o in items) / len(items),
                    mean_completion_tokens=sum(o.completion_tokens for o in items) / len(items),
                    latency_p50_s=_nearest_rank([o.latency_s for o in fresh], 0.5),
                    latency_p95_s=_nearest_rank([o.latency_s for o in fresh], 0.95),
                    peak_memory_mb=max(memory) if memory else None,
                    energy_j=energy,
                    energy_per_response_j=energy / len(with_energy) if with_energy else None,
                    energy_per_token_j=energy / tokens if with_energy and tokens else None,
                    energy_note=None if with_energy else energy_notes.get(model.partition("@")[0]),
                )
            )
    return rows


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


def error_rates(outcomes: Sequence[Outcome], max_error_rate: float) -> list[ErrorRate]:
    """Error share per (model, benchmark), sorted by model then benchmark.

    Args:
        outcomes: this run's live outcomes.
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

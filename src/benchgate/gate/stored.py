"""May this run pair with a stored baseline (``--baseline-run``)? Checked once, at plan time.

A stored run pairs only when, for every benchmark this run plans, its items cover this
run's selection: same benchmark version (prompt, extractor, normaliser), same dataset hash
(same data), same prompt settings (``--shots``), and every item id this run selects (after
``--limit``/``--seed``) among the stored baseline's outcomes. Extra stored items are fine:
the subset is paired and a finding says so. Anything else is a usage error (exit status 4)
naming the benchmark, what differs, both values and the fix.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from benchgate.gate.plan import Plan
from benchgate.records import Outcome


def _fix_rerun(path: str) -> str:
    return f"re-run the baseline on this run's settings (drop --baseline-run {path})"


def stored_problems(
    plan: Plan,
    stored_outcomes: Sequence[Outcome],
    identity: Mapping[str, Mapping[str, Any] | None],
    stored_options: Mapping[str, Any],
    options: Mapping[str, Any],
    stored_path: str,
    stored_model: str,
) -> tuple[list[str], dict[str, int]]:
    """Check a stored baseline against this run's plan.

    Args:
        plan: this run's plan (its benchmarks and their planned item ids).
        stored_outcomes: the stored baseline model's outcomes.
        identity: benchmark -> ``{"version", "dataset_hash", "settings"}`` of the stored run
            (:meth:`benchgate.reporting.runlog.RunLog.benchmark_identity`), None if absent.
        stored_options: the stored run's options (``limit``, ``seed``, ``data_dir``...).
        options: this run's options.
        stored_path: the ``--baseline-run`` path, for messages.
        stored_model: the stored model used as the baseline.

    Returns:
        ``(problems, extra)``: one message per refused benchmark (empty when the stored run
        pairs), and per benchmark the number of stored items beyond this run's selection.
    """
    problems: list[str] = []
    extra: dict[str, int] = {}
    by_bench: dict[str, set[str]] = {}
    for o in stored_outcomes:
        by_bench.setdefault(o.benchmark, set()).add(o.item_id)
    head = f"--baseline-run refused ({stored_path}, baseline {stored_model})"
    for name, bench in plan.benchmarks.items():
        if not bench.available:
            continue
        ident = identity.get(name)
        have = by_bench.get(name, set())
        if ident is None or not have:
            ran = ", ".join(sorted(by_bench)) or "none"
            problems.append(
                f"{head}: benchmark {name}: the stored run has no outcome of {stored_model} on "
                f"it (stored benchmarks: {ran}). Fix: {_fix_rerun(stored_path)}, or leave "
                f"{name} out of this run's test paths."
            )
            continue
        if ident.get("version") != bench.version:
            problems.append(
                f"{head}: benchmark {name} is version {bench.version} now but version "
                f"{ident.get('version')} in the stored run: its prompt, extractor or normaliser "
                f"changed, so items cannot be paired. Fix: {_fix_rerun(stored_path)}, or use "
                "the benchgate version the stored run used."
            )
            continue
        if ident.get("dataset_hash") != bench.dataset_hash:
            problems.append(
                f"{head}: benchmark {name} has dataset hash {bench.dataset_hash!r} now but "
                f"{ident.get('dataset_hash')!r} in the stored run (--data-dir stored "
                f"{stored_options.get('data_dir')!r}, now {options.get('data_dir')!r}): the "
                f"items differ, so they cannot be paired. Fix: point --data-dir at the data "
                f"the stored run used, or {_fix_rerun(stored_path)}."
            )
            continue
        then, now = dict(ident.get("settings") or {}), dict(bench.settings or {})
        if then and now and then != now:
            diffs = ", ".join(
                f"--{k} stored {then.get(k)!r}, now {now.get(k)!r}"
                for k in sorted(set(then) | set(now))
                if then.get(k) != now.get(k)
            )
            problems.append(
                f"{head}: benchmark {name}: prompt settings differ ({diffs}), so items cannot "
                f"be paired. Fix: run with the stored settings, or {_fix_rerun(stored_path)}."
            )
            continue
        wanted = set(bench.items)
        lacking = wanted - have
        if lacking:
            diffs = [
                f"--{k} stored {stored_options.get(k)!r}, now {options.get(k)!r}"
                for k in ("limit", "seed")
                if stored_options.get(k) != options.get(k)
            ]
            why = (
                "; ".join(diffs)
                if diffs
                else "same --limit and --seed: the stored run itself lacks them (a partial run?)"
            )
            fix = (
                "run with the stored --limit/--seed" if diffs else "re-run the baseline completely"
            )
            problems.append(
                f"{head}: benchmark {name}: {len(lacking)} of the {len(wanted)} items this run "
                f"selects are not in the stored run ({why}). Fix: {fix}, or "
                f"{_fix_rerun(stored_path)}."
            )
            continue
        if have - wanted:
            extra[name] = len(have - wanted)
    return problems, extra

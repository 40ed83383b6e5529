"""Re-score a run's completions with the current scorers: no_answer and accuracy, before vs after.

Reads a ``results.jsonl`` written by a benchgate run (one outcome per (model, item), with the
completion text as generated and the status the scorers of that run gave it), loads the
same items from the data directory, scores every completion again with the benchmark specs
of the code as it is now (``Benchmark.score``: same items, same completions, no
generation), and prints per benchmark and model:

    n, no_answer before -> after, accuracy before -> after, status changes

Accuracy is correct / n (n counts every outcome of the run, error included), no_answer is
no_answer / n. Items of the run that the data no longer holds are counted and reported,
and make the exit status 1 (fail closed: a partial comparison is not a comparison).

Usage:
    .venv/bin/python scripts/rescore.py RESULTS_JSONL --data-dir ../shared/data \
        [--models-file models.yaml] [--markdown OUT.md] [--changes N]

``--changes N`` also prints up to N items per benchmark whose status changed, with the
completion's last line, to read what moved.
"""

from __future__ import annotations

import argparse
import collections
import importlib
import json
import pkgutil
import sys
from pathlib import Path

from benchgate.benchmarks.base import Benchmark
from benchgate.config import load_models
from benchgate.data.sources import DataSource
from benchgate.errors import DataUnavailableError
from benchgate.records import Completion, Status


def benchmark_classes() -> dict[str, type[Benchmark]]:
    """Every concrete benchmark spec in ``benchgate.benchmarks``, by name."""
    import benchgate.benchmarks as package

    found: dict[str, type[Benchmark]] = {}
    for info in pkgutil.iter_modules(package.__path__):
        module = importlib.import_module(f"benchgate.benchmarks.{info.name}")
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, Benchmark)
                and not getattr(value, "__abstractmethods__", None)
                and isinstance(getattr(value, "name", None), str)
            ):
                found[value.name] = value
    return found


def read_results(path: Path) -> list[dict]:
    rows = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            sys.exit(f"{path}: line {number}: not JSON ({exc.msg}). Fix: pass a results.jsonl.")
    if not rows:
        sys.exit(f"{path}: no outcomes. Fix: pass the results.jsonl of a finished run.")
    return rows


def completion_of(row: dict) -> Completion:
    reasoning = (row.get("extra") or {}).get("reasoning")
    return Completion(
        text=row.get("completion") or "",
        finish_reason=row.get("finish_reason") or "stop",
        error=row.get("error") if row.get("status") == Status.ERROR.value else None,
        reasoning=reasoning,
    )


def rescore(rows: list[dict], data_dir: Path, models_file: Path) -> tuple[dict, dict, int]:
    """Score every row again; return (table, changes, missing items)."""
    classes = benchmark_classes()
    specs = {m.id: m for m in load_models(models_file)} if models_file.is_file() else {}
    source = DataSource(data_dir=data_dir)
    items: dict[str, dict] = {}
    table: dict = collections.defaultdict(lambda: collections.Counter())
    changes: dict = collections.defaultdict(list)
    missing = 0
    for row in rows:
        name = row["benchmark"]
        if name not in items:
            spec = classes[name]()
            try:
                items[name] = {"spec": spec, "items": {i.id: i for i in spec.load(source)}}
            except DataUnavailableError as exc:
                sys.exit(f"{name}: the data is not available ({exc}). Fix: pass --data-dir.")
        bench = items[name]
        item = bench["items"].get(row["item_id"])
        key = (name, row["model"])
        table[key]["n"] += 1
        table[key][f"before_{row['status']}"] += 1
        if item is None:
            missing += 1
            continue
        model = specs.get(row["model"])
        fmt = model.reasoning_format if model else "none"
        delimiters = model.reasoning_delimiters if model else None
        score = bench["spec"].score(item, completion_of(row), fmt, delimiters)
        table[key][f"after_{score.status.value}"] += 1
        table[key][f"rule_{score.rule}"] += 1
        if score.status.value != row["status"]:
            table[key]["changed"] += 1
            tail = (row.get("completion") or "").strip().splitlines()[-1:] or [""]
            changes[name].append(
                (row["model"], row["item_id"], row["status"], score.status.value,
                 row.get("extracted"), score.extracted, score.rule, tail[0][:120])
            )
    return table, changes, missing


def pct(part: int, whole: int) -> str:
    return f"{100 * part / whole:.1f}%" if whole else "-"


def render(table: dict) -> str:
    lines = [
        "| benchmark | model | n | no_answer before | no_answer after | accuracy before "
        "| accuracy after | changed |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    totals: dict = collections.defaultdict(collections.Counter)
    for (name, model), c in sorted(table.items()):
        n = c["n"]
        lines.append(
            f"| {name} | {model} | {n} | {pct(c['before_no_answer'], n)} "
            f"| {pct(c['after_no_answer'], n)} | {pct(c['before_correct'], n)} "
            f"| {pct(c['after_correct'], n)} | {c['changed']} |"
        )
        totals[name].update(c)
    lines.append("| **all models** | | | | | | | |")
    for name, c in sorted(totals.items()):
        n = c["n"]
        lines.append(
            f"| {name} | (both) | {n} | {pct(c['before_no_answer'], n)} "
            f"| {pct(c['after_no_answer'], n)} | {pct(c['before_correct'], n)} "
            f"| {pct(c['after_correct'], n)} | {c['changed']} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", type=Path, help="results.jsonl of the run to re-score")
    parser.add_argument("--data-dir", type=Path, required=True, help="the run's data directory")
    parser.add_argument("--models-file", type=Path, default=Path("models.yaml"))
    parser.add_argument("--markdown", type=Path, help="also write the table to this file")
    parser.add_argument("--changes", type=int, default=0, help="list up to N changed items")
    args = parser.parse_args(argv)

    rows = read_results(args.results)
    table, changes, missing = rescore(rows, args.data_dir, args.models_file)
    text = render(table)
    print(text)
    if args.markdown:
        args.markdown.write_text(text + "\n", encoding="utf-8")
    rules: dict = collections.defaultdict(collections.Counter)
    for (name, _), c in table.items():
        for key, value in c.items():
            if key.startswith("rule_"):
                rules[name][key[5:]] += value
    print("\nextraction rules after (all models):")
    for name, counter in sorted(rules.items()):
        print(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in counter.most_common()))
    for name, rows_changed in sorted(changes.items()):
        for change in rows_changed[: args.changes]:
            model, item_id, before, after, old, new, rule, tail = change
            print(f"  {name} {model} {item_id}: {before}({old}) -> {after}({new}) "
                  f"[{rule}] {tail!r}")
    if missing:
        print(f"\n{missing} outcomes name items the data no longer holds: not re-scored "
              "(the comparison is partial).", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

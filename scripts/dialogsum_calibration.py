"""Reproduce the calibration figures of DialogSum's ROUGE-L threshold (issue 14, item 2).

The figures quoted above ``THRESHOLD`` in ``src/benchgate/benchmarks/dialogsum.py``, from
the real test split with the current scorer (:func:`benchgate.scoring.rouge.rouge_l_best`):

* human summaries: each of the 3 human summaries of each of the 500 dialogues (1500 cases)
  scored against the better of the other two humans' summaries: the share reaching 0.30
  and 0.25, and the median score;
* the copy baseline: the dialogue's first two lines (turns, speaker tags included) scored
  against the best of the three summaries (500 cases): the share reaching 0.30 and 0.25.

Shares are printed in percent with one decimal, the median with two, as quoted; the script
reads the quoted figures from the source's comment and compares.

Usage::

    .venv/bin/python scripts/dialogsum_calibration.py [--data-dir ../shared/data]

Exit status: 0 when every figure equals the quoted one; 1 when one differs (both printed);
2 when the data or the quoted figures cannot be read.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
from pathlib import Path

from benchgate.benchmarks import dialogsum
from benchgate.data.sources import DataSource
from benchgate.errors import DataFormatError, DataUnavailableError
from benchgate.records import Item
from benchgate.scoring.rouge import rouge_l_best

ROOT = Path(__file__).resolve().parents[1]

#: figure -> (pattern in the comment above THRESHOLD, decimals)
QUOTED = {
    "human_at_0.30_pct": (r"reaches 0\.30 in ([\d.]+) % of cases", 1),
    "human_median": (r"\(median ([\d.]+)\)", 2),
    "copy_at_0.30_pct": (r"reaches it in only ([\d.]+) %", 1),
    "human_at_0.25_pct": (r"\(at 0\.25: ([\d.]+) % and [\d.]+ %\)", 1),
    "copy_at_0.25_pct": (r"\(at 0\.25: [\d.]+ % and ([\d.]+) %\)", 1),
}


def copy_baseline(dialogue: str) -> str:
    """The dialogue's first two lines (turns), speaker tags included."""
    return "\n".join(dialogue.strip().split("\n")[:2])


def human_scores(items: list[Item]) -> list[float]:
    """Each human summary against the better of the other two (3 per item)."""
    scores = []
    for item in items:
        refs = list(item.reference)
        for k, summary in enumerate(refs):
            scores.append(rouge_l_best(summary, refs[:k] + refs[k + 1 :]))
    return scores


def copy_scores(items: list[Item]) -> list[float]:
    """The copy baseline of each item against the best of its three summaries."""
    return [rouge_l_best(copy_baseline(i.input["dialogue"]), list(i.reference)) for i in items]


def share(scores: list[float], threshold: float) -> float:
    """Percent of ``scores`` at or above ``threshold``."""
    return 100.0 * sum(s >= threshold for s in scores) / len(scores)


def figures(items: list[Item]) -> dict[str, float]:
    """The five calibration figures, unrounded."""
    human, copy = human_scores(items), copy_scores(items)
    return {
        "human_at_0.30_pct": share(human, 0.30),
        "human_median": statistics.median(human),
        "copy_at_0.30_pct": share(copy, 0.30),
        "human_at_0.25_pct": share(human, 0.25),
        "copy_at_0.25_pct": share(copy, 0.25),
    }


def quoted_figures(source: Path) -> dict[str, float]:
    """The figures quoted in the comment above ``THRESHOLD`` in ``source``.

    Raises:
        ValueError: a figure is not found (the comment's wording changed).
    """
    lines = source.read_text(encoding="utf-8").splitlines()
    end = next(i for i, line in enumerate(lines) if line.startswith("THRESHOLD ="))
    start = end
    while start > 0 and lines[start - 1].startswith("#:"):
        start -= 1
    comment = " ".join(line[2:].strip() for line in lines[start:end])
    out = {}
    for name, (pattern, _) in QUOTED.items():
        match = re.search(pattern, comment)
        if match is None:
            raise ValueError(
                f"{source}: the comment above THRESHOLD no longer quotes {name} "
                f"(pattern {pattern!r})"
            )
        out[name] = float(match.group(1))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=ROOT.parent / "shared" / "data",
        help="folder holding dialogsum/dialogsum.test.jsonl (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    source = Path(dialogsum.__file__)
    try:
        items = dialogsum.load_dialogsum(DataSource(data_dir=args.data_dir))
        quoted = quoted_figures(source)
    except (DataUnavailableError, DataFormatError, ValueError) as exc:
        print(f"dialogsum_calibration: {exc}", file=sys.stderr)
        return 2
    measured = figures(items)
    print(f"DialogSum calibration, {len(items)} dialogues, threshold {dialogsum.THRESHOLD}")
    print(f"{'figure':<20} {'measured':>10} {'quoted':>8}  same")
    differ = []
    for name, (_, decimals) in QUOTED.items():
        value = round(measured[name], decimals)
        same = value == quoted[name]
        if not same:
            differ.append(name)
        print(
            f"{name:<20} {measured[name]:>10.4f} {quoted[name]:>8.{decimals}f}  "
            f"{'yes' if same else 'NO'}"
        )
    if differ:
        print(f"differ from {source}: {', '.join(differ)}; update the comment above THRESHOLD")
        return 1
    print(f"all figures equal those quoted in {source.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

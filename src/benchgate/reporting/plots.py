"""Paper-style PNG plots of a run (matplotlib, Agg; no pyplot, no display needed).

* ``accuracy_heatmap.png``: model x benchmark accuracy, annotated.
* ``accuracy_ranking.png``: per benchmark, models ranked by accuracy with 95% Wilson
  intervals.
* ``paired_<baseline>_vs_<candidate>.png``: per benchmark, baseline and candidate
  accuracy on the paired items with 95% intervals, annotated with b, c, the Holm-adjusted
  p-value and the verdict.
* ``output_tokens.png``: histogram of completion tokens per model.

Figures are built with :class:`matplotlib.figure.Figure` and rendered by the Agg canvas
directly, so the global pyplot state and the user's backend are never touched.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path

from benchgate.compare import INCONCLUSIVE, REGRESSION, Comparison
from benchgate.records import Outcome
from benchgate.reporting.summary import AccuracyRow

#: rcParams of every figure: small serif-free fonts, no top/right spines, print dpi.
STYLE = {
    "font.size": 8,
    "axes.titlesize": 9,
    "axes.labelsize": 8,
    "xtick.labelsize": 7,
    "ytick.labelsize": 7,
    "legend.fontsize": 7,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 160,
    "savefig.bbox": "tight",
    "figure.dpi": 100,
}
VERDICT_COLOURS = {REGRESSION: "#c0392b", INCONCLUSIVE: "#7f8c8d", "pass": "#1e8449"}
BASELINE_COLOUR = "#4c72b0"
CANDIDATE_COLOUR = "#dd8452"


def _figure(width: float, height: float):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def accuracy_heatmap(rows: Sequence[AccuracyRow], path: Path) -> Path:
    """Model x benchmark accuracy heatmap, each cell annotated with accuracy and n.

    Args:
        rows: accuracy rows (:func:`benchgate.reporting.summary.accuracy_rows`).
        path: the PNG to write.
    """
    import matplotlib
    import numpy as np

    models = list(dict.fromkeys(r.model for r in rows))
    benches = sorted({r.benchmark for r in rows})
    cells = {(r.model, r.benchmark): r for r in rows}
    grid = np.full((len(models), len(benches)), np.nan)
    for i, m in enumerate(models):
        for j, b in enumerate(benches):
            if (m, b) in cells:
                grid[i, j] = 100 * cells[(m, b)].accuracy
    with matplotlib.rc_context(STYLE):
        fig = _figure(1.6 + 1.1 * len(benches), 0.9 + 0.45 * len(models))
        ax = fig.add_subplot()
        image = ax.imshow(grid, vmin=0, vmax=100, cmap="viridis", aspect="auto")
        ax.set_xticks(range(len(benches)), benches, rotation=30, ha="right")
        ax.set_yticks(range(len(models)), models)
        for i, m in enumerate(models):
            for j, b in enumerate(benches):
                r = cells.get((m, b))
                if r is None:
                    continue
                colour = "black" if grid[i, j] > 60 else "white"
                ax.text(
                    j,
                    i,
                    f"{grid[i, j]:.1f}\n(n={r.n})",
                    ha="center",
                    va="center",
                    color=colour,
                    fontsize=7,
                )
        for side in ("top", "right", "left", "bottom"):
            ax.spines[side].set_visible(False)
        fig.colorbar(image, ax=ax, label="accuracy (%)", shrink=0.9)
        ax.set_title("Accuracy by model and benchmark")
        return _save(fig, path)


def accuracy_ranking(rows: Sequence[AccuracyRow], path: Path) -> Path:
    """Per benchmark, horizontal bars of models ranked by accuracy with 95% Wilson intervals.

    One panel per benchmark, four panels a row.
    """
    import matplotlib

    benches = sorted({r.benchmark for r in rows})
    models = list(dict.fromkeys(r.model for r in rows))
    cols = min(4, len(benches))
    grid_rows = -(-len(benches) // cols)
    with matplotlib.rc_context(STYLE):
        fig = _figure(3.0 * cols, (0.9 + 0.35 * len(models)) * grid_rows)
        axes = list(fig.subplots(grid_rows, cols, squeeze=False).flat)
        for ax in axes[len(benches) :]:
            ax.set_visible(False)
        for ax, bench in zip(axes, benches, strict=False):
            ranked = sorted((r for r in rows if r.benchmark == bench), key=lambda r: r.accuracy)
            acc = [100 * r.accuracy for r in ranked]
            err = [
                [100 * (r.accuracy - r.lower) for r in ranked],
                [100 * (r.upper - r.accuracy) for r in ranked],
            ]
            ax.barh(
                range(len(ranked)),
                acc,
                xerr=err,
                color=BASELINE_COLOUR,
                alpha=0.85,
                error_kw={"elinewidth": 0.8, "capsize": 2},
            )
            ax.set_yticks(range(len(ranked)), [r.model for r in ranked])
            for k, r in enumerate(ranked):
                ax.text(
                    min(100 * r.upper + 2, 101),
                    k,
                    f"{100 * r.accuracy:.1f}",
                    va="center",
                    fontsize=6,
                )
            ax.set_xlim(0, 110)
            ax.set_xlabel("accuracy (%), 95% Wilson CI")
            ax.set_title(f"{bench} (n={max(r.n for r in ranked)})")
        return _save(fig, path)


def paired_bars(comparisons: Sequence[Comparison], path: Path) -> Path:
    """Baseline vs candidate accuracy per benchmark on the paired items (one pair of models).

    Args:
        comparisons: the comparisons of one (baseline, candidate) pair, one per benchmark.
        path: the PNG to write.
    """
    import matplotlib
    import numpy as np

    comps = [c for c in comparisons if c.n]
    if not comps:
        raise ValueError("paired_bars needs at least one comparison with paired items")
    base_label, cand_label = comps[0].baseline.label, comps[0].candidate.label
    x = np.arange(len(comps))
    width = 0.38
    with matplotlib.rc_context(STYLE):
        fig = _figure(1.4 + 1.3 * len(comps), 2.8)
        ax = fig.add_subplot()
        for offset, label, colour, pick in (
            (-width / 2, base_label, BASELINE_COLOUR, lambda c: c.baseline_accuracy),
            (width / 2, cand_label, CANDIDATE_COLOUR, lambda c: c.candidate_accuracy),
        ):
            est = [100 * pick(c).estimate for c in comps]
            err = [
                [100 * (pick(c).estimate - pick(c).lower) for c in comps],
                [100 * (pick(c).upper - pick(c).estimate) for c in comps],
            ]
            ax.bar(
                x + offset,
                est,
                width,
                yerr=err,
                label=label,
                color=colour,
                error_kw={"elinewidth": 0.8, "capsize": 2},
            )
        for k, c in enumerate(comps):
            top = 100 * max(c.baseline_accuracy.upper, c.candidate_accuracy.upper)
            ax.text(
                k,
                min(top + 3, 104),
                f"b={c.b} c={c.c}\np={c.pvalue_regression_holm:.2g}\n" f"{c.verdict}",
                ha="center",
                va="bottom",
                fontsize=6,
                color=VERDICT_COLOURS.get(c.verdict, "black"),
            )
        ax.set_xticks(x, [f"{c.benchmark}\n(n={c.n})" for c in comps])
        ax.set_ylim(0, 125)
        ax.set_yticks(range(0, 101, 20))
        ax.set_ylabel("accuracy (%), 95% Wilson CI")
        ax.set_title(f"{cand_label} vs {base_label}")
        fig.legend(loc="outside lower center", frameon=False, ncols=2)
        return _save(fig, path)


def token_histograms(outcomes_by_model: Mapping[str, Sequence[Outcome]], path: Path) -> Path:
    """Histogram of completion tokens per model (all benchmarks), median marked."""
    import matplotlib
    import numpy as np

    models = [m for m, outs in outcomes_by_model.items() if outs]
    if not models:
        raise ValueError("token_histograms needs at least one model with outcomes")
    with matplotlib.rc_context(STYLE):
        fig = _figure(3.2, 0.6 + 1.3 * len(models))
        axes = fig.subplots(len(models), 1, squeeze=False, sharex=True)[:, 0]
        top = max(
            max((o.completion_tokens for o in outcomes_by_model[m]), default=0) for m in models
        )
        bins = np.linspace(0, max(top, 1), min(30, max(top, 1)) + 1)
        for ax, model in zip(axes, models, strict=False):
            tokens = np.array([o.completion_tokens for o in outcomes_by_model[model]])
            ax.hist(tokens, bins=bins, color=BASELINE_COLOUR, alpha=0.85)
            median = float(np.median(tokens))
            ax.axvline(median, color="black", linewidth=0.8, linestyle="--")
            ax.set_title(f"{model} (median {median:g}, n={tokens.size})", loc="left")
            ax.set_ylabel("items")
        axes[-1].set_xlabel("completion tokens")
        return _save(fig, path)


def write_plots(
    directory: Path,
    rows: Sequence[AccuracyRow],
    comparisons: Sequence[Comparison],
    outcomes_by_model: Mapping[str, Sequence[Outcome]],
) -> list[Path]:
    """Write every plot of a run into ``directory``.

    Returns:
        The PNG paths written (heatmap, ranking, one paired plot per model pair with paired
        items, token histograms), in that order.
    """
    if not rows:
        return []
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.glob("*.png"):  # plots of models no longer in the run
        stale.unlink()
    paths = [
        accuracy_heatmap(rows, directory / "accuracy_heatmap.png"),
        accuracy_ranking(rows, directory / "accuracy_ranking.png"),
    ]
    by_pair: dict[tuple[str, str], list[Comparison]] = {}
    for c in comparisons:
        if c.n:
            by_pair.setdefault((c.baseline.label, c.candidate.label), []).append(c)
    for (base, cand), comps in by_pair.items():
        paths.append(paired_bars(comps, directory / f"paired_{_slug(base)}_vs_{_slug(cand)}.png"))
    if any(outcomes_by_model.values()):
        paths.append(token_histograms(outcomes_by_model, directory / "output_tokens.png"))
    return paths

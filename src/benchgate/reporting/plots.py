"""The run's figures, as the paper's reader expects them (PNG, matplotlib Agg, no pyplot).

Every figure is sized for a 1,000 px wide column (summary.md on GitHub): at most 10 inches
wide, 10-point text, saved at 150 dpi and shown scaled to the column, so labels stay
legible. Each number drawn comes from the :class:`benchgate.gate.Run` (computed once by
:func:`benchgate.gate.build_run`); this module only draws.

* ``ranking.png``: one panel; models ordered by macro-average accuracy with the
  interval of :attr:`Run.overall`, and each benchmark category's macro-average beside it.
* ``paired_<baseline>_vs_<candidate>.png`` (one per gating model pair): the gate's own
  paired difference per benchmark (Tango's interval; the bootstrap interval of the mean
  score for graded benchmarks) in the verdict's colour, labelled with b, c and the p-value
  the comparison table shows (Holm-adjusted one-sided), with zero and ``-mde_max`` marked.
* ``tokens.png``: completion-token histograms per benchmark, one outline per model, the
  token cap marked and the share of completions that hit it printed.
* ``accuracy_heatmap.png``: benchmark x model accuracy with its Wilson interval and
  counts in every cell.
* ``multi_model.png`` (three models or more, or ``--compare all``): per benchmark, the
  models ranked by accuracy with intervals and their compact letters.

Stand-in benchmarks carry ``(stand-in)`` in every label. Figures are built with
:class:`matplotlib.figure.Figure` and rendered by the Agg canvas directly, so the global
pyplot state and the user's backend are never touched.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchgate.reporting.hooks import ReportContext, hookimpl

if TYPE_CHECKING:
    from benchgate.gate import Comparison, Run

#: rcParams of every figure.
STYLE = {
    "font.size": 10,
    "axes.titlesize": 10,
    "axes.labelsize": 10,
    "xtick.labelsize": 9,
    "ytick.labelsize": 9,
    "legend.fontsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "savefig.dpi": 150,
    "savefig.bbox": "tight",
    "figure.dpi": 100,
}
#: The widest figure, inches (1,000 px at 100 dpi: the width summary.md is read at).
MAX_WIDTH = 10.0
VERDICT_COLOURS = {"regression": "#c0392b", "inconclusive": "#b9770e", "pass": "#1e8449"}
#: One colour per model, in run order (colour-blind safe, Okabe-Ito).
MODEL_COLOURS = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#56b4e9", "#d55e00",
                 "#f0e442", "#000000")
CATEGORY_MARKERS = ("s", "^", "D", "v", "P", "X", "*")


@functools.lru_cache(maxsize=1)
def _fonts() -> list[str]:
    """DejaVu Sans, then an installed CJK font as fallback (model or item names in CJK)."""
    from matplotlib import font_manager

    names = {f.name for f in font_manager.fontManager.ttflist}
    cjk = [n for n in ("Noto Sans CJK JP", "Noto Sans CJK SC", "Noto Serif CJK JP") if n in names]
    return ["DejaVu Sans", *cjk[:1]]


def _figure(width: float, height: float) -> Any:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(min(width, MAX_WIDTH), height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def style() -> dict[str, Any]:
    """The rcParams of every figure: :data:`STYLE` with the installed fonts."""
    return {**STYLE, "font.family": _fonts()}


def _save(fig: Any, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png")
    return path


def slug(text: str) -> str:
    """A file-name-safe form of a label (``base@2026...`` -> ``base_2026...``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text)


def pair_plot_name(baseline: str, candidate: str) -> str:
    """The file name of the paired-difference plot of one (baseline, candidate) pair."""
    return f"paired_{slug(baseline)}_vs_{slug(candidate)}.png"


def _bench_label(run: Run, name: str) -> str:
    bench = run.plan.benchmarks.get(name)
    return f"{name} (stand-in)" if bench is not None and bench.stand_in else name


def _model_colours(run: Run) -> dict[str, str]:
    models = list(dict.fromkeys([r.model for r in run.accuracy] + list(run.outcomes)))
    return {m: MODEL_COLOURS[i % len(MODEL_COLOURS)] for i, m in enumerate(models)}


def ranking_figure(run: Run) -> Any | None:
    """Models ranked by macro-average accuracy, overall and per benchmark category.

    One panel: each model's overall macro-average (filled circle) with its interval
    (:attr:`Run.overall`), best at the top, and one marker per category (its own
    macro-average and interval, drawn slightly below). Returns None without a ranking.
    """
    overall = run.overall
    if overall is None or not overall.rows:
        return None
    rows = overall.rows
    cats = list(overall.by_category) if len(overall.by_category) > 1 else []
    step = 1.0 + 0.28 * len(cats)
    fig = _figure(MAX_WIDTH, 1.3 + 0.5 * step * len(rows))
    ax = fig.add_subplot()
    ys = {r.model: -k * step for k, r in enumerate(rows)}
    for r in rows:
        y = ys[r.model]
        ax.errorbar(100 * r.accuracy, y, xerr=[[100 * (r.accuracy - r.lower)],
                    [100 * (r.upper - r.accuracy)]], fmt="o", color="black", ms=7,
                    capsize=3, lw=1.4, zorder=3)
        ax.annotate(f"{100 * r.accuracy:.1f}  (rank {r.rank_lower}-{r.rank_upper})",
                    (100 * r.upper, y), xytext=(6, 0), textcoords="offset points",
                    va="center", fontsize=9)
    colours = ("#0072b2", "#e69f00", "#009e73", "#cc79a7", "#d55e00", "#56b4e9")
    for j, cat in enumerate(cats):
        for r in overall.by_category[cat]:
            y = ys[r.model] - 0.28 * (j + 1)
            ax.errorbar(100 * r.accuracy, y, xerr=[[100 * (r.accuracy - r.lower)],
                        [100 * (r.upper - r.accuracy)]],
                        fmt=CATEGORY_MARKERS[j % len(CATEGORY_MARKERS)],
                        color=colours[j % len(colours)], ms=5, capsize=2, lw=1,
                        label=cat if r is overall.by_category[cat][0] else None)
    ax.set_yticks(list(ys.values()), list(ys))
    ax.set_xlim(0, 112)
    ax.set_ylim(min(ys.values()) - step + 0.4, 0.6)
    ax.axvline(0, color="0.6", lw=0.8)
    ax.grid(axis="x", color="0.9")
    ax.set_xlabel(f"macro-average accuracy (%), {run.settings.confidence:.0%} interval "
                  f"({overall.method})")
    ax.set_title(f"Ranking over {len(overall.benchmarks)} benchmark(s): "
                 + ", ".join(_bench_label(run, b) for b in overall.benchmarks), loc="left",
                 wrap=True)
    if cats:
        fig.legend(title="per category", loc="outside right upper", frameon=False)
    return fig


def _difference(comp: Comparison) -> tuple[float, float, float] | None:
    if comp.graded is not None:
        d = comp.graded.difference
    elif comp.difference is not None:
        d = comp.difference
    else:
        return None
    return 100 * d.estimate, 100 * d.lower, 100 * d.upper


def paired_figure(run: Run, comparisons: Sequence[Comparison]) -> Any | None:
    """The paired differences of one (baseline, candidate) pair, one row per benchmark.

    Each row: candidate minus baseline in points with the gate's interval, in the
    verdict's colour, and ``b, c, p, verdict`` where p is the Holm-adjusted one-sided
    p-value of the gate's test (the ``p`` column of the comparison table). Zero and
    ``-mde_max`` are marked. Returns None when no comparison has paired items.
    """
    comps = [c for c in comparisons if _difference(c) is not None]
    if not comps:
        return None
    from benchgate.reporting.blocks import pvalue

    base, cand = comps[0].baseline.label, comps[0].candidate.label
    level = f"{run.settings.confidence:.0%}"
    fig = _figure(MAX_WIDTH, 1.5 + 0.42 * len(comps))
    ax, side = fig.subplots(1, 2, sharey=True, gridspec_kw={"width_ratios": [3, 2]})
    lows, highs = [], []
    for k, c in enumerate(comps):
        est, lo, hi = _difference(c)
        lows.append(lo)
        highs.append(hi)
        colour = VERDICT_COLOURS.get(c.verdict, "black")
        ax.errorbar(est, -k, xerr=[[max(est - lo, 0.0)], [max(hi - est, 0.0)]], fmt="o",
                    color=colour, ms=6, capsize=3, lw=1.6, zorder=3)
        kind = "mean score" if c.graded is not None else "accuracy"
        side.text(0.0, -k, f"b={c.b} c={c.c}  p={pvalue(c.pvalue_regression_holm)}  "
                  f"{c.verdict.upper()}\n(n={c.n}, {kind})", va="center", fontsize=9,
                  color=colour, transform=side.get_yaxis_transform())
    mde = 100 * run.settings.mde_max
    ax.set_xlim(min(min(lows), -mde) - 4, max(max(highs), 5) + 4)
    ax.axvline(0, color="black", lw=1)
    ax.axvline(-mde, color="0.5", lw=0.8, ls="--")
    ax.text(-mde, 0.55, f"-mde_max ({mde:g}) ", fontsize=8, color="0.4", va="bottom",
            ha="right")
    ax.set_yticks([-k for k in range(len(comps))],
                  [_bench_label(run, c.benchmark) for c in comps])
    ax.set_ylim(-len(comps) + 0.4, 0.9)
    ax.grid(axis="x", color="0.92")
    ax.set_xlabel(f"candidate minus baseline, points\n({level} paired interval: Tango; "
                  "bootstrap for graded scores)")
    side.axis("off")
    side.set_title("b, c, p (Holm-adjusted one-sided), verdict", loc="left", fontsize=9)
    ax.set_title(f"{cand} vs {base}: paired difference per benchmark", loc="left")
    return fig


def token_figure(run: Run) -> Any | None:
    """Completion tokens per benchmark: one outline histogram per model, the cap marked.

    Each panel's title prints the share of each model's completions that hit the token cap
    (``finish_reason == "length"``, :attr:`AccuracyRow.truncated`). Returns None without
    outcomes.
    """
    import numpy as np

    tokens: dict[str, dict[str, list[int]]] = {}
    for model, outcomes in run.outcomes.items():
        for o in outcomes:
            if o.status != "error":
                tokens.setdefault(o.benchmark, {}).setdefault(model, []).append(o.completion_tokens)
    if not tokens:
        return None
    rows = {(r.model, r.benchmark): r for r in run.accuracy}
    colours = _model_colours(run)
    benches = sorted(tokens)
    cols = min(3, len(benches))
    grid = -(-len(benches) // cols)
    fig = _figure(MAX_WIDTH, 0.4 + 2.4 * grid)
    axes = list(fig.subplots(grid, cols, squeeze=False).flat)
    for ax in axes[len(benches):]:
        ax.set_visible(False)
    for ax, bench in zip(axes, benches, strict=False):
        per_model = tokens[bench]
        caps = {rows[(m, bench)].token_cap for m in per_model if (m, bench) in rows}
        caps.discard(None)
        top = max(max(v) for v in per_model.values())
        top = max(top, *caps) if caps else top
        bins = np.linspace(0, max(top, 1) * 1.02, 31)
        shares = []
        for model, values in per_model.items():
            ax.hist(values, bins=bins, histtype="step", lw=1.5, color=colours.get(model),
                    label=model)
            row = rows.get((model, bench))
            if row is not None:
                shares.append(f"{model} {100 * row.truncated / row.n:.0f}%")
        for cap in sorted(caps):
            ax.axvline(cap, color="#c0392b", ls="--", lw=1)
            ax.text(cap, 1.0, f"cap {cap}", transform=ax.get_xaxis_transform(),
                    ha="right", va="top", fontsize=8, color="#c0392b", rotation=90)
        ax.set_title(f"{_bench_label(run, bench)}\nat cap: {', '.join(shares)}",
                     loc="left", fontsize=9)
        ax.set_xlabel("completion tokens", fontsize=9)
        ax.set_ylabel("items", fontsize=9)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside upper right", ncols=min(len(labels), 8),
               frameon=False)
    return fig


def heatmap_figure(run: Run) -> Any | None:
    """Benchmark x model accuracy; each cell: accuracy, its Wilson interval, correct/n."""
    import numpy as np

    if not run.accuracy:
        return None
    models = list(dict.fromkeys(r.model for r in run.accuracy))
    benches = sorted({r.benchmark for r in run.accuracy})
    cells = {(r.model, r.benchmark): r for r in run.accuracy}
    grid = np.full((len(benches), len(models)), np.nan)
    for i, b in enumerate(benches):
        for j, m in enumerate(models):
            if (m, b) in cells:
                grid[i, j] = 100 * cells[(m, b)].accuracy
    width = min(MAX_WIDTH, 2.2 + 1.35 * len(models))
    cell_font = 9 if len(models) <= 5 else 8
    fig = _figure(width, 1.2 + 0.62 * len(benches))
    ax = fig.add_subplot()
    image = ax.imshow(grid, vmin=0, vmax=100, cmap="viridis", aspect="auto")
    ax.set_xticks(range(len(models)), models, rotation=20 if len(models) > 4 else 0,
                  ha="right" if len(models) > 4 else "center")
    ax.set_yticks(range(len(benches)), [_bench_label(run, b) for b in benches])
    ax.tick_params(length=0)
    for i, b in enumerate(benches):
        for j, m in enumerate(models):
            r = cells.get((m, b))
            if r is None:
                continue
            colour = "black" if grid[i, j] > 55 else "white"
            ax.text(j, i, f"{100 * r.accuracy:.1f} [{100 * r.lower:.0f}-{100 * r.upper:.0f}]"
                    f"\n{r.correct}/{r.n}", ha="center", va="center", color=colour,
                    fontsize=cell_font)
    for side in ("top", "right", "left", "bottom"):
        ax.spines[side].set_visible(False)
    fig.colorbar(image, ax=ax, label="accuracy (%)", shrink=0.8)
    ax.set_title(f"Accuracy (%) [{run.settings.confidence:.0%} Wilson interval], "
                 "correct/items", loc="left")
    return fig


def multi_model_figure(run: Run) -> Any | None:
    """Per benchmark: the models ranked by accuracy with intervals and compact letters.

    Models sharing a letter are not distinguishable (pairwise McNemar, Holm within the
    benchmark). Returns None without multi-model tables.
    """
    from benchgate.reporting.blocks import p_equals

    tables = run.multi
    if not tables:
        return None
    colours = _model_colours(run)
    cols = min(2, len(tables))
    grid = -(-len(tables) // cols)
    k = max(len(t.ranking) for t in tables)
    fig = _figure(MAX_WIDTH, 0.3 + (0.9 + 0.32 * k) * grid)
    axes = list(fig.subplots(grid, cols, squeeze=False).flat)
    for ax in axes[len(tables):]:
        ax.set_visible(False)
    for ax, t in zip(axes, tables, strict=False):
        n = len(t.ranking)
        for pos, r in enumerate(t.ranking):
            y = n - 1 - pos
            ax.errorbar(100 * r.accuracy, y, xerr=[[100 * (r.accuracy - r.lower)],
                        [100 * (r.upper - r.accuracy)]], fmt="o",
                        color=colours.get(r.model, "black"), ms=5, capsize=2, lw=1.2)
            ax.text(103, y, r.letters, va="center", fontsize=9, family="monospace")
        ax.set_yticks(range(n), [r.model for r in reversed(t.ranking)])
        ax.set_xlim(0, 112)
        ax.set_ylim(-0.6, n - 0.4)
        ax.grid(axis="x", color="0.92")
        q = "" if math.isnan(t.cochran_q) else f"Q={t.cochran_q:.1f}, "
        ax.set_title(f"{_bench_label(run, t.benchmark)} (n={t.n}; {q}{p_equals(t.pvalue)})",
                     loc="left", fontsize=9)
        ax.set_xlabel("accuracy (%)", fontsize=9)
    fig.suptitle("All models per benchmark: accuracy with interval; models sharing a "
                 "letter are not distinguishable", fontsize=10, x=0.0, ha="left")
    return fig


def figures(run: Run) -> list[tuple[str, Any]]:
    """Every figure of ``run`` with its file name, in reading order.

    Ranking, paired differences (one per gating pair), multi-model, heatmap, token
    histograms; figures without data are left out. Build them inside
    ``matplotlib.rc_context(style())`` (as :func:`write_plots` does) for the house style.
    """
    out = [("ranking.png", ranking_figure(run))]
    pairs: dict[tuple[str, str], list[Comparison]] = {}
    for c in run.comparisons:
        pairs.setdefault((c.baseline.label, c.candidate.label), []).append(c)
    for (base, cand), comps in pairs.items():
        out.append((pair_plot_name(base, cand), paired_figure(run, comps)))
    out += [("multi_model.png", multi_model_figure(run)),
            ("accuracy_heatmap.png", heatmap_figure(run)),
            ("tokens.png", token_figure(run))]
    return [(name, fig) for name, fig in out if fig is not None]


#: File in the plots folder naming the content key of the PNGs beside it.
KEY_FILE = ".plots-key.json"


def plots_key(run: Run) -> str:
    """Content key of every figure's input (sha256 hex, 64 characters).

    It covers the summary without the run's identity, timings and resource figures
    (``run``, ``run_log``, ``resources``: no figure draws them), each outcome's model,
    side, benchmark, item, status, score, tokens and finish reason, this module's source and
    matplotlib's version. Two runs with the same key draw the very same figures.
    """
    import matplotlib

    data = run.to_dict()
    for volatile in ("run", "run_log", "resources"):
        data.pop(volatile, None)
    rows = sorted(
        (side, o.benchmark, o.item_id, o.status, o.score, o.completion_tokens, o.finish_reason)
        for side, outcomes in run.outcomes.items()
        for o in outcomes
    )
    blob = json.dumps([data, rows, matplotlib.__version__], sort_keys=True, default=str)
    digest = hashlib.sha256(blob.encode("utf-8"))
    digest.update(Path(__file__).read_bytes())
    return digest.hexdigest()


def write_plots(run: Run, directory: Path) -> list[Path]:
    """Write every figure of ``run`` into ``directory`` (its old PNGs are removed first).

    When the folder already holds the figures of the same content (:func:`plots_key`,
    recorded in :data:`KEY_FILE` with the file names), they are kept as they are: a warm
    re-run of unchanged results does not draw again (drawing is most of a report's time).

    Returns:
        The PNGs written or kept, in the order of :func:`figures`.
    """
    import matplotlib

    directory.mkdir(parents=True, exist_ok=True)
    key = plots_key(run)
    try:
        recorded = json.loads((directory / KEY_FILE).read_text(encoding="utf-8"))
        kept = [directory / name for name in recorded["files"]]
        if recorded["key"] == key and all(path.is_file() for path in kept):
            for stale in set(directory.glob("*.png")) - set(kept):
                stale.unlink()
            return kept
    except (OSError, ValueError, KeyError, TypeError):
        pass  # no record, or not ours: draw
    (directory / KEY_FILE).unlink(missing_ok=True)
    for stale in directory.glob("*.png"):  # plots of models no longer in the run
        stale.unlink()
    with matplotlib.rc_context(style()):
        paths = [_save(fig, directory / name) for name, fig in figures(run)]
    (directory / KEY_FILE).write_text(
        json.dumps({"key": key, "files": [p.name for p in paths]}), encoding="utf-8")
    return paths


@hookimpl(tryfirst=True)
def pytest_benchgate_report(run: Run, context: ReportContext) -> None:
    """Write the plots into ``reports/plots/`` (first, so the others can show them)."""
    paths = write_plots(run, context.reports_dir / "plots")
    if paths:
        context.wrote("plots", *paths)

"""The plots reporter: what each figure draws, read back from the figure, and its size."""

from __future__ import annotations

import matplotlib
import pytest
from report_runs import make_run

from benchgate.reporting import plots
from benchgate.reporting.blocks import p_equals, pvalue
from benchgate.reporting.hooks import ReportContext

#: Widest PNG: MAX_WIDTH inches at 150 dpi (shown scaled to a 1,000 px column).
MAX_PX = int(plots.MAX_WIDTH * plots.STYLE["savefig.dpi"]) + 60


@pytest.fixture(scope="module")
def run2():
    return make_run()


@pytest.fixture(scope="module")
def run3():
    return make_run(3)


def _texts(fig) -> list[str]:
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]


def _png_size(path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n"
    return int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")


def test_reporter_writes_every_figure_sized_for_a_1000px_column(tmp_path, run3):
    (tmp_path / "plots").mkdir()
    (tmp_path / "plots" / "stale.png").write_bytes(b"old")
    context = ReportContext(reports_dir=tmp_path)
    plots.pytest_benchgate_report(run=run3, context=context)
    paths = context.written["plots"]
    assert [p.name for p in paths] == [
        "ranking.png", "paired_base_vs_cand.png", "paired_base_vs_cand2.png", "multi_model.png",
        "accuracy_heatmap.png", "tokens.png",
    ]
    assert not (tmp_path / "plots" / "stale.png").exists()
    for path in paths:
        width, height = _png_size(path)
        assert 800 <= width <= MAX_PX and 300 <= height <= 4000, (path.name, width, height)


def test_every_text_is_legible_at_1000px(run3):
    # 8 pt at 150 dpi, shown at 1,000 of 1,500 px: 11 px on screen, the least we accept.
    with matplotlib.rc_context(plots.style()):
        for name, fig in plots.figures(run3):
            assert fig.get_figwidth() <= plots.MAX_WIDTH
            sizes = [t.get_fontsize() for t in fig.findobj(matplotlib.text.Text) if t.get_text()]
            assert min(sizes) >= 8, (name, min(sizes))


def test_paired_difference_uses_the_gates_interval_p_and_verdict_colour(run2):
    comps = run2.comparisons
    with matplotlib.rc_context(plots.style()):
        fig = plots.paired_figure(run2, comps)
    ax = fig.axes[0]
    texts = _texts(fig)
    for k, comp in enumerate(comps):
        label = f"b={comp.b} c={comp.c}  p={pvalue(comp.pvalue_regression_holm)}  " \
                f"{comp.verdict.upper()}"
        line = next(t for t in texts if t.startswith(label))
        # The point and its interval: the gate's own (Tango / bootstrap), in points.
        diff = comp.graded.difference if comp.graded is not None else comp.difference
        marker = next(m for m in ax.lines if list(m.get_ydata()) == [-k] and m.get_marker() == "o")
        assert marker.get_xdata()[0] == pytest.approx(100 * diff.estimate)
        assert marker.get_markersize() > 0
        assert marker.get_color() == plots.VERDICT_COLOURS[comp.verdict], line
    # A zero difference (legalqa: b = c = 0) is drawn as a visible point at 0, not a 0-height bar.
    zero = next(k for k, c in enumerate(comps) if c.benchmark == "legalqa")
    point = next(m for m in ax.lines if list(m.get_ydata()) == [-zero] and m.get_marker() == "o")
    assert point.get_xdata()[0] == 0.0
    ticks = [t.get_text() for t in ax.get_yticklabels()]
    assert ticks == [c.benchmark if c.benchmark != "legalqa" else "legalqa (stand-in)"
                     for c in comps]
    assert 0.0 in [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "-"
                   and len(line.get_xdata()) == 2]


def test_ranking_orders_models_by_macro_average_with_categories(run3):
    with matplotlib.rc_context(plots.style()):
        fig = plots.ranking_figure(run3)
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_yticklabels()] == [r.model for r in run3.overall.rows]
    legend = fig.legends[0]
    assert [t.get_text() for t in legend.get_texts()] == list(run3.overall.by_category)
    assert any("(rank 1-2)" in t for t in _texts(fig))
    assert "legalqa (stand-in)" in ax.get_title(loc="left")


def test_token_histograms_mark_the_cap_and_print_the_truncated_share(run2):
    with matplotlib.rc_context(plots.style()):
        fig = plots.token_figure(run2)
    titles = [ax.get_title(loc="left") for ax in fig.axes if ax.get_visible()]
    gsm = next(t for t in titles if t.startswith("gsm8k"))
    row = next(r for r in run2.accuracy if r.model == "cand" and r.benchmark == "gsm8k")
    assert f"cand {100 * row.truncated / row.n:.0f}%" in gsm and "cand 15%" in gsm
    ax = next(a for a in fig.axes if a.get_title(loc="left").startswith("gsm8k"))
    caps = [line.get_xdata()[0] for line in ax.lines if line.get_linestyle() == "--"]
    assert caps == [256]
    assert "cap 256" in _texts(fig)
    assert any(t.startswith("legalqa (stand-in)") for t in titles)


def test_heatmap_cells_carry_accuracy_interval_and_counts(run2):
    with matplotlib.rc_context(plots.style()):
        fig = plots.heatmap_figure(run2)
    row = next(r for r in run2.accuracy if r.model == "cand" and r.benchmark == "gsm8k")
    cell = f"{100 * row.accuracy:.1f} [{100 * row.lower:.0f}-{100 * row.upper:.0f}]\n" \
           f"{row.correct}/{row.n}"
    assert cell in _texts(fig)


def test_multi_model_plot_shows_letters_and_cochrans_q(run3):
    with matplotlib.rc_context(plots.style()):
        fig = plots.multi_model_figure(run3)
    for ax, table in zip(fig.axes, run3.multi, strict=False):
        assert ax.get_title(loc="left").endswith(f"{p_equals(table.pvalue)})")
        letters = [t.get_text() for t in ax.texts]
        assert letters == [r.letters for r in table.ranking]
        assert [t.get_text() for t in ax.get_yticklabels()] == [
            r.model for r in reversed(table.ranking)]


def test_two_models_have_no_multi_model_plot(run2):
    assert plots.multi_model_figure(run2) is None
    assert "multi_model.png" not in [name for name, _ in plots.figures(run2)]


def test_the_same_results_reuse_the_figures_and_changed_results_redraw(tmp_path):
    import dataclasses

    from report_runs import make_log

    from benchgate.gate import build_run

    first = make_log()
    run = build_run(first)
    folder = tmp_path / "plots"
    drawn = plots.write_plots(run, folder)
    stamps = {p.name: p.stat().st_mtime_ns for p in drawn}
    (folder / "stale.png").write_bytes(b"old")
    # Another run of the same results: another id, times, latencies and cache flags.
    again = make_log()
    again.manifest["run"].update(id="20260102T000000Z-def456", started="2026-01-02T00:00:00+00:00")
    again.outcomes = [dataclasses.replace(o, latency_s=9.9, cached=True) for o in again.outcomes]
    assert plots.plots_key(build_run(again)) == plots.plots_key(run)
    kept = plots.write_plots(build_run(again), folder)
    assert [p.name for p in kept] == list(stamps)
    assert {p.name: p.stat().st_mtime_ns for p in kept} == stamps  # not drawn again
    assert not (folder / "stale.png").exists()
    # One answer changes: every figure is drawn again.
    changed = make_log()
    o = changed.outcomes[0]
    changed.outcomes[0] = dataclasses.replace(
        o, status="correct" if o.status != "correct" else "incorrect")
    assert plots.plots_key(build_run(changed)) != plots.plots_key(run)
    redrawn = plots.write_plots(build_run(changed), folder)
    assert all(p.stat().st_mtime_ns != stamps[p.name] for p in redrawn if p.name in stamps)

"""The figures draw what the data says, in the project's colours, and save as PNG and PDF."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.colors import to_hex

from tests.synthetic_results import BEST_PAIR, figure2_store, figure3_store, heatmap_store
from theory.style import INIT_COLORS
from toymodels.reproduce import _figure_data as data
from toymodels.reproduce import _figures as figures


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def test_optimal_rate_figure_plots_the_optimum_in_init_colours():
    store = figure2_store()
    fig = figures.plot_optimal_rates(store)
    ax = fig.axes[0]
    optima = data.figure2_seed_optima(store)
    for init in ("A", "B"):
        lines = [ln for ln in ax.lines if to_hex(ln.get_color()) == INIT_COLORS[init].lower()]
        assert lines, f"no line in Init[{init}]'s colour"
        # the first is every seed's interpolated optimum
        np.testing.assert_allclose(np.sort(lines[0].get_ydata()), np.sort(optima[init].ravel()))
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any("Init[A]" in t and "n^{" in t for t in legend)
    # The theorems bound the largest stable rate; they do not predict the loss optimum, and the
    # legend must not say they do: the grey lines are labelled as a comparison.
    assert sum("for comparison" in t for t in legend) == 2
    assert not any("theory" in t for t in legend)
    assert ax.get_xscale() == "log" and ax.get_yscale() == "log"


def test_feature_norm_figure_has_a_panel_per_width_and_feature():
    store = figure3_store()
    fig = figures.plot_feature_norms(store)
    axes = [ax for ax in fig.axes if ax.get_title(loc="left")]
    assert len(axes) == 2 * store.sizes["width"]
    # both inits x both seeds in every panel, and the rates in every title
    assert all(len(ax.lines) == 4 for ax in axes)
    assert all("eta" in ax.get_title(loc="left") for ax in axes)


def test_default_norm_widths_prefer_the_papers():
    assert figures.default_norm_widths(figure2_store(widths=(128, 512, 8192))) == (128, 8192)
    assert figures.default_norm_widths(figure2_store(widths=(256, 512, 1024))) == (256, 1024)


def test_heatmaps_mark_both_optima_the_diagonal_and_the_diverged_fraction():
    store = heatmap_store(seeds=8)
    fig = figures.plot_rate_heatmaps(store)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 6  # train, test, diverged fraction × two steps
    test_200 = next(ax for ax in panels if ax.get_title().startswith("test loss at $t = 200"))
    star = next(ln for ln in test_200.lines if ln.get_marker() == "*")
    assert (star.get_xdata()[0], star.get_ydata()[0]) == pytest.approx(BEST_PAIR)
    assert any(ln.get_marker() == "D" for ln in test_200.lines)  # the any-diverged rule's optimum
    assert any(ln.get_linestyle() == "--" for ln in panels[0].lines)
    assert "eta_A" in panels[0].get_xlabel() and "eta_B" in panels[0].get_ylabel()
    fractions = [ax for ax in panels if ax.get_title().startswith("seeds diverged")]
    assert len(fractions) == 2
    assert np.nanmax(fractions[-1].collections[0].get_array()) == 1.0


def test_heatmap_colours_are_clipped_at_a_loss_quantile():
    store = heatmap_store()
    fig = figures.plot_rate_heatmaps(store)
    mesh = fig.axes[0].collections[0]
    shown = np.ma.compressed(mesh.get_array())
    assert mesh.norm.vmax == pytest.approx(np.quantile(shown, figures.COLOR_QUANTILE))
    assert mesh.norm.vmax < shown.max()


def test_loss_curves_compare_the_best_pair_above_the_diagonal_with_the_best_equal_pair():
    fig = figures.plot_loss_curves(heatmap_store())
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert labels[0].startswith("best pair with") and labels[1].startswith("best equal pair")
    assert "overall best pair is the" in fig._suptitle.get_text()


def test_save_figure_writes_png_and_pdf(tmp_path):
    png, pdf = figures.save_figure(figures.plot_optimal_rates(figure2_store()), tmp_path / "f2")
    assert png.read_bytes()[:4] == b"\x89PNG" and pdf.read_bytes()[:4] == b"%PDF"
